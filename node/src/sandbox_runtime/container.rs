//! One container: a sandbox joined to its Pod, its output pumped into the
//! CRI log, its exit read with the cgroup's OOM counter before the cgroup
//! goes.

use crate::logs::{pump, LogFile, PumpStats, Stream, DEFAULT_MAX_LINE};
use crate::runtime::ContainerConfig;
use crate::status::container::Exit;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kubelab_sandbox::cgroup::Cgroup;
use kubelab_sandbox::pod::PodOptions;
use kubelab_sandbox::spec::Spec;
use kubelab_sandbox::{ExecRequest, Sandbox, SpawnOptions, StdioMode};
use std::io::{self, Read};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::SystemTime;
use std::time::{Duration, Instant};

/// Most bytes `exec_sync` keeps of each stream (the rest is read and dropped).
pub const EXEC_OUTPUT_MAX: usize = 1 << 20;

/// A started container of [`super::SandboxRuntime`].
pub struct SandboxContainer {
    id: String,
    sandbox: Sandbox,
    /// Its cgroup, removed once the exit (and OOM kill) is read (None:
    /// a rootless node without cgroups).
    cgroup: Option<Cgroup>,
    started_at: Time,
    pumps: Vec<JoinHandle<PumpStats>>,
    helper_exe: PathBuf,
    privileged: bool,
    /// Its uid/gid and capabilities, for `exec_sync`/`exec_tty` too (the
    /// CRI runs execs with the container's user).
    identity: kubelab_sandbox::spec::Identity,
    /// The container's env, given to `exec_sync` too (as the CRI does).
    env: Vec<(String, String)>,
    exit: Option<Exit>,
    /// What the runtime could not apply besides the cgroup (device rules).
    note: Option<String>,
}

pub(super) fn start(
    spec: &Spec,
    opts: &SpawnOptions,
    pod: &PodOptions,
    cgroup: Option<Cgroup>,
    config: &ContainerConfig,
) -> io::Result<SandboxContainer> {
    let log = config
        .log_path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| LogFile::open(&config.log_path, config.log_rotation));
    let log = match log {
        Ok(l) => l.shared(),
        Err(e) => {
            destroy(cgroup.as_ref());
            return Err(io::Error::new(
                e.kind(),
                format!("log {}: {e}", config.log_path.display()),
            ));
        }
    };
    let mut opts = opts.clone();
    let id = kubelab_sandbox::runtime::new_id();
    opts.id = Some(format!("ctr-{id}"));
    let mut sandbox = match Sandbox::spawn_in_pod(spec, &opts, pod) {
        Ok(s) => s,
        Err(e) => {
            destroy(cgroup.as_ref());
            return Err(io::Error::other(format!(
                "start container {:?}: {e}",
                config.name
            )));
        }
    };
    // No stdin (`stdin: true` is not supported): EOF at once.
    drop(sandbox.take_stdin());
    let mut pumps = Vec::new();
    if let Some(out) = sandbox.take_stdout() {
        let log = log.clone();
        pumps.push(std::thread::spawn(move || {
            pump(out, Stream::Stdout, &log, DEFAULT_MAX_LINE)
        }));
    }
    if let Some(err) = sandbox.take_stderr() {
        pumps.push(std::thread::spawn(move || {
            pump(err, Stream::Stderr, &log, DEFAULT_MAX_LINE)
        }));
    }
    Ok(SandboxContainer {
        id,
        sandbox,
        cgroup,
        started_at: now(),
        pumps,
        helper_exe: opts.helper_exe.clone(),
        privileged: spec.privileged,
        identity: spec.identity.clone(),
        env: config.env.clone(),
        exit: None,
        note: None,
    })
}

impl SandboxContainer {
    pub(super) fn with_note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }

    /// The container's cgroup (stats while it runs).
    pub fn cgroup(&self) -> Option<&Cgroup> {
        self.cgroup.as_ref()
    }

    fn finish(&mut self, code: i32) -> Exit {
        for p in self.pumps.drain(..) {
            let _ = p.join();
        }
        let oom_killed = self
            .cgroup
            .as_ref()
            .is_some_and(|c| c.stats().oom_kills > 0);
        destroy(self.cgroup.as_ref());
        let signal = (code > 128 && code <= 128 + 64).then_some(code - 128);
        let exit = Exit {
            exit_code: code,
            signal,
            oom_killed,
            started_at: self.started_at.clone(),
            finished_at: now(),
            container_id: Some(self.id.clone()),
            message: None,
        };
        self.exit = Some(exit.clone());
        exit
    }
}

fn destroy(cgroup: Option<&Cgroup>) {
    if let Some(c) = cgroup {
        c.destroy();
    }
}

/// The current time as the API's `Time` (chrono has no clock here).
fn now() -> Time {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let t = k8s_openapi::chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .unwrap_or_default();
    Time(t)
}

/// Reads `r` to its end, keeping at most [`EXEC_OUTPUT_MAX`] bytes.
fn read_bounded(mut r: impl Read) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n @ 1..) = r.read(&mut buf) {
        let room = EXEC_OUTPUT_MAX.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

/// Runs `req` in the sandbox whose PID 1 is `pid`, within `timeout`:
/// (exit code, stdout, stderr), each bounded by [`EXEC_OUTPUT_MAX`].
pub(super) fn exec_bounded(
    pid: u32,
    req: &ExecRequest,
    helper_exe: &std::path::Path,
    timeout: Duration,
) -> io::Result<(i32, Vec<u8>, Vec<u8>)> {
    let argv = &req.command;
    let mut p = kubelab_sandbox::exec::exec_pid(pid as i32, req, StdioMode::Piped, helper_exe)
        .map_err(|e| io::Error::other(format!("exec: {e}")))?;
    drop(p.take_stdin());
    let out = p
        .take_stdout()
        .map(|o| std::thread::spawn(move || read_bounded(o)));
    let err = p
        .take_stderr()
        .map(|o| std::thread::spawn(move || read_bounded(o)));
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(c) = p.try_wait()? {
            break c;
        }
        if Instant::now() >= deadline {
            let _ = p.kill();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("exec {argv:?} did not finish within {timeout:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let join = |h: Option<JoinHandle<Vec<u8>>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok((code, join(out), join(err)))
}

impl crate::runtime::Container for SandboxContainer {
    fn id(&self) -> &str {
        &self.id
    }

    fn pid(&self) -> u32 {
        self.sandbox.pid()
    }

    fn try_wait(&mut self) -> io::Result<Option<Exit>> {
        if let Some(e) = &self.exit {
            return Ok(Some(e.clone()));
        }
        match self.sandbox.try_wait()? {
            Some(code) => Ok(Some(self.finish(code))),
            None => Ok(None),
        }
    }

    fn stop(&mut self, grace: Duration) -> io::Result<Exit> {
        if let Some(e) = self.try_wait()? {
            return Ok(e);
        }
        let _ = self.sandbox.signal(rustix::process::Signal::TERM.as_raw());
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(e) = self.try_wait()? {
                return Ok(e);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let code = self.sandbox.kill()?;
        Ok(self.finish(code))
    }

    fn exec_sync(&self, argv: &[String], timeout: Duration) -> io::Result<(i32, Vec<u8>, Vec<u8>)> {
        let req = ExecRequest {
            command: argv.to_vec(),
            env: self.env.clone(),
            workdir: None,
            privileged: self.privileged,
            cpu_seconds: None,
            identity: self.identity.clone(),
        };
        exec_bounded(self.sandbox.pid(), &req, &self.helper_exe, timeout)
    }

    fn resource_note(&self) -> Option<String> {
        let notes: Vec<&str> = [self.sandbox.cgroup_note(), self.note.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    fn exec_tty(
        &self,
        argv: &[String],
        rows: u16,
        cols: u16,
    ) -> io::Result<Box<dyn crate::runtime::TtyExec>> {
        let req = ExecRequest {
            command: argv.to_vec(),
            env: self.env.clone(),
            workdir: None,
            privileged: self.privileged,
            cpu_seconds: None,
            identity: self.identity.clone(),
        };
        let p = kubelab_sandbox::exec::exec_pid(
            self.sandbox.pid() as i32,
            &req,
            StdioMode::Pty { rows, cols },
            &self.helper_exe,
        )
        .map_err(|e| io::Error::other(format!("exec: {e}")))?;
        Ok(Box::new(SandboxTtyExec(p)))
    }
}

/// An interactive exec on the sandbox engine's PTY.
struct SandboxTtyExec(kubelab_sandbox::ExecProcess);

impl crate::runtime::TtyExec for SandboxTtyExec {
    fn take_master(&mut self) -> Option<std::os::fd::OwnedFd> {
        self.0.take_pty_master()
    }
    fn try_wait(&mut self) -> io::Result<Option<i32>> {
        self.0.try_wait()
    }
    fn kill(&mut self) -> io::Result<i32> {
        self.0.kill()
    }
}

impl Drop for SandboxTtyExec {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
    }
}

impl Drop for SandboxContainer {
    fn drop(&mut self) {
        if self.exit.is_none() {
            if let Ok(code) = self.sandbox.kill() {
                self.finish(code);
            } else {
                destroy(self.cgroup.as_ref());
            }
        }
    }
}
