//! PID 1 of a sandbox: takes the supervisor's namespaces and mounts, builds
//! the root filesystem, joins its cgroup, starts the payload and then reaps
//! zombies and forwards signals until the payload ends.

use super::handover;
use super::payload::{
    command_or_shell, finish_privileges, make_pty, payload_env, start_payload, FORWARDED,
};
use super::protocol::{InitConfig, Report};
use crate::cgroup;
use crate::error::{Error, EXIT_SETUP_FAILED};
use crate::ns::netns::join_netns;
use crate::rootfs::{self, handed::Prepared};
use crate::spec::Namespace;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// PID 1 of the sandbox. Returns its exit code (the payload's).
pub(super) fn pid1_main(cfg: &InitConfig, staging: &Path, go: OwnedFd) -> i32 {
    let status = cfg.status_fd;
    // Die with the supervisor, then check it did not die before we got here.
    crate::trace::mark("pid1: start");
    // Root-started: first the maps and uid 0 of our user namespace (a
    // credential change clears the death signal, so that comes after).
    let prepared = match &cfg.idmap {
        Some(_) => match handover::receive(&cfg.spec, go.as_fd()) {
            Ok(p) => Some(p),
            Err(e) => {
                let code = e.exit_code;
                Report::Failed(e).send(status);
                return code;
            }
        },
        None => None,
    };
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    match setup_and_start(cfg, staging, go, prepared) {
        Ok(payload) => {
            // The status fd must not stay open in PID 1, or the caller would
            // wait for EOF forever.
            if let Ok(f) = sys::adopt_fd(status) {
                drop(f);
            }
            sys::trim_heap();
            reap_loop(payload)
        }
        Err(e) => {
            let code = e.exit_code;
            Report::Failed(e).send(status);
            code
        }
    }
}

fn setup_and_start(
    cfg: &InitConfig,
    staging: &Path,
    go: OwnedFd,
    prepared: Option<Prepared>,
) -> Result<libc::pid_t, Error> {
    let spec = &cfg.spec;
    if spec.namespaces.contains(&Namespace::Uts) {
        let h = spec.hostname.clone().unwrap_or_else(|| "kubelab".into());
        sys::sethostname(&h).map_err(|e| Error::new("hostname", format!("`{h}`: {e}")))?;
    }
    let want_net = spec.namespaces.contains(&Namespace::Net);
    let mut net = || match (want_net, cfg.idmap.is_some()) {
        (false, _) => Ok(()),
        (true, false) => join_netns(go.as_fd()),
        // Root-started: cloned into it; only the loopback is down.
        (true, true) => {
            sys::loopback_up().map_err(|e| Error::new("namespaces.net", format!("lo up: {e}")))
        }
    };
    if spec.namespaces.contains(&Namespace::Mount) {
        // A Pod's volumes mounted in its volume plugin sandbox: cloned
        // from there now, attached with the other binds.
        let cloned_binds = match cfg.pod.as_ref().and_then(|p| p.foreign_binds.as_ref()) {
            Some(f) => crate::pod::foreign::clone_sources(f)?
                .into_iter()
                .map(|c| (c.fd, c.is_dir, c.target, c.readonly))
                .collect(),
            None => Vec::new(),
        };
        let mut src = rootfs::Source {
            spec,
            id: &cfg.id,
            rundir: cfg.sandbox_dir.parent(),
            oci_layers: &cfg.oci_layers,
            cloned_binds,
        };
        rootfs::build(&mut src, staging, &mut net, prepared)?;
    } else {
        net()?;
    }
    crate::trace::mark("pid1: rootfs built");
    // The supervisor creates the cgroup meanwhile (v1), so the rootfs work
    // above overlaps with it; its go carries the `tasks` files to join.
    // EOF means the supervisor died before that: give up.
    let gone = || Error::new("spawn", "the supervisor went away during setup");
    let mut b = [0u8; 1];
    let tasks = match sys::recv_with_fds(go.as_fd(), &mut b) {
        Ok((1, tasks)) => tasks,
        _ => return Err(gone()),
    };
    if !tasks.is_empty() {
        // Into the cgroup before the payload exists: still single-threaded,
        // so this is the cheap self-move (see [`cgroup::Join`]).
        let mut files: Vec<fs::File> = tasks.into_iter().map(fs::File::from).collect();
        let joined = cgroup::join_self(&mut files);
        drop(files);
        let answer = match &joined {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("PID 1 joining by itself: {e}"),
        };
        sys::send_with_fds(go.as_fd(), answer.as_bytes(), &[]).map_err(|_| gone())?;
        if joined.is_err() {
            // The supervisor tries the slow way and says when it is done.
            match sys::recv_with_fds(go.as_fd(), &mut b) {
                Ok((1, _)) => {}
                _ => return Err(gone()),
            }
        }
        crate::trace::mark("pid1: joined its cgroup");
    }
    drop(go);
    if spec.namespaces.contains(&Namespace::Cgroup) {
        sys::unshare(libc::CLONE_NEWCGROUP)
            .map_err(|e| Error::new("namespaces.cgroup", e.to_string()))?;
    }
    let slave = match &cfg.pty {
        Some(p) => Some(make_pty(p)?),
        None => None,
    };
    let env = payload_env(spec, cfg.pty.is_some());
    let argv = command_or_shell(spec);
    finish_privileges(spec.privileged, &spec.identity)?;
    let _ = sys::prctl(libc::PR_SET_DUMPABLE, 0);
    let _ = sys::prctl(libc::PR_SET_NAME, c"kubelab-init".as_ptr() as libc::c_ulong);
    crate::trace::mark("pid1: exec payload");
    if cfg.pod.as_ref().is_some_and(|p| p.pause) {
        // The Pod's infra: no payload (its exec closes the status pipe).
        return Err(crate::pod::pause::exec_pause());
    }
    if !spec.init {
        // The command becomes PID 1 itself; its exec closes the status pipe.
        let e = start_payload(&argv, &env, spec.workdir.as_deref(), slave.as_ref());
        return Err(e);
    }
    match sys::fork().map_err(|e| Error::new("spawn", e.to_string()))? {
        0 => {
            let e = start_payload(&argv, &env, spec.workdir.as_deref(), slave.as_ref());
            Report::Failed(e.clone()).send(cfg.status_fd);
            sys::exit_now(e.exit_code)
        }
        pid => Ok(pid),
    }
}

/// PID 1's job: reap every child, forward signals to the payload, and exit
/// with the payload's status once it is gone.
fn reap_loop(payload: libc::pid_t) -> i32 {
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    // Signals were blocked by the supervisor before clone and stay blocked here.
    let set = match sys::block_signals(&sigs) {
        Ok(s) => s,
        Err(_) => return EXIT_SETUP_FAILED,
    };
    let sfd = match sys::signalfd(&set) {
        Ok(f) => f,
        Err(_) => return EXIT_SETUP_FAILED,
    };
    let mut result = None;
    loop {
        loop {
            match sys::waitpid(-1, libc::WNOHANG) {
                Ok((0, _)) => break,
                Ok((p, status)) => {
                    if p == payload {
                        result = Some(sys::exit_code(status));
                    }
                }
                Err(_) => break, // ECHILD: nobody left
            }
        }
        if let Some(code) = result {
            return code;
        }
        let ready = sys::poll_read(&[sfd.as_fd()], 1000).unwrap_or_default();
        if ready.first() == Some(&true) {
            for s in sys::read_signals(sfd.as_fd()) {
                if s != libc::SIGCHLD {
                    let _ = sys::kill(payload, s);
                }
            }
        }
    }
}
