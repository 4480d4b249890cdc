//! The inspector panes' view of an engine sandbox: `kubelab_sandbox::observe`
//! and cgroup stats, mapped to the panes' plain data.

use super::kmsg::KernelLog;
use crate::panes::inspect::model::*;
use crate::panes::inspect::sampler::Observe;
use crate::panes::text::{fill, Note};
use kubelab_sandbox::cgroup::Cgroup;
use kubelab_sandbox::observe;
use kubelab_sandbox::spec::Namespace;
use kubelab_sandbox::Sandbox;
use std::collections::HashSet;
use std::path::PathBuf;

/// The time namespace (Linux 5.6+), which sandboxes share with the host:
/// shown so the pane lists every type `lsns` does, the shared one marked.
/// PID 1 hides its links from a rootless observer; a child of it does not.
fn time_row(pid: i32) -> NsRow {
    let ino = |who: &str| {
        let link = std::fs::read_link(format!("/proc/{who}/ns/time")).ok()?;
        let s = link.to_string_lossy().into_owned();
        s.rsplit_once('[')?.1.trim_end_matches(']').parse().ok()
    };
    let sandbox = ino(&pid.to_string())
        .or_else(|| children(pid).into_iter().find_map(|c| ino(&c.to_string())));
    NsRow {
        kind: "time".into(),
        host: ino("self"),
        sandbox,
    }
}

/// Children of `pid` (its main thread's), from `/proc/PID/task/PID/children`.
fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Holds PIDs and paths only, never the sandbox handle, so a sampler cannot
/// keep a stopped lab alive.
pub struct EngineObserver {
    pid: u32,
    /// `Err`: the engine's note on why the sandbox has no cgroup.
    cgroup: Result<Cgroup, String>,
    upper: Option<PathBuf>,
    own_net: bool,
    kernel_log: Option<KernelLog>,
}

impl EngineObserver {
    pub fn new(sb: &Sandbox) -> EngineObserver {
        let cgroup = match sb.cgroup() {
            Some(c) => Ok(c.clone()),
            None => Err(sb
                .cgroup_note()
                .unwrap_or(super::limits_off::UNKNOWN)
                .to_string()),
        };
        let kernel_log = cgroup.as_ref().ok().map(|c| KernelLog::open(c.dirs()));
        EngineObserver {
            pid: sb.pid(),
            kernel_log,
            cgroup,
            upper: sb.upper_dir(),
            own_net: sb.spec().namespaces.contains(&Namespace::Net),
        }
    }
}

impl EngineObserver {
    /// The view of a process that is no sandbox: a lab world's node holder
    /// (src/lab/world.rs), for its namespaces and network.
    pub fn for_pid(pid: u32, no_cgroup: &str) -> EngineObserver {
        EngineObserver {
            pid,
            cgroup: Err(no_cgroup.to_string()),
            upper: None,
            own_net: true,
            kernel_log: None,
        }
    }

    /// No cgroup: what a cgroup would count, summed over the sandbox's
    /// processes (those of its PID namespace and below), without limits.
    /// Memory is their resident set (shared pages count once per process).
    fn usage_without_cgroup(&self, why: &str) -> Result<CgroupStats, String> {
        let procs = self.processes()?;
        let mut s = CgroupStats {
            limits_off: Some(why.to_string()),
            ..CgroupStats::default()
        };
        for p in &procs {
            // A process that ended between the listing and here adds nothing.
            if let Ok(u) = observe::proc_usage(p.host_pid as i32) {
                s.cpu_usage_usec += u.cpu_usec;
                s.pids_current += u.threads;
                s.memory_current += p.rss;
            }
        }
        s.memory_peak = s.memory_current;
        Ok(s)
    }
}

impl Observe for EngineObserver {
    fn oom_kills_logged(&self) -> Vec<(u32, String)> {
        self.kernel_log.as_ref().map_or_else(Vec::new, |l| {
            l.new_kills()
                .into_iter()
                .map(|k| (k.host_pid, k.name))
                .collect()
        })
    }

    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        let mut rows: Vec<NsRow> = observe::namespaces(self.pid)
            .into_iter()
            .map(|p| NsRow {
                kind: p.ns.name().to_string(),
                host: p.host,
                sandbox: p.sandbox,
            })
            .collect();
        rows.push(time_row(self.pid as i32));
        if rows.iter().all(|r| r.sandbox.is_none()) {
            return Err(Note::GONE.into());
        }
        Ok(rows)
    }

    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        let mut procs = observe::processes(self.pid);
        if procs.is_empty() {
            return Err(Note::GONE.into());
        }
        // The sandbox's own level in the NSpid chains (its PID 1 is 1 there).
        let level = procs
            .iter()
            .find(|p| p.host_pid == self.pid as i32)
            .map_or(2, |p| p.nspid.len().max(1));
        // Processes in PID namespaces nested inside the sandbox (`unshare -p`
        // in the lab) are not members of its namespace: add its descendants.
        let mut known: HashSet<i32> = procs.iter().map(|p| p.host_pid).collect();
        let mut queue: Vec<i32> = known.iter().copied().collect();
        while let Some(pid) = queue.pop() {
            for child in children(pid) {
                if known.len() < 4096 && known.insert(child) {
                    if let Ok(info) = observe::proc_info(child) {
                        procs.push(info);
                        queue.push(child);
                    }
                }
            }
        }
        procs.sort_by_key(|p| {
            (
                p.nspid.get(level - 1).copied().unwrap_or(i32::MAX),
                p.host_pid,
            )
        });
        Ok(procs
            .into_iter()
            .map(|p| ProcRow {
                host_pid: p.host_pid as u32,
                ns_pid: p.nspid.get(level - 1).and_then(|n| u32::try_from(*n).ok()),
                inner_pid: (p.nspid.len() > level)
                    .then(|| p.nspid.last().and_then(|n| u32::try_from(*n).ok()))
                    .flatten(),
                ppid: p.ppid as u32,
                name: p.comm,
                cmdline: p.cmdline,
                rss: p.rss_kib * 1024,
            })
            .collect())
    }

    fn cgroup(&self) -> Result<CgroupStats, String> {
        let cg = match &self.cgroup {
            Ok(cg) => cg,
            Err(why) => return self.usage_without_cgroup(why),
        };
        // After the sandbox ends its cgroup is removed: say so, not zeros.
        if cg.dirs().iter().any(|d| !d.exists()) {
            return Err(Note::CGROUP_GONE.into());
        }
        let s = cg.stats();
        Ok(CgroupStats {
            memory_current: s.memory_current,
            memory_peak: s.memory_peak,
            memory_max: s.memory_max,
            oom_kills: s.oom_kills,
            cpu_usage_usec: s.cpu_usage_usec,
            cpu_throttled_usec: s.cpu_throttled_usec,
            cpu_quota: s.cpu_quota,
            pids_current: s.pids_current,
            pids_max: s.pids_max,
            limits_off: None,
        })
    }

    fn filesystem(&self) -> Result<FsView, String> {
        let mounts = observe::mounts(self.pid)
            .map_err(|e| fill(Note::NO_MOUNTS, &[("e", &e)]))?
            .into_iter()
            .map(|m| (m.target, m.fstype, m.source))
            .collect();
        let upper = match &self.upper {
            None => Err(Note::NO_OVERLAY.into()),
            Some(dir) => observe::upper_listing(dir)
                .map_err(|e| fill(Note::NO_UPPER, &[("e", &e)]))
                .map(|v| {
                    v.into_iter()
                        .map(|e| UpperEntry {
                            path: e.path,
                            kind: match e.kind {
                                observe::UpperKind::File | observe::UpperKind::Other => {
                                    UpperKind::File
                                }
                                observe::UpperKind::Dir => UpperKind::Dir,
                                observe::UpperKind::OpaqueDir => UpperKind::Opaque,
                                observe::UpperKind::Symlink => UpperKind::Symlink,
                                observe::UpperKind::Whiteout => UpperKind::Whiteout,
                            },
                            size: e.size,
                        })
                        .collect()
                }),
        };
        Ok(FsView { mounts, upper })
    }

    fn network(&self) -> Result<NetView, String> {
        if !self.own_net {
            return Err(Note::NO_NETNS.into());
        }
        let target = observe::nettools::NetnsTarget::of_pid(self.pid);
        crate::panes::inspect::net::source::read(&target)
            .map_err(|e| fill(Note::NO_NET, &[("e", &e)]))
    }
}
