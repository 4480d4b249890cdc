//! How a payload's stdin/stdout/stderr are connected, and the helper
//! command's stdio for each way.

use crate::error::{Error, Result};
use crate::sys;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

/// How the payload's stdin/stdout/stderr are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioMode {
    /// Share the caller's stdio (`kubelab run` without `-t` when none of
    /// them is a terminal: a terminal is never handed to a sandbox).
    Inherit,
    /// Pipes, taken with [`crate::Sandbox::take_stdin`] etc.
    Piped,
    /// /dev/null for all three.
    Null,
    /// A new PTY of this size; the master is taken with [`crate::Sandbox::take_pty_master`].
    Pty { rows: u16, cols: u16 },
}

/// For a PTY: a socket pair; the master allocated inside the sandbox arrives
/// on the caller's end. Returns (caller end, helper end, rows, cols).
pub(crate) type PtySocket = (OwnedFd, OwnedFd, u16, u16);

pub(crate) fn pty_socket(mode: StdioMode) -> Result<Option<PtySocket>> {
    match mode {
        StdioMode::Pty { rows, cols } => {
            let (mine, theirs) =
                sys::fd_socketpair().map_err(|e| Error::new("pty", e.to_string()))?;
            Ok(Some((mine, theirs, rows, cols)))
        }
        _ => Ok(None),
    }
}

/// Stdio of a helper command (PTY mode: none, the PTY comes over the socket).
pub(crate) fn apply_stdio(cmd: &mut Command, mode: StdioMode) {
    match mode {
        StdioMode::Inherit => {
            cmd.stdin(Stdio::inherit())
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit());
        }
        StdioMode::Piped => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        StdioMode::Null | StdioMode::Pty { .. } => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
    }
}
