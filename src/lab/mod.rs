//! Lesson labs: the sandboxes a lesson declares, its checks and the runner
//! that proves every lab (`kubelab test`).
//!
//! - [`model`]: a lesson's `##` steps with their checks/solutions/run blocks;
//! - [`backend`]: what a running sandbox offers the lab ([`backend::LabSandbox`]);
//! - [`engine`]: that, on the `kubelab-sandbox` engine;
//! - [`check`]: running one check (in the sandbox, or on the host with
//!   `KUBELAB_*` variables) and turning its output into ✓/✗ and a reason;
//! - [`harness`]: `kubelab test`'s fail-first → solution → pass runner;
//! - [`cluster_run`]: that runner on a `[cluster]` lab (reset before and
//!   after, the cluster's environment, SKIP without a cluster);
//! - [`live`]: the lab of the lesson on screen (lazy start, shells, checks);
//! - [`host`]: the panes plugged into the reader TUI;
//! - [`kmsg`]: OOM kills from the kernel log (outlive the cgroup);
//! - [`trust`]: the question asked before running another course's lab.
pub mod backend;
pub mod check;
pub mod cluster_run;
pub mod engine;
pub mod exposure;
pub mod focus;
pub mod harness;
pub mod host;
pub mod host_run;
pub mod kmsg;
pub use crate::limits_off;
pub mod live;
pub mod model;
pub mod node;
pub mod observe;
pub mod run_dirs;
pub mod trust;
pub mod trust_dialog;
pub mod world;
