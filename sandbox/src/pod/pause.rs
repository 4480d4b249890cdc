//! The Pod's infra process: PID 1 of the Pod's PID namespace holding its
//! namespaces, doing nothing but reaping, as Kubernetes' `pause`. PID 1
//! re-executes the helper as `kubelab-pause` so `ps` names it.

use crate::sys;
use std::os::fd::AsFd;
use std::path::Path;

/// argv\[0\] of the infra process.
pub const PAUSE_ARGV0: &str = "kubelab-pause";
/// Set in the environment of the re-executed pause: argv\[0\] alone could
/// come from anyone.
pub(crate) const PAUSE_ENV: &str = "KUBELAB_SANDBOX_PAUSE";

/// Whether this process was started as the infra process.
pub(crate) fn is_pause() -> bool {
    std::env::args_os().next().is_some_and(|a| a == PAUSE_ARGV0)
        && std::env::var_os(PAUSE_ENV).is_some_and(|v| v == "1")
}

/// PID 1 of an infra sandbox, set up and with privileges dropped: becomes
/// the pause process. Only returns the error if the exec failed.
pub(crate) fn exec_pause() -> crate::error::Error {
    let argv = [PAUSE_ARGV0.to_string()];
    let e = sys::exec_keeping_signals(
        Path::new("/proc/self/exe"),
        &argv,
        &[(PAUSE_ENV.to_string(), "1".to_string())],
    );
    crate::error::Error::new("pod", format!("exec the infra process: {e}"))
}

/// The pause loop: reap every child, exit 0 on SIGTERM, SIGINT, SIGQUIT or
/// SIGHUP. The signals stay blocked from PID 1's setup (the exec keeps the
/// mask), so none is lost between the exec and the signalfd.
pub(crate) fn pause_main() -> i32 {
    std::env::remove_var(PAUSE_ENV);
    let _ = sys::prctl(
        libc::PR_SET_NAME,
        c"kubelab-pause".as_ptr() as libc::c_ulong,
    );
    let stop = [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGHUP];
    let sigs: Vec<libc::c_int> = stop.iter().copied().chain([libc::SIGCHLD]).collect();
    let Ok(set) = sys::block_signals(&sigs) else {
        return 1;
    };
    let Ok(sfd) = sys::signalfd(&set) else {
        return 1;
    };
    loop {
        while let Ok((p, _)) = sys::waitpid(-1, libc::WNOHANG) {
            if p == 0 {
                break;
            }
        }
        if let Ok(ready) = sys::poll_read(&[sfd.as_fd()], -1) {
            if ready.first() == Some(&true)
                && sys::read_signals(sfd.as_fd())
                    .iter()
                    .any(|s| stop.contains(s))
            {
                return 0;
            }
        }
    }
}
