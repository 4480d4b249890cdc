//! Resource limits for a host command kubelab starts outside any sandbox
//! (`on=host` check scripts). Set between fork and exec, so the command and
//! everything it forks carry the limit from their first instruction; a
//! limit applied after spawn (prlimit) races with the script's first fork.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Limits every process of `cmd` to `secs` seconds of CPU time
/// (RLIMIT_CPU, inherited across fork and exec): SIGXCPU at `secs`, SIGKILL
/// one second later.
pub fn limit_cpu(cmd: &mut Command, secs: u64) {
    let lim = libc::rlimit {
        rlim_cur: secs as libc::rlim_t,
        rlim_max: secs.saturating_add(1) as libc::rlim_t,
    };
    // SAFETY: the closure only calls setrlimit, which is async-signal-safe,
    // allocates nothing and touches only the copied `lim`.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_CPU, &lim) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}
