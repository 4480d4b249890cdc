//! Checks that ask the cluster: "this object exists / has this field value /
//! this condition / this rollout completed". Written in a lesson as
//!
//! ````text
//! ```toml check id=web-ready kind=cluster
//! object = "deployment/web"
//! rollout = "complete"
//! ```
//! ````
//!
//! `object` is `kind/name` in the lab's namespace (kubectl's resource
//! names: `deployment`, `deploy`, `pods`, …), and exactly one of
//! `exists = true|false`, `field` + `equals`, `condition` (+ `status`,
//! default "True"), or `rollout = "complete"`.

use super::connect::{Target, CALL_TIMEOUT};
use super::error::{bounded, one_line, ClusterError};
use kube::api::Api;
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
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

fn at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, step| match v {
        Value::Array(a) => a.get(step.parse::<usize>().ok()?),
        Value::Object(o) => o.get(step),
        _ => None,
    })
}

fn short(v: &Value) -> String {
    one_line(&v.to_string())
}

/// Why a rollout is not complete yet, as `kubectl rollout status` says it;
/// `None` when it is.
fn rollout_waiting(kind: &str, o: &Value) -> Option<String> {
    let int = |p: &str| {
        at(o, &p.split('.').map(String::from).collect::<Vec<_>>()).and_then(Value::as_i64)
    };
    let generation = int("metadata.generation").unwrap_or(0);
    let observed = int("status.observedGeneration").unwrap_or(0);
    if observed < generation {
        return Some("waiting for the rollout spec update to be observed".into());
    }
    match kind {
        "Deployment" => {
            let want = int("spec.replicas").unwrap_or(1);
            let updated = int("status.updatedReplicas").unwrap_or(0);
            let total = int("status.replicas").unwrap_or(0);
            let available = int("status.availableReplicas").unwrap_or(0);
            if updated < want {
                Some(format!(
                    "{updated} out of {want} new replicas have been updated"
                ))
            } else if total > updated {
                Some(format!(
                    "{} old replicas are pending termination",
                    total - updated
                ))
            } else if available < updated {
                Some(format!(
                    "{available} of {updated} updated replicas are available"
                ))
            } else {
                None
            }
        }
        "StatefulSet" => {
            let want = int("spec.replicas").unwrap_or(1);
            let ready = int("status.readyReplicas").unwrap_or(0);
            let updated = int("status.updatedReplicas").unwrap_or(0);
            if ready < want {
                Some(format!("{ready} of {want} pods are ready"))
            } else if updated < want {
                Some(format!("{updated} of {want} pods are updated"))
            } else {
                None
            }
        }
        _ => {
            let want = int("status.desiredNumberScheduled").unwrap_or(0);
            let updated = int("status.updatedNumberScheduled").unwrap_or(0);
            let available = int("status.numberAvailable").unwrap_or(0);
            if updated < want {
                Some(format!(
                    "{updated} out of {want} new pods have been updated"
                ))
            } else if available < want {
                Some(format!("{available} of {want} updated pods are available"))
            } else {
                None
            }
        }
    }
}

/// Judges the object (`None` = not found) against the check: `Ok(())` or
/// the failure message naming the object's path.
pub fn judge(c: &ClusterCheck, namespace: &str, obj: Option<&Value>) -> Result<(), String> {
    let path = c.object.path(namespace);
    match (&c.expect, obj) {
        (Expect::Exists(want), o) => match (want, o.is_some()) {
            (true, true) | (false, false) => Ok(()),
            (false, true) => Err(format!("{path} still exists")),
            (true, false) => Err(format!("{path} does not exist")),
        },
        (_, None) => Err(format!("{path} does not exist")),
        (Expect::Field { path: f, equals }, Some(o)) => match at(o, f) {
            Some(v) if v == equals => Ok(()),
            Some(v) => Err(format!(
                "{path}: .{} is {}, expected {}",
                f.join("."),
                short(v),
                short(equals)
            )),
            None => Err(format!(
                "{path}: .{} is not set, expected {}",
                f.join("."),
                short(equals)
            )),
        },
        (Expect::Condition { type_, status }, Some(o)) => {
            let conds = o.pointer("/status/conditions").and_then(Value::as_array);
            let found = conds.and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == Value::String(type_.clone()))
            });
            match found.map(|c| c["status"].as_str().unwrap_or("")) {
                Some(s) if s == status => Ok(()),
                Some(s) => Err(format!(
                    "{path}: condition {type_} is {s}, expected {status}"
                )),
                None => Err(format!("{path}: has no condition {type_} yet")),
            }
        }
        (Expect::RolloutComplete, Some(o)) => match rollout_waiting(&c.object.resource.kind, o) {
            None => Ok(()),
            Some(why) => Err(format!("{path}: rollout not complete: {why}")),
        },
    }
}

/// Fetches the object (bounded) and judges it. API failures other than
/// "not found" come back as `Err` with the cluster's message.
pub async fn run(
    c: &ClusterCheck,
    target: &Target,
    client: &kube::Client,
    namespace: &str,
) -> Result<Result<(), String>, ClusterError> {
    let api: Api<DynamicObject> = if c.object.namespaced {
        Api::namespaced_with(client.clone(), namespace, &c.object.resource)
    } else {
        Api::all_with(client.clone(), &c.object.resource)
    };
    let what = format!("get {}", c.object.path(namespace));
    let got = bounded(
        &what,
        &target.server,
        CALL_TIMEOUT,
        api.get_opt(&c.object.name),
    )
    .await?;
    let value = match got {
        Some(o) => Some(serde_json::to_value(o).map_err(|e| ClusterError::Api {
            code: 0,
            message: format!("{what}: {e}"),
        })?),
        None => None,
    };
    Ok(judge(c, namespace, value.as_ref()))
}

#[cfg(test)]
mod tests;
