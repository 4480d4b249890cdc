//! OCI image layouts: index.json -> manifest -> layer blobs, each layer
//! unpacked once into a cache directory keyed by its digest, then stacked as
//! overlay lower layers. Unpacking treats the layer as hostile (see
//! [`super::layer`]); the cache is private to the user who unpacks
//! ([`private_cache_dir`]).

use crate::error::{Error, Result};
use serde::Deserialize;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(v) => write!(f, "/{v}"),
            None => Ok(()),
        }
    }
}

/// This machine as OCI names it (GOOS/GOARCH).
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "loongarch64" => "loong64",
        a => a,
    };
    ("linux", arch)
}

/// The entry of an index for this machine: the one whose platform matches
/// the host's OS and architecture; an index whose entries name no platform
/// (one image) gives its first. Attestations (`unknown/unknown`) never match.
fn pick<'a>(dir: &Path, list: &'a [Descriptor]) -> Result<&'a Descriptor> {
    let (os, arch) = host_platform();
    if let Some(d) = list.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os == os && p.architecture == arch)
    }) {
        return Ok(d);
    }
    if let Some(d) = list.iter().find(|d| d.platform.is_none()) {
        return Ok(d);
    }
    let have: Vec<String> = list
        .iter()
        .filter_map(|d| d.platform.as_ref().map(|p| p.to_string()))
        .take(16)
        .collect();
    Err(Error::new(
        "rootfs",
        format!(
            "oci:{}: the image has no {os}/{arch} variant for this machine (it has: {}); \
             export that one, e.g. skopeo copy --override-arch {arch} docker://IMAGE oci:{}:latest",
            dir.display(),
            if have.is_empty() {
                "nothing".to_string()
            } else {
                have.join(", ")
            },
            dir.display()
        ),
    ))
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// The digest algorithms of the OCI spec, with their hex lengths.
const ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha512", 128)];

fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf> {
    let malformed = || {
        Error::new(
            "rootfs",
            format!(
                "oci:{}: malformed digest `{digest}` (expected sha256:<64 hex digits> \
                 or sha512:<128 hex digits>); the layout's JSON is damaged, export the \
                 image again",
                dir.display()
            ),
        )
    };
    let (algo, hex) = digest.split_once(':').ok_or_else(malformed)?;
    let known = ALGORITHMS
        .iter()
        .any(|&(a, len)| a == algo && hex.len() == len);
    if !known || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(malformed());
    }
    let p = dir.join("blobs").join(algo).join(hex);
    if !p.is_file() {
        return Err(Error::new(
            "rootfs",
            format!(
                "oci:{}: blob {digest} is missing (expected at {}); the layout is incomplete, \
                 export the image again (e.g. skopeo copy docker://IMAGE oci:{}:latest)",
                dir.display(),
                p.display(),
                dir.display()
            ),
        ));
    }
    Ok(p)
}

/// Hex digest of everything `r` yields, with the digest's algorithm.
fn hash(algo: &str, mut r: impl Read) -> io::Result<String> {
    use sha2::Digest;
    fn run<D: sha2::Digest>(mut d: D, r: &mut dyn Read) -> io::Result<String> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match r.read(&mut buf)? {
                0 => break,
                n => d.update(&buf[..n]),
            }
        }
        Ok(d.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>())
    }
    match algo {
        "sha512" => run(sha2::Sha512::new(), &mut r),
        _ => run(sha2::Sha256::new(), &mut r),
    }
}

/// Checks a blob's content against its digest: a corrupt or tampered
/// layer must not become a sandbox's root filesystem.
fn verify(dir: &Path, digest: &str, content: impl Read) -> Result<()> {
    let (algo, want) = digest.split_once(':').unwrap_or(("sha256", digest));
    let got = hash(algo, content)
        .map_err(|e| Error::io("rootfs", format!("oci:{}: blob {digest}", dir.display()), e))?;
    if !got.eq_ignore_ascii_case(want) {
        return Err(Error::new(
            "rootfs",
            format!(
                "oci:{}: blob {digest} does not match its content ({algo}:{got}); the blob is \
                 corrupt or was changed, export the image again (e.g. skopeo copy \
                 docker://IMAGE oci:{}:latest)",
                dir.display(),
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// Reads a JSON blob named by `digest`, verified.
fn read_json_blob<T: for<'de> Deserialize<'de>>(dir: &Path, digest: &str) -> Result<T> {
    let p = blob_path(dir, digest)?;
    let b = fs::read(&p).map_err(|e| {
        Error::io(
            "rootfs",
            format!("oci:{}: {}", dir.display(), p.display()),
            e,
        )
    })?;
    verify(dir, digest, &b[..])?;
    parse_json(dir, &p, &b)
}

fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, p: &Path) -> Result<T> {
    let b = fs::read(p).map_err(|e| {
        Error::io(
            "rootfs",
            format!("oci:{}: {}", dir.display(), p.display()),
            e,
        )
    })?;
    parse_json(dir, p, &b)
}

fn parse_json<T: for<'de> Deserialize<'de>>(dir: &Path, p: &Path, b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| {
        Error::new(
            "rootfs",
            format!(
                "oci:{}: {} is not valid OCI JSON: {e}",
                dir.display(),
                p.display()
            ),
        )
    })
}

/// Resolves the image's layers and unpacks any not yet in `cache`.
/// Returns the layer directories, bottom layer first.
pub fn prepare(dir: &Path, cache: &Path) -> Result<Vec<PathBuf>> {
    let dir = fs::canonicalize(dir)
        .map_err(|e| Error::io("rootfs", format!("oci:{}", dir.display()), e))?;
    let index: Index = read_json(&dir, &dir.join("index.json"))?;
    if index.manifests.is_empty() {
        return Err(Error::new(
            "rootfs",
            format!("oci:{}: index.json lists no manifests", dir.display()),
        ));
    }
    let mut manifest: Manifest = read_json_blob(&dir, &pick(&dir, &index.manifests)?.digest)?;
    // A nested index (multi-platform): the entry for this machine.
    let mut depth = 0;
    while manifest.layers.is_empty() && !manifest.manifests.is_empty() && depth < 4 {
        let d = pick(&dir, &manifest.manifests)?;
        manifest = read_json_blob(&dir, &d.digest)?;
        depth += 1;
    }
    if manifest.layers.is_empty() {
        return Err(Error::new(
            "rootfs",
            format!("oci:{}: the image manifest has no layers", dir.display()),
        ));
    }
    // Check every blob first, so a missing one fails before any unpacking.
    let blobs: Vec<(PathBuf, &Descriptor)> = manifest
        .layers
        .iter()
        .map(|l| blob_path(&dir, &l.digest).map(|p| (p, l)))
        .collect::<Result<_>>()?;
    private_cache_dir(cache)?;
    let mut out = Vec::new();
    for (blob, desc) in blobs {
        let key = cache_key(&desc.digest);
        let target = cache.join(&key);
        if !target.is_dir() {
            // Verified once, when unpacked: the cache entry is named by
            // the digest it matched.
            let content =
                fs::File::open(&blob).map_err(|e| Error::io("rootfs", blob.display(), e))?;
            verify(&dir, &desc.digest, io::BufReader::new(content))?;
            let tmp = cache.join(format!(".tmp-{key}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&tmp);
            fs::create_dir_all(&tmp).map_err(|e| Error::io("rootfs", tmp.display(), e))?;
            if let Err(e) = unpack_layer(&blob, &desc.media_type, &tmp) {
                let _ = fs::remove_dir_all(&tmp);
                return Err(Error::new(
                    "rootfs",
                    format!("oci:{}: layer {}: {e}", dir.display(), desc.digest),
                ));
            }
            if fs::rename(&tmp, &target).is_err() {
                // Another process unpacked the same layer meanwhile.
                let _ = fs::remove_dir_all(&tmp);
            }
        }
        out.push(target);
    }
    Ok(out)
}

/// The cache entry of a layer. `v2-`: unpacked by [`super::layer`] (no
/// set-id bits, no ownership from the tarball); older entries are never
/// reused.
pub fn cache_key(digest: &str) -> String {
    format!("v2-{}", digest.replace(':', "-"))
}

/// Creates (or checks) the OCI cache: a directory of the caller's, mode
/// 0700, so no other host user can read or run what images hold. An
/// existing one that is wider is narrowed; one that someone else owns (e.g.
/// planted in /tmp) or a symlink is refused.
fn private_cache_dir(cache: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let fail = |e: io::Error| Error::io("rootfs", format!("OCI cache {}", cache.display()), e);
    if let Some(parent) = cache.parent() {
        fs::create_dir_all(parent).map_err(fail)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(cache) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(fail(e)),
        _ => {}
    }
    let m = fs::symlink_metadata(cache).map_err(fail)?;
    let me = crate::sys::geteuid();
    if !m.is_dir() || m.uid() != me {
        return Err(Error::new(
            "rootfs",
            format!(
                "OCI cache {}: {} owned by uid {}, not by you (uid {me}); another user may \
                 have planted it. Remove it, or pass a cache directory of your own",
                cache.display(),
                if m.is_dir() {
                    "a directory"
                } else {
                    "not a directory, and"
                },
                m.uid()
            ),
        ));
    }
    if m.mode() & 0o7777 != 0o700 {
        fs::set_permissions(cache, fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

fn is_gzip(blob: &Path, media_type: &str) -> io::Result<bool> {
    if media_type.ends_with("+gzip") || media_type.ends_with(".gzip") {
        return Ok(true);
    }
    let mut magic = [0u8; 2];
    let mut f = fs::File::open(blob)?;
    let n = f.read(&mut magic)?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

fn unpack_layer(blob: &Path, media_type: &str, dest: &Path) -> io::Result<()> {
    if media_type.ends_with("+zstd") {
        return Err(io::Error::other(
            "zstd-compressed layers are not supported; export with gzip layers",
        ));
    }
    let f = fs::File::open(blob)?;
    if is_gzip(blob, media_type)? {
        super::layer::unpack(flate2::read::GzDecoder::new(io::BufReader::new(f)), dest)
    } else {
        super::layer::unpack(io::BufReader::new(f), dest)
    }
}
