//! A Pod container's supervisor joins the infra's namespaces before it
//! clones PID 1: PID 1 and its payload inherit the user, net, ipc and uts
//! namespaces (and pid, shared), and get a mount (and pid) namespace of
//! their own, owned by the Pod's user namespace.

use super::JoinNamespaces;
use crate::error::Error;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// The infra's user namespace, opened now (a root supervisor id-maps the
/// container's mounts with it before it joins).
pub(crate) fn open_userns(j: &JoinNamespaces) -> Result<OwnedFd, Error> {
    open(j.pid, "user")
}

fn open(pid: u32, name: &str) -> Result<OwnedFd, Error> {
    fs::File::open(format!("/proc/{pid}/ns/{name}"))
        .map(OwnedFd::from)
        .map_err(|e| {
            Error::new(
                "pod",
                format!("open /proc/{pid}/ns/{name}: {e} (is the Pod's infra process running?)"),
            )
        })
}

/// Joins the infra's namespaces, the user namespace first (it grants the
/// capabilities for the others). The PID namespace applies to the children
/// cloned afterwards.
pub(crate) fn join(j: &JoinNamespaces) -> Result<(), Error> {
    let mut names = vec![("user", libc::CLONE_NEWUSER)];
    if !j.host_network {
        names.push(("net", libc::CLONE_NEWNET));
    }
    if !j.host_ipc {
        names.push(("ipc", libc::CLONE_NEWIPC));
    }
    // hostNetwork: the infra kept the node's UTS namespace (its caller's)
    // as well, which is ours already.
    if !j.host_network {
        names.push(("uts", libc::CLONE_NEWUTS));
    }
    if j.share_pid {
        names.push(("pid", libc::CLONE_NEWPID));
    }
    // All opened before the first setns: /proc/<pid> must be read as we are.
    let fds = names
        .iter()
        .map(|(n, f)| open(j.pid, n).map(|fd| (*n, fd, *f)))
        .collect::<Result<Vec<_>, _>>()?;
    for (name, fd, flag) in &fds {
        sys::setns(fd.as_fd(), *flag)
            .map_err(|e| Error::new("pod", format!("join the Pod's {name} namespace: {e}")))?;
    }
    Ok(())
}

/// A rootless infra's supervisor enters the user namespace at `path` (a
/// node's) before it makes the Pod's own, so the Pod's is its child. Only a
/// single-threaded process may (the supervisor is). The caller must own
/// that namespace: a foreign one is refused by the kernel (EPERM).
pub(crate) fn enter_parent_userns(path: &Path) -> Result<(), Error> {
    let what = || format!("the parent user namespace {}", path.display());
    let fd = fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| Error::new("pod", format!("open {}: {e}", what())))?;
    sys::setns(fd.as_fd(), libc::CLONE_NEWUSER)
        .map_err(|e| Error::new("pod", format!("join {}: {e}", what())))
}

/// `/proc/<pid>/ns/uts` for a network namespace given as
/// `/proc/<pid>/ns/net`; `None` for any other path.
fn sibling_uts(net: &Path) -> Option<std::path::PathBuf> {
    let dir = net.parent()?;
    (net.file_name()? == "net" && dir.file_name()? == "ns" && dir.starts_with("/proc"))
        .then(|| dir.join("uts"))
}

/// `hostNetwork`: enters the network namespace at `path` (the node's) and
/// a mount namespace of our own with a read-only `/sys` of it, before the
/// Pod's user namespace is made or joined: only now may we (host root, or
/// root of the node's user namespace) do either. The Pod's mount namespace
/// copies this `/sys`, and its rootfs binds it where a fresh sysfs is
/// refused.
pub(crate) fn enter_host_network(path: &Path) -> Result<(), Error> {
    let fd = fs::File::open(path).map(OwnedFd::from).map_err(|e| {
        Error::new(
            "pod",
            format!("open the node's network namespace {}: {e}", path.display()),
        )
    })?;
    sys::setns(fd.as_fd(), libc::CLONE_NEWNET)
        .map_err(|e| Error::new("pod", format!("join the node's network namespace: {e}")))?;
    // Its UTS namespace too: a hostNetwork Pod's hostname is the node's
    // (containerd gives it the node's UTS). A lab world's node keeps its
    // own beside its network namespace (`/proc/<holder>/ns/uts`).
    // Only when it is another (a lab node alone keeps the host's, which
    // is ours already and, rootless, not ours to enter).
    let other = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        let id = |m: fs::Metadata| (m.dev(), m.ino());
        match (fs::metadata(p), fs::metadata("/proc/self/ns/uts")) {
            (Ok(a), Ok(b)) => id(a) != id(b),
            _ => true,
        }
    };
    if let Some(uts) = sibling_uts(path).filter(|u| other(u)) {
        let fd = fs::File::open(&uts).map(OwnedFd::from).map_err(|e| {
            Error::new(
                "pod",
                format!("open the node's UTS namespace {}: {e}", uts.display()),
            )
        })?;
        sys::setns(fd.as_fd(), libc::CLONE_NEWUTS)
            .map_err(|e| Error::new("pod", format!("join the node's UTS namespace: {e}")))?;
    }
    sys::unshare(libc::CLONE_NEWNS).map_err(|e| Error::new("namespaces.mount", e.to_string()))?;
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .map_err(|e| Error::new("mount", e.to_string()))?;
    sys::mount(
        Some("sysfs"),
        Path::new("/sys"),
        Some("sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
        None,
    )
    .map_err(|e| Error::new("mount", format!("the node's /sys: {e}")))
}

#[cfg(test)]
mod tests {
    use super::sibling_uts;
    use std::path::Path;

    #[test]
    fn only_a_holders_proc_net_namespace_has_a_uts_beside_it() {
        assert_eq!(
            sibling_uts(Path::new("/proc/42/ns/net")).as_deref(),
            Some(Path::new("/proc/42/ns/uts"))
        );
        assert_eq!(sibling_uts(Path::new("/run/netns/x")), None);
        assert_eq!(sibling_uts(Path::new("/tmp/ns/net")), None);
    }
}
