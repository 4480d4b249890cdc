//! kubelab-node: what the kubelet does on one node, for kubelab's labs.
//!
//! Pods come from real `v1 Pod` manifests (the same YAML a learner writes for
//! a cluster) and are laid out in the kernel the way the kubelet lays them
//! out: an infra process holding the Pod's shared namespaces, one sandbox per
//! container joining them, the QoS cgroup tree
//! `kubepods/[burstable|besteffort]/pod<UID>/<container>`, container logs in
//! the CRI format, Pod networking through real CNI plugins.
//!
//! This crate holds the node's logic (manifest → typed Pod → plan, QoS and
//! cgroup values, status, logs, CNI calls). The kernel work itself is done by
//! `kubelab-sandbox`; the app crate adds the commands and the Pod pane.

// The node's pure logic (no kernel work).
pub mod cgroup_plan;
pub mod downward;
pub mod manifest;
pub mod probe;
pub mod qos;
pub mod quantity;
pub mod restart;
pub mod service;
pub mod status;

// The runtime contract (CRI-shaped) and its kernel side on the sandbox.
pub mod runtime;
pub mod sandbox_runtime;

// The node agent (the kubelet) and its socket API.
pub mod agent;
pub mod api;

// The node's I/O: container logs, CNI plugin calls, metrics from cgroups.
pub mod cni;
pub mod logs;
pub mod metrics;

#[cfg(test)]
mod cgroup_plan_tests;
#[cfg(test)]
mod downward_tests;
#[cfg(test)]
mod manifest_rules_tests;
#[cfg(test)]
mod manifest_tests;
#[cfg(test)]
mod probe_tests;
#[cfg(test)]
mod quantity_tests;
#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod status_tests;
