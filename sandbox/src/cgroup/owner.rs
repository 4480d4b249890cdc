//! Whether a cgroup is delegated to a user (it owns the directory and its
//! `cgroup.procs`), and which controllers a cgroup can hand down.

use super::hierarchy::Hierarchy;
use std::fs;
use std::path::{Path, PathBuf};

/// The controllers kubelab limits.
pub const WANTED: [&str; 3] = ["cpu", "memory", "pids"];

/// The command that makes systemd delegate every controller kubelab needs
/// to user managers (memory and pids are delegated by default, cpu only
/// since systemd 252; the rootless podman docs give the same drop-in).
pub const DELEGATE_FIX: &str = "sudo mkdir -p /etc/systemd/system/user@.service.d && \
     printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee \
     /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, \
     then log out and in again";

fn owned_by(path: &Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).map(|m| m.uid() == uid).unwrap_or(false)
}

/// Whether `uid` may create cgroups in `dir` and move processes there.
pub(crate) fn delegated_to(dir: &Path, uid: u32) -> bool {
    owned_by(dir, uid) && owned_by(&dir.join("cgroup.procs"), uid)
}

/// The highest ancestor of `own_dir` (itself included) delegated to `uid`.
pub(crate) fn delegated_ancestor(h: &Hierarchy, own_dir: &Path, uid: u32) -> Option<PathBuf> {
    let mut best = None;
    let mut cur = own_dir;
    loop {
        if delegated_to(cur, uid) {
            best = Some(cur.to_path_buf());
        }
        match cur.parent() {
            Some(p) if p.starts_with(&h.mount) => cur = p,
            _ => break,
        }
    }
    best
}

/// The controllers of [`WANTED`] that `dir` cannot hand to its children.
pub fn missing_controllers(dir: &Path) -> Vec<&'static str> {
    let have = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    WANTED
        .into_iter()
        .filter(|w| !have.split_whitespace().any(|c| c == *w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::chown;

    #[test]
    fn the_highest_owned_ancestor_wins_and_none_without_one() {
        let tmp = tempfile::tempdir().unwrap();
        let h = Hierarchy {
            mount: tmp.path().to_path_buf(),
            root: "/".into(),
            version: 2,
            controllers: Vec::new(),
        };
        let leaf = tmp.path().join("user.slice/u.service/app.slice/x.scope");
        fs::create_dir_all(&leaf).unwrap();
        for d in [
            "user.slice/u.service",
            "user.slice/u.service/app.slice",
            "user.slice/u.service/app.slice/x.scope",
        ] {
            fs::write(tmp.path().join(d).join("cgroup.procs"), "").unwrap();
        }
        // Nothing owned by uid 4242: not delegated.
        assert_eq!(delegated_ancestor(&h, &leaf, 4242), None);
        if crate::sys::geteuid() != 0 {
            println!("SKIP: chown to another uid needs root");
            return;
        }
        for d in [
            "user.slice/u.service",
            "user.slice/u.service/app.slice/x.scope",
        ] {
            let d = tmp.path().join(d);
            chown(&d, Some(4242), None).unwrap();
            chown(d.join("cgroup.procs"), Some(4242), None).unwrap();
        }
        assert_eq!(
            delegated_ancestor(&h, &leaf, 4242),
            Some(tmp.path().join("user.slice/u.service"))
        );
        // A directory owned without its cgroup.procs is not delegated.
        chown(
            tmp.path().join("user.slice/u.service/cgroup.procs"),
            Some(0),
            None,
        )
        .unwrap();
        assert_eq!(delegated_ancestor(&h, &leaf, 4242), Some(leaf));
    }

    #[test]
    fn missing_controllers_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("cgroup.controllers"), "memory pids\n").unwrap();
        assert_eq!(missing_controllers(tmp.path()), vec!["cpu"]);
        fs::write(
            tmp.path().join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        assert!(missing_controllers(tmp.path()).is_empty());
    }
}
