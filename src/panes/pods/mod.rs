//! The Pod pane (`pods`): the Pods of the lab's node, or of a real cluster,
//! with kubectl's columns; select one to inspect it — its containers, the
//! namespaces they share with the infra (pause) process, its QoS class,
//! its cgroup subtree with live use and limits, and its last events.
//!
//! One inspector for both sources ([`sampler::PodSource`]): the node's
//! `inspect` request or /proc discovery ([`discover`]) say where a Pod's
//! processes and cgroup are; [`probe`] reads them; [`render`] draws.
//!
//! - [`model`]: what is shown; [`probe`]: Pod + processes → model;
//! - [`discover`]: a cluster's Pod among this machine's processes;
//! - [`sampler`]: the thread that samples (never the UI's);
//! - [`render`], [`pane`]: drawing, keys; [`text`]: strings (en, zh).
pub mod discover;
pub mod model;
pub mod pane;
pub mod probe;
pub mod render;
pub mod sampler;
pub mod text;

pub use model::PodKey;
pub use pane::PodPane;
pub use sampler::{ClusterPods, PodSource};
