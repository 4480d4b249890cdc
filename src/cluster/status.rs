//! Status columns in kubectl's wording (its table printers for `get`).

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

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
