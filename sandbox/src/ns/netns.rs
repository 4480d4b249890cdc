//! A sandbox's network namespace: made by a rootless supervisor after the
//! clone and passed to PID 1 over the setup socket ("n"), which joins it.

use crate::error::Error;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// Creates the sandbox's network namespace and sends it to PID 1 (message
/// "n"), which joins it before mounting /sys. Creating a network namespace
/// is the slowest part of a clone (~0.55 ms here); done by the supervisor
/// after the clone, it overlaps with PID 1's rootfs build instead of
/// delaying PID 1's start. The supervisor ends up in that namespace too,
/// which costs nothing: it makes no connections and lives exactly as long
/// as the sandbox. (Rootless only: a root-started supervisor stays outside
/// the sandbox's user namespace and could not own one; PID 1 is cloned into
/// a new network namespace instead — measured no slower than a helper
/// process making it in parallel on a 2-core host.)
pub(crate) fn make_netns(go: BorrowedFd<'_>) -> Result<(), Error> {
    let e =
        |what: &str, err: std::io::Error| Error::new("namespaces.net", format!("{what}: {err}"));
    sys::unshare(libc::CLONE_NEWNET).map_err(|err| e("new network namespace", err))?;
    let ns = fs::File::open("/proc/self/ns/net").map_err(|err| e("/proc/self/ns/net", err))?;
    sys::send_with_fds(go.as_raw_fd(), b"n", &[ns.as_raw_fd()])
        .map_err(|err| e("pass it to PID 1", err))?;
    crate::trace::mark("supervisor: network namespace sent");
    Ok(())
}

/// PID 1: joins the network namespace the supervisor made ([`make_netns`])
/// and brings its loopback up.
pub(crate) fn join_netns(go: BorrowedFd<'_>) -> Result<(), Error> {
    let mut b = [0u8; 1];
    let ns = match sys::recv_with_fds(go, &mut b) {
        Ok((1, mut fds)) if b == *b"n" && fds.len() == 1 => fds.remove(0),
        _ => return Err(Error::new("spawn", "the supervisor went away during setup")),
    };
    sys::setns(ns.as_fd(), libc::CLONE_NEWNET)
        .map_err(|e| Error::new("namespaces.net", format!("join: {e}")))?;
    sys::loopback_up().map_err(|e| Error::new("namespaces.net", format!("lo up: {e}")))?;
    crate::trace::mark("pid1: network namespace joined");
    Ok(())
}
