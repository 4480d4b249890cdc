//! `image:` → what the node runs. Images are never pulled: `host` (a
//! read-only view of the host's system), `busybox` (the host's static
//! busybox, whatever the tag) or an image the node holds as a local OCI
//! layout under a reference such as `alpine:3.20`.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A resolved image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// kubelab's `host` rootfs.
    Host,
    /// kubelab's `busybox` rootfs (`/bin/busybox`, static).
    Busybox,
    /// An OCI image layout directory and the reference it was found under.
    OciLayout { reference: String, path: PathBuf },
}

/// What the node has, given by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageCatalog {
    /// A static busybox is installed.
    pub busybox: bool,
    /// Local OCI layouts by reference (`alpine:3.20`, `localhost/web:1`).
    pub oci: BTreeMap<String, PathBuf>,
}

/// Drops Docker Hub's implicit parts (`docker.io/`, `library/`) and adds
/// `:latest` when there is neither tag nor digest, so that `nginx`,
/// `docker.io/library/nginx` and `nginx:latest` are one image.
pub fn normalize(reference: &str) -> String {
    let r = reference.strip_prefix("docker.io/").unwrap_or(reference);
    let r = r.strip_prefix("library/").unwrap_or(r);
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') || last.contains('@') {
        r.to_string()
    } else {
        format!("{r}:latest")
    }
}

/// The repository part of a reference: without tag or digest.
fn repository(reference: &str) -> String {
    let base = reference.split('@').next().unwrap_or(reference);
    match base.rsplit_once('/') {
        Some((head, tail)) => format!("{head}/{}", tail.split(':').next().unwrap_or(tail)),
        None => base.split(':').next().unwrap_or(base).to_string(),
    }
}

impl ImageCatalog {
    /// Every name `image:` can take here, for messages and `doctor`.
    pub fn available(&self) -> Vec<String> {
        let mut v = vec!["host".to_string()];
        if self.busybox {
            v.push("busybox".into());
        }
        v.extend(self.oci.keys().cloned());
        v
    }

    /// Resolves a manifest's `image:`; the error says what is available.
    pub fn resolve(&self, image: &str) -> Result<Image, String> {
        if image == "host" {
            return Ok(Image::Host);
        }
        let wanted = normalize(image);
        for (reference, path) in &self.oci {
            if normalize(reference) == wanted {
                return Ok(Image::OciLayout {
                    reference: reference.clone(),
                    path: path.clone(),
                });
            }
        }
        if repository(&wanted) == "busybox" {
            if self.busybox {
                return Ok(Image::Busybox);
            }
            return Err("image \"busybox\" needs a static busybox at /bin/busybox on the node; install it (Debian: apt-get install busybox-static), or use image: host".into());
        }
        Err(format!(
            "image {} is not on this node (images are never pulled); available: {}. To add one: skopeo copy docker://IMAGE oci:DIR:TAG, then give DIR to the node",
            super::quote(image),
            self.available().join(", "),
        ))
    }
}
