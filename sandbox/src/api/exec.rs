//! Exec into a running sandbox, like `nsenter` / `docker exec`: join its cgroup
//! and every namespace of its PID 1, then run a command there.
//!
//! This is the caller's side; the helper that joins the sandbox is
//! `process/exec_helper.rs`.

use crate::error::{Error, Result};
use crate::process::helper::{helper_command, read_reports};
use crate::process::protocol::{ExecConfig, PtyRequest, Report, EXEC_ARG};
use crate::process::stdio::{apply_stdio, pty_socket, StdioMode};
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout};

/// What to run inside the sandbox.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    /// Extra environment on top of PATH/HOME/TERM defaults.
    pub env: Vec<(String, String)>,
    /// Working directory inside (default `/`).
    pub workdir: Option<PathBuf>,
    /// Keep all capabilities of the sandbox's user namespace.
    pub privileged: bool,
    /// CPU seconds each process of the command may use (RLIMIT_CPU, which
    /// its children inherit): SIGXCPU at the limit, SIGKILL a second later.
    /// Bounds a busy loop well before any wall-clock timeout.
    pub cpu_seconds: Option<u64>,
    /// The command's uid/gid and capabilities (a container's
    /// `securityContext`, which the CRI applies to its execs too).
    pub identity: crate::spec::Identity,
}

impl ExecRequest {
    /// `sh -c SCRIPT`, the way check scripts run.
    pub fn shell(script: &str) -> ExecRequest {
        ExecRequest {
            command: vec!["/bin/sh".into(), "-c".into(), script.into()],
            ..ExecRequest::default()
        }
    }
}

/// A process started inside a sandbox.
#[derive(Debug)]
pub struct ExecProcess {
    helper: Child,
    /// Host PID of the process inside the sandbox.
    pub pid: i32,
    lifeline: Option<OwnedFd>,
    pty_master: Option<OwnedFd>,
}

impl ExecProcess {
    pub fn take_pty_master(&mut self) -> Option<OwnedFd> {
        self.pty_master.take()
    }
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.helper.stdin.take()
    }
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.helper.stdout.take()
    }
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.helper.stderr.take()
    }
    /// Waits; returns the exit code (128+N for signal N).
    pub fn wait(&mut self) -> std::io::Result<i32> {
        let st = self.helper.wait()?;
        self.lifeline = None;
        Ok(st.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(0)
        }))
    }
    pub fn try_wait(&mut self) -> std::io::Result<Option<i32>> {
        Ok(self.helper.try_wait()?.map(|st| {
            st.code().unwrap_or_else(|| {
                128 + std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(0)
            })
        }))
    }
    /// Kills the process and waits for it.
    pub fn kill(&mut self) -> std::io::Result<i32> {
        self.lifeline = None;
        self.wait()
    }
    pub fn signal(&self, sig: i32) -> std::io::Result<()> {
        sys::kill(self.helper.id() as i32, sig)
    }
    /// Runs to completion with piped stdio; returns (code, stdout, stderr).
    pub fn output(mut self) -> std::io::Result<(i32, Vec<u8>, Vec<u8>)> {
        use std::io::Read;
        drop(self.take_stdin());
        let mut err = self.take_stderr();
        let t = std::thread::spawn(move || {
            let mut b = Vec::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_end(&mut b);
            }
            b
        });
        let mut out = Vec::new();
        if let Some(mut o) = self.take_stdout() {
            o.read_to_end(&mut out)?;
        }
        let errb = t.join().unwrap_or_default();
        let code = self.wait()?;
        Ok((code, out, errb))
    }
}

impl Drop for ExecProcess {
    fn drop(&mut self) {
        if matches!(self.helper.try_wait(), Ok(None)) {
            let _ = self.kill();
        }
    }
}

/// Runs `req` inside the sandbox whose PID 1 has host PID `target_pid`.
/// `helper_exe` is re-executed as `__sandbox-exec` (see [`crate::dispatch`]).
pub fn exec_pid(
    target_pid: i32,
    req: &ExecRequest,
    stdio: StdioMode,
    helper_exe: &Path,
) -> Result<ExecProcess> {
    if req.command.is_empty() || req.command[0].is_empty() {
        return Err(Error::new("command", "exec needs a command"));
    }
    if !Path::new(&format!("/proc/{target_pid}")).exists() {
        return Err(Error::new(
            "pid",
            format!("no process {target_pid}: is the sandbox running?"),
        ));
    }
    let (status_r, status_w) = sys::pipe().map_err(|e| Error::new("exec", e.to_string()))?;
    let (life_r, life_w) = sys::pipe().map_err(|e| Error::new("exec", e.to_string()))?;
    let cfg = ExecConfig {
        target_pid,
        command: req.command.clone(),
        env: req.env.clone(),
        workdir: req.workdir.clone(),
        privileged: req.privileged,
        cpu_seconds: req.cpu_seconds,
        identity: req.identity.clone(),
        status_fd: status_w.as_raw_fd(),
        lifeline_fd: life_r.as_raw_fd(),
        pty: None,
    };
    let mut cfg = cfg;
    let pty = pty_socket(stdio)?;
    let mut inherit = vec![status_w.as_raw_fd(), life_r.as_raw_fd()];
    if let Some((_, theirs, rows, cols)) = &pty {
        inherit.push(theirs.as_raw_fd());
        cfg.pty = Some(PtyRequest {
            sock_fd: theirs.as_raw_fd(),
            rows: *rows,
            cols: *cols,
        });
    }
    let json = serde_json::to_string(&cfg).map_err(|e| Error::new("exec", e.to_string()))?;
    let mut cmd = helper_command(helper_exe, EXEC_ARG, json, inherit);
    apply_stdio(&mut cmd, stdio);
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(
            "exec",
            format!("start helper {}: {e}", helper_exe.display()),
        )
    })?;
    drop(cmd);
    drop(status_w);
    drop(life_r);
    let pty_sock = pty.map(|(mine, theirs, _, _)| {
        drop(theirs);
        mine
    });
    let mut pid = None;
    let Some(reports) = read_reports(status_r) else {
        drop(life_w);
        let _ = child.kill();
        let _ = child.wait();
        return Err(Error::new(
            "exec",
            "the exec helper did not report within 30s",
        ));
    };
    let pty_master = match &pty_sock {
        Some(s) => sys::recv_fd(s.as_fd()).ok().flatten(),
        None => None,
    };
    for r in reports {
        match r {
            Report::ExecStarted { pid: p } => pid = Some(p),
            Report::Failed(e) => {
                drop(life_w);
                let _ = child.wait();
                return Err(e);
            }
            Report::Started { .. } => {}
        }
    }
    let Some(pid) = pid else {
        drop(life_w);
        let st = child.wait();
        return Err(Error::new(
            "exec",
            format!("exec helper exited early ({st:?})"),
        ));
    };
    Ok(ExecProcess {
        helper: child,
        pid,
        lifeline: Some(life_w),
        pty_master,
    })
}
