//! `kubelab inspect --pid PID FIELD`: one number, for check scripts.

use crate::context::Context;
use kubelab_sandbox::inspect::{self, InspectError};
use std::io::Write;

/// Print one value about a process's sandbox: the same numbers the panes
/// show, whatever the cgroup version.
///
/// FIELD: memory.current memory.peak memory.max oom_kills cpu.usage_usec
/// cpu.throttled_usec cpu.quota pids.current pids.max
/// ns.<pid|uts|ipc|mnt|net|user|cgroup> nspid. Limits print "max" when unset.
/// Exit 2 for an unknown field or a process that cannot be read.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Host PID of a process (usually $KUBELAB_PID, the sandbox's PID 1).
    #[arg(long, value_name = "PID")]
    pub pid: u32,
    /// What to print (see above).
    #[arg(value_name = "FIELD")]
    pub field: String,
}

pub fn run(_ctx: &Context, a: InspectArgs) -> anyhow::Result<i32> {
    match inspect::field(a.pid, &a.field) {
        Ok(v) => {
            // A closed pipe is an error the caller handles, not a panic.
            writeln!(std::io::stdout(), "{v}")?;
            Ok(0)
        }
        Err(e @ InspectError::UnknownField(_)) | Err(e @ InspectError::Failed(_)) => {
            eprintln!("kubelab inspect: {e}");
            Ok(2)
        }
    }
}
