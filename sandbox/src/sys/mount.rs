//! mount(2) and its relatives: pivot_root, detaching, detached mount trees
//! (open_tree, move_mount), and what a mount's flags or type are.

use super::cvt::{check, cstr};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// mount(2) as one call for every kind of mount, hand-written: rustix splits
/// it into one function per kind (bind, remount, propagation change, new
/// filesystem), and the call sites pass the flags the kernel gets as they
/// are, so each keeps exactly the mount it makes.
pub fn mount(
    src: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let src = src.map(cstr).transpose()?;
    let target_c = cstr(target)?;
    let fstype = fstype.map(cstr).transpose()?;
    let data = data.map(cstr).transpose()?;
    // SAFETY: all pointers are NUL-terminated strings that outlive the call or NULL.
    let ret = unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target_c.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr() as *const libc::c_void),
        )
    };
    check(ret).map(drop).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("mount {} ({}): {e}", target.display(), fstype_name(&fstype)),
        )
    })
}

fn fstype_name(f: &Option<CString>) -> String {
    f.as_ref()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bind/remount".into())
}

pub fn umount_detach(target: &Path) -> io::Result<()> {
    rustix::mount::unmount(target, rustix::mount::UnmountFlags::DETACH).map_err(io::Error::from)
}

pub fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    rustix::process::pivot_root(new_root, put_old).map_err(io::Error::from)
}

/// Clones the mount tree at `path` into a detached mount (open_tree with
/// OPEN_TREE_CLONE), attachable later with [`move_mount_to`] — even after
/// pivot_root, when `path` is no longer reachable.
pub fn open_tree_clone(path: &Path) -> io::Result<OwnedFd> {
    detached_tree(path, true)
}

/// A detached copy (OPEN_TREE_CLONE, close-on-exec) of the mount at `path`,
/// with its submounts if `recursive`.
pub fn detached_tree(path: &Path, recursive: bool) -> io::Result<OwnedFd> {
    use rustix::mount::OpenTreeFlags;
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    rustix::mount::open_tree(rustix::fs::CWD, path, flags).map_err(io::Error::from)
}

/// Attaches a detached mount from [`open_tree_clone`] at `target`.
pub fn move_mount_to(fd: BorrowedFd<'_>, target: &Path) -> io::Result<()> {
    use rustix::mount::MoveMountFlags;
    rustix::mount::move_mount(
        fd,
        "",
        rustix::fs::CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .map_err(io::Error::from)
}

/// Whether `path` is on a tmpfs (statfs).
// (`f_type` and the magic number differ in width between architectures.)
#[allow(clippy::unnecessary_cast)]
pub fn is_tmpfs(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|st| st.f_type as i64 == libc::TMPFS_MAGIC as i64)
}

pub fn statvfs_flags(path: &Path) -> io::Result<libc::c_ulong> {
    let st = rustix::fs::statvfs(path)?;
    Ok(st.f_flag.bits() as libc::c_ulong)
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// Id-maps a detached mount through the user namespace `userns`
/// (mount_setattr with MOUNT_ATTR_IDMAP), with its submounts if
/// `recursive`. Hand-written: rustix has no mount_setattr.
pub fn idmap_mount(fd: BorrowedFd<'_>, userns: BorrowedFd<'_>, recursive: bool) -> io::Result<()> {
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
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
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
