//! Joining the namespaces of a running sandbox, as `nsenter` does: which
//! of its processes' links may be opened, and setns into each namespace
//! that differs from ours.

use crate::error::{Error, Result};
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};

const NS_ORDER: [(&str, libc::c_int); 7] = [
    // The user namespace first: it grants the capabilities for the others.
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

fn ns_ino(pid: &str, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

/// A process of the sandbox whose namespace links we may open: PID 1 is not
/// dumpable, which hides its links from a rootless caller, so fall back to
/// one of its children.
pub(crate) fn readable_member(pid: i32) -> i32 {
    if fs::File::open(format!("/proc/{pid}/ns/mnt")).is_ok() {
        return pid;
    }
    let children =
        fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children
        .split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
        .find(|c| fs::File::open(format!("/proc/{c}/ns/mnt")).is_ok())
        .unwrap_or(pid)
}

/// Joins every namespace of process `tpid` (as a /proc name) that differs
/// from ours, the user namespace first.
pub(crate) fn join_all(tpid: &str) -> Result<()> {
    let mut fds: Vec<(OwnedFd, libc::c_int)> = Vec::new();
    for (name, flag) in NS_ORDER {
        if ns_ino(tpid, name) == ns_ino("self", name) {
            continue;
        }
        let f = fs::File::open(format!("/proc/{tpid}/ns/{name}")).map_err(|e| {
            Error::new(
                "exec",
                format!("open /proc/{tpid}/ns/{name}: {e} (is the sandbox still running?)"),
            )
        })?;
        fds.push((OwnedFd::from(f), flag));
    }
    for (fd, flag) in &fds {
        sys::setns(fd.as_fd(), *flag).map_err(|e| Error::new("exec", format!("setns: {e}")))?;
    }
    drop(fds);
    Ok(())
}
