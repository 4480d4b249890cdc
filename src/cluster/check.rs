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
use kube::core::DynamicObject;
use serde_json::Value;

/// The syntax lives with the lesson parser (it is checked when a lesson is
/// parsed); this module runs what it describes.
pub use crate::doc::cluster_check::{parse, ClusterCheck, Expect, ObjectRef, Spec};

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
