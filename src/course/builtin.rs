//! The built-in course, embedded in the binary: `cargo install` (from a
//! checkout later moved, or from git) gives a kubelab that needs no source
//! tree. The reader, lint and labs read a course from a directory, so the
//! embedded files are unpacked once per course version into the user's
//! cache and read from there.

use include_dir::{include_dir, Dir};
use std::io;
use std::path::{Path, PathBuf};

static LESSONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

/// The embedded course's version: a hash of its files (build.rs).
pub const VERSION: &str = env!("KUBELAB_COURSE_HASH");

/// The unpacked built-in course (a directory holding `lessons/`),
/// unpacking it first if this version is not there yet.
pub fn dir() -> io::Result<PathBuf> {
    unpacked_in(&cache_root()?)
}

/// The course unpacked in `root` (see [`dir`]).
pub fn unpacked_in(root: &Path) -> io::Result<PathBuf> {
    let dest = root.join(format!("course-{VERSION}"));
    if dest.join("lessons").is_dir() {
        return Ok(dest);
    }
    // Unpacked beside, then renamed into place: a reader started at the
    // same time never sees half a course.
    let tmp = root.join(format!(".course-{VERSION}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    unpack(&LESSONS, &tmp.join("lessons"))?;
    match std::fs::rename(&tmp, &dest) {
        Ok(()) => {
            prune_old_versions(root, &dest);
            Ok(dest)
        }
        // Another kubelab won the race: use its copy.
        Err(_) if dest.join("lessons").is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dest)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// Other versions' copies (a rebuilt or upgraded kubelab) are removed once
/// a day old: a kubelab of that version still running keeps its files.
fn prune_old_versions(root: &Path, keep: &Path) {
    let day = std::time::Duration::from_secs(24 * 3600);
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if p != keep && name.to_string_lossy().starts_with("course-") && old {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

fn unpack(d: &Dir<'_>, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for f in d.files() {
        let name = f
            .path()
            .file_name()
            .ok_or_else(|| io::Error::other("a file without a name"))?;
        std::fs::write(to.join(name), f.contents())?;
    }
    for sub in d.dirs() {
        let name = sub
            .path()
            .file_name()
            .ok_or_else(|| io::Error::other("a folder without a name"))?;
        unpack(sub, &to.join(name))?;
    }
    Ok(())
}

/// `$XDG_CACHE_HOME/kubelab`, else `~/.cache/kubelab`, else a folder of
/// this user's own in the temporary directory (checked: owned by us, not a
/// symlink, private).
fn cache_root() -> io::Result<PathBuf> {
    let home_cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        });
    if let Some(c) = home_cache {
        let root = c.join("kubelab");
        if std::fs::create_dir_all(&root).is_ok() && writable(&root) {
            return Ok(root);
        }
    }
    let uid = rustix::process::getuid().as_raw();
    let root = std::env::temp_dir().join(format!("kubelab-{uid}"));
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(&root) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&root)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        return Err(io::Error::other(format!(
            "{} is not a private folder of this user; set XDG_CACHE_HOME",
            root.display()
        )));
    }
    Ok(root)
}

fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_course_unpacks_into_a_course_that_loads() {
        let cache = tempfile::tempdir().unwrap();
        let dir = unpacked_in(cache.path()).unwrap();
        assert!(dir.starts_with(cache.path()), "{}", dir.display());
        let loaded = crate::course::load(&dir).expect("the built-in course loads");
        assert!(
            loaded.lessons.len() >= 10,
            "{} lessons",
            loaded.lessons.len()
        );
        // Byte for byte the source tree's files.
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/zh/src/SUMMARY.md");
        assert_eq!(
            std::fs::read(dir.join("lessons/zh/src/SUMMARY.md")).unwrap(),
            std::fs::read(src).unwrap()
        );
        // A second call reuses it; nothing half-made is left beside it.
        assert_eq!(unpacked_in(cache.path()).unwrap(), dir);
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
    }
}
