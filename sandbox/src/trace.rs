//! Opt-in spawn timeline. With `KUBELAB_SANDBOX_TRACE=1` in the caller's
//! environment, the caller, the supervisor and PID 1 print
//! `kubelab-trace <monotonic µs> <pid> <stage>` lines to stderr, so the cost
//! of each step of a spawn can be read off one run (`kubelab run` included).

use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable that turns the trace on in the caller.
pub const ENV: &str = "KUBELAB_SANDBOX_TRACE";

static ON: AtomicBool = AtomicBool::new(false);

/// Caller side: trace if the environment asks for it.
pub(crate) fn init_from_env() {
    let on = std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0");
    ON.store(on, Ordering::Relaxed);
}

/// Helper side: the caller passes its setting in the config.
pub(crate) fn set(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

pub(crate) fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Prints one timeline line (a single write, so lines of the three processes
/// do not interleave).
pub(crate) fn mark(stage: &str) {
    if enabled() {
        let line = format!(
            "kubelab-trace {} {} {stage}\n",
            crate::sys::monotonic_us(),
            crate::sys::getpid()
        );
        let _ = crate::sys::write_fd(2, line.as_bytes());
    }
}
