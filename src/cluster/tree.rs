//! The Objects pane's tree: owners above what they own, by
//! ownerReferences (Deployment → ReplicaSets → Pods, StatefulSet → Pods,
//! Job → Pods) and by EndpointSlices (Service → EndpointSlices → Pods).
//! Pure: built from one snapshot of the watched objects.

use super::age::age;
use super::status;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::chrono::{DateTime, Utc};

/// Everything watched in one namespace, at one moment.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub stateful_sets: Vec<StatefulSet>,
    pub jobs: Vec<Job>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub events: Vec<Event>,
}

/// One line of the tree: kubectl's columns plus the depth to indent by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: usize,
    /// `deployment`, `replicaset`, `pod`, … (kubectl's resource names).
    pub kind: &'static str,
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
    pub age: String,
}

/// One recent Event, as `kubectl events` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub age: String,
    pub type_: String,
    pub reason: String,
    /// `kind/name` of the object the event is about.
    pub object: String,
    pub message: String,
}

fn name(m: &ObjectMeta) -> String {
    m.name.clone().unwrap_or_default()
}

/// Does `child` name `owner` as its controller (or any owner, for objects
/// whose controller flag is unset)?
fn owned_by(child: &ObjectMeta, owner: &ObjectMeta) -> bool {
    let Some(uid) = owner.uid.as_deref() else {
        return false;
    };
    child
        .owner_references
        .as_ref()
        .is_some_and(|refs| refs.iter().any(|r| r.uid == uid))
}

fn has_owner_in(child: &ObjectMeta, owners: &[&ObjectMeta]) -> bool {
    owners.iter().any(|o| owned_by(child, o))
}

fn sorted<T>(mut v: Vec<&T>, meta: impl Fn(&T) -> &ObjectMeta) -> Vec<&T> {
    v.sort_by(|a, b| meta(a).name.cmp(&meta(b).name));
    v
}

fn revision(r: &ReplicaSet) -> i64 {
    r.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn pod_row(p: &Pod, depth: usize, now: DateTime<Utc>) -> Row {
    let (ready, status, restarts) = status::pod(p);
    Row {
        depth,
        kind: "pod",
        name: name(&p.metadata),
        ready,
        status,
        restarts,
        age: age(p.metadata.creation_timestamp.as_ref(), now),
    }
}

/// Builds the tree, owners first in name order, then what owns nothing
/// known (bare Pods, ReplicaSets without a Deployment).
pub fn build(o: &Objects, now: DateTime<Utc>) -> Vec<Row> {
    let mut rows = Vec::new();
    let pods_of = |owner: &ObjectMeta| {
        sorted(
            o.pods
                .iter()
                .filter(|p| owned_by(&p.metadata, owner))
                .collect(),
            |p| &p.metadata,
        )
    };
    let rs_row = |r: &ReplicaSet, depth: usize, tag: &str| {
        let (ready, st) = status::replica_set(r);
        Row {
            depth,
            kind: "replicaset",
            name: name(&r.metadata),
            ready,
            status: if tag.is_empty() {
                st
            } else {
                format!("{tag} · {st}")
            },
            restarts: String::new(),
            age: age(r.metadata.creation_timestamp.as_ref(), now),
        }
    };
    for d in sorted(o.deployments.iter().collect(), |d| &d.metadata) {
        let (ready, mut st) = status::deployment(d);
        let mut rss: Vec<&ReplicaSet> = o
            .replica_sets
            .iter()
            .filter(|r| owned_by(&r.metadata, &d.metadata))
            .collect();
        // Newest revision first: the rollout's new ReplicaSet, then the old.
        rss.sort_by_key(|r| std::cmp::Reverse(revision(r)));
        let old_pods: i32 = rss
            .iter()
            .skip(1)
            .map(|r| r.status.as_ref().map_or(0, |s| s.replicas))
            .sum();
        if old_pods > 0 {
            let new = rss
                .first()
                .and_then(|r| r.status.as_ref())
                .map_or(0, |s| s.replicas);
            st = format!("rolling out: new {new} · old {old_pods}");
        }
        rows.push(Row {
            depth: 0,
            kind: "deployment",
            name: name(&d.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(d.metadata.creation_timestamp.as_ref(), now),
        });
        for (i, r) in rss.iter().enumerate() {
            rows.push(rs_row(r, 1, if i == 0 { "new" } else { "old" }));
            rows.extend(pods_of(&r.metadata).into_iter().map(|p| pod_row(p, 2, now)));
        }
    }
    for s in sorted(o.stateful_sets.iter().collect(), |s| &s.metadata) {
        let (ready, st) = status::stateful_set(s);
        rows.push(Row {
            depth: 0,
            kind: "statefulset",
            name: name(&s.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(s.metadata.creation_timestamp.as_ref(), now),
        });
        rows.extend(pods_of(&s.metadata).into_iter().map(|p| pod_row(p, 1, now)));
    }
    for j in sorted(o.jobs.iter().collect(), |j| &j.metadata) {
        let (ready, st) = status::job(j);
        rows.push(Row {
            depth: 0,
            kind: "job",
            name: name(&j.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(j.metadata.creation_timestamp.as_ref(), now),
        });
        rows.extend(pods_of(&j.metadata).into_iter().map(|p| pod_row(p, 1, now)));
    }
    for svc in sorted(o.services.iter().collect(), |s| &s.metadata) {
        let spec = svc.spec.clone().unwrap_or_default();
        rows.push(Row {
            depth: 0,
            kind: "service",
            name: name(&svc.metadata),
            ready: String::new(),
            status: format!(
                "{} {}",
                spec.type_.unwrap_or_else(|| "ClusterIP".into()),
                spec.cluster_ip.unwrap_or_else(|| "<none>".into())
            ),
            restarts: String::new(),
            age: age(svc.metadata.creation_timestamp.as_ref(), now),
        });
        let svc_name = name(&svc.metadata);
        let slices = o.endpoint_slices.iter().filter(|e| {
            e.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                == Some(&svc_name)
        });
        for es in sorted(slices.collect(), |e| &e.metadata) {
            let total = es.endpoints.len();
            let ready = es
                .endpoints
                .iter()
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
                .count();
            rows.push(Row {
                depth: 1,
                kind: "endpointslice",
                name: name(&es.metadata),
                ready: format!("{ready}/{total}"),
                status: es.address_type.clone(),
                restarts: String::new(),
                age: age(es.metadata.creation_timestamp.as_ref(), now),
            });
            let mut targets: Vec<&Pod> = es
                .endpoints
                .iter()
                .filter_map(|e| e.target_ref.as_ref())
                .filter(|t| t.kind.as_deref() == Some("Pod"))
                .filter_map(|t| {
                    o.pods
                        .iter()
                        .find(|p| p.metadata.name.is_some() && p.metadata.name == t.name)
                })
                .collect();
            targets.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            targets.dedup_by(|a, b| a.metadata.name == b.metadata.name);
            rows.extend(targets.into_iter().map(|p| pod_row(p, 2, now)));
        }
    }
    // What no watched owner accounts for.
    let deploys: Vec<&ObjectMeta> = o.deployments.iter().map(|d| &d.metadata).collect();
    for r in sorted(o.replica_sets.iter().collect(), |r| &r.metadata) {
        if !has_owner_in(&r.metadata, &deploys) {
            rows.push(rs_row(r, 0, ""));
            rows.extend(pods_of(&r.metadata).into_iter().map(|p| pod_row(p, 1, now)));
        }
    }
    let owners: Vec<&ObjectMeta> = o
        .replica_sets
        .iter()
        .map(|r| &r.metadata)
        .chain(o.stateful_sets.iter().map(|s| &s.metadata))
        .chain(o.jobs.iter().map(|j| &j.metadata))
        .collect();
    for p in sorted(o.pods.iter().collect(), |p| &p.metadata) {
        if !has_owner_in(&p.metadata, &owners) {
            rows.push(pod_row(p, 0, now));
        }
    }
    rows
}

/// The `limit` most recent Events, newest first.
pub fn recent_events(o: &Objects, now: DateTime<Utc>, limit: usize) -> Vec<EventRow> {
    let when = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or_else(|| e.event_time.as_ref().map(|t| t.0))
            .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0))
    };
    let mut evs: Vec<&Event> = o.events.iter().collect();
    evs.sort_by_key(|e| std::cmp::Reverse(when(e)));
    evs.into_iter()
        .take(limit)
        .map(|e| EventRow {
            age: match when(e) {
                Some(t) => super::age::human((now - t).num_seconds()),
                None => "<unknown>".into(),
            },
            type_: e.type_.clone().unwrap_or_default(),
            reason: e.reason.clone().unwrap_or_default(),
            object: format!(
                "{}/{}",
                e.involved_object
                    .kind
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                e.involved_object.name.clone().unwrap_or_default()
            ),
            message: super::error::one_line(&e.message.clone().unwrap_or_default()),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
