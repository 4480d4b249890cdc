//! What the node remembers about each Pod: its sandbox, each container's
//! current instance, restart count and last exits, and its events (the
//! kubelet's pod workers + status manager + event recorder, in memory).

use crate::probe::{ProbeKind, ProbeWorker};
use crate::runtime::{Container, PodSandbox};
use crate::status::container::Exit;
use k8s_openapi::api::core::v1::{Pod, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a Pod came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `kubelab pod apply` (the API).
    Api,
    /// The node's manifests directory (a static Pod).
    File(PathBuf),
}

/// A started container, shared with the threads that probe, exec into or
/// stop it (a probe holds it while it runs; the sync loop never waits).
pub type SharedContainer = Arc<Mutex<Box<dyn Container>>>;

/// One probe of a running instance.
pub struct ProbeSlot {
    pub worker: ProbeWorker,
    pub handler: super::handlers::Handler,
    pub next_due: Instant,
    pub busy: bool,
}

/// The current instance of a container.
pub struct Running {
    pub handle: SharedContainer,
    pub id: String,
    /// Host PID of its first process (read once: the handle may be held
    /// by a probe for seconds).
    pub pid: u32,
    /// Node-wide counter: results from threads about an older instance
    /// are ignored.
    pub instance: u64,
    pub started_at: Time,
    pub since: Instant,
    pub probes: Vec<ProbeSlot>,
    /// The startup probe's verdict (true at once without one).
    pub started: bool,
    /// The readiness probe's verdict (true once started without one).
    pub ready: bool,
    /// postStart is running: no probes yet.
    pub post_start_pending: bool,
    /// A stop is under way (probe failure, hook failure).
    pub killing: bool,
}

/// One container of a Pod (init or regular) across its instances.
pub struct Slot {
    pub name: String,
    pub image: String,
    pub init: bool,
    pub running: Option<Running>,
    /// The last terminated instance and when the node saw it end.
    pub last_exit: Option<(Exit, Instant)>,
    /// The one before (`lastState` of a container that is terminated now).
    pub prev_exit: Option<Exit>,
    /// Successful starts; the restart count is one less.
    pub starts: u32,
    /// Why it is not running (`waiting` state), if it is not.
    pub waiting: Option<(String, Option<String>)>,
    /// A start that failed, for the back-off.
    pub start_failed_at: Option<Instant>,
    /// An init container that exited 0.
    pub done: bool,
}

impl Slot {
    pub fn new(name: &str, image: &str, init: bool) -> Slot {
        Slot {
            name: name.to_string(),
            image: image.to_string(),
            init,
            running: None,
            last_exit: None,
            prev_exit: None,
            starts: 0,
            waiting: None,
            start_failed_at: None,
            done: false,
        }
    }

    pub fn restart_count(&self) -> u32 {
        self.starts.saturating_sub(1)
    }

    /// Records the end of the current instance.
    pub fn exited(&mut self, exit: Exit, now: Instant) {
        self.running = None;
        if let Some((old, _)) = self.last_exit.take() {
            self.prev_exit = Some(old);
        }
        self.last_exit = Some((exit, now));
    }
}

/// Normal or Warning, as the API's event `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventType {
    Normal,
    Warning,
}

/// An event about a Pod (the kubelet's recorder aggregates repeats).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339.
    pub first: String,
    pub last: String,
}

/// At most this many distinct events per Pod (the oldest go first).
pub const MAX_EVENTS: usize = 64;

/// A Pod on the node.
pub struct PodEntry {
    /// The Pod as applied, its `status` kept current by the sync loop.
    pub pod: Pod,
    pub source: Source,
    /// `kind/name` of each image for the runtime, init containers first.
    pub images: Vec<(String, crate::manifest::image::Image)>,
    pub sandbox: Option<PodSandbox>,
    pub sandbox_retry_at: Option<Instant>,
    pub init: Vec<Slot>,
    pub containers: Vec<Slot>,
    pub events: Vec<Event>,
    /// Set by delete: the grace period every container gets.
    pub deleting: Option<Duration>,
    /// The terminator thread is running.
    pub terminating: bool,
    /// An init container failed under `restartPolicy: Never`.
    pub failed: bool,
}

impl PodEntry {
    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or_default()
    }
    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("default")
    }
    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or_default()
    }

    pub fn slot_mut(&mut self, name: &str) -> Option<&mut Slot> {
        self.init
            .iter_mut()
            .chain(self.containers.iter_mut())
            .find(|s| s.name == name)
    }

    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.init
            .iter()
            .chain(self.containers.iter())
            .find(|s| s.name == name)
    }

    /// Records an event, counting a repeat of the last same one.
    pub fn event(&mut self, type_: EventType, reason: &str, message: String) {
        let now = super::now_rfc3339();
        if let Some(e) = self
            .events
            .iter_mut()
            .find(|e| e.reason == reason && e.message == message)
        {
            e.count = e.count.saturating_add(1);
            e.last = now;
            return;
        }
        if self.events.len() >= MAX_EVENTS {
            self.events.remove(0);
        }
        self.events.push(Event {
            type_,
            reason: reason.to_string(),
            message,
            count: 1,
            first: now.clone(),
            last: now,
        });
    }
}

/// Messages from the node's worker threads to the sync loop.
pub enum Msg {
    Probe {
        uid: String,
        container: String,
        instance: u64,
        kind: ProbeKind,
        /// `Err(output)` when it failed.
        result: Result<(), String>,
    },
    PostStart {
        uid: String,
        container: String,
        instance: u64,
        result: Result<(), String>,
    },
    Stopped {
        uid: String,
        container: String,
        instance: u64,
        exit: Result<Exit, String>,
    },
    /// The terminator removed the Pod's sandbox (or failed to: the errors).
    PodGone { uid: String, errors: Vec<String> },
    /// Wake up (apply, delete, shutdown).
    Kick,
}

/// The probes of a container, in the kubelet's order.
pub fn probes_of(c: &k8s_openapi::api::core::v1::Container) -> Vec<(ProbeKind, &Probe)> {
    [
        (ProbeKind::Startup, c.startup_probe.as_ref()),
        (ProbeKind::Liveness, c.liveness_probe.as_ref()),
        (ProbeKind::Readiness, c.readiness_probe.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, p)| p.map(|p| (k, p)))
    .collect()
}
