//! What the Pod pane shows: plain data, filled off the UI thread by the
//! sampler from either source (the lab's node or a real cluster's Pods on
//! this machine), drawn by `render`.

use std::path::PathBuf;

/// A Pod by namespace and name (the selection survives resamples).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PodKey {
    pub namespace: String,
    pub name: String,
}

/// One row of the list: `kubectl get pods`' columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub key: PodKey,
    pub ready: String,
    pub status: String,
    pub restarts: String,
    pub age: String,
}

/// Where a Pod's processes and cgroup are on this machine, whichever source
/// found them (the node's `inspect` or /proc discovery).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodProcs {
    /// Host PID of the pause (infra) process.
    pub infra_pid: Option<u32>,
    /// (container name, host PID of its first process), running ones only.
    pub containers: Vec<(String, u32)>,
    /// The Pod-level cgroup inside its hierarchy (`/kubepods/…/pod<UID>`).
    pub cgroup_path: Option<String>,
    /// That cgroup's directory in each mounted hierarchy (v2: one).
    pub cgroup_dirs: Vec<PathBuf>,
}

/// Why a Pod's processes are not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoProcs {
    /// No process of the Pod's UID on this machine (a cluster's Pod).
    OtherNode,
    /// The Pod has no running sandbox (pending, or finished and cleaned).
    NotRunning,
    /// The selected Pod is gone (deleted).
    Gone,
    /// Anything else, as the source said it (English, from the system).
    Error(String),
}

/// One container of the selected Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRow {
    pub name: String,
    pub init: bool,
    /// `Running`, `Waiting: CrashLoopBackOff`, `Terminated: OOMKilled (137)`.
    pub state: String,
    pub ready: bool,
    pub restarts: i32,
    pub pid: Option<u32>,
}

/// One namespace type: the infra's inode and each container's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsRow {
    /// `net`, `ipc`, … as in `/proc/PID/ns/`.
    pub kind: &'static str,
    pub infra: Option<u64>,
    /// In the order of [`PodDetail::ns_columns`].
    pub containers: Vec<Option<u64>>,
}

impl NsRow {
    /// Whether container `i` shares this namespace with the infra process
    /// (`None`: one of the inodes is unknown).
    pub fn shared(&self, i: usize) -> Option<bool> {
        Some(self.infra? == (*self.containers.get(i)?)?)
    }
}

/// The namespace types compared, in `ls /proc/PID/ns` order.
pub const NS_KINDS: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// The Pod's cgroup now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CgroupUse {
    pub path: String,
    /// Thousandths of a core over the last sampling interval.
    pub cpu_milli: Option<u64>,
    /// Cores (`cfs_quota / cfs_period`, `cpu.max`).
    pub cpu_limit: Option<f64>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub pids: Option<u64>,
    pub pids_limit: Option<u64>,
    /// The cgroup's directories: `v1` (several hierarchies) or `v2`.
    pub version: u8,
}

/// One event of the selected Pod, newest last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub age: String,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub count: u32,
}

/// Everything shown about the selected Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PodDetail {
    pub row: ListRow,
    pub uid: String,
    pub qos: String,
    pub containers: Vec<ContainerRow>,
    /// Container names heading the namespace table (running ones).
    pub ns_columns: Vec<String>,
    /// The namespace table, or why there is none.
    pub namespaces: Result<Vec<NsRow>, NoProcs>,
    /// The cgroup, or why there is none.
    pub cgroup: Result<CgroupUse, NoProcs>,
    pub events: Vec<EventLine>,
}

/// The pane's data: the list, or one line saying why there is none.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Listing {
    #[default]
    Waiting,
    Pods {
        rows: Vec<ListRow>,
        /// More Pods exist than the node sent.
        truncated: bool,
    },
    /// The node is not there (not started yet, or went away): why.
    Unavailable(String),
}

/// What the sampler last saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodsData {
    pub listing: Listing,
    /// The selected Pod's details (`None`: none selected or not sampled).
    pub detail: Option<Result<PodDetail, NoProcs>>,
}
