//! The node agent: what the kubelet does with Pods, against the CRI-shaped
//! [`Runtime`](crate::runtime::Runtime).
//!
//! Pods come from `apply` (the node's socket API, [`crate::api`]) or from
//! the manifests directory (static Pods, [`static_dir`]). One sync loop
//! thread ([`Node::run`]) keeps each Pod per its spec: sandbox, volumes,
//! init containers in order, containers, restarts with CrashLoopBackOff,
//! probes, hooks, deletion with grace, and writes its `status` and events.
//! Probes, hooks and stops run on short-lived threads that report back over
//! a channel, so a slow container never stalls the loop.
//!
//! The node's state directory holds:
//! - `node.sock`, the API socket (the directory is mode 0700);
//! - `pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>`, as the kubelet;
//! - `pods/<uid>/etc-hosts`, the Pod's managed `/etc/hosts` ([`etc_hosts`]);
//! - `logs/<namespace>_<name>_<uid>/<container>/<restart>.log` (the
//!   kubelet's `/var/log/pods`);
//! - `configmaps/<name>/<key>` and `secrets/<name>/<key>`: the data of
//!   `configMap` and `secret` volumes (there is no API server to hold them).

pub mod build;
pub mod describe;
pub mod devices;
pub mod etc_hosts;
pub mod flex_volume;
pub mod handlers;
pub mod local_file;
mod resolv_conf;
mod services;
pub mod state;
pub mod static_dir;
mod sync;
pub mod volumes;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod net_tests;
#[cfg(test)]
mod services_tests;
#[cfg(test)]
pub(crate) mod tests;

use crate::cgroup_plan::NodeCapacity;
use crate::logs::{LogLayout, RotationPolicy};
use crate::manifest::image::ImageCatalog;
use crate::manifest::{self, ManifestPod, ParseOptions};
use crate::restart::{BackOffConfig, CrashLoopBackOff};
use crate::runtime::Runtime;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use state::{Event, Msg, PodEntry, SharedContainer, Slot, Source};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    pub state_dir: PathBuf,
    /// The static Pods' directory (`staticPodPath`).
    pub manifests: Option<PathBuf>,
    pub host_path_roots: Vec<crate::manifest::HostPathRoot>,
    pub images: ImageCatalog,
    pub capacity: NodeCapacity,
    pub allocatable_milli_cpu: i64,
    pub backoff: BackOffConfig,
    /// How often running containers are polled for their exit.
    pub tick: Duration,
    /// How often the manifests directory is read.
    pub static_poll: Duration,
    /// The kubelet's `containerLogMaxSize` / `containerLogMaxFiles`.
    pub log_rotation: RotationPolicy,
    /// The kubelet's `syncFrequency`: how often a running Pod's configMap,
    /// secret and downwardAPI volumes are written again from their source.
    pub sync_frequency: Duration,
    /// Where ClusterIPs come from (`--service-cidr`); its `.10` is the
    /// cluster DNS's address.
    pub service_cidr: crate::service::ServiceCidr,
    /// The kubelet's `shutdownGracePeriod`: when the node stops, each Pod
    /// gets at most this long to end (`None`: its own grace period). A lab
    /// world's `down` pulls the plug on its nodes with 0.
    pub shutdown_grace: Option<Duration>,
    /// The kubelet's `--volume-plugin-dir`: FlexVolume drivers, each at
    /// `<vendor>~<driver>/<driver>`. `None`: flexVolume volumes are refused.
    pub volume_plugin_dir: Option<PathBuf>,
    /// The built-in device plugin: (kind, count) per `--device-plugin`,
    /// kinds from [`devices::KINDS`] only.
    pub device_plugins: Vec<(String, u32)>,
}

impl NodeConfig {
    pub fn new(name: &str, state_dir: &Path) -> NodeConfig {
        NodeConfig {
            name: name.to_string(),
            state_dir: state_dir.to_path_buf(),
            manifests: None,
            host_path_roots: Vec::new(),
            images: ImageCatalog::default(),
            capacity: NodeCapacity {
                memory_bytes: 8 << 30,
                pod_pids_limit: None,
            },
            allocatable_milli_cpu: 2000,
            backoff: BackOffConfig::default(),
            tick: Duration::from_millis(100),
            static_poll: Duration::from_secs(1),
            log_rotation: RotationPolicy::default(),
            // The kubelet's default (1m).
            sync_frequency: Duration::from_secs(60),
            service_cidr: crate::service::ServiceCidr::parse(crate::service::DEFAULT_SERVICE_CIDR)
                .expect("the default service CIDR parses"),
            shutdown_grace: None,
            volume_plugin_dir: None,
            device_plugins: Vec::new(),
        }
    }

    pub fn logs(&self) -> LogLayout {
        LogLayout::new(self.state_dir.join("logs"))
    }
}

/// A running container, as [`Node::running_containers`] lists it.
#[derive(Debug, Clone)]
pub struct RunningContainer {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The runtime's container id.
    pub id: String,
    /// `image:` as written in the manifest.
    pub image: String,
    pub started_at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    pub pod_cgroup_dirs: Vec<PathBuf>,
}

/// What the loop keeps under one lock.
pub struct State {
    pub pods: BTreeMap<String, PodEntry>,
    /// Services by (namespace, name), their ClusterIP allocated.
    pub services: BTreeMap<(String, String), k8s_openapi::api::core::v1::Service>,
    dataplane: services::DataPlane,
    backoff: CrashLoopBackOff,
    statics: BTreeMap<PathBuf, static_dir::StaticFile>,
    /// Node messages for its foreground output (bad static manifests...).
    messages: VecDeque<String>,
    generation: u64,
    last_static_scan: Option<Instant>,
    /// The node is stopping: no Pod is added any more (static or applied),
    /// so the shutdown loop, which waits for every Pod to go, ends.
    stopping: bool,
}

impl State {
    /// The Pod named `name` in `namespace`.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&PodEntry> {
        self.pods
            .values()
            .find(|p| p.name() == name && p.namespace() == namespace)
    }

    fn message(&mut self, m: String) {
        if self.messages.len() >= 256 {
            self.messages.pop_front();
        }
        self.messages.push_back(m);
    }
}

pub(crate) struct Inner {
    pub(crate) config: NodeConfig,
    pub(crate) runtime: Box<dyn Runtime>,
    state: Mutex<State>,
    changed: Condvar,
    tx: Sender<Msg>,
    rx: Mutex<Receiver<Msg>>,
    next_instance: AtomicU64,
    /// Who holds which device (never locked while `state` is wanted).
    pub(crate) devices: Mutex<devices::DeviceManager>,
}

/// A node agent; clones share it.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

pub(crate) fn now_time() -> Time {
    Time(now_utc())
}

pub(crate) fn now_rfc3339() -> String {
    now_utc().to_rfc3339_opts(k8s_openapi::chrono::SecondsFormat::Secs, true)
}

/// A random v4 UUID for a Pod from `apply` (the API server's job).
pub(crate) fn random_uid() -> String {
    let mut b = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_err()
    {
        // No urandom: time and a counter still give unique UIDs on one node.
        static N: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b[..8].copy_from_slice(&(t as u64).to_le_bytes());
        b[8..].copy_from_slice(&N.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    manifest::static_pod::uuid_v4(b)
}

impl Node {
    pub fn new(config: NodeConfig, runtime: Box<dyn Runtime>) -> Node {
        let (tx, rx) = std::sync::mpsc::channel();
        let backoff = CrashLoopBackOff::new(config.backoff);
        let devices = Mutex::new(devices::DeviceManager::new(&config.device_plugins));
        Node {
            inner: Arc::new(Inner {
                devices,
                config,
                runtime,
                state: Mutex::new(State {
                    pods: BTreeMap::new(),
                    services: BTreeMap::new(),
                    dataplane: services::DataPlane::default(),
                    backoff,
                    statics: BTreeMap::new(),
                    messages: VecDeque::new(),
                    generation: 0,
                    last_static_scan: None,
                    stopping: false,
                }),
                changed: Condvar::new(),
                tx,
                rx: Mutex::new(rx),
                next_instance: AtomicU64::new(1),
            }),
        }
    }

    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn kick(&self) {
        if let Ok(tx) = Ok::<_, ()>(&self.inner.tx) {
            let _ = tx.send(Msg::Kick);
        }
    }

    fn parse_options(&self) -> ParseOptions<'_> {
        ParseOptions {
            images: &self.inner.config.images,
            node_name: Some(&self.inner.config.name),
            host_path_roots: &self.inner.config.host_path_roots,
        }
    }

    /// `kubectl apply`: every Pod and Service of the manifest text (`file`
    /// names it in errors). A Pod that exists unchanged is left alone; Pods
    /// are immutable, so a changed one must be deleted first. A changed
    /// Service is updated (its ClusterIP stays). Nothing is applied unless
    /// everything is valid.
    pub fn apply(&self, text: &str, file: &Path) -> Result<Vec<String>, String> {
        let pods = manifest::parse_pods_among(text, file, self.parse_options(), &["Service"]);
        let svcs = crate::service::manifest::parse_str(text, file);
        let (pods, mut svcs) = match (pods, svcs) {
            (Ok(p), Ok(s)) => (p, s),
            (p, s) => {
                let errs: Vec<String> = [p.err(), s.err()]
                    .into_iter()
                    .flatten()
                    .map(|e| e.to_string())
                    .collect();
                return Err(errs.join("\n"));
            }
        };
        let mut problems = Vec::new();
        for mp in &pods {
            let plugins = self.inner.config.volume_plugin_dir.as_deref();
            for p in build::unsupported(&mp.pod, self.inner.runtime.pod_network())
                .into_iter()
                .chain(flex_volume::unsupported_here(&mp.pod, plugins))
            {
                problems.push(format!("{}:{}: {p}", file.display(), mp.line));
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let mut st = self.lock();
        if st.stopping {
            return Err("the node is stopping: it takes no new Pods".into());
        }
        self.check_services(&st, &mut svcs, file)?;
        let mut out = Vec::new();
        let mut added = Vec::new();
        for mut mp in pods {
            let ns = mp
                .pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            let name = mp.pod.metadata.name.clone().unwrap_or_default();
            if let Some(spec) = &mut mp.pod.spec {
                spec.node_name = Some(self.inner.config.name.clone());
            }
            if let Some(old) = st.find(&ns, &name) {
                if old.source != Source::Api {
                    return Err(format!("pod {name:?} is a static Pod of this node; change its manifest file instead"));
                }
                if old.pod.spec == mp.pod.spec && old.pod.metadata.labels == mp.pod.metadata.labels
                {
                    out.push(format!("pod/{name} unchanged"));
                    continue;
                }
                return Err(format!("{}:{}: The Pod {name:?} is invalid: spec: Forbidden: pod updates may not change its spec; delete it first (`kubelab pod delete {name}`)", file.display(), mp.line));
            }
            mp.pod.metadata.namespace = Some(ns);
            mp.pod.metadata.uid = Some(random_uid());
            out.push(format!("pod/{name} created"));
            added.push(mp);
        }
        for mp in added {
            add_pod(&mut st, mp, Source::Api);
        }
        out.extend(Node::store_services(&mut st, svcs));
        drop(st);
        self.kick();
        Ok(out)
    }

    /// `kubectl delete pod`: stops it with `grace` (default: its
    /// `terminationGracePeriodSeconds`).
    pub fn delete(
        &self,
        namespace: &str,
        name: &str,
        grace: Option<u64>,
    ) -> Result<String, String> {
        let mut st = self.lock();
        let uid = st
            .find(namespace, name)
            .map(|p| (p.uid().to_string(), p.source.clone()))
            .ok_or_else(|| not_found(name))?;
        if let Source::File(f) = uid.1 {
            return Err(format!(
                "pod {name:?} is a static Pod from {}; remove or move that file to stop it",
                f.display()
            ));
        }
        if let Some(entry) = st.pods.get_mut(&uid.0) {
            begin_delete(entry, grace.map(Duration::from_secs));
        }
        drop(st);
        self.kick();
        Ok(format!("pod \"{name}\" deleted"))
    }

    /// Every Pod with its current status, by namespace and name.
    pub fn pods(&self) -> Vec<Pod> {
        let st = self.lock();
        let mut v: Vec<Pod> = st.pods.values().map(|p| p.pod.clone()).collect();
        v.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        v
    }

    /// The devices a Pod holds (its UID), as `Allocate` answered.
    pub fn pod_devices(&self, uid: &str) -> Vec<devices::Allocation> {
        self.inner
            .devices
            .lock()
            .map(|d| d.allocated(uid).to_vec())
            .unwrap_or_default()
    }

    /// The device plugin's (resource, capacity, free), for the node's
    /// status line and `kubectl describe node`.
    pub fn device_capacity(&self) -> Vec<(&'static str, u32, u32)> {
        self.inner
            .devices
            .lock()
            .map(|d| d.capacity())
            .unwrap_or_default()
    }

    /// One Pod and its events.
    pub fn pod(&self, namespace: &str, name: &str) -> Result<(Pod, Vec<Event>), String> {
        let st = self.lock();
        let p = st.find(namespace, name).ok_or_else(|| not_found(name))?;
        Ok((p.pod.clone(), p.events.clone()))
    }

    /// `f` of the Pod named `name` in `namespace` under the node's lock
    /// (the API's `inspect` reads pids and cgroups; keep `f` short).
    pub fn read_pod<R>(
        &self,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&PodEntry) -> R,
    ) -> Option<R> {
        self.lock().find(namespace, name).map(f)
    }

    /// The log file of a container (`previous`: the last terminated
    /// instance) and whether it is still being written.
    pub fn log_file(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
        previous: bool,
    ) -> Result<(PathBuf, bool), String> {
        let st = self.lock();
        let p = st.find(namespace, name).ok_or_else(|| not_found(name))?;
        let slot = pick_container(p, container)?;
        let layout = self.inner.config.logs();
        let rc = slot.restart_count();
        if previous {
            let path = layout
                .previous(p.namespace(), p.name(), p.uid(), &slot.name, rc)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "previous terminated container {:?} in pod {name:?} not found",
                        slot.name
                    )
                })?;
            return Ok((path, false));
        }
        if slot.starts == 0 {
            return Err(format!(
                "container {:?} in pod {name:?} is waiting to start: {}",
                slot.name,
                slot.waiting
                    .as_ref()
                    .map(|w| w.0.as_str())
                    .unwrap_or("ContainerCreating")
            ));
        }
        let path = layout
            .container_log(p.namespace(), p.name(), p.uid(), &slot.name, rc)
            .map_err(|e| e.to_string())?;
        Ok((path, slot.running.is_some()))
    }

    /// Whether the instance writing `log` is still running.
    pub fn still_writing(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
        log: &Path,
    ) -> bool {
        self.log_file(namespace, name, container, false)
            .is_ok_and(|(p, running)| running && p == log)
    }

    /// `kubectl exec` without a terminal.
    pub fn exec(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
        argv: &[String],
        timeout: Duration,
    ) -> Result<(i32, Vec<u8>, Vec<u8>), String> {
        if argv.is_empty() {
            return Err("exec needs a command: `kubelab pod exec NAME -- CMD`".into());
        }
        let handle: SharedContainer = {
            let st = self.lock();
            let p = st.find(namespace, name).ok_or_else(|| not_found(name))?;
            let slot = pick_container(p, container)?;
            slot.running
                .as_ref()
                .map(|r| r.handle.clone())
                .ok_or_else(|| {
                    format!("container {:?} in pod {name:?} is not running", slot.name)
                })?
        };
        let c = handle.lock().unwrap_or_else(|p| p.into_inner());
        c.exec_sync(argv, timeout)
            .map_err(|e| format!("exec in {name:?}: {e}"))
    }

    /// `exec -it`: `argv` on a new PTY in a running container.
    pub fn exec_tty(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
        argv: &[String],
        (rows, cols): (u16, u16),
    ) -> Result<Box<dyn crate::runtime::TtyExec>, String> {
        if argv.is_empty() {
            return Err("exec needs a command: `kubelab pod exec -it NAME -- CMD`".into());
        }
        let handle: SharedContainer = {
            let st = self.lock();
            let p = st.find(namespace, name).ok_or_else(|| not_found(name))?;
            let slot = pick_container(p, container)?;
            slot.running
                .as_ref()
                .map(|r| r.handle.clone())
                .ok_or_else(|| {
                    format!("container {:?} in pod {name:?} is not running", slot.name)
                })?
        };
        let c = handle.lock().unwrap_or_else(|p| p.into_inner());
        c.exec_tty(argv, rows.max(1), cols.max(1))
            .map_err(|e| format!("exec in {name:?}: {e}"))
    }

    /// Each Pod's sandbox cgroup directories, for `top`.
    pub fn cgroup_dirs(&self) -> Vec<(String, String, Vec<PathBuf>)> {
        let st = self.lock();
        st.pods
            .values()
            .filter_map(|p| {
                let sb = p.sandbox.as_ref()?;
                Some((
                    p.namespace().to_string(),
                    p.name().to_string(),
                    sb.pod_cgroup_dirs.clone(),
                ))
            })
            .collect()
    }

    /// Every running container with what its metrics are labelled with,
    /// and its Pod's cgroup directories (the container's are below them,
    /// named after it: `cgroup_plan`'s layout).
    pub fn running_containers(&self) -> Vec<RunningContainer> {
        let st = self.lock();
        let mut out = Vec::new();
        for p in st.pods.values() {
            let Some(sb) = p.sandbox.as_ref() else {
                continue;
            };
            for slot in p.init.iter().chain(&p.containers) {
                let Some(run) = &slot.running else { continue };
                out.push(RunningContainer {
                    namespace: p.namespace().to_string(),
                    pod: p.name().to_string(),
                    container: slot.name.clone(),
                    id: run.id.clone(),
                    image: slot.image.clone(),
                    started_at: run.started_at.clone(),
                    pod_cgroup_dirs: sb.pod_cgroup_dirs.clone(),
                });
            }
        }
        out
    }

    /// Node messages since the last call (bad static manifests, failures).
    pub fn take_messages(&self) -> Vec<String> {
        self.lock().messages.drain(..).collect()
    }

    /// Waits until `cond` holds after a sync, or `timeout`.
    pub fn wait_until(&self, timeout: Duration, cond: impl Fn(&State) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if cond(&st) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self
                .inner
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Runs the sync loop on this thread until `stop`; then stops every
    /// Pod, honouring grace periods (within `max_wait`).
    pub fn run(&self, stop: &AtomicBool) {
        while !stop.load(Ordering::SeqCst) {
            self.sync_once();
        }
        self.begin_shutdown();
        while !self.lock().pods.is_empty() {
            self.sync_once();
        }
    }

    /// From now on no Pod is added (static manifests and `apply` are
    /// refused), and every Pod is being deleted with its grace period.
    pub(crate) fn begin_shutdown(&self) {
        let mut st = self.lock();
        st.stopping = true;
        let cap = self.inner.config.shutdown_grace;
        for p in st.pods.values_mut() {
            let own = pod_grace(p);
            begin_delete(p, cap.map(|c| c.min(own)));
        }
    }

    /// Starts the loop on its own thread; the handle stops it and waits.
    /// Starts the sync loop. Call it once the node owns its state dir
    /// (its socket is served): it first removes what an earlier, killed run
    /// of the node left there.
    pub fn spawn(&self) -> NodeThread {
        volumes::remove_orphans(&*self.inner.runtime, &self.inner.config.state_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let node = self.clone();
        let s = stop.clone();
        let join = std::thread::spawn(move || node.run(&s));
        NodeThread {
            node: self.clone(),
            stop,
            join: Some(join),
        }
    }
}

/// The sync loop's thread (see [`Node::spawn`]): dropping it stops every
/// Pod and waits for the loop.
pub struct NodeThread {
    node: Node,
    stop: Arc<AtomicBool>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl NodeThread {
    pub fn stop(mut self) {
        self.finish();
    }
    fn finish(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.node.kick();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for NodeThread {
    fn drop(&mut self) {
        self.finish();
    }
}

fn not_found(name: &str) -> String {
    format!("pods {name:?} not found")
}

fn pick_container<'a>(p: &'a PodEntry, container: Option<&str>) -> Result<&'a Slot, String> {
    match container {
        Some(c) => p.slot(c).ok_or_else(|| {
            let names: Vec<&str> = p
                .init
                .iter()
                .chain(&p.containers)
                .map(|s| s.name.as_str())
                .collect();
            format!(
                "container {c:?} is not valid for pod {:?}; choose one of: [{}]",
                p.name(),
                names.join(" ")
            )
        }),
        None => p
            .containers
            .first()
            .ok_or_else(|| format!("pod {:?} has no containers", p.name())),
    }
}

/// The Pod's `terminationGracePeriodSeconds` (30 s by default).
fn pod_grace(entry: &PodEntry) -> Duration {
    let secs = entry
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30)
        .max(0) as u64;
    Duration::from_secs(secs)
}

fn begin_delete(entry: &mut PodEntry, grace: Option<Duration>) {
    if entry.deleting.is_some() {
        return;
    }
    let g = grace.unwrap_or_else(|| pod_grace(entry));
    entry.deleting = Some(g);
    entry.pod.metadata.deletion_timestamp = Some(now_time());
    entry.pod.metadata.deletion_grace_period_seconds = Some(g.as_secs() as i64);
}

pub(crate) fn add_pod(st: &mut State, mut mp: ManifestPod, source: Source) {
    mp.pod.metadata.creation_timestamp = Some(now_time());
    let spec = mp.pod.spec.clone().unwrap_or_default();
    let image_of = |c: &k8s_openapi::api::core::v1::Container| c.image.clone().unwrap_or_default();
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| Slot::new(&c.name, &image_of(c), true))
        .collect();
    let containers = spec
        .containers
        .iter()
        .map(|c| Slot::new(&c.name, &image_of(c), false))
        .collect();
    let uid = mp.pod.metadata.uid.clone().unwrap_or_default();
    let mut entry = PodEntry {
        pod: mp.pod,
        source,
        images: mp.images,
        sandbox: None,
        sandbox_retry_at: None,
        init,
        containers,
        events: Vec::new(),
        deleting: None,
        terminating: false,
        failed: false,
        projected_at: None,
    };
    sync::refresh_status(&mut entry, Instant::now());
    st.pods.insert(uid, entry);
}

/// The wall clock (chrono's `clock` feature is not enabled).
pub fn now_utc() -> k8s_openapi::chrono::DateTime<k8s_openapi::chrono::Utc> {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    k8s_openapi::chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .unwrap_or_default()
}
