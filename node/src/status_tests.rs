use crate::status::container::*;
use crate::status::printer::{human_duration, pod_row, table};
use crate::status::{pod_status, PodFacts};
use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::chrono::{DateTime, Duration, Utc};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&Utc)
}
fn at(secs: i64) -> Time {
    Time(t0() + Duration::seconds(secs))
}

fn pod(containers: &[&str], init: &[&str], policy: &str) -> Pod {
    let c = |n: &&str| json!({"name": n, "image": "busybox"});
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-01-02T03:04:05Z"},
        "spec": {"restartPolicy": policy, "nodeName": "lab",
                 "containers": containers.iter().map(c).collect::<Vec<_>>(),
                 "initContainers": init.iter().map(c).collect::<Vec<_>>()}
    }))
    .unwrap()
}

fn cs(
    name: &str,
    state: ContainerState,
    last: Option<ContainerState>,
    restarts: i32,
    ready: bool,
) -> ContainerStatus {
    let started = state.running.is_some();
    container_status(ContainerView {
        name: name.into(),
        image: "busybox".into(),
        image_id: "kubelab://busybox".into(),
        container_id: None,
        state,
        last_state: last,
        restart_count: restarts,
        ready,
        started,
    })
}

fn exit(code: i32, oom: bool, finished: i64) -> ContainerState {
    terminated(&Exit {
        exit_code: code,
        signal: None,
        oom_killed: oom,
        started_at: at(0),
        finished_at: at(finished),
        container_id: None,
        message: None,
    })
}

/// Status, then the kubectl row at t0 + `now` seconds.
fn run(
    mut p: Pod,
    init: Vec<ContainerStatus>,
    st: Vec<ContainerStatus>,
    now: i64,
) -> (PodStatus, Vec<String>) {
    let facts = PodFacts {
        sandbox_ready: true,
        pod_ip: Some("10.88.0.2".into()),
        ..Default::default()
    };
    let status = pod_status(&p, init, st, &facts, None, &at(now));
    p.status = Some(status.clone());
    let r = pod_row(&p, t0() + Duration::seconds(now));
    (status, vec![r.ready, r.status, r.restarts, r.age])
}

fn cond(s: &PodStatus, t: &str) -> (String, Option<String>, Option<String>) {
    let c = s
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == t)
        .unwrap();
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[test]
fn running_and_creating() {
    let p = pod(&["a", "b"], &[], "Always");
    let (s, row) = run(
        p.clone(),
        vec![],
        vec![
            cs("a", running(at(1)), None, 0, true),
            cs("b", waiting(CONTAINER_CREATING, None), None, 0, false),
        ],
        312,
    );
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(row, ["1/2", "ContainerCreating", "0", "5m12s"]);
    assert_eq!(
        cond(&s, "ContainersReady").2.as_deref(),
        Some("containers with unready status: [b]")
    );
    let (s, row) = run(
        p,
        vec![],
        vec![
            cs("a", running(at(1)), None, 0, true),
            cs("b", running(at(2)), None, 0, true),
        ],
        3 * 3600,
    );
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(row, ["2/2", "Running", "0", "3h"]);
    let order: Vec<_> = s
        .conditions
        .unwrap()
        .iter()
        .map(|c| (c.type_.clone(), c.status.clone()))
        .collect();
    assert_eq!(
        order,
        [
            ("PodReadyToStartContainers", "True"),
            ("Initialized", "True"),
            ("Ready", "True"),
            ("ContainersReady", "True"),
            ("PodScheduled", "True")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn crash_loop_and_oom() {
    let msg = Some("back-off 40s restarting failed container=a pod=web_default(u)".to_string());
    let st = cs(
        "a",
        waiting(CRASH_LOOP_BACK_OFF, msg),
        Some(exit(1, false, 100)),
        3,
        false,
    );
    let (s, row) = run(pod(&["a"], &[], "Always"), vec![], vec![st], 112);
    // getPhase: stopped (waiting with a lastState) and Always → Running.
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(row, ["0/1", "CrashLoopBackOff", "3 (12s ago)", "112s"]);

    let (s, row) = run(
        pod(&["a"], &[], "Never"),
        vec![],
        vec![cs("a", exit(137, true, 50), None, 0, false)],
        60,
    );
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(row[1], "OOMKilled");
    assert_eq!(cond(&s, "Ready").1.as_deref(), Some("PodFailed"));
    // OnFailure with a failed container: Running (it is being restarted).
    let (s, _) = run(
        pod(&["a"], &[], "OnFailure"),
        vec![],
        vec![cs("a", exit(1, false, 50), None, 0, false)],
        60,
    );
    assert_eq!(s.phase.as_deref(), Some("Running"));
}

#[test]
fn completed() {
    let (s, row) = run(
        pod(&["a"], &[], "Never"),
        vec![],
        vec![cs("a", exit(0, false, 5), None, 0, false)],
        600,
    );
    assert_eq!(s.phase.as_deref(), Some("Succeeded"));
    assert_eq!(row, ["0/1", "Completed", "0", "10m"]);
    assert_eq!(cond(&s, "Ready").1.as_deref(), Some("PodCompleted"));
    assert_eq!(
        cond(&s, "Initialized"),
        ("True".into(), Some("PodCompleted".into()), None)
    );
    // Always: all exited with 0 are being restarted → Running.
    let (s, _) = run(
        pod(&["a"], &[], "Always"),
        vec![],
        vec![cs("a", exit(0, false, 5), None, 0, false)],
        6,
    );
    assert_eq!(s.phase.as_deref(), Some("Running"));
}

#[test]
fn init_containers() {
    let p = pod(&["a"], &["i1", "i2"], "Always");
    let creating = || cs("a", waiting(POD_INITIALIZING, None), None, 0, false);
    // i1 running.
    let (s, row) = run(
        p.clone(),
        vec![
            cs("i1", running(at(0)), None, 0, false),
            cs("i2", waiting(POD_INITIALIZING, None), None, 0, false),
        ],
        vec![creating()],
        3,
    );
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(row[..2], ["0/1", "Init:0/2"]);
    assert_eq!(
        cond(&s, "Initialized"),
        (
            "False".into(),
            Some("ContainersNotInitialized".into()),
            Some("containers with incomplete status: [i1 i2]".into())
        )
    );
    // i1 done, i2 in back-off.
    let done = || cs("i1", exit(0, false, 1), None, 0, true);
    let (_, row) = run(
        p.clone(),
        vec![
            done(),
            cs(
                "i2",
                waiting(CRASH_LOOP_BACK_OFF, None),
                Some(exit(2, false, 2)),
                1,
                false,
            ),
        ],
        vec![creating()],
        4,
    );
    assert_eq!(row[1..3], ["Init:CrashLoopBackOff", "1 (2s ago)"]);
    // Both done, containers starting: PodInitializing.
    let (s, row) = run(
        p.clone(),
        vec![done(), cs("i2", exit(0, false, 2), None, 0, true)],
        vec![creating()],
        4,
    );
    assert_eq!(row[1], "PodInitializing");
    assert_eq!(cond(&s, "Initialized").0, "True");
    // An init container failing under Never fails the Pod.
    let p = pod(&["a"], &["i1"], "Never");
    let (s, row) = run(
        p,
        vec![cs("i1", exit(3, false, 1), None, 0, false)],
        vec![creating()],
        4,
    );
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(row[1], "Init:Error");
}

#[test]
fn terminating_and_wide_table() {
    let mut p = pod(&["a"], &[], "Always");
    p.metadata.deletion_timestamp = Some(at(10));
    let (_, row) = run(
        p.clone(),
        vec![],
        vec![cs("a", running(at(1)), None, 0, true)],
        20,
    );
    assert_eq!(row[1], "Terminating");
    p.metadata.deletion_timestamp = None;
    p.status = Some(pod_status(
        &p,
        vec![],
        vec![cs("a", running(at(1)), None, 0, true)],
        &PodFacts {
            pod_ip: Some("10.88.0.2".into()),
            ..Default::default()
        },
        None,
        &at(0),
    ));
    let r = pod_row(&p, t0() + Duration::seconds(40));
    assert_eq!(
        table(&[r], true),
        "NAME   READY   STATUS    RESTARTS   AGE   IP          NODE   NOMINATED NODE   READINESS GATES\nweb    1/1     Running   0          40s   10.88.0.2   lab    <none>           <none>\n"
    );
}

#[test]
fn status_serializes_like_the_api() {
    let (s, _) = run(
        pod(&["a"], &[], "Always"),
        vec![],
        vec![cs("a", running(at(1)), None, 0, true)],
        2,
    );
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["phase"], "Running");
    assert_eq!(v["qosClass"], "BestEffort");
    assert_eq!(v["podIP"], "10.88.0.2");
    assert_eq!(v["podIPs"], json!([{"ip": "10.88.0.2"}]));
    let c = &v["containerStatuses"][0];
    assert_eq!(c["restartCount"], 0);
    assert_eq!(c["lastState"], json!({}));
    assert_eq!(c["state"]["running"]["startedAt"], "2026-01-02T03:04:06Z");
    assert_eq!(
        v["conditions"][0]["lastTransitionTime"],
        "2026-01-02T03:04:07Z"
    );
    assert!(v.get("initContainerStatuses").is_none());
}

#[test]
fn transition_times_are_kept_while_a_condition_holds() {
    let p = pod(&["a"], &[], "Always");
    let facts = PodFacts::default();
    let first = pod_status(
        &p,
        vec![],
        vec![cs("a", running(at(1)), None, 0, false)],
        &facts,
        None,
        &at(5),
    );
    let second = pod_status(
        &p,
        vec![],
        vec![cs("a", running(at(1)), None, 0, true)],
        &facts,
        Some(&first),
        &at(9),
    );
    let time = |s: &PodStatus, t: &str| {
        s.conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == t)
            .unwrap()
            .last_transition_time
            .clone()
    };
    assert_eq!(time(&second, "Initialized"), Some(at(5)));
    assert_eq!(time(&second, "Ready"), Some(at(9)));
}

#[test]
fn human_durations_as_apimachinery() {
    // apimachinery/pkg/util/duration/duration_test.go TestHumanDuration.
    for (secs, s) in [
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (119, "119s"),
        (120, "2m"),
        (312, "5m12s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 30 * 60, "5h30m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86_400, "8d"),
        (729 * 86_400, "729d"),
        (730 * 86_400, "2y"),
        (735 * 86_400, "2y5d"),
        (8 * 365 * 86_400, "8y"),
    ] {
        assert_eq!(human_duration(secs), s, "{secs}");
    }
}

#[test]
fn terminal_pods_and_init_reruns() {
    // A deleted Pod whose containers all stopped gets a terminal phase even
    // under Always — but not a static Pod (kubernetes#116484).
    let p = pod(&["a"], &[], "Always");
    let st = || vec![cs("a", exit(143, false, 5), None, 0, false)];
    let mut facts = PodFacts {
        terminal: true,
        ..Default::default()
    };
    let s = pod_status(&p, vec![], st(), &facts, None, &at(6));
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    facts.static_pod = true;
    let s = pod_status(&p, vec![], st(), &facts, None, &at(6));
    assert_eq!(s.phase.as_deref(), Some("Running"));
    // An init container running again after the containers have started
    // does not send the Pod back to Pending.
    let p = pod(&["a"], &["i"], "Always");
    let s = pod_status(
        &p,
        vec![cs("i", running(at(9)), None, 0, false)],
        vec![cs("a", running(at(3)), None, 0, true)],
        &PodFacts::default(),
        None,
        &at(10),
    );
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
}
