//! Watches against the recorded API: list, watch events, a watch that
//! expires with 410 Gone and forces a re-list, and failures that must
//! become messages.

use super::*;
use crate::cluster::recorded::{status_body, Route, Server};
use std::time::Duration;

const NS: &str = "kubelab-deploy";
const PODS: &str = "/api/v1/namespaces/kubelab-deploy/pods";

/// Waits (bounded, not timed) until `cond` holds on the watch.
async fn until(w: &ObjectsWatchLike, what: &str, cond: impl Fn(&ObjectsWatchLike) -> bool) {
    for _ in 0..600 {
        if cond(w) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}; state {:?}", w.state());
}

/// One kind's watch (pods), as `ObjectsWatch` runs each.
struct ObjectsWatchLike {
    pods: Store<Pod>,
    states: States,
    task: JoinHandle<()>,
}

impl ObjectsWatchLike {
    async fn start(srv: &Server) -> Self {
        let t = srv.target().await;
        let client = t.client().unwrap();
        let states: States = Arc::default();
        let rt = tokio::runtime::Handle::current();
        let (pods, task) = spawn_kind::<Pod>(&rt, &client, &t.server, NS, "pods", &states);
        ObjectsWatchLike { pods, states, task }
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .pods
            .state()
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        v.sort();
        v
    }
    fn state(&self) -> KindState {
        self.states.lock().unwrap()["pods"].clone()
    }
}

impl Drop for ObjectsWatchLike {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn pod_json(name: &str, rv: &str, phase: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "uid": format!("uid-{name}"),
                     "resourceVersion": rv, "creationTimestamp": "2026-12-06T12:00:00Z"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": phase}
    })
}

/// Newline-delimited watch events, as the server streams them.
fn events(evs: &[(&str, serde_json::Value)]) -> String {
    evs.iter()
        .map(|(t, o)| serde_json::json!({"type": t, "object": o}).to_string() + "\n")
        .collect()
}

fn pod_list(rv: &str, pods: &[serde_json::Value]) -> String {
    serde_json::json!({"kind": "PodList", "apiVersion": "v1",
                       "metadata": {"resourceVersion": rv}, "items": pods})
    .to_string()
}

#[tokio::test]
async fn watch_events_apply_and_the_next_watch_resumes_at_the_last_version() {
    let srv = Server::start(vec![
        Route::get(PODS, include_str!("../testdata/pods.json")).query("limit=500"),
        Route::get(
            PODS,
            &events(&[
                ("ADDED", pod_json("web-new", "1050", "Pending")),
                ("MODIFIED", pod_json("web-new", "1051", "Running")),
                ("DELETED", pod_json("debug", "1052", "Running")),
            ]),
        )
        .query("watch=true")
        .query("resourceVersion=1042"),
    ])
    .await;
    let w = ObjectsWatchLike::start(&srv).await;
    until(&w, "watch applied", |w| {
        w.names().contains(&"web-new".to_string()) && !w.names().contains(&"debug".to_string())
    })
    .await;
    let phase = w
        .pods
        .state()
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("web-new"))
        .and_then(|p| p.status.clone()?.phase);
    assert_eq!(phase.as_deref(), Some("Running"), "MODIFIED applied");
    assert_eq!(w.names().len(), 7);
    // The stream ended; the watcher watches again from the last event's
    // resourceVersion, without listing again.
    until(&w, "second watch", |_| {
        srv.requests()
            .iter()
            .any(|r| r.contains("watch=true") && r.contains("resourceVersion=1052"))
    })
    .await;
    assert_eq!(w.state().lists, 1);
    assert!(w.state().synced && w.state().problem.is_none());
}

#[tokio::test]
async fn watch_410_gone_forces_a_relist_that_replaces_the_store() {
    let gone = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": "too old resource version: 1042 (1900)",
        "reason": "Expired", "code": 410});
    let srv = Server::start(vec![
        Route::get(PODS, include_str!("../testdata/pods.json")).query("limit=500"),
        Route::get(PODS, &events(&[("ERROR", gone)]))
            .query("watch=true")
            .query("resourceVersion=1042"),
        // While the watch was gone: every web pod replaced, `debug` deleted.
        Route::get(
            PODS,
            &pod_list(
                "2000",
                &[
                    pod_json("web-7c9f6d5b4-zzzzz", "1990", "Running"),
                    pod_json("db-0", "1991", "Running"),
                ],
            ),
        )
        .query("limit=500"),
    ])
    .await;
    let w = ObjectsWatchLike::start(&srv).await;
    until(&w, "re-listed", |w| {
        w.state().lists == 2 && w.state().synced
    })
    .await;
    until(&w, "store replaced", |w| {
        w.names() == ["db-0", "web-7c9f6d5b4-zzzzz"]
    })
    .await;
    until(&w, "watch from the new list", |_| {
        srv.requests()
            .iter()
            .any(|r| r.contains("watch=true") && r.contains("resourceVersion=2000"))
    })
    .await;
    let lists = srv
        .requests()
        .iter()
        .filter(|r| !r.contains("watch=true"))
        .count();
    assert_eq!(lists, 2, "{:?}", srv.requests());
}

#[tokio::test]
async fn forbidden_and_expired_tokens_become_messages() {
    let srv = Server::start(vec![Route::get(
        PODS,
        &status_body(
            403,
            "Forbidden",
            "pods is forbidden: User \"learner\" cannot list resource \"pods\" in API group \"\" in the namespace \"kubelab-deploy\"",
        ),
    )
    .status(403)
    .repeat()])
    .await;
    let w = ObjectsWatchLike::start(&srv).await;
    until(&w, "403 reported", |w| w.state().problem.is_some()).await;
    let p = w.state().problem.unwrap();
    assert!(p.starts_with("not allowed: watch pods"), "{p}");
    assert!(!w.state().synced);
    drop(w);

    let srv = Server::start(vec![Route::get(
        PODS,
        &status_body(401, "Unauthorized", "Unauthorized"),
    )
    .status(401)
    .repeat()])
    .await;
    let w = ObjectsWatchLike::start(&srv).await;
    until(&w, "401 reported", |w| w.state().problem.is_some()).await;
    assert!(w.state().problem.unwrap().contains("expired"));
}

#[tokio::test]
async fn unreachable_cluster_is_a_message_not_a_hang() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let kc = kube::config::Kubeconfig::from_yaml(&format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n\
         clusters: [{{name: gone, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
         contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]\n\
         users: [{{name: u, user: {{token: t}}}}]\n"
    ))
    .unwrap();
    let t = crate::cluster::Target::from_kubeconfig(kc, None, vec![])
        .await
        .unwrap();
    let client = t.client().unwrap();
    let w = ObjectsWatch::start(&tokio::runtime::Handle::current(), &client, &t.server, NS);
    for _ in 0..600 {
        if w.problem().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let p = w.problem().expect("a problem is reported");
    assert!(p.contains("unreachable"), "{p}");
    assert!(!w.synced());
    // And the version probe is bounded and says so too.
    let e = t.server_version(&client).await.unwrap_err();
    assert!(e.to_string().contains("unreachable"), "{e}");
}

#[tokio::test]
async fn the_objects_watch_feeds_the_tree() {
    let ns = |g: &str, k: &str| {
        if g.is_empty() {
            format!("/api/v1/namespaces/{NS}/{k}")
        } else {
            format!("/apis/{g}/namespaces/{NS}/{k}")
        }
    };
    let list = |g: &str, k: &str, body: &str| Route::get(&ns(g, k), body).query("limit=500");
    let td = |f: &str| match f {
        "deployments" => include_str!("../testdata/deployments.json"),
        "replicasets" => include_str!("../testdata/replicasets.json"),
        "statefulsets" => include_str!("../testdata/statefulsets.json"),
        "jobs" => include_str!("../testdata/jobs.json"),
        "pods" => include_str!("../testdata/pods.json"),
        "services" => include_str!("../testdata/services.json"),
        "endpointslices" => include_str!("../testdata/endpointslices.json"),
        _ => include_str!("../testdata/events.json"),
    };
    let srv = Server::start(vec![
        list("apps/v1", "deployments", td("deployments")),
        list("apps/v1", "replicasets", td("replicasets")),
        list("apps/v1", "statefulsets", td("statefulsets")),
        list("batch/v1", "jobs", td("jobs")),
        list("", "pods", td("pods")),
        list("", "services", td("services")),
        list(
            "discovery.k8s.io/v1",
            "endpointslices",
            td("endpointslices"),
        ),
        list("", "events", td("events")),
    ])
    .await;
    let t = srv.target().await;
    let w = ObjectsWatch::start(
        &tokio::runtime::Handle::current(),
        &t.client().unwrap(),
        &t.server,
        NS,
    );
    for _ in 0..600 {
        if w.synced() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(w.synced(), "{:?}", w.states());
    let now = k8s_openapi::chrono::DateTime::parse_from_rfc3339("2026-12-06T12:10:00Z")
        .unwrap()
        .to_utc();
    let from_watch = crate::cluster::tree::build(&w.snapshot(), now);
    let from_lists = crate::cluster::tree::build(&crate::cluster::tree::tests::recorded(), now);
    assert_eq!(from_watch, from_lists);
    assert_eq!(
        crate::cluster::tree::recent_events(&w.snapshot(), now, 5).len(),
        2
    );
}
