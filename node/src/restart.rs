//! Restart decisions and the CrashLoopBackOff back-off, as the kubelet makes
//! them.
//!
//! Sources (kubernetes/kubernetes):
//! - `pkg/kubelet/container/helpers.go` `ShouldContainerBeRestarted`;
//! - `pkg/kubelet/kuberuntime/kuberuntime_manager.go` `doBackOff` and
//!   `client-go/util/flowcontrol/backoff.go` (`Next`, `IsInBackOffSince`,
//!   `hasExpired`);
//! - `pkg/kubelet/kubelet.go`: `backOffPeriod = 10s`,
//!   `MaxContainerBackOff = 300s` (no jitter).
//!
//! The first restart is immediate; each further one waits 10 s, 20 s, 40 s …
//! capped at 5 min, counted from the moment the container *exited*. The
//! back-off forgets a container whose last exit came more than twice the cap
//! (10 min) after its last back-off step: it ran fine long enough.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// `spec.restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    /// From the manifest's value (absent = Always, the API default).
    pub fn from_spec(value: Option<&str>) -> Option<RestartPolicy> {
        match value {
            None | Some("Always") => Some(RestartPolicy::Always),
            Some("OnFailure") => Some(RestartPolicy::OnFailure),
            Some("Never") => Some(RestartPolicy::Never),
            Some(_) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }

    /// `ShouldContainerBeRestarted` for a (regular) container that exited
    /// with `exit_code`: Never → no; OnFailure → only on a non-zero code;
    /// Always → yes.
    pub fn restarts_container(self, exit_code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }

    /// An init container that exited: success means done (never run again);
    /// a failure is retried unless the policy is Never, which fails the Pod
    /// (`computeInitContainerActions`).
    pub fn restarts_init_container(self, exit_code: i32) -> bool {
        exit_code != 0 && self != RestartPolicy::Never
    }
}

/// The back-off's two durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackOffConfig {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for BackOffConfig {
    /// The kubelet's: 10 s doubling to 5 min.
    fn default() -> Self {
        BackOffConfig {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(300),
        }
    }
}

impl BackOffConfig {
    /// The kubelet's durations divided by `divisor` (a lab node option, so a
    /// CrashLoopBackOff shows in seconds, not minutes); 0 and 1 keep them.
    pub fn scaled_down(divisor: u32) -> Self {
        let d = Self::default();
        let divisor = divisor.max(1);
        BackOffConfig {
            initial: d.initial / divisor,
            max: d.max / divisor,
        }
    }
}

/// What the node does with a container that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackOffDecision {
    /// Start it now.
    Restart,
    /// Keep it in `CrashLoopBackOff`: start it after `remaining`; `backoff`
    /// is the current step (what the kubelet's message shows).
    Wait {
        remaining: Duration,
        backoff: Duration,
    },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    backoff: Duration,
    last_update: Instant,
}

/// Per-container back-off state of one node (key: pod UID + container name,
/// like the kubelet's `GetStableKey`).
#[derive(Debug, Clone, Default)]
pub struct CrashLoopBackOff {
    config: BackOffConfig,
    entries: BTreeMap<String, Entry>,
}

impl CrashLoopBackOff {
    pub fn new(config: BackOffConfig) -> Self {
        CrashLoopBackOff {
            config,
            entries: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> BackOffConfig {
        self.config
    }

    /// The stable key of a container (`GetStableKey` uses pod name,
    /// namespace, UID and the container's name and hash).
    pub fn key(pod_uid: &str, container: &str) -> String {
        format!("{pod_uid}/{container}")
    }

    /// `doBackOff` when the node wants to (re)start the container `key`
    /// that exited at `finished_at`, at time `now`.
    pub fn decide(&mut self, key: &str, finished_at: Instant, now: Instant) -> BackOffDecision {
        if let Some(e) = self.entries.get(key) {
            if !self.expired(finished_at, e.last_update) {
                let since = now.saturating_duration_since(finished_at);
                if since < e.backoff {
                    return BackOffDecision::Wait {
                        remaining: e.backoff - since,
                        backoff: e.backoff,
                    };
                }
            }
        }
        // flowcontrol `Next`: start over when expired, else double (capped).
        let backoff = match self.entries.get(key) {
            Some(e) if !self.expired(finished_at, e.last_update) => {
                (e.backoff * 2).min(self.config.max)
            }
            _ => self.config.initial,
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                backoff,
                last_update: now,
            },
        );
        BackOffDecision::Restart
    }

    /// The current step for `key`, if it has one.
    pub fn current(&self, key: &str) -> Option<Duration> {
        self.entries.get(key).map(|e| e.backoff)
    }

    /// Drops a container's state (its Pod was deleted).
    pub fn forget_pod(&mut self, pod_uid: &str) {
        let prefix = format!("{pod_uid}/");
        self.entries.retain(|k, _| !k.starts_with(&prefix));
    }

    /// `hasExpired`: "consider stable if it's ok for twice the maxDuration".
    fn expired(&self, event: Instant, last_update: Instant) -> bool {
        event.saturating_duration_since(last_update) > self.config.max * 2
    }
}

/// A duration as Go's `time.Duration.String()` writes it (`10s`, `1m20s`,
/// `5m0s`, `500ms`), for the kubelet's messages.
pub struct GoDuration(pub Duration);

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.is_zero() {
            return f.write_str("0s");
        }
        if d < Duration::from_secs(1) {
            let ms = d.as_secs_f64() * 1000.0;
            return write!(f, "{}ms", trim_float(ms));
        }
        let total = d.as_secs();
        let (h, m) = (total / 3600, (total / 60) % 60);
        let s = (total % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{}s", trim_float(s))
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The waiting message of a container in back-off, as the kubelet writes it:
/// `back-off 20s restarting failed container=web pod=web_default(<uid>)`.
pub fn crash_loop_message(
    backoff: Duration,
    container: &str,
    pod: &str,
    namespace: &str,
    uid: &str,
) -> String {
    format!(
        "back-off {} restarting failed container={container} pod={pod}_{namespace}({uid})",
        GoDuration(backoff)
    )
}
