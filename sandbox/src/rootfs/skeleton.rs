//! The generated lower layer of the `host` and `busybox` rootfs: a small
//! tree with /etc files, built once per runtime dir and shared read-only
//! ([`skeleton_cache`]), plus each sandbox's own /etc (hostname, resolver).

use super::mounts::mkdirs;
use crate::spec::Rootfs;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// Host directories made visible read-only by the `host` rootfs.
pub(super) const HOST_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Small host /etc files copied into the `host` rootfs (when present).
pub(super) const HOST_ETC_FILES: &[&str] = &[
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
/// Host /etc directories bound read-only (Debian's awk lives behind
/// /etc/alternatives; `openssl req` reads /etc/ssl/openssl.cnf, curl the
/// CA certificates; keys under /etc/ssl/private keep their host modes).
pub(super) const HOST_ETC_DIRS: &[&str] = &["alternatives", "terminfo", "profile.d", "ssl"];

/// The per-sandbox part of /etc (the top lower layer): the hostname, and a
/// fresh copy of the host's resolver config, which DHCP may rewrite any time.
pub(super) fn write_sandbox_etc(etc: &Path, hostname: &str) -> io::Result<()> {
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

pub(super) fn build_skeleton(rootfs: &Rootfs, dir: &Path) -> io::Result<()> {
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

/// Names of the shared skeleton caches in the runtime dir (swept by
/// `process/runtime.rs`).
pub(crate) const SKELETON_PREFIX: &str = ".skel-";
pub(crate) const SKELETON_TMP_PREFIX: &str = ".skel-tmp-";
