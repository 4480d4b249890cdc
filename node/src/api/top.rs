//! `top`: CPU and memory of each Pod from its cgroup (the pod-level one,
//! as metrics-server's pod numbers are), sampled twice for a CPU rate.

use super::TopRow;
use crate::agent::Node;
use crate::metrics::cgroup::{read_cgroup_v1, read_cgroup_v2, CgroupStats, CgroupV1Dirs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The CPU sampling window.
pub const WINDOW: Duration = Duration::from_millis(500);

/// Whether a v1 hierarchy directory belongs to controller `c`: its mount
/// is `/sys/fs/cgroup/<controllers>/…` with `c` among the comma-separated
/// names (`cpu,cpuacct`).
fn hierarchy_has(dir: &Path, c: &str) -> bool {
    dir.components()
        .any(|p| p.as_os_str().to_string_lossy().split(',').any(|n| n == c))
}

/// Reads one Pod's stats from its cgroup directories (v2: one).
pub fn read(dirs: &[PathBuf]) -> Option<CgroupStats> {
    match dirs {
        [] => None,
        [one] => read_cgroup_v2(one).ok(),
        many => {
            let find = |c: &str| many.iter().find(|d| hierarchy_has(d, c)).cloned();
            read_cgroup_v1(&CgroupV1Dirs {
                cpuacct: find("cpuacct")?,
                memory: find("memory")?,
                pids: find("pids")?,
            })
            .ok()
        }
    }
}

/// Every Pod's row.
pub fn rows(node: &Node) -> Vec<TopRow> {
    let pods = node.cgroup_dirs();
    let first: Vec<Option<CgroupStats>> = pods.iter().map(|(_, _, d)| read(d)).collect();
    let t0 = Instant::now();
    std::thread::sleep(WINDOW);
    let elapsed = t0.elapsed().as_nanos().max(1);
    pods.iter()
        .zip(first)
        .map(|((ns, name, dirs), a)| {
            let b = read(dirs);
            let cpu_milli = match (
                a.as_ref().and_then(|s| s.cpu_usage_ns),
                b.as_ref().and_then(|s| s.cpu_usage_ns),
            ) {
                (Some(x), Some(y)) => {
                    Some((u128::from(y.saturating_sub(x)) * 1000 / elapsed) as u64)
                }
                _ => None,
            };
            TopRow {
                namespace: ns.clone(),
                name: name.clone(),
                cpu_milli,
                memory_bytes: b.and_then(|s| s.working_set_bytes()),
            }
        })
        .collect()
}
