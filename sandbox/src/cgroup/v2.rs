//! cgroup v2: one unified hierarchy, limits on `kubelab/<id>` and the
//! processes in its `payload` child (see [`super::tree`]), `cgroup.kill`.
//! Where `kubelab/<id>` goes for a rootless caller is decided with
//! [`super::delegation`].

use super::files::{mkdir_sandbox, write_file, CPU_PERIOD_US};
use super::handle::Cgroup;
use super::hierarchy::{dir_in, Hierarchy};
use super::stats::{kv, parse_cpu_max, read_kv, read_limit, read_u64, Stats};
use crate::spec::Limits;
use std::fs;
use std::path::{Path, PathBuf};

/// Where a rootless v2 sandbox's `kubelab/<id>` goes when the caller chose:
/// its systemd scope, or why it has none (see [`super::delegation`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct V2Parent {
    pub given: Option<PathBuf>,
    pub why_not: Option<String>,
}

pub(super) fn create(
    cg: &mut Cgroup,
    h: &Hierarchy,
    own: &[(String, Vec<String>, String)],
    id: &str,
    limits: &Limits,
    uid: u32,
    v2: &V2Parent,
) -> Result<(), String> {
    let own_dir = dir_in(h, own).ok_or("this process has no cgroup v2 path")?;
    // Root uses the hierarchy root; others the caller's systemd scope, else
    // the highest delegated ancestor.
    let parent = if uid == 0 {
        h.mount.clone()
    } else if let Some(scope) = &v2.given {
        if !super::owner::delegated_to(scope, uid) {
            return Err(format!(
                "the systemd scope {} is not delegated to uid {uid}",
                scope.display()
            ));
        }
        scope.clone()
    } else {
        super::owner::delegated_ancestor(h, &own_dir, uid).ok_or_else(|| {
            let scope = v2
                .why_not
                .as_ref()
                .map(|w| format!("no delegated systemd scope either ({w}); "))
                .unwrap_or_default();
            let fix = if v2
                .why_not
                .as_ref()
                .is_some_and(|w| w.contains("no user D-Bus"))
            {
                "start your systemd user manager (sudo loginctl enable-linger $USER, then log \
                 in again) or run inside a delegated scope: \
                 systemd-run --user --scope -p Delegate=yes kubelab ..., or run as root"
            } else {
                "run kubelab inside a delegated scope: \
                 systemd-run --user --scope -p Delegate=yes kubelab ..., or run as root"
            };
            format!(
                "cgroup v2 is not delegated to uid {uid} (own cgroup {} is not owned by you); \
                 {scope}{fix}",
                own_dir.display()
            )
        })?
    };
    let wanted: Vec<&str> = [
        limits.memory.map(|_| "memory"),
        limits.cpus.map(|_| "cpu"),
        limits.pids.map(|_| "pids"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let available = fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
    for w in &wanted {
        if !available.split_whitespace().any(|a| a == *w) {
            return Err(format!(
                "the `{w}` controller is not available in {} (cgroup.controllers: `{}`); \
                 delegate it (systemd: {}) or run as root",
                parent.display(),
                available.trim(),
                super::owner::DELEGATE_FIX
            ));
        }
    }
    let enable = |dir: &Path| -> Result<(), String> {
        for c in ["memory", "cpu", "pids"] {
            if available.split_whitespace().any(|a| a == c) {
                let r = write_file(dir, "cgroup.subtree_control", &format!("+{c}"));
                if let Err(e) = r {
                    if wanted.contains(&c) {
                        return Err(format!(
                            "{e} (a cgroup v2 with processes of its own cannot delegate \
                             controllers; run kubelab in a leaf cgroup below a delegated one)"
                        ));
                    }
                }
            }
        }
        Ok(())
    };
    enable(&parent)?;
    let dir = mkdir_sandbox(&parent, id, cg)
        .map_err(|e| format!("cannot create a cgroup in {}: {e}", parent.display()))?;
    enable(dir.parent().unwrap_or(&parent))?;
    for c in ["memory", "cpu", "cpuacct", "pids", "freezer"] {
        cg.set(c, Some(dir.clone()));
    }
    // The processes go one level down (no controller enabled there: the
    // sandbox sees no limit files at all, see [`super::tree`]).
    let payload = dir.join(super::tree::PAYLOAD);
    fs::create_dir(&payload)
        .map_err(|e| format!("cannot create a cgroup {}: {e}", payload.display()))?;
    cg.created.push(payload.clone());
    cg.payload.push(payload);
    if let Some(m) = limits.memory {
        write_file(&dir, "memory.max", &m.0.to_string())?;
        if dir.join("memory.swap.max").exists() {
            let _ = write_file(&dir, "memory.swap.max", "0");
        }
    }
    if let Some(c) = limits.cpus {
        let quota = ((c.cores() * CPU_PERIOD_US as f64).round() as u64).max(1000);
        write_file(&dir, "cpu.max", &format!("{quota} {CPU_PERIOD_US}"))?;
    }
    if let Some(p) = limits.pids {
        write_file(&dir, "pids.max", &p.to_string())?;
    }
    Ok(())
}

/// Current usage and limits of a v2 cgroup (see [`Cgroup::stats`]).
pub(super) fn stats(cg: &Cgroup) -> Stats {
    let mut s = Stats::default();
    if let Some(d) = &cg.memory {
        s.memory_current = read_u64(d, "memory.current");
        s.memory_peak = read_u64(d, "memory.peak");
        s.memory_max = read_limit(d, "memory.max");
        let ev = read_kv(d, "memory.events");
        s.oom_events = kv(&ev, "oom");
        s.oom_kills = kv(&ev, "oom_kill");
    }
    if let Some(d) = &cg.cpu {
        let st = read_kv(d, "cpu.stat");
        s.cpu_usage_usec = kv(&st, "usage_usec");
        s.cpu_throttled_usec = kv(&st, "throttled_usec");
        s.cpu_nr_throttled = kv(&st, "nr_throttled");
        s.cpu_quota = fs::read_to_string(d.join("cpu.max"))
            .ok()
            .and_then(|t| parse_cpu_max(&t));
    }
    if let Some(d) = &cg.pids {
        s.pids_current = read_u64(d, "pids.current");
        s.pids_max = read_limit(d, "pids.max");
        s.pids_limit_hits = kv(&read_kv(d, "pids.events"), "max");
    }
    s
}

/// `cgroup.kill`, else freeze and SIGKILL every member (see [`Cgroup::kill_all`]).
pub(super) fn kill_all(cg: &Cgroup) {
    if let Some(d) = &cg.pids.clone().or(cg.memory.clone()) {
        if fs::write(d.join("cgroup.kill"), "1").is_ok() {
            return;
        }
    }
    for _ in 0..50 {
        let pids = cg.pids_in();
        if pids.is_empty() {
            return;
        }
        let _ = fs::write(
            cg.pids.clone().unwrap_or_default().join("cgroup.freeze"),
            "1",
        );
        for p in pids {
            let _ = crate::sys::kill(p, libc::SIGKILL);
        }
        let _ = fs::write(
            cg.pids.clone().unwrap_or_default().join("cgroup.freeze"),
            "0",
        );
    }
}
