//! Builds the sandbox's root filesystem inside its new mount namespace and
//! pivots into it. Runs in the sandbox's PID 1 before the payload starts.
//!
//! The root is an overlay: lower = a small generated tree (`host`, `busybox`),
//! a directory, or unpacked OCI layers; upper + work on the staging tmpfs the
//! supervisor mounted, so every write lands in memory and is visible to the host
//! through the supervisor's mount namespace.

use crate::error::Error;
use crate::inroot::{file_type_at, InRoot};
use crate::protocol::InitConfig;
use crate::spec::{Mount, Rootfs};
use crate::sys;
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{symlink, DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

const MS_NOSUID: libc::c_ulong = libc::MS_NOSUID;
const MS_NODEV: libc::c_ulong = libc::MS_NODEV;
const MS_NOEXEC: libc::c_ulong = libc::MS_NOEXEC;

/// Host directories made visible read-only by the `host` rootfs.
const HOST_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Small host /etc files copied into the `host` rootfs (when present).
const HOST_ETC_FILES: &[&str] = &[
    "ld.so.cache",
    "localtime",
    "inputrc",
    "bash.bashrc",
    "profile",
    "os-release",
    "debian_version",
    "login.defs",
    "shells",
    "issue",
    "timezone",
];
/// Host /etc directories bound read-only (Debian's awk lives behind /etc/alternatives).
const HOST_ETC_DIRS: &[&str] = &["alternatives", "terminfo", "profile.d"];
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

fn err(field: &str, what: impl std::fmt::Display) -> Error {
    Error::new(field, what.to_string())
}

fn mkdirs(p: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(p)
}

/// Escapes a path for overlayfs' comma/colon separated options.
fn ovl_escape(p: &Path) -> String {
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

/// Sets up the whole filesystem and pivots into it. `staging` is the tmpfs.
/// `before_sys` runs just before /sys is mounted (PID 1 joins its network
/// namespace there: sysfs shows the mounter's network namespace and may only
/// be mounted from one owned by our user namespace).
///
/// `prepared` (a root-started sandbox, see [`crate::idmap`]): the lower
/// layers and bind sources as detached mounts from the supervisor, used
/// instead of opening those paths as the sandbox's unprivileged uid.
pub fn build(
    cfg: &InitConfig,
    staging: &Path,
    before_sys: &mut dyn FnMut() -> Result<(), Error>,
    prepared: Option<crate::idmap::Prepared>,
) -> Result<(), Error> {
    let spec = &cfg.spec;
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
                None => cfg
                    .sandbox_dir
                    .parent()
                    .and_then(|rundir| skeleton_cache(rundir, &spec.rootfs, &cfg.id).ok()),
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
            attached.unwrap_or_else(|| cfg.oci_layers.iter().rev().cloned().collect())
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
                let is_dir = crate::idmap::is_dir(fd.as_fd());
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
    for (fd, is_dir, m) in &pending {
        if let Mount::Bind {
            target, readonly, ..
        } = m
        {
            let t = inside(target);
            if *is_dir {
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
            if *readonly {
                remount_ro(&t)?;
            }
        }
    }
    if let Some(w) = &spec.workdir {
        let t = inside(w);
        if !t.is_dir() {
            mkdirs(&t, 0o755).map_err(|e| err("workdir", format!("{}: {e}", w.display())))?;
        }
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

/// Bind-mounts `src` on `dst`, read-only if asked. The read-only remount must
/// repeat the flags the kernel locked on the source (nosuid, nodev, atime...)
/// or a user namespace gets EPERM.
fn bind(src: &Path, dst: &Path, readonly: bool, recursive: bool) -> Result<(), Error> {
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
fn remount_ro(dst: &Path) -> Result<(), Error> {
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

fn mount_proc_sys(spec: &crate::spec::Spec, root: &Path) -> Result<(), Error> {
    use crate::spec::Namespace;
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
    crate::masks::apply(root, spec.namespaces.contains(&Namespace::Net))
}

fn mount_dev(root: &Path) -> Result<(), Error> {
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

/// The per-sandbox part of /etc (the top lower layer): the hostname, and a
/// fresh copy of the host's resolver config, which DHCP may rewrite any time.
fn write_sandbox_etc(etc: &Path, hostname: &str) -> io::Result<()> {
    mkdirs(etc, 0o755)?;
    let resolv = fs::read("/etc/resolv.conf").unwrap_or_default();
    fs::write(etc.join("resolv.conf"), resolv)?;
    fs::write(
        etc.join("hosts"),
        format!("127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{hostname}\n"),
    )?;
    fs::write(etc.join("hostname"), format!("{hostname}\n"))
}

fn write_etc(etc: &Path, shell: &str) -> io::Result<()> {
    mkdirs(etc, 0o755)?;
    fs::write(
        etc.join("passwd"),
        format!(
            "root:x:0:0:root:/root:{shell}\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
    )?;
    fs::write(etc.join("group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")?;
    fs::write(
        etc.join("nsswitch.conf"),
        "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n",
    )?;
    Ok(())
}

fn host_skeleton(lower: &Path) -> io::Result<()> {
    for (d, mode) in [
        ("", 0o755),
        ("root", 0o700),
        ("home", 0o755),
        ("tmp", 0o1777),
        ("run", 0o755),
        ("var", 0o755),
        ("var/tmp", 0o1777),
        ("var/log", 0o755),
        ("mnt", 0o755),
        ("opt", 0o755),
        ("srv", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
    ] {
        let p = lower.join(d);
        mkdirs(&p, mode)?;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
    }
    for d in HOST_DIRS {
        let host = Path::new("/").join(d);
        if let Ok(target) = fs::read_link(&host) {
            symlink(target, lower.join(d))?;
        } else if host.is_dir() {
            mkdirs(&lower.join(d), 0o755)?;
        }
    }
    let etc = lower.join("etc");
    write_etc(&etc, "/bin/bash")?;
    for f in HOST_ETC_FILES {
        let host = Path::new("/etc").join(f);
        if let Ok(t) = fs::read_link(&host) {
            symlink(t, etc.join(f))?;
        } else if host.is_file() {
            let _ = fs::copy(&host, etc.join(f));
        }
    }
    for d in HOST_ETC_DIRS {
        if Path::new("/etc").join(d).is_dir() {
            mkdirs(&etc.join(d), 0o755)?;
        }
    }
    fs::write(
        lower.join("root/.bashrc"),
        "PS1='\\u@\\h:\\w\\$ '\nalias ls='ls --color=auto'\n",
    )?;
    Ok(())
}

fn busybox_skeleton(lower: &Path) -> io::Result<()> {
    for (d, mode) in [
        ("", 0o755),
        ("bin", 0o755),
        ("sbin", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("root", 0o700),
        ("tmp", 0o1777),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("var/tmp", 0o1777),
    ] {
        let p = lower.join(d);
        mkdirs(&p, mode)?;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
    }
    fs::write(lower.join("bin/busybox"), b"")?;
    let out = std::process::Command::new("/bin/busybox")
        .arg("--list-full")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let rel = line.trim().trim_start_matches('/');
        if rel.is_empty() || rel == "bin/busybox" {
            continue;
        }
        let p = lower.join(rel);
        if let Some(parent) = p.parent() {
            mkdirs(parent, 0o755)?;
        }
        let _ = symlink("/bin/busybox", &p);
    }
    write_etc(&lower.join("etc"), "/bin/sh")?;
    Ok(())
}

fn build_skeleton(rootfs: &Rootfs, dir: &Path) -> io::Result<()> {
    match rootfs {
        Rootfs::Busybox => busybox_skeleton(dir),
        _ => host_skeleton(dir),
    }
}

/// Bump when the skeletons' content changes, so old caches are not reused.
const SKELETON_VERSION: u32 = 2;

/// A key that changes whenever a host file the skeleton copies or mirrors
/// does (e.g. an apt upgrade rewrites ld.so.cache): a few `lstat`s per spawn.
/// sha256 over a fixed byte layout: the key names a directory on disk, so
/// it must not change with the Rust release (std's `DefaultHasher` may).
fn skeleton_key(rootfs: &Rootfs) -> String {
    use sha2::Digest;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    // Copied files: their content counts. Mirrored directories: only whether
    // they exist or are symlinks (their own mtime changes with every package
    // install, their content is bound at spawn time, not copied).
    let (copied, mirrored): (Vec<PathBuf>, Vec<PathBuf>) = if *rootfs == Rootfs::Busybox {
        (vec!["/bin/busybox".into()], Vec::new())
    } else {
        (
            HOST_ETC_FILES
                .iter()
                .map(|f| Path::new("/etc").join(f))
                .collect(),
            HOST_ETC_DIRS
                .iter()
                .map(|d| Path::new("/etc").join(d))
                .chain(HOST_DIRS.iter().map(|d| Path::new("/").join(d)))
                .collect(),
        )
    };
    let mut h = sha2::Sha256::new();
    h.update(SKELETON_VERSION.to_le_bytes());
    for p in copied.iter().chain(&mirrored) {
        h.update(p.as_os_str().as_bytes());
        h.update([0]);
        match fs::symlink_metadata(p) {
            Ok(m) => {
                h.update([u8::from(m.file_type().is_dir())]);
                if copied.contains(p) {
                    for n in [m.ino(), m.size(), u64::from(m.mode())] {
                        h.update(n.to_le_bytes());
                    }
                    for n in [m.mtime(), m.mtime_nsec()] {
                        h.update(n.to_le_bytes());
                    }
                }
            }
            Err(_) => h.update([2]),
        }
        if let Ok(t) = fs::read_link(p) {
            h.update(t.as_os_str().as_bytes());
        }
        h.update([0]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hostname-independent `host`/`busybox` lower layer, built once per
/// runtime dir and shared read-only by every sandbox (overlay never writes
/// to a lower). Building it took ~150 file operations per spawn (the busybox
/// one also a fork+exec of `busybox --list-full` and ~400 symlinks).
/// `<rundir>/.skel-<kind>-<key>`; built under a temporary name and renamed,
/// so concurrent spawns never see a half-built one.
pub(crate) fn skeleton_cache(rundir: &Path, rootfs: &Rootfs, id: &str) -> io::Result<PathBuf> {
    let kind = if *rootfs == Rootfs::Busybox {
        "busybox"
    } else {
        "host"
    };
    let dir = rundir.join(format!("{SKELETON_PREFIX}{kind}-{}", skeleton_key(rootfs)));
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = rundir.join(format!("{SKELETON_TMP_PREFIX}{id}"));
    let built = build_skeleton(rootfs, &tmp).and_then(|()| fs::rename(&tmp, &dir));
    match built {
        Ok(()) => Ok(dir),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            // Another sandbox may have won the race.
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(e)
            }
        }
    }
}

/// Names of the shared skeleton caches in the runtime dir (see [`crate::runtime::sweep`]).
pub(crate) const SKELETON_PREFIX: &str = ".skel-";
pub(crate) const SKELETON_TMP_PREFIX: &str = ".skel-tmp-";
