//! emptyDir `medium: Memory`: a tmpfs mounted on the volume's directory on
//! the node, as the kubelet's emptyDir plugin mounts one (`setupTmpfs` in
//! pkg/volume/emptydir/empty_dir.go), so every container's bind of the
//! directory shares the one tmpfs. `nosuid,nodev` as on every tmpfs kubelab
//! mounts: a Pod's scratch space needs neither.

use rustix::mount::{MountFlags, UnmountFlags};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Mounts a tmpfs of `size_bytes` on `dir`, unless `dir` is a mount point
/// already (prepared for an earlier container of the Pod).
pub fn mount(dir: &Path, size_bytes: u64) -> io::Result<()> {
    if is_mount_point(dir)? {
        return Ok(());
    }
    let data = CString::new(format!("size={size_bytes}")).map_err(io::Error::other)?;
    rustix::mount::mount(
        "tmpfs",
        dir,
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        data.as_c_str(),
    )
    .map_err(|e| {
        let e = io::Error::from(e);
        let hint = if e.kind() == io::ErrorKind::PermissionDenied {
            " (a tmpfs on the node needs root: run the node as root, or drop `medium: Memory`)"
        } else {
            ""
        };
        io::Error::new(
            e.kind(),
            format!("mount a tmpfs on {}: {e}{hint}", dir.display()),
        )
    })
}

/// Detaches the mount on `dir`; nothing to do when `dir` is gone or holds
/// no mount. Never follows a link (UMOUNT_NOFOLLOW).
pub fn unmount(dir: &Path) -> io::Result<()> {
    match is_mount_point(dir) {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    rustix::mount::unmount(dir, UnmountFlags::DETACH | UnmountFlags::NOFOLLOW)
        .map_err(|e| io::Error::other(format!("unmount {}: {e}", dir.display())))
}

/// `dir` is a directory (not a link) on another device than its parent:
/// something is mounted on it.
fn is_mount_point(dir: &Path) -> io::Result<bool> {
    let meta = fs::symlink_metadata(dir)?;
    if !meta.file_type().is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is not a directory (links are never followed)",
                dir.display()
            ),
        ));
    }
    let parent = dir.parent().unwrap_or(Path::new("/"));
    Ok(fs::symlink_metadata(parent)?.dev() != meta.dev())
}
