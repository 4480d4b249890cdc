//! kubelab's cluster code against a real cluster: the one the kubeconfig
//! names (`scripts/test cluster`, docs/cluster.md). Runs only with
//! KUBELAB_CLUSTER_LIVE=1 — it creates and deletes the namespace
//! `kubelab-selftest` — and prints `SKIP:` otherwise or when no cluster
//! answers. The image is the pause image every kubelet already has.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use kubelab::cluster::{check, lab, lab_namespace, namespace, tree, watch, Target};
use std::time::Duration;

const LESSON: &str = "selftest";

/// Deletes what the test made, however it ends.
struct Cleanup(Target);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let t = self.0.clone();
        let r = lab::block_on(move || {
            Box::pin(async move {
                let c = t.client()?;
                namespace::reset(&t, &c, &lab_namespace(LESSON), LESSON).await
            })
        });
        eprintln!("cleanup: {r:?}");
    }
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    // Bounded by attempts (image pulls, namespace finalizers take a while).
    for _ in 0..360 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_namespace_its_objects_tree_checks_and_reset_on_a_real_cluster() {
    if std::env::var_os("KUBELAB_CLUSTER_LIVE").is_none() {
        println!("SKIP: set KUBELAB_CLUSTER_LIVE=1 (or run `scripts/test cluster`) to test against the kubeconfig's cluster");
        return;
    }
    let ctx = std::env::var("KUBELAB_CONTEXT").ok();
    let target = match Target::resolve(ctx.as_deref()).await {
        Ok(t) => t,
        Err(e) => {
            println!("SKIP: {e}");
            return;
        }
    };
    let client = target.client().unwrap();
    match target.server_version(&client).await {
        Ok(v) => println!("cluster: {} ({})", target.describe(), v.git_version),
        Err(e) => {
            println!("SKIP: {e}");
            return;
        }
    }
    let ns = lab_namespace(LESSON);
    let _cleanup = Cleanup(target.clone());
    namespace::ensure(&target, &client, &ns, LESSON)
        .await
        .unwrap();
    let got: Namespace = Api::all(client.clone()).get(&ns).await.unwrap();
    assert_eq!(
        got.metadata
            .labels
            .unwrap()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("kubelab")
    );

    let deploy: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}]}}}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &deploy)
        .await
        .unwrap();
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "settings"}, "data": {"color": "blue"}
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();

    let w = watch::ObjectsWatch::start(
        &tokio::runtime::Handle::current(),
        &client,
        &target.server,
        &ns,
        Some(&kubelab::cluster::lesson_selector(LESSON)),
    );
    let rows = eventually("the tree shows web 2/2 with two pods", || async {
        let rows = tree::build(&w.snapshot(), k8s_openapi::chrono::Utc::now());
        let ok = rows
            .iter()
            .any(|r| r.kind == "deployment" && r.name == "web" && r.ready == "2/2")
            && rows
                .iter()
                .filter(|r| r.kind == "pod" && r.depth == 2 && r.status == "Running")
                .count()
                == 2;
        ok.then_some(rows)
    })
    .await;
    for r in &rows {
        println!(
            "{}{} {} {} {} {}",
            "  ".repeat(r.depth),
            r.kind,
            r.name,
            r.ready,
            r.status,
            r.age
        );
    }
    assert!(w.problem().is_none(), "{:?}", w.problem());

    let rolled = check::parse("object = \"deployment/web\"\nrollout = \"complete\"").unwrap();
    eventually("rollout complete", || async {
        check::run(&rolled, &target, &client, &ns)
            .await
            .unwrap()
            .ok()
    })
    .await;
    let color =
        check::parse("object = \"cm/settings\"\nfield = \"data.color\"\nequals = \"red\"").unwrap();
    let why = check::run(&color, &target, &client, &ns)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        why.contains(&format!(
            "/api/v1/namespaces/{ns}/configmaps/settings: .data.color is \"blue\""
        )),
        "{why}"
    );

    let removed = namespace::reset(&target, &client, &ns, LESSON)
        .await
        .unwrap();
    assert!(removed.objects.contains(&format!("namespace/{ns}")));
    eventually("the namespace is gone", || async {
        let gone = Api::<Namespace>::all(client.clone())
            .get_opt(&ns)
            .await
            .ok()?
            .is_none();
        gone.then_some(())
    })
    .await;
}
