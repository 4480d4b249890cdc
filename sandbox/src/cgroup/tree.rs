//! Where a sandbox sits in the cgroup trees, so that a privileged sandbox
//! (which may mount cgroupfs inside) can neither raise its own limits nor
//! reach any cgroup outside its own.
//!
//! * Every mounted hierarchy, not only the controllers kubelab limits: v1
//!   freezer, blkio, cpuset, devices, named ones (`name=systemd`), and the
//!   controller-less cgroup2 of a hybrid host. PID 1 joins all of them before
//!   it unshares its cgroup namespace, so any cgroupfs the sandbox mounts is
//!   rooted at its own cgroup (a hierarchy it was not moved in would be
//!   rooted at the host's cgroup: the sandbox could freeze host processes or
//!   leave directories behind there).
//! * cgroup v2: limits live on `kubelab/<id>`; the processes in its child
//!   `kubelab/<id>/payload` ([`PAYLOAD`]), which has no controller enabled
//!   — the cgroup namespace's root, the most a mounted cgroupfs shows. Limits
//!   are hierarchical, so nothing the sandbox writes below can lift them, and
//!   their files are never visible to it. This matters rootless, where the
//!   sandbox's root owns the delegated cgroups kubelab created; root-started,
//!   the files also belong to host root, which is unmapped in the sandbox.
//! * cgroup v1: one level, `kubelab/<id>`, limits and processes together.
//!   v1 counts `pids.events` and `oom_kill` in the cgroup of the process that
//!   hit the limit, not in the one holding it, so a payload child would hide
//!   them from the panes and from lesson checks. The limit files belong to
//!   host root: the sandbox's root, an unprivileged host uid (root-started;
//!   see [`crate::ns::idmap`]), cannot write them, and a rootless sandbox gets no
//!   v1 cgroup at all (v1 has no delegation).
//!
//! The layout, as kubelet and systemd delegate: the limits' owner above, the
//! workload below.

use super::hierarchy::{dir_in, proc_cgroup, Hierarchy};
use std::fs;
use std::path::{Path, PathBuf};

/// Name of the child cgroup the sandbox's processes live in.
pub const PAYLOAD: &str = "payload";

/// Every mounted cgroup hierarchy once: each v1 hierarchy (named ones too,
/// whatever controllers), and cgroup2.
pub(crate) fn all_hierarchies() -> Vec<Hierarchy> {
    let text = crate::sys::read_small(Path::new("/proc/self/mountinfo")).unwrap_or_default();
    // The controller names this kernel knows (a mount's options hold others too).
    let known: Vec<String> = crate::sys::read_small(Path::new("/proc/self/cgroup"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .flat_map(|c| c.split(','))
        .filter(|c| !c.is_empty())
        .map(|c| c.trim_start_matches("name=").to_string())
        .collect();
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let mount = PathBuf::from(crate::sys::unescape_mountinfo(l[4]));
        let root = crate::sys::unescape_mountinfo(l[3]);
        let (version, controllers) = match r[0] {
            "cgroup2" => (
                2,
                fs::read_to_string(mount.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            ),
            "cgroup" => {
                let mut c: Vec<String> = r[2]
                    .split(',')
                    .map(|o| o.trim_start_matches("name=").to_string())
                    .filter(|o| known.contains(o))
                    .collect();
                c.sort();
                if c.is_empty() {
                    continue;
                }
                (1, c)
            }
            _ => continue,
        };
        // The same hierarchy mounted twice counts once.
        let dup = out
            .iter()
            .any(|h| h.version == version && (version == 2 || h.controllers == controllers));
        if !dup {
            out.push(Hierarchy {
                mount,
                root,
                version,
                controllers,
            });
        }
    }
    out
}

/// v1 cpuset: a new cgroup starts with no CPUs and no memory nodes, and no
/// task may join it. Gives the `kubelab` parent its parent's and turns on
/// its `cgroup.clone_children`, so each sandbox's cgroup made below copies
/// them at mkdir (one read per spawn once set up).
pub(crate) fn cpuset_parent(base: &Path) -> Result<(), String> {
    let cc = base.join("cgroup.clone_children");
    if fs::read_to_string(&cc).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    fill_cpuset(base)?;
    fs::write(&cc, "1").map_err(|e| format!("write {}: {e}", cc.display()))
}

/// Copies `cpuset.cpus` and `cpuset.mems` from the parent where empty.
pub(crate) fn fill_cpuset(dir: &Path) -> Result<(), String> {
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let mine = fs::read_to_string(dir.join(f)).unwrap_or_default();
        if !mine.trim().is_empty() {
            continue;
        }
        let parent = dir.parent().unwrap_or(dir);
        let theirs = fs::read_to_string(parent.join(f))
            .map_err(|e| format!("read {}: {e}", parent.join(f).display()))?;
        fs::write(dir.join(f), theirs.trim())
            .map_err(|e| format!("write {}: {e}", dir.join(f).display()))?;
    }
    Ok(())
}

/// The cgroup to show for a sandbox process: `.../kubelab/<id>/payload`
/// is reported as its limits' cgroup `.../kubelab/<id>`.
pub(crate) fn lift_payload(dir: PathBuf) -> PathBuf {
    let is_payload = dir.file_name().is_some_and(|n| n == PAYLOAD)
        && dir
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .is_some_and(|n| n == "kubelab");
    match dir.parent() {
        Some(p) if is_payload => p.to_path_buf(),
        _ => dir,
    }
}

/// `exec` into a sandbox: moves this single-threaded helper into `pid`'s
/// cgroup in every v1 hierarchy through `tasks` (the cheap self-move, see
/// `Join` in join.rs), and in a v2-only tree through `cgroup.procs`.
/// (Hybrid: the controller-less cgroup2 is left alone; it holds no limits,
/// and a cgroupfs mounted inside is rooted at the sandbox's cgroup namespace
/// whatever cgroup we sit in.)
pub(crate) fn join_like(pid: i32) {
    let hs = all_hierarchies();
    let v1 = hs.iter().any(|h| h.version == 1);
    let theirs = proc_cgroup(&pid.to_string()).unwrap_or_default();
    for h in &hs {
        if v1 && h.version == 2 {
            continue;
        }
        let Some(d) = dir_in(h, &theirs) else {
            continue;
        };
        if h.version != 1 || fs::write(d.join("tasks"), "0").is_err() {
            let _ = fs::write(d.join("cgroup.procs"), "0");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_shown_as_its_limits_cgroup() {
        let p = PathBuf::from("/sys/fs/cgroup/pids/kubelab/ab12/payload");
        assert_eq!(
            lift_payload(p),
            PathBuf::from("/sys/fs/cgroup/pids/kubelab/ab12")
        );
        // Somebody else's "payload" is left alone.
        let other = PathBuf::from("/sys/fs/cgroup/x/payload");
        assert_eq!(lift_payload(other.clone()), other);
    }

    #[test]
    fn this_host_lists_each_hierarchy_once() {
        let hs = all_hierarchies();
        for (i, a) in hs.iter().enumerate() {
            for b in &hs[i + 1..] {
                assert!(
                    !(a.version == b.version && a.controllers == b.controllers),
                    "{a:?} twice"
                );
            }
        }
        // Everything the limits code knows is among them.
        for h in crate::cgroup::hierarchies() {
            assert!(
                hs.iter().any(|a| a.version == h.version
                    && h.controllers.iter().all(|c| a.controllers.contains(c))),
                "{h:?} missing from {hs:?}"
            );
        }
    }
}
