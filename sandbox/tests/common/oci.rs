//! Builds OCI layouts with hand-made (hostile) layers for the attack tests.

use std::path::Path;

/// Stores `content` as a sha256 blob, returns its digest.
pub fn put_blob(dir: &Path, content: &[u8]) -> String {
    use sha2::Digest;
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let hex: String = sha2::Sha256::digest(content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(blobs.join(&hex), content).unwrap();
    format!("sha256:{hex}")
}

/// A manifest blob listing `layers` (plain tar), returns its digest.
pub fn manifest(dir: &Path, layers: &[Vec<u8>]) -> String {
    let config = put_blob(dir, b"{}");
    let layers: Vec<String> = layers
        .iter()
        .map(|l| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}"#,
                put_blob(dir, l),
                l.len()
            )
        })
        .collect();
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":2}},"layers":[{}]}}"#,
        layers.join(",")
    );
    put_blob(dir, m.as_bytes())
}

/// Writes `index.json` listing these manifests (digest, optional platform).
pub fn index(dir: &Path, manifests: &[(String, Option<(&str, &str)>)]) {
    let list: Vec<String> = manifests
        .iter()
        .map(|(d, plat)| {
            let p = plat
                .map(|(os, arch)| {
                    format!(r#","platform":{{"os":"{os}","architecture":"{arch}"}}"#)
                })
                .unwrap_or_default();
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":1{p}}}"#
            )
        })
        .collect();
    std::fs::write(
        dir.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, list.join(",")),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A one-manifest layout with these layers.
pub fn image(dir: &Path, layers: &[Vec<u8>]) {
    let m = manifest(dir, layers);
    index(dir, &[(m, None)]);
}

/// A tar built entry by entry with raw header fields, so paths the `tar`
/// crate's builder refuses (`..`, absolute) can be written.
pub struct Layer {
    b: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Self {
        Self {
            b: tar::Builder::new(Vec::new()),
        }
    }

    /// Appends one entry with `path` and `link` copied byte for byte.
    pub fn raw(
        &mut self,
        kind: tar::EntryType,
        path: &str,
        link: &str,
        mode: u32,
        data: &[u8],
    ) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_uid(1234);
        h.set_gid(1234);
        h.set_mtime(1_600_000_000);
        let old = h.as_old_mut();
        old.name[..path.len()].copy_from_slice(path.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.raw(tar::EntryType::Regular, path, "", 0o644, data)
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.raw(tar::EntryType::Directory, path, "", 0o755, b"")
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.raw(tar::EntryType::Symlink, path, target, 0o777, b"")
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.raw(tar::EntryType::Link, path, target, 0o644, b"")
    }

    pub fn finish(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}
