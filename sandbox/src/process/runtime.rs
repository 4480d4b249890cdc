//! The runtime directory: one entry per live sandbox with its state, so that a
//! later kubelab can find and remove what a killed one left behind.

use crate::cgroup::Cgroup;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// `/run/kubelab` for root, `$XDG_RUNTIME_DIR/kubelab` or `/tmp/kubelab-UID`
/// otherwise. Where `/run` (root) or `/tmp` is not a tmpfs but `/dev/shm` is,
/// `/dev/shm/kubelab[-UID]`: every spawn creates and removes a handful of
/// entries here, which on a disk filesystem go through its journal (0.4 ms per
/// spawn measured on ext4, and stalls of several ms while other work writes).
pub fn default_dir() -> PathBuf {
    let uid = crate::sys::geteuid();
    let shm = || crate::sys::is_tmpfs(Path::new("/dev/shm"));
    if uid == 0 {
        if !crate::sys::is_tmpfs(Path::new("/run")) && shm() {
            return PathBuf::from("/dev/shm/kubelab");
        }
        return PathBuf::from("/run/kubelab");
    }
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
        let p = PathBuf::from(x);
        if p.is_dir() {
            return p.join("kubelab");
        }
    }
    if !crate::sys::is_tmpfs(Path::new("/tmp")) && shm() {
        return PathBuf::from(format!("/dev/shm/kubelab-{uid}"));
    }
    PathBuf::from(format!("/tmp/kubelab-{uid}"))
}

pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o711)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if dir.is_dir() => {
            let _ = e;
        }
        Err(e) => return Err(e),
    }
    // In /tmp or /dev/shm somebody else could have created it first, or put
    // a symlink there to make us sweep a directory of their choosing.
    let md = fs::symlink_metadata(dir)?;
    if !md.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not a directory (a symlink?); remove it",
                dir.display()
            ),
        ));
    }
    if md.uid() != crate::sys::geteuid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is owned by uid {}, not by you", dir.display(), md.uid()),
        ));
    }
    Ok(())
}

/// What the supervisor records about its sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    pub supervisor_pid: i32,
    /// Start time (clock ticks since boot) of the supervisor, to detect PID reuse.
    pub supervisor_start: u64,
    pub init_pid: i32,
    pub cgroup: Option<Cgroup>,
}

impl State {
    pub fn path(sandbox_dir: &Path) -> PathBuf {
        sandbox_dir.join("state.json")
    }

    pub fn write(&self, sandbox_dir: &Path) -> io::Result<()> {
        let tmp = sandbox_dir.join("state.json.tmp");
        fs::write(&tmp, serde_json::to_vec(self).map_err(io::Error::other)?)?;
        fs::rename(tmp, Self::path(sandbox_dir))
    }

    pub fn read(sandbox_dir: &Path) -> io::Result<State> {
        let b = fs::read(Self::path(sandbox_dir))?;
        serde_json::from_slice(&b).map_err(io::Error::other)
    }
}

/// Start time of a process (field 22 of /proc/PID/stat), None if it is gone.
pub fn start_time(pid: i32) -> Option<u64> {
    let s = crate::sys::read_small(Path::new(&format!("/proc/{pid}/stat"))).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    if after.starts_with('Z') || after.starts_with('X') {
        return None; // a zombie is as dead as it gets
    }
    after.split(' ').nth(19)?.parse().ok()
}

/// Removes a sandbox's runtime entry (the staging mountpoint and the state).
pub fn remove_entry(sandbox_dir: &Path) {
    let _ = fs::remove_dir(sandbox_dir.join("fs"));
    let _ = fs::remove_file(sandbox_dir.join("state.json.tmp"));
    let _ = fs::remove_file(State::path(sandbox_dir));
    let _ = fs::remove_dir(sandbox_dir);
}

/// Cleans up after sandboxes whose supervisor is gone (killed with SIGKILL, or
/// the machine lost power mid-run): kills leftover processes in their cgroups,
/// removes the cgroups and the runtime entries. Returns the ids swept.
pub fn sweep(dir: &Path) -> Vec<String> {
    let mut swept = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return swept;
    };
    for e in rd.flatten() {
        let path = e.path();
        if !path.is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(crate::rootfs::SKELETON_PREFIX) {
            // Shared skeleton caches stay; a build that died midway goes.
            let stale_tmp = name.starts_with(crate::rootfs::SKELETON_TMP_PREFIX)
                && e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|d| d.as_secs() >= 30);
            if stale_tmp {
                let _ = fs::remove_dir_all(&path);
            }
            continue;
        }
        let state = State::read(&path);
        let alive = match &state {
            Ok(st) => start_time(st.supervisor_pid) == Some(st.supervisor_start),
            Err(_) => {
                // A supervisor writes its state first thing; give it time.
                let age = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                age < 30
            }
        };
        if alive {
            continue;
        }
        if let Ok(st) = &state {
            if let Some(cg) = &st.cgroup {
                cg.destroy();
            }
        }
        remove_entry(&path);
        swept.push(e.file_name().to_string_lossy().into_owned());
    }
    swept
}

/// A short random id (hex) for a sandbox: 48 random bits from getrandom(2),
/// one syscall (reading /proc/sys/kernel/random/uuid took open, read, close
/// and a UUID's formatting for the same randomness).
pub fn new_id() -> String {
    let mut b = [0u8; 6];
    if crate::sys::random_bytes(&mut b).is_ok() {
        return b.iter().map(|x| format!("{x:02x}")).collect();
    }
    format!(
        "{:x}{:x}",
        crate::sys::getpid(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_12_hex_digits_and_differ() {
        let (a, b) = (super::new_id(), super::new_id());
        assert_eq!(a.len(), 12, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }
}
