//! Finding a real cluster's Pod on this machine (k3s, kubeadm, kind,
//! minikube `--driver=none`): every process whose `/proc/<pid>/cgroup`
//! names the Pod's UID, grouped by the cgroup below the Pod's, the
//! containers told by their ids in the Pod status and the pause process by
//! its name. The kubelet names Pod cgroups two ways:
//!
//! - cgroupfs driver: `/kubepods/burstable/pod<UID>/<container-id>`;
//! - systemd driver: `/kubepods.slice/kubepods-burstable.slice/
//!   kubepods-burstable-pod<UID with _ for ->.slice/cri-containerd-<id>.scope`.
//!
//! kubelab's own node uses the cgroupfs shape with container names
//! (`…/pod<UID>/_infra`, `…/pod<UID>/<name>`), so the same code finds its
//! Pods. Reads are bounded; a process that ends mid-scan is skipped.

use super::model::{NoProcs, PodProcs};
use k8s_openapi::api::core::v1::Pod;
use kubelab_sandbox::cgroup::Hierarchy;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest `/proc/<pid>/cgroup` or `stat` read.
const MAX_FILE: u64 = 64 * 1024;
/// Most /proc entries looked at (a fork bomb elsewhere must not stall us).
const MAX_PROCS: usize = 100_000;

/// Names of the infra process: kubelab's and the kubelet's pause image's.
const PAUSE_NAMES: [&str; 2] = ["kubelab-pause", "pause"];

/// Where `path` (one cgroup line's path) puts a process of the Pod `uid`:
/// the Pod's cgroup (up to and with its `pod…` component) and the
/// component below it (a container's), if any.
pub fn pod_component(path: &str, uid: &str) -> Option<(String, Option<String>)> {
    let cgroupfs = format!("pod{uid}");
    let systemd = format!("-pod{}.slice", uid.replace('-', "_"));
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let at = parts
        .iter()
        .position(|p| *p == cgroupfs || (p.starts_with("kubepods") && p.ends_with(&systemd)))?;
    let pod = format!("/{}", parts[..=at].join("/"));
    Some((pod, parts.get(at + 1).map(|s| s.to_string())))
}

/// The container id in a leaf cgroup name: `cri-containerd-<id>.scope`,
/// `crio-<id>.scope`, `docker-<id>.scope` (systemd), or the name itself
/// (cgroupfs: the id; kubelab's node: the container's name). `None` for a
/// runtime's helper (`crio-conmon-…`).
pub fn leaf_id(leaf: &str) -> Option<&str> {
    match leaf.strip_suffix(".scope") {
        Some(scope) if scope.contains("-conmon-") => None,
        Some(scope) => scope.rsplit('-').next(),
        None => Some(leaf),
    }
}

/// One process of the Pod: its PID, parent, name and cgroup lines.
#[derive(Debug, Clone)]
struct Member {
    pid: u32,
    ppid: u32,
    comm: String,
    leaf: Option<String>,
}

fn read_bounded(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut s = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_FILE)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// (ppid, comm) from `/proc/<pid>/stat` (the name may hold spaces and
/// parentheses: it ends at the last `)`).
fn stat(proc_root: &Path, pid: u32) -> Option<(u32, String)> {
    let s = read_bounded(&proc_root.join(pid.to_string()).join("stat"))?;
    let (open, close) = (s.find('(')?, s.rfind(')')?);
    let comm = s.get(open + 1..close)?.to_string();
    let ppid = s
        .get(close + 1..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ppid, comm))
}

/// `/proc/<pid>/cgroup` lines: (hierarchy id, controllers, path).
fn cgroup_lines(text: &str) -> Vec<(&str, Vec<&str>, &str)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let (id, ctrl, path) = (it.next()?, it.next()?, it.next()?);
            Some((
                id,
                ctrl.split(',').filter(|c| !c.is_empty()).collect(),
                path,
            ))
        })
        .collect()
}

/// The directory of `path` (a cgroup line's) in the hierarchy `h`.
fn dir_in(h: &Hierarchy, path: &str) -> Option<PathBuf> {
    let root = h.root.trim_end_matches('/');
    let rest = path.strip_prefix(root)?;
    Some(h.mount.join(rest.trim_start_matches('/')))
}

/// Finds the Pod `pod` among the processes under `proc_root` (`/proc`),
/// with the cgroup mounts `hierarchies`.
pub fn find(proc_root: &Path, hierarchies: &[Hierarchy], pod: &Pod) -> Result<PodProcs, NoProcs> {
    let uid = pod
        .metadata
        .uid
        .as_deref()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| NoProcs::Error("the Pod has no UID yet".into()))?;
    let underscored = uid.replace('-', "_");
    let entries = std::fs::read_dir(proc_root)
        .map_err(|e| NoProcs::Error(format!("{}: {e}", proc_root.display())))?;
    let mut members = Vec::new();
    let mut pod_lines: Option<Vec<(String, Vec<String>, String)>> = None;
    for e in entries.flatten().take(MAX_PROCS) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Some(text) = read_bounded(&e.path().join("cgroup")) else {
            continue; // ended mid-scan
        };
        if !text.contains(uid) && !text.contains(&underscored) {
            continue;
        }
        let lines = cgroup_lines(&text);
        let Some((_, leaf)) = lines.iter().find_map(|(_, _, p)| pod_component(p, uid)) else {
            continue;
        };
        let Some((ppid, comm)) = stat(proc_root, pid) else {
            continue;
        };
        if pod_lines.is_none() {
            // The Pod's own cgroup in each hierarchy: this process's line
            // cut at the Pod's component.
            pod_lines = Some(
                lines
                    .iter()
                    .filter_map(|(id, c, p)| {
                        let (cut, _) = pod_component(p, uid)?;
                        Some((
                            id.to_string(),
                            c.iter().map(|s| s.to_string()).collect(),
                            cut,
                        ))
                    })
                    .collect(),
            );
        }
        members.push(Member {
            pid,
            ppid,
            comm,
            leaf,
        });
    }
    let Some(pod_lines) = pod_lines else {
        return Err(NoProcs::OtherNode);
    };
    // The container ids the status names (`containerd://<id>`).
    let status = pod.status.clone().unwrap_or_default();
    let ids: BTreeMap<String, String> = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter_map(|s| {
            let id = s.container_id.as_deref()?;
            let id = id.split_once("://").map_or(id, |(_, i)| i);
            Some((id.to_string(), s.name.clone()))
        })
        .collect();
    let spec = pod.spec.clone().unwrap_or_default();
    let names: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|c| c.name.clone())
        .collect();
    let container_of = |leaf: &str| -> Option<String> {
        let id = leaf_id(leaf)?;
        if let Some(n) = ids.get(id) {
            return Some(n.clone());
        }
        // kubelab's node names the cgroup after the container.
        names.iter().find(|n| n.as_str() == leaf).cloned()
    };
    // Group by leaf; each group's first process is the one whose parent is
    // not in the group (the container's PID 1 as the runtime started it).
    let mut groups: BTreeMap<Option<String>, Vec<&Member>> = BTreeMap::new();
    for m in &members {
        groups.entry(m.leaf.clone()).or_default().push(m);
    }
    let first = |ms: &[&Member]| -> Option<u32> {
        ms.iter()
            .filter(|m| !ms.iter().any(|o| o.pid == m.ppid))
            .map(|m| m.pid)
            .min()
    };
    let mut containers = Vec::new();
    let mut infra = None;
    for (leaf, ms) in &groups {
        match leaf.as_deref().and_then(container_of) {
            Some(name) => {
                if let Some(pid) = first(ms) {
                    containers.push((name, pid));
                }
            }
            None => {
                if let Some(m) = ms.iter().find(|m| PAUSE_NAMES.contains(&m.comm.as_str())) {
                    infra = Some(m.pid);
                }
            }
        }
    }
    // In spec order.
    containers.sort_by_key(|(n, _)| names.iter().position(|x| x == n));
    let cgroup_path = pod_lines
        .iter()
        .find(|(id, _, _)| id == "0")
        .or_else(|| pod_lines.first())
        .map(|(_, _, p)| p.clone());
    let cgroup_dirs = hierarchies
        .iter()
        .filter_map(|h| {
            let line = pod_lines.iter().find(|(id, c, _)| {
                if h.version == 2 {
                    id == "0" && c.is_empty()
                } else {
                    h.controllers.iter().any(|hc| c.contains(hc))
                }
            })?;
            dir_in(h, &line.2).filter(|d| d.is_dir())
        })
        .collect::<Vec<_>>();
    // On a hybrid host the empty v2 tree has no counters: keep v1 only.
    let cgroup_dirs = if cgroup_dirs.len() > 1 {
        let v1: Vec<PathBuf> = hierarchies
            .iter()
            .filter(|h| h.version == 1)
            .filter_map(|h| {
                cgroup_dirs
                    .iter()
                    .find(|d| d.starts_with(&h.mount))
                    .cloned()
            })
            .collect();
        v1
    } else {
        cgroup_dirs
    };
    Ok(PodProcs {
        infra_pid: infra,
        containers,
        cgroup_path,
        cgroup_dirs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "5f0c9a8e-2b1d-4c3e-9f7a-1234567890ab";

    #[test]
    fn both_kubelet_drivers_and_kubelabs_node_name_the_pod() {
        assert_eq!(
            pod_component(&format!("/kubepods/burstable/pod{UID}/abc123"), UID),
            Some((
                format!("/kubepods/burstable/pod{UID}"),
                Some("abc123".into())
            ))
        );
        let sd = format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-0123abcd.scope",
            UID.replace('-', "_")
        );
        let (pod, leaf) = pod_component(&sd, UID).unwrap();
        assert!(
            pod.ends_with(".slice") && pod.contains("besteffort-pod5f0c9a8e_2b1d"),
            "{pod}"
        );
        assert_eq!(leaf_id(&leaf.unwrap()), Some("0123abcd"));
        let guaranteed = format!(
            "/kubepods.slice/kubepods-pod{}.slice",
            UID.replace('-', "_")
        );
        assert_eq!(pod_component(&guaranteed, UID).unwrap().1, None);
        assert_eq!(
            pod_component(&format!("/kubelab/node-n1/kubepods/pod{UID}/_infra"), UID)
                .unwrap()
                .1
                .as_deref(),
            Some("_infra")
        );
        assert_eq!(leaf_id("crio-conmon-77.scope"), None);
        assert_eq!(leaf_id("crio-77.scope"), Some("77"));
        // Another Pod's UID, or a prefix of it, is not this Pod.
        assert_eq!(pod_component(&format!("/kubepods/pod{UID}0/x"), UID), None);
        assert_eq!(pod_component("/user.slice/session-2.scope", UID), None);
    }

    /// A fake /proc with a systemd-driver Pod: pause, two containers (one
    /// with a child), a runtime helper and an unrelated process.
    #[test]
    fn a_systemd_driver_pod_is_found_with_its_pause_and_containers() {
        let d = tempfile::tempdir().unwrap();
        let pod_slice = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice",
            UID.replace('-', "_")
        );
        let procs = [
            (
                10u32,
                1u32,
                "pause",
                format!("{pod_slice}/cri-containerd-aaaa.scope"),
            ),
            (
                20,
                1,
                "nginx",
                format!("{pod_slice}/cri-containerd-bbbb.scope"),
            ),
            (
                21,
                20,
                "nginx: worker",
                format!("{pod_slice}/cri-containerd-bbbb.scope"),
            ),
            (
                30,
                1,
                "sh (x)",
                format!("{pod_slice}/cri-containerd-cccc.scope"),
            ),
            (40, 1, "bash", "/user.slice/session-1.scope".to_string()),
        ];
        for (pid, ppid, comm, path) in &procs {
            let p = d.path().join(pid.to_string());
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(
                p.join("cgroup"),
                format!("12:memory:{path}\n11:cpu,cpuacct:{path}\n0::{path}\n"),
            )
            .unwrap();
            std::fs::write(p.join("stat"), format!("{pid} ({comm}) S {ppid} 1 1 0")).unwrap();
        }
        let mnt = d.path().join("sys");
        for h in ["memory", "cpu,cpuacct"] {
            std::fs::create_dir_all(mnt.join(h).join(pod_slice.trim_start_matches('/'))).unwrap();
        }
        let hier = |m: &str, c: &[&str], v: u8| Hierarchy {
            mount: mnt.join(m),
            root: "/".into(),
            version: v,
            controllers: c.iter().map(|s| s.to_string()).collect(),
        };
        let hs = [
            hier("memory", &["memory"], 1),
            hier("cpu,cpuacct", &["cpu", "cpuacct"], 1),
            hier("unified", &[], 2),
        ];
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "uid": UID},
            "spec": {"containers": [{"name": "side"}, {"name": "web"}]},
            "status": {"containerStatuses": [
                {"name": "web", "containerID": "containerd://bbbb", "image": "", "imageID": "", "ready": true, "restartCount": 0},
                {"name": "side", "containerID": "containerd://cccc", "image": "", "imageID": "", "ready": true, "restartCount": 0}
            ]}
        }))
        .unwrap();
        let found = find(d.path(), &hs, &pod).unwrap();
        assert_eq!(found.infra_pid, Some(10));
        assert_eq!(
            found.containers,
            [("side".to_string(), 30), ("web".to_string(), 20)]
        );
        assert_eq!(found.cgroup_path.as_deref(), Some(pod_slice.as_str()));
        assert_eq!(
            found.cgroup_dirs,
            [
                mnt.join("memory").join(pod_slice.trim_start_matches('/')),
                mnt.join("cpu,cpuacct")
                    .join(pod_slice.trim_start_matches('/'))
            ]
        );
        // A Pod whose UID no process carries runs on another node.
        let mut other = pod.clone();
        other.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
        assert_eq!(find(d.path(), &hs, &other), Err(NoProcs::OtherNode));
    }
}
