//! The Pod pane's sampler: a thread that asks the source for the Pods and
//! the selected Pod's facts twice a second (only while the pane is shown),
//! reads `/proc` and the cgroup files for it, and wakes the UI when what is
//! shown changed. A node that is not there or went away is a message.

use super::model::*;
use super::probe::{self, CpuMemo};
use crate::panes::session::Notify;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::chrono::{DateTime, Utc};
use kubelab_node::api::{Reply, Request};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How often the pane samples.
pub const PERIOD: Duration = Duration::from_millis(500);
/// Longest wait for the node's answer (a stopped node must not hold the
/// sampler forever).
pub const NODE_TIMEOUT: Duration = Duration::from_secs(3);
/// Events shown for the selected Pod.
pub const EVENTS: usize = 8;

/// A real cluster's Pods, from the API (no call: a watch's store).
pub trait ClusterPods: Send + Sync {
    /// The lab's Pods, or why there are none to show.
    fn pods(&self) -> Result<Vec<Pod>, String>;
    /// The newest events about the Pod `key`, oldest first.
    fn events(&self, key: &PodKey) -> Vec<EventLine>;
}

/// Where the pane's Pods come from.
#[derive(Clone)]
pub enum PodSource {
    /// The lab's `kubelab node`, by its state directory (the socket).
    Node { state_dir: PathBuf },
    /// A real cluster; the selected Pod's processes are found in /proc.
    Cluster(Arc<dyn ClusterPods>),
    /// A node that is still starting (a `[node]` lab's, started off the UI
    /// thread): its state directory once it runs, `None` until then.
    Later(Arc<dyn Fn() -> Option<PathBuf> + Send + Sync>),
}

/// A running sampler; dropping it stops the thread (within one period).
pub struct PodSampler {
    data: Arc<Mutex<PodsData>>,
    shared: Arc<Shared>,
}

struct Shared {
    selected: Mutex<Option<PodKey>>,
    wanted: AtomicBool,
    stop: AtomicBool,
    /// Set to sample now (a new selection), with its condition variable.
    poke: Mutex<bool>,
    woken: Condvar,
}

impl PodSampler {
    pub fn start(source: PodSource, notify: Notify) -> PodSampler {
        let data = Arc::new(Mutex::new(PodsData::default()));
        let shared = Arc::new(Shared {
            selected: Mutex::new(None),
            wanted: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            poke: Mutex::new(false),
            woken: Condvar::new(),
        });
        let (d, s) = (data.clone(), shared.clone());
        let spawned = std::thread::Builder::new()
            .name("pod-inspector".into())
            .spawn(move || {
                let mut memo = CpuMemo::default();
                while !s.stop.load(Ordering::Acquire) {
                    if s.wanted.load(Ordering::Acquire) {
                        let sel = lock(&s.selected).clone();
                        let next = sample(&source, sel.as_ref(), &mut memo, Utc::now());
                        let mut cur = lock(&d);
                        if *cur != next && !s.stop.load(Ordering::Acquire) {
                            *cur = next;
                            drop(cur);
                            notify();
                        }
                    }
                    let mut poked = lock(&s.poke);
                    if !*poked {
                        poked = s
                            .woken
                            .wait_timeout(poked, PERIOD)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                    *poked = false;
                }
            });
        if let Err(e) = spawned {
            lock(&data).listing = Listing::Unavailable(format!("cannot start a thread: {e}"));
        }
        PodSampler { data, shared }
    }

    /// Samples only while shown (a hidden pane costs nothing).
    pub fn set_wanted(&self, on: bool) {
        self.shared.wanted.store(on, Ordering::Release);
    }

    /// The Pod whose details are sampled; samples at once.
    pub fn select(&self, key: Option<PodKey>) {
        let mut cur = lock(&self.shared.selected);
        if *cur == key {
            return;
        }
        *cur = key;
        drop(cur);
        *lock(&self.shared.poke) = true;
        self.shared.woken.notify_all();
    }

    /// The latest data (hold the guard only while drawing).
    pub fn data(&self) -> MutexGuard<'_, PodsData> {
        lock(&self.data)
    }
}

impl Drop for PodSampler {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        *lock(&self.shared.poke) = true;
        self.shared.woken.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn find<'a>(pods: &'a [Pod], key: &PodKey) -> Option<&'a Pod> {
    pods.iter().find(|p| {
        p.metadata.name.as_deref() == Some(key.name.as_str())
            && p.metadata.namespace.as_deref().unwrap_or("default") == key.namespace
    })
}

/// One sample from `source` at `now`.
pub fn sample(
    source: &PodSource,
    selected: Option<&PodKey>,
    memo: &mut CpuMemo,
    now: DateTime<Utc>,
) -> PodsData {
    match source {
        PodSource::Node { state_dir } => from_node(state_dir, selected, memo, now),
        PodSource::Cluster(c) => from_cluster(c.as_ref(), selected, memo, now, Path::new("/proc")),
        PodSource::Later(dir) => match dir() {
            Some(state_dir) => from_node(&state_dir, selected, memo, now),
            None => PodsData::default(),
        },
    }
}

fn listing(pods: &[Pod], truncated: bool, now: DateTime<Utc>) -> Listing {
    Listing::Pods {
        rows: pods.iter().map(|p| probe::list_row(p, now)).collect(),
        truncated,
    }
}

fn from_node(
    state_dir: &Path,
    selected: Option<&PodKey>,
    memo: &mut CpuMemo,
    now: DateTime<Utc>,
) -> PodsData {
    let req = Request::Inspect {
        namespace: None,
        selected: selected.map(|k| kubelab_node::api::PodRef {
            namespace: k.namespace.clone(),
            name: k.name.clone(),
        }),
    };
    let unavailable = |why: String| PodsData {
        listing: Listing::Unavailable(why),
        detail: None,
    };
    let (pods, truncated, detail) =
        match kubelab_node::api::client::request_timeout(state_dir, &req, NODE_TIMEOUT) {
            Ok(Reply::Inspect {
                pods,
                truncated,
                detail,
            }) => (pods, truncated, detail),
            Ok(Reply::Error { message }) => return unavailable(message),
            Ok(other) => return unavailable(format!("unexpected answer from the node: {other:?}")),
            Err(e) => return unavailable(e),
        };
    let detail = selected.map(|key| {
        let pod = find(&pods, key).ok_or(NoProcs::Gone)?;
        let Some(d) = detail else {
            return Err(NoProcs::Gone);
        };
        let events = d
            .events
            .iter()
            .rev()
            .take(EVENTS)
            .rev()
            .map(|e| EventLine {
                age: DateTime::parse_from_rfc3339(&e.last).map_or("?".into(), |t| {
                    kubelab_node::status::printer::human_duration(
                        (now - t.with_timezone(&Utc)).num_seconds(),
                    )
                }),
                warning: e.type_ == kubelab_node::agent::state::EventType::Warning,
                reason: e.reason.clone(),
                message: e.message.clone(),
                count: e.count,
            })
            .collect();
        let procs = match d.infra_pid {
            Some(infra) => Ok(PodProcs {
                infra_pid: Some(infra),
                containers: d
                    .containers
                    .iter()
                    .map(|c| (c.name.clone(), c.pid))
                    .collect(),
                cgroup_path: probe::cgroup_path(&d.cgroup_dirs),
                cgroup_dirs: d.cgroup_dirs.clone(),
            }),
            None => Err(NoProcs::NotRunning),
        };
        Ok(probe::detail(
            pod,
            procs.as_ref().map_err(Clone::clone),
            events,
            now,
            Path::new("/proc"),
            memo,
        ))
    });
    PodsData {
        listing: listing(&pods, truncated, now),
        detail,
    }
}

/// A cluster's Pods: the list from the API, the selected Pod's processes
/// from `proc_root` (the same inspector as the node's).
pub fn from_cluster(
    c: &dyn ClusterPods,
    selected: Option<&PodKey>,
    memo: &mut CpuMemo,
    now: DateTime<Utc>,
    proc_root: &Path,
) -> PodsData {
    let pods = match c.pods() {
        Ok(p) => p,
        Err(why) => {
            return PodsData {
                listing: Listing::Unavailable(why),
                detail: None,
            }
        }
    };
    let detail = selected.map(|key| {
        let pod = find(&pods, key).ok_or(NoProcs::Gone)?;
        let hierarchies = kubelab_sandbox::cgroup::hierarchies();
        let procs = super::discover::find(proc_root, &hierarchies, pod);
        let events = c.events(key);
        Ok(probe::detail(
            pod,
            procs.as_ref().map_err(Clone::clone),
            events,
            now,
            proc_root,
            memo,
        ))
    });
    PodsData {
        listing: listing(&pods, false, now),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_node_is_a_message_not_a_hang() {
        let d = tempfile::tempdir().unwrap();
        let source = PodSource::Node {
            state_dir: d.path().join("none"),
        };
        let key = PodKey {
            namespace: "default".into(),
            name: "web".into(),
        };
        let got = sample(&source, Some(&key), &mut CpuMemo::default(), Utc::now());
        match got.listing {
            Listing::Unavailable(why) => assert!(why.contains("cannot reach a node"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(got.detail, None);
    }

    struct Fake(Result<Vec<Pod>, String>);

    impl ClusterPods for Fake {
        fn pods(&self) -> Result<Vec<Pod>, String> {
            self.0.clone()
        }
        fn events(&self, _: &PodKey) -> Vec<EventLine> {
            vec![EventLine {
                age: "3s".into(),
                warning: true,
                reason: "Unhealthy".into(),
                message: "Liveness probe failed".into(),
                count: 2,
            }]
        }
    }

    /// The cluster path into the same inspector: a fake /proc with a
    /// cgroupfs-driver Pod (pause + one container sharing its net).
    #[test]
    fn a_cluster_pod_on_this_machine_feeds_the_same_inspector() {
        let uid = "11111111-2222-3333-4444-555555555555";
        let d = tempfile::tempdir().unwrap();
        for (pid, comm, leaf, net, mnt) in [
            (7u32, "pause", "aaaa", 900u64, 800u64),
            (8, "redis-server", "bbbb", 900, 801),
        ] {
            let p = d.path().join(pid.to_string());
            std::fs::create_dir_all(p.join("ns")).unwrap();
            std::fs::write(
                p.join("cgroup"),
                format!("0::/kubepods/besteffort/pod{uid}/{leaf}\n"),
            )
            .unwrap();
            std::fs::write(p.join("stat"), format!("{pid} ({comm}) S 1 1")).unwrap();
            std::os::unix::fs::symlink(format!("net:[{net}]"), p.join("ns/net")).unwrap();
            std::os::unix::fs::symlink(format!("mnt:[{mnt}]"), p.join("ns/mnt")).unwrap();
        }
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cache", "namespace": "kubelab-x", "uid": uid},
            "spec": {"containers": [{"name": "redis"}]},
            "status": {"qosClass": "BestEffort", "containerStatuses": [
                {"name": "redis", "containerID": "containerd://bbbb", "image": "", "imageID": "",
                 "ready": true, "restartCount": 1, "state": {"running": {}}}
            ]}
        }))
        .unwrap();
        let fake = Fake(Ok(vec![pod]));
        let key = PodKey {
            namespace: "kubelab-x".into(),
            name: "cache".into(),
        };
        let mut memo = CpuMemo::default();
        let got = from_cluster(&fake, Some(&key), &mut memo, Utc::now(), d.path());
        let detail = got.detail.unwrap().unwrap();
        assert_eq!(detail.qos, "BestEffort");
        assert_eq!(detail.containers[0].pid, Some(8));
        assert_eq!(detail.containers[0].restarts, 1);
        let ns = detail.namespaces.unwrap();
        let row = |k: &str| ns.iter().find(|r| r.kind == k).unwrap().clone();
        assert_eq!(row("net").shared(0), Some(true));
        assert_eq!(row("mnt").shared(0), Some(false));
        assert_eq!(row("uts").shared(0), None, "no link in the fixture");
        assert_eq!(detail.events[0].reason, "Unhealthy");
        // Deleted meanwhile; the API not answering.
        let gone = PodKey {
            namespace: "kubelab-x".into(),
            name: "old".into(),
        };
        let got = from_cluster(&fake, Some(&gone), &mut memo, Utc::now(), d.path());
        assert_eq!(got.detail, Some(Err(NoProcs::Gone)));
        let down = Fake(Err("cluster unreachable".into()));
        let got = from_cluster(&down, Some(&key), &mut memo, Utc::now(), d.path());
        assert_eq!(
            got.listing,
            Listing::Unavailable("cluster unreachable".into())
        );
    }
}
