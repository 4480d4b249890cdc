//! What every payload gets right before its exec, whether PID 1 starts it
//! or the exec helper: its PTY, environment, capabilities, no_new_privs and
//! the seccomp filter, a reset signal mask.

use super::protocol::PtyRequest;
use crate::error::{Error, EXIT_CANNOT_EXEC, EXIT_NOT_FOUND};
use crate::spec::{Identity, Spec};
use crate::sys;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// Signals the supervisor and init pass on to the payload.
pub(crate) const FORWARDED: &[libc::c_int] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

/// Allocates the PTY in the current (sandbox) mount namespace, sends the
/// master to the caller and returns the slave for the payload.
pub(crate) fn make_pty(req: &PtyRequest) -> Result<OwnedFd, Error> {
    let sock = sys::adopt_fd(req.sock_fd).map_err(|e| Error::new("pty", format!("socket: {e}")))?;
    let (master, slave) = sys::open_pty_here(req.rows, req.cols)
        .map_err(|e| Error::new("pty", format!("open /dev/ptmx: {e}")))?;
    sys::send_fd(sock.as_fd(), master.as_fd())
        .map_err(|e| Error::new("pty", format!("send master: {e}")))?;
    Ok(slave)
}

/// Drops capabilities to the identity's set (all kept when privileged),
/// switches to its uid/gid, sets no_new_privs and installs the seccomp
/// filter ([`super::seccomp`]).
pub(crate) fn finish_privileges(privileged: bool, id: &Identity) -> Result<(), Error> {
    let keep = sys::resolve_caps(privileged, &id.cap_add, &id.cap_drop)
        .map_err(|e| Error::new("identity.capabilities", e))?;
    let ids = (id.user.is_some() || id.group.is_some())
        .then(|| (id.user.unwrap_or(0), id.group.unwrap_or(0)));
    if let Some((uid, gid)) = ids {
        check_mapped(uid, gid)?;
    }
    if !privileged {
        sys::drop_bounding(&keep).map_err(|e| Error::new("capabilities", format!("drop: {e}")))?;
    }
    if let Some((uid, gid)) = ids {
        sys::switch_ids(uid, gid)
            .map_err(|e| Error::new("identity", format!("switch to uid {uid} gid {gid}: {e}")))?;
    }
    // A uid other than 0 has no permitted capabilities left to keep.
    let keep: &[u32] = if ids.is_some_and(|(u, _)| u != 0) {
        &[]
    } else {
        &keep
    };
    if !privileged || ids.is_some() {
        sys::set_caps(keep).map_err(|e| Error::new("capabilities", format!("set: {e}")))?;
    }
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
        .map_err(|e| Error::new("capabilities", format!("no_new_privs: {e}")))?;
    super::seccomp::install().map_err(|e| Error::new("seccomp", format!("install filter: {e}")))
}

/// Whether `uid` and `gid` are mapped in this user namespace; the error
/// says what the map holds (a rootless sandbox maps uid 0 only).
fn check_mapped(uid: u32, gid: u32) -> Result<(), Error> {
    for (what, id, file) in [("user", uid, "uid_map"), ("group", gid, "gid_map")] {
        let map = sys::read_small(&Path::new("/proc/self").join(file)).unwrap_or_default();
        if !crate::ns::idmap::maps(&map, id) {
            return Err(Error::new(
                if what == "user" { "identity.user" } else { "identity.group" },
                format!(
                    "{what} id {id} is not mapped in the sandbox's user namespace (/proc/self/{file}: {}); \
                     a rootless sandbox maps only id 0 (its caller): run as root for other ids",
                    map.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn command_or_shell(spec: &Spec) -> Vec<String> {
    if spec.command.is_empty() {
        vec!["/bin/sh".into()]
    } else {
        spec.command.clone()
    }
}

pub(crate) fn payload_env(spec: &Spec, pty: bool) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOME".into(), "/root".into()),
        ("USER".into(), "root".into()),
        (
            "HOSTNAME".into(),
            spec.hostname.clone().unwrap_or_else(|| "kubelab".into()),
        ),
    ];
    if pty {
        env.push(("TERM".into(), "xterm-256color".into()));
    }
    for (k, v) in &spec.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// In the forked child: becomes the payload. Only returns the error on failure.
pub(crate) fn start_payload(
    argv: &[String],
    env: &[(String, String)],
    workdir: Option<&Path>,
    pty_slave: Option<&OwnedFd>,
) -> Error {
    sys::reset_signals();
    let _ = sys::setsid();
    if let Some(s) = pty_slave {
        for fd in 0..3 {
            if let Err(e) = sys::dup2_stdio(s.as_fd(), fd) {
                return Error::new("pty", format!("dup2: {e}"));
            }
        }
        if let Err(e) = sys::set_controlling_tty() {
            return Error::new("pty", format!("set controlling terminal: {e}"));
        }
    }
    if let Some(w) = workdir {
        if let Err(e) = std::env::set_current_dir(w) {
            return Error::new("workdir", format!("{}: {e}", w.display()));
        }
    }
    let e = sys::execvpe(argv, env);
    let name = &argv[0];
    match e.raw_os_error() {
        Some(libc::ENOENT) => Error::new(
            "command",
            format!(
                "`{name}` not found inside the sandbox (searched PATH /usr/local/sbin:/usr/local/bin:\
                 /usr/sbin:/usr/bin:/sbin:/bin); check the name or pick a rootfs that has it"
            ),
        )
        .with_code(EXIT_NOT_FOUND),
        Some(libc::EACCES) | Some(libc::ENOEXEC) => Error::new(
            "command",
            format!("`{name}` cannot be executed: {e}; is it an executable file?"),
        )
        .with_code(EXIT_CANNOT_EXEC),
        _ => Error::new("command", format!("exec `{name}`: {e}")).with_code(EXIT_CANNOT_EXEC),
    }
}
