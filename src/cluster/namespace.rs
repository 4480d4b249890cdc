//! A lab's namespace: created on demand with kubelab's labels, deleted by
//! reset — only when those labels say kubelab made it. Cluster-scoped
//! objects a lab creates carry the same labels and reset deletes them by
//! label selector; nothing else is touched.

use super::connect::{Target, CALL_TIMEOUT};
use super::error::{bounded, ClusterError};
use super::{label_value, lesson_selector, LESSON_LABEL, MANAGED_BY};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta};
use std::collections::BTreeMap;

/// Cluster-scoped kinds a lab may create; reset deletes the ones labelled
/// with the lesson. (group, version, kind, plural)
pub const CLUSTER_SCOPED: &[(&str, &str, &str, &str)] = &[
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
    ),
    ("", "v1", "PersistentVolume", "persistentvolumes"),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses"),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
];

/// How often, and how many times, to look whether a terminating namespace
/// is gone (its finalizers delete everything in it first).
const TERMINATING_POLL: std::time::Duration = std::time::Duration::from_millis(500);
const TERMINATING_POLLS: u32 = 240;

fn is_ours(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY.0))
        .is_some_and(|v| v == MANAGED_BY.1)
}

/// Makes sure `name` exists and is kubelab's. Creates it with the labels
/// when absent; refuses (without touching it) when someone else made it.
/// Returns `true` when it was created now.
pub async fn ensure(
    target: &Target,
    client: &kube::Client,
    name: &str,
    lesson: &str,
) -> Result<bool, ClusterError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let what = format!("get namespaces/{name}");
    // A namespace being deleted (a reset just now) cannot take new objects:
    // wait until it is gone, then make it again.
    let mut polls = 0;
    while let Some(ns) = bounded(&what, &target.server, CALL_TIMEOUT, api.get_opt(name)).await? {
        if !is_ours(&ns.metadata) {
            return Err(ClusterError::NotOurs(format!("namespace {name}")));
        }
        if ns.metadata.deletion_timestamp.is_none() {
            return Ok(false);
        }
        polls += 1;
        if polls > TERMINATING_POLLS {
            return Err(ClusterError::Timeout {
                what: format!("namespaces/{name} to finish terminating"),
                after: TERMINATING_POLL * TERMINATING_POLLS,
            });
        }
        tokio::time::sleep(TERMINATING_POLL).await;
    }
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(BTreeMap::from([
                (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
                (LESSON_LABEL.to_string(), label_value(lesson)),
            ])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let what = format!("create namespaces/{name}");
    match bounded(
        &what,
        &target.server,
        CALL_TIMEOUT,
        api.create(&PostParams::default(), &ns),
    )
    .await
    {
        Ok(_) => Ok(true),
        // Another sandbox of the same lab made it a moment ago.
        Err(ClusterError::Api { code: 409, .. }) => {
            let what = format!("get namespaces/{name}");
            match bounded(&what, &target.server, CALL_TIMEOUT, api.get_opt(name)).await? {
                Some(ns) if is_ours(&ns.metadata) => Ok(false),
                _ => Err(ClusterError::NotOurs(format!("namespace {name}"))),
            }
        }
        Err(e) => Err(e),
    }
}

/// Waits until the namespace `name` is gone (a reset's delete has run its
/// finalizers), polling at most until `within` has passed: a lab run by
/// `kubelab test` ends only once the next run could start fresh.
pub async fn wait_gone(
    target: &Target,
    client: &kube::Client,
    name: &str,
    within: std::time::Duration,
) -> Result<(), ClusterError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let what = format!("get namespaces/{name}");
    let deadline = tokio::time::Instant::now() + within;
    while bounded(&what, &target.server, CALL_TIMEOUT, api.get_opt(name))
        .await?
        .is_some()
    {
        if tokio::time::Instant::now() >= deadline {
            return Err(ClusterError::Timeout {
                what: format!("namespaces/{name} to finish terminating"),
                after: within,
            });
        }
        tokio::time::sleep(TERMINATING_POLL.min(within)).await;
    }
    Ok(())
}

/// What a reset removed (names as `kind/name`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub objects: Vec<String>,
}

/// Deletes the lab's namespace (if kubelab made it) and every cluster-scoped
/// object labelled for `lesson`. Kinds the cluster does not serve are skipped.
pub async fn reset(
    target: &Target,
    client: &kube::Client,
    name: &str,
    lesson: &str,
) -> Result<Removed, ClusterError> {
    let mut removed = Removed::default();
    let api: Api<Namespace> = Api::all(client.clone());
    let what = format!("get namespaces/{name}");
    if let Some(ns) = bounded(&what, &target.server, CALL_TIMEOUT, api.get_opt(name)).await? {
        if !is_ours(&ns.metadata) {
            return Err(ClusterError::NotOurs(format!("namespace {name}")));
        }
        let what = format!("delete namespaces/{name}");
        bounded(
            &what,
            &target.server,
            CALL_TIMEOUT,
            api.delete(name, &DeleteParams::background()),
        )
        .await?;
        removed.objects.push(format!("namespace/{name}"));
    }
    let selector = lesson_selector(lesson);
    for (group, version, kind, plural) in CLUSTER_SCOPED {
        let ar =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let lp = ListParams::default().labels(&selector);
        let what = format!("list {plural} -l {selector}");
        let list = match bounded(&what, &target.server, CALL_TIMEOUT, api.list(&lp)).await {
            Ok(l) => l,
            Err(ClusterError::NotFound(_)) => continue, // kind not served here
            Err(e) => return Err(e),
        };
        for obj in list.items {
            // The selector already says so; check again, never trust a list.
            let Some(n) = obj.metadata.name.clone().filter(|_| is_ours(&obj.metadata)) else {
                continue;
            };
            let what = format!("delete {plural}/{n}");
            match bounded(
                &what,
                &target.server,
                CALL_TIMEOUT,
                api.delete(&n, &DeleteParams::background()),
            )
            .await
            {
                Ok(_) | Err(ClusterError::NotFound(_)) => removed
                    .objects
                    .push(format!("{}/{n}", kind.to_ascii_lowercase())),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
