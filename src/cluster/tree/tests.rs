//! The tree from recorded list responses (src/cluster/testdata: what a
//! server answers to `GET …?limit=500`, mid-rollout of a Deployment).

use super::*;
use k8s_openapi::chrono::TimeZone;
use serde::de::DeserializeOwned;

/// The `items` of a recorded List response.
pub(crate) fn items<T: DeserializeOwned>(json: &str) -> Vec<T> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(v["metadata"]["resourceVersion"].is_string(), "a real list");
    serde_json::from_value(v["items"].clone()).unwrap()
}

pub(crate) fn recorded() -> Objects {
    Objects {
        deployments: items(include_str!("../testdata/deployments.json")),
        replica_sets: items(include_str!("../testdata/replicasets.json")),
        stateful_sets: items(include_str!("../testdata/statefulsets.json")),
        jobs: items(include_str!("../testdata/jobs.json")),
        pods: items(include_str!("../testdata/pods.json")),
        services: items(include_str!("../testdata/services.json")),
        endpoint_slices: items(include_str!("../testdata/endpointslices.json")),
        claims: items(include_str!("../testdata/pvcs.json")),
        events: items(include_str!("../testdata/events.json")),
        crds: items(include_str!("../testdata/crds.json")),
        custom: [(
            "backups.lab.kubelab.dev".to_string(),
            items(include_str!("../testdata/backups.json")),
        )]
        .into(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 10, 0).unwrap()
}

fn line(r: &Row) -> String {
    format!(
        "{}{} {} | {} | {} | {} | {}",
        "  ".repeat(r.depth),
        r.kind,
        r.name,
        r.ready,
        r.status,
        r.restarts,
        r.age
    )
}

#[test]
fn owners_above_what_they_own_with_kubectl_columns() {
    let rows: Vec<String> = build(&recorded(), now()).iter().map(line).collect();
    let want = [
        "deployment web | 3/3 | rolling out: new 2 · old 2 |  | 10m",
        "  replicaset web-7c9f6d5b4 | 1/2 | new · desired 2 · current 2 |  | 60s",
        "    pod web-7c9f6d5b4-4hzt2 | 1/1 | Running | 0 | 60s",
        "    pod web-7c9f6d5b4-m9d6f | 0/1 | ContainerCreating | 0 | 30s",
        "  replicaset web-5d4b8c7f9 | 2/2 | old · desired 2 · current 2 |  | 10m",
        "    pod web-5d4b8c7f9-k2x8p | 1/1 | Running | 1 | 9m59s",
        "    pod web-5d4b8c7f9-q7wvz | 1/1 | Running | 0 | 9m59s",
        "statefulset db | 1/1 | current 1 |  | 40m",
        "  pod db-0 | 1/1 | Running | 0 | 40m",
        "    pvc data-db-0 |  | Bound · 1Gi · RWO |  | 40m",
        "    pvc db-cache |  | Bound · 500Mi · RWX,ROX |  | 41m",
        "  pvc data-db-1 |  | Bound · 1Gi · RWO |  | 35m",
        "job pi | 1/1 | Complete |  | 30m",
        "  pod pi-8xk2r | 0/1 | Completed | 0 | 30m",
        "service web |  | ClusterIP 10.96.120.7 |  | 10m",
        "  endpointslice web-x7k2q | 1/2 | IPv4 |  | 10m",
        "    pod web-5d4b8c7f9-k2x8p | 1/1 | Running | 1 | 9m59s",
        "    pod web-7c9f6d5b4-m9d6f | 0/1 | ContainerCreating | 0 | 30s",
        "crd backups.lab.kubelab.dev |  | Established |  | 70m",
        "  backup adhoc |  |  |  | 60s",
        "  backup nightly |  | Ready=True |  | 20m",
        "  backup weekly |  | Ready=False (BucketMissing) · Synced=True |  | 8m",
        "replicaset lonely-6b7c | 0/0 | desired 0 · current 0 |  | 70m",
        "pod debug | 0/1 | CrashLoopBackOff | 4 | 20m",
        "pvc scratch |  | Pending |  | 5m",
    ];
    assert_eq!(rows, want);
}

#[test]
fn statefulset_claims_by_template_name_and_pod_volumes() {
    let mut o = recorded();
    // Scaled up again: db-1 mounts the claim db-1 left behind, which moves
    // under it; a claim of another set's name pattern does not.
    let mut db1 = o
        .pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("db-0"))
        .unwrap()
        .clone();
    db1.metadata.name = Some("db-1".into());
    db1.spec.as_mut().unwrap().volumes = Some(vec![serde_json::from_value(
        serde_json::json!({"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}}),
    )
    .unwrap()]);
    o.pods.push(db1);
    let mut other = o.claims[0].clone();
    other.metadata.name = Some("data-dbx-0".into());
    o.claims.push(other);
    let rows: Vec<String> = build(&o, now()).iter().map(line).collect();
    let at = |s: &str| rows.iter().position(|r| r.starts_with(s)).unwrap();
    assert_eq!(at("  pod db-1") + 1, at("    pvc data-db-1"), "{rows:#?}");
    assert!(at("pvc data-dbx-0") > at("pod debug"), "{rows:#?}");
    // Each claim once.
    assert_eq!(
        rows.iter().filter(|r| r.contains("pvc data-db-1")).count(),
        1
    );
}

#[test]
fn finished_rollout_shows_counts_not_progress() {
    let mut o = recorded();
    // The old ReplicaSet scaled to zero: the rollout is over.
    let old = o
        .replica_sets
        .iter_mut()
        .find(|r| r.metadata.name.as_deref() == Some("web-5d4b8c7f9"))
        .unwrap();
    old.status.as_mut().unwrap().replicas = 0;
    let rows = build(&o, now());
    assert_eq!(rows[0].status, "up-to-date 2 · available 3");
}

#[test]
fn events_newest_first_without_control_bytes() {
    let mut o = recorded();
    o.events[0].message = Some("evil\x1b]52;c;AAAA\x07 message".into());
    let ev = recent_events(&o, now(), 10);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (
            ev[0].type_.as_str(),
            ev[0].reason.as_str(),
            ev[0].object.as_str(),
            ev[0].age.as_str()
        ),
        ("Warning", "BackOff", "pod/debug", "20s")
    );
    assert_eq!(ev[1].object, "deployment/web");
    assert!(!ev[1].message.contains('\x1b') && !ev[1].message.contains('\x07'));
    assert_eq!(recent_events(&o, now(), 1).len(), 1);
}
