//! Pods, as the kubelet's runtime lays them out: an infra process holding
//! the Pod's namespaces ([`pause`]), containers that join them
//! ([`join`]), and cgroups at paths the caller chooses ([`cgroups`], which
//! lives with the other cgroup code in `cgroup/nested.rs`).
//!
//! A sandbox becomes a Pod member through [`crate::Sandbox::spawn_in_pod`]
//! with [`PodOptions`]; everything else (rootfs, binds, privileges, the
//! supervisor's cleanup) is the plain sandbox's.

pub use crate::cgroup::nested as cgroups;
pub(crate) mod foreign;
pub(crate) mod join;
pub(crate) mod pause;

use crate::cgroup::Cgroup;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The namespaces of a running process to join (the infra's): its user,
/// net, ipc and uts namespaces, and its PID namespace when `share_pid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinNamespaces {
    /// Host PID of the process (the Pod's infra).
    pub pid: u32,
    /// `shareProcessNamespace`: join its PID namespace instead of making one.
    pub share_pid: bool,
    /// `hostIPC`: the infra kept its caller's IPC namespace (the node
    /// agent's), so it is not joined: the container keeps its caller's too.
    /// (Joining it from inside the Pod's user namespace would need
    /// capabilities over the namespace's owner, which a Pod never has.)
    #[serde(default)]
    pub host_ipc: bool,
    /// `hostNetwork`: the infra's network namespace is the node's, which
    /// a Pod's user namespace has no capability over: it is not joined;
    /// the caller enters it first ([`PodOptions::host_netns`]). Nor is its
    /// UTS namespace, the caller's own (a hostNetwork Pod has the node's
    /// hostname).
    #[serde(default)]
    pub host_network: bool,
}

/// A cgroup the caller made (see [`cgroups::create_path`]) instead of the
/// sandbox's own `kubelab/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GivenCgroup {
    /// What the sandbox's processes join.
    pub join: Cgroup,
    /// What the supervisor removes when the sandbox ends (and the sweep
    /// after a crash); `None`: the caller removes `join` itself (e.g. after
    /// reading its OOM counter).
    pub own: Option<Cgroup>,
}

/// How a sandbox takes part in a Pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodOptions {
    /// Join these namespaces instead of creating user/net/ipc/uts (and pid).
    pub join: Option<JoinNamespaces>,
    pub cgroup: Option<GivenCgroup>,
    /// Written to the supervisor's own `oom_score_adj` before it clones, so
    /// every process of the sandbox inherits it. Lowering it needs host
    /// root (CAP_SYS_RESOURCE): a rootless sandbox keeps its value then.
    pub oom_score_adj: Option<i32>,
    /// PID 1 becomes the Pod's infra process, `kubelab-pause`: no payload,
    /// it reaps zombies and exits on SIGTERM/SIGINT, as Kubernetes' pause.
    pub pause: bool,
    /// Rootless infra only: a user namespace (`/proc/<pid>/ns/user`, e.g. a
    /// node's, see [`crate::net::NodeNetns::userns_path`]) that the Pod's
    /// own user namespace is made in, instead of the host's. Whoever is
    /// root there (the node's CNI plugins) then administers the Pod's
    /// network namespace; the Pod's root has no capability over that user
    /// namespace or its other children (other Pods).
    #[serde(default)]
    pub parent_userns: Option<PathBuf>,
    /// `hostNetwork`: a network namespace (the node's,
    /// `/proc/<holder>/ns/net`) the supervisor enters before the Pod's user
    /// namespace exists — while it still has capabilities over the
    /// namespace's owner (host root, or root of `parent_userns`, entered
    /// first) — with a `/sys` of it mounted there for the Pod's mounts to
    /// copy (a Pod's user namespace may not mount sysfs for it). The spec
    /// must leave out `net`.
    #[serde(default)]
    pub host_netns: Option<PathBuf>,
    /// Volumes mounted in another sandbox of the Pod (its volume plugin
    /// sandbox, where a FlexVolume driver ran): bound into this one from
    /// there. Never the host's mount namespace: see [`ForeignBinds`].
    #[serde(default)]
    pub foreign_binds: Option<ForeignBinds>,
}

/// Binds whose sources live in the mount namespace of another member of
/// the Pod: a FlexVolume driver mounts a volume inside the Pod's volume
/// plugin sandbox (root of the Pod's user namespace, never the host's), so
/// its mounts exist only there. PID 1 enters that namespace for a moment
/// to clone each source (`open_tree`), checks it is owned by the Pod's own
/// user namespace first, and attaches the clones like its other binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignBinds {
    /// Host PID of a process in that mount namespace (the plugin sandbox's
    /// PID 1).
    pub pid: u32,
    pub binds: Vec<ForeignBind>,
}

/// One bind of [`ForeignBinds`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignBind {
    /// The path in the other mount namespace.
    pub source: PathBuf,
    /// Where it goes in this sandbox.
    pub target: PathBuf,
    pub readonly: bool,
}

/// Sets this process's `oom_score_adj` (inherited by its children).
pub(crate) fn set_oom_score_adj(value: i32) -> std::io::Result<()> {
    std::fs::write("/proc/self/oom_score_adj", value.to_string())
}
