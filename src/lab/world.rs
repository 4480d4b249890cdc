//! A `[world]` lab (lessons/README.md, "World labs"; docs/worlds.md): the
//! lesson's blocks and panes run in the nodes of a lab world instead of in
//! sandboxes.
//!
//! A world's nodes stand where a lesson's sandboxes stand: each node is a
//! [`LabSandbox`] named after it ([`WorldNode`]), started by
//! [`WorldFactory`], so the reader's cells, shells, inspectors and check
//! loop and `kubelab test`'s harness work unchanged; `node=NAME` on a block
//! and `shell@NAME` in `panes` name one.
//!
//! The world itself ([`WorldSlot`]) is built on the first node start — the
//! lesson's first shell or check — and torn down with the lab (leaving the
//! lesson, quitting, reset; the end of a `kubelab test` run). It is *tied*
//! ([`kubelab_sandbox::world::up_tied`]): its keeper ends it when kubelab
//! closes the lifeline or dies, even of `kill -9`. Each lab has a runtime
//! directory of its own under the temporary directory, so two parallel runs
//! never meet, nor meet the learner's own `kubelab world up`.

pub mod agents;
pub mod lint;

use super::backend::{LabSandbox, ScriptOutput};
use super::check::{collect_script, Stream};
use super::harness::SandboxFactory;
use crate::course::model::{Lesson, Requirement};
use crate::panes::inspect::model::{CgroupStats, FsView, NetView, NsRow, ProcRow};
use crate::panes::inspect::sampler::Observe;
use crate::panes::pty::{PtySize, Spawned};
use kubelab_sandbox::spec::Spec;
use kubelab_sandbox::world::{self, TiedWorld, UpOptions, WorldState};
use kubelab_sandbox::world_spec::WorldSpec;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What an inspector shows for a node's cgroup, processes and files: a
/// node is a network namespace, not a container.
pub const NOT_A_CONTAINER: &str =
    "a world's node is a network namespace, not a container: see the network pane";

/// The node shell: bash where the host has it (the host's tools on PATH).
const SHELL: &str = "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi";

/// The world of one lab: built on first need, torn down by [`stop`]
/// (or on drop).
///
/// [`stop`]: WorldSlot::stop
pub struct WorldSlot {
    spec: WorldSpec,
    lesson: String,
    source: String,
    kubelab: PathBuf,
    state: Mutex<Slot>,
}

enum Slot {
    Idle,
    Up(Box<TiedWorld>),
    Stopped,
}

impl WorldSlot {
    /// The slot of `lesson`'s `[world]`, `None` without one. `kubelab`: the
    /// binary re-executed as the world's keeper and its exec helper.
    pub fn new(lesson: &Lesson, kubelab: &Path) -> Option<Arc<WorldSlot>> {
        let spec = lesson.front.world.clone()?;
        Some(Arc::new(WorldSlot {
            spec,
            lesson: lesson.front.id.clone(),
            source: lesson.path.display().to_string(),
            kubelab: kubelab.to_path_buf(),
            state: Mutex::new(Slot::Idle),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running world's record, building the world on the first call
    /// (blocking: tens of milliseconds; callers are helper threads).
    pub fn world(&self) -> io::Result<WorldState> {
        let mut st = self.lock();
        match &*st {
            Slot::Up(w) => return Ok(w.state().clone()),
            Slot::Stopped => return Err(io::Error::other("the lab was stopped")),
            Slot::Idle => {}
        }
        let dir = make_run_dir()?;
        let node_agents = match agents::node_agents(&self.spec, &dir, &self.kubelab) {
            Ok(a) => a,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let opts = UpOptions {
            name: self.lesson.clone(),
            source: self.source.clone(),
            dir: dir.clone(),
            helper_exe: self.kubelab.clone(),
            agents: node_agents,
        };
        match world::up_tied(&self.spec, &opts) {
            Ok(w) => {
                let state = w.state().clone();
                *st = Slot::Up(Box::new(w));
                Ok(state)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(io::Error::other(format!(
                    "the lab's world did not start: {e}"
                )))
            }
        }
    }

    /// The world if it is up now (never builds it).
    pub fn running(&self) -> Option<WorldState> {
        match &*self.lock() {
            Slot::Up(w) => Some(w.state().clone()),
            _ => None,
        }
    }

    /// Tears the world down and waits until none of its processes is left;
    /// no node starts after this. Idempotent.
    pub fn stop(&self) {
        let previous = std::mem::replace(&mut *self.lock(), Slot::Stopped);
        if let Slot::Up(mut w) = previous {
            let _ = w.down();
            let dir = w.dir().to_path_buf();
            drop(w);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for WorldSlot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The prefix of a lab world's runtime folder; `<pid>x…` follows, the
/// kubelab that made it.
const RUN_DIR_PREFIX: &str = "kubelab-world-lab-";

/// Removes the runtime folders that killed kubelabs left (their worlds
/// ended with them: the keeper removed its record): every
/// `kubelab-world-lab-<pid>x…` folder of ours whose kubelab (`<pid>`) is
/// gone and that records no running world. A folder of a live kubelab is
/// never touched.
pub fn sweep_stale_run_dirs(tmp: &Path) {
    super::run_dirs::sweep(tmp, RUN_DIR_PREFIX, |dir| {
        matches!(world::running(dir), Ok(None))
    });
}

/// A new private runtime directory `kubelab-world-lab-<unique>` in the
/// temporary directory.
fn make_run_dir() -> io::Result<PathBuf> {
    sweep_stale_run_dirs(&std::env::temp_dir());
    super::run_dirs::make(RUN_DIR_PREFIX, "the world's directory")
}

/// The lab's factory for a world lesson: a "sandbox" is a node of the
/// world (the spec is ignored: a world lesson declares no sandboxes).
/// `I` is the inner factory, asked about requirements.
pub struct WorldFactory<I> {
    pub inner: I,
    pub world: Arc<WorldSlot>,
    /// A two-track lesson's cluster sandbox: an ordinary sandbox beside
    /// the world (src/course/track.rs), started by `inner`.
    pub except: Option<String>,
}

impl<I> SandboxFactory for WorldFactory<I>
where
    I: std::ops::Deref + Sync,
    I::Target: SandboxFactory,
{
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        if self.except.as_deref() == Some(name) {
            return self.inner.start(name, spec, console);
        }
        let st = self.world.world()?;
        Ok(Box::new(WorldNode::start(
            st,
            name,
            &self.world.kubelab,
            console,
        )?))
    }

    fn unmet(&self, req: Requirement) -> Option<String> {
        self.inner.unmet(req)
    }
}

/// One node of a running world, as the lab sees a sandbox.
pub struct WorldNode {
    name: String,
    state: WorldState,
    pid: i32,
    kubelab: PathBuf,
    console: Mutex<Option<Spawned>>,
}

impl WorldNode {
    /// The node `name` of the world `st`; with `console`, a shell in it on
    /// a PTY of that size (as `kubelab world shell NAME`).
    pub fn start(
        st: WorldState,
        name: &str,
        kubelab: &Path,
        console: Option<PtySize>,
    ) -> io::Result<WorldNode> {
        let pid = st
            .node_pid(name)
            .ok_or_else(|| io::Error::other(format!("the lab's world has no node \"{name}\"")))?;
        let node = WorldNode {
            name: name.to_string(),
            state: st,
            pid,
            kubelab: kubelab.to_path_buf(),
            console: Mutex::new(None),
        };
        if let Some(size) = console {
            let spawned = node.spawn_shell(size)?;
            *node.console.lock().unwrap_or_else(|e| e.into_inner()) = Some(spawned);
        }
        Ok(node)
    }

    fn command(&self, argv: &[&str]) -> io::Result<Command> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        world::exec_command(&self.state, &self.name, &argv, &self.kubelab)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// The exec helper on a PTY of its own session (job control), running
    /// the node shell.
    fn spawn_shell(&self, size: PtySize) -> io::Result<Spawned> {
        let cmd = self.command(&["/bin/sh", "-c", SHELL])?;
        let program = cmd.get_program().to_string_lossy().into_owned();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let env: Vec<(String, String)> = cmd
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .chain([("LANG".to_string(), super::engine::LOCALE.to_string())])
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::panes::pty::spawn_host(&program, &args, &env, size)
    }
}

impl LabSandbox for WorldNode {
    fn name(&self) -> &str {
        &self.name
    }

    fn pid(&self) -> u32 {
        self.pid as u32
    }

    fn take_console(&self) -> Option<Spawned> {
        self.console
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    fn exec_script(&self, script: &str, timeout: Duration) -> io::Result<ScriptOutput> {
        let mut cmd = self.command(&["/bin/sh", "-c", script])?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("LANG", super::engine::LOCALE);
        // A runaway check stops on its own (the limit is inherited).
        kubelab_sandbox::rlimit::limit_cpu(&mut cmd, crate::course::limits::CHECK_CPU_SECONDS);
        let mut child = cmd.spawn()?;
        let out = child.stdout.take().map(|s| Box::new(s) as Stream);
        let err = child.stderr.take().map(|s| Box::new(s) as Stream);
        let pid = child.id();
        let child = Mutex::new(child);
        let wait = || -> io::Result<Option<i32>> {
            let mut c = child.lock().unwrap_or_else(|e| e.into_inner());
            Ok(c.try_wait()?.map(crate::panes::pty::exit_code))
        };
        let kill = || -> io::Result<i32> {
            // SIGTERM first: the helper passes it to the script, which is
            // in the world's PID namespace and would outlive a SIGKILL'd
            // helper until the world ends.
            if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
            }
            let mut c = child.lock().unwrap_or_else(|e| e.into_inner());
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline {
                if let Some(st) = c.try_wait()? {
                    return Ok(crate::panes::pty::exit_code(st));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            Ok(crate::panes::pty::exit_code(c.wait()?))
        };
        collect_script(out, err, timeout, wait, kill)
    }

    fn host_env(&self) -> Vec<(String, String)> {
        vec![
            ("KUBELAB_SANDBOX".into(), self.name.clone()),
            ("KUBELAB_WORLD_NODE".into(), self.name.clone()),
            ("KUBELAB_PID".into(), self.pid.to_string()),
        ]
    }

    fn observer(&self) -> Arc<dyn Observe> {
        Arc::new(NodeObserver(super::observe::EngineObserver::for_pid(
            self.pid as u32,
            NOT_A_CONTAINER,
        )))
    }
}

/// A node's inspectors: its namespaces and network, through the same
/// observation API as a sandbox's (the holder's PID).
struct NodeObserver(super::observe::EngineObserver);

impl Observe for NodeObserver {
    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        self.0.namespaces()
    }
    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        Err(NOT_A_CONTAINER.into())
    }
    fn cgroup(&self) -> Result<CgroupStats, String> {
        Err(NOT_A_CONTAINER.into())
    }
    fn filesystem(&self) -> Result<FsView, String> {
        Err(NOT_A_CONTAINER.into())
    }
    fn network(&self) -> Result<NetView, String> {
        self.0.network()
    }
}
