//! Links, addresses and routes through iproute2's `ip`, run in a chosen
//! network namespace with `-batch`.
//!
//! Why `ip` and not a netlink library: it is the tool the lessons teach (a
//! learner can replay exactly what kubelab ran), the benchmark floor
//! is a script of `ip` commands, and it costs no dependency. One `ip -batch`
//! per namespace keeps it to a process per namespace, not per command.

use crate::sys;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Where the host's tools are, also for a user whose PATH lacks the sbin
/// directories (Debian's default for non-root users).
pub const TOOL_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The `ip` program: on PATH or in the usual directories.
pub fn find_ip() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(TOOL_PATH.split(':'))
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("ip"))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs `script` (one `ip` command per line, without the `ip`) with
/// `ip -batch -`, inside network namespace `netns` (ours when None). The
/// first failing line stops it; the error carries `ip`'s own message.
pub fn batch(script: &str, netns: Option<BorrowedFd<'_>>) -> Result<(), String> {
    let ip = find_ip().ok_or("iproute2's `ip` is not installed (apt install iproute2)")?;
    let mut cmd = Command::new(&ip);
    cmd.args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(fd) = netns {
        let raw = fd.as_raw_fd();
        // SAFETY: the closure only calls setns(2), async-signal-safe, on a
        // descriptor the caller keeps open until the command has started.
        unsafe {
            cmd.pre_exec(move || {
                let fd = BorrowedFd::borrow_raw(raw);
                sys::setns(fd, libc::CLONE_NEWNET)
            });
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("run {}: {e}", ip.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.by_ref().take(64 * 1024).read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| format!("wait for ip: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("ip -batch failed: {}", err.trim()))
    }
}
