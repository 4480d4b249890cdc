//! Cluster checks: parsing (what lint reports) and judging recorded objects,
//! then one run against the recorded API through the real client.

use super::*;
use crate::cluster::recorded::{status_body, Route, Server};

const NS: &str = "kubelab-deploy";

fn deployment() -> Value {
    let list: Value = serde_json::from_str(include_str!("../testdata/deployments.json")).unwrap();
    list["items"][0].clone()
}

#[test]
fn parse_accepts_each_form_and_names_what_is_wrong() {
    let c = parse("object = \"deploy/web\"\nrollout = \"complete\"").unwrap();
    assert_eq!(c.expect, Expect::RolloutComplete);
    assert_eq!(
        c.object.path(NS),
        "/apis/apps/v1/namespaces/kubelab-deploy/deployments/web"
    );
    let c =
        parse("object = \"pod/web-0\"\nfield = \"status.phase\"\nequals = \"Running\"").unwrap();
    assert!(matches!(c.expect, Expect::Field { .. }));
    let c = parse("object = \"crd/widgets.example.com\"\nexists = true").unwrap();
    assert_eq!(
        c.object.path(NS),
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
    );
    for (body, says) in [
        ("object = \"web\"\nexists = true", "kind/name"),
        (
            "object = \"gizmo/web\"\nexists = true",
            "unknown kind `gizmo`",
        ),
        ("object = \"deploy/web\"", "say what to test"),
        (
            "object = \"deploy/web\"\nexists = true\nrollout = \"complete\"",
            "test one thing",
        ),
        (
            "object = \"deploy/web\"\nfield = \"spec.replicas\"",
            "go together",
        ),
        ("object = \"pod/web\"\nrollout = \"complete\"", "not Pod"),
        (
            "object = \"deploy/web\"\nrollout = \"done\"",
            "\"complete\"",
        ),
        (
            "object = \"deploy/web\"\nexist = true",
            "unknown field `exist`",
        ),
        (
            "object = \"deploy/Web\\u001b[2J\"\nexists = true",
            "not an object name",
        ),
        (
            "object = \"deploy/web\"\nfield = \"a\\u0007b\"\nequals = 1",
            "dotted path",
        ),
    ] {
        let e = parse(body).unwrap_err();
        assert!(e.contains(says), "{body:?}: {e}");
    }
}

#[test]
fn judging_names_the_object_path_on_failure() {
    let d = deployment();
    let check = |body: &str| judge(&parse(body).unwrap(), NS, Some(&d));
    // Mid-rollout in the recording: 2 of 3 updated.
    let e = check("object = \"deployment/web\"\nrollout = \"complete\"").unwrap_err();
    assert_eq!(
        e,
        "/apis/apps/v1/namespaces/kubelab-deploy/deployments/web: rollout not complete: \
         2 out of 3 new replicas have been updated"
    );
    check("object = \"deployment/web\"\nfield = \"spec.replicas\"\nequals = 3").unwrap();
    let e =
        check("object = \"deployment/web\"\nfield = \".spec.replicas\"\nequals = 5").unwrap_err();
    assert!(
        e.ends_with("deployments/web: .spec.replicas is 3, expected 5"),
        "{e}"
    );
    check("object = \"deployment/web\"\nfield = \"spec.template.spec.containers.0.image\"\nequals = \"nginx:1.27\"").unwrap();
    check("object = \"deployment/web\"\ncondition = \"Available\"").unwrap();
    let e = check("object = \"deployment/web\"\ncondition = \"ReplicaFailure\"").unwrap_err();
    assert!(e.ends_with("has no condition ReplicaFailure yet"), "{e}");
    let c = parse("object = \"deployment/web\"\nexists = true").unwrap();
    assert_eq!(
        judge(&c, NS, None).unwrap_err(),
        "/apis/apps/v1/namespaces/kubelab-deploy/deployments/web does not exist"
    );
    let gone = parse("object = \"deployment/web\"\nexists = false").unwrap();
    assert!(judge(&gone, NS, None).is_ok());

    let mut done = d.clone();
    done["status"]["updatedReplicas"] = 3.into();
    done["status"]["replicas"] = 3.into();
    done["status"]["availableReplicas"] = 3.into();
    check_ok(&done);
    let mut stale = done.clone();
    stale["metadata"]["generation"] = 3.into();
    let c = parse("object = \"deployment/web\"\nrollout = \"complete\"").unwrap();
    assert!(judge(&c, NS, Some(&stale))
        .unwrap_err()
        .contains("observed"));
}

fn check_ok(d: &Value) {
    let c = parse("object = \"deployment/web\"\nrollout = \"complete\"").unwrap();
    judge(&c, NS, Some(d)).unwrap();
}

#[tokio::test]
async fn run_asks_the_api_for_the_object() {
    let path = "/apis/apps/v1/namespaces/kubelab-deploy/deployments/web";
    let srv = Server::start(vec![
        Route::get(path, &deployment().to_string()),
        Route::get(
            path,
            &status_body(404, "NotFound", "deployments.apps \"web\" not found"),
        )
        .status(404),
        Route::get(
            path,
            &status_body(403, "Forbidden", "deployments.apps \"web\" is forbidden"),
        )
        .status(403),
    ])
    .await;
    let t = srv.target().await;
    let client = t.client().unwrap();
    let c =
        parse("object = \"deployment/web\"\nfield = \"status.readyReplicas\"\nequals = 3").unwrap();
    assert_eq!(run(&c, &t, &client, NS).await.unwrap(), Ok(()));
    let missing = run(&c, &t, &client, NS).await.unwrap().unwrap_err();
    assert!(
        missing.ends_with("deployments/web does not exist"),
        "{missing}"
    );
    let e = run(&c, &t, &client, NS).await.unwrap_err();
    assert!(matches!(e, ClusterError::Forbidden(_)), "{e}");
    assert_eq!(srv.requests(), vec![format!("GET {path}"); 3]);
}
