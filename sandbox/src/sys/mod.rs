//! Thin wrappers over the raw syscalls the engine needs: the bottom layer of
//! the crate, importing nothing from it. Every `unsafe` block of the crate
//! that talks to the kernel directly lives here, each with its reason.
//!
//! Split by what the calls act on; callers use the flat `sys::name` paths
//! re-exported below. A new wrapper goes into the file of its kind (or a new
//! one here), never into the modules above.

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

pub use caps::*;
pub use clone::*;
pub use cvt::cstr;
pub use fd::*;
pub use host::*;
pub use mount::*;
pub use passing::*;
pub use procfs::*;
pub use signal::*;
pub use tty::{open_pty_here, set_controlling_tty, set_winsize, setsid};
