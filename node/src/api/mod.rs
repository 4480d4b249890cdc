//! The node's API: JSON lines over a unix socket in the node's state
//! directory (`node.sock`, the directory mode 0700, the socket 0600), so
//! only the node's own user can drive it.
//!
//! A client sends one [`Request`] line; the node answers with [`Reply`]
//! lines, the last one final ([`Reply::is_final`]); `logs --follow`
//! streams [`Reply::Log`] until the container ends or the client goes.
//! Every line is bounded both ways; a bad line gets a [`Reply::Error`].

pub mod client;
pub mod exec_tty;
pub mod inspect;
mod listen;
pub mod metrics;
pub mod server;
pub mod top;

#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use serde::{Deserialize, Serialize};

/// Largest request line (a manifest is at most 1 MiB, JSON-escaped).
pub const MAX_REQUEST: usize = 4 * 1024 * 1024;
/// Largest reply line a client reads.
pub const MAX_REPLY: usize = 64 * 1024 * 1024;
/// The socket's file name in the state directory.
pub const SOCKET: &str = "node.sock";

fn default_ns() -> String {
    "default".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// `apply -f`: the manifest's text and its file name (for errors).
    Apply {
        file: String,
        text: String,
    },
    Get {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "default_ns")]
        namespace: String,
    },
    Describe {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
    },
    Logs {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
        #[serde(default)]
        container: Option<String>,
        #[serde(default)]
        previous: bool,
        #[serde(default)]
        follow: bool,
        #[serde(default)]
        tail: Option<usize>,
    },
    Exec {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
        #[serde(default)]
        container: Option<String>,
        argv: Vec<String>,
        #[serde(default)]
        timeout_secs: Option<u64>,
    },
    Delete {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
        #[serde(default)]
        grace_seconds: Option<u64>,
    },
    Top {},
    /// `get svc` / `get endpoints`: the Services of `namespace` (or the
    /// one named) with their Endpoints.
    GetServices {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "default_ns")]
        namespace: String,
    },
    DescribeService {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
    },
    DeleteService {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
    },
    /// `exec -it`: the command on a PTY of `rows` × `cols`. The node answers
    /// [`Reply::Attached`] carrying the PTY's master end (SCM_RIGHTS), the
    /// client relays its terminal to it, and [`Reply::Exited`] ends it.
    ExecTty {
        name: String,
        #[serde(default = "default_ns")]
        namespace: String,
        #[serde(default)]
        container: Option<String>,
        argv: Vec<String>,
        rows: u16,
        cols: u16,
    },
    /// The Pod pane's sample: the Pods of `namespace` (every namespace
    /// without one) and the processes, cgroup and events of `selected`.
    Inspect {
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default)]
        selected: Option<PodRef>,
    },
}

/// A Pod by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodRef {
    #[serde(default = "default_ns")]
    pub namespace: String,
    pub name: String,
}

/// One pod's usage (`kubectl top pod`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopRow {
    pub namespace: String,
    pub name: String,
    /// Millicores over the sampling window; `None` when unreadable.
    pub cpu_milli: Option<u64>,
    /// Working set bytes.
    pub memory_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    Error {
        message: String,
    },
    /// `pod/web created`, `pod "web" deleted`.
    Messages {
        lines: Vec<String>,
    },
    Pods {
        pods: Vec<Pod>,
    },
    /// Services and their Endpoints (one per Service, the same order).
    Services {
        services: Vec<Service>,
        endpoints: Vec<Endpoints>,
    },
    Text {
        text: String,
    },
    /// Log content (not final).
    Log {
        data: String,
    },
    /// The end of a log stream.
    End {},
    Exec {
        exit_code: i32,
        stdout: String,
        stderr: String,
    },
    Top {
        rows: Vec<TopRow>,
    },
    Inspect {
        pods: Vec<Pod>,
        /// More Pods than [`inspect::MAX_PODS`] exist.
        #[serde(default)]
        truncated: bool,
        #[serde(default)]
        detail: Option<inspect::PodProcesses>,
    },
    /// `exec -it` started; this line carries the PTY's master end.
    Attached {},
    /// `exec -it` ended with this exit code.
    Exited {
        exit_code: i32,
    },
}

impl Reply {
    /// Whether this reply ends the answer.
    pub fn is_final(&self) -> bool {
        !matches!(self, Reply::Log { .. } | Reply::Attached {})
    }
}
