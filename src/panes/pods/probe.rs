//! One code path from "a Pod and where its processes are" to what the pane
//! shows: namespace inodes from `/proc/<pid>/ns/*`, the cgroup's use and
//! limits from its files (v1 or v2), container states from the Pod status.
//! Both sources (the lab's node, a real cluster's Pod on this machine) end
//! here. A process or cgroup that vanished between two reads is a missing
//! value, never a panic.

use super::model::*;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The list row of `pod`, with kubectl's rules (`status::printer`).
pub fn list_row(pod: &Pod, now: DateTime<Utc>) -> ListRow {
    let r = kubelab_node::status::printer::pod_row(pod, now);
    ListRow {
        key: PodKey {
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: r.name,
        },
        ready: r.ready,
        status: r.status,
        restarts: r.restarts,
        age: r.age,
    }
}

/// The inode of `/proc/<pid>/ns/<kind>` (`net:[4026531992]`); `None` when
/// the process is gone or the link unreadable.
pub fn ns_inode(proc_root: &Path, pid: u32, kind: &str) -> Option<u64> {
    let link = std::fs::read_link(proc_root.join(pid.to_string()).join("ns").join(kind)).ok()?;
    let s = link.to_str()?;
    s.strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The previous CPU reading, for a rate.
#[derive(Debug, Default, Clone)]
pub struct CpuMemo {
    last: Option<(PathBuf, Instant, u64)>,
}

impl CpuMemo {
    /// Thousandths of a core since the last reading of the same cgroup.
    fn rate(&mut self, dir: &Path, usage_ns: Option<u64>) -> Option<u64> {
        let now = Instant::now();
        let usage = usage_ns?;
        let out = match &self.last {
            Some((d, t, u)) if d == dir => {
                let dt = now.duration_since(*t).as_nanos().max(1);
                Some((u128::from(usage.saturating_sub(*u)) * 1000 / dt) as u64)
            }
            _ => None,
        };
        self.last = Some((dir.to_path_buf(), now, usage));
        out
    }
}

/// Whether a v1 hierarchy directory is mounted for controller `c`
/// (`/sys/fs/cgroup/cpu,cpuacct/…`).
fn hierarchy_has(dir: &Path, c: &str) -> bool {
    dir.components()
        .any(|p| p.as_os_str().to_string_lossy().split(',').any(|n| n == c))
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut s = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

/// CPU limit in cores: v2 `cpu.max` (`max 100000` = none), v1
/// `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 = none).
fn cpu_limit(dirs: &[PathBuf], v2: bool) -> Option<f64> {
    if v2 {
        let s = read_small(&dirs.first()?.join("cpu.max"))?;
        let mut it = s.split_whitespace();
        let (q, p) = (it.next()?, it.next()?);
        let (q, p): (f64, f64) = (q.parse().ok()?, p.parse().ok()?);
        return (p > 0.0).then(|| q / p);
    }
    let dir = dirs.iter().find(|d| hierarchy_has(d, "cpu"))?;
    let q: i64 = read_small(&dir.join("cpu.cfs_quota_us"))?
        .trim()
        .parse()
        .ok()?;
    let p: i64 = read_small(&dir.join("cpu.cfs_period_us"))?
        .trim()
        .parse()
        .ok()?;
    (q > 0 && p > 0).then(|| q as f64 / p as f64)
}

/// The cgroup's use and limits now; `Err` when it cannot be read (gone).
pub fn cgroup_use(procs: &PodProcs, memo: &mut CpuMemo) -> Result<CgroupUse, NoProcs> {
    let dirs = &procs.cgroup_dirs;
    let Some(first) = dirs.first() else {
        return Err(NoProcs::Error(
            "no cgroup: the Pod runs without cgroups".into(),
        ));
    };
    if !dirs.iter().all(|d| d.is_dir()) {
        return Err(NoProcs::Gone);
    }
    // One directory is the unified hierarchy; several are v1 controllers.
    let v2 = dirs.len() == 1 && !hierarchy_has(first, "memory");
    let stats = kubelab_node::api::top::read(dirs).ok_or_else(|| {
        NoProcs::Error(format!(
            "cannot read the cgroup {} (gone?)",
            procs.cgroup_path.as_deref().unwrap_or("?")
        ))
    })?;
    let cpu_dir = if v2 {
        first.clone()
    } else {
        dirs.iter()
            .find(|d| hierarchy_has(d, "cpuacct"))
            .unwrap_or(first)
            .clone()
    };
    Ok(CgroupUse {
        path: procs.cgroup_path.clone().unwrap_or_default(),
        cpu_milli: memo.rate(&cpu_dir, stats.cpu_usage_ns),
        cpu_limit: cpu_limit(dirs, v2),
        memory: stats.working_set_bytes(),
        memory_limit: stats.memory_limit_bytes.filter(|l| *l != u64::MAX),
        pids: stats.threads,
        pids_limit: stats.threads_max.flatten(),
        version: if v2 { 2 } else { 1 },
    })
}

fn state_text(s: &ContainerStatus) -> String {
    let Some(st) = &s.state else {
        return "Unknown".into();
    };
    if st.running.is_some() {
        return "Running".into();
    }
    if let Some(w) = &st.waiting {
        return match w.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => format!("Waiting: {r}"),
            None => "Waiting".into(),
        };
    }
    if let Some(t) = &st.terminated {
        let reason = t
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .unwrap_or("Terminated");
        return format!("Terminated: {reason} ({})", t.exit_code);
    }
    "Unknown".into()
}

/// The container rows: every container of the spec (init ones first), its
/// state and restarts from the status, its PID from `procs`.
fn containers(pod: &Pod, procs: Option<&PodProcs>) -> Vec<ContainerRow> {
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let pid = |name: &str| {
        procs.and_then(|p| {
            p.containers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, pid)| *pid)
        })
    };
    let row = |name: &str, init: bool, statuses: &Option<Vec<ContainerStatus>>| {
        let s = statuses.iter().flatten().find(|s| s.name == name);
        ContainerRow {
            name: name.to_string(),
            init,
            state: s.map_or_else(|| "Waiting".to_string(), state_text),
            ready: s.is_some_and(|s| s.ready),
            restarts: s.map_or(0, |s| s.restart_count),
            pid: pid(name),
        }
    };
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| row(&c.name, true, &status.init_container_statuses));
    let regular = spec
        .containers
        .iter()
        .map(|c| row(&c.name, false, &status.container_statuses));
    init.chain(regular).collect()
}

/// Everything the pane shows about `pod`. `procs`: where its processes
/// are, or why that is not known; `proc_root` is `/proc` (tests: a copy).
pub fn detail(
    pod: &Pod,
    procs: Result<&PodProcs, NoProcs>,
    events: Vec<EventLine>,
    now: DateTime<Utc>,
    proc_root: &Path,
    memo: &mut CpuMemo,
) -> PodDetail {
    let row = list_row(pod, now);
    let containers = containers(pod, procs.as_ref().ok().copied());
    let (ns_columns, namespaces, cgroup) = match procs {
        Ok(p) => {
            let cols: Vec<String> = p.containers.iter().map(|(n, _)| n.clone()).collect();
            let ns = match p.infra_pid {
                Some(infra) => Ok(NS_KINDS
                    .iter()
                    .map(|k| NsRow {
                        kind: k,
                        infra: ns_inode(proc_root, infra, k),
                        containers: p
                            .containers
                            .iter()
                            .map(|(_, pid)| ns_inode(proc_root, *pid, k))
                            .collect(),
                    })
                    .collect()),
                None => Err(NoProcs::NotRunning),
            };
            (cols, ns, cgroup_use(p, memo))
        }
        Err(why) => (Vec::new(), Err(why.clone()), Err(why)),
    };
    PodDetail {
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        qos: pod
            .status
            .as_ref()
            .and_then(|s| s.qos_class.clone())
            .unwrap_or_else(|| "-".into()),
        row,
        containers,
        ns_columns,
        namespaces,
        cgroup,
        events,
    }
}

/// `…/pod<UID>` of `dirs`: the path inside the hierarchy, from the first
/// directory and the mounts of this machine's hierarchies.
pub fn cgroup_path(dirs: &[PathBuf]) -> Option<String> {
    let first = dirs.first()?;
    let mounts = kubelab_sandbox::cgroup::hierarchies();
    mounts
        .iter()
        .filter_map(|h| first.strip_prefix(&h.mount).ok())
        .min_by_key(|rest| rest.as_os_str().len())
        .map(|rest| format!("/{}", rest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_inodes_read_from_links_and_a_vanished_pid_is_none() {
        let d = tempfile::tempdir().unwrap();
        let ns = d.path().join("42/ns");
        std::fs::create_dir_all(&ns).unwrap();
        std::os::unix::fs::symlink("net:[4026532001]", ns.join("net")).unwrap();
        std::os::unix::fs::symlink("garbage", ns.join("ipc")).unwrap();
        assert_eq!(ns_inode(d.path(), 42, "net"), Some(4026532001));
        assert_eq!(ns_inode(d.path(), 42, "ipc"), None);
        assert_eq!(ns_inode(d.path(), 43, "net"), None);
        // The real /proc: our own namespaces.
        let me = std::process::id();
        assert!(ns_inode(Path::new("/proc"), me, "mnt").is_some());
    }

    #[test]
    fn cgroup_files_of_both_versions_give_use_and_limits() {
        let d = tempfile::tempdir().unwrap();
        // v2: one directory.
        let v2 = d.path().join("unified/kubepods/podu");
        std::fs::create_dir_all(&v2).unwrap();
        for (f, v) in [
            ("cpu.stat", "usage_usec 1000\n"),
            ("cpu.max", "50000 100000\n"),
            ("memory.current", "4194304\n"),
            ("memory.max", "67108864\n"),
            ("memory.stat", "anon 1\ninactive_file 0\n"),
            ("pids.current", "3\n"),
            ("pids.max", "max\n"),
        ] {
            std::fs::write(v2.join(f), v).unwrap();
        }
        let procs = PodProcs {
            cgroup_path: Some("/kubepods/podu".into()),
            cgroup_dirs: vec![v2.clone()],
            ..PodProcs::default()
        };
        let mut memo = CpuMemo::default();
        let u = cgroup_use(&procs, &mut memo).unwrap();
        assert_eq!(
            (u.version, u.memory, u.memory_limit, u.pids, u.pids_limit),
            (2, Some(4 << 20), Some(64 << 20), Some(3), None)
        );
        assert_eq!(u.cpu_limit, Some(0.5));
        assert_eq!(u.cpu_milli, None, "a rate needs two readings");
        std::fs::write(v2.join("cpu.stat"), "usage_usec 999999999\n").unwrap();
        assert!(cgroup_use(&procs, &mut memo).unwrap().cpu_milli.unwrap() > 0);

        // v1: one directory per controller hierarchy.
        let mk = |h: &str, files: &[(&str, &str)]| {
            let p = d.path().join(h).join("kubepods/podu");
            std::fs::create_dir_all(&p).unwrap();
            for (f, v) in files {
                std::fs::write(p.join(f), v).unwrap();
            }
            p
        };
        let dirs = vec![
            mk(
                "cpu,cpuacct",
                &[
                    ("cpuacct.usage", "5\n"),
                    ("cpu.cfs_quota_us", "-1\n"),
                    ("cpu.cfs_period_us", "100000\n"),
                ],
            ),
            mk(
                "memory",
                &[
                    ("memory.usage_in_bytes", "8388608\n"),
                    ("memory.limit_in_bytes", "9223372036854771712\n"),
                    ("memory.stat", "total_inactive_file 0\n"),
                ],
            ),
            mk("pids", &[("pids.current", "2\n"), ("pids.max", "100\n")]),
        ];
        let procs = PodProcs {
            cgroup_dirs: dirs,
            ..PodProcs::default()
        };
        let u = cgroup_use(&procs, &mut memo).unwrap();
        assert_eq!(
            (
                u.version,
                u.memory,
                u.memory_limit,
                u.pids_limit,
                u.cpu_limit
            ),
            (1, Some(8 << 20), None, Some(100), None)
        );
        // The cgroup went away with its Pod: a reason, not a panic.
        std::fs::remove_dir_all(d.path().join("memory")).unwrap();
        assert!(cgroup_use(&procs, &mut memo).is_err());
    }
}
