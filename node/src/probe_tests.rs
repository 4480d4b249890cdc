use crate::probe::*;
use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use serde_json::json;
use std::time::Duration;

fn probe(v: serde_json::Value) -> Probe {
    serde_json::from_value(v).unwrap()
}

#[test]
fn defaults_and_gating() {
    let t = ProbeTiming::from_probe(&probe(json!({"exec": {"command": ["true"]}})));
    // The API defaults: timeout 1 s, period 10 s, success 1, failure 3.
    assert_eq!(
        (
            t.timeout,
            t.period,
            t.success_threshold,
            t.failure_threshold
        ),
        (Duration::from_secs(1), Duration::from_secs(10), 1, 3)
    );
    let w = ProbeWorker::new(
        ProbeKind::Liveness,
        &probe(json!({"initialDelaySeconds": 5})),
    );
    assert!(!w.should_run(Duration::from_secs(4), true), "initial delay");
    assert!(w.should_run(Duration::from_secs(5), true));
    assert!(
        !w.should_run(Duration::from_secs(60), false),
        "waits for the startup probe"
    );
    let s = ProbeWorker::new(ProbeKind::Startup, &probe(json!({})));
    assert!(s.should_run(Duration::ZERO, false));
}

#[test]
fn liveness_kills_after_failure_threshold_then_holds() {
    let mut w = ProbeWorker::new(ProbeKind::Liveness, &probe(json!({"failureThreshold": 3})));
    use ProbeResult::*;
    assert_eq!(w.record(Failure), ProbeAction::None);
    assert_eq!(
        w.record(Success),
        ProbeAction::None,
        "a success resets the run"
    );
    assert_eq!(w.record(Failure), ProbeAction::None);
    assert_eq!(w.record(Failure), ProbeAction::None);
    assert_eq!(w.record(Failure), ProbeAction::Kill);
    assert!(
        !w.should_run(Duration::from_secs(100), true),
        "on hold until the container is replaced"
    );
    assert_eq!(w.record(Failure), ProbeAction::None);
}

#[test]
fn readiness_and_startup_thresholds() {
    use ProbeResult::*;
    let mut r = ProbeWorker::new(
        ProbeKind::Readiness,
        &probe(json!({"successThreshold": 2, "failureThreshold": 2})),
    );
    assert_eq!(r.record(Success), ProbeAction::None);
    assert_eq!(r.record(Success), ProbeAction::SetReady(true));
    assert_eq!(r.record(Success), ProbeAction::None, "already ready");
    assert_eq!(r.record(Failure), ProbeAction::None);
    assert_eq!(r.record(Failure), ProbeAction::SetReady(false));
    assert_eq!(
        r.record(Failure),
        ProbeAction::None,
        "readiness never kills"
    );
    let mut s = ProbeWorker::new(ProbeKind::Startup, &probe(json!({"failureThreshold": 2})));
    assert_eq!(s.record(Failure), ProbeAction::None);
    assert_eq!(s.record(Success), ProbeAction::Started);
    let mut s = ProbeWorker::new(ProbeKind::Startup, &probe(json!({"failureThreshold": 2})));
    s.record(Failure);
    assert_eq!(s.record(Failure), ProbeAction::Kill);
}

#[test]
fn http_rule_and_grace_periods() {
    assert!(http_status_ok(200) && http_status_ok(302) && http_status_ok(399));
    assert!(!http_status_ok(199) && !http_status_ok(400) && !http_status_ok(503));
    let pod: Pod = serde_json::from_value(
        json!({"metadata": {"name": "p"}, "spec": {"terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "livenessProbe": {"terminationGracePeriodSeconds": 7}}]}}),
    )
    .unwrap();
    let c: &Container = &pod.spec.as_ref().unwrap().containers[0];
    assert_eq!(
        kill_grace(&pod, c, KillReason::PodStop),
        MIN_GRACE,
        "at least 2 s"
    );
    assert_eq!(
        kill_grace(&pod, c, KillReason::ProbeFailure(ProbeKind::Liveness)),
        Duration::from_secs(7)
    );
    assert_eq!(
        kill_grace(&pod, c, KillReason::ProbeFailure(ProbeKind::Startup)),
        MIN_GRACE
    );
    let default: Pod = serde_json::from_value(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}),
    )
    .unwrap();
    assert_eq!(
        kill_grace(
            &default,
            &default.spec.as_ref().unwrap().containers[0],
            KillReason::PodStop
        ),
        Duration::from_secs(30)
    );
    assert_eq!(
        probe_kill_message("web", ProbeKind::Liveness),
        "Container web failed liveness probe, will be restarted"
    );
}
