//! The mounted cgroup hierarchies and where a process sits in them.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Only the unified hierarchy.
    V2,
    /// Only v1 controller hierarchies.
    V1,
    /// v1 controllers plus a (controller-less) cgroup2 mount.
    Hybrid,
    /// No cgroup filesystem mounted.
    None,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::V2 => "v2 (unified)",
            Mode::V1 => "v1 (legacy)",
            Mode::Hybrid => "hybrid (v1 controllers + empty v2)",
            Mode::None => "none",
        }
    }
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub mount: PathBuf,
    /// The mount's root inside the hierarchy (`/` unless bind-mounted in a container).
    pub root: String,
    pub version: u8,
    /// v1: the controllers bound to this hierarchy; v2: `cgroup.controllers` of the mount root.
    pub controllers: Vec<String>,
}

const V1_CONTROLLERS: [&str; 5] = ["memory", "cpu", "cpuacct", "pids", "freezer"];

/// Reads the cgroup mounts of this process's mount namespace.
pub fn hierarchies() -> Vec<Hierarchy> {
    let text = crate::sys::read_small(Path::new("/proc/self/mountinfo")).unwrap_or_default();
    let mut out = Vec::new();
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
        match r[0] {
            "cgroup2" => {
                let controllers = fs::read_to_string(mount.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from)
                    .collect();
                out.push(Hierarchy {
                    mount,
                    root,
                    version: 2,
                    controllers,
                });
            }
            "cgroup" => {
                let controllers = r[2]
                    .split(',')
                    .filter(|o| V1_CONTROLLERS.contains(o))
                    .map(String::from)
                    .collect::<Vec<_>>();
                if !controllers.is_empty() {
                    out.push(Hierarchy {
                        mount,
                        root,
                        version: 1,
                        controllers,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Detects the cgroup mode of this host.
pub fn mode() -> Mode {
    let hs = hierarchies();
    let v1 = hs.iter().any(|h| h.version == 1);
    let v2 = hs.iter().any(|h| h.version == 2);
    match (v1, v2) {
        (true, true) => Mode::Hybrid,
        (true, false) => Mode::V1,
        (false, true) => Mode::V2,
        (false, false) => Mode::None,
    }
}

/// The cgroup path of `pid` in each hierarchy, from `/proc/PID/cgroup`:
/// (hierarchy id, controllers, path).
pub(crate) fn proc_cgroup(pid: &str) -> io::Result<Vec<(String, Vec<String>, String)>> {
    let text = crate::sys::read_small(Path::new(&format!("/proc/{pid}/cgroup")))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let id = it.next()?.to_string();
            let ctrls = it.next()?;
            let path = it.next()?.to_string();
            Some((
                id,
                ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| c.trim_start_matches("name=").to_string())
                    .collect(),
                path,
            ))
        })
        .collect())
}

/// Directory of a process's cgroup within hierarchy `h`.
pub(crate) fn dir_in(h: &Hierarchy, entries: &[(String, Vec<String>, String)]) -> Option<PathBuf> {
    let path = if h.version == 2 {
        entries.iter().find(|(id, _, _)| id == "0")?.2.clone()
    } else {
        entries
            .iter()
            .find(|(_, c, _)| h.controllers.iter().any(|hc| c.contains(hc)))?
            .2
            .clone()
    };
    let rel = path
        .strip_prefix(h.root.trim_end_matches('/'))
        .unwrap_or(&path)
        .trim_start_matches('/')
        .to_string();
    Some(if rel.is_empty() {
        h.mount.clone()
    } else {
        h.mount.join(rel)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_host_has_a_mode() {
        // Whatever the host, detection must not panic and must agree with hierarchies().
        let m = mode();
        let hs = hierarchies();
        assert_eq!(m == Mode::None, hs.is_empty());
    }
}
