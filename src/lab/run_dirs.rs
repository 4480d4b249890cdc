//! The private folders a lab's node (`kubelab-node-…`) and a lab's world
//! (`kubelab-world-lab-…`) keep in the temporary directory, one per run:
//! `<prefix><pid>x<n>x<nanos>`, `<pid>` the kubelab that made it; and the
//! sweep of those whose kubelab was killed.

use std::io;
use std::path::{Path, PathBuf};

/// A new private (0700) directory `<prefix><pid>x<n>x<nanos>` in the
/// temporary directory. `mkdir` never follows a link planted at the name,
/// and a name taken is skipped, so another user cannot hand kubelab their
/// directory. `what` names it in the error when no name is free.
pub fn make(prefix: &str, what: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let mut last = None;
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("{prefix}{}x{n}x{nanos:x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other(format!("no free name for {what}"))))
}

/// Removes every `<prefix><pid>x…` folder in `tmp` that is a directory of
/// this user, whose kubelab (`<pid>`) is gone and that `done` says nothing
/// uses any more. A folder of a live kubelab is never touched.
pub fn sweep(tmp: &Path, prefix: &str, done: impl Fn(&Path) -> bool) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|r| r.split('x').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = e.path();
        let ours = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == me);
        if !ours || Path::new(&format!("/proc/{pid}")).exists() || !done(&dir) {
            continue;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
