//! Builds the sandbox's root filesystem inside its new mount namespace and
//! pivots into it. Runs in the sandbox's PID 1 before the payload starts.
//!
//! The root is an overlay: lower = a small generated tree (`host`, `busybox`),
//! a directory, or unpacked OCI layers; upper + work on the staging tmpfs the
//! supervisor mounted, so every write lands in memory and is visible to the host
//! through the supervisor's mount namespace.
//!
//! * this file: the order of the build, up to `pivot_root`;
//! * [`mounts`]: the overlay options, binds, read-only remounts, /proc,
//!   /sys and /dev; [`masks`]: runc's masked and read-only paths;
//! * [`skeleton`]: the generated `host`/`busybox` lower layer and its cache;
//! * [`inroot`]: `*at()` calls confined to a foreign root, never following
//!   its symlinks out; [`layer`] and [`oci`]: unpacking an image's layers
//!   with them; [`handed`]: the detached mounts a root-started PID 1 gets.

pub(crate) mod handed;
pub(crate) mod inroot;
pub(crate) mod layer;
pub(crate) mod masks;
mod mounts;
pub mod oci;
mod skeleton;

pub(crate) use skeleton::{skeleton_cache, SKELETON_PREFIX, SKELETON_TMP_PREFIX};

use crate::error::Error;
use crate::spec::{Mount, Rootfs, Spec};
use crate::sys;
use handed::Prepared;
use inroot::{file_type_at, InRoot};
use mounts::{
    bind, err, mkdirs, mount_dev, mount_proc_sys, ovl_escape, remount_ro, MS_NODEV, MS_NOSUID,
};
use skeleton::{build_skeleton, write_sandbox_etc, HOST_DIRS, HOST_ETC_DIRS};
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What PID 1 builds its root from.
pub(crate) struct Source<'a> {
    pub spec: &'a Spec,
    /// The sandbox's id (names a skeleton being built).
    pub id: &'a str,
    /// The runtime dir, home of the shared skeleton caches.
    pub rundir: Option<&'a Path>,
    /// Lower layers (bottom first) of an OCI rootfs, already unpacked.
    pub oci_layers: &'a [PathBuf],
    /// Binds already cloned from elsewhere (a Pod's volume plugin
    /// sandbox): (mount, is a directory, target, read-only), attached
    /// after the spec's binds.
    pub cloned_binds: Vec<(OwnedFd, bool, PathBuf, bool)>,
}

/// Sets up the whole filesystem and pivots into it. `staging` is the tmpfs.
/// `before_sys` runs just before /sys is mounted (PID 1 joins its network
/// namespace there: sysfs shows the mounter's network namespace and may only
/// be mounted from one owned by our user namespace).
///
/// `prepared` (a root-started sandbox, see [`crate::ns::idmap`]): the lower
/// layers and bind sources as detached mounts from the supervisor, used
/// instead of opening those paths as the sandbox's unprivileged uid.
pub(crate) fn build(
    src: &mut Source<'_>,
    staging: &Path,
    before_sys: &mut dyn FnMut() -> Result<(), Error>,
    prepared: Option<Prepared>,
) -> Result<(), Error> {
    let spec = src.spec;
    // Nothing we mount may propagate back to the supervisor or the host.
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .map_err(|e| err("mount", format!("make / a slave mount: {e}")))?;
    let upper = staging.join("upper");
    let work = staging.join("work");
    let root = staging.join("root");
    let lower = staging.join("lower");
    for d in [&upper, &work, &root] {
        mkdirs(d, 0o755).map_err(|e| err("rootfs", format!("{}: {e}", d.display())))?;
    }
    let hostname = spec.hostname.clone().unwrap_or_else(|| "kubelab".into());
    let attached = match &prepared {
        Some(p) => Some(
            p.attach_lowers(staging)
                .map_err(|e| err("rootfs", format!("attach a lower layer: {e}")))?,
        ),
        None => None,
    };
    let lowers: Vec<PathBuf> = match &spec.rootfs {
        Rootfs::Host | Rootfs::Busybox => {
            // Top lower: this sandbox's hostname files; below it the shared
            // skeleton, or (no cache) a private copy built right here.
            let shared = match &attached {
                Some(a) => a.first().cloned(),
                None => src
                    .rundir
                    .and_then(|rundir| skeleton_cache(rundir, &spec.rootfs, src.id).ok()),
            };
            let built = match &shared {
                Some(_) => Ok(()),
                None => build_skeleton(&spec.rootfs, &lower),
            };
            built
                .and_then(|()| write_sandbox_etc(&lower.join("etc"), &hostname))
                .map_err(|e| err("rootfs", format!("skeleton: {e}")))?;
            std::iter::once(lower.clone()).chain(shared).collect()
        }
        Rootfs::Dir(d) => attached.unwrap_or_else(|| vec![d.clone()]),
        Rootfs::Oci(_) => {
            attached.unwrap_or_else(|| src.oci_layers.iter().rev().cloned().collect())
        }
    };
    crate::trace::mark("pid1: lower skeleton written");
    let lowerdir = lowers
        .iter()
        .map(|p| ovl_escape(p))
        .collect::<Vec<_>>()
        .join(":");
    let opts = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        ovl_escape(&upper),
        ovl_escape(&work)
    );
    let with_userxattr = format!("{opts},userxattr");
    if sys::mount(
        Some("overlay"),
        &root,
        Some("overlay"),
        0,
        Some(&with_userxattr),
    )
    .is_err()
    {
        sys::mount(Some("overlay"), &root, Some("overlay"), 0, Some(&opts)).map_err(|e| {
            err(
                "rootfs",
                format!(
                    "{e}; overlayfs inside a user namespace needs Linux >= 5.11 \
                     (see `kubelab doctor`)"
                ),
            )
        })?;
    }
    crate::trace::mark("pid1: overlay mounted");
    // Standard mountpoints, even in a foreign rootfs. Until pivot_root the
    // rootfs' symlinks resolve against the host (mount(2) and open(2)
    // follow them), so everything here goes through `InRoot`.
    let inroot =
        InRoot::open(&root).map_err(|e| err("rootfs", format!("{}: {e}", root.display())))?;
    for (d, mode) in [
        ("proc", 0o555),
        ("dev", 0o755),
        ("sys", 0o555),
        ("tmp", 0o1777),
    ] {
        // /tmp is never mounted on by kubelab: a link there may stay.
        mountpoint(&inroot, d, mode, d != "tmp")?;
    }
    match &spec.rootfs {
        Rootfs::Host => {
            for d in HOST_DIRS {
                let host = Path::new("/").join(d);
                if host.is_dir() && !host.is_symlink() {
                    bind(&host, &root.join(d), true, true)?;
                }
            }
            for d in HOST_ETC_DIRS {
                let host = Path::new("/etc").join(d);
                if host.is_dir() {
                    bind(&host, &root.join("etc").join(d), true, true)?;
                }
            }
        }
        Rootfs::Busybox => {
            bind(
                Path::new("/bin/busybox"),
                &root.join("bin/busybox"),
                true,
                false,
            )?;
        }
        Rootfs::Dir(_) | Rootfs::Oci(_) => {
            // Give a foreign rootfs a resolvable hostname, unless it has
            // something there (a file, or a link, which is left alone).
            // No /etc (or one that resolves nowhere inside): no hostname.
            let _ = inroot.create_new_file(
                Path::new("etc/hostname"),
                format!("{hostname}\n").as_bytes(),
                0o644,
            );
        }
    }
    crate::trace::mark("pid1: host dirs bound");
    before_sys()?;
    mount_proc_sys(spec, &root)?;
    crate::trace::mark("pid1: proc, sys mounted");
    mount_dev(&root)?;
    crate::trace::mark("pid1: dev built");
    // Bind sources are cloned as detached mounts before the pivot and
    // attached after it, so the targets resolve inside the new root (a
    // symlink in an image cannot point a mount at the host).
    let mut pending: Vec<(OwnedFd, bool, &Mount)> = Vec::new();
    let mut handed = prepared.map(|p| p.binds.into_iter());
    for m in &spec.mounts {
        if let Mount::Bind { source, .. } = m {
            if let Some(fd) = handed.as_mut().and_then(|h| h.next()) {
                // (The source path may not be searchable by this uid.)
                let is_dir = handed::is_dir(fd.as_fd());
                pending.push((fd, is_dir, m));
                continue;
            }
            let fd = sys::open_tree_clone(source).map_err(|e| {
                err(
                    "mounts",
                    format!(
                        "bind source {}: {e}; create it or fix the path",
                        source.display()
                    ),
                )
            })?;
            pending.push((fd, source.is_dir(), m));
        }
    }
    pivot(&root)?;
    crate::trace::mark("pid1: pivoted");
    let cloned = std::mem::take(&mut src.cloned_binds);
    for m in &spec.mounts {
        match m {
            Mount::Tmpfs { target, size } => {
                let t = inside(target);
                mkdirs(&t, 0o755)
                    .map_err(|e| err("mounts", format!("{}: {e}", target.display())))?;
                let data = size.map(|s| format!("size={},mode=1777", s.0));
                sys::mount(
                    Some("tmpfs"),
                    &t,
                    Some("tmpfs"),
                    MS_NOSUID | MS_NODEV,
                    data.as_deref(),
                )
                .map_err(|e| err("mounts", e))?;
            }
            Mount::Bind { .. } => {}
        }
    }
    let spec_binds = pending.iter().filter_map(|(fd, is_dir, m)| match m {
        Mount::Bind {
            target, readonly, ..
        } => Some((fd, *is_dir, target, *readonly)),
        Mount::Tmpfs { .. } => None,
    });
    let cloned_binds = cloned
        .iter()
        .map(|(fd, is_dir, target, ro)| (fd, *is_dir, target, *ro));
    for (fd, is_dir, target, readonly) in spec_binds.chain(cloned_binds) {
        let t = inside(target);
        if is_dir {
            mkdirs(&t, 0o755)
        } else {
            t.parent()
                .map(|p| mkdirs(p, 0o755))
                .unwrap_or(Ok(()))
                .and_then(|_| {
                    fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&t)
                        .map(drop)
                })
        }
        .map_err(|e| err("mounts", format!("target {}: {e}", target.display())))?;
        sys::move_mount_to(fd.as_fd(), &t).map_err(|e| {
            err(
                "mounts",
                format!("attach bind at {}: {e}", target.display()),
            )
        })?;
        // The clone is a slave of the source's host mount (every copy
        // on the way was made rslave): keep it for HostToContainer,
        // cut it otherwise.
        let propagation = if spec.slave_binds.iter().any(|s| s == target) {
            libc::MS_SLAVE
        } else {
            libc::MS_PRIVATE
        };
        sys::mount(None, &t, None, propagation | libc::MS_REC, None).map_err(|e| {
            err(
                "mounts",
                format!("propagation of the bind at {}: {e}", target.display()),
            )
        })?;
        if readonly {
            remount_ro(&t)?;
        }
    }
    if let Some(w) = &spec.workdir {
        let t = inside(w);
        if !t.is_dir() {
            mkdirs(&t, 0o755).map_err(|e| err("workdir", format!("{}: {e}", w.display())))?;
        }
    }
    if spec.readonly_rootfs {
        // The overlay's own mount only: /proc, /dev, tmpfs and writable
        // binds below it are mounts of their own and keep their flags.
        remount_ro(Path::new("/"))?;
    }
    Ok(())
}

/// Makes sure `/<name>` in the new root is a directory kubelab may mount on
/// (creating it with `mode` if absent). A symlink there would carry the
/// mount (and what kubelab then writes into it) to wherever it points on
/// the host, so it is refused when `mounted`.
fn mountpoint(root: &InRoot, name: &str, mode: u32, mounted: bool) -> Result<(), Error> {
    use rustix::fs::{FileType, Mode};
    let what = |e: io::Error| err("rootfs", format!("/{name}: {e}"));
    match file_type_at(root.fd(), name.as_ref()).map_err(what)? {
        None => {
            rustix::fs::mkdirat(root.fd(), name, Mode::from_raw_mode(0o700))
                .map_err(|e| what(e.into()))?;
            let fd = root.dir(Path::new(name)).map_err(what)?;
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode)).map_err(|e| what(e.into()))
        }
        Some(FileType::Directory) => Ok(()),
        Some(_) if !mounted => Ok(()),
        Some(t) => Err(err(
            "rootfs",
            format!(
                "/{name} is a {} in the rootfs; kubelab mounts /{name} before pivot_root and \
                 never follows a rootfs' links out of it: make /{name} a directory",
                if t == FileType::Symlink {
                    "symbolic link"
                } else {
                    "file, not a directory"
                }
            ),
        )),
    }
}

fn inside(p: &Path) -> PathBuf {
    Path::new("/").join(p.strip_prefix("/").unwrap_or(p))
}

fn pivot(root: &Path) -> Result<(), Error> {
    std::env::set_current_dir(root).map_err(|e| err("rootfs", format!("chdir: {e}")))?;
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching
    // it then leaves only the new root, with no put_old directory needed.
    sys::pivot_root(Path::new("."), Path::new("."))
        .map_err(|e| err("rootfs", format!("pivot_root: {e}")))?;
    sys::umount_detach(Path::new("."))
        .map_err(|e| err("rootfs", format!("detach the old root: {e}")))?;
    std::env::set_current_dir("/").map_err(|e| err("rootfs", format!("chdir /: {e}")))?;
    Ok(())
}
