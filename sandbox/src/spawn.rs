//! The caller's side: start a sandbox and hold its handle.

use crate::cgroup::Cgroup;
use crate::error::{Error, Result, EXIT_SETUP_FAILED};
use crate::protocol::{InitConfig, Report, CONFIG_ENV, INIT_ARG};
use crate::spec::{Mount, Rootfs, Spec};
use crate::sys;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsFd, AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Once;

/// How the payload's stdin/stdout/stderr are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdioMode {
    /// Share the caller's stdio (`kubelab run` without `-t` when none of
    /// them is a terminal: a terminal is never handed to a sandbox).
    Inherit,
    /// Pipes, taken with [`Sandbox::take_stdin`] etc.
    Piped,
    /// /dev/null for all three.
    Null,
    /// A new PTY of this size; the master is taken with [`Sandbox::take_pty_master`].
    Pty { rows: u16, cols: u16 },
}

/// Options of [`Sandbox::spawn`] that are not part of the lesson's spec.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// The executable re-executed as the sandbox helper. It must call
    /// [`crate::dispatch`] first thing in `main`. Default: `/proc/self/exe`.
    pub helper_exe: PathBuf,
    pub stdio: StdioMode,
    /// Sandbox id (names the cgroup `kubelab/<id>` and the runtime entry). Default: random.
    pub id: Option<String>,
    /// Runtime directory. Default: [`crate::runtime::default_dir`].
    pub runtime_dir: Option<PathBuf>,
    /// Where unpacked OCI layers are cached. Default: `/var/cache/kubelab/oci`
    /// for root, `$XDG_CACHE_HOME/kubelab/oci` (or `~/.cache/...`) otherwise.
    pub cache_dir: Option<PathBuf>,
    /// Create a cgroup even when the spec sets no limits, for stats. Default true.
    pub cgroup_always: bool,
    /// Force cgroup v1 or v2 instead of detecting (hybrid hosts use v1).
    pub cgroup_version: Option<u8>,
    /// A small helper (calling [`crate::dispatch`]) that a supervisor forked
    /// from a big caller re-executes itself as once the sandbox has run for
    /// [`crate::init::SLIM_AFTER`]: short runs keep the fork's speed, long
    /// ones stop holding a copy of the caller's memory. Default: none.
    pub slim_exe: Option<PathBuf>,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions {
            helper_exe: PathBuf::from("/proc/self/exe"),
            stdio: StdioMode::Piped,
            id: None,
            runtime_dir: None,
            cache_dir: None,
            cgroup_always: true,
            cgroup_version: None,
            slim_exe: None,
        }
    }
}

/// A running sandbox. Dropping it kills the sandbox and waits for cleanup.
#[derive(Debug)]
pub struct Sandbox {
    id: String,
    init_pid: i32,
    supervisor: Supervisor,
    lifeline: Option<OwnedFd>,
    pty_master: Option<OwnedFd>,
    cgroup: Option<Cgroup>,
    cgroup_note: Option<String>,
    sandbox_dir: PathBuf,
    spec: Spec,
    helper_exe: PathBuf,
    exit: Option<i32>,
}

static SWEEP: Once = Once::new();

/// Checks what can be checked before anything is started, so bad input fails
/// fast and leaves nothing behind.
pub fn validate(spec: &Spec) -> Result<()> {
    match &spec.rootfs {
        Rootfs::Host => {}
        Rootfs::Busybox => {
            if !Path::new("/bin/busybox").is_file() {
                return Err(Error::new(
                    "rootfs",
                    "`busybox` needs a static busybox at /bin/busybox; install it \
                     (Debian: apt-get install busybox-static) or use rootfs = \"host\"",
                ));
            }
        }
        Rootfs::Dir(d) => {
            if !d.is_absolute() {
                return Err(Error::new(
                    "rootfs",
                    format!("`{}` must be an absolute path", d.display()),
                ));
            }
            if !d.is_dir() {
                return Err(Error::new(
                    "rootfs",
                    format!(
                        "directory `{}` does not exist; create it or use rootfs = \"host\"",
                        d.display()
                    ),
                ));
            }
        }
        Rootfs::Oci(d) => {
            if !d.join("index.json").is_file() {
                return Err(Error::new(
                    "rootfs",
                    format!(
                        "`{}` is not an OCI image layout (no index.json); export one with \
                         e.g. `skopeo copy docker://busybox oci:{}:latest`",
                        d.display(),
                        d.display()
                    ),
                ));
            }
        }
    }
    if !spec.namespaces.contains(&crate::spec::Namespace::Mount)
        && (spec.rootfs != Rootfs::Host || !spec.mounts.is_empty())
    {
        return Err(Error::new(
            "namespaces",
            "a rootfs other than `host` and extra mounts need the `mount` namespace",
        ));
    }
    if let Some(h) = &spec.hostname {
        if h.is_empty() || h.len() > 64 || h.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(Error::new(
                "hostname",
                format!("`{h}` is not a valid hostname (1-64 characters, no spaces or /)"),
            ));
        }
    }
    for m in &spec.mounts {
        match m {
            Mount::Bind { source, target, .. } => {
                if !source.exists() {
                    return Err(Error::new(
                        "mounts",
                        format!(
                            "bind source `{}` does not exist on the host",
                            source.display()
                        ),
                    ));
                }
                if !target.is_absolute() {
                    return Err(Error::new(
                        "mounts",
                        format!("target `{}` must be absolute", target.display()),
                    ));
                }
            }
            Mount::Tmpfs { target, .. } => {
                if !target.is_absolute() {
                    return Err(Error::new(
                        "mounts",
                        format!("target `{}` must be absolute", target.display()),
                    ));
                }
            }
        }
    }
    if let Some(w) = &spec.workdir {
        if !w.is_absolute() {
            return Err(Error::new(
                "workdir",
                format!("`{}` must be an absolute path", w.display()),
            ));
        }
    }
    if spec.command.first().is_some_and(|c| c.is_empty()) {
        return Err(Error::new("command", "the program name is empty"));
    }
    Ok(())
}

pub(crate) fn default_cache_dir() -> PathBuf {
    if sys::geteuid() == 0 {
        return PathBuf::from("/var/cache/kubelab/oci");
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("kubelab/oci");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache/kubelab/oci");
    }
    PathBuf::from(format!("/tmp/kubelab-cache-{}", sys::geteuid()))
}

/// Builds the helper command. The two descriptors are made inheritable in the
/// child only (between fork and exec), so concurrent spawns from other threads
/// never inherit them.
pub(crate) fn helper_command(
    exe: &Path,
    arg: &str,
    config_json: String,
    inherit: Vec<i32>,
) -> Command {
    let mut cmd = Command::new(exe);
    cmd.arg0("kubelab-init")
        .arg(arg)
        .env_clear()
        .env(CONFIG_ENV, config_json);
    // SAFETY: the closure only calls fcntl, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &inherit {
                sys::set_cloexec(fd, false)?;
            }
            Ok(())
        });
    }
    cmd
}

/// How long a helper may take to report before it is considered hung (e.g.
/// `helper_exe` is a program that does not call [`crate::dispatch`]).
const REPORT_TIMEOUT_MS: i32 = 30_000;

/// Reads the helper's reports until every writer is gone (exec or exit).
/// `None`: nothing final within the timeout.
pub(crate) fn read_reports(r: OwnedFd) -> Option<Vec<Report>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_millis(REPORT_TIMEOUT_MS as u64);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        let ready = sys::poll_read(&[r.as_raw_fd()], left.as_millis() as i32).ok()?;
        if ready.first() != Some(&true) {
            continue;
        }
        match sys::read_fd(r.as_raw_fd(), &mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(
        buf.split(|&b| b == b'\n')
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect(),
    )
}

/// For a PTY: a socket pair; the master allocated inside the sandbox arrives
/// on the caller's end. Returns (caller end, helper end, rows, cols).
pub(crate) type PtySocket = (OwnedFd, OwnedFd, u16, u16);

pub(crate) fn pty_socket(mode: StdioMode) -> Result<Option<PtySocket>> {
    match mode {
        StdioMode::Pty { rows, cols } => {
            let (mine, theirs) =
                sys::fd_socketpair().map_err(|e| Error::new("pty", e.to_string()))?;
            Ok(Some((mine, theirs, rows, cols)))
        }
        _ => Ok(None),
    }
}

/// Stdio of a helper command (PTY mode: none, the PTY comes over the socket).
pub(crate) fn apply_stdio(cmd: &mut Command, mode: StdioMode) {
    match mode {
        StdioMode::Inherit => {
            cmd.stdin(Stdio::inherit())
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit());
        }
        StdioMode::Piped => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        StdioMode::Null | StdioMode::Pty { .. } => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        }
    }
}

impl Sandbox {
    /// Starts a sandbox. Returns once the payload has been exec'd (or failed to).
    /// Safe to call from any thread of a multi-threaded program: the namespace
    /// work happens in a freshly exec'd, single-threaded helper.
    pub fn spawn(spec: &Spec, opts: &SpawnOptions) -> Result<Sandbox> {
        crate::trace::init_from_env();
        crate::trace::mark("caller: spawn");
        validate(spec)?;
        let mut spec = spec.clone();
        if !spec.namespaces.contains(&crate::spec::Namespace::User) {
            spec.namespaces.push(crate::spec::Namespace::User);
        }
        let rundir = opts
            .runtime_dir
            .clone()
            .unwrap_or_else(crate::runtime::default_dir);
        crate::runtime::ensure_dir(&rundir)
            .map_err(|e| Error::io("runtime", rundir.display(), e))?;
        let sweep_dir = rundir.clone();
        SWEEP.call_once(move || {
            crate::runtime::sweep(&sweep_dir);
        });
        let oci_layers = match &spec.rootfs {
            Rootfs::Oci(dir) => {
                let cache = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
                crate::oci::prepare(dir, &cache)?
            }
            _ => Vec::new(),
        };
        let id = opts.id.clone().unwrap_or_else(crate::runtime::new_id);
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::new(
                "id",
                format!("`{id}`: use letters, digits, - and _"),
            ));
        }
        let sandbox_dir = rundir.join(&id);
        std::fs::create_dir(&sandbox_dir).map_err(|e| {
            Error::io(
                "id",
                format!(
                    "{} (is a sandbox `{id}` already running?)",
                    sandbox_dir.display()
                ),
                e,
            )
        })?;
        let result = Self::launch(spec, opts, id, oci_layers, sandbox_dir.clone());
        if result.is_err() {
            crate::runtime::remove_entry(&sandbox_dir);
        }
        result
    }

    fn launch(
        spec: Spec,
        opts: &SpawnOptions,
        id: String,
        oci_layers: Vec<PathBuf>,
        sandbox_dir: PathBuf,
    ) -> Result<Sandbox> {
        let (status_r, status_w) = sys::pipe().map_err(|e| Error::new("spawn", e.to_string()))?;
        let (life_r, life_w) = sys::pipe().map_err(|e| Error::new("spawn", e.to_string()))?;
        let mut cfg = InitConfig {
            id: id.clone(),
            spec: spec.clone(),
            oci_layers,
            sandbox_dir: sandbox_dir.clone(),
            status_fd: status_w.as_raw_fd(),
            lifeline_fd: life_r.as_raw_fd(),
            uid: sys::geteuid(),
            gid: sys::getgid(),
            pty: None,
            want_cgroup: opts.cgroup_always,
            cgroup_version: opts.cgroup_version,
            trace: crate::trace::enabled(),
            // Only a forked supervisor carries the caller's memory.
            slim_exe: opts.slim_exe.clone().filter(|_| fork_ok(opts)),
            // Root's sandboxes never run as host root (see [`crate::idmap`]).
            idmap: (sys::geteuid() == 0).then(crate::idmap::for_root),
            cgroup_parent: None,
            cgroup_parent_note: None,
        };
        // Rootless v2 without delegation: ask the user's systemd manager for
        // a delegated scope (once per process; the D-Bus talk runs in an
        // exec'd helper, see [`crate::systemd_scope`]).
        if opts.cgroup_always || !spec.limits.is_empty() {
            match crate::cgroup_delegation::v2_parent_for_spawn(
                opts.cgroup_version,
                &opts.helper_exe,
            ) {
                Some(Ok(scope)) => cfg.cgroup_parent = Some(scope),
                Some(Err(why)) => cfg.cgroup_parent_note = Some(why),
                None => {}
            }
        }
        let pty = pty_socket(opts.stdio)?;
        let mut inherit = vec![status_w.as_raw_fd(), life_r.as_raw_fd()];
        if let Some((_, theirs, rows, cols)) = &pty {
            inherit.push(theirs.as_raw_fd());
            cfg.pty = Some(crate::protocol::PtyRequest {
                sock_fd: theirs.as_raw_fd(),
                rows: *rows,
                cols: *cols,
            });
        }
        crate::trace::mark("caller: start helper");
        let mut child = if fork_ok(opts) {
            fork_supervisor(cfg, opts.stdio, &inherit)?
        } else {
            let json =
                serde_json::to_string(&cfg).map_err(|e| Error::new("spawn", e.to_string()))?;
            let mut cmd = helper_command(&opts.helper_exe, INIT_ARG, json, inherit);
            apply_stdio(&mut cmd, opts.stdio);
            let c = cmd.spawn().map_err(|e| {
                Error::new(
                    "spawn",
                    format!("start helper {}: {e}", opts.helper_exe.display()),
                )
            })?;
            Supervisor::Exec(c)
        };
        drop(status_w);
        drop(life_r);
        let pty_sock = pty.map(|(mine, theirs, _, _)| {
            drop(theirs);
            mine
        });
        let Some(reports) = read_reports(status_r) else {
            drop(life_w);
            child.kill();
            let _ = child.wait();
            return Err(Error::new(
                "spawn",
                format!(
                    "the sandbox helper {} did not report within {}s; does its main() call \
                     kubelab_sandbox::dispatch() first?",
                    opts.helper_exe.display(),
                    REPORT_TIMEOUT_MS / 1000
                ),
            ));
        };
        crate::trace::mark("caller: status pipe closed");
        let mut started = None;
        for r in reports {
            match r {
                Report::Started {
                    init_pid,
                    cgroup,
                    cgroup_note,
                } => started = Some((init_pid, cgroup, cgroup_note)),
                Report::Failed(e) => {
                    drop(life_w);
                    let _ = child.wait();
                    return Err(e);
                }
                Report::ExecStarted { .. } => {}
            }
        }
        let pty_master = match &pty_sock {
            Some(s) => sys::recv_fd(s.as_fd()).ok().flatten(),
            None => None,
        };
        let Some((init_pid, cgroup, cgroup_note)) = started else {
            drop(life_w);
            let st = child.wait();
            return Err(Error::new(
                "spawn",
                format!(
                    "the sandbox helper {} exited before starting the sandbox ({st:?}); \
                     does its main() call kubelab_sandbox::dispatch() first?",
                    opts.helper_exe.display()
                ),
            ));
        };
        Ok(Sandbox {
            id,
            init_pid,
            supervisor: child,
            lifeline: Some(life_w),
            pty_master,
            cgroup,
            cgroup_note,
            sandbox_dir,
            spec,
            helper_exe: opts.helper_exe.clone(),
            exit: None,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Host PID of the sandbox's PID 1.
    pub fn pid(&self) -> u32 {
        self.init_pid as u32
    }

    /// Host PID of the supervisor (outside the sandbox's PID namespace).
    pub fn supervisor_pid(&self) -> u32 {
        self.supervisor.id()
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The sandbox's cgroup, if it has one.
    pub fn cgroup(&self) -> Option<&Cgroup> {
        self.cgroup.as_ref()
    }

    /// Why the sandbox runs without (some) cgroup limits, and what would enable them.
    pub fn cgroup_note(&self) -> Option<&str> {
        self.cgroup_note.as_deref()
    }

    /// Host-readable path of the overlay upper dir (every file the sandbox
    /// wrote), valid while the sandbox runs.
    pub fn upper_dir(&self) -> Option<PathBuf> {
        if !self
            .spec
            .namespaces
            .contains(&crate::spec::Namespace::Mount)
        {
            return None;
        }
        let inner = self.sandbox_dir.join("fs/upper");
        Some(
            PathBuf::from(format!("/proc/{}/root", self.supervisor.id()))
                .join(inner.strip_prefix("/").unwrap_or(&inner)),
        )
    }

    /// Environment for `on=host` check scripts (see TEAM.md), minus
    /// `KUBELAB`, `KUBELAB_LESSON` and `KUBELAB_SANDBOX`, which the app knows.
    pub fn check_env(&self) -> Vec<(String, String)> {
        let cg = self.cgroup.as_ref();
        let path = |p: Option<&PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_default();
        vec![
            ("KUBELAB_PID".into(), self.init_pid.to_string()),
            (
                "KUBELAB_CGROUP_VERSION".into(),
                cg.map(|c| c.version.to_string()).unwrap_or_default(),
            ),
            (
                "KUBELAB_CGROUP_MEMORY".into(),
                path(cg.and_then(|c| c.memory.as_ref())),
            ),
            (
                "KUBELAB_CGROUP_CPU".into(),
                path(cg.and_then(|c| c.cpu.as_ref())),
            ),
            (
                "KUBELAB_CGROUP_PIDS".into(),
                path(cg.and_then(|c| c.pids.as_ref())),
            ),
            (
                "KUBELAB_UPPER".into(),
                self.upper_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            ),
        ]
    }

    /// The PTY master (only with [`StdioMode::Pty`]); read output, write input.
    pub fn take_pty_master(&mut self) -> Option<OwnedFd> {
        self.pty_master.take()
    }

    /// Resizes a PTY given its master (works after `take_pty_master` too).
    pub fn resize_pty(master: &impl AsRawFd, rows: u16, cols: u16) -> std::io::Result<()> {
        sys::set_winsize(master.as_raw_fd(), rows, cols)
    }

    /// Resizes the sandbox's PTY if the handle still holds the master.
    pub fn resize(&self, rows: u16, cols: u16) -> std::io::Result<()> {
        match &self.pty_master {
            Some(m) => sys::set_winsize(m.as_raw_fd(), rows, cols),
            None => Err(std::io::Error::other("no PTY master held by this handle")),
        }
    }

    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.supervisor.child()?.stdin.take()
    }
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.supervisor.child()?.stdout.take()
    }
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.supervisor.child()?.stderr.take()
    }

    /// Sends a signal to the payload (through the supervisor and PID 1).
    pub fn signal(&self, sig: i32) -> std::io::Result<()> {
        if self.exit.is_some() {
            return Ok(());
        }
        if sig == libc::SIGKILL {
            // A SIGKILL'd supervisor could not remove the cgroup: tear down
            // through the lifeline instead, which kills everything just as hard.
            self.teardown();
            return Ok(());
        }
        sys::kill(self.supervisor.id() as i32, sig)
    }

    /// Asks the supervisor to kill the sandbox and clean up, without waiting
    /// (safe from any thread holding `&self`; [`Sandbox::wait`] collects it).
    pub fn teardown(&self) {
        if let Some(l) = &self.lifeline {
            // Any byte on the lifeline means "tear down", like its EOF.
            let _ = sys::write_fd(l.as_raw_fd(), b"k");
        }
    }

    /// A cheap, thread-safe handle for forwarding signals while another thread waits.
    pub fn signaller(&self) -> Signaller {
        Signaller {
            supervisor: self.supervisor.id() as i32,
        }
    }

    /// Waits for the sandbox to end; returns the payload's exit code (128+N
    /// when killed by signal N). Cleanup is complete when this returns.
    pub fn wait(&mut self) -> std::io::Result<i32> {
        if let Some(c) = self.exit {
            return Ok(c);
        }
        let code = self.supervisor.wait()?;
        crate::trace::mark("caller: supervisor exited");
        self.after_exit(code);
        Ok(code)
    }

    /// Like [`Sandbox::wait`] without blocking.
    pub fn try_wait(&mut self) -> std::io::Result<Option<i32>> {
        if let Some(c) = self.exit {
            return Ok(Some(c));
        }
        match self.supervisor.try_wait()? {
            Some(code) => {
                self.after_exit(code);
                Ok(Some(code))
            }
            None => Ok(None),
        }
    }

    fn after_exit(&mut self, code: i32) {
        self.exit = Some(code);
        self.lifeline = None;
        // The supervisor cleans up; this covers a supervisor that was killed
        // (checked first: a destroy of a removed cgroup still costs ~20 syscalls).
        if let Some(cg) = &self.cgroup {
            if cg.created.iter().any(|d| d.exists()) {
                cg.destroy();
            }
        }
        if self.sandbox_dir.exists() {
            crate::runtime::remove_entry(&self.sandbox_dir);
        }
    }

    /// Kills everything in the sandbox and waits until it is cleaned up.
    pub fn kill(&mut self) -> std::io::Result<i32> {
        // Closing the lifeline tells the supervisor to tear down.
        self.lifeline = None;
        self.wait()
    }

    /// Runs a command inside this sandbox (see [`crate::exec`]).
    pub fn exec(
        &self,
        req: &crate::exec::ExecRequest,
        stdio: StdioMode,
    ) -> Result<crate::exec::ExecProcess> {
        let mut req = req.clone();
        req.privileged = req.privileged || self.spec.privileged;
        crate::exec::exec_pid(self.init_pid, &req, stdio, &self.helper_exe)
    }
}

/// A running sandbox's handle in a form that survives an exec of the caller
/// (a foreground run moving into the small helper, see [`crate::front`]):
/// the descriptors stay open across the exec, the supervisor stays a child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Handoff {
    id: String,
    init_pid: i32,
    supervisor_pid: i32,
    lifeline_fd: RawFd,
    pty_master_fd: Option<RawFd>,
    cgroup: Option<Cgroup>,
    cgroup_note: Option<String>,
    sandbox_dir: PathBuf,
    spec: Spec,
    helper_exe: PathBuf,
}

impl Sandbox {
    /// Turns the handle into a [`Handoff`] for an exec. Its descriptors lose
    /// close-on-exec; nothing is killed. If the exec fails, take the handle
    /// back with [`Sandbox::from_handoff`].
    pub(crate) fn into_handoff(
        self,
    ) -> std::result::Result<Handoff, Box<(Sandbox, std::io::Error)>> {
        let mut sb = self;
        let Some(lifeline) = sb.lifeline.as_ref().map(|l| l.as_raw_fd()) else {
            return Err(Box::new((
                sb,
                std::io::Error::other("the sandbox has ended"),
            )));
        };
        let fds = std::iter::once(lifeline).chain(sb.pty_master.as_ref().map(|m| m.as_raw_fd()));
        for fd in fds {
            if let Err(e) = sys::set_cloexec(fd, false) {
                return Err(Box::new((sb, e)));
            }
        }
        let h = Handoff {
            id: std::mem::take(&mut sb.id),
            init_pid: sb.init_pid,
            supervisor_pid: sb.supervisor.id() as i32,
            lifeline_fd: sb
                .lifeline
                .take()
                .map(IntoRawFd::into_raw_fd)
                .unwrap_or(lifeline),
            pty_master_fd: sb.pty_master.take().map(IntoRawFd::into_raw_fd),
            cgroup: sb.cgroup.take(),
            cgroup_note: sb.cgroup_note.take(),
            sandbox_dir: std::mem::take(&mut sb.sandbox_dir),
            spec: std::mem::take(&mut sb.spec),
            helper_exe: std::mem::take(&mut sb.helper_exe),
        };
        // No Drop: it would kill the sandbox this handle now describes. (An
        // exec'd supervisor's `Child` only holds its pid, kept in `h`.)
        std::mem::forget(sb);
        Ok(h)
    }

    /// Gives the handle a PTY master again (after [`Sandbox::take_pty_master`]).
    pub(crate) fn put_pty_master(&mut self, master: OwnedFd) {
        self.pty_master = Some(master);
    }

    /// The handle again, in the process the [`Handoff`] reached.
    pub(crate) fn from_handoff(h: Handoff) -> std::io::Result<Sandbox> {
        let lifeline = sys::adopt_fd(h.lifeline_fd)?;
        sys::set_cloexec(lifeline.as_raw_fd(), true)?;
        let pty_master = match h.pty_master_fd {
            Some(fd) => {
                let m = sys::adopt_fd(fd)?;
                sys::set_cloexec(m.as_raw_fd(), true)?;
                Some(m)
            }
            None => None,
        };
        Ok(Sandbox {
            id: h.id,
            init_pid: h.init_pid,
            supervisor: Supervisor::Forked {
                pid: h.supervisor_pid,
                code: None,
            },
            lifeline: Some(lifeline),
            pty_master,
            cgroup: h.cgroup,
            cgroup_note: h.cgroup_note,
            sandbox_dir: h.sandbox_dir,
            spec: h.spec,
            helper_exe: h.helper_exe,
            exit: None,
        })
    }
}

/// Sends signals to a sandbox's payload from any thread (see [`Sandbox::signaller`]).
#[derive(Debug, Clone, Copy)]
pub struct Signaller {
    supervisor: i32,
}

impl Signaller {
    /// Forwards `sig` (e.g. `libc::SIGINT` = 2) to the payload.
    pub fn send(&self, sig: i32) -> std::io::Result<()> {
        sys::kill(self.supervisor, sig)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.kill();
        }
    }
}

/// The supervisor process: an exec'd helper, or (single-threaded caller) a
/// plain fork of the caller.
#[derive(Debug)]
enum Supervisor {
    Exec(Child),
    Forked { pid: i32, code: Option<i32> },
}

impl Supervisor {
    fn id(&self) -> u32 {
        match self {
            Supervisor::Exec(c) => c.id(),
            Supervisor::Forked { pid, .. } => *pid as u32,
        }
    }

    fn child(&mut self) -> Option<&mut Child> {
        match self {
            Supervisor::Exec(c) => Some(c),
            Supervisor::Forked { .. } => None,
        }
    }

    fn code_of(st: std::process::ExitStatus) -> i32 {
        st.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(0)
        })
    }

    /// The supervisor's exit code, blocking.
    fn wait(&mut self) -> std::io::Result<i32> {
        match self {
            Supervisor::Exec(c) => c.wait().map(Self::code_of),
            Supervisor::Forked { pid, code } => {
                if code.is_none() {
                    let (_, st) = sys::waitpid(*pid, 0)?;
                    *code = Some(sys::exit_code(st));
                }
                Ok(code.unwrap_or(EXIT_SETUP_FAILED))
            }
        }
    }

    fn try_wait(&mut self) -> std::io::Result<Option<i32>> {
        match self {
            Supervisor::Exec(c) => c.try_wait().map(|s| s.map(Self::code_of)),
            Supervisor::Forked { pid, code } => {
                if code.is_none() {
                    let (p, st) = sys::waitpid(*pid, libc::WNOHANG)?;
                    if p == *pid {
                        *code = Some(sys::exit_code(st));
                    }
                }
                Ok(*code)
            }
        }
    }

    fn kill(&mut self) {
        let _ = sys::kill(self.id() as i32, libc::SIGKILL);
    }
}

/// Whether the supervisor may be forked instead of exec'd: only from a
/// single-threaded caller (`kubelab run`, the helper binaries), with the
/// default helper, and without pipes (`ChildStdout` & co. need a `Child`).
/// That saves the exec of the caller's binary, its dynamic relocations and
/// the JSON round trip (~1-2 ms per spawn, ~0.6 ms of it the exec alone for
/// a 47 MB binary), and the supervisor shares its pages with the caller.
fn fork_ok(opts: &SpawnOptions) -> bool {
    opts.helper_exe == Path::new("/proc/self/exe")
        && opts.stdio != StdioMode::Piped
        && std::env::var_os("KUBELAB_SANDBOX_NO_FORK").is_none()
        && sys::single_threaded()
}

/// Forks the supervisor from this single-threaded process. The child keeps
/// only stdio and the descriptors in `keep`, resets signals, and runs the
/// same code as an exec'd `__sandbox-init`.
fn fork_supervisor(cfg: InitConfig, stdio: StdioMode, keep: &[i32]) -> Result<Supervisor> {
    let pid = sys::fork().map_err(|e| Error::new("spawn", format!("fork supervisor: {e}")))?;
    if pid != 0 {
        return Ok(Supervisor::Forked { pid, code: None });
    }
    sys::reset_signals();
    sys::ignore_sigpipe();
    if matches!(stdio, StdioMode::Null | StdioMode::Pty { .. }) {
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            for fd in 0..3 {
                let _ = sys::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    let mut keep_fds = vec![0, 1, 2];
    keep_fds.extend_from_slice(keep);
    sys::close_fds_except(&keep_fds);
    let _ = sys::prctl(libc::PR_SET_NAME, c"kubelab-init".as_ptr() as libc::c_ulong);
    sys::exit_now(crate::init::supervisor_run(cfg))
}
