//! Watches against the recorded API: list, watch events, a watch that
//! expires with 410 Gone and forces a re-list, and failures that must
//! become messages.

use super::*;
use crate::cluster::recorded::{status_body, Route, Server};
use crate::course::model::Lang;
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
    assert!(
        p.message(Lang::En).starts_with("not allowed: list pods"),
        "{p:?}"
    );
    assert!(
        p.message(Lang::Zh).starts_with("没有权限：list pods"),
        "{p:?}"
    );
    assert_eq!(p.short(Lang::En), "cluster: not allowed to list pods");
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
    assert!(w
        .state()
        .problem
        .unwrap()
        .message(Lang::En)
        .contains("expired"));
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
    let w = ObjectsWatch::start(
        &tokio::runtime::Handle::current(),
        &client,
        &t.server,
        NS,
        Some("app.kubernetes.io/managed-by=kubelab"),
    );
    for _ in 0..600 {
        if w.settled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let p = w.problem().expect("a problem is reported");
    assert!(p.message(Lang::En).contains("unreachable"), "{p:?}");
    // Ten kinds failed the same way: one message.
    assert_eq!(w.problems().len(), 1, "{:?}", w.problems());
    assert!(!w.synced());
    // And the version probe is bounded and says so too.
    let e = t.server_version(&client).await.unwrap_err();
    assert!(e.to_string().contains("unreachable"), "{e}");
}

/// What a server answers to the first list of every kind the pane watches
/// for the lesson `deploy` (src/cluster/testdata); `skip` leaves one out.
pub(crate) fn full_lists(skip: &str) -> Vec<Route> {
    let ns = |g: &str, k: &str| {
        if g.is_empty() {
            format!("/api/v1/namespaces/{NS}/{k}")
        } else {
            format!("/apis/{g}/namespaces/{NS}/{k}")
        }
    };
    let list = |g: &str, k: &str, body: &str| Route::get(&ns(g, k), body).query("limit=500");
    let all = [
        (
            "deployments",
            list("apps/v1", "deployments", include_str!("../testdata/deployments.json")),
        ),
        (
            "replicasets",
            list("apps/v1", "replicasets", include_str!("../testdata/replicasets.json")),
        ),
        (
            "statefulsets",
            list("apps/v1", "statefulsets", include_str!("../testdata/statefulsets.json")),
        ),
        ("jobs", list("batch/v1", "jobs", include_str!("../testdata/jobs.json"))),
        ("pods", list("", "pods", include_str!("../testdata/pods.json"))),
        ("services", list("", "services", include_str!("../testdata/services.json"))),
        (
            "endpointslices",
            list(
                "discovery.k8s.io/v1",
                "endpointslices",
                include_str!("../testdata/endpointslices.json"),
            ),
        ),
        (
            "persistentvolumeclaims",
            list("", "persistentvolumeclaims", include_str!("../testdata/pvcs.json")),
        ),
        ("events", list("", "events", include_str!("../testdata/events.json"))),
        (
            "customresourcedefinitions",
            Route::get(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                include_str!("../testdata/crds.json"),
            )
            .query("limit=500")
            .query(
                "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubelab%2Ckubelab.dev%2Flesson%3Ddeploy",
            ),
        ),
        (
            "backups.lab.kubelab.dev",
            list("lab.kubelab.dev/v1", "backups", include_str!("../testdata/backups.json")),
        ),
    ];
    all.into_iter()
        .filter(|(k, _)| *k != skip)
        .map(|(_, r)| r)
        .collect()
}

/// The pane's watches of the lesson `deploy` on `srv`.
async fn lab_watch(srv: &Server) -> ObjectsWatch {
    let t = srv.target().await;
    ObjectsWatch::start(
        &tokio::runtime::Handle::current(),
        &t.client().unwrap(),
        &t.server,
        NS,
        Some(&crate::cluster::lesson_selector("deploy")),
    )
}

/// Waits (bounded, not timed) until `cond` holds.
async fn eventually(w: &ObjectsWatch, what: &str, cond: impl Fn(&ObjectsWatch) -> bool) {
    for _ in 0..600 {
        if cond(w) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never happened: {what}; states {:?}; problems {:?}",
        w.states(),
        w.problems()
    );
}

fn at_noon() -> k8s_openapi::chrono::DateTime<k8s_openapi::chrono::Utc> {
    k8s_openapi::chrono::DateTime::parse_from_rfc3339("2026-12-06T12:10:00Z")
        .unwrap()
        .to_utc()
}

#[tokio::test]
async fn the_objects_watch_feeds_the_tree() {
    let srv = Server::start(full_lists("")).await;
    let w = lab_watch(&srv).await;
    // The CRD's objects are watched once the CRD is listed: 11 kinds.
    eventually(&w, "all listed", |w| w.synced() && w.states().len() == 11).await;
    assert!(w.states().contains_key("backups.lab.kubelab.dev"));
    let now = at_noon();
    let from_watch = crate::cluster::tree::build(&w.snapshot(), now);
    let from_lists = crate::cluster::tree::build(&crate::cluster::tree::tests::recorded(), now);
    assert_eq!(from_watch, from_lists);
    assert_eq!(
        crate::cluster::tree::recent_events(&w.snapshot(), now, 5).len(),
        2
    );
    assert!(w.problems().is_empty());
}

#[tokio::test]
async fn a_crd_deleted_mid_lab_takes_its_objects_with_it() {
    let crd: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(include_str!("../testdata/crds.json")).unwrap()
            ["items"][0]
            .clone();
    let mut routes = full_lists("");
    routes.push(
        Route::get(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &events(&[("DELETED", crd)]),
        )
        .query("watch=true"),
    );
    let srv = Server::start(routes).await;
    let w = lab_watch(&srv).await;
    eventually(&w, "the CRD and its watch gone", |w| {
        w.synced() && w.states().len() == 10 && w.snapshot().crds.is_empty()
    })
    .await;
    assert!(w.snapshot().custom.is_empty());
    let rows = crate::cluster::tree::build(&w.snapshot(), at_noon());
    assert!(!rows.iter().any(|r| r.kind == "crd" || r.kind == "backup"));
}

#[tokio::test]
async fn the_cluster_going_away_mid_lab_is_said_and_its_return_clears_it() {
    let mut srv = Server::start(full_lists("")).await;
    let w = lab_watch(&srv).await;
    eventually(&w, "all listed", |w| w.synced() && w.states().len() == 11).await;
    let before = crate::cluster::tree::build(&w.snapshot(), at_noon());
    srv.stop().await;
    // The open watches are cut, then every retry is refused.
    // Every kind failing the same way is one message.
    eventually(&w, "refused said, once", |w| {
        let ps = w.problems();
        ps.len() == 1 && {
            let m = ps[0].message(Lang::En);
            m.contains("unreachable") && m.contains("Connection refused")
        }
    })
    .await;
    let p = w.problem().unwrap();
    assert!(!p.message(Lang::En).contains("ServiceError: ServiceError"));
    assert!(p.short(Lang::En).contains("unreachable · retrying"));
    assert!(p.short(Lang::Zh).contains("无法连接"));
    // The last known objects stay on show under the message.
    assert_eq!(
        crate::cluster::tree::build(&w.snapshot(), at_noon()),
        before
    );
    // Back on the same address: the watches resume (quietly) and the
    // probe's answer clears the message.
    let _back = Server::start_at(srv.addr, Vec::new()).await;
    eventually(&w, "the message cleared", |w| w.problems().is_empty()).await;
    assert!(w.synced());
}

#[tokio::test]
async fn a_missing_permission_names_resource_and_verb_and_the_rest_works() {
    let mut routes = full_lists("events");
    routes.push(
        Route::get(
            &format!("/api/v1/namespaces/{NS}/events"),
            &status_body(
                403,
                "Forbidden",
                "events is forbidden: User \"learner\" cannot list resource \"events\" in API group \"\" in the namespace \"kubelab-deploy\"",
            ),
        )
        .status(403)
        .repeat(),
    );
    let srv = Server::start(routes).await;
    let w = lab_watch(&srv).await;
    eventually(&w, "settled", |w| {
        w.settled() && w.states().len() == 11 && w.problem().is_some()
    })
    .await;
    assert!(!w.synced(), "events never listed");
    let problems = w.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let m = problems[0].message(Lang::En);
    assert!(
        m.starts_with("not allowed: list events: events is forbidden"),
        "{m}"
    );
    assert_eq!(
        problems[0].short(Lang::En),
        "cluster: not allowed to list events"
    );
    assert_eq!(problems[0].short(Lang::Zh), "集群：无权 list events");
    // Everything else is there.
    let now = at_noon();
    assert_eq!(
        crate::cluster::tree::build(&w.snapshot(), now),
        crate::cluster::tree::build(&crate::cluster::tree::tests::recorded(), now)
    );
    // The pane shows the tree under the message.
    let v = crate::cluster::pane::ObjectsView::from_watch(&w, "context recorded", now, Lang::En);
    let text: String = crate::cluster::pane::lines(&v, 78, Lang::En)
        .iter()
        .map(|l| l.to_string() + "\n")
        .collect();
    assert!(text.contains("not allowed: list events"), "{text}");
    assert!(text.contains("deployment/web"), "{text}");
    assert!(!text.contains("listing objects"), "{text}");
}

#[tokio::test]
async fn a_watch_cut_by_the_server_is_said_and_retried_never_hangs() {
    let mut routes = full_lists("");
    routes.push(
        Route::get(&format!("/api/v1/namespaces/{NS}/pods"), "")
            .query("watch=true")
            .close()
            .repeat(),
    );
    let srv = Server::start(routes).await;
    let w = lab_watch(&srv).await;
    eventually(&w, "the cut said", |w| {
        w.states()
            .get("pods")
            .and_then(|s| s.problem.clone())
            .is_some_and(|p| matches!(p, WatchProblem::Failed { verb: "watch", .. }))
    })
    .await;
    // Listed once, then watched again and again.
    eventually(&w, "retried", |_| {
        srv.requests()
            .iter()
            .filter(|r| r.contains("/pods?") && r.contains("watch=true"))
            .count()
            >= 2
    })
    .await;
    assert!(w.synced());
    assert_eq!(w.snapshot().pods.len(), 7);
}

#[test]
fn each_failure_names_its_request_in_both_languages() {
    let status = |code: u16, reason: &str| kube::core::ErrorResponse {
        status: "Failure".into(),
        message: format!("{reason}\x1b[2J"),
        reason: reason.into(),
        code,
    };
    let gone = describe(
        &watcher::Error::WatchError(status(410, "Expired")),
        "https://k/",
        "pods",
    );
    assert_eq!(
        gone,
        WatchProblem::Expired {
            resource: "pods".into()
        }
    );
    assert_eq!(
        gone.message(Lang::En),
        "watch pods: expired (410 Gone), listing again"
    );
    assert!(gone.message(Lang::Zh).contains("410 Gone"));
    assert_eq!(
        gone.short(Lang::En),
        "cluster: watch of pods expired, listing again"
    );
    let list = describe(
        &watcher::Error::InitialListFailed(kube::Error::Api(status(403, "Forbidden"))),
        "https://k/",
        "secrets",
    );
    assert!(matches!(list, WatchProblem::Failed { verb: "list", .. }));
    let watch = describe(
        &watcher::Error::WatchStartFailed(kube::Error::Api(status(403, "Forbidden"))),
        "https://k/",
        "secrets",
    );
    assert_eq!(
        watch.short(Lang::En),
        "cluster: not allowed to watch secrets"
    );
    assert_eq!(watch.short(Lang::Zh), "集群：无权 watch secrets");
    assert!(
        !watch.message(Lang::En).contains('\x1b'),
        "control bytes cut"
    );
    let expired_token = describe(
        &watcher::Error::WatchError(status(401, "Unauthorized")),
        "https://k/",
        "pods",
    );
    assert!(expired_token.short(Lang::En).contains("credentials"));
}

#[tokio::test]
async fn list_allowed_but_watch_forbidden_names_the_watch() {
    let mut routes = full_lists("");
    routes.insert(
        0,
        Route::get(
            &format!("/api/v1/namespaces/{NS}/pods"),
            &status_body(
                403,
                "Forbidden",
                "pods is forbidden: User \"learner\" cannot watch resource \"pods\"",
            ),
        )
        .query("watch=true")
        .status(403)
        .repeat(),
    );
    let srv = Server::start(routes).await;
    let w = lab_watch(&srv).await;
    eventually(&w, "the watch refused", |w| {
        w.synced() && w.states().len() == 11 && w.problem().is_some()
    })
    .await;
    let p = w.problem().unwrap();
    assert_eq!(p.short(Lang::En), "cluster: not allowed to watch pods");
    assert!(
        p.message(Lang::En)
            .starts_with("not allowed: watch pods: pods is forbidden"),
        "{}",
        p.message(Lang::En)
    );
    // What the list brought stays on show.
    assert_eq!(w.snapshot().pods.len(), 7);
}
