//! Joining the namespaces of a running sandbox, as `nsenter` does: which
//! of its processes' links may be opened, and setns into each namespace
//! that differs from ours; and joining a lab world's node (its user, net,
//! UTS and PID namespaces) with a `/sys` of its own, as `ip netns exec`.

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
/// from ours, the user namespace first — except a network namespace its
/// user namespace has no capability over (a `hostNetwork` Pod's is the
/// node's): that one first, while we may (see [`join_foreign`]).
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
    // The network namespace, then the UTS one (a hostNetwork Pod in a lab
    // world's node has the node's hostname too).
    for flag in [libc::CLONE_NEWNET, libc::CLONE_NEWUTS] {
        let Some(i) = fds.iter().position(|(_, f)| *f == flag) else {
            continue;
        };
        if join_foreign(tpid, fds[i].0.as_fd(), flag)? {
            let joined_user = fds
                .iter()
                .any(|(_, f)| *f == libc::CLONE_NEWUSER)
                .then(|| ns_ino(tpid, "user") == ns_ino("self", "user"));
            fds.remove(i);
            if joined_user == Some(true) {
                fds.retain(|(_, f)| *f != libc::CLONE_NEWUSER);
            }
        }
    }
    for (fd, flag) in &fds {
        sys::setns(fd.as_fd(), *flag).map_err(|e| Error::new("exec", format!("setns: {e}")))?;
    }
    drop(fds);
    Ok(())
}

/// A network (or UTS) namespace owned by a user namespace other than the
/// target's (the node's, for a `hostNetwork` Pod) cannot be joined from
/// inside the target's: join it now. Host root may directly; a rootless
/// caller first enters its owner (the node's user namespace, which it
/// made), and the target's user namespace, that one's child, after.
/// `Ok(false)`: an ordinary one, owned by the target's user namespace;
/// joined later.
fn join_foreign(tpid: &str, net: std::os::fd::BorrowedFd<'_>, flag: libc::c_int) -> Result<bool> {
    let what = if flag == libc::CLONE_NEWUTS {
        "UTS"
    } else {
        "network"
    };
    use std::os::unix::fs::MetadataExt;
    let owner = sys::ns_owner(net)
        .map_err(|e| Error::new("exec", format!("owner of the {what} namespace: {e}")))?;
    let owner_ino = fs::File::from(
        owner
            .try_clone()
            .map_err(|e| Error::new("exec", e.to_string()))?,
    )
    .metadata()
    .map(|m| m.ino())
    .ok();
    if owner_ino.is_none() || owner_ino == ns_ino(tpid, "user") {
        return Ok(false);
    }
    if owner_ino != ns_ino("self", "user") && sys::setns(net, flag).is_ok() {
        return Ok(true);
    }
    if owner_ino != ns_ino("self", "user") {
        sys::setns(owner.as_fd(), libc::CLONE_NEWUSER)
            .map_err(|e| Error::new("exec", format!("join the node's user namespace: {e}")))?;
    }
    sys::setns(net, flag)
        .map_err(|e| Error::new("exec", format!("join the node's {what} namespace: {e}")))?;
    Ok(true)
}

/// Joins, in this order, the user namespace of process `user_of` (if it
/// is not ours), the network and UTS namespaces of `net_of` (and its mount
/// namespace when `mounts`: a world node's, shared by all its shells), and
/// the PID namespace of `user_of` (for the children forked after this).
/// Every namespace is opened before the first `setns`, while /proc is
/// still read as the caller. Single-threaded callers only (a user
/// namespace refuses a multi-threaded joiner).
pub(crate) fn join_node(
    user_of: i32,
    net_of: i32,
    mounts: bool,
) -> std::result::Result<(), String> {
    let open = |pid: i32, ns: &str| {
        fs::File::open(format!("/proc/{pid}/ns/{ns}"))
            .map(OwnedFd::from)
            .map_err(|e| format!("open /proc/{pid}/ns/{ns}: {e} (is it still running?)"))
    };
    let me = ns_ino("self", "user");
    let user = (ns_ino(&user_of.to_string(), "user") != me)
        .then(|| open(user_of, "user"))
        .transpose()?;
    let pid = open(user_of, "pid")?;
    let net = open(net_of, "net")?;
    let uts = open(net_of, "uts")?;
    let mnt = mounts.then(|| open(net_of, "mnt")).transpose()?;
    let join = |fd: &OwnedFd, flag: libc::c_int, what: &str| {
        sys::setns(fd.as_fd(), flag).map_err(|e| format!("join the {what} namespace: {e}"))
    };
    // The user namespace first: it grants the capabilities for the others.
    if let Some(user) = &user {
        join(user, libc::CLONE_NEWUSER, "user")?;
    }
    join(&net, libc::CLONE_NEWNET, "network")?;
    join(&uts, libc::CLONE_NEWUTS, "UTS")?;
    if let Some(mnt) = &mnt {
        // Joining a mount namespace moves us to its root directory; the
        // files are the host's, so the same path is where we were.
        let cwd = std::env::current_dir().ok();
        join(mnt, libc::CLONE_NEWNS, "mount")?;
        if let Some(cwd) = cwd {
            let _ = std::env::set_current_dir(cwd);
        }
    }
    join(&pid, libc::CLONE_NEWPID, "PID")
}

/// Moves this process into a mount namespace of its own (owned by its
/// user namespace) whose `/sys` shows its current network namespace, as
/// `ip netns exec` does; nothing propagates back to the namespace left.
pub(crate) fn own_sysfs() -> std::result::Result<(), String> {
    use std::path::Path;
    sys::unshare(libc::CLONE_NEWNS).map_err(|e| format!("new mount namespace: {e}"))?;
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_SLAVE,
        None,
    )
    .map_err(|e| e.to_string())?;
    sys::mount(
        Some("sysfs"),
        Path::new("/sys"),
        Some("sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(|e| format!("{e} (the network namespace's own /sys)"))
}
