//! The Objects pane's tree: owners above what they own, by
//! ownerReferences (Deployment → ReplicaSets → Pods, StatefulSet → Pods,
//! Job → Pods), by EndpointSlices (Service → EndpointSlices → Pods), by
//! claim names (Pod → the PersistentVolumeClaims its volumes name, and a
//! StatefulSet's `<template>-<set>-<ordinal>` claims its scaled-down Pods
//! left behind) and by CRD (a lab's CustomResourceDefinition → its
//! objects). Pure: built from one snapshot of the watched objects.

use super::age::age;
use super::status;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::chrono::{DateTime, Utc};
use kube::api::DynamicObject;
use std::collections::{BTreeMap, BTreeSet};

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
    pub claims: Vec<PersistentVolumeClaim>,
    pub events: Vec<Event>,
    /// The lab's CRDs (labelled as its own).
    pub crds: Vec<CustomResourceDefinition>,
    /// Each CRD's objects, by the CRD's name.
    pub custom: BTreeMap<String, Vec<DynamicObject>>,
}

/// One line of the tree: kubectl's columns plus the depth to indent by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: usize,
    /// `deployment`, `replicaset`, `pod`, `pvc`, … (what kubectl takes
    /// before the `/`; a custom resource's singular name).
    pub kind: String,
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
        kind: "pod".into(),
        name: name(&p.metadata),
        ready,
        status,
        restarts,
        age: age(p.metadata.creation_timestamp.as_ref(), now),
    }
}

fn claim_row(c: &PersistentVolumeClaim, depth: usize, now: DateTime<Utc>) -> Row {
    Row {
        depth,
        kind: "pvc".into(),
        name: name(&c.metadata),
        ready: String::new(),
        status: status::claim(c),
        restarts: String::new(),
        age: age(c.metadata.creation_timestamp.as_ref(), now),
    }
}

/// The claims a Pod's volumes name.
fn claim_names(p: &Pod) -> Vec<String> {
    p.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.clone())
        .collect()
}

/// A StatefulSet's claims by name: `<template>-<set>-<ordinal>`.
fn is_set_claim(claim: &str, set: &StatefulSet) -> bool {
    let set_name = set.metadata.name.as_deref().unwrap_or_default();
    set.spec
        .iter()
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .filter_map(|t| t.metadata.name.as_deref())
        .any(|t| {
            claim
                .strip_prefix(t)
                .and_then(|r| r.strip_prefix('-'))
                .and_then(|r| r.strip_prefix(set_name))
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Builds the tree, owners first in name order, then what owns nothing
/// known (bare Pods, ReplicaSets without a Deployment, claims no Pod or
/// StatefulSet names).
pub fn build(o: &Objects, now: DateTime<Utc>) -> Vec<Row> {
    let mut rows = Vec::new();
    // Claims shown under a Pod or a StatefulSet; the rest go last.
    let shown_claims = std::cell::RefCell::new(BTreeSet::<String>::new());
    let claim = |n: &str| {
        o.claims
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(n))
    };
    // A Pod and, one level down, the claims its volumes name.
    let pod_rows = |p: &Pod, depth: usize| {
        let mut out = vec![pod_row(p, depth, now)];
        let mut names = claim_names(p);
        names.sort();
        names.dedup();
        for n in names {
            if let Some(c) = claim(&n) {
                shown_claims.borrow_mut().insert(n);
                out.push(claim_row(c, depth + 1, now));
            }
        }
        out
    };
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
            kind: "replicaset".into(),
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
            kind: "deployment".into(),
            name: name(&d.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(d.metadata.creation_timestamp.as_ref(), now),
        });
        for (i, r) in rss.iter().enumerate() {
            rows.push(rs_row(r, 1, if i == 0 { "new" } else { "old" }));
            rows.extend(
                pods_of(&r.metadata)
                    .into_iter()
                    .flat_map(|p| pod_rows(p, 2)),
            );
        }
    }
    for s in sorted(o.stateful_sets.iter().collect(), |s| &s.metadata) {
        let (ready, st) = status::stateful_set(s);
        rows.push(Row {
            depth: 0,
            kind: "statefulset".into(),
            name: name(&s.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(s.metadata.creation_timestamp.as_ref(), now),
        });
        rows.extend(
            pods_of(&s.metadata)
                .into_iter()
                .flat_map(|p| pod_rows(p, 1)),
        );
        // Claims of ordinals with no Pod now (kept after scaling down).
        let kept = sorted(
            o.claims
                .iter()
                .filter(|c| {
                    let n = c.metadata.name.as_deref().unwrap_or_default();
                    is_set_claim(n, s) && !shown_claims.borrow().contains(n)
                })
                .collect(),
            |c| &c.metadata,
        );
        for c in kept {
            shown_claims.borrow_mut().insert(name(&c.metadata));
            rows.push(claim_row(c, 1, now));
        }
    }
    for j in sorted(o.jobs.iter().collect(), |j| &j.metadata) {
        let (ready, st) = status::job(j);
        rows.push(Row {
            depth: 0,
            kind: "job".into(),
            name: name(&j.metadata),
            ready,
            status: st,
            restarts: String::new(),
            age: age(j.metadata.creation_timestamp.as_ref(), now),
        });
        rows.extend(
            pods_of(&j.metadata)
                .into_iter()
                .flat_map(|p| pod_rows(p, 1)),
        );
    }
    for svc in sorted(o.services.iter().collect(), |s| &s.metadata) {
        let spec = svc.spec.clone().unwrap_or_default();
        rows.push(Row {
            depth: 0,
            kind: "service".into(),
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
                kind: "endpointslice".into(),
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
    for crd in sorted(o.crds.iter().collect(), |c| &c.metadata) {
        let crd_name = name(&crd.metadata);
        rows.push(Row {
            depth: 0,
            kind: "crd".into(),
            name: crd_name.clone(),
            ready: String::new(),
            status: status::crd(crd),
            restarts: String::new(),
            age: age(crd.metadata.creation_timestamp.as_ref(), now),
        });
        let kind = crd
            .spec
            .names
            .singular
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| crd.spec.names.kind.to_ascii_lowercase());
        let objs: Vec<&DynamicObject> = o
            .custom
            .get(&crd_name)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        for obj in sorted(objs, |d| &d.metadata) {
            rows.push(Row {
                depth: 1,
                kind: kind.clone(),
                name: name(&obj.metadata),
                ready: String::new(),
                status: status::custom(obj),
                restarts: String::new(),
                age: age(obj.metadata.creation_timestamp.as_ref(), now),
            });
        }
    }
    // What no watched owner accounts for.
    let deploys: Vec<&ObjectMeta> = o.deployments.iter().map(|d| &d.metadata).collect();
    for r in sorted(o.replica_sets.iter().collect(), |r| &r.metadata) {
        if !has_owner_in(&r.metadata, &deploys) {
            rows.push(rs_row(r, 0, ""));
            rows.extend(
                pods_of(&r.metadata)
                    .into_iter()
                    .flat_map(|p| pod_rows(p, 1)),
            );
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
            rows.extend(pod_rows(p, 0));
        }
    }
    for c in sorted(o.claims.iter().collect(), |c| &c.metadata) {
        if !shown_claims.borrow().contains(&name(&c.metadata)) {
            rows.push(claim_row(c, 0, now));
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
