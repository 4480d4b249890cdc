//! Thin wrappers over the syscalls the engine needs: the bottom layer of
//! the crate, importing nothing from it. Most go through rustix's safe
//! wrappers; what stays hand-written (each `unsafe` block with its reason)
//! is what rustix lacks (clone into namespaces or a cgroup, mount_setattr,
//! signal masks and signalfd, bpf(2) for device programs, the ifreq ioctls, malloc_trim, `_exit`), what
//! takes bare inherited descriptor numbers (close-on-exec, the status pipe),
//! and mount(2)/prctl(2) kept as one call for every flag combination.
//!
//! Split by what the calls act on; callers use the flat `sys::name` paths
//! re-exported below. A new wrapper goes into the file of its kind (or a new
//! one here), never into the modules above.

mod bpf;
mod caps;
mod clone;
mod cvt;
mod fd;
mod host;
mod mount;
mod passing;
mod procfs;
mod signal;
pub(crate) mod tty;

pub use bpf::*;
pub use caps::*;
pub use clone::*;
pub use fd::*;
pub use host::*;
pub use mount::*;
pub use passing::*;
pub use procfs::*;
pub use signal::*;
pub use tty::{open_pty_here, set_controlling_tty, set_winsize, setsid};
