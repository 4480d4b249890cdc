//! Where a sandbox's cgroup v2 `kubelab/<id>` goes, and why none can be made:
//! root uses the hierarchy's root; a rootless kubelab the highest cgroup
//! delegated to it above its own (e.g. `systemd-run --user --scope -p
//! Delegate=yes`), else a transient systemd scope it asks its user manager
//! for ([`super::systemd_scope`]), else none (no limits, and the reason).
use super::create::plan;
use super::hierarchy::{dir_in, hierarchies, proc_cgroup, Hierarchy};
use super::owner::delegated_ancestor;
pub use super::owner::{missing_controllers, DELEGATE_FIX, WANTED};
use super::systemd_scope;
use std::path::{Path, PathBuf};

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
/// once per process, see [`systemd_scope::ensure`]). None: nothing
/// to ask for (root, cgroup v1/hybrid, or already delegated).
pub(crate) fn v2_parent_for_spawn(
    version: Option<u8>,
    helper: &Path,
) -> Option<Result<PathBuf, String>> {
    let uid = crate::sys::geteuid();
    if uid == 0 || plan(version, true).version() != Some(2) {
        return None;
    }
    if let Some(Ok(scope)) = systemd_scope::current() {
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
    Some(systemd_scope::ensure(helper))
}

fn own_v2() -> Option<(Hierarchy, PathBuf)> {
    let h = hierarchies().into_iter().find(|h| h.version == 2)?;
    let own = dir_in(&h, &proc_cgroup("self").ok()?)?;
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
    match plan(None, true).version() {
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
