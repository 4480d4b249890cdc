//! The caller's side of starting a helper: the re-exec command with its
//! inherited descriptors, and the reports it sends on the status pipe.

use super::protocol::{Report, CONFIG_ENV};
use crate::sys;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// Builds the helper command. The two descriptors are made inheritable in the
/// child only (between fork and exec), so concurrent spawns from other threads
/// never inherit them.
pub(crate) fn helper_command(
    exe: &Path,
    arg: &str,
    config_json: String,
    inherit: Vec<i32>,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg0("kubelab-init")
        .arg(arg)
        .env_clear()
        .env(CONFIG_ENV, config_json);
    // SAFETY: the closure only calls fcntl, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &inherit {
                sys::set_cloexec(fd, false)?;
            }
            Ok(())
        });
    }
    cmd
}

/// How long a helper may take to report before it is considered hung (e.g.
/// `helper_exe` is a program that does not call [`crate::dispatch`]).
pub(crate) const REPORT_TIMEOUT_MS: i32 = 30_000;

/// Reads the helper's reports until every writer is gone (exec or exit).
/// `None`: nothing final within the timeout.
pub(crate) fn read_reports(r: OwnedFd) -> Option<Vec<Report>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_millis(REPORT_TIMEOUT_MS as u64);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        let ready = sys::poll_read(&[r.as_raw_fd()], left.as_millis() as i32).ok()?;
        if ready.first() != Some(&true) {
            continue;
        }
        match sys::read_fd(r.as_raw_fd(), &mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(
        buf.split(|&b| b == b'\n')
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect(),
    )
}
