//! The mounts of a sandbox's root: overlay options, binds and their
//! read-only remounts, a fresh /proc and /sys (with [`super::masks`]), a
//! small /dev.

use crate::error::Error;
use crate::spec::{Namespace, Spec};
use crate::sys;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, DirBuilderExt, PermissionsExt};
use std::path::Path;

pub(super) fn err(field: &str, what: impl std::fmt::Display) -> Error {
    Error::new(field, what.to_string())
}

pub(super) fn mkdirs(p: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(p)
}

pub(super) const MS_NOSUID: libc::c_ulong = libc::MS_NOSUID;
pub(super) const MS_NODEV: libc::c_ulong = libc::MS_NODEV;
pub(super) const MS_NOEXEC: libc::c_ulong = libc::MS_NOEXEC;
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Escapes a path for overlayfs' comma/colon separated options.
pub(super) fn ovl_escape(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | ':' | '\\') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// Bind-mounts `src` on `dst`, read-only if asked. The read-only remount must
/// repeat the flags the kernel locked on the source (nosuid, nodev, atime...)
/// or a user namespace gets EPERM.
pub(super) fn bind(src: &Path, dst: &Path, readonly: bool, recursive: bool) -> Result<(), Error> {
    let rec = if recursive { libc::MS_REC } else { 0 };
    sys::mount(
        Some(&src.to_string_lossy()),
        dst,
        None,
        libc::MS_BIND | rec,
        None,
    )
    .map_err(|e| {
        err(
            "mounts",
            format!("bind {} -> {}: {e}", src.display(), dst.display()),
        )
    })?;
    if readonly {
        remount_ro(dst)?;
    }
    Ok(())
}

/// Read-only remount of a bind mount, repeating the locked flags.
pub(super) fn remount_ro(dst: &Path) -> Result<(), Error> {
    {
        let f = sys::statvfs_flags(dst).unwrap_or(0);
        let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
        for (st, ms) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if f & st != 0 {
                flags |= ms;
            }
        }
        sys::mount(None, dst, None, flags, None)
            .map_err(|e| err("mounts", format!("make {} read-only: {e}", dst.display())))?;
    }
    Ok(())
}

pub(super) fn mount_proc_sys(spec: &Spec, root: &Path) -> Result<(), Error> {
    let proc_dir = root.join("proc");
    let has_pid = spec.namespaces.contains(&Namespace::Pid);
    let r = sys::mount(
        Some("proc"),
        &proc_dir,
        Some("proc"),
        MS_NOSUID | MS_NODEV | MS_NOEXEC,
        None,
    );
    if let Err(e) = r {
        if has_pid {
            return Err(err(
                "proc",
                format!(
                    "{e}; the kernel refuses a fresh /proc when the host's /proc is partly \
                     masked (e.g. inside Docker): run kubelab with --privileged or on the host"
                ),
            ));
        }
        // Without a PID namespace a fresh proc is not allowed; show the host's.
        bind(Path::new("/proc"), &proc_dir, false, true)?;
    }
    let sys_dir = root.join("sys");
    let flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | libc::MS_RDONLY;
    if sys::mount(Some("sysfs"), &sys_dir, Some("sysfs"), flags, None).is_err() {
        // sysfs needs a network namespace of our own; otherwise show the
        // host's, read-only (recursive: a user namespace may not uncover
        // what the host's submounts hide).
        let _ = bind(Path::new("/sys"), &sys_dir, true, true);
    }
    super::masks::apply(root, spec.namespaces.contains(&Namespace::Net))
}

pub(super) fn mount_dev(root: &Path) -> Result<(), Error> {
    let dev = root.join("dev");
    sys::mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MS_NOSUID | libc::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .map_err(|e| err("dev", e))?;
    for d in DEVICES {
        let host = Path::new("/dev").join(d);
        if !host.exists() {
            continue;
        }
        let t = dev.join(d);
        fs::write(&t, b"").map_err(|e| err("dev", format!("{}: {e}", t.display())))?;
        bind(&host, &t, false, false)?;
    }
    let pts = dev.join("pts");
    mkdirs(&pts, 0o755).map_err(|e| err("dev", e))?;
    sys::mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MS_NOSUID | MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(|e| err("dev", e))?;
    let _ = symlink("pts/ptmx", dev.join("ptmx"));
    let shm = dev.join("shm");
    let _ = mkdirs(&shm, 0o1777);
    let _ = fs::set_permissions(&shm, fs::Permissions::from_mode(0o1777));
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        let _ = symlink(target, dev.join(name));
    }
    Ok(())
}
