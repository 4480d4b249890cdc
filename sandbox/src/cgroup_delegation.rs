//! Where a sandbox's cgroup v2 `kubelab/<id>` goes, and why none can be made:
//! root uses the hierarchy's root; a rootless kubelab the highest cgroup
//! delegated to it above its own (e.g. `systemd-run --user --scope -p
//! Delegate=yes`), else a transient systemd scope it asks its user manager
//! for ([`crate::systemd_scope`]), else none (no limits, and the reason).

use crate::cgroup::Hierarchy;
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

/// The path sandbox cgroups of this process take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitsPath {
    /// Host root: `kubelab/<id>` at the root of each hierarchy (v2) or below
    /// kubelab's own cgroup (v1).
    Root,
    /// A subtree delegated to this user above kubelab's own cgroup.
    Delegated(PathBuf),
    /// A transient scope from the user's systemd manager (`Delegate=yes`).
    SystemdScope(PathBuf),
    /// No limits: why, and the command that fixes it.
    None { why: String, fix: String },
}

/// Caller side, before a sandbox is spawned: a rootless kubelab on cgroup
/// v2 whose own cgroup is not delegated gets its systemd scope now (made
/// once per process, see [`crate::systemd_scope::ensure`]). None: nothing
/// to ask for (root, cgroup v1/hybrid, or already delegated).
pub(crate) fn v2_parent_for_spawn(
    version: Option<u8>,
    helper: &Path,
) -> Option<Result<PathBuf, String>> {
    let uid = crate::sys::geteuid();
    if uid == 0 || crate::cgroup::plan(version, true).version() != Some(2) {
        return None;
    }
    if let Some(Ok(scope)) = crate::systemd_scope::current() {
        // Already moved: our own cgroup (`<scope>/caller`) is delegated, and
        // the walk below would climb past the scope into user@UID.service.
        if own_v2_dir().is_some_and(|d| d.starts_with(&scope)) {
            return Some(Ok(scope));
        }
    }
    let (h, own) = own_v2()?;
    if delegated_ancestor(&h, &own, uid).is_some() {
        return None;
    }
    Some(crate::systemd_scope::ensure(helper))
}

fn own_v2() -> Option<(Hierarchy, PathBuf)> {
    let h = crate::cgroup::hierarchies()
        .into_iter()
        .find(|h| h.version == 2)?;
    let own = crate::cgroup::dir_in(&h, &crate::cgroup::proc_cgroup("self").ok()?)?;
    Some((h, own))
}

fn own_v2_dir() -> Option<PathBuf> {
    own_v2().map(|(_, d)| d)
}

/// For `kubelab doctor`: the path this process's sandboxes take, making the
/// systemd scope if that is the path (`helper` runs the D-Bus exchange).
pub fn limits_path(helper: &Path) -> LimitsPath {
    let uid = crate::sys::geteuid();
    if uid == 0 {
        return LimitsPath::Root;
    }
    match crate::cgroup::plan(None, true).version() {
        None => {
            return LimitsPath::None {
                why: "no cgroup filesystem is mounted".into(),
                fix: "sudo mount -t cgroup2 none /sys/fs/cgroup".into(),
            }
        }
        Some(1) => {
            return LimitsPath::None {
                why: "cgroup v1 (or hybrid) has no safe delegation to ordinary users".into(),
                fix: "boot with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1), \
                      or run kubelab as root"
                    .into(),
            }
        }
        _ => {}
    }
    match v2_parent_for_spawn(None, helper) {
        Some(Ok(scope)) => LimitsPath::SystemdScope(scope),
        Some(Err(why)) => LimitsPath::None {
            fix: if why.contains("no user D-Bus") {
                "sudo loginctl enable-linger $USER (starts your systemd user manager), then \
                 log in again"
                    .into()
            } else {
                "systemd-run --user --scope -p Delegate=yes kubelab ...".into()
            },
            why,
        },
        None => match own_v2() {
            Some((h, own)) => match delegated_ancestor(&h, &own, uid) {
                Some(d) => LimitsPath::Delegated(d),
                None => LimitsPath::None {
                    why: format!("{} is not delegated to uid {uid}", own.display()),
                    fix: "systemd-run --user --scope -p Delegate=yes kubelab ...".into(),
                },
            },
            None => LimitsPath::None {
                why: "this process has no cgroup v2 path".into(),
                fix: "run kubelab on the host, not in a container without its cgroup".into(),
            },
        },
    }
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
