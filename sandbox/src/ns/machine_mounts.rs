//! The mount namespace of a lab world's node: one per node, made by its
//! holder and joined by every shell, check and command run there, so the
//! node behaves like one machine. A netns that `ip netns add` bind-mounts
//! in one shell is seen by the next check, as on a real host.
//!
//! What differs from the host's view:
//! - `/sys` is a sysfs of the node's network namespace (as `ip netns exec`
//!   gives), so `/sys/class/net` lists the node's links.
//! - `/proc` is a proc of the world's PID namespace, so a process's PID
//!   and `/proc/self` agree (CNI plugins open `/proc/<pid>/task/<tid>/ns/net`
//!   by the PID they see).
//! - `/run` is a small tmpfs of the node's own, with the host's entries
//!   bound back in (sockets, `/run/user`, a resolver's files), except
//!   `netns` and `xtables.lock`: `ip netns add` needs a `/run/netns` it may
//!   create (a learner may not write the host's `/run`, and as root its
//!   files would outlive the world), and iptables-legacy takes a lock file
//!   only root may open on the host's.
//!
//! Everything propagates from the host into the node (`/` is made a slave),
//! nothing back. The namespace is gone when its last process is: the
//! holder dies with the world, every shell with the world's PID namespace.

use crate::sys;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// Entries of the host's `/run` a node gets a private one of instead.
const NOT_SHARED: [&str; 2] = ["netns", "xtables.lock"];
/// Entries of the host's `/run` bound into a node's: a bound on a host
/// with an unusual `/run`, one mount each.
const MAX_ENTRIES: usize = 256;
/// The node's `/run`: pid files, sockets and `netns` bind targets only.
const RUN_OPTIONS: &str = "mode=0755,size=16m,nr_inodes=4096";

/// Sets up the calling process's (fresh, unshared) mount namespace as a
/// node's: `/` a slave of the host's, a `/sys` of the current network
/// namespace, a `/proc` of the current PID namespace, and a `/run` of its
/// own. Call after the network namespace is made and entered, in the
/// world's PID namespace.
pub(crate) fn set_up() -> io::Result<()> {
    let ctx =
        |what: &'static str| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_SLAVE,
        None,
    )
    .map_err(ctx("make / a slave mount"))?;
    sys::mount(
        Some("sysfs"),
        Path::new("/sys"),
        Some("sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(ctx("the node's own /sys"))?;
    sys::mount(
        Some("proc"),
        Path::new("/proc"),
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(ctx("a /proc of the world's PID namespace"))?;
    private_run().map_err(ctx("the node's own /run"))
}

/// A tmpfs on `/run`, then the host's entries bound back from under it
/// (through a descriptor of the host's `/run` taken before it was covered).
fn private_run() -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let host_run = OwnedFd::from(
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open("/run")?,
    );
    let under = format!("/proc/self/fd/{}", host_run.as_raw_fd());
    let mut names: Vec<String> = std::fs::read_dir(&under)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !NOT_SHARED.contains(&n.as_str()))
        .collect();
    names.sort();
    names.truncate(MAX_ENTRIES);
    sys::mount(
        Some("tmpfs"),
        Path::new("/run"),
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(RUN_OPTIONS),
    )?;
    for name in names {
        // One entry the host hides from us (or that went away) is no
        // reason to fail the node; it is simply not there.
        let _ = bind_back(&under, &name);
    }
    Ok(())
}

/// Recreates `/run/NAME` as the host has it: a symlink as a symlink, a
/// directory or any other file as a bind mount of the host's.
fn bind_back(under: &str, name: &str) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let src = format!("{under}/{name}");
    let dst = Path::new("/run").join(name);
    let meta = std::fs::symlink_metadata(&src)?;
    if meta.file_type().is_symlink() {
        return std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst);
    }
    if meta.is_dir() {
        std::fs::DirBuilder::new().mode(0o755).create(&dst)?;
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&dst)?;
    }
    sys::mount(Some(&src), &dst, None, libc::MS_BIND | libc::MS_REC, None)
}
