//! Mounts the supervisor hands a root-started sandbox's PID 1 (see
//! [`crate::ns::idmap`]): detached copies of its lower layers and bind
//! sources, id-mapped with PID 1's user namespace where the filesystem
//! supports it, attached by PID 1 inside its own mount namespace.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;

/// A detached copy of the mount at `path` (with its submounts if
/// `recursive`), id-mapped through `userns` when given and the filesystem
/// supports it (else plain: the caller decides whether that is acceptable).
/// Returns the mount and whether it is id-mapped.
pub(crate) fn detached(
    path: &Path,
    recursive: bool,
    userns: Option<BorrowedFd<'_>>,
) -> io::Result<(OwnedFd, bool)> {
    let c = crate::sys::cstr(path)?;
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    let flags = OPEN_TREE_CLONE | rec | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: c is a valid C string; open_tree returns a new descriptor.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(r as RawFd) };
    let Some(ns) = userns else {
        return Ok((fd, false));
    };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: ns.as_raw_fd() as u64,
    };
    // SAFETY: valid descriptors, an empty C path, and a fully initialised
    // mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint | rec,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == 0 {
        return Ok((fd, true));
    }
    // Not supported by this filesystem (or kernel): the plain clone.
    drop(fd);
    // SAFETY: as above.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok((unsafe { OwnedFd::from_raw_fd(r as RawFd) }, false))
}

/// Whether a descriptor (e.g. a detached mount) is a directory.
pub(crate) fn is_dir(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: an all-zero stat is a valid out buffer; fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out pointer.
    let r = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR
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
            crate::sys::move_mount_to(std::os::fd::AsFd::as_fd(fd), &p)?;
            out.push(p);
        }
        Ok(out)
    }
}
