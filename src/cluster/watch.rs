//! Live objects of one namespace from kube-rs watchers and reflectors.
//!
//! One watcher per kind keeps a reflector store; the Objects pane reads a
//! snapshot from the stores on each frame (no API call on the UI task). A
//! watch that expires (`410 Gone`) is re-listed by the watcher; any failure
//! is kept as a problem (which request, what the cluster said) for the
//! pane and the status bar while the watcher backs off and retries; a
//! missing permission on one kind leaves the others working.

use super::error::{one_line, ClusterError};
use super::tree::Objects;
use crate::course::model::Lang;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::NamespaceResourceScope;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// What is wrong with one kind's watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchProblem {
    /// `410 Gone`: the watch's resourceVersion is too old; the watcher
    /// lists again by itself.
    Expired { resource: String },
    /// The request `verb resource` failed (`list` first, then `watch`).
    Failed {
        resource: String,
        verb: &'static str,
        error: ClusterError,
    },
}

impl WatchProblem {
    /// The whole message, for the pane.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (WatchProblem::Expired { resource }, Lang::En) => {
                format!("watch {resource}: expired (410 Gone), listing again")
            }
            (WatchProblem::Expired { resource }, Lang::Zh) => {
                format!("watch {resource}：已过期（410 Gone），正在重新列出")
            }
            (WatchProblem::Failed { error, .. }, _) => error.message(lang),
        }
    }

    /// A few words for the status bar: what failed, not the whole story.
    pub fn short(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            WatchProblem::Expired { resource } if zh => {
                format!("集群：{resource} 的 watch 已过期，正在重新列出")
            }
            WatchProblem::Expired { resource } => {
                format!("cluster: watch of {resource} expired, listing again")
            }
            WatchProblem::Failed {
                resource,
                verb,
                error,
            } => match error {
                ClusterError::Forbidden(_) if zh => format!("集群：无权 {verb} {resource}"),
                ClusterError::Forbidden(_) => format!("cluster: not allowed to {verb} {resource}"),
                _ => error.short(lang),
            },
        }
    }

    /// The cluster does not answer at all (the probe clears these).
    fn unreachable(&self) -> bool {
        matches!(
            self,
            WatchProblem::Failed {
                error: ClusterError::Unreachable { .. } | ClusterError::Timeout { .. },
                ..
            }
        )
    }
}

/// How each kind's watch is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindState {
    /// The first full list arrived (the store is complete).
    pub synced: bool,
    /// The last failure, cleared by the next good event (or, for a cluster
    /// that did not answer, by the next answer to the probe).
    pub problem: Option<WatchProblem>,
    /// How many times the kind was listed (1 + re-lists after 410 Gone
    /// or a broken watch).
    pub lists: u32,
}

type States = Arc<Mutex<BTreeMap<String, KindState>>>;

/// One CRD's objects being watched.
struct Custom {
    /// `group/version/plural` watched: a new storage version restarts it.
    key: String,
    store: Store<DynamicObject>,
    task: JoinHandle<()>,
}

type Customs = Arc<Mutex<BTreeMap<String, Custom>>>;

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
    claims: Store<PersistentVolumeClaim>,
    events: Store<Event>,
    crds: Option<Store<CustomResourceDefinition>>,
    customs: Customs,
    states: States,
    tasks: Vec<JoinHandle<()>>,
}

/// Says what a watch failure means; `kind` is the resource (`pods`).
pub fn describe(e: &watcher::Error, server: &str, kind: &str) -> WatchProblem {
    let failed = |verb: &'static str, k: &kube::Error| {
        let error = match k {
            kube::Error::Api(r) => ClusterError::from_kube(
                kube::Error::Api(r.clone()),
                server,
                &format!("{verb} {kind}"),
            ),
            kube::Error::Auth(a) => ClusterError::Unauthorized(one_line(&a.to_string())),
            other => ClusterError::Unreachable {
                server: server.to_string(),
                why: one_line(&super::error::error_chain(other)),
            },
        };
        WatchProblem::Failed {
            resource: kind.to_string(),
            verb,
            error,
        }
    };
    match e {
        watcher::Error::WatchError(r) if r.code == 410 => WatchProblem::Expired {
            resource: kind.to_string(),
        },
        watcher::Error::WatchError(r) => failed("watch", &kube::Error::Api(r.clone())),
        watcher::Error::InitialListFailed(k) => failed("list", k),
        watcher::Error::WatchStartFailed(k) | watcher::Error::WatchFailed(k) => failed("watch", k),
        watcher::Error::NoResourceVersion => WatchProblem::Failed {
            resource: kind.to_string(),
            verb: "list",
            error: ClusterError::Api {
                code: 200,
                message: format!("list {kind}: the server sent no resourceVersion"),
            },
        },
    }
}

/// Runs one watcher into `writer`, keeping `kind`'s state in `states`.
fn run<K>(
    rt: &tokio::runtime::Handle,
    (api, config): (Api<K>, watcher::Config),
    writer: Writer<K>,
    server: &str,
    kind: String,
    states: &States,
    mut on_change: impl FnMut() + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let states = states.clone();
    let server = server.to_string();
    states
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(kind.clone(), KindState::default());
    rt.spawn(async move {
        let stream = reflector::reflector(writer, watcher(api, config)).default_backoff();
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            let changed = {
                let mut all = states.lock().unwrap_or_else(|p| p.into_inner());
                let st = all.entry(kind.clone()).or_default();
                match ev {
                    Ok(watcher::Event::Init) => {
                        st.lists += 1;
                        false
                    }
                    Ok(watcher::Event::InitApply(_)) => {
                        st.problem = None;
                        false
                    }
                    Ok(_) => {
                        // InitDone, Apply, Delete: the store changed.
                        st.synced = true;
                        st.problem = None;
                        true
                    }
                    Err(e) => {
                        st.problem = Some(describe(&e, &server, &kind));
                        false
                    }
                }
            };
            if changed {
                on_change();
            }
        }
    })
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
    let task = run(
        rt,
        (api, watcher::Config::default()),
        writer,
        server,
        kind.to_string(),
        states,
        || {},
    );
    (reader, task)
}

/// How a CRD's objects are reached: its storage version (else the first
/// served one), and whether they live in a namespace.
fn crd_resource(crd: &CustomResourceDefinition) -> Option<(ApiResource, bool)> {
    let spec = &crd.spec;
    let version = spec
        .versions
        .iter()
        .find(|v| v.storage && v.served)
        .or_else(|| spec.versions.iter().find(|v| v.served))?;
    let ar = ApiResource {
        group: spec.group.clone(),
        version: version.name.clone(),
        api_version: format!("{}/{}", spec.group, version.name),
        kind: spec.names.kind.clone(),
        plural: spec.names.plural.clone(),
    };
    Some((ar, spec.scope == "Namespaced"))
}

/// Starts a watch of each CRD's objects that has none, stops those of
/// CRDs gone; a CRD whose served version changed is watched anew.
fn reconcile_customs(
    rt: &tokio::runtime::Handle,
    client: &kube::Client,
    server: &str,
    namespace: &str,
    crds: &Store<CustomResourceDefinition>,
    customs: &Customs,
    states: &States,
) {
    let mut want: BTreeMap<String, (ApiResource, bool)> = BTreeMap::new();
    for crd in crds.state() {
        if let (Some(name), Some(r)) = (crd.metadata.name.clone(), crd_resource(&crd)) {
            want.insert(name, r);
        }
    }
    let mut running = customs.lock().unwrap_or_else(|p| p.into_inner());
    let key = |ar: &ApiResource| format!("{}/{}", ar.api_version, ar.plural);
    running.retain(|name, c| {
        let keep = want.get(name).is_some_and(|(ar, _)| key(ar) == c.key);
        if !keep {
            c.task.abort();
            states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(name);
        }
        keep
    });
    for (name, (ar, namespaced)) in want {
        if running.contains_key(&name) {
            continue;
        }
        let api: Api<DynamicObject> = if namespaced {
            Api::namespaced_with(client.clone(), namespace, &ar)
        } else {
            Api::all_with(client.clone(), &ar)
        };
        let writer = Writer::new(ar.clone());
        let store = writer.as_reader();
        let task = run(
            rt,
            (api, watcher::Config::default()),
            writer,
            server,
            name.clone(),
            states,
            || {},
        );
        running.insert(
            name,
            Custom {
                key: key(&ar),
                store,
                task,
            },
        );
    }
}

/// While a watch says the cluster does not answer, asks `/version` every
/// few seconds; an answer clears those problems. (A watch re-opened after
/// an outage is silent until something changes: without this the pane
/// would say "unreachable" long after the cluster came back.)
async fn probe(client: kube::Client, server: String, states: States) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let down = states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|s| s.problem.as_ref().is_some_and(WatchProblem::unreachable));
        if !down {
            continue;
        }
        // Any answer, even an error status, is the cluster back.
        let answered = !matches!(
            super::error::bounded(
                "GET /version",
                &server,
                super::connect::CALL_TIMEOUT,
                client.apiserver_version(),
            )
            .await,
            Err(ClusterError::Unreachable { .. } | ClusterError::Timeout { .. })
        );
        if answered {
            for s in states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values_mut()
            {
                if s.problem.as_ref().is_some_and(WatchProblem::unreachable) {
                    s.problem = None;
                }
            }
        }
    }
}

impl ObjectsWatch {
    /// Starts watching `namespace` on `rt` (the caller's UI loop never
    /// awaits the API). `crd_selector`: the label selector of the lab's
    /// own CRDs, whose objects are watched too (`None`: no CRDs).
    pub fn start(
        rt: &tokio::runtime::Handle,
        client: &kube::Client,
        server: &str,
        namespace: &str,
        crd_selector: Option<&str>,
    ) -> ObjectsWatch {
        let states: States = Arc::default();
        let customs: Customs = Arc::default();
        let mut tasks = Vec::new();
        macro_rules! kind {
            ($name:literal) => {{
                let (s, t) = spawn_kind(rt, client, server, namespace, $name, &states);
                tasks.push(t);
                s
            }};
        }
        let crds = crd_selector.map(|sel| {
            let (reader, writer) = reflector::store();
            let api: Api<CustomResourceDefinition> = Api::all(client.clone());
            let (h, c, srv, ns) = (
                rt.clone(),
                client.clone(),
                server.to_string(),
                namespace.to_string(),
            );
            let (crd_store, cs, st) = (reader.clone(), customs.clone(), states.clone());
            tasks.push(run(
                rt,
                (api, watcher::Config::default().labels(sel)),
                writer,
                server,
                "customresourcedefinitions".into(),
                &states,
                move || reconcile_customs(&h, &c, &srv, &ns, &crd_store, &cs, &st),
            ));
            reader
        });
        tasks.push(rt.spawn(probe(client.clone(), server.to_string(), states.clone())));
        ObjectsWatch {
            namespace: namespace.to_string(),
            deployments: kind!("deployments"),
            replica_sets: kind!("replicasets"),
            stateful_sets: kind!("statefulsets"),
            jobs: kind!("jobs"),
            pods: kind!("pods"),
            services: kind!("services"),
            endpoint_slices: kind!("endpointslices"),
            claims: kind!("persistentvolumeclaims"),
            events: kind!("events"),
            crds,
            customs,
            states,
            tasks,
        }
    }

    /// The objects as the watches see them now.
    pub fn snapshot(&self) -> Objects {
        fn all<K: Resource + Clone>(s: &Store<K>) -> Vec<K>
        where
            K::DynamicType: Eq + std::hash::Hash + Clone,
        {
            s.state().iter().map(|k| K::clone(k)).collect()
        }
        let custom = self
            .customs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, c)| (name.clone(), all(&c.store)))
            .collect();
        Objects {
            deployments: all(&self.deployments),
            replica_sets: all(&self.replica_sets),
            stateful_sets: all(&self.stateful_sets),
            jobs: all(&self.jobs),
            pods: all(&self.pods),
            services: all(&self.services),
            endpoint_slices: all(&self.endpoint_slices),
            claims: all(&self.claims),
            events: all(&self.events),
            crds: self.crds.as_ref().map(all).unwrap_or_default(),
            custom,
        }
    }

    /// Each kind's watch state.
    pub fn states(&self) -> BTreeMap<String, KindState> {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every watch's problem now, the same message once (a cluster gone
    /// is one problem, not one per kind).
    pub fn problems(&self) -> Vec<WatchProblem> {
        let mut out: Vec<WatchProblem> = Vec::new();
        for p in self.states().into_values().filter_map(|s| s.problem) {
            let same = |q: &WatchProblem| q.message(Lang::En) == p.message(Lang::En);
            if !out.iter().any(same) {
                out.push(p);
            }
        }
        // The cluster gone first: it explains every other line.
        out.sort_by_key(|p| !p.unreachable());
        out
    }

    /// The first problem any watch has now, for the status bar.
    pub fn problem(&self) -> Option<WatchProblem> {
        self.problems().into_iter().next()
    }

    /// All kinds have their first full list.
    pub fn synced(&self) -> bool {
        self.states().values().all(|s| s.synced)
    }

    /// Every kind has its first list or a problem to show instead: nothing
    /// is still loading.
    pub fn settled(&self) -> bool {
        self.states()
            .values()
            .all(|s| s.synced || s.problem.is_some())
    }
}

impl Drop for ObjectsWatch {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for c in self
            .customs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            c.task.abort();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
