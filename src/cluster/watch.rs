//! Live objects of one namespace from kube-rs watchers and reflectors.
//!
//! One watcher per kind keeps a reflector store; the Objects pane reads a
//! snapshot from the stores on each frame (no API call on the UI task). A
//! watch that expires (`410 Gone`) is re-listed by the watcher; any failure
//! is kept as a one-line problem for the pane and status bar while the
//! watcher backs off and retries.

use super::error::{one_line, ClusterError};
use super::tree::Objects;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// How each kind's watch is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindState {
    /// The first full list arrived (the store is complete).
    pub synced: bool,
    /// The last failure, cleared by the next good event.
    pub problem: Option<String>,
    /// How many times the kind was listed (1 + re-lists after 410 Gone
    /// or a broken watch).
    pub lists: u32,
}

type States = Arc<Mutex<BTreeMap<&'static str, KindState>>>;

/// Watches of one namespace; stops them all when dropped.
pub struct ObjectsWatch {
    pub namespace: String,
    deployments: Store<Deployment>,
    replica_sets: Store<ReplicaSet>,
    stateful_sets: Store<StatefulSet>,
    jobs: Store<Job>,
    pods: Store<Pod>,
    services: Store<Service>,
    endpoint_slices: Store<EndpointSlice>,
    events: Store<Event>,
    states: States,
    tasks: Vec<JoinHandle<()>>,
}

/// Says what a watch failure means, in one line.
pub fn describe(e: &watcher::Error, server: &str, kind: &str) -> String {
    let what = format!("watch {kind}");
    match e {
        watcher::Error::WatchError(r) if r.code == 410 => {
            format!("{what}: expired (410 Gone), listing again")
        }
        watcher::Error::WatchError(r) => one_line(
            &ClusterError::from_kube(kube::Error::Api(r.clone()), server, &what).to_string(),
        ),
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => {
            let k = match k {
                kube::Error::Api(r) => kube::Error::Api(r.clone()),
                other => kube::Error::Service(one_line(&super::error::error_chain(other)).into()),
            };
            ClusterError::from_kube(k, server, &what).to_string()
        }
        watcher::Error::NoResourceVersion => format!("{what}: the server sent no resourceVersion"),
    }
}

fn spawn_kind<K>(
    rt: &tokio::runtime::Handle,
    client: &kube::Client,
    server: &str,
    namespace: &str,
    kind: &'static str,
    states: &States,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let (reader, writer) = reflector::store();
    let states = states.clone();
    let server = server.to_string();
    states.lock().unwrap().insert(kind, KindState::default());
    let task = rt.spawn(async move {
        let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            let mut all = states.lock().unwrap_or_else(|p| p.into_inner());
            let st = all.entry(kind).or_default();
            match ev {
                Ok(watcher::Event::Init) => st.lists += 1,
                Ok(watcher::Event::InitDone) => {
                    st.synced = true;
                    st.problem = None;
                }
                Ok(_) => st.problem = None,
                Err(e) => st.problem = Some(describe(&e, &server, kind)),
            }
        }
    });
    (reader, task)
}

impl ObjectsWatch {
    /// Starts watching `namespace` on `rt` (the caller's UI loop never
    /// awaits the API).
    pub fn start(
        rt: &tokio::runtime::Handle,
        client: &kube::Client,
        server: &str,
        namespace: &str,
    ) -> ObjectsWatch {
        let states: States = Arc::default();
        let mut tasks = Vec::new();
        macro_rules! kind {
            ($name:literal) => {{
                let (s, t) = spawn_kind(rt, client, server, namespace, $name, &states);
                tasks.push(t);
                s
            }};
        }
        ObjectsWatch {
            namespace: namespace.to_string(),
            deployments: kind!("deployments"),
            replica_sets: kind!("replicasets"),
            stateful_sets: kind!("statefulsets"),
            jobs: kind!("jobs"),
            pods: kind!("pods"),
            services: kind!("services"),
            endpoint_slices: kind!("endpointslices"),
            events: kind!("events"),
            states,
            tasks,
        }
    }

    /// The objects as the watches see them now.
    pub fn snapshot(&self) -> Objects {
        fn all<K: Resource<DynamicType = ()> + Clone>(s: &Store<K>) -> Vec<K> {
            s.state().iter().map(|k| K::clone(k)).collect()
        }
        Objects {
            deployments: all(&self.deployments),
            replica_sets: all(&self.replica_sets),
            stateful_sets: all(&self.stateful_sets),
            jobs: all(&self.jobs),
            pods: all(&self.pods),
            services: all(&self.services),
            endpoint_slices: all(&self.endpoint_slices),
            events: all(&self.events),
        }
    }

    /// Each kind's watch state.
    pub fn states(&self) -> BTreeMap<&'static str, KindState> {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The first problem any watch has now, for the status bar.
    pub fn problem(&self) -> Option<String> {
        self.states().into_values().find_map(|s| s.problem)
    }

    /// All kinds have their first full list.
    pub fn synced(&self) -> bool {
        self.states().values().all(|s| s.synced)
    }
}

impl Drop for ObjectsWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests;
