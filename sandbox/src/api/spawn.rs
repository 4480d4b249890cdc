//! The caller's side: start a sandbox and hold its handle.

use super::exec::{exec_pid, ExecProcess, ExecRequest};
pub use super::validate::validate;
use crate::cgroup::{delegation, Cgroup};
use crate::error::{Error, Result};
use crate::pod::PodOptions;
use crate::process::helper::{helper_command, read_reports, REPORT_TIMEOUT_MS};
use crate::process::protocol::{InitConfig, PtyRequest, Report, INIT_ARG};
use crate::process::runtime;
pub use crate::process::stdio::StdioMode;
use crate::process::stdio::{apply_stdio, pty_socket};
use crate::process::supervisor_handle::{fork_supervisor, Supervisor};
use crate::rootfs::oci;
use crate::spec::{Namespace, Rootfs, Spec};
use crate::sys;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::Once;

/// Options of [`Sandbox::spawn`] that are not part of the lesson's spec.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// The executable re-executed as the sandbox helper. It must call
    /// [`crate::dispatch`] first thing in `main`. Default: `/proc/self/exe`.
    pub helper_exe: PathBuf,
    pub stdio: StdioMode,
    /// Sandbox id (names the cgroup `kubelab/<id>` and the runtime entry). Default: random.
    pub id: Option<String>,
    /// Runtime directory. Default: [`runtime::default_dir`].
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
    /// `SLIM_AFTER` (100 ms): short runs keep the fork's speed, long
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
    pub(super) id: String,
    pub(super) init_pid: i32,
    pub(super) supervisor: Supervisor,
    pub(super) lifeline: Option<OwnedFd>,
    pub(super) pty_master: Option<OwnedFd>,
    pub(super) cgroup: Option<Cgroup>,
    pub(super) cgroup_note: Option<String>,
    pub(super) sandbox_dir: PathBuf,
    pub(super) spec: Spec,
    pub(super) helper_exe: PathBuf,
    pub(super) exit: Option<i32>,
}

static SWEEP: Once = Once::new();

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

impl Sandbox {
    /// Starts a sandbox. Returns once the payload has been exec'd (or failed to).
    /// Safe to call from any thread of a multi-threaded program: the namespace
    /// work happens in a freshly exec'd, single-threaded helper.
    pub fn spawn(spec: &Spec, opts: &SpawnOptions) -> Result<Sandbox> {
        Self::spawn_with(spec, opts, None)
    }

    /// [`Sandbox::spawn`] as a member of a Pod (see [`crate::pod`]): the
    /// Pod's infra (`pod.pause`), or a container joining the infra's
    /// namespaces (`pod.join`: the spec's user, net, ipc and uts namespaces,
    /// and pid when shared, are the infra's; the others are its own), in a
    /// cgroup the caller made (`pod.cgroup`).
    pub fn spawn_in_pod(spec: &Spec, opts: &SpawnOptions, pod: &PodOptions) -> Result<Sandbox> {
        Self::spawn_with(spec, opts, Some(pod.clone()))
    }

    fn spawn_with(spec: &Spec, opts: &SpawnOptions, pod: Option<PodOptions>) -> Result<Sandbox> {
        crate::trace::init_from_env();
        crate::trace::mark("caller: spawn");
        validate(spec)?;
        if let Some(p) = pod.as_ref().filter(|p| p.parent_userns.is_some()) {
            // Root's sandboxes map a full unprivileged host range, written
            // from the host's user namespace (see [`crate::ns::idmap`]); a
            // container joins its infra's namespace.
            // A hostNetwork container enters it only to reach the node's
            // network namespace before it joins its infra's.
            if sys::geteuid() == 0 || (p.join.is_some() && p.host_netns.is_none()) {
                return Err(Error::new(
                    "pod",
                    "a parent user namespace is for a rootless Pod's infra only \
                     (and a hostNetwork container)",
                ));
            }
        }
        if pod.as_ref().is_some_and(|p| p.host_netns.is_some())
            && spec.namespaces.contains(&Namespace::Net)
        {
            return Err(Error::new(
                "pod",
                "a Pod member in the node's network namespace (host_netns) makes no network \
                 namespace of its own: leave `net` out of its spec",
            ));
        }
        let mut spec = spec.clone();
        if !spec.namespaces.contains(&Namespace::User) {
            spec.namespaces.push(Namespace::User);
        }
        if let Some(j) = pod.as_ref().and_then(|p| p.join.as_ref()) {
            // Those are the infra's: joined, never created.
            spec.namespaces.retain(|n| match n {
                Namespace::Net | Namespace::Ipc | Namespace::Uts => false,
                Namespace::Pid => !j.share_pid,
                _ => true,
            });
        }
        let rundir = opts
            .runtime_dir
            .clone()
            .unwrap_or_else(runtime::default_dir);
        runtime::ensure_dir(&rundir).map_err(|e| Error::io("runtime", rundir.display(), e))?;
        let sweep_dir = rundir.clone();
        SWEEP.call_once(move || {
            runtime::sweep(&sweep_dir);
        });
        let oci_layers = match &spec.rootfs {
            Rootfs::Oci(dir) => {
                let cache = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
                oci::prepare(dir, &cache)?
            }
            _ => Vec::new(),
        };
        let id = opts.id.clone().unwrap_or_else(runtime::new_id);
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
        let result = Self::launch(spec, opts, id, oci_layers, sandbox_dir.clone(), pod);
        if result.is_err() {
            runtime::remove_entry(&sandbox_dir);
        }
        result
    }

    fn launch(
        spec: Spec,
        opts: &SpawnOptions,
        id: String,
        oci_layers: Vec<PathBuf>,
        sandbox_dir: PathBuf,
        pod: Option<PodOptions>,
    ) -> Result<Sandbox> {
        let given_cgroup = pod.as_ref().is_some_and(|p| p.cgroup.is_some());
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
            // Root's sandboxes never run as host root (see [`crate::ns::idmap`]).
            idmap: (sys::geteuid() == 0).then(crate::ns::idmap::for_root),
            cgroup_parent: None,
            cgroup_parent_note: None,
            pod,
        };
        // Rootless v2 without delegation: ask the user's systemd manager for
        // a delegated scope (once per process; the D-Bus talk runs in an
        // exec'd helper, see [`crate::cgroup::systemd_scope`]).
        if (opts.cgroup_always || !spec.limits.is_empty()) && !given_cgroup {
            match delegation::v2_parent_for_spawn(opts.cgroup_version, &opts.helper_exe) {
                Some(Ok(scope)) => cfg.cgroup_parent = Some(scope),
                Some(Err(why)) => cfg.cgroup_parent_note = Some(why),
                None => {}
            }
        }
        let pty = pty_socket(opts.stdio)?;
        let mut inherit = vec![status_w.as_raw_fd(), life_r.as_raw_fd()];
        if let Some((_, theirs, rows, cols)) = &pty {
            inherit.push(theirs.as_raw_fd());
            cfg.pty = Some(PtyRequest {
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
        if !self.spec.namespaces.contains(&Namespace::Mount) {
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
    pub fn resize_pty(master: &impl AsFd, rows: u16, cols: u16) -> std::io::Result<()> {
        sys::set_winsize(master.as_fd(), rows, cols)
    }

    /// Resizes the sandbox's PTY if the handle still holds the master.
    pub fn resize(&self, rows: u16, cols: u16) -> std::io::Result<()> {
        match &self.pty_master {
            Some(m) => sys::set_winsize(m.as_fd(), rows, cols),
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
            runtime::remove_entry(&self.sandbox_dir);
        }
    }

    /// Kills everything in the sandbox and waits until it is cleaned up.
    pub fn kill(&mut self) -> std::io::Result<i32> {
        // Closing the lifeline tells the supervisor to tear down.
        self.lifeline = None;
        self.wait()
    }

    /// Runs a command inside this sandbox (see [`super::exec`]).
    pub fn exec(&self, req: &ExecRequest, stdio: StdioMode) -> Result<ExecProcess> {
        let mut req = req.clone();
        req.privileged = req.privileged || self.spec.privileged;
        if req.identity.is_default() {
            req.identity = self.spec.identity.clone();
        }
        exec_pid(self.init_pid, &req, stdio, &self.helper_exe)
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
