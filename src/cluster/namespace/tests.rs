//! The lab namespace against the recorded API: created with labels when
//! absent, never touched when someone else's, reset deletes only ours.

use super::*;
use crate::cluster::recorded::{status_body, Route, Server};

fn ns_json(name: &str, labels: serde_json::Value) -> String {
    serde_json::json!({
        "kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": name, "uid": "0c3b6a1e-n001-4c1a-9f00-000000000001",
                     "resourceVersion": "500", "creationTimestamp": "2026-12-06T12:00:00Z",
                     "labels": labels},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
    })
    .to_string()
}

fn ours() -> serde_json::Value {
    serde_json::json!({"app.kubernetes.io/managed-by": "kubelab", "kubelab.dev/lesson": "deploy",
                       "kubernetes.io/metadata.name": "kubelab-deploy"})
}

const NS: &str = "/api/v1/namespaces/kubelab-deploy";

#[tokio::test]
async fn ensure_creates_with_labels_and_refuses_a_foreign_namespace() {
    let srv = Server::start(vec![
        Route::get(
            NS,
            &status_body(404, "NotFound", "namespaces \"kubelab-deploy\" not found"),
        )
        .status(404),
        Route::get("/api/v1/namespaces", &ns_json("kubelab-deploy", ours()))
            .method("POST")
            .status(201),
        Route::get(NS, &ns_json("kubelab-deploy", ours())),
        Route::get(
            NS,
            &ns_json("kubelab-deploy", serde_json::json!({"team": "prod"})),
        ),
    ])
    .await;
    let t = srv.target().await;
    let c = t.client().unwrap();
    assert!(
        ensure(&t, &c, "kubelab-deploy", "deploy").await.unwrap(),
        "created"
    );
    assert!(
        !ensure(&t, &c, "kubelab-deploy", "deploy").await.unwrap(),
        "already ours"
    );
    let e = ensure(&t, &c, "kubelab-deploy", "deploy")
        .await
        .unwrap_err();
    assert_eq!(e, ClusterError::NotOurs("namespace kubelab-deploy".into()));
    assert!(e.to_string().contains("leaves it alone"));
    let reqs = srv.requests();
    assert_eq!(
        reqs.iter().filter(|r| r.starts_with("POST")).count(),
        1,
        "{reqs:?}"
    );
    assert!(!reqs
        .iter()
        .any(|r| r.starts_with("DELETE") || r.starts_with("PUT") || r.starts_with("PATCH")));
}

#[tokio::test]
async fn no_permission_to_create_is_a_message() {
    let srv = Server::start(vec![
        Route::get(NS, &status_body(404, "NotFound", "not found")).status(404),
        Route::get("/api/v1/namespaces", &status_body(403, "Forbidden",
            "namespaces is forbidden: User \"learner\" cannot create resource \"namespaces\" in API group \"\" at the cluster scope"))
            .method("POST").status(403),
    ])
    .await;
    let t = srv.target().await;
    let e = ensure(&t, &t.client().unwrap(), "kubelab-deploy", "deploy")
        .await
        .unwrap_err();
    assert!(matches!(e, ClusterError::Forbidden(_)));
    assert!(
        e.to_string().contains("create namespaces/kubelab-deploy"),
        "{e}"
    );
}

#[tokio::test]
async fn reset_deletes_our_namespace_and_labelled_cluster_objects_only() {
    let sel =
        "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubelab%2Ckubelab.dev%2Flesson%3Ddeploy";
    let cr_list = serde_json::json!({"kind": "ClusterRoleList", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"resourceVersion": "700"}, "items": [
          {"metadata": {"name": "kubelab-deploy-reader", "uid": "u1", "resourceVersion": "650",
                        "labels": {"app.kubernetes.io/managed-by": "kubelab", "kubelab.dev/lesson": "deploy"}},
           "rules": []},
          // A list that ignored the selector must still not get this deleted.
          {"metadata": {"name": "cluster-admin", "uid": "u2", "resourceVersion": "1"}, "rules": []}]});
    let empty = |kind: &str, av: &str| {
        serde_json::json!({"kind": kind, "apiVersion": av, "metadata": {"resourceVersion": "700"}, "items": []}).to_string()
    };
    let mut routes = vec![
        Route::get(NS, &ns_json("kubelab-deploy", ours())),
        Route::get(NS, &ns_json("kubelab-deploy", ours())).method("DELETE"),
        Route::get(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            &cr_list.to_string(),
        )
        .query(sel),
        Route::get(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/kubelab-deploy-reader",
            &status_body(200, "", ""),
        )
        .method("DELETE"),
        Route::get(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &empty("ClusterRoleBindingList", "rbac.authorization.k8s.io/v1"),
        )
        .query(sel),
        // apiextensions not served on this server: 404 → skipped.
        Route::get(
            "/api/v1/persistentvolumes",
            &empty("PersistentVolumeList", "v1"),
        )
        .query(sel),
        Route::get(
            "/apis/storage.k8s.io/v1/storageclasses",
            &empty("StorageClassList", "storage.k8s.io/v1"),
        )
        .query(sel),
        Route::get(
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            &empty(
                "ValidatingWebhookConfigurationList",
                "admissionregistration.k8s.io/v1",
            ),
        )
        .query(sel),
    ];
    routes.push(Route::get(
        NS,
        &ns_json("kubelab-deploy", serde_json::json!({})),
    ));
    let srv = Server::start(routes).await;
    let t = srv.target().await;
    let c = t.client().unwrap();
    let r = reset(&t, &c, "kubelab-deploy", "deploy").await.unwrap();
    assert_eq!(
        r.objects,
        vec![
            "namespace/kubelab-deploy",
            "clusterrole/kubelab-deploy-reader"
        ]
    );
    let deletes: Vec<String> = srv
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    assert!(!deletes.iter().any(|d| d.contains("cluster-admin")));
    // Someone else's namespace of the same name: refused, nothing deleted.
    let e = reset(&t, &c, "kubelab-deploy", "deploy").await.unwrap_err();
    assert!(matches!(e, ClusterError::NotOurs(_)));
    assert_eq!(
        srv.requests()
            .iter()
            .filter(|r| r.starts_with("DELETE"))
            .count(),
        2
    );
}

#[tokio::test]
async fn ensure_waits_for_a_terminating_namespace_then_makes_it_again() {
    let mut terminating: serde_json::Value =
        serde_json::from_str(&ns_json("kubelab-deploy", ours())).unwrap();
    terminating["metadata"]["deletionTimestamp"] = "2026-12-06T12:00:00Z".into();
    terminating["status"]["phase"] = "Terminating".into();
    let srv = Server::start(vec![
        Route::get(NS, &terminating.to_string()),
        Route::get(NS, &terminating.to_string()),
        Route::get(NS, &status_body(404, "NotFound", "not found")).status(404),
        Route::get("/api/v1/namespaces", &ns_json("kubelab-deploy", ours()))
            .method("POST")
            .status(201),
    ])
    .await;
    let t = srv.target().await;
    assert!(ensure(&t, &t.client().unwrap(), "kubelab-deploy", "deploy")
        .await
        .unwrap());
    let gets = srv
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET"))
        .count();
    assert_eq!(gets, 3, "{:?}", srv.requests());
}

#[tokio::test]
async fn wait_gone_polls_until_the_namespace_is_gone_and_is_bounded() {
    let mut terminating: serde_json::Value =
        serde_json::from_str(&ns_json("kubelab-deploy", ours())).unwrap();
    terminating["metadata"]["deletionTimestamp"] = "2026-12-06T12:00:00Z".into();
    let srv = Server::start(vec![
        Route::get(NS, &terminating.to_string()),
        Route::get(NS, &status_body(404, "NotFound", "not found")).status(404),
    ])
    .await;
    let t = srv.target().await;
    let c = t.client().unwrap();
    wait_gone(&t, &c, "kubelab-deploy", std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(srv.requests().len(), 2, "{:?}", srv.requests());

    // A namespace stuck terminating (a finalizer that never ends): an
    // error after the deadline, not a hang.
    let stuck = Server::start(vec![Route::get(NS, &terminating.to_string()).repeat()]).await;
    let t = stuck.target().await;
    let c = t.client().unwrap();
    let started = std::time::Instant::now();
    let e = wait_gone(
        &t,
        &c,
        "kubelab-deploy",
        std::time::Duration::from_millis(800),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        e.to_string()
            .contains("namespaces/kubelab-deploy to finish terminating"),
        "{e}"
    );
}
