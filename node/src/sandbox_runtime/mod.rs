//! [`Runtime`] on kubelab's sandbox engine: the Pod's infra is a sandbox
//! whose PID 1 becomes `kubelab-pause` holding the Pod's user, net, ipc and
//! uts namespaces (and pid, `shareProcessNamespace`); each container is a
//! sandbox that joins them and has its own mount (and pid) namespace and
//! rootfs; every one sits in the cgroup the plan names, below
//! `kubelab/node-<name>/` in the host's tree. Pods get their IP from CNI
//! plugins run in the node's own network namespace ([`network`]); its
//! Services are nat rules and a dnsmasq there (`services`).

mod cgroups;
mod container;
mod devices;
mod memory_volume;
pub mod network;
mod services;
mod volume_plugins;
pub use services::{why_no_cluster_dns, why_no_service_rules};

pub use container::SandboxContainer;
pub use network::CniOptions;

use crate::cgroup_plan::WeightFormula;
use crate::cni::Attachment;
use crate::manifest::image::Image;
use crate::runtime::{
    CheckOutcome, ContainerConfig, Mount, NetCheck, PodSandbox, PodSandboxConfig, Propagation,
    Runtime, VolumePluginConfig,
};
use kubelab_sandbox::cgroup::Cgroup;
use kubelab_sandbox::pod::{ForeignBind, ForeignBinds, GivenCgroup, JoinNamespaces, PodOptions};
use kubelab_sandbox::spec::{self, Namespace, Rootfs, Spec};
use kubelab_sandbox::{Sandbox, SpawnOptions, StdioMode};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How the runtime runs sandboxes on this node.
#[derive(Debug, Clone)]
pub struct SandboxRuntimeOptions {
    /// Names the node's cgroup subtree, `kubelab/node-<name>`.
    pub node_name: String,
    /// The executable re-executed as the sandbox helper (must call
    /// `kubelab_sandbox::dispatch()` first). Default `/proc/self/exe`.
    pub helper_exe: PathBuf,
    /// The sandboxes' runtime dir (default: the sandbox engine's).
    pub runtime_dir: Option<PathBuf>,
    /// Where OCI layers are unpacked (default: the sandbox engine's).
    pub cache_dir: Option<PathBuf>,
    /// Force cgroup v1 or v2 (default: detect; hybrid uses v1).
    pub cgroup_version: Option<u8>,
    /// cpu.shares → cpu.weight on cgroup v2.
    pub weight_formula: WeightFormula,
    /// The Pod network (CNI); `None`: Pods get loopback only.
    pub cni: Option<CniOptions>,
    /// The node's `metrics.sock`, also served on port
    /// [`network::METRICS_PORT`] inside the node's network namespace once
    /// it exists (Pod networking on), where Pods reach it at the bridge's
    /// address. `None`: the socket only.
    pub metrics_socket: Option<PathBuf>,
}

impl SandboxRuntimeOptions {
    pub fn new(node_name: &str) -> Self {
        SandboxRuntimeOptions {
            node_name: node_name.to_string(),
            helper_exe: PathBuf::from("/proc/self/exe"),
            runtime_dir: None,
            cache_dir: None,
            cgroup_version: None,
            weight_formula: WeightFormula::default(),
            cni: None,
            metrics_socket: None,
        }
    }
}

struct PodEntry {
    infra: Sandbox,
    /// `…/pod<UID>`, removed with everything below it.
    cgroup: Option<Cgroup>,
    /// Why the Pod runs without its cgroups.
    note: Option<String>,
    share_pid: bool,
    host_ipc: bool,
    host_network: bool,
    host_pid: bool,
    /// The Pod's CNI attachment, DELeted when it goes.
    attachment: Option<Attachment>,
    /// `…/pod<UID>/_infra`, which the volume plugin sandbox joins too.
    infra_cgroup: Option<Cgroup>,
    /// Where its FlexVolume drivers run, once started.
    volume_plugins: Option<Sandbox>,
}

/// The sandbox-backed [`Runtime`].
pub struct SandboxRuntime {
    opts: SandboxRuntimeOptions,
    pods: Mutex<HashMap<String, PodEntry>>,
    /// Before `network`: dnsmasq stops before the namespace's holder.
    services: services::ServicePlane,
    network: network::PodNetwork,
}

fn other(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

impl SandboxRuntime {
    pub fn new(opts: SandboxRuntimeOptions) -> io::Result<SandboxRuntime> {
        cgroups::check_segment(&format!("node-{}", opts.node_name))?;
        let network = network::PodNetwork::new(
            opts.cni.clone(),
            opts.helper_exe.clone(),
            opts.metrics_socket.clone(),
        )?;
        Ok(SandboxRuntime {
            opts,
            pods: Mutex::new(HashMap::new()),
            services: services::ServicePlane::default(),
            network,
        })
    }

    fn root(&self) -> Vec<String> {
        vec![format!("node-{}", self.opts.node_name)]
    }

    fn spawn_options(&self, stdio: StdioMode) -> SpawnOptions {
        SpawnOptions {
            helper_exe: self.opts.helper_exe.clone(),
            stdio,
            runtime_dir: self.opts.runtime_dir.clone(),
            cache_dir: self.opts.cache_dir.clone(),
            cgroup_version: self.opts.cgroup_version,
            ..SpawnOptions::default()
        }
    }

    /// Why a Pod runs without the plan's cgroups (rootless where cgroups
    /// are not delegated), if it does.
    pub fn cgroup_note(&self, pod_id: &str) -> Option<String> {
        let pods = self.pods.lock().ok()?;
        pods.get(pod_id).and_then(|p| p.note.clone())
    }

    /// `tier/pod<UID>` (owned: removed as a tree) and `…/_infra`, made with
    /// the plan's values.
    fn pod_cgroups(&self, config: &PodSandboxConfig) -> io::Result<(Cgroup, Cgroup)> {
        let root = self.root();
        let f = self.opts.weight_formula;
        let nodes = [&config.tier_cgroup, &config.pod_cgroup];
        let pod_levels = cgroups::levels(&root, &config.pod_cgroup.path, &nodes, f)?;
        let mut pod_cg = cgroups::create(&pod_levels, self.opts.cgroup_version)?;
        pod_cg.recursive = true;
        let all = [
            &config.tier_cgroup,
            &config.pod_cgroup,
            &config.infra_cgroup,
        ];
        match cgroups::levels(&root, &config.infra_cgroup.path, &all, f)
            .and_then(|l| cgroups::create(&l, self.opts.cgroup_version))
        {
            // The infra is a container too: runc's default device list.
            // Where rules cannot be set, the containers' events say so.
            Ok(infra) => match devices::restrict(Some(&infra), &[]) {
                Ok(_) => Ok((pod_cg, infra)),
                Err(e) => {
                    pod_cg.destroy();
                    Err(e)
                }
            },
            Err(e) => {
                pod_cg.destroy();
                Err(e)
            }
        }
    }

    /// The infra's host PID of a running Pod sandbox, if this runtime runs it.
    pub fn infra_pid(&self, pod_id: &str) -> Option<u32> {
        let pods = self.pods.lock().ok()?;
        pods.get(pod_id).map(|p| p.infra.pid())
    }
}

/// A rootless node whose cgroups are not delegated (cgroup v1, or a v2
/// tree not ours) runs Pods without them, saying why; root never does.
fn without_cgroups(e: io::Error) -> io::Result<String> {
    if kubelab_sandbox::is_root() || e.kind() != io::ErrorKind::PermissionDenied {
        return Err(other("create the Pod's cgroups", e));
    }
    Ok(format!(
        "running without the Pod's cgroups (no limits, no OOM status): {e}; \
         run the node as root or on a host with a delegated cgroup v2 tree"
    ))
}

/// `image:` → the sandbox's rootfs.
pub fn rootfs_of(image: &Image) -> Rootfs {
    match image {
        Image::Host => Rootfs::Host,
        Image::Busybox => Rootfs::Busybox,
        Image::OciLayout { path, .. } => Rootfs::Oci(path.clone()),
    }
}

/// A volume mount as the sandbox's bind; its propagation goes to
/// [`Spec::slave_binds`]. `Bidirectional` is refused: kubelab's privileged
/// is root of the Pod's user namespace only, and a mount it makes must
/// never reach the node's (the host's) mount namespace.
fn bind_of(m: &Mount) -> io::Result<spec::Mount> {
    match m.propagation {
        Propagation::None => {}
        Propagation::HostToContainer => check_receives(&m.host_path).map_err(|why| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "mountPropagation HostToContainer for {}: {why}",
                    m.container_path
                ),
            )
        })?,
        Propagation::Bidirectional => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "mountPropagation Bidirectional for {}: not supported by this runtime: a \
                     Pod's privileged is root of its own user namespace only, and its mounts \
                     never reach the node's mount namespace; use HostToContainer",
                    m.container_path
                ),
            ))
        }
    }
    Ok(spec::Mount::Bind {
        source: m.host_path.clone(),
        target: PathBuf::from(&m.container_path),
        readonly: m.read_only,
    })
}

/// Whether mounts made on the node under `path` can reach a container:
/// the mount holding it must be shared (or a slave) on the node, as
/// containerd's `ensureSharedOrSlave` requires for rslave.
fn check_receives(path: &Path) -> Result<(), String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("read /proc/self/mountinfo: {e}"))?;
    let real = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match mount_holding(&info, &real) {
        Some((_, true)) => Ok(()),
        Some((point, false)) => Err(format!(
            "the node's mount {point} holding {} is private, so nothing mounted there later \
             can propagate; make it shared (`mount --make-rshared {point}`), as the kubelet \
             needs for its root directory",
            real.display()
        )),
        None => Err(format!("no mount holds {}", real.display())),
    }
}

/// The mount point holding `path` in a mountinfo text (the last one mounted
/// on its longest ancestor) and whether it is shared or a slave.
fn mount_holding(info: &str, path: &Path) -> Option<(String, bool)> {
    let mut best: Option<(usize, String, bool)> = None;
    for line in info.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let Some(point) = f.get(4) else { continue };
        // mountinfo escapes spaces and the like as \ooo.
        let point = unescape_mountinfo(point);
        if !path.starts_with(&point) {
            continue;
        }
        let optional = f.iter().skip(6).take_while(|x| **x != "-");
        let propagates = optional
            .clone()
            .any(|o| o.starts_with("shared:") || o.starts_with("master:"));
        let depth = Path::new(&point).components().count();
        if best.as_ref().is_none_or(|(d, _, _)| depth >= *d) {
            best = Some((depth, point, propagates));
        }
    }
    best.map(|(_, p, s)| (p, s))
}

fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|o| o.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(o)) => {
                out.push((o[0] - b'0') * 64 + (o[1] - b'0') * 8 + (o[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The sandbox's identity of a container: its `securityContext` ids and
/// capability changes.
fn identity_of(c: &ContainerConfig) -> spec::Identity {
    spec::Identity {
        user: c.run_as_user,
        group: c.run_as_group,
        cap_add: c.capabilities_add.clone(),
        cap_drop: c.capabilities_drop.clone(),
    }
}

/// A container's FlexVolume mounts, cloned from the Pod's volume plugin
/// sandbox (PID `plugins`).
fn foreign_binds(c: &ContainerConfig, plugins: Option<u32>) -> io::Result<Option<ForeignBinds>> {
    let binds: Vec<ForeignBind> = c
        .mounts
        .iter()
        .filter_map(|m| m.in_volume_plugin.as_ref().map(|p| (m, p)))
        .map(|(m, p)| {
            if m.propagation != Propagation::None {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "mountPropagation of {} (a flexVolume volume): not supported by this \
                         runtime, whose drivers' mounts live in the Pod's volume plugin sandbox; \
                         leave it out",
                        m.container_path
                    ),
                ));
            }
            Ok(ForeignBind {
                source: p.clone(),
                target: PathBuf::from(&m.container_path),
                readonly: m.read_only,
            })
        })
        .collect::<io::Result<_>>()?;
    if binds.is_empty() {
        return Ok(None);
    }
    let pid = plugins.ok_or_else(|| {
        io::Error::other("the Pod's volume plugin sandbox is not running: its flexVolume volumes are not mounted")
    })?;
    Ok(Some(ForeignBinds { pid, binds }))
}

/// The sandbox spec of a container.
fn container_spec(c: &ContainerConfig) -> io::Result<Spec> {
    Ok(Spec {
        namespaces: vec![
            Namespace::Mount,
            Namespace::Pid,
            Namespace::Cgroup,
            Namespace::User,
        ],
        hostname: None,
        rootfs: rootfs_of(&c.image),
        mounts: c
            .mounts
            .iter()
            .filter(|m| m.in_volume_plugin.is_none())
            .map(bind_of)
            .collect::<io::Result<_>>()?,
        slave_binds: c
            .mounts
            .iter()
            .filter(|m| m.propagation == Propagation::HostToContainer)
            .map(|m| PathBuf::from(&m.container_path))
            .collect(),
        env: c.env.iter().cloned().collect(),
        workdir: c.working_dir.as_ref().map(PathBuf::from),
        command: c.argv.clone(),
        privileged: c.privileged,
        // The command is PID 1 of its PID namespace, as in a container.
        init: false,
        identity: identity_of(c),
        readonly_rootfs: c.read_only_root_filesystem,
        ..Spec::default()
    })
}

/// Refuses a `runAsUser`/`runAsGroup` the Pod's user namespace (the
/// infra's, which the container joins) does not map: a rootless node's
/// Pods map uid 0 only, root's 0..65536.
fn check_ids_mapped(infra_pid: u32, c: &ContainerConfig) -> io::Result<()> {
    let fields = [
        ("runAsUser", c.run_as_user, "uid_map"),
        ("runAsGroup", c.run_as_group, "gid_map"),
    ];
    for (field, id, file) in fields {
        let Some(id) = id else { continue };
        let path = format!("/proc/{infra_pid}/{file}");
        let map = std::fs::read_to_string(&path).map_err(|e| other(&format!("read {path}"), e))?;
        if !kubelab_sandbox::idmap::maps(&map, id) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "container {:?}: securityContext.{field} {id} is not mapped in the Pod's user \
                     namespace ({file}: {}); a node run without root maps only id 0 into its Pods: \
                     use 0, or run the node as root (its Pods map ids 0-65535)",
                    c.name,
                    map.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
            ));
        }
    }
    Ok(())
}

impl Runtime for SandboxRuntime {
    fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> io::Result<PodSandbox> {
        let (given, note) = match self.pod_cgroups(config) {
            Ok((pod_cg, infra_cg)) => (
                Some(GivenCgroup {
                    join: infra_cg,
                    own: Some(pod_cg),
                }),
                None,
            ),
            Err(e) => (None, Some(without_cgroups(e)?)),
        };
        let infra_cgroup = given.as_ref().map(|g| g.join.clone());
        let pod_cg = given.as_ref().and_then(|g| g.own.clone());
        let namespaces = [
            Namespace::User,
            Namespace::Net,
            Namespace::Ipc,
            Namespace::Uts,
            Namespace::Pid,
        ]
        .into_iter()
        .filter(|n| match n {
            Namespace::Ipc => !config.host_ipc,
            // hostNetwork Pods share the node's UTS namespace too, as
            // containerd gives them (their hostname is the node's).
            Namespace::Net | Namespace::Uts => !config.host_network,
            Namespace::Pid => !config.host_pid,
            _ => true,
        })
        .collect();
        let spec = Spec {
            namespaces,
            hostname: (!config.host_network).then(|| config.hostname.clone()),
            ..Spec::default()
        };
        let parent_userns = match self.network.pods_userns() {
            Ok(u) => u,
            Err(e) => {
                if let Some(c) = &pod_cg {
                    c.destroy();
                }
                return Err(other("start the node's network namespace", e));
            }
        };
        let host_netns = match config
            .host_network
            .then(|| self.network.node_netns())
            .transpose()
        {
            Ok(n) => n,
            Err(e) => {
                if let Some(c) = &pod_cg {
                    c.destroy();
                }
                return Err(other("start the node's network namespace", e));
            }
        };
        let pod_opts = PodOptions {
            join: None,
            cgroup: given,
            oom_score_adj: config.infra_cgroup.oom_score_adj,
            pause: true,
            parent_userns,
            host_netns: host_netns.clone(),
            foreign_binds: None,
        };
        let mut opts = self.spawn_options(StdioMode::Null);
        opts.id = Some(format!("pod-{}", kubelab_sandbox::runtime::new_id()));
        let infra = match Sandbox::spawn_in_pod(&spec, &opts, &pod_opts) {
            Ok(s) => s,
            Err(e) => {
                if let Some(c) = &pod_cg {
                    c.destroy();
                }
                return Err(other("start the Pod's infra process", e));
            }
        };
        let netns = host_netns
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("/proc/{}/ns/net", infra.pid())));
        let host_ip = self.network.node_address();
        let (ip, attachment, network_note) = match self.network.available() {
            // The node's own network: nothing to attach; its IP is the
            // node's, as the kubelet reports it.
            Ok(()) if config.host_network => (host_ip, None, None),
            Ok(()) => {
                let att = Attachment::for_pod(
                    &config.namespace,
                    &config.name,
                    &config.uid,
                    infra.id(),
                    netns.clone(),
                );
                match self.network.attach(&att) {
                    Ok(ip) => (ip, Some(att), None),
                    Err(e) => {
                        let mut infra = infra;
                        let _ = infra.kill();
                        if let Some(c) = &pod_cg {
                            c.destroy();
                        }
                        return Err(other("set up the Pod's network (CNI ADD)", e));
                    }
                }
            }
            Err(why) => (None, None, Some(why)),
        };
        let sandbox = PodSandbox {
            id: infra.id().to_string(),
            infra_pid: infra.pid(),
            netns,
            pod_cgroup_dirs: pod_cg
                .as_ref()
                .map(|c| c.created.clone())
                .unwrap_or_default(),
            ip,
            network_note,
            host_network: config.host_network,
            host_ip,
            resource_note: note
                .clone()
                .or_else(|| infra.cgroup_note().map(str::to_string)),
        };
        let entry = PodEntry {
            infra,
            cgroup: pod_cg,
            note,
            share_pid: config.share_process_namespace,
            host_ipc: config.host_ipc,
            host_network: config.host_network,
            host_pid: config.host_pid,
            attachment,
            infra_cgroup,
            volume_plugins: None,
        };
        self.pods
            .lock()
            .map_err(|_| io::Error::other("runtime state poisoned"))?
            .insert(sandbox.id.clone(), entry);
        Ok(sandbox)
    }

    fn start_container(
        &self,
        pod: &PodSandbox,
        config: &ContainerConfig,
    ) -> io::Result<Box<dyn crate::runtime::Container>> {
        let (share_pid, host_ipc, host_network, host_pid, plugins_pid) = {
            let pods = self
                .pods
                .lock()
                .map_err(|_| io::Error::other("runtime state poisoned"))?;
            pods.get(&pod.id)
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no Pod sandbox {}", pod.id),
                    )
                })
                .map(|e| {
                    (
                        e.share_pid,
                        e.host_ipc,
                        e.host_network,
                        e.host_pid,
                        e.volume_plugins.as_ref().map(|s| s.pid()),
                    )
                })?
        };
        check_ids_mapped(pod.infra_pid, config)?;
        let mut spec = container_spec(config)?;
        if host_pid {
            // The node's PID namespace (the supervisor's): its /proc is
            // bound in, as a fresh one may not be mounted for it.
            spec.namespaces.retain(|n| *n != Namespace::Pid);
        }
        // hostNetwork: into the node's namespace first (see PodOptions),
        // rootless through the node's user namespace, the infra's parent.
        let (host_netns, parent_userns) = if host_network {
            (
                Some(pod.netns.clone()),
                self.network
                    .pods_userns()
                    .map_err(|e| other("the node's user namespace", e))?,
            )
        } else {
            (None, None)
        };
        let f = self.opts.weight_formula;
        let levels = cgroups::levels(&self.root(), &config.cgroup.path, &[&config.cgroup], f)?;
        let leaf = match cgroups::create(&levels, self.opts.cgroup_version) {
            Ok(c) => Some(c),
            Err(e) => without_cgroups(e).map(|_| None)?,
        };
        // Before the container's first process joins the cgroup.
        let device_note = match devices::restrict(leaf.as_ref(), &config.devices) {
            Ok(note) => note,
            Err(e) => {
                if let Some(c) = &leaf {
                    c.destroy();
                }
                return Err(e);
            }
        };
        let pod_opts = PodOptions {
            join: Some(JoinNamespaces {
                pid: pod.infra_pid,
                share_pid,
                host_ipc,
                host_network,
            }),
            cgroup: leaf.clone().map(|join| GivenCgroup { join, own: None }),
            oom_score_adj: config.cgroup.oom_score_adj,
            pause: false,
            parent_userns,
            host_netns,
            foreign_binds: foreign_binds(config, plugins_pid)?,
        };
        let opts = self.spawn_options(StdioMode::Piped);
        container::start(&spec, &opts, &pod_opts, leaf, config)
            .map(|c| Box::new(c.with_note(device_note)) as Box<dyn crate::runtime::Container>)
    }

    fn remove_pod_sandbox(&self, pod: &PodSandbox) -> io::Result<()> {
        let entry = self
            .pods
            .lock()
            .map_err(|_| io::Error::other("runtime state poisoned"))?
            .remove(&pod.id);
        let Some(mut entry) = entry else {
            return Ok(());
        };
        // CNI DEL while the Pod's namespace still exists (DEL frees the
        // address either way).
        let mut problems = Vec::new();
        if let Some(att) = &entry.attachment {
            if let Err(e) = self.network.detach(att) {
                problems.push(format!("CNI DEL: {e}"));
            }
        }
        // The volume plugin sandbox first (it sits in the infra's cgroup),
        // its drivers' mounts with it.
        if let Some(mut v) = entry.volume_plugins.take() {
            let _ = v.kill();
        }
        // The lifeline's teardown: the supervisor kills the infra (and the
        // Pod's PID namespace) and removes the Pod's cgroup tree.
        let _ = entry.infra.kill();
        // The supervisor removed the Pod's cgroup; a killed one could not.
        let cgroup_problems = entry.cgroup.map(|c| c.destroy()).unwrap_or_default();
        if !cgroup_problems.is_empty() {
            problems.push(format!(
                "could not remove the Pod's cgroups: {}",
                cgroup_problems.join("; ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(io::Error::other(problems.join("; ")))
        }
    }

    fn pod_network(&self) -> Result<(), String> {
        self.network.available()
    }

    fn net_check(&self, check: &NetCheck, timeout: Duration) -> CheckOutcome {
        self.network.check(check, timeout)
    }

    fn sync_services(&self, plan: &crate::service::ServicePlan) -> Result<(), String> {
        self.services.sync(&self.network, plan)
    }

    fn cluster_dns(&self, address: std::net::Ipv4Addr) -> Result<(), String> {
        self.services
            .dns(&self.network, &self.opts.helper_exe, address)
    }

    fn device_rules(&self) -> Result<(), String> {
        devices::enforceable(self.opts.cgroup_version)
    }

    fn mount_memory_volume(&self, dir: &Path, size_bytes: u64) -> io::Result<()> {
        memory_volume::mount(dir, size_bytes)
    }

    fn unmount_volume(&self, dir: &Path) -> io::Result<()> {
        memory_volume::unmount(dir)
    }

    fn start_volume_plugins(
        &self,
        pod: &PodSandbox,
        config: &VolumePluginConfig,
    ) -> io::Result<()> {
        let mut pods = self
            .pods
            .lock()
            .map_err(|_| io::Error::other("runtime state poisoned"))?;
        let entry = pods.get_mut(&pod.id).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no Pod sandbox {}", pod.id),
            )
        })?;
        if entry.volume_plugins.is_some() {
            return Ok(());
        }
        if entry.host_network {
            // Its members enter the node's network namespace first, which
            // the plugin sandbox would have to as well; not done here.
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "flexVolume volumes in a hostNetwork Pod: not supported by this runtime",
            ));
        }
        let join = JoinNamespaces {
            pid: pod.infra_pid,
            share_pid: false,
            host_ipc: entry.host_ipc,
            host_network: false,
        };
        let opts = self.spawn_options(StdioMode::Null);
        let sandbox = volume_plugins::start(&opts, pod, join, entry.infra_cgroup.clone(), config)?;
        entry.volume_plugins = Some(sandbox);
        Ok(())
    }

    fn volume_plugin_call(
        &self,
        pod: &PodSandbox,
        argv: &[String],
        timeout: Duration,
    ) -> io::Result<(i32, Vec<u8>, Vec<u8>)> {
        let pid = {
            let pods = self
                .pods
                .lock()
                .map_err(|_| io::Error::other("runtime state poisoned"))?;
            pods.get(&pod.id)
                .and_then(|e| e.volume_plugins.as_ref())
                .map(|s| s.pid())
                .ok_or_else(|| io::Error::other("the Pod's volume plugin sandbox is not running"))?
        };
        volume_plugins::call(pid, &self.opts.helper_exe, argv, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_last_mount_holds_a_path() {
        let info = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:5 / /srv rw shared:7 - tmpfs t rw
31 30 0:6 / /srv/my\\040dir rw - tmpfs t rw
32 22 0:7 / /srv rw master:9 - tmpfs t rw
";
        assert_eq!(
            mount_holding(info, Path::new("/srv/my dir/x")),
            Some(("/srv/my dir".into(), false))
        );
        // Mounted over: the later /srv (a slave) wins.
        assert_eq!(
            mount_holding(info, Path::new("/srv/other")),
            Some(("/srv".into(), true))
        );
        assert_eq!(
            mount_holding(info, Path::new("/etc")),
            Some(("/".into(), true))
        );
        assert_eq!(unescape_mountinfo("a\\134b"), "a\\b");
    }
}
