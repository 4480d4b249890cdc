//! What every payload gets right before its exec, whether PID 1 starts it
//! or the exec helper: its PTY, environment, capabilities, no_new_privs and
//! the seccomp filter, a reset signal mask.

use super::protocol::PtyRequest;
use crate::error::{Error, EXIT_CANNOT_EXEC, EXIT_NOT_FOUND};
use crate::spec::Spec;
use crate::sys;
use std::os::fd::{AsRawFd, OwnedFd};
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
    sys::send_fd(sock.as_raw_fd(), master.as_raw_fd())
        .map_err(|e| Error::new("pty", format!("send master: {e}")))?;
    Ok(slave)
}

/// Drops capabilities (unless privileged), sets no_new_privs and installs
/// the seccomp filter ([`super::seccomp`]).
pub(crate) fn finish_privileges(privileged: bool) -> Result<(), Error> {
    if !privileged {
        sys::drop_caps(sys::DEFAULT_CAPS)
            .map_err(|e| Error::new("capabilities", format!("drop: {e}")))?;
    }
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
        .map_err(|e| Error::new("capabilities", format!("no_new_privs: {e}")))?;
    super::seccomp::install().map_err(|e| Error::new("seccomp", format!("install filter: {e}")))
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
            if let Err(e) = sys::dup2(s.as_raw_fd(), fd) {
                return Error::new("pty", format!("dup2: {e}"));
            }
        }
        if let Err(e) = sys::set_controlling_tty(0) {
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
