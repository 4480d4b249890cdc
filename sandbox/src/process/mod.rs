//! The processes behind a sandbox, re-executed (or forked) from the caller
//! as single-threaded helpers, and what they say to each other.
//!
//! ```text
//! caller (multi-threaded, e.g. tokio)
//!  └─ supervisor  `<exe> __sandbox-init`, single-threaded; owns the cgroup,
//!     │           joins the new user namespace, keeps a private mount namespace
//!     │           holding the staging tmpfs (overlay upper), watches the
//!     │           lifeline pipe: EOF = the caller died -> kill everything.
//!     └─ init     PID 1 of the new PID namespace: builds the rootfs, pivots,
//!        │        drops privileges, then reaps zombies and forwards signals.
//!        └─ payload (PID 2): the spec's command.
//! ```
//!
//! * [`supervisor`] and [`pid1`]: the two halves of a spawn; [`handover`]:
//!   their "u" step for a root-started sandbox; [`exec_helper`]: the
//!   `__sandbox-exec` helper that joins a running sandbox;
//! * [`payload`]: what every payload gets before its exec (PTY, privileges,
//!   [`seccomp`], environment); [`watch`]: waiting for a child while
//!   forwarding signals and watching the lifeline;
//! * caller side: [`helper`] starts a helper and reads its reports,
//!   [`stdio`] wires its stdio, [`supervisor_handle`] holds the supervisor;
//! * [`protocol`]: the configs and reports they exchange; [`runtime`]: the
//!   runtime directory and the sweep of what a killed supervisor left;
//!   [`rlimit`]: CPU limits for host commands.

pub(crate) mod exec_helper;
pub(crate) mod handover;
pub(crate) mod helper;
pub(crate) mod payload;
pub(crate) mod pid1;
pub(crate) mod protocol;
pub mod rlimit;
pub mod runtime;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) mod seccomp;
/// No filter where the deny-list's syscall numbers are not written down.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) mod seccomp {
    pub(crate) fn install() -> std::io::Result<()> {
        Ok(())
    }
}
pub(crate) mod stdio;
pub(crate) mod supervisor;
pub(crate) mod supervisor_handle;
pub(crate) mod watch;
