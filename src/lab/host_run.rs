//! Host commands (checks marked `on=host`) end with kubelab, however it
//! ends — quit, SIGTERM, SIGHUP or `kill -9`.
//!
//! kubelab does not start the script itself: it starts `kubelab
//! __host-run SCRIPT`, a small supervisor whose stdin is a pipe kubelab
//! holds (the lifeline). The supervisor runs `/bin/sh -c SCRIPT` in a new
//! process group and kills that whole group when the script ends (no
//! background child survives it) or when the lifeline reaches EOF: kubelab
//! closed it to stop the check, or kubelab is gone (the kernel closes a dead
//! process's pipes, even after SIGKILL). All without `unsafe`.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The supervisor mode of the kubelab binary.
pub const HOST_RUN_ARG: &str = "__host-run";

/// Runs the supervisor when this process was started as one
/// (`kubelab __host-run SCRIPT`); `None` otherwise.
pub fn dispatch() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != HOST_RUN_ARG {
        return None;
    }
    let script = args.next()?;
    Some(supervise(&script))
}

fn kill_group(pgid: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pgid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

fn supervise(script: &std::ffi::OsStr) -> i32 {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .process_group(0)
        .stdin(Stdio::null());
    // Before exec, so the script cannot fork an unlimited child first.
    kubelab_sandbox::rlimit::limit_cpu(&mut cmd, crate::course::limits::CHECK_CPU_SECONDS);
    let child = cmd.spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab: cannot run the host check: {e}");
            return 127;
        }
    };
    let pgid = child.id();
    // The lifeline: EOF (or an error) means stop now.
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = [0u8; 64];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        kill_group(pgid);
    });
    let code = match child.wait() {
        Ok(st) => crate::panes::pty::exit_code(st),
        Err(_) => 127,
    };
    // Whatever the script left running in the background goes with it.
    kill_group(pgid);
    code
}

/// Starts `SCRIPT` on the host under the supervisor `kubelab` (the kubelab
/// binary), with `env` added, output piped. The returned [`HostChild`]
/// holds the lifeline.
pub fn spawn(kubelab: &Path, script: &str, env: &[(String, String)]) -> io::Result<HostChild> {
    let mut cmd = Command::new(kubelab);
    cmd.arg(HOST_RUN_ARG)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start {} to supervise it: {e}", kubelab.display()),
        )
    })?;
    let lifeline = child.stdin.take();
    Ok(HostChild { child, lifeline })
}

/// A supervised host script.
pub struct HostChild {
    pub child: Child,
    lifeline: Option<std::process::ChildStdin>,
}

impl HostChild {
    /// Stops the script and everything it started, and reaps the
    /// supervisor: closing the lifeline makes it kill the script's group
    /// and exit at once.
    pub fn stop(&mut self) -> io::Result<std::process::ExitStatus> {
        drop(self.lifeline.take());
        self.child.wait()
    }
}

impl Drop for HostChild {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.child.wait();
    }
}
