//! What the inspector panes show: plain data filled by a sampler thread from
//! the engine's observation API, drawn by `render`.

use std::collections::VecDeque;

/// How many samples the sparklines keep (at 4 Hz: the last 30 s).
pub const HISTORY: usize = 120;

/// One namespace type, host vs sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsRow {
    /// `pid`, `uts`, … as in `/proc/PID/ns/`.
    pub kind: String,
    pub host: Option<u64>,
    pub sandbox: Option<u64>,
}

impl NsRow {
    /// Isolated when the sandbox has its own namespace of this type.
    pub fn isolated(&self) -> Option<bool> {
        Some(self.host? != self.sandbox?)
    }
}

/// One process of the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRow {
    pub host_pid: u32,
    /// PID inside the sandbox's PID namespace (its level of NSpid).
    pub ns_pid: Option<u32>,
    /// PID in the innermost namespace when the process lives in a PID
    /// namespace nested inside the sandbox (`unshare -p` in the lab).
    pub inner_pid: Option<u32>,
    /// Host PID of the parent.
    pub ppid: u32,
    pub name: String,
    pub cmdline: String,
    /// Resident memory in bytes (to name an OOM victim).
    pub rss: u64,
}

/// Cgroup counters (mirror of the engine's stats, version-agnostic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupStats {
    pub memory_current: u64,
    pub memory_peak: u64,
    pub memory_max: Option<u64>,
    pub oom_kills: u64,
    pub cpu_usage_usec: u64,
    pub cpu_throttled_usec: u64,
    pub cpu_quota: Option<f64>,
    pub pids_current: u64,
    pub pids_max: Option<u64>,
    /// Set when the sandbox has no cgroup: the engine's note saying why
    /// (translated when drawn, see `crate::lab::limits_off`). The figures
    /// above are then summed over the sandbox's processes, without limits.
    pub limits_off: Option<String>,
}

/// The cgroup pane's state: the last sample plus history and events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupView {
    pub stats: CgroupStats,
    /// Memory in bytes, oldest first.
    pub memory: VecDeque<u64>,
    /// CPU use in thousandths of a core, oldest first.
    pub cpu_milli: VecDeque<u64>,
    /// Throttled time over the last interval, in thousandths of the interval.
    pub throttled_milli: u64,
    /// Newest last.
    pub events: VecDeque<OomEvent>,
    /// Set when the sandbox ended: the note to show above the last sample.
    pub ended: Option<String>,
}

/// The kernel's OOM killer ended a process of the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OomEvent {
    /// The victim (PID inside the sandbox, else host PID) when known.
    pub victim: Option<(u32, String)>,
    /// Memory in use (the limit) when it happened.
    pub at: u64,
}

impl OomEvent {
    /// "OOM: pid 1234 (python3) killed at 64 MiB", in the language of `t`.
    pub fn line(&self, t: &crate::panes::text::PaneText) -> String {
        use crate::panes::text::fill;
        let at = human_bytes(self.at);
        match &self.victim {
            Some((pid, name)) => fill(t.oom_victim, &[("pid", pid), ("name", name), ("at", &at)]),
            None => fill(t.oom_unknown, &[("at", &at)]),
        }
    }
}

/// An entry of the overlay upper dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpperEntry {
    /// Path relative to the sandbox's `/`, e.g. `/etc/hostname`.
    pub path: String,
    pub kind: UpperKind,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpperKind {
    File,
    Dir,
    Symlink,
    /// A character device 0:0: the lower file is deleted in the sandbox.
    Whiteout,
    /// A directory whose lower contents are hidden (`trusted.overlay.opaque`).
    Opaque,
}

/// The filesystem pane's data.
#[derive(Debug, Clone, PartialEq)]
pub struct FsView {
    /// Mount table inside: (mount point, fs type, source/options summary).
    pub mounts: Vec<(String, String, String)>,
    /// `Err(reason)` when the sandbox has no overlay upper dir.
    pub upper: Result<Vec<UpperEntry>, String>,
}

pub use super::net::NetView;

/// A pane's content: data, or one line saying why there is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Shown<T> {
    /// Not sampled yet ("starting…").
    #[default]
    Waiting,
    Data(T),
    /// E.g. "no cgroup: running rootless without a delegated cgroup v2 subtree".
    Unavailable(String),
}

/// Everything the inspectors of one sandbox show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    pub namespaces: Shown<Vec<NsRow>>,
    pub processes: Shown<Vec<ProcRow>>,
    pub cgroup: Shown<CgroupView>,
    pub filesystem: Shown<FsView>,
    pub network: Shown<NetView>,
}

/// Pushes onto a bounded history.
pub fn push_bounded<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    if q.len() == cap {
        q.pop_front();
    }
    q.push_back(v);
}

/// `64 MiB`, `512 KiB`, `3.2 GiB`.
pub fn human_bytes(b: u64) -> String {
    const K: f64 = 1024.0;
    let f = b as f64;
    if f >= K * K * K {
        format!("{:.1} GiB", f / (K * K * K))
    } else if f >= K * K {
        let m = f / (K * K);
        if (m - m.round()).abs() < 0.05 {
            format!("{:.0} MiB", m)
        } else {
            format!("{m:.1} MiB")
        }
    } else if f >= K {
        format!("{:.0} KiB", f / K)
    } else {
        format!("{b} B")
    }
}
