//! Status columns in kubectl's wording (its table printers for `get`).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, PersistentVolumeClaim, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::DynamicObject;

/// A Pod's READY, STATUS and RESTARTS as `kubectl get pods` prints them.
pub fn pod(p: &Pod) -> (String, String, String) {
    let spec_containers = p.spec.as_ref().map_or(0, |s| s.containers.len());
    let st = p.status.clone().unwrap_or_default();
    let mut reason = st
        .reason
        .clone()
        .or_else(|| st.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let mut restarts = 0;
    let mut ready = 0;
    let mut initializing = false;
    let inits = st.init_container_statuses.clone().unwrap_or_default();
    let n_init = p
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .map_or(inits.len(), Vec::len);
    for (i, c) in inits.iter().enumerate() {
        restarts += c.restart_count;
        let state = c.state.clone().unwrap_or_default();
        if let Some(t) = &state.terminated {
            if t.exit_code == 0 {
                continue;
            }
            reason = match (&t.reason, t.signal) {
                (Some(r), _) if !r.is_empty() => format!("Init:{r}"),
                (_, Some(sig)) if sig != 0 => format!("Init:Signal:{sig}"),
                _ => format!("Init:ExitCode:{}", t.exit_code),
            };
        } else if let Some(w) = state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .filter(|r| !r.is_empty() && r != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{n_init}");
        }
        initializing = true;
        break;
    }
    let ctrs: Vec<ContainerStatus> = st.container_statuses.clone().unwrap_or_default();
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in ctrs.iter().rev() {
            restarts += c.restart_count;
            let state = c.state.clone().unwrap_or_default();
            if let Some(r) = state.waiting.as_ref().and_then(|w| w.reason.clone()) {
                if !r.is_empty() {
                    reason = r;
                }
            } else if let Some(t) = &state.terminated {
                reason = match (&t.reason, t.signal) {
                    (Some(r), _) if !r.is_empty() => r.clone(),
                    (_, Some(sig)) if sig != 0 => format!("Signal:{sig}"),
                    _ => format!("ExitCode:{}", t.exit_code),
                };
            } else if c.ready && state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if p.metadata.deletion_timestamp.is_some() {
        reason = if st.reason.as_deref() == Some("NodeLost") {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    (
        format!("{ready}/{}", spec_containers.max(ctrs.len())),
        reason,
        restarts.to_string(),
    )
}

/// A Deployment's READY (`ready/desired`) and its UP-TO-DATE/AVAILABLE.
pub fn deployment(d: &Deployment) -> (String, String) {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    (
        format!("{}/{want}", st.ready_replicas.unwrap_or(0)),
        format!(
            "up-to-date {} · available {}",
            st.updated_replicas.unwrap_or(0),
            st.available_replicas.unwrap_or(0)
        ),
    )
}

/// A ReplicaSet's READY and DESIRED/CURRENT.
pub fn replica_set(r: &ReplicaSet) -> (String, String) {
    let want = r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = r.status.clone().unwrap_or_default();
    (
        format!("{}/{want}", st.ready_replicas.unwrap_or(0)),
        format!("desired {want} · current {}", st.replicas),
    )
}

/// A StatefulSet's READY.
pub fn stateful_set(s: &StatefulSet) -> (String, String) {
    let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = s.status.clone().unwrap_or_default();
    (
        format!("{}/{want}", st.ready_replicas.unwrap_or(0)),
        format!("current {}", st.current_replicas.unwrap_or(0)),
    )
}

/// A Job's COMPLETIONS and STATUS (Complete, Failed, Suspended, Running).
pub fn job(j: &Job) -> (String, String) {
    let want = j.spec.as_ref().and_then(|s| s.completions);
    let st = j.status.clone().unwrap_or_default();
    let done = st.succeeded.unwrap_or(0);
    let completions = match want {
        Some(n) => format!("{done}/{n}"),
        None => format!(
            "{done}/1 of {}",
            j.spec.as_ref().and_then(|s| s.parallelism).unwrap_or(1)
        ),
    };
    let cond = |t: &str| {
        st.conditions
            .as_ref()
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == t && c.status == "True"))
    };
    let status = if cond("Complete") {
        "Complete"
    } else if cond("Failed") {
        "Failed"
    } else if cond("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    (completions, status.into())
}

/// kubectl's short access modes (`kubectl get pvc`'s ACCESS MODES).
fn access_mode(m: &str) -> &str {
    match m {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        other => other,
    }
}

/// A claim's STATUS · CAPACITY · ACCESS MODES as `kubectl get pvc` has
/// them (a claim being deleted is `Terminating`, as kubectl prints it).
pub fn claim(c: &PersistentVolumeClaim) -> String {
    let st = c.status.clone().unwrap_or_default();
    let phase = if c.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        st.phase.unwrap_or_else(|| "Pending".into())
    };
    let mut parts = vec![phase];
    if let Some(q) = st.capacity.as_ref().and_then(|c| c.get("storage")) {
        parts.push(q.0.clone());
    }
    let modes: Vec<&str> = st
        .access_modes
        .iter()
        .flatten()
        .map(|m| access_mode(m))
        .collect();
    if !modes.is_empty() {
        parts.push(modes.join(","));
    }
    parts.join(" · ")
}

/// A CRD: `Established` once the API serves it (its condition), else
/// what holds it (`NamesAccepted=False`, …), or `Terminating`.
pub fn crd(c: &CustomResourceDefinition) -> String {
    if c.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let conds = c
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    if conds
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True")
    {
        return "Established".into();
    }
    conds
        .iter()
        .find(|c| c.status != "True")
        .map(|c| condition(&c.type_, &c.status, c.reason.as_deref()))
        .unwrap_or_else(|| "Established=Unknown".into())
}

/// `Type=Status`, with the reason of one that is not True, as
/// `kubectl wait --for=condition=…` and `kubectl describe` name them.
fn condition(type_: &str, status: &str, reason: Option<&str>) -> String {
    match reason.filter(|r| !r.is_empty() && status != "True") {
        Some(r) => format!("{type_}={status} ({r})"),
        None => format!("{type_}={status}"),
    }
}

/// A custom resource's status summary: its `.status.conditions` (the
/// ones not True first: they are what the learner must act on), else
/// its `.status.phase`, else nothing (kubectl prints no status column for
/// a CRD without printer columns).
pub fn custom(o: &DynamicObject) -> String {
    let status = o.data.get("status");
    let conds: Vec<(String, String, Option<String>)> = status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let t = c.get("type")?.as_str()?;
                    let s = c.get("status")?.as_str()?;
                    let r = c.get("reason").and_then(|r| r.as_str()).map(str::to_string);
                    Some((t.to_string(), s.to_string(), r))
                })
                .collect()
        })
        .unwrap_or_default();
    if !conds.is_empty() {
        let mut conds = conds;
        conds.sort_by_key(|(_, s, _)| s == "True");
        return conds
            .iter()
            .map(|(t, s, r)| condition(t, s, r.as_deref()))
            .collect::<Vec<_>>()
            .join(" · ");
    }
    status
        .and_then(|s| s.get("phase"))
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pod_columns_follow_kubectl() {
        let running = pod(json!({
            "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "c"}, {"name": "d"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "ready": true, "restartCount": 2, "image": "i", "imageID": "",
                 "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}},
                {"name": "d", "ready": false, "restartCount": 1, "image": "i", "imageID": "",
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]}
        }));
        assert_eq!(
            super::pod(&running),
            ("1/2".into(), "CrashLoopBackOff".into(), "3".into())
        );
        let init = pod(json!({
            "metadata": {"name": "b"},
            "spec": {"containers": [{"name": "c"}], "initContainers": [{"name": "i"}, {"name": "j"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                 "state": {"terminated": {"exitCode": 0}}},
                {"name": "j", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                 "state": {"running": {}}}
            ]}
        }));
        assert_eq!(super::pod(&init).1, "Init:1/2");
        let gone = pod(json!({
            "metadata": {"name": "c", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running"}
        }));
        assert_eq!(super::pod(&gone).1, "Terminating");
        let oom = pod(json!({
            "metadata": {"name": "d"},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                 "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
        }));
        assert_eq!(super::pod(&oom).1, "OOMKilled");
    }

    #[test]
    fn claims_crds_and_custom_objects_in_kubectls_words() {
        let c: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": "data-db-0"},
            "spec": {"accessModes": ["ReadWriteOnce"]},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"],
                       "capacity": {"storage": "1Gi"}}
        }))
        .unwrap();
        assert_eq!(claim(&c), "Bound · 1Gi · RWO,RWOP");
        let gone: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"phase": "Bound"}
        }))
        .unwrap();
        assert_eq!(claim(&gone), "Terminating");
        let crd_of = |conds: serde_json::Value| -> CustomResourceDefinition {
            serde_json::from_value(json!({
                "metadata": {"name": "backups.lab.kubelab.dev"},
                "spec": {"group": "lab.kubelab.dev", "scope": "Namespaced", "versions": [],
                         "names": {"plural": "backups", "kind": "Backup"}},
                "status": {"conditions": conds}
            }))
            .unwrap()
        };
        let held = crd_of(json!([
            {"type": "NamesAccepted", "status": "False", "reason": "MultipleNamesNotAllowed"},
            {"type": "Established", "status": "False"}
        ]));
        assert_eq!(crd(&held), "NamesAccepted=False (MultipleNamesNotAllowed)");
        let ok = crd_of(json!([{"type": "Established", "status": "True"}]));
        assert_eq!(crd(&ok), "Established");
        let obj: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "lab.kubelab.dev/v1", "kind": "Backup", "metadata": {"name": "w"},
            "status": {"conditions": [
                {"type": "Synced", "status": "True", "reason": "Applied"},
                {"type": "Ready", "status": "False", "reason": "BucketMissing"}
            ]}
        }))
        .unwrap();
        assert_eq!(custom(&obj), "Ready=False (BucketMissing) · Synced=True");
        let phase: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "p"},
            "status": {"phase": "Provisioning", "conditions": "not a list"}
        }))
        .unwrap();
        assert_eq!(custom(&phase), "Provisioning");
    }

    #[test]
    fn job_status_from_conditions() {
        let j: Job = serde_json::from_value(json!({
            "metadata": {"name": "pi"},
            "spec": {"completions": 3, "template": {}},
            "status": {"succeeded": 3, "conditions": [{"type": "Complete", "status": "True"}]}
        }))
        .unwrap();
        assert_eq!(job(&j), ("3/3".into(), "Complete".into()));
    }
}
