//! `inspect`: what the Pod pane shows beside `get` — the host PIDs of a
//! Pod's infra process and containers, its cgroup directories and its
//! last events — so the pane can read `/proc/<pid>/ns` and the cgroup files
//! itself. One request a sample: every Pod (for the list) and the details of
//! the one selected.

use crate::agent::state::{Event, PodEntry};
use crate::agent::Node;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Most Pods one reply lists (a learner may apply thousands).
pub const MAX_PODS: usize = 256;
/// Most events in a detail (the newest).
pub const MAX_EVENTS: usize = 16;

/// One running container of a Pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerProcess {
    pub name: String,
    /// The runtime's id (`containerID` without its `kubelab://`).
    pub id: String,
    /// Host PID of the container's first process.
    pub pid: u32,
    pub init: bool,
}

/// The node's view of one Pod's processes and cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodProcesses {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// Host PID of `kubelab-pause`; `None` before the sandbox runs.
    pub infra_pid: Option<u32>,
    /// The containers running now (init ones while they run).
    pub containers: Vec<ContainerProcess>,
    /// The Pod-level cgroup, one directory per mounted hierarchy (v2: one);
    /// empty when the node runs without cgroups.
    pub cgroup_dirs: Vec<PathBuf>,
    /// The newest [`MAX_EVENTS`] events, oldest first.
    pub events: Vec<Event>,
}

/// The Pods of `namespace` (all with `None`), at most [`MAX_PODS`], and the
/// details of `selected` (`None` if it is not there, e.g. just deleted).
pub fn inspect(
    node: &Node,
    namespace: Option<&str>,
    selected: Option<(&str, &str)>,
) -> (Vec<Pod>, bool, Option<PodProcesses>) {
    let mut pods: Vec<Pod> = node
        .pods()
        .into_iter()
        .filter(|p| namespace.is_none_or(|ns| p.metadata.namespace.as_deref() == Some(ns)))
        .collect();
    let truncated = pods.len() > MAX_PODS;
    pods.truncate(MAX_PODS);
    let detail = selected.and_then(|(ns, name)| node.read_pod(ns, name, processes));
    (pods, truncated, detail)
}

fn processes(p: &PodEntry) -> PodProcesses {
    let containers = p
        .init
        .iter()
        .chain(&p.containers)
        .filter_map(|s| {
            let r = s.running.as_ref()?;
            Some(ContainerProcess {
                name: s.name.clone(),
                id: r.id.clone(),
                pid: r.pid,
                init: s.init,
            })
        })
        .collect();
    let skip = p.events.len().saturating_sub(MAX_EVENTS);
    PodProcesses {
        namespace: p.namespace().to_string(),
        name: p.name().to_string(),
        uid: p.uid().to_string(),
        infra_pid: p.sandbox.as_ref().map(|s| s.infra_pid),
        containers,
        cgroup_dirs: p
            .sandbox
            .as_ref()
            .map(|s| s.pod_cgroup_dirs.clone())
            .unwrap_or_default(),
        events: p.events[skip..].to_vec(),
    }
}
