//! Hostile image layers, built in each test: unpacking must never touch
//! anything outside the layer's cache directory (issue 14, hole 4).

mod common;

use common::oci::{image, Layer};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A temp dir with `img/`, `cache/` and a `victim/` beside them holding a
/// file, a directory with a file, and a "secret".
struct Scene {
    _tmp: tempfile::TempDir,
    img: PathBuf,
    cache: PathBuf,
    victim: PathBuf,
}

fn scene() -> Scene {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::create_dir_all(victim.join("dir")).unwrap();
    std::fs::set_permissions(
        victim.join("dir"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(victim.join("file"), "keep").unwrap();
    std::fs::write(victim.join("dir/inner"), "keep").unwrap();
    std::fs::write(victim.join("secret"), "secret").unwrap();
    std::fs::set_permissions(
        victim.join("secret"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    Scene {
        img: tmp.path().join("img"),
        cache: tmp.path().join("cache"),
        victim,
        _tmp: tmp,
    }
}

impl Scene {
    fn v(&self) -> String {
        self.victim.to_str().unwrap().to_string()
    }

    /// Unpacks; the result is returned, the victim checked either way.
    fn unpack(&self, layers: &[Vec<u8>]) -> Result<Vec<PathBuf>, String> {
        image(&self.img, layers);
        let r = kubelab_sandbox::oci::prepare(&self.img, &self.cache).map_err(|e| e.to_string());
        self.victim_untouched();
        r
    }

    fn victim_untouched(&self) {
        let v = &self.victim;
        assert_eq!(std::fs::read_to_string(v.join("file")).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(v.join("dir/inner")).unwrap(),
            "keep"
        );
        let secret = std::fs::metadata(v.join("secret")).unwrap();
        assert_eq!(secret.nlink(), 1, "a hard link to the victim's secret");
        assert_eq!(secret.mode() & 0o7777, 0o644);
        let dir = std::fs::metadata(v.join("dir")).unwrap();
        assert_eq!(dir.mode() & 0o7777, 0o755, "the victim's dir was chmod'ed");
        let mut names: Vec<_> = std::fs::read_dir(v)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["dir", "file", "secret"], "victim dir changed");
        for p in [v.clone(), v.join("dir")] {
            for x in ["user.overlay.opaque", "trusted.overlay.opaque"] {
                let mut buf = [0u8; 8];
                assert!(
                    rustix::fs::lgetxattr(&p, x, &mut buf).is_err(),
                    "{x} set on {}",
                    p.display()
                );
            }
        }
    }
}

fn only_layer(layers: &[PathBuf]) -> &Path {
    assert_eq!(layers.len(), 1);
    &layers[0]
}

#[test]
fn whiteouts_through_a_symlink_stay_inside() {
    let s = scene();
    let v = s.v();
    let layer = Layer::new()
        .symlink("x", &v)
        .file("x/.wh.file", b"")
        .symlink("y", &format!("{v}/"))
        .file("y/.wh.dir", b"")
        .symlink("z", &v)
        .file("z/.wh..wh..opq", b"")
        .symlink("r", "../../../../../../../..")
        .file(&format!("r{v}/.wh.secret"), b"")
        .finish();
    // Succeeding or refusing are both fine; the victim is checked either way.
    let _ = s.unpack(&[layer]);
}

#[test]
fn files_and_dirs_through_a_symlink_stay_inside() {
    let s = scene();
    let v = s.v();
    let layer = Layer::new()
        .symlink("x", &v)
        .file("x/planted", b"pwned")
        .raw(tar::EntryType::Directory, "x/newdir/", "", 0o755, b"")
        .symlink("up", "../../../../../../../../")
        .file(&format!("up{v}/planted2"), b"pwned")
        .symlink("x2", &format!("{v}/file"))
        .file("x2", b"replaced, not written through")
        .raw(tar::EntryType::Directory, "d/", "", 0o777, b"")
        .symlink("d", &format!("{v}/dir"))
        .finish();
    let layers = s.unpack(&[layer]).expect("resolvable inside the layer");
    let l = only_layer(&layers);
    // What the sandbox would see: the symlinks resolve inside the layer.
    assert_eq!(
        std::fs::read_to_string(l.join(v.trim_start_matches('/')).join("planted")).unwrap(),
        "pwned"
    );
    assert!(std::fs::symlink_metadata(l.join("x2")).unwrap().is_file());
}

#[test]
fn hard_links_cannot_reach_outside() {
    for target in [
        "l",
        "VICTIM/secret",
        "../../../../../../../../VICTIM/secret",
        "s/secret",
    ] {
        let s = scene();
        let v = s.v();
        let t = target.replace("VICTIM", v.trim_start_matches('/'));
        let t = if target.starts_with("VICTIM") {
            format!("/{t}")
        } else {
            t
        };
        let layer = Layer::new().symlink("s", &v).hardlink("h", &t).finish();
        let _ = s.unpack(&[layer]);
    }
}

#[test]
fn dotdot_paths_are_refused_and_absolute_ones_land_inside() {
    let s = scene();
    let v = s.v();
    let rel_up = "../".repeat(12) + v.trim_start_matches('/') + "/escaped";
    let layer = Layer::new().file(&rel_up, b"pwned").finish();
    let e = s.unpack(&[layer]).expect_err("`..` in a layer");
    assert!(e.contains("`..`"), "{e}");
    let s = scene();
    let layer = Layer::new().file(&format!("{v}/abs"), b"inside").finish();
    let layers = s.unpack(&[layer]).unwrap();
    let inside = only_layer(&layers)
        .join(v.trim_start_matches('/'))
        .join("abs");
    assert_eq!(std::fs::read_to_string(inside).unwrap(), "inside");
}

#[test]
fn a_layer_declaring_terabytes_is_refused_with_a_clear_error() {
    let s = scene();
    // A header claiming 2 TiB followed by a few bytes: nothing is written
    // beyond the bound, the error says why.
    let mut h = tar::Header::new_gnu();
    h.set_path("big").unwrap();
    h.set_size(2 << 40);
    h.set_mode(0o644);
    h.set_cksum();
    let mut layer = h.as_bytes().to_vec();
    layer.extend_from_slice(&[0u8; 4096]);
    let e = s.unpack(&[layer]).expect_err("a 2 TiB layer");
    assert!(e.contains("too large"), "{e}");
    assert!(e.contains("big"), "{e}");
}

#[test]
fn a_huge_long_name_is_refused_before_it_is_read() {
    let s = scene();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(0);
    h.set_entry_type(tar::EntryType::Regular);
    let long = "d/".repeat(300_000) + "f";
    b.append_data(&mut h, &long, &b""[..]).unwrap();
    let e = s
        .unpack(&[b.into_inner().unwrap()])
        .expect_err("a 600 kB path");
    assert!(e.contains("long name"), "{e}");
}

#[test]
fn device_nodes_from_an_image_are_not_created() {
    let s = scene();
    let mut l = Layer::new();
    l.raw(tar::EntryType::Char, "mem", "", 0o666, b"");
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Block);
    h.set_path("disk").unwrap();
    h.set_size(0);
    h.set_mode(0o600);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_device_major(8).unwrap();
    h.set_device_minor(0).unwrap();
    h.set_cksum();
    let layer = {
        let mut v = l.finish();
        v.truncate(v.len() - 1024); // drop the end-of-archive blocks
        v.extend_from_slice(h.as_bytes());
        v.extend_from_slice(&[0u8; 1024]);
        v
    };
    let layers = s.unpack(&[layer]).unwrap();
    let l = only_layer(&layers);
    assert!(!l.join("mem").exists() && !l.join("disk").exists());
}

// ---- Hole 5: what an unpacked image leaves on the host ----

/// Runs `args` as uid 65534. Through `sh`: setpriv itself still holds
/// root's capabilities when it execs, so its own path lookup would pass.
fn as_nobody(args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(["sh", "-c", "exec \"$@\"", "sh"])
        .args(args)
        .output()
        .expect("setpriv")
}

fn setpriv_missing() -> Option<String> {
    if !kubelab_sandbox::is_root() {
        return Some("needs root (another uid must try the root-owned cache)".into());
    }
    let ok = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| "setpriv (util-linux) not installed".into())
}

#[test]
fn unpacked_images_are_private_and_hold_no_set_id_binary() {
    if common::skip(setpriv_missing()) {
        return;
    }
    let s = scene();
    // Only the cache's own permissions may protect it.
    std::fs::set_permissions(
        s.img.parent().unwrap(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let id = std::fs::read("/usr/bin/id").unwrap();
    let layer = Layer::new()
        .raw(tar::EntryType::Regular, "bin/suid", "", 0o4755, &id)
        .raw(tar::EntryType::Regular, "bin/sgid", "", 0o2755, &id)
        .raw(tar::EntryType::Directory, "tmp/", "", 0o1777, b"")
        .file("etc/readable", b"image content")
        .finish();
    let layers = s.unpack(&[layer]).unwrap();
    let l = only_layer(&layers);
    // Another local user can neither run nor read anything in it.
    let run = as_nobody(&[l.join("bin/suid").to_str().unwrap(), "-u"]);
    assert!(
        !run.status.success(),
        "uid 65534 ran the image's set-uid binary: euid {}",
        String::from_utf8_lossy(&run.stdout)
    );
    let read = as_nobody(&["cat", l.join("etc/readable").to_str().unwrap()]);
    assert!(!read.status.success(), "uid 65534 read the cache");
    let cache = std::fs::metadata(&s.cache).unwrap();
    assert_eq!(cache.mode() & 0o7777, 0o700, "the cache must be private");
    assert_eq!(cache.uid(), 0);
    for f in ["bin/suid", "bin/sgid"] {
        let m = std::fs::metadata(l.join(f)).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o755, "{f}: set-id bits kept");
        assert_eq!(
            (m.uid(), m.gid()),
            (0, 0),
            "{f}: owner taken from the tarball"
        );
    }
    assert_eq!(
        std::fs::metadata(l.join("tmp")).unwrap().mode() & 0o7777,
        0o1777
    );
}

#[test]
fn a_cache_dir_someone_else_owns_is_refused() {
    if common::skip(setpriv_missing()) {
        return;
    }
    let s = scene();
    std::fs::create_dir(&s.cache).unwrap();
    std::os::unix::fs::chown(&s.cache, Some(65534), Some(65534)).unwrap();
    let e = s
        .unpack(&[Layer::new().file("f", b"x").finish()])
        .expect_err("a cache owned by uid 65534");
    assert!(e.contains("owned by uid 65534"), "{e}");
    assert_eq!(std::fs::read_dir(&s.cache).unwrap().count(), 0);
}

#[test]
fn an_old_shared_cache_is_made_private() {
    let s = scene();
    std::fs::create_dir(&s.cache).unwrap();
    std::fs::set_permissions(
        &s.cache,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    s.unpack(&[Layer::new().file("f", b"x").finish()]).unwrap();
    assert_eq!(std::fs::metadata(&s.cache).unwrap().mode() & 0o7777, 0o700);
}
