//! Pod status in Kubernetes' own shape (`k8s_openapi` `PodStatus`, so it
//! serializes exactly as the API does), computed from the containers' states
//! the node tracks.
//!
//! Sources (kubernetes/kubernetes): `pkg/kubelet/kubelet_pods.go` `getPhase`,
//! `pkg/kubelet/status/generate.go` (conditions), and the docs' "Pod
//! lifecycle" page.

pub mod container;
pub mod printer;

use crate::qos::PodResources;
use crate::restart::RestartPolicy;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodCondition, PodIP, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// `v1.PodPhase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }
}

fn find<'a>(statuses: &'a [ContainerStatus], name: &str) -> Option<&'a ContainerStatus> {
    statuses.iter().find(|s| s.name == name)
}

fn exit_code_of_last(s: &ContainerStatus) -> Option<i32> {
    s.last_state
        .as_ref()?
        .terminated
        .as_ref()
        .map(|t| t.exit_code)
}

/// Whether a regular container has ever started
/// (`HasAnyRegularContainerStarted`).
fn any_regular_started(pod_containers: &[Container], statuses: &[ContainerStatus]) -> bool {
    pod_containers.iter().any(|c| {
        find(statuses, &c.name)
            .and_then(|s| s.state.as_ref())
            .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
    })
}

/// `getPhase`. `terminal`: the Pod is being stopped for good (deleted), so
/// its containers will not restart whatever the policy — except that the
/// kubelet gives a static Pod no terminal phase for that (kubernetes#116484).
pub fn phase(
    pod_init: &[Container],
    pod_containers: &[Container],
    policy: RestartPolicy,
    init: &[ContainerStatus],
    statuses: &[ContainerStatus],
    terminal: bool,
    static_pod: bool,
) -> Phase {
    let (mut pending_init, mut failed_init) = (0, 0);
    for c in pod_init {
        let Some(s) = find(init, &c.name) else {
            pending_init += 1;
            continue;
        };
        let state = s.state.clone().unwrap_or_default();
        if state.running.is_some() {
            pending_init += 1;
        } else if let Some(t) = &state.terminated {
            if t.exit_code != 0 {
                failed_init += 1;
            }
        } else if state.waiting.is_some() {
            match exit_code_of_last(s) {
                Some(code) if code != 0 => failed_init += 1,
                Some(_) => {}
                None => pending_init += 1,
            }
        } else {
            pending_init += 1;
        }
    }
    let (mut unknown, mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0, 0);
    for c in pod_containers {
        let Some(s) = find(statuses, &c.name) else {
            unknown += 1;
            continue;
        };
        let state = s.state.clone().unwrap_or_default();
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = &state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if state.waiting.is_some() {
            if exit_code_of_last(s).is_some() {
                stopped += 1;
            } else {
                waiting += 1;
            }
        } else {
            unknown += 1;
        }
    }
    if failed_init > 0 && policy == RestartPolicy::Never {
        return Phase::Failed;
    }
    // Pending init containers only hold the Pod back while no regular
    // container has started (an init container re-run after the Pod
    // initialized does not send it back to Pending).
    if (pending_init > 0 && !any_regular_started(pod_containers, statuses)) || waiting > 0 {
        return Phase::Pending;
    }
    if running > 0 && unknown == 0 {
        return Phase::Running;
    }
    if running == 0 && stopped > 0 && unknown == 0 {
        if terminal && !static_pod {
            return if stopped == succeeded {
                Phase::Succeeded
            } else {
                Phase::Failed
            };
        }
        if policy == RestartPolicy::Always {
            return Phase::Running; // all restarting
        }
        if stopped == succeeded {
            return Phase::Succeeded;
        }
        if policy == RestartPolicy::Never {
            return Phase::Failed;
        }
        return Phase::Running; // OnFailure, restarting the failed ones
    }
    Phase::Pending
}

fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        ..PodCondition::default()
    }
}

/// Go's `%s` of a `[]string`: `[a b]`.
fn go_list(names: &[&str]) -> String {
    format!("[{}]", names.join(" "))
}

fn messages(unknown: &[&str], bad: &[&str], bad_what: &str) -> Option<String> {
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!(
            "containers with unknown status: {}",
            go_list(unknown)
        ));
    }
    if !bad.is_empty() {
        parts.push(format!(
            "containers with {bad_what} status: {}",
            go_list(bad)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The conditions in the order the kubelet writes them:
/// PodReadyToStartContainers, Initialized, Ready, ContainersReady,
/// PodScheduled (`generate.go`; PodScheduled is the scheduler's, always True
/// on a node that runs Pods itself). Transition times are left to
/// [`keep_transition_times`].
pub fn conditions(
    pod_init: &[Container],
    pod_containers: &[Container],
    init: &[ContainerStatus],
    statuses: &[ContainerStatus],
    phase: Phase,
    sandbox_ready: bool,
) -> Vec<PodCondition> {
    // Initialized (GeneratePodInitializedCondition).
    let mut unknown = Vec::new();
    let mut incomplete = Vec::new();
    for c in pod_init {
        match find(init, &c.name) {
            None => unknown.push(c.name.as_str()),
            Some(s) if !s.ready => incomplete.push(c.name.as_str()),
            Some(_) => {}
        }
    }
    let any_started = any_regular_started(pod_containers, statuses);
    let initialized = if phase == Phase::Succeeded && unknown.is_empty() {
        condition("Initialized", true, Some("PodCompleted"), None)
    } else if any_started {
        condition("Initialized", true, None, None)
    } else {
        match messages(&unknown, &incomplete, "incomplete") {
            Some(m) => condition(
                "Initialized",
                false,
                Some("ContainersNotInitialized"),
                Some(m),
            ),
            None => condition("Initialized", true, None, None),
        }
    };
    // ContainersReady and Ready (no readiness gates in kubelab).
    let mut unknown = Vec::new();
    let mut unready = Vec::new();
    for c in pod_containers {
        match find(statuses, &c.name) {
            None => unknown.push(c.name.as_str()),
            Some(s) if !s.ready => unready.push(c.name.as_str()),
            Some(_) => {}
        }
    }
    let ready_pair = |type_: &str| match phase {
        Phase::Succeeded if unknown.is_empty() => {
            condition(type_, false, Some("PodCompleted"), None)
        }
        Phase::Failed => condition(type_, false, Some("PodFailed"), None),
        _ => match messages(&unknown, &unready, "unready") {
            Some(m) => condition(type_, false, Some("ContainersNotReady"), Some(m)),
            None => condition(type_, true, None, None),
        },
    };
    vec![
        condition("PodReadyToStartContainers", sandbox_ready, None, None),
        initialized,
        ready_pair("Ready"),
        ready_pair("ContainersReady"),
        condition("PodScheduled", true, None, None),
    ]
}

/// Sets each condition's `lastTransitionTime`: kept from `previous` when the
/// same condition had the same status, `now` otherwise (the status
/// manager's `updateLastTransitionTime`).
pub fn keep_transition_times(conds: &mut [PodCondition], previous: Option<&PodStatus>, now: &Time) {
    let old = previous
        .and_then(|p| p.conditions.as_deref())
        .unwrap_or_default();
    for c in conds {
        let same = old
            .iter()
            .find(|o| o.type_ == c.type_ && o.status == c.status);
        c.last_transition_time = Some(
            same.and_then(|o| o.last_transition_time.clone())
                .unwrap_or_else(|| now.clone()),
        );
        c.last_probe_time = None;
    }
}

/// What the node knows about a Pod besides its containers.
#[derive(Debug, Clone, Default)]
pub struct PodFacts {
    pub sandbox_ready: bool,
    pub pod_ip: Option<String>,
    pub host_ip: Option<String>,
    pub start_time: Option<Time>,
    /// The Pod is being stopped for good.
    pub terminal: bool,
    /// The Pod comes from the node's manifests directory.
    pub static_pod: bool,
}

/// The whole `status` of `pod`.
pub fn pod_status(
    pod: &Pod,
    init: Vec<ContainerStatus>,
    statuses: Vec<ContainerStatus>,
    facts: &PodFacts,
    previous: Option<&PodStatus>,
    now: &Time,
) -> PodStatus {
    let spec = pod.spec.clone().unwrap_or_default();
    let pod_init = spec.init_containers.as_deref().unwrap_or_default();
    let policy = RestartPolicy::from_spec(spec.restart_policy.as_deref()).unwrap_or_default();
    let phase = phase(
        pod_init,
        &spec.containers,
        policy,
        &init,
        &statuses,
        facts.terminal,
        facts.static_pod,
    );
    let mut conds = conditions(
        pod_init,
        &spec.containers,
        &init,
        &statuses,
        phase,
        facts.sandbox_ready,
    );
    keep_transition_times(&mut conds, previous, now);
    PodStatus {
        phase: Some(phase.as_str().to_string()),
        conditions: Some(conds),
        host_ip: facts.host_ip.clone(),
        host_ips: facts
            .host_ip
            .clone()
            .map(|ip| vec![k8s_openapi::api::core::v1::HostIP { ip }]),
        pod_ip: facts.pod_ip.clone(),
        pod_ips: facts.pod_ip.clone().map(|ip| vec![PodIP { ip }]),
        start_time: facts.start_time.clone(),
        // `GetPodQOS`, as convertStatusToAPIStatus sets it.
        qos_class: PodResources::from_pod(pod)
            .ok()
            .map(|r| r.qos_class().as_str().to_string()),
        init_container_statuses: (!pod_init.is_empty()).then_some(init),
        container_statuses: Some(statuses),
        ..PodStatus::default()
    }
}
