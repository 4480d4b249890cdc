//! The node's built-in device plugin and the kubelet's device manager in
//! one: a fixed table of device kinds the node can hand out, how many of
//! each it advertises (`--device-plugin fuse=2`), and which Pod holds which
//! device id. A container's extended resource (`kubelab.io/fuse: 1`) is
//! allocated when its Pod is admitted, as the kubelet's device manager
//! calls the plugin's `Allocate`; the answer is what containerd would put
//! into the container's config: a device node, its cgroup rule, an env var.
//!
//! Only the table's kinds exist: a course is untrusted, and a major:minor
//! from it could name the host's memory (c 1:1) or a disk.

use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// A device kind the node knows.
#[derive(Debug, PartialEq, Eq)]
pub struct DeviceKind {
    /// What `--device-plugin` and `[node] devices` call it.
    pub name: &'static str,
    /// The extended resource a container asks for.
    pub resource: &'static str,
    pub major: u32,
    pub minor: u32,
    /// Where the container sees it.
    pub container_path: &'static str,
    /// Names the allocated ids (as NVIDIA's plugin sets
    /// `NVIDIA_VISIBLE_DEVICES`).
    pub env: &'static str,
}

/// The table. FUSE is harmless to hand out: a FUSE mount stays in the
/// Pod's own mount namespace (rootless podman gives it to containers).
pub const KINDS: &[DeviceKind] = &[DeviceKind {
    name: "fuse",
    resource: "kubelab.io/fuse",
    major: 10,
    minor: 229,
    container_path: "/dev/fuse",
    env: "KUBELAB_FUSE_DEVICES",
}];

/// Most devices of one kind a node advertises.
pub const MAX_PER_KIND: u32 = 16;

pub fn kind(name: &str) -> Option<&'static DeviceKind> {
    KINDS.iter().find(|k| k.name == name)
}

fn kind_of_resource(resource: &str) -> Option<&'static DeviceKind> {
    KINDS.iter().find(|k| k.resource == resource)
}

fn known_names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

/// Checks a kind and a count (`[node] devices`, `--device-plugin`).
pub fn check(name: &str, count: u32) -> Result<&'static DeviceKind, String> {
    let k = kind(name).ok_or_else(|| {
        format!(
            "{name:?} is not a device kind this node knows (known: {}); the node never hands \
             out a device it has no entry for",
            known_names()
        )
    })?;
    if count == 0 || count > MAX_PER_KIND {
        return Err(format!(
            "{name} = {count}: give between 1 and {MAX_PER_KIND} devices"
        ));
    }
    Ok(k)
}

/// `--device-plugin KIND=COUNT`.
pub fn parse_flag(text: &str) -> Result<(String, u32), String> {
    let (name, n) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: write KIND=COUNT, e.g. fuse=2"))?;
    let n: u32 = n
        .parse()
        .map_err(|_| format!("{text:?}: COUNT must be a whole number, e.g. fuse=2"))?;
    check(name, n)?;
    Ok((name.to_string(), n))
}

/// What `Allocate` answered for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub container: String,
    pub kind: &'static DeviceKind,
    /// `fuse-0`, `fuse-1`…
    pub ids: Vec<String>,
}

impl Allocation {
    /// The env var naming the ids.
    pub fn env(&self) -> (String, String) {
        (self.kind.env.to_string(), self.ids.join(","))
    }
}

/// Why a Pod was not admitted, as the kubelet says it.
pub const UNEXPECTED_ADMISSION_ERROR: &str = "UnexpectedAdmissionError";

/// The extended resources each container (init containers too) asks for:
/// (container, resource, count). Validation made limits whole numbers
/// equal to the requests.
pub fn requests(pod: &Pod) -> Vec<(String, String, u32)> {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut out = Vec::new();
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
    {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        for (name, q) in limits.into_iter().flatten() {
            if !name.contains('/') {
                continue;
            }
            let n = crate::quantity::Quantity::parse(&q.0)
                .map(|q| q.value())
                .unwrap_or(0);
            if n > 0 {
                out.push((
                    c.name.clone(),
                    name.clone(),
                    n.min(i64::from(u32::MAX)) as u32,
                ));
            }
        }
    }
    out
}

/// The devices of a node and who holds them.
#[derive(Debug, Default)]
pub struct DeviceManager {
    /// (kind, count) per `--device-plugin`.
    plugins: Vec<(&'static DeviceKind, u32)>,
    /// Device id → the UID of the Pod holding it.
    held: BTreeMap<String, String>,
    /// Pod UID → its allocations.
    pods: BTreeMap<String, Vec<Allocation>>,
}

impl DeviceManager {
    /// Plugins from checked (kind, count) pairs; unknown kinds are dropped.
    pub fn new(plugins: &[(String, u32)]) -> DeviceManager {
        DeviceManager {
            plugins: plugins
                .iter()
                .filter_map(|(n, c)| check(n, *c).ok().map(|k| (k, *c)))
                .collect(),
            ..DeviceManager::default()
        }
    }

    /// (resource, capacity, free) per advertised kind: the node's
    /// `status.capacity` and what is left of `allocatable`.
    pub fn capacity(&self) -> Vec<(&'static str, u32, u32)> {
        self.plugins
            .iter()
            .map(|(k, n)| (k.resource, *n, n - self.used(k)))
            .collect()
    }

    fn used(&self, k: &DeviceKind) -> u32 {
        self.held
            .keys()
            .filter(|id| id.rsplit_once('-').is_some_and(|(n, _)| n == k.name))
            .count() as u32
    }

    /// What `uid` holds.
    pub fn allocated(&self, uid: &str) -> &[Allocation] {
        self.pods.get(uid).map(Vec::as_slice).unwrap_or_default()
    }

    /// The kubelet's admission: every container's devices at once, or none
    /// (a Pod holding half of what it needs would block others). A Pod
    /// already admitted keeps what it has.
    pub fn allocate(
        &mut self,
        uid: &str,
        wants: &[(String, String, u32)],
    ) -> Result<&[Allocation], String> {
        if self.pods.contains_key(uid) {
            return Ok(self.allocated(uid));
        }
        let mut total: BTreeMap<&str, u32> = BTreeMap::new();
        for (_, res, n) in wants {
            *total.entry(res.as_str()).or_default() += n;
        }
        for (res, n) in &total {
            let (cap, free) = self
                .plugins
                .iter()
                .find(|(k, _)| k.resource == *res)
                .map(|(k, cap)| (*cap, cap - self.used(k)))
                .unwrap_or((0, 0));
            if kind_of_resource(res).is_none() || cap == 0 {
                return Err(format!(
                    "Node didn't have enough resource: {res}, requested: {n}, capacity: 0 (no \
                     device plugin on this node serves {res}; a lab asks for one with `[node] \
                     devices`, a node with --device-plugin)"
                ));
            }
            if *n > free {
                return Err(format!(
                    "Allocate failed due to requested number of devices unavailable for {res}. \
                     Requested: {n}, Available: {free} (Insufficient {res}: the other \
                     {} of {cap} are held by running Pods; delete one to free its devices)",
                    cap - free
                ));
            }
        }
        let mut out = Vec::new();
        for (container, res, n) in wants {
            let k = kind_of_resource(res).expect("checked above");
            let cap = self
                .plugins
                .iter()
                .find(|(p, _)| p.resource == k.resource)
                .map_or(0, |(_, c)| *c);
            let mut ids = Vec::new();
            for i in 0..cap {
                if ids.len() as u32 == *n {
                    break;
                }
                let id = format!("{}-{i}", k.name);
                if !self.held.contains_key(&id) {
                    self.held.insert(id.clone(), uid.to_string());
                    ids.push(id);
                }
            }
            out.push(Allocation {
                container: container.clone(),
                kind: k,
                ids,
            });
        }
        self.pods.insert(uid.to_string(), out);
        Ok(self.allocated(uid))
    }

    /// The Pod ended: its devices are free again.
    pub fn free_pod(&mut self, uid: &str) {
        self.pods.remove(uid);
        self.held.retain(|_, holder| holder != uid);
    }
}

/// Where a Pod's device nodes are: `pods/<uid>/devices/<id>`.
pub fn node_path(pod_dir: &Path, id: &str) -> PathBuf {
    pod_dir.join("devices").join(id)
}

/// The node's own device file of a kind (`<state>/dev/<name>`): what a
/// host's `/dev/fuse` is, made by the node so a lab can offer it as a
/// `hostPath` (`--allow-host-path /dev/fuse=<state>/dev/fuse`) with the
/// same mode and owner as the nodes `Allocate` makes.
pub fn host_node_path(state_dir: &Path, k: &DeviceKind) -> PathBuf {
    state_dir.join("dev").join(k.name)
}

/// Makes a char device node `k` at `path`, mode 0600, owned by the Pod's
/// root (`owner`: host uid, gid). A file already there is replaced.
pub fn make_node(path: &Path, k: &DeviceKind, owner: (u32, u32)) -> io::Result<()> {
    use rustix::fs::{FileType, Mode};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let dev = rustix::fs::makedev(k.major, k.minor);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        FileType::CharacterDevice,
        Mode::from_raw_mode(0o600),
        dev,
    )
    .map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("mknod {}: {e}", path.display()),
        )
    })?;
    rustix::fs::chownat(
        rustix::fs::CWD,
        path,
        Some(rustix::fs::Uid::from_raw(owner.0)),
        Some(rustix::fs::Gid::from_raw(owner.1)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| {
        io::Error::new(
            io::Error::from(e).kind(),
            format!("chown {}: {e}", path.display()),
        )
    })?;
    // mknod honours the umask; the mode is set once more to be sure.
    rustix::fs::chmod(path, Mode::from_raw_mode(0o600)).map_err(io::Error::from)
}

/// What `Allocate` answered for container `cfg`, applied as containerd
/// applies it: each device node bound at the kind's path, its rule
/// allowed, the env var naming the ids.
pub fn with_allocation(
    mut cfg: crate::runtime::ContainerConfig,
    held: &[Allocation],
    pod_dir: &Path,
) -> crate::runtime::ContainerConfig {
    for a in held.iter().filter(|a| a.container == cfg.name) {
        for (i, id) in a.ids.iter().enumerate() {
            // One device: /dev/fuse; more: /dev/fuse, /dev/fuse1, …
            let target = if i == 0 {
                a.kind.container_path.to_string()
            } else {
                format!("{}{i}", a.kind.container_path)
            };
            cfg.mounts.push(crate::runtime::Mount {
                host_path: node_path(pod_dir, id),
                container_path: target,
                read_only: false,
                propagation: crate::runtime::Propagation::None,
                in_volume_plugin: None,
            });
        }
        cfg.devices.push(crate::runtime::DeviceRule::char_rw(
            a.kind.major,
            a.kind.minor,
        ));
        cfg.env.push(a.env());
    }
    cfg
}

/// The Pod's root on the host: the owner of its device nodes.
pub fn pod_root() -> (u32, u32) {
    if kubelab_sandbox::is_root() {
        let m = kubelab_sandbox::idmap::for_root();
        (m.uid, m.gid)
    } else {
        (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        )
    }
}

#[cfg(test)]
#[path = "devices_tests.rs"]
mod tests;
