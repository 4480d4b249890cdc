//! Probe bookkeeping as the kubelet's prober worker does it
//! (`pkg/kubelet/prober/worker.go`): when a probe is due, how results turn
//! into the container's `ready`/`started` flags and when a failing liveness
//! or startup probe kills the container; plus the grace period a kill gets
//! (`kuberuntime_container.go` `killContainer`).
//!
//! Running the probe itself (exec, HTTP GET, TCP connect) is the runtime's
//! job; [`http_status_ok`] is the kubelet's rule for HTTP answers.

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use std::time::Duration;

/// Which probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

/// One probe's timing, with the API defaults for unset fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTiming {
    pub initial_delay: Duration,
    pub timeout: Duration,
    pub period: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl ProbeTiming {
    pub fn from_probe(p: &Probe) -> Self {
        let secs =
            |v: Option<i32>, default: i32| Duration::from_secs(v.unwrap_or(default).max(0) as u64);
        let count = |v: Option<i32>, default: i32| v.unwrap_or(default).max(1) as u32;
        ProbeTiming {
            initial_delay: secs(p.initial_delay_seconds, 0),
            timeout: secs(p.timeout_seconds, 1).max(Duration::from_secs(1)),
            period: secs(p.period_seconds, 10).max(Duration::from_secs(1)),
            success_threshold: count(p.success_threshold, 1),
            failure_threshold: count(p.failure_threshold, 3),
        }
    }
}

/// What a probe run found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    Success,
    Failure,
}

/// What the node must do after recording a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAction {
    /// Nothing changes.
    None,
    /// Readiness: set the container's `ready` flag to this.
    SetReady(bool),
    /// Startup succeeded: `started` becomes true, liveness and readiness
    /// probes start.
    Started,
    /// Liveness or startup failed `failureThreshold` times in a row: kill
    /// the container (restarted per the restart policy).
    Kill,
}

/// The state of one probe of one container instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeWorker {
    pub kind: ProbeKind,
    pub timing: ProbeTiming,
    last: Option<ProbeResult>,
    run: u32,
    /// After a kill, nothing more until the container is replaced.
    on_hold: bool,
}

impl ProbeWorker {
    pub fn new(kind: ProbeKind, probe: &Probe) -> Self {
        ProbeWorker {
            kind,
            timing: ProbeTiming::from_probe(probe),
            last: None,
            run: 0,
            on_hold: false,
        }
    }

    /// Whether the probe runs now: not on hold, the container has run for
    /// `initialDelaySeconds`, and (for liveness and readiness) the startup
    /// probe, if any, has succeeded.
    pub fn should_run(&self, running_for: Duration, started: bool) -> bool {
        !self.on_hold
            && running_for >= self.timing.initial_delay
            && (self.kind == ProbeKind::Startup || started)
    }

    /// Records one result (`doProbe`): a result only counts once it has come
    /// `successThreshold` / `failureThreshold` times in a row.
    pub fn record(&mut self, result: ProbeResult) -> ProbeAction {
        if self.on_hold {
            return ProbeAction::None;
        }
        if self.last == Some(result) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(result);
            self.run = 1;
        }
        let threshold = match result {
            ProbeResult::Success => self.timing.success_threshold,
            ProbeResult::Failure => self.timing.failure_threshold,
        };
        if self.run != threshold {
            // Below the threshold: the previous verdict stands; above it:
            // already acted on.
            return ProbeAction::None;
        }
        match (self.kind, result) {
            (ProbeKind::Readiness, r) => ProbeAction::SetReady(r == ProbeResult::Success),
            (ProbeKind::Startup, ProbeResult::Success) => ProbeAction::Started,
            (ProbeKind::Liveness, ProbeResult::Success) => ProbeAction::None,
            (ProbeKind::Liveness | ProbeKind::Startup, ProbeResult::Failure) => {
                self.on_hold = true;
                self.run = 0;
                ProbeAction::Kill
            }
        }
    }
}

/// The kubelet's HTTP probe verdict: 200–399 is success.
pub fn http_status_ok(code: u16) -> bool {
    (200..400).contains(&code)
}

/// Why a container is being killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    /// The Pod is deleted or replaced.
    PodStop,
    /// A liveness or startup probe failed.
    ProbeFailure(ProbeKind),
}

/// `minimumGracePeriodInSeconds`: a kill always allows 2 s.
pub const MIN_GRACE: Duration = Duration::from_secs(2);

/// The grace period between SIGTERM and SIGKILL: the Pod's
/// `terminationGracePeriodSeconds` (default 30), or the failing probe's own
/// `terminationGracePeriodSeconds`, at least [`MIN_GRACE`]. The preStop
/// hook runs within it.
pub fn kill_grace(pod: &Pod, container: &Container, reason: KillReason) -> Duration {
    let pod_grace = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    let probe = match reason {
        KillReason::ProbeFailure(ProbeKind::Liveness) => container.liveness_probe.as_ref(),
        KillReason::ProbeFailure(ProbeKind::Startup) => container.startup_probe.as_ref(),
        _ => None,
    };
    let secs = probe
        .and_then(|p| p.termination_grace_period_seconds)
        .unwrap_or(pod_grace);
    Duration::from_secs(secs.max(0) as u64).max(MIN_GRACE)
}

/// The message the kubelet gives a container killed by a probe.
pub fn probe_kill_message(container: &str, kind: ProbeKind) -> String {
    let what = match kind {
        ProbeKind::Liveness => "liveness",
        ProbeKind::Startup => "startup",
        ProbeKind::Readiness => "readiness",
    };
    format!("Container {container} failed {what} probe, will be restarted")
}
