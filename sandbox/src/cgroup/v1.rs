//! cgroup v1 (and the v1 side of a hybrid host): one directory per
//! controller hierarchy, limits in its files, the freezer for a race-free
//! kill.

use super::files::{mkdir_sandbox, write_file, CPU_PERIOD_US};
use super::handle::Cgroup;
use super::hierarchy::{dir_in, Hierarchy};
use super::stats::{kv, read_kv, read_limit, read_u64, Stats};
use crate::spec::Limits;
use std::fs;
use std::time::{Duration, Instant};

pub(super) fn create(
    cg: &mut Cgroup,
    v1: &[&Hierarchy],
    own: &[(String, Vec<String>, String)],
    id: &str,
    limits: &Limits,
    uid: u32,
) -> Result<(), String> {
    for h in v1 {
        let parent = dir_in(h, own)
            .ok_or_else(|| format!("this process has no cgroup in {}", h.mount.display()))?;
        if h.version == 2 {
            // Hybrid, through the public API: the controller-less cgroup2.
            let dir = mkdir_sandbox(&h.mount, id, cg)
                .map_err(|e| format!("cannot create a cgroup in {}: {e}", h.mount.display()))?;
            cg.unified = Some(dir);
            continue;
        }
        let dir = mkdir_sandbox(&parent, id, cg).map_err(|e| {
            if uid != 0 {
                format!(
                    "cgroup v1 ({}) is not writable by uid {uid}: {e}; cgroup v1 has no safe \
                     delegation, so limits need root (sudo kubelab ...) or a cgroup v2 host",
                    parent.display()
                )
            } else {
                format!("cannot create a cgroup in {}: {e}", parent.display())
            }
        })?;
        if h.controllers.iter().any(|c| c == "cpuset") {
            // (The `kubelab` parent may be new: made by mkdir_sandbox.)
            if let Some(base) = dir.parent() {
                super::tree::cpuset_parent(base)?;
            }
            super::tree::fill_cpuset(&dir)?;
        }
        for c in &h.controllers {
            cg.set(c, Some(dir.clone()));
        }
        // One level in v1 (see [`super::tree`] for why).
        cg.payload.push(dir);
    }
    if let Some(m) = limits.memory {
        let d = cg
            .memory
            .clone()
            .ok_or("limits.memory: the v1 memory controller is not mounted")?;
        write_file(&d, "memory.limit_in_bytes", &m.0.to_string())?;
        // Without swap accounting a hog would swap instead of being OOM-killed.
        if d.join("memory.memsw.limit_in_bytes").exists() {
            write_file(&d, "memory.memsw.limit_in_bytes", &m.0.to_string())?;
        }
        let _ = write_file(&d, "memory.swappiness", "0");
    }
    if let Some(c) = limits.cpus {
        let d = cg
            .cpu
            .clone()
            .ok_or("limits.cpus: the v1 cpu controller is not mounted")?;
        let quota = ((c.cores() * CPU_PERIOD_US as f64).round() as u64).max(1000);
        write_file(&d, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
        write_file(&d, "cpu.cfs_quota_us", &quota.to_string())?;
    }
    if let Some(p) = limits.pids {
        let d = cg
            .pids
            .clone()
            .ok_or("limits.pids: the v1 pids controller is not mounted")?;
        write_file(&d, "pids.max", &p.to_string())?;
    }
    Ok(())
}

/// Current usage and limits of a v1 cgroup (see [`Cgroup::stats`]).
pub(super) fn stats(cg: &Cgroup) -> Stats {
    let mut s = Stats::default();
    if let Some(d) = &cg.memory {
        s.memory_current = read_u64(d, "memory.usage_in_bytes");
        s.memory_peak = read_u64(d, "memory.max_usage_in_bytes");
        // v1 reports "no limit" as a huge page-aligned number.
        s.memory_max = read_limit(d, "memory.limit_in_bytes").filter(|&v| v < (1 << 62));
        let oc = read_kv(d, "memory.oom_control");
        s.oom_kills = kv(&oc, "oom_kill");
        // v1 has no separate "oom" counter; the failcnt counts limit hits.
        s.oom_events = s.oom_kills.max(kv(&oc, "under_oom"));
    }
    if let Some(d) = &cg.cpuacct {
        s.cpu_usage_usec = read_u64(d, "cpuacct.usage") / 1000;
    }
    if let Some(d) = &cg.cpu {
        let st = read_kv(d, "cpu.stat");
        s.cpu_throttled_usec = kv(&st, "throttled_time") / 1000;
        s.cpu_nr_throttled = kv(&st, "nr_throttled");
        let quota = fs::read_to_string(d.join("cpu.cfs_quota_us"))
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .unwrap_or(-1);
        let period = read_u64(d, "cpu.cfs_period_us");
        if quota > 0 && period > 0 {
            s.cpu_quota = Some(quota as f64 / period as f64);
        }
    }
    if let Some(d) = &cg.pids {
        s.pids_current = read_u64(d, "pids.current");
        s.pids_max = read_limit(d, "pids.max");
        s.pids_limit_hits = kv(&read_kv(d, "pids.events"), "max");
    }
    s
}

/// Freeze, SIGKILL everything, thaw (see [`Cgroup::kill_all`]).
pub(super) fn kill_all(cg: &Cgroup) {
    if cg.pids_in().is_empty() {
        return;
    }
    let freezer = cg.freezer.clone();
    if let Some(f) = &freezer {
        let _ = fs::write(f.join("freezer.state"), "FROZEN");
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            match fs::read_to_string(f.join("freezer.state")) {
                Ok(s) if s.trim() == "FROZEN" => break,
                Ok(_) => std::thread::sleep(Duration::from_millis(2)),
                Err(_) => break,
            }
        }
    }
    for _ in 0..50 {
        let pids = cg.pids_in();
        if pids.is_empty() {
            break;
        }
        for p in pids {
            let _ = crate::sys::kill(p, libc::SIGKILL);
        }
        if let Some(f) = &freezer {
            let _ = fs::write(f.join("freezer.state"), "THAWED");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    if let Some(f) = &freezer {
        let _ = fs::write(f.join("freezer.state"), "THAWED");
    }
}
