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
        events: items(include_str!("../testdata/events.json")),
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
        "job pi | 1/1 | Complete |  | 30m",
        "  pod pi-8xk2r | 0/1 | Completed | 0 | 30m",
        "service web |  | ClusterIP 10.96.120.7 |  | 10m",
        "  endpointslice web-x7k2q | 1/2 | IPv4 |  | 10m",
        "    pod web-5d4b8c7f9-k2x8p | 1/1 | Running | 1 | 9m59s",
        "    pod web-7c9f6d5b4-m9d6f | 0/1 | ContainerCreating | 0 | 30s",
        "replicaset lonely-6b7c | 0/0 | desired 0 · current 0 |  | 70m",
        "pod debug | 0/1 | CrashLoopBackOff | 4 | 20m",
    ];
    assert_eq!(rows, want);
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
