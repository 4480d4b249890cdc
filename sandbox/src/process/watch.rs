//! Waiting for a child while passing signals on to it and watching the
//! lifeline: the supervisor's and the exec helper's main loop.

use crate::error::EXIT_SETUP_FAILED;
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Waits for `child`, forwarding signals to it; kills it when the lifeline
/// reports the caller's death. Returns the child's shell-style exit code.
pub(crate) fn supervise(child: libc::pid_t, sfd: &OwnedFd, lifeline: Option<&OwnedFd>) -> i32 {
    supervise_until(child, sfd, lifeline, None).unwrap_or(EXIT_SETUP_FAILED)
}

/// [`supervise`] that gives up at `deadline` (`None`) if the child still
/// runs and the lifeline is still open (a sandbox being torn down is waited
/// for to the end).
pub(crate) fn supervise_until(
    child: libc::pid_t,
    sfd: &OwnedFd,
    lifeline: Option<&OwnedFd>,
    deadline: Option<std::time::Instant>,
) -> Option<i32> {
    let mut fds = vec![sfd.as_raw_fd()];
    if let Some(l) = lifeline {
        fds.push(l.as_raw_fd());
    }
    let mut lifeline_open = lifeline.is_some();
    loop {
        if let Ok((p, status)) = sys::waitpid(child, libc::WNOHANG) {
            if p == child {
                return Some(sys::exit_code(status));
            }
        } else {
            return Some(EXIT_SETUP_FAILED);
        }
        let mut timeout_ms = 1000;
        if let Some(d) = deadline.filter(|_| lifeline_open) {
            let left = d.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            timeout_ms = timeout_ms.min(left.as_millis() as i32 + 1);
        }
        let watch = if lifeline_open { &fds[..] } else { &fds[..1] };
        let ready = sys::poll_read(watch, timeout_ms).unwrap_or_default();
        if ready.first() == Some(&true) {
            for s in sys::read_signals(sfd.as_fd()) {
                if s != libc::SIGCHLD {
                    let _ = sys::kill(child, s);
                }
            }
        }
        if ready.get(1) == Some(&true) {
            // EOF (or any byte) on the lifeline: the caller is gone or wants
            // the sandbox dead. Killing PID 1 tears down the PID namespace.
            let _ = sys::kill(child, libc::SIGKILL);
            lifeline_open = false;
        }
    }
}
