//! Writing cgroupfs: a sandbox's `kubelab/<id>` directory and its limit
//! files.

use super::handle::Cgroup;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub(super) const CPU_PERIOD_US: u64 = 100_000;

pub(super) fn mkdir_sandbox(parent: &Path, id: &str, cg: &mut Cgroup) -> io::Result<PathBuf> {
    let base = parent.join("kubelab");
    let dir = base.join(id);
    // The sandbox's own directory first: the `kubelab` parent usually exists
    // already (one mkdir instead of mkdir parent, EEXIST, stat, mkdir).
    // Another sandbox may remove the empty parent between our creating it
    // and our mkdir, so retry a few times.
    for _ in 0..5 {
        match fs::create_dir(&dir) {
            Ok(()) => {
                cg.created.push(dir.clone());
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&base) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "the kubelab cgroup parent kept disappearing",
    ))
}

pub(super) fn write_file(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(dir.join(file))
        .map_err(|e| format!("open {}: {e}", dir.join(file).display()))?;
    f.write_all(value.as_bytes())
        .map_err(|e| format!("write `{value}` to {}: {e}", dir.join(file).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_dir_is_made_with_or_without_the_kubelab_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let mut cg = Cgroup::default();
        // No parent yet: created on ENOENT.
        let a = mkdir_sandbox(tmp.path(), "a", &mut cg).unwrap();
        assert_eq!(a, tmp.path().join("kubelab/a"));
        // Parent present: straight in.
        let b = mkdir_sandbox(tmp.path(), "b", &mut cg).unwrap();
        assert!(b.is_dir());
        assert_eq!(cg.created, vec![a, b]);
        // A clash is an error, not a silent reuse of another sandbox's dir.
        let e = mkdir_sandbox(tmp.path(), "b", &mut cg).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        // A parent that cannot be made is reported.
        let e = mkdir_sandbox(&tmp.path().join("missing"), "c", &mut cg).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
