//! The `__sandbox-exec` helper: joins a running sandbox's cgroup and
//! namespaces, like `nsenter`, then starts the command there and waits for
//! it (the caller's side is `api/exec.rs`).

use super::payload::{finish_privileges, make_pty, payload_env, start_payload, FORWARDED};
use super::protocol::{read_config, ExecConfig, Report};
use super::watch::supervise;
use crate::error::{Error, Result, EXIT_SETUP_FAILED};
use crate::ns::enter::{join_all, readable_member};
use crate::spec::Spec;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// Entry point of `<exe> __sandbox-exec`.
pub(crate) fn exec_main() -> i32 {
    let cfg: ExecConfig = match read_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab sandbox exec: {e} (this mode is internal to kubelab)");
            return EXIT_SETUP_FAILED;
        }
    };
    let status = cfg.status_fd;
    let _ = sys::set_cloexec(status, true);
    let _ = sys::setsid();
    let lifeline = sys::adopt_fd(cfg.lifeline_fd).ok();
    match exec_inner(&cfg, lifeline) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code;
            Report::Failed(e).send(status);
            code
        }
    }
}

fn exec_inner(cfg: &ExecConfig, lifeline: Option<OwnedFd>) -> Result<i32> {
    let target = readable_member(cfg.target_pid);
    let tpid = target.to_string();
    // Join the sandbox's cgroups while we still have host credentials. On v1
    // this single-threaded helper moves itself through `tasks`, which skips the
    // kernel's global threadgroup lock (see [`crate::cgroup::Join`]).
    crate::cgroup::tree::join_like(cfg.target_pid);
    join_all(&tpid)?;
    // Host root is unmapped in a root-started sandbox: take its uid 0, as
    // PID 1 did (a no-op rootless).
    crate::ns::idmap::become_root()
        .map_err(|e| Error::new("exec", format!("become the sandbox's root: {e}")))?;
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    let set = sys::block_signals(&sigs).map_err(|e| Error::new("exec", e.to_string()))?;
    let slave = match &cfg.pty {
        Some(p) => Some(make_pty(p)?),
        None => None,
    };
    let mut env = payload_env(&Spec::default(), cfg.pty.is_some());
    env.retain(|(k, _)| k != "HOSTNAME");
    for (k, v) in &cfg.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    let workdir = cfg.workdir.clone().unwrap_or_else(|| PathBuf::from("/"));
    match sys::fork().map_err(|e| Error::new("exec", e.to_string()))? {
        0 => {
            drop(lifeline);
            let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            if let Some(secs) = cfg.cpu_seconds {
                // Lowering a limit needs no privilege; refuse to run unbounded.
                let lim = rustix::process::Rlimit {
                    current: Some(secs),
                    maximum: Some(secs.saturating_add(1)),
                };
                if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Cpu, lim) {
                    let e = Error::new("exec", format!("setrlimit(RLIMIT_CPU): {e}"));
                    Report::Failed(e.clone()).send(cfg.status_fd);
                    sys::exit_now(e.exit_code)
                }
            }
            let e = match finish_privileges(cfg.privileged, &cfg.identity) {
                Ok(()) => start_payload(&cfg.command, &env, Some(&workdir), slave.as_ref()),
                Err(e) => e,
            };
            Report::Failed(e.clone()).send(cfg.status_fd);
            sys::exit_now(e.exit_code)
        }
        child => {
            drop(slave);
            Report::ExecStarted { pid: child }.send(cfg.status_fd);
            if let Ok(f) = sys::adopt_fd(cfg.status_fd) {
                drop(f);
            }
            if let Ok(null) = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                for fd in 0..3 {
                    let _ = sys::dup2_stdio(null.as_fd(), fd);
                }
            }
            let sfd = sys::signalfd(&set).map_err(|e| Error::new("exec", e.to_string()))?;
            Ok(supervise(child, &sfd, lifeline.as_ref()))
        }
    }
}
