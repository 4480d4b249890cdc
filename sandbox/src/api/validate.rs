//! The checks a spec passes before anything is started, so bad input fails
//! fast, names its field, and leaves nothing behind.

use crate::error::{Error, Result};
use crate::spec::{Mount, Namespace, Rootfs, Spec};
use std::path::Path;

/// Checks what can be checked before anything is started, so bad input fails
/// fast and leaves nothing behind.
pub fn validate(spec: &Spec) -> Result<()> {
    match &spec.rootfs {
        Rootfs::Host => {}
        Rootfs::Busybox => {
            if !Path::new("/bin/busybox").is_file() {
                return Err(Error::new(
                    "rootfs",
                    "`busybox` needs a static busybox at /bin/busybox; install it \
                     (Debian: apt-get install busybox-static) or use rootfs = \"host\"",
                ));
            }
        }
        Rootfs::Dir(d) => {
            if !d.is_absolute() {
                return Err(Error::new(
                    "rootfs",
                    format!("`{}` must be an absolute path", d.display()),
                ));
            }
            if !d.is_dir() {
                return Err(Error::new(
                    "rootfs",
                    format!(
                        "directory `{}` does not exist; create it or use rootfs = \"host\"",
                        d.display()
                    ),
                ));
            }
        }
        Rootfs::Oci(d) => {
            if !d.join("index.json").is_file() {
                return Err(Error::new(
                    "rootfs",
                    format!(
                        "`{}` is not an OCI image layout (no index.json); export one with \
                         e.g. `skopeo copy docker://busybox oci:{}:latest`",
                        d.display(),
                        d.display()
                    ),
                ));
            }
        }
    }
    if !spec.namespaces.contains(&Namespace::Mount)
        && (spec.rootfs != Rootfs::Host || !spec.mounts.is_empty())
    {
        return Err(Error::new(
            "namespaces",
            "a rootfs other than `host` and extra mounts need the `mount` namespace",
        ));
    }
    if let Some(h) = &spec.hostname {
        if h.is_empty() || h.len() > 64 || h.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(Error::new(
                "hostname",
                format!("`{h}` is not a valid hostname (1-64 characters, no spaces or /)"),
            ));
        }
    }
    for m in &spec.mounts {
        match m {
            Mount::Bind { source, target, .. } => {
                if !source.exists() {
                    return Err(Error::new(
                        "mounts",
                        format!(
                            "bind source `{}` does not exist on the host",
                            source.display()
                        ),
                    ));
                }
                if !target.is_absolute() {
                    return Err(Error::new(
                        "mounts",
                        format!("target `{}` must be absolute", target.display()),
                    ));
                }
            }
            Mount::Tmpfs { target, .. } => {
                if !target.is_absolute() {
                    return Err(Error::new(
                        "mounts",
                        format!("target `{}` must be absolute", target.display()),
                    ));
                }
            }
        }
    }
    for t in &spec.slave_binds {
        let is_bind = |m: &Mount| matches!(m, Mount::Bind { target, .. } if target == t);
        if !spec.mounts.iter().any(is_bind) {
            return Err(Error::new(
                "slave_binds",
                format!("`{}` is not the target of a bind in `mounts`", t.display()),
            ));
        }
    }
    if let Some(w) = &spec.workdir {
        if !w.is_absolute() {
            return Err(Error::new(
                "workdir",
                format!("`{}` must be an absolute path", w.display()),
            ));
        }
    }
    if spec.command.first().is_some_and(|c| c.is_empty()) {
        return Err(Error::new("command", "the program name is empty"));
    }
    Ok(())
}
