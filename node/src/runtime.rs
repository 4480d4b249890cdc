//! The node agent's container runtime, shaped like the CRI.
//!
//! The kubelet never touches namespaces itself: it asks its runtime
//! (containerd, CRI-O) over the CRI for `RunPodSandbox`, then
//! `CreateContainer` + `StartContainer` per container, `StopContainer`,
//! `StopPodSandbox`/`RemovePodSandbox`, `ExecSync`. kubelab's node does the
//! same through [`Runtime`], so a lesson can point at the seam between the
//! kubelet's logic (the agent: manifests, restarts, probes, status) and the
//! runtime's kernel work (`kubelab-sandbox`: namespaces, cgroups, rootfs).
//!
//! The agent decides every value (cgroup files, env, mounts, log path) from
//! the Pod with this crate's pure modules; the runtime only applies them.

use crate::cgroup_plan::CgroupNode;
use crate::logs::RotationPolicy;
use crate::manifest::image::Image;
use crate::status::container::Exit;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the kubelet's network probes and `httpGet` hooks ask for, and their
/// answer: made by the sandbox engine's checker, which runs them in the
/// node's network namespace.
pub use kubelab_sandbox::net::{CheckOutcome, NetCheck};

/// A device node a container may open beyond the runtime's default list.
pub use kubelab_sandbox::cgroup::devices::DeviceRule;

/// `RunPodSandbox`: one Pod's infra process and the namespaces it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSandboxConfig {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The Pod's hostname (`spec.hostname`, else the Pod's name), set in the
    /// Pod's UTS namespace.
    pub hostname: String,
    /// `shareProcessNamespace`: the infra also holds a PID namespace every
    /// container joins (the infra is then PID 1 of the Pod, as pause is).
    pub share_process_namespace: bool,
    /// `hostIPC`: the Pod uses the node agent's IPC namespace (the infra
    /// makes none; containers keep their caller's).
    pub host_ipc: bool,
    /// `hostNetwork`: the Pod's processes are in the node's network
    /// namespace (no CNI; the Pod has no IP of its own).
    pub host_network: bool,
    /// `hostPID`: the Pod's processes are in the node's PID namespace and
    /// see its processes.
    pub host_pid: bool,
    /// The QoS tier's cgroup, from [`crate::cgroup_plan::tier_limits`]
    /// (`kubepods`, `kubepods/burstable` or `kubepods/besteffort`).
    pub tier_cgroup: CgroupNode,
    /// `…/pod<UID>` with the pod-level limits.
    pub pod_cgroup: CgroupNode,
    /// `…/pod<UID>/_infra`.
    pub infra_cgroup: CgroupNode,
}

/// What `RunPodSandbox` returns: the handles the agent needs later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSandbox {
    /// Runtime-chosen id, unique on the node.
    pub id: String,
    /// Host PID of the infra process.
    pub infra_pid: u32,
    /// The Pod's network namespace (`/proc/<infra>/ns/net` or a bind of it),
    /// for CNI_NETNS.
    pub netns: PathBuf,
    /// The Pod's cgroup directory on the host, one per mounted hierarchy
    /// (v2: one), for stats and metrics.
    pub pod_cgroup_dirs: Vec<PathBuf>,
    /// The Pod's IP from its network (CNI ADD's result); `None` when the
    /// Pod has loopback only.
    pub ip: Option<IpAddr>,
    /// Why the Pod has loopback only, when it has.
    pub network_note: Option<String>,
    /// `hostNetwork`: it lives in the node's network namespace (its `ip`
    /// is then the node's address, as the kubelet reports it).
    pub host_network: bool,
    /// The node's address (`status.hostIP`), when the node knows it.
    pub host_ip: Option<IpAddr>,
    /// What of the plan's resource settings the kernel did not take for
    /// the infra (no cgroups rootless, `oom_score_adj` needing a capability
    /// this host's root lacks), if anything: the agent records it as an
    /// event, so `describe` says why the numbers differ from the kubelet's.
    pub resource_note: Option<String>,
}

impl PodSandbox {
    /// Where the node reaches the Pod's ports (`tcpSocket`/`httpGet`
    /// probes and hooks without a `host`): its IP; a `hostNetwork` Pod's
    /// ports are the node's own, reached on its loopback.
    pub fn reach_ip(&self) -> Option<IpAddr> {
        if self.host_network {
            return Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        }
        self.ip
    }
}

/// A mount into one container (volumes, resolved by the agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// A host directory or file the agent prepared (emptyDir, configMap,
    /// secret, downwardAPI, an allowed hostPath; `subPath` already applied).
    pub host_path: PathBuf,
    /// Absolute path inside the container.
    pub container_path: String,
    pub read_only: bool,
    /// `mountPropagation`: `None` (private), `HostToContainer` (rslave),
    /// `Bidirectional` (rshared; privileged containers only).
    pub propagation: Propagation,
    /// A FlexVolume volume: the source is this path in the Pod's volume
    /// plugin sandbox, where its driver mounted it (`host_path` is then the
    /// node's folder under it, for messages).
    pub in_volume_plugin: Option<PathBuf>,
}

/// The Pod's volume plugin sandbox, where its FlexVolume drivers run: a
/// sandbox of the Pod (its user namespace: as privileged as a privileged
/// container of the Pod, never host root) with the host's programs and
/// these folders. What a driver mounts stays in its mount namespace, from
/// where the runtime binds it into the Pod's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumePluginConfig {
    /// (folder on the node, path inside), bound read-only: the drivers.
    pub plugin_dir: (PathBuf, PathBuf),
    /// (folder on the node, path inside), writable: the drivers' logs.
    pub log_dir: (PathBuf, PathBuf),
    /// (folder on the node, path inside), writable: each
    /// `pods/<uid>/volumes/<vendor>~<driver>` folder of the Pod.
    pub volume_dirs: Vec<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    None,
    HostToContainer,
    Bidirectional,
}

/// `CreateContainer` + `StartContainer`: one container of a Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerConfig {
    pub name: String,
    pub image: Image,
    /// `command` + `args`, `$(VAR)` already expanded (`downward::command_and_args`).
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub run_as_user: Option<u32>,
    pub run_as_group: Option<u32>,
    pub read_only_root_filesystem: bool,
    /// kubelab's privileged (all capabilities of the Pod's user namespace).
    pub privileged: bool,
    /// Capability names as in the manifest (`NET_ADMIN`, no `CAP_` prefix).
    pub capabilities_add: Vec<String>,
    pub capabilities_drop: Vec<String>,
    pub mounts: Vec<Mount>,
    /// `…/pod<UID>/<name>` with its limits and `oom_score_adj`.
    pub cgroup: CgroupNode,
    /// Where stdout/stderr go, in the CRI log format (the agent's
    /// `logs::LogLayout::container_log`); the runtime pumps both streams there.
    pub log_path: PathBuf,
    /// Rotate the log at this size, keeping this many files (the kubelet's
    /// `containerLogMaxSize`/`containerLogMaxFiles`); `None` never rotates.
    pub log_rotation: Option<RotationPolicy>,
    /// Devices a device plugin allocated: allowed in the container's
    /// device cgroup on top of the default list (containerd's
    /// `linux.resources.devices` from the plugin's `Allocate`).
    pub devices: Vec<DeviceRule>,
}

/// An interactive exec (`kubectl exec -it`): a process of the container
/// on a new PTY whose master end the caller relays a terminal to.
pub trait TtyExec: Send {
    /// The PTY's master end, once.
    fn take_master(&mut self) -> Option<std::os::fd::OwnedFd>;
    /// The exit code once it has exited; never blocks.
    fn try_wait(&mut self) -> std::io::Result<Option<i32>>;
    /// SIGKILL; returns the exit code.
    fn kill(&mut self) -> std::io::Result<i32>;
}

/// A started container.
pub trait Container: Send {
    /// Runtime-chosen id (`containerID` in the status, without a scheme).
    fn id(&self) -> &str;
    /// Host PID of the container's first process.
    fn pid(&self) -> u32;
    /// `Some` once it has exited (its whole cgroup is gone); never blocks.
    fn try_wait(&mut self) -> std::io::Result<Option<Exit>>;
    /// `StopContainer`: SIGTERM, then SIGKILL after `grace`; returns the exit.
    fn stop(&mut self, grace: Duration) -> std::io::Result<Exit>;
    /// `ExecSync`: run `argv` in the container's namespaces and cgroup;
    /// (exit code, stdout, stderr), each output bounded. Used for `exec`
    /// probes and `kubectl exec` without a terminal.
    fn exec_sync(
        &self,
        argv: &[String],
        timeout: Duration,
    ) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)>;
    /// The CRI's `Exec` with `tty: true`: `argv` in the container's
    /// namespaces and cgroup on a new PTY of `rows` × `cols`.
    fn exec_tty(&self, argv: &[String], rows: u16, cols: u16) -> std::io::Result<Box<dyn TtyExec>>;
    /// What of the container's resource settings the kernel did not take
    /// (see [`PodSandbox::resource_note`]).
    fn resource_note(&self) -> Option<String> {
        None
    }
}

/// The kernel side of a node.
pub trait Runtime: Send + Sync {
    fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> std::io::Result<PodSandbox>;
    fn start_container(
        &self,
        pod: &PodSandbox,
        config: &ContainerConfig,
    ) -> std::io::Result<Box<dyn Container>>;
    /// `StopPodSandbox` + `RemovePodSandbox`: the infra process ends and the
    /// Pod's cgroups are removed (its containers were stopped before).
    fn remove_pod_sandbox(&self, pod: &PodSandbox) -> std::io::Result<()>;
    /// Whether Pods get an IP reachable from the node (`Err`: why not, and
    /// what would fix it). `tcpSocket` and `httpGet` probes need it.
    fn pod_network(&self) -> Result<(), String>;
    /// Runs a `tcpSocket`/`httpGet` check from the node's network namespace
    /// (where the kubelet runs its probes), within `timeout`.
    fn net_check(&self, check: &NetCheck, timeout: Duration) -> CheckOutcome;
    /// An emptyDir with `medium: Memory`: a tmpfs of at most `size_bytes`
    /// on `dir`, the volume's directory on the node. The kubelet's emptyDir
    /// plugin mounts it there on the host, so every container's bind of
    /// `dir` shares the one tmpfs. A `dir` that already holds a mount is left
    /// as it is (volumes are prepared again before each container start).
    fn mount_memory_volume(&self, dir: &Path, size_bytes: u64) -> std::io::Result<()>;
    /// Whether every container gets its device rules (the default allow
    /// list, everything else denied). `Err`: why not and what would fix
    /// it; such a node must not start a Pod that asks for a device.
    fn device_rules(&self) -> Result<(), String> {
        Err("this runtime sets no device rules".into())
    }
    /// Undoes [`Runtime::mount_memory_volume`] (detached, never following a
    /// link); a `dir` that holds no mount, or is gone, is not an error.
    fn unmount_volume(&self, dir: &Path) -> std::io::Result<()>;
    /// Starts the Pod's volume plugin sandbox (see [`VolumePluginConfig`]),
    /// once; it ends with [`Runtime::remove_pod_sandbox`].
    fn start_volume_plugins(
        &self,
        pod: &PodSandbox,
        config: &VolumePluginConfig,
    ) -> std::io::Result<()> {
        let _ = (pod, config);
        Err(std::io::Error::other("this runtime runs no volume plugins"))
    }
    /// Runs `argv` (a driver call) in the Pod's volume plugin sandbox as
    /// its root; (exit code, stdout, stderr), each bounded.
    fn volume_plugin_call(
        &self,
        pod: &PodSandbox,
        argv: &[String],
        timeout: Duration,
    ) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)> {
        let _ = (pod, argv, timeout);
        Err(std::io::Error::other("this runtime runs no volume plugins"))
    }
    /// kube-proxy's job: makes the node's Service rules (and its cluster
    /// DNS's records) say `plan`, replacing what they said. `Err`: why the
    /// node cannot.
    fn sync_services(&self, plan: &crate::service::ServicePlan) -> Result<(), String> {
        let _ = plan;
        Err("this runtime has no Service data plane".into())
    }
    /// The cluster DNS at `address`, started on first use, for Pods with
    /// `dnsPolicy: ClusterFirst`. `Err`: why the node has none (said once
    /// the first time; the answer does not change).
    fn cluster_dns(&self, address: std::net::Ipv4Addr) -> Result<(), String> {
        let _ = address;
        Err("this runtime runs no cluster DNS".into())
    }
}
