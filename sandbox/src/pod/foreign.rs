//! PID 1's side of [`super::ForeignBinds`]: it steps into the mount
//! namespace of the Pod's volume plugin sandbox, clones each source there
//! (`open_tree`), and steps back. Both namespaces belong to the Pod's user
//! namespace, where PID 1 is root; a namespace owned by any other (the
//! host's, another Pod's) is refused before it is entered.

use super::ForeignBinds;
use crate::error::Error;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};

/// A clone of one source: what `rootfs::build` attaches after its pivot.
pub(crate) struct Cloned {
    pub fd: OwnedFd,
    pub is_dir: bool,
    pub target: std::path::PathBuf,
    pub readonly: bool,
}

fn err(what: String) -> Error {
    Error::new("mounts", what)
}

/// (device, inode) of a namespace file.
fn ns_id(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// Clones every source of `f`, in order. Must run single-threaded, in a
/// mount namespace of the Pod's user namespace (PID 1 before its pivot).
pub(crate) fn clone_sources(f: &ForeignBinds) -> Result<Vec<Cloned>, Error> {
    let open = |p: String| {
        fs::File::open(&p).map(OwnedFd::from).map_err(|e| {
            err(format!(
                "{p}: {e} (is the Pod's volume plugin sandbox running?)"
            ))
        })
    };
    let theirs = open(format!("/proc/{}/ns/mnt", f.pid))?;
    let ours = open("/proc/self/ns/mnt".into())?;
    let our_user = open("/proc/self/ns/user".into())?;
    let owner = sys::ns_owner(theirs.as_fd())
        .map_err(|e| err(format!("the owner of PID {}'s mount namespace: {e}", f.pid)))?;
    let same = matches!(
        (ns_id(owner.as_fd()), ns_id(our_user.as_fd())),
        (Ok(a), Ok(b)) if a == b
    );
    if !same {
        return Err(err(format!(
            "PID {}'s mount namespace is not the Pod's: its volumes are not bound",
            f.pid
        )));
    }
    let cwd = fs::File::open(".").map(OwnedFd::from).ok();
    sys::setns(theirs.as_fd(), libc::CLONE_NEWNS)
        .map_err(|e| err(format!("enter the volume plugin sandbox's mounts: {e}")))?;
    let cloned: Result<Vec<Cloned>, Error> = f
        .binds
        .iter()
        .map(|b| {
            let fd = sys::detached_tree(&b.source, true).map_err(|e| {
                err(format!(
                    "volume {} in the volume plugin sandbox: {e}",
                    b.source.display()
                ))
            })?;
            let is_dir = rustix::fs::fstat(&fd).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
            });
            Ok(Cloned {
                fd,
                is_dir,
                target: b.target.clone(),
                readonly: b.readonly,
            })
        })
        .collect();
    // Back, whatever happened: the rest of the build runs in our own.
    sys::setns(ours.as_fd(), libc::CLONE_NEWNS)
        .map_err(|e| err(format!("return to the sandbox's own mounts: {e}")))?;
    if let Some(d) = cwd {
        let _ = rustix::process::fchdir(d.as_fd());
    }
    cloned
}
