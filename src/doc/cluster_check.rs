//! The syntax of a cluster check block (```` ```toml check kind=cluster ````):
//! parsed and validated here, when the lesson is parsed, so `kubelab lint`
//! and the reader name a bad check by its line. Running a check against a
//! cluster is `cluster::check`'s job (it re-exports these types).
//!
//! `object` is `kind/name` in the lab's namespace (kubectl's resource
//! names: `deployment`, `deploy`, `pods`, …), and exactly one of
//! `exists = true|false`, `field` + `equals`, `condition` (+ `status`,
//! default "True"), or `rollout = "complete"`.

use crate::sanitize::one_line;
use kube::core::{ApiResource, GroupVersionKind};
use serde::Deserialize;
use serde_json::Value;

/// (names kubectl accepts, group, version, Kind, plural, namespaced).
type KindEntry = (
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
);

/// Kinds a check may name.
const KINDS: &[KindEntry] = &[
    (&["pod", "pods", "po"], "", "v1", "Pod", "pods", true),
    (
        &["service", "services", "svc"],
        "",
        "v1",
        "Service",
        "services",
        true,
    ),
    (
        &["configmap", "configmaps", "cm"],
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        true,
    ),
    (&["secret", "secrets"], "", "v1", "Secret", "secrets", true),
    (
        &["serviceaccount", "serviceaccounts", "sa"],
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
    ),
    (
        &["persistentvolumeclaim", "persistentvolumeclaims", "pvc"],
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ),
    (
        &["deployment", "deployments", "deploy"],
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
    ),
    (
        &["replicaset", "replicasets", "rs"],
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
    ),
    (
        &["statefulset", "statefulsets", "sts"],
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
    ),
    (
        &["daemonset", "daemonsets", "ds"],
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        true,
    ),
    (&["job", "jobs"], "batch", "v1", "Job", "jobs", true),
    (
        &["cronjob", "cronjobs", "cj"],
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        true,
    ),
    (
        &["role", "roles"],
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
    ),
    (
        &["rolebinding", "rolebindings"],
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        &["clusterrole", "clusterroles"],
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        &[
            "customresourcedefinition",
            "customresourcedefinitions",
            "crd",
            "crds",
        ],
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
];

/// A cluster check as written in the lesson.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub object: String,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub equals: Option<toml::Value>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub rollout: Option<String>,
}

/// The object a check names, resolved to an API resource.
#[derive(Debug, Clone)]
pub struct ObjectRef {
    pub resource: ApiResource,
    pub namespaced: bool,
    pub name: String,
}

impl ObjectRef {
    /// The object's API path, named in every failure message.
    pub fn path(&self, namespace: &str) -> String {
        let base = if self.resource.group.is_empty() {
            format!("/api/{}", self.resource.version)
        } else {
            format!("/apis/{}/{}", self.resource.group, self.resource.version)
        };
        if self.namespaced {
            format!(
                "{base}/namespaces/{namespace}/{}/{}",
                self.resource.plural, self.name
            )
        } else {
            format!("{base}/{}/{}", self.resource.plural, self.name)
        }
    }
}

/// What to test on the object.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Exists(bool),
    Field { path: Vec<String>, equals: Value },
    Condition { type_: String, status: String },
    RolloutComplete,
}

/// A parsed, validated cluster check.
#[derive(Debug, Clone)]
pub struct ClusterCheck {
    pub object: ObjectRef,
    pub expect: Expect,
}

/// Parses and validates a check body; the error says what to write.
pub fn parse(body: &str) -> Result<ClusterCheck, String> {
    let spec: Spec = toml::from_str(body).map_err(|e| {
        format!(
            "cluster check: {} (write `object = \"deployment/web\"` and one of exists, \
             field + equals, condition, rollout)",
            e.message()
        )
    })?;
    let (kind, name) = spec
        .object
        .split_once('/')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| {
            format!(
                "cluster check: object = \"{}\" must be kind/name, e.g. \"deployment/web\"",
                one_line(&spec.object)
            )
        })?;
    // Object names are DNS subdomains (RFC 1123); anything else cannot
    // exist, and ends up in messages.
    let name_ok = name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !name_ok {
        return Err(format!(
            "cluster check: `{}` is not an object name (lowercase letters, digits, `-` and `.`)",
            one_line(name)
        ));
    }
    let lower = kind.to_ascii_lowercase();
    let (_, group, version, k, plural, namespaced) = KINDS
        .iter()
        .find(|(names, ..)| names.contains(&lower.as_str()))
        .ok_or_else(|| {
            let known: Vec<&str> = KINDS.iter().map(|e| e.0[0]).collect();
            format!(
                "cluster check: unknown kind `{}`; use one of {}",
                one_line(kind),
                known.join(", ")
            )
        })?;
    let object = ObjectRef {
        resource: ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, k),
            plural,
        ),
        namespaced: *namespaced,
        name: name.to_string(),
    };
    let mut given = Vec::new();
    if let Some(e) = spec.exists {
        given.push(Expect::Exists(e));
    }
    match (&spec.field, &spec.equals) {
        (Some(f), Some(v)) => {
            if f.len() > 256 || f.chars().any(char::is_control) {
                return Err(
                    "cluster check: `field` is a dotted path such as status.readyReplicas".into(),
                );
            }
            let path: Vec<String> = f
                .trim_start_matches('.')
                .split('.')
                .map(String::from)
                .collect();
            if path.iter().any(String::is_empty) {
                return Err(format!(
                    "cluster check: field = \"{}\" has an empty step",
                    one_line(f)
                ));
            }
            let equals =
                serde_json::to_value(v).map_err(|e| format!("cluster check: equals: {e}"))?;
            given.push(Expect::Field { path, equals });
        }
        (None, None) => {}
        _ => return Err("cluster check: `field` and `equals` go together".into()),
    }
    if let Some(c) = &spec.condition {
        given.push(Expect::Condition {
            type_: one_line(c),
            status: one_line(spec.status.as_deref().unwrap_or("True")),
        });
    } else if spec.status.is_some() {
        return Err("cluster check: `status` goes with `condition`".into());
    }
    if let Some(r) = &spec.rollout {
        if r != "complete" {
            return Err(format!(
                "cluster check: rollout = \"{}\": the only value is \"complete\"",
                one_line(r)
            ));
        }
        if !matches!(*k, "Deployment" | "StatefulSet" | "DaemonSet") {
            return Err(format!("cluster check: rollout applies to deployments, statefulsets and daemonsets, not {k}"));
        }
        given.push(Expect::RolloutComplete);
    }
    match given.len() {
        1 => Ok(ClusterCheck {
            object,
            expect: given.remove(0),
        }),
        0 => Err(
            "cluster check: say what to test: exists, field + equals, condition or rollout".into(),
        ),
        _ => Err(
            "cluster check: test one thing: exists, field + equals, condition or rollout".into(),
        ),
    }
}
