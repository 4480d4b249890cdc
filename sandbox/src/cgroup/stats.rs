//! One sample of a cgroup's counters, and the readers of its files (both
//! versions; what each version reads is in [`super::v1`] and [`super::v2`]).

use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;

/// One sample of a sandbox's cgroup counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub memory_current: u64,
    pub memory_peak: u64,
    /// None: no limit.
    pub memory_max: Option<u64>,
    pub oom_kills: u64,
    /// Times the cgroup hit its memory limit and ran the OOM path (v2 `oom`).
    pub oom_events: u64,
    pub cpu_usage_usec: u64,
    pub cpu_throttled_usec: u64,
    pub cpu_nr_throttled: u64,
    /// Quota in cores; None: no limit.
    pub cpu_quota: Option<f64>,
    pub pids_current: u64,
    pub pids_max: Option<u64>,
    /// How often a fork failed because of pids.max.
    pub pids_limit_hits: u64,
}

pub(super) fn read_u64(d: &Path, f: &str) -> u64 {
    fs::read_to_string(d.join(f))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

pub(super) fn read_limit(d: &Path, f: &str) -> Option<u64> {
    fs::read_to_string(d.join(f))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

pub(super) fn read_kv(d: &Path, f: &str) -> Vec<(String, u64)> {
    fs::read_to_string(d.join(f))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

pub(super) fn kv(v: &[(String, u64)], k: &str) -> u64 {
    v.iter().find(|(a, _)| a == k).map(|(_, b)| *b).unwrap_or(0)
}

pub(super) fn parse_cpu_max(t: &str) -> Option<f64> {
    let mut it = t.split_whitespace();
    let q = it.next()?;
    let p: f64 = it.next()?.parse().ok()?;
    if q == "max" {
        return None;
    }
    Some(q.parse::<f64>().ok()? / p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_parses() {
        assert_eq!(parse_cpu_max("20000 100000\n"), Some(0.2));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
    }
}
