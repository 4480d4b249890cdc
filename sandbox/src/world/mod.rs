//! Lab worlds (issue 19): several nodes, each a network namespace, on one
//! underlay network namespace with a bridge as the physical switch, all
//! inside one user namespace — rootless or root, and never a link in the
//! host's network namespace.
//!
//! The processes, and why each one:
//!
//! ```text
//! kubelab world up ─► kubelab-world (keeper, detached; `down` sends it SIGTERM)
//!                       └► world init: PID 1 of a new PID namespace, in a new
//!                          user namespace and the underlay network namespace
//!                            ├► kubelab-holder node1 (net + uts namespaces)
//!                            ├► kubelab-holder node2
//!                            └► whatever `world exec` runs (it joins this PID namespace)
//! ```
//!
//! Killing the keeper (even SIGKILL) takes everything along: init has it as
//! its parent death signal and also watches a lifeline pipe only the keeper
//! holds; when init, PID 1, dies, the kernel kills every process of its PID
//! namespace, holders and `exec`'d shells included; with no process left in
//! them the namespaces, and the links inside, are freed. Nothing is mounted
//! to keep a namespace (as `ip netns add` would), so nothing can outlive
//! the processes.
//!
//! Root uses a user namespace too (its ids mapped to themselves): a world
//! then meets the same kernel rules as root and rootless (a lesson tested
//! in CI as root meets those of a learner's laptop; host files such as
//! `/dev/net/tun`'s mode still differ, see docs/worlds.md), and no process
//! of a world holds a capability over the host's network namespace, so
//! nothing a lesson runs can put a link there. The cost: what only the
//! initial user namespace may do (IPVS's netlink, loading modules) is
//! missing in both.

mod agents;
mod exec;
pub mod facts;
pub(crate) mod init;
pub(crate) mod keeper;
mod state;

pub use agents::{NodeAgent, NETNS_PID_FLAG};
pub use exec::exec_main;
pub use keeper::keeper_main;
pub use state::{default_dir, ensure_dir, AgentProcess, WorldState};

use crate::error::Error;
use crate::world_spec::WorldSpec;
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The helper mode of a world's keeper process.
pub const KEEPER_ARG: &str = "__world-keeper";
/// The helper mode that runs a command in a node.
pub const EXEC_ARG: &str = "__world-exec";
/// The helper's configuration (JSON) travels in this variable.
const CONFIG_ENV: &str = "KUBELAB_WORLD_CONFIG";
/// The pseudo-node for `exec`: the underlay's namespace (the switch).
pub const UNDERLAY: &str = "underlay";
/// The bridge in the underlay namespace, the nodes' switch.
pub const BRIDGE: &str = "br0";
/// How long building a world may take before it counts as hung.
const UP_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start a world.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Its name in messages (a world file's stem).
    pub name: String,
    /// Where it came from, for messages.
    pub source: String,
    /// The runtime directory ([`default_dir`]).
    pub dir: PathBuf,
    /// The program re-executed as the keeper (it must call
    /// [`crate::dispatch`] first): `kubelab-helper` or kubelab itself.
    pub helper_exe: PathBuf,
    /// The programs run beside nodes with Pods (their node agents),
    /// started before `up` returns and stopped before the world ends.
    pub agents: Vec<NodeAgent>,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeeperConfig {
    name: String,
    source: String,
    dir: PathBuf,
    spec: WorldSpec,
    /// Tied to the caller: the keeper's stdin is a pipe the caller holds,
    /// and its end (the caller closed it, or died) ends the world.
    #[serde(default)]
    tied: bool,
    #[serde(default)]
    agents: Vec<NodeAgent>,
}

/// The keeper's one-line answer on its stdout.
#[derive(Debug, Serialize, Deserialize)]
enum UpReport {
    Up(WorldState),
    Failed(String),
}

fn err(msg: impl Into<String>) -> Error {
    Error::new("world", msg.into())
}

/// Serialises `up` and `down` of one runtime directory (flock on `lock`).
struct DirLock(#[allow(dead_code)] fs::File);

fn lock(dir: &Path) -> Result<DirLock, Error> {
    ensure_dir(dir).map_err(|e| err(format!("runtime directory: {e}")))?;
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))
        .map_err(|e| err(format!("{}: {e}", dir.join("lock").display())))?;
    use rustix::fs::{flock, FlockOperation};
    flock(f.as_fd(), FlockOperation::NonBlockingLockExclusive).map_err(|_| {
        err("another `kubelab world up` or `down` is running right now; try again when it is done")
    })?;
    Ok(DirLock(f))
}

/// The running world recorded in `dir`, if any. A record left by a world
/// whose process is gone (killed) is removed.
pub fn running(dir: &Path) -> Result<Option<WorldState>, Error> {
    match WorldState::read(dir).map_err(|e| err(e.to_string()))? {
        Some(st) if st.is_running() => Ok(Some(st)),
        Some(_) => {
            state::remove(dir);
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Builds `spec` and returns once every node is up, with the world's
/// record. The world keeps running after the caller exits, until [`down`]
/// or until its process is killed. An error leaves nothing behind.
pub fn up(spec: &WorldSpec, opts: &UpOptions) -> Result<WorldState, Error> {
    start(spec, opts, false).map(|(st, _)| st)
}

/// A world that ends with its caller (a lesson's lab, a test run): see
/// [`up_tied`]. Dropping it (or calling [`TiedWorld::down`]) stops the
/// world and waits until none of its processes is left.
pub struct TiedWorld {
    state: WorldState,
    dir: PathBuf,
    lifeline: Option<std::process::ChildStdin>,
}

impl TiedWorld {
    pub fn state(&self) -> &WorldState {
        &self.state
    }

    /// Its runtime directory (the caller's; left empty of records).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Ends the world (closes the lifeline) and waits until every process
    /// of it is gone. Idempotent.
    pub fn down(&mut self) -> Result<(), Error> {
        if self.lifeline.take().is_none() {
            return Ok(());
        }
        if !wait_gone(&self.state, stop_limit(&self.state)) {
            // The keeper missed its lifeline (stopped?): as `down` does.
            down(&self.dir)?;
        }
        let _lock = lock(&self.dir)?;
        if WorldState::read(&self.dir).ok().flatten().as_ref() == Some(&self.state) {
            state::remove(&self.dir);
        }
        Ok(())
    }
}

impl Drop for TiedWorld {
    fn drop(&mut self) {
        let _ = self.down();
    }
}

/// Builds `spec` as [`up`] does, but tied to the calling process: the
/// keeper watches a pipe only the caller holds (close-on-exec, so no child
/// of the caller inherits it), and when it reads its end — the caller
/// dropped the [`TiedWorld`], or died, even of `kill -9` — it ends the
/// world. What a lesson's lab and `kubelab test` use, each in a runtime
/// directory of its own, so parallel runs never meet (nor the learner's
/// own `kubelab world up`).
pub fn up_tied(spec: &WorldSpec, opts: &UpOptions) -> Result<TiedWorld, Error> {
    let (state, lifeline) = start(spec, opts, true)?;
    Ok(TiedWorld {
        state,
        dir: opts.dir.clone(),
        lifeline,
    })
}

type Started = (WorldState, Option<std::process::ChildStdin>);

fn start(spec: &WorldSpec, opts: &UpOptions, tied: bool) -> Result<Started, Error> {
    use std::process::{Command, Stdio};
    let _lock = lock(&opts.dir)?;
    if let Some(st) = running(&opts.dir)? {
        return Err(err(format!(
            "world \"{}\" (from {}) is already up (process {}); run `kubelab world down` first",
            st.name, st.source, st.keeper_pid
        )));
    }
    let config = KeeperConfig {
        name: opts.name.clone(),
        source: opts.source.clone(),
        dir: opts.dir.clone(),
        spec: spec.clone(),
        tied,
        agents: opts.agents.clone(),
    };
    let json = serde_json::to_string(&config).map_err(|e| err(e.to_string()))?;
    let mut cmd = Command::new(&opts.helper_exe);
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0("kubelab-world");
    }
    let mut child = cmd
        .arg(KEEPER_ARG)
        .env(CONFIG_ENV, json)
        // It outlives the caller: it must not keep the caller's directory busy.
        .current_dir("/")
        .stdin(if tied { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| err(format!("start {}: {e}", opts.helper_exe.display())))?;
    let lifeline = child.stdin.take();
    // The keeper forks itself away at once (so it is nobody's child to
    // reap); its copy keeps the pipe and answers on it.
    let _ = child.wait();
    let answer = read_answer(&mut child, opts).map(|st| (st, lifeline));
    if answer.is_err() {
        // Whatever went wrong on the way back, a world the keeper did
        // build and record must not outlive this error.
        if let Ok(Some(st)) = WorldState::read(&opts.dir) {
            stop(&st);
            state::remove(&opts.dir);
        }
    }
    answer
}

/// Reads the keeper's one-line answer from its stdout pipe.
fn read_answer(child: &mut std::process::Child, opts: &UpOptions) -> Result<WorldState, Error> {
    use std::io::Read;
    let mut out = child
        .stdout
        .take()
        .ok_or_else(|| err("no pipe to the keeper"))?;
    let fd = out
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| err(e.to_string()))?;
    let deadline = Instant::now() + UP_TIMEOUT;
    let mut buf = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(err("the world's process did not answer within 30 s"));
        }
        let ready = crate::sys::poll_read(&[fd.as_fd()], left.as_millis() as i32)
            .map_err(|e| err(e.to_string()))?;
        if ready.first() != Some(&true) {
            continue;
        }
        let mut chunk = [0u8; 8192];
        match out.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            break;
        }
    }
    match serde_json::from_slice::<UpReport>(&buf) {
        Ok(UpReport::Up(st)) => Ok(st),
        Ok(UpReport::Failed(e)) => Err(err(e)),
        Err(_) => Err(err(format!(
            "the world's process ({}) ended without building the world; is it kubelab's helper?",
            opts.helper_exe.display()
        ))),
    }
}

/// Stops the world recorded in `dir` and waits until none of its processes
/// is left. Returns the world that was stopped, None if none was up.
pub fn down(dir: &Path) -> Result<Option<WorldState>, Error> {
    let _lock = lock(dir)?;
    let Some(st) = WorldState::read(dir).map_err(|e| err(e.to_string()))? else {
        return Ok(None);
    };
    let was_running = st.is_running();
    if !stop(&st) {
        return Err(err(format!(
            "world \"{}\": its processes did not end within 10 s (keeper {}, init {})",
            st.name, st.keeper_pid, st.init_pid
        )));
    }
    state::remove(dir);
    Ok(was_running.then_some(st))
}

/// Ends the world of `st` (SIGTERM to its keeper, SIGKILL if it does not
/// go) and waits until none of its processes is left. False: some are
/// still there after 20 s.
fn stop(st: &WorldState) -> bool {
    // The keeper stops the node agents first (their Pods' grace periods).
    let limit = stop_limit(st);
    if st.is_running() {
        let _ = crate::sys::kill(st.keeper_pid, libc::SIGTERM);
        if !wait_gone(st, limit) && st.is_running() {
            let _ = crate::sys::kill(st.keeper_pid, libc::SIGKILL);
        }
    }
    // Without its keeper the world's init dies of its death signal, and
    // with it every process of the world; the agents read the end of
    // their lifelines.
    wait_gone(st, limit)
}

/// How long a world may take to stop: its agents delete their Pods first.
fn stop_limit(st: &WorldState) -> Duration {
    let agents = if st.agents.is_empty() {
        Duration::ZERO
    } else {
        agents::STOP_TIMEOUT
    };
    Duration::from_secs(10) + agents
}

/// Polls until the keeper, init, every holder and agent of `st` are gone.
fn wait_gone(st: &WorldState, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let alive = st.is_running()
            || st.agents.iter().any(|a| a.is_running())
            || owned_by_world(st, st.init_pid)
            || st.node_pids.iter().any(|&p| owned_by_world(st, p));
        if !alive {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        // Teardown takes a few ms (the kernel ends the PID namespace): poll
        // finely, `down` is what a lesson waits for.
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether `pid` still is a process of the world: alive and in the world's
/// user namespace (a reused PID is somebody else's).
fn owned_by_world(st: &WorldState, pid: i32) -> bool {
    crate::process::runtime::start_time(pid).is_some()
        && st
            .user_ns_ino
            .is_some_and(|ino| ns_ino(pid, "user") == Some(ino))
}

pub(crate) fn ns_ino(pid: i32, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

/// Names the world's shared folder ([`WorldState::shared`]) in every
/// command run in its nodes.
pub const SHARED_ENV: &str = "KUBELAB_WORLD_SHARED";

/// The command that runs `argv` in node `node` of the running world `st`
/// (or in the underlay's namespace for [`UNDERLAY`]): in the node's network
/// and UTS namespaces, the world's user and PID namespaces, and a mount
/// namespace of its own with the node's `/sys`, with the host's tools.
/// Spawn it, or `exec` it to become it.
pub fn exec_command(
    st: &WorldState,
    node: &str,
    argv: &[String],
    helper_exe: &Path,
) -> Result<std::process::Command, Error> {
    let node_pid = if node == UNDERLAY {
        st.init_pid
    } else {
        st.node_pid(node).ok_or_else(|| {
            let names: Vec<&str> = st.spec.nodes.iter().map(|n| n.name.as_str()).collect();
            err(format!(
                "world \"{}\" has no node \"{node}\"; its nodes: {} (and {UNDERLAY}, the switch)",
                st.name,
                names.join(", ")
            ))
        })?
    };
    if !st.is_running() {
        return Err(err(format!(
            "world \"{}\" is not running any more",
            st.name
        )));
    }
    if argv.is_empty() {
        return Err(err("no command to run"));
    }
    let cfg = exec::ExecConfig {
        init_pid: st.init_pid,
        node_pid,
        user_ns_ino: st.user_ns_ino,
        node: node.to_string(),
        argv: argv.to_vec(),
    };
    let json = serde_json::to_string(&cfg).map_err(|e| err(e.to_string()))?;
    let mut cmd = std::process::Command::new(helper_exe);
    {
        use std::os::unix::process::CommandExt;
        cmd.arg0("kubelab-world-exec");
    }
    cmd.arg(EXEC_ARG).env(CONFIG_ENV, json);
    if let Some(shared) = &st.shared {
        cmd.env(SHARED_ENV, shared);
    }
    if let Some(a) = st.agents.iter().find(|a| a.node == node) {
        cmd.envs(a.exec_env.iter().map(|(k, v)| (k, v)));
        if !a.exec_path.is_empty() {
            let mut path = std::ffi::OsString::new();
            for d in &a.exec_path {
                path.push(d);
                path.push(":");
            }
            path.push(std::env::var_os("PATH").unwrap_or_default());
            cmd.env("PATH", path);
        }
    }
    Ok(cmd)
}
