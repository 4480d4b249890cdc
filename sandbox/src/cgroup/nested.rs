//! Cgroups at a path the caller chooses, below kubelab's own subtree (the
//! kubelet's `kubepods/burstable/pod<UID>/<container>`), with the files the
//! caller computed, in every mounted v1 hierarchy or the v2 tree.
//!
//! A Pod's cgroup is removed as a tree ([`Cgroup::recursive`]): when the
//! infra's supervisor ends (or the sweep finds it dead), every container
//! cgroup left below it goes too, its processes killed first.

use crate::cgroup::tree::all_hierarchies;
use crate::cgroup::{Cgroup, Hierarchy};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The directory every path of [`create_path`] starts from, below the
/// caller's own cgroup (v1) or the v2 root the sandbox would use.
pub const BASE: &str = "kubelab";

/// One level of a cgroup path and the files written in it, v1 and v2
/// spellings (only the files of controllers a hierarchy has are written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Level {
    pub name: String,
    pub v1_files: Vec<(String, String)>,
    pub v2_files: Vec<(String, String)>,
}

/// A path segment must be one plain directory name.
fn check_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cgroup path segment {name:?}: use letters, digits, -, _ and ."),
        ))
    }
}

fn controller_of(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    let path = dir.join(file);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", path.display())))?;
    f.write_all(value.as_bytes()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("write `{value}` to {}: {e}", path.display()),
        )
    })
}

fn mkdir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("mkdir {}: {e}", dir.display()),
        )),
    }
}

/// The hierarchies a Pod cgroup lives in: every v1 one (hybrid: v1 wins,
/// as for sandboxes), else the v2 tree.
fn chosen(version: Option<u8>) -> Vec<Hierarchy> {
    let mut hs = all_hierarchies();
    if let Some(v) = version {
        hs.retain(|h| h.version == v);
    }
    if hs.iter().any(|h| h.version == 1) {
        hs.retain(|h| h.version == 1);
    }
    hs
}

/// The `kubelab` directory of a hierarchy (see [`BASE`]).
fn base_of(h: &Hierarchy) -> io::Result<PathBuf> {
    if h.version == 2 {
        return Ok(h.mount.join(BASE));
    }
    let own = crate::cgroup::hierarchy_proc_cgroup("self")?;
    let parent = crate::cgroup::hierarchy_dir_in(h, &own)
        .ok_or_else(|| io::Error::other(format!("no cgroup of ours in {}", h.mount.display())))?;
    Ok(parent.join(BASE))
}

/// Creates `kubelab/<levels...>` (existing levels are kept) and writes each
/// level's files. Returns the handle of the last level: it lists that level
/// in `created` and every level above, `kubelab` included, in `parents`
/// (removed when empty). v2: each parent delegates cpu, memory and pids.
pub fn create_path(levels: &[Level], version: Option<u8>) -> io::Result<Cgroup> {
    if levels.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "empty cgroup path",
        ));
    }
    for l in levels {
        check_name(&l.name)?;
    }
    let hs = chosen(version);
    if hs.is_empty() {
        return Err(io::Error::other("no cgroup filesystem is mounted"));
    }
    let mut cg = Cgroup {
        version: hs[0].version,
        ..Cgroup::default()
    };
    let mut devices_dir = None;
    for h in &hs {
        let mut dir = base_of(h)?;
        if h.version == 2 {
            // Usually on already (systemd): `kubelab` needs the controllers too.
            for c in ["cpu", "memory", "pids"] {
                let _ = write(&h.mount, "cgroup.subtree_control", &format!("+{c}"));
            }
        }
        mkdir(&dir)?;
        let mut parents = vec![dir.clone()];
        for l in levels {
            if h.version == 2 {
                for c in ["cpu", "memory", "pids"] {
                    let _ = write(&dir, "cgroup.subtree_control", &format!("+{c}"));
                }
            }
            dir = dir.join(&l.name);
            mkdir(&dir)?;
            let files = if h.version == 2 {
                &l.v2_files
            } else {
                &l.v1_files
            };
            for (f, v) in files {
                if h.version == 1 && !h.controllers.iter().any(|c| c == controller_of(f)) {
                    continue;
                }
                write(&dir, f, v)?;
                if h.version == 1 && f == "memory.limit_in_bytes" {
                    // Without swap accounting a hog would swap instead of
                    // being OOM-killed at its limit (as for sandboxes).
                    if dir.join("memory.memsw.limit_in_bytes").exists() {
                        write(&dir, "memory.memsw.limit_in_bytes", v)?;
                    }
                    let _ = write(&dir, "memory.swappiness", "0");
                }
                if h.version == 2 && f == "memory.max" && dir.join("memory.swap.max").exists() {
                    // The kubelet's NoSwap: the limit is RAM, then the OOM killer.
                    write(&dir, "memory.swap.max", "0")?;
                }
            }
            parents.push(dir.clone());
        }
        parents.pop();
        let controllers: Vec<String> = if h.version == 2 {
            ["memory", "cpu", "cpuacct", "pids", "freezer"]
                .map(String::from)
                .to_vec()
        } else {
            h.controllers.clone()
        };
        for c in &controllers {
            cg.set(c, Some(dir.clone()));
        }
        if h.version == 1 && h.controllers.iter().any(|c| c == "devices") {
            devices_dir = Some(dir.clone());
        }
        cg.created.push(dir);
        cg.parents.extend(parents);
    }
    if let Some(d) = devices_dir {
        // Processes join the devices cgroup too, so the rules
        // `devices::restrict` sets there apply to them.
        cg.payload = cg.dirs();
        cg.payload.push(d);
    }
    Ok(cg)
}

/// Every cgroup directory below `dir`, deepest first, then `dir`.
fn tree_of(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                tree_of(&e.path(), out);
            }
        }
    }
    out.push(dir.to_path_buf());
}

fn kill_procs(dir: &Path) {
    if let Ok(t) = fs::read_to_string(dir.join("cgroup.procs")) {
        for p in t.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = crate::sys::kill(p, libc::SIGKILL);
        }
    }
}

/// Removes `cg.created` with every cgroup below it (processes killed
/// first), then tries each of `cg.parents` once (another Pod may use them).
pub(crate) fn destroy_tree(cg: &Cgroup) -> Vec<String> {
    let mut problems = Vec::new();
    for top in &cg.created {
        let mut dirs = Vec::new();
        tree_of(top, &mut dirs);
        for d in dirs {
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                match fs::remove_dir(&d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if Instant::now() >= deadline => {
                        problems.push(format!("{}: {e}", d.display()));
                        break;
                    }
                    Err(_) => {
                        kill_procs(&d);
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        }
    }
    remove_parents(cg);
    problems
}

/// One rmdir per parent, deepest first; a parent still in use stays.
pub(crate) fn remove_parents(cg: &Cgroup) {
    let mut parents = cg.parents.clone();
    parents.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    parents.dedup();
    for p in parents {
        let _ = fs::remove_dir(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_segments_are_refused_before_any_mkdir() {
        for bad in ["..", ".", "", "a/b", "a\0b"] {
            let levels = [Level {
                name: bad.to_string(),
                ..Level::default()
            }];
            let e = create_path(&levels, None).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(create_path(&[], None).is_err());
    }

    #[test]
    fn a_tree_is_removed_children_first_and_parents_only_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("kubelab");
        let pod = base.join("node-a/pod1");
        fs::create_dir_all(pod.join("c1/deeper")).unwrap();
        fs::create_dir_all(pod.join("c2")).unwrap();
        fs::create_dir_all(base.join("node-a/pod2")).unwrap();
        let cg = Cgroup {
            created: vec![pod.clone()],
            parents: vec![base.clone(), base.join("node-a")],
            recursive: true,
            ..Cgroup::default()
        };
        assert!(destroy_tree(&cg).is_empty());
        assert!(!pod.exists());
        // Another Pod still uses the node's directory: it stays.
        assert!(base.join("node-a/pod2").is_dir());
        fs::remove_dir(base.join("node-a/pod2")).unwrap();
        remove_parents(&cg);
        assert!(!base.exists());
    }
}
