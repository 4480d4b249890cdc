//! What the lab needs from a running sandbox. The engine implements it
//! (`engine.rs`); keeping it a trait lets the check runner and harness be
//! driven the same way by the TUI and by `kubelab test`.

use crate::panes::inspect::sampler::Observe;
use crate::panes::pty::Spawned;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The result of a script run to completion (or stopped at its timeout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// A running lesson sandbox.
pub trait LabSandbox: Send + Sync {
    /// The name from front matter (`[sandboxes.<name>]`).
    fn name(&self) -> &str;
    /// Host PID of the sandbox's PID 1.
    fn pid(&self) -> u32;
    /// The sandbox's console: its main program (the lesson's `command`, or a
    /// shell) on the PTY it was started with. Taken once; `None` when the
    /// sandbox was started without a console or it was already taken.
    fn take_console(&self) -> Option<Spawned>;
    /// `sh -c SCRIPT` inside the sandbox (exec: joins its namespaces and
    /// cgroup, as root of its user namespace).
    fn exec_script(&self, script: &str, timeout: Duration) -> io::Result<ScriptOutput>;
    /// The `KUBELAB_*` variables for host-side checks (TEAM.md), except
    /// `KUBELAB` and `KUBELAB_LESSON`, which the runner adds.
    fn host_env(&self) -> Vec<(String, String)>;
    /// Read-only views for the inspector panes. It must not keep the sandbox
    /// alive (hold PIDs and paths, not the handle).
    fn observer(&self) -> Arc<dyn Observe>;
    /// Why the sandbox runs without the cgroup limits its spec asks for (the
    /// engine's note, see [`super::limits_off`]); `None` when it has them or
    /// asked for none.
    fn limits_off(&self) -> Option<String> {
        None
    }
}
