//! Building `ContainerStatus` values with the reasons the kubelet and
//! containerd use, so the node's statuses read like a cluster's.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Waiting reasons (`pkg/kubelet/container/sync_result.go`,
/// `kuberuntime_container.go`).
pub const CONTAINER_CREATING: &str = "ContainerCreating";
pub const POD_INITIALIZING: &str = "PodInitializing";
pub const CRASH_LOOP_BACK_OFF: &str = "CrashLoopBackOff";
pub const CREATE_CONTAINER_CONFIG_ERROR: &str = "CreateContainerConfigError";
pub const CREATE_CONTAINER_ERROR: &str = "CreateContainerError";
pub const RUN_CONTAINER_ERROR: &str = "RunContainerError";
pub const POST_START_HOOK_ERROR: &str = "PostStartHookError";

/// Terminated reasons (containerd's CRI: exit 0, non-zero, OOM kill).
pub const COMPLETED: &str = "Completed";
pub const ERROR: &str = "Error";
pub const OOM_KILLED: &str = "OOMKilled";

pub fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..ContainerState::default()
    }
}

pub fn running(started_at: Time) -> ContainerState {
    ContainerState {
        running: Some(ContainerStateRunning {
            started_at: Some(started_at),
        }),
        ..ContainerState::default()
    }
}

/// The reason containerd reports for an exit.
pub fn exit_reason(exit_code: i32, oom_killed: bool) -> &'static str {
    if oom_killed {
        OOM_KILLED
    } else if exit_code == 0 {
        COMPLETED
    } else {
        ERROR
    }
}

/// A terminated state. `signal` is what killed it (the status's `signal`
/// field; the exit code is then 128+signal, as a shell would report).
#[derive(Debug, Clone)]
pub struct Exit {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub oom_killed: bool,
    pub started_at: Time,
    pub finished_at: Time,
    pub container_id: Option<String>,
    pub message: Option<String>,
}

pub fn terminated(e: &Exit) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: e.exit_code,
            signal: e.signal,
            reason: Some(exit_reason(e.exit_code, e.oom_killed).to_string()),
            message: e.message.clone(),
            started_at: Some(e.started_at.clone()),
            finished_at: Some(e.finished_at.clone()),
            container_id: e.container_id.clone(),
        }),
        ..ContainerState::default()
    }
}

/// One container's status. `started` is the startup probe's verdict (true
/// once running when there is no startup probe); `ready` the readiness
/// probe's (true once started when there is none).
#[derive(Debug, Clone)]
pub struct ContainerView {
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub container_id: Option<String>,
    pub state: ContainerState,
    pub last_state: Option<ContainerState>,
    pub restart_count: i32,
    pub ready: bool,
    pub started: bool,
}

pub fn container_status(v: ContainerView) -> ContainerStatus {
    ContainerStatus {
        name: v.name,
        image: v.image,
        image_id: v.image_id,
        container_id: v.container_id,
        state: Some(v.state),
        // The API always writes lastState, empty when there is none.
        last_state: Some(v.last_state.unwrap_or_default()),
        restart_count: v.restart_count,
        ready: v.ready,
        started: Some(v.started),
        ..ContainerStatus::default()
    }
}
