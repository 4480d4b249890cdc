//! Mounts the supervisor hands a root-started sandbox's PID 1 (see
//! [`crate::ns::idmap`]): detached copies of its lower layers and bind
//! sources, id-mapped with PID 1's user namespace where the filesystem
//! supports it, attached by PID 1 inside its own mount namespace.

use crate::sys;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// A detached copy of the mount at `path` (with its submounts if
/// `recursive`), id-mapped through `userns` when given and the filesystem
/// supports it (else plain: the caller decides whether that is acceptable).
/// Returns the mount and whether it is id-mapped.
pub(crate) fn detached(
    path: &Path,
    recursive: bool,
    userns: Option<BorrowedFd<'_>>,
) -> io::Result<(OwnedFd, bool)> {
    let fd = sys::detached_tree(path, recursive)?;
    let Some(ns) = userns else {
        return Ok((fd, false));
    };
    if sys::idmap_mount(fd.as_fd(), ns, recursive).is_ok() {
        return Ok((fd, true));
    }
    // Not supported by this filesystem (or kernel): the plain clone.
    drop(fd);
    Ok((sys::detached_tree(path, recursive)?, false))
}

/// Whether a descriptor (e.g. a detached mount) is a directory.
pub(crate) fn is_dir(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
    })
}

/// What the supervisor hands PID 1 with the "u" message: detached mounts of
/// the overlay's lower layers (bottom last, the order of `lowerdir`) and of
/// every bind source (in the spec's order).
pub(crate) struct Prepared {
    pub lowers: Vec<OwnedFd>,
    pub binds: Vec<OwnedFd>,
}

impl Prepared {
    /// PID 1: attaches the lower layers under the staging tmpfs (mount
    /// namespace of its own) and returns their paths for `lowerdir`.
    pub(crate) fn attach_lowers(&self, staging: &Path) -> io::Result<Vec<std::path::PathBuf>> {
        let mut out = Vec::with_capacity(self.lowers.len());
        for (i, fd) in self.lowers.iter().enumerate() {
            let p = staging.join(format!("layer-{i}"));
            fs::create_dir(&p)?;
            sys::move_mount_to(fd.as_fd(), &p)?;
            out.push(p);
        }
        Ok(out)
    }
}
