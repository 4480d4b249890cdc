//! Exec into a running sandbox, like `nsenter` / `docker exec`: join its cgroup
//! and every namespace of its PID 1, then run a command there.

use crate::error::{Error, Result, EXIT_SETUP_FAILED};
use crate::init::{finish_privileges, read_config, start_payload, supervise, FORWARDED};
use crate::protocol::{ExecConfig, Report, EXEC_ARG};
use crate::spawn::{apply_stdio, helper_command, pty_socket, read_reports, StdioMode};
use crate::sys;
use std::fs;
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
        status_fd: status_w.as_raw_fd(),
        lifeline_fd: life_r.as_raw_fd(),
        pty: None,
    };
    let mut cfg = cfg;
    let pty = pty_socket(stdio)?;
    let mut inherit = vec![status_w.as_raw_fd(), life_r.as_raw_fd()];
    if let Some((_, theirs, rows, cols)) = &pty {
        inherit.push(theirs.as_raw_fd());
        cfg.pty = Some(crate::protocol::PtyRequest {
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

const NS_ORDER: [(&str, libc::c_int); 7] = [
    // The user namespace first: it grants the capabilities for the others.
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

fn ns_ino(pid: &str, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

/// Entry point of `<exe> __sandbox-exec`.
pub fn exec_main() -> i32 {
    let cfg: ExecConfig = match read_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab sandbox exec: {e} (this mode is internal to kubelab)");
            return EXIT_SETUP_FAILED;
        }
    };
    let status = cfg.status_fd;
    let _ = sys::set_cloexec(status, true);
    let _ = sys::setsid();
    let lifeline = sys::adopt_fd(cfg.lifeline_fd).ok();
    match exec_inner(&cfg, lifeline) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code;
            Report::Failed(e).send(status);
            code
        }
    }
}

/// A process of the sandbox whose namespace links we may open: PID 1 is not
/// dumpable, which hides its links from a rootless caller, so fall back to
/// one of its children.
pub(crate) fn readable_member(pid: i32) -> i32 {
    if fs::File::open(format!("/proc/{pid}/ns/mnt")).is_ok() {
        return pid;
    }
    let children =
        fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    children
        .split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
        .find(|c| fs::File::open(format!("/proc/{c}/ns/mnt")).is_ok())
        .unwrap_or(pid)
}

fn exec_inner(cfg: &ExecConfig, lifeline: Option<OwnedFd>) -> Result<i32> {
    let target = readable_member(cfg.target_pid);
    let tpid = target.to_string();
    // Join the sandbox's cgroups while we still have host credentials. On v1
    // this single-threaded helper moves itself through `tasks`, which skips the
    // kernel's global threadgroup lock (see [`crate::cgroup::Join`]).
    crate::cgroup_tree::join_like(cfg.target_pid);
    let mut fds: Vec<(OwnedFd, libc::c_int)> = Vec::new();
    for (name, flag) in NS_ORDER {
        if ns_ino(&tpid, name) == ns_ino("self", name) {
            continue;
        }
        let f = fs::File::open(format!("/proc/{tpid}/ns/{name}")).map_err(|e| {
            Error::new(
                "exec",
                format!("open /proc/{tpid}/ns/{name}: {e} (is the sandbox still running?)"),
            )
        })?;
        fds.push((OwnedFd::from(f), flag));
    }
    for (fd, flag) in &fds {
        sys::setns(fd.as_fd(), *flag).map_err(|e| Error::new("exec", format!("setns: {e}")))?;
    }
    drop(fds);
    // Host root is unmapped in a root-started sandbox: take its uid 0, as
    // PID 1 did (a no-op rootless).
    crate::idmap::become_root()
        .map_err(|e| Error::new("exec", format!("become the sandbox's root: {e}")))?;
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    let set = sys::block_signals(&sigs).map_err(|e| Error::new("exec", e.to_string()))?;
    let slave = match &cfg.pty {
        Some(p) => Some(crate::init::make_pty(p)?),
        None => None,
    };
    let mut env = crate::init::payload_env(&crate::spec::Spec::default(), cfg.pty.is_some());
    env.retain(|(k, _)| k != "HOSTNAME");
    for (k, v) in &cfg.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    let workdir = cfg.workdir.clone().unwrap_or_else(|| PathBuf::from("/"));
    match sys::fork().map_err(|e| Error::new("exec", e.to_string()))? {
        0 => {
            drop(lifeline);
            let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            if let Some(secs) = cfg.cpu_seconds {
                // Lowering a limit needs no privilege; refuse to run unbounded.
                if let Err(e) = nix::sys::resource::setrlimit(
                    nix::sys::resource::Resource::RLIMIT_CPU,
                    secs,
                    secs.saturating_add(1),
                ) {
                    let e = Error::new("exec", format!("setrlimit(RLIMIT_CPU): {e}"));
                    Report::Failed(e.clone()).send(cfg.status_fd);
                    sys::exit_now(e.exit_code)
                }
            }
            let e = match finish_privileges(cfg.privileged) {
                Ok(()) => start_payload(&cfg.command, &env, Some(&workdir), slave.as_ref()),
                Err(e) => e,
            };
            Report::Failed(e.clone()).send(cfg.status_fd);
            sys::exit_now(e.exit_code)
        }
        child => {
            drop(slave);
            Report::ExecStarted { pid: child }.send(cfg.status_fd);
            if let Ok(f) = sys::adopt_fd(cfg.status_fd) {
                drop(f);
            }
            if let Ok(null) = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                for fd in 0..3 {
                    let _ = sys::dup2(null.as_raw_fd(), fd);
                }
            }
            let sfd = sys::signalfd(&set).map_err(|e| Error::new("exec", e.to_string()))?;
            Ok(supervise(child, &sfd, lifeline.as_ref()))
        }
    }
}
