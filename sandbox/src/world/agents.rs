//! The programs a world's keeper runs beside its nodes for as long as the
//! world lives: a node with `pods = true` gets its node agent (`kubelab
//! node`, which the caller describes as a [`NodeAgent`]; this crate knows
//! nothing of it) that uses the node's network namespace for its Pods.
//!
//! An agent runs on the host, as the keeper's child, with a pipe only the
//! keeper holds as its standard input: its lifeline. Ending the world
//! pulls the plug: the keeper kills the world's init (the nodes'
//! namespaces go, with every bridge and veth in them), then closes the
//! lifelines and waits until each agent has stopped its Pods and removed
//! their cgroups (with no CNI DEL: nothing is left to undo in a namespace
//! that is gone). A keeper killed in any way (`kill -9`) closes them too,
//! init dying of its parent-death signal: the same end.

use super::state::AgentProcess;
use serde::{Deserialize, Serialize};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an agent may take to show its ready path.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long stopping agents may take before they are killed.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(45);

/// A program run beside node `node`: `program args… --netns-pid PID`, PID
/// being the node's namespace holder as the host sees it (its
/// `/proc/PID/ns/net` is the node's network namespace, `/proc/PID/ns/user`
/// the world's user namespace). Its standard input is its lifeline (end
/// of file: stop), its standard output and error go to `log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAgent {
    pub node: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The agent is ready once this path exists (its socket).
    pub ready_path: PathBuf,
    /// Its standard output and error (created, appended to).
    pub log: PathBuf,
    /// Set for the commands `exec` runs in this node (e.g. where the
    /// agent's socket is).
    pub exec_env: Vec<(String, String)>,
    /// Put first on `PATH` for the commands `exec` runs in this node
    /// (e.g. the agent's `kubectl`).
    pub exec_path: Vec<PathBuf>,
}

/// The flag the keeper appends, with the holder's PID.
pub const NETNS_PID_FLAG: &str = "--netns-pid";

/// A started agent: dropping the lifeline stops it.
pub(crate) struct Running {
    node: String,
    exec_env: Vec<(String, String)>,
    exec_path: Vec<PathBuf>,
    child: Child,
    lifeline: Option<ChildStdin>,
}

impl Running {
    pub(crate) fn process(&self) -> AgentProcess {
        let pid = self.child.id() as i32;
        AgentProcess {
            node: self.node.clone(),
            pid,
            start: crate::process::runtime::start_time(pid).unwrap_or(0),
            exec_env: self.exec_env.clone(),
            exec_path: self.exec_path.clone(),
        }
    }
}

/// Starts every agent (`holder_pid(node)`: the node's holder, host PID)
/// and waits until each is ready. An error stops those started.
pub(crate) fn start(
    agents: &[NodeAgent],
    holder_pid: impl Fn(&str) -> Option<i32>,
) -> Result<Vec<Running>, String> {
    let mut running = Vec::new();
    for a in agents {
        match spawn(a, &holder_pid) {
            Ok(r) => running.push(r),
            Err(e) => {
                stop(&mut running, Duration::from_secs(10));
                return Err(format!("node {}: {e}", a.node));
            }
        }
    }
    if let Err(e) = wait_ready(agents, &mut running) {
        stop(&mut running, Duration::from_secs(10));
        return Err(e);
    }
    Ok(running)
}

fn spawn(a: &NodeAgent, holder_pid: &impl Fn(&str) -> Option<i32>) -> io::Result<Running> {
    let pid = holder_pid(&a.node)
        .ok_or_else(|| io::Error::other("the world has no such node for its agent"))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.log)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", a.log.display())))?;
    let mut cmd = Command::new(&a.program);
    cmd.args(&a.args)
        .arg(NETNS_PID_FLAG)
        .arg(pid.to_string())
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: the closure runs in the forked child before exec and makes
    // only async-signal-safe calls (sigprocmask, signal).
    unsafe {
        // The keeper blocks the signals it reads from a signalfd; a mask
        // survives exec, and the agent's children with it (its dnsmasq
        // never saw the SIGHUP that reloads the cluster's names).
        cmd.pre_exec(|| {
            crate::sys::reset_signals();
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("start {}: {e}", a.program.display())))?;
    let lifeline = child.stdin.take();
    Ok(Running {
        node: a.node.clone(),
        exec_env: a.exec_env.clone(),
        exec_path: a.exec_path.clone(),
        child,
        lifeline,
    })
}

/// Polls until every ready path exists; an agent that exits first, or a
/// deadline passed, is an error naming its log.
fn wait_ready(agents: &[NodeAgent], running: &mut [Running]) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let mut all = true;
        for (a, r) in agents.iter().zip(running.iter_mut()) {
            if let Ok(Some(st)) = r.child.try_wait() {
                return Err(format!(
                    "node {}: its agent exited ({st}) before it was ready; see {}",
                    a.node,
                    a.log.display()
                ));
            }
            all &= a.ready_path.exists();
        }
        if all {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the nodes' agents were not ready within {} s; see their logs ({})",
                READY_TIMEOUT.as_secs(),
                agents
                    .iter()
                    .map(|a| a.log.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Closes every lifeline at once and waits until the agents exit; those
/// still running after `limit` are killed.
pub(crate) fn stop(running: &mut [Running], limit: Duration) {
    for r in running.iter_mut() {
        drop(r.lifeline.take());
    }
    let deadline = Instant::now() + limit;
    for r in running.iter_mut() {
        loop {
            match r.child.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(None) => {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break;
                }
                _ => break,
            }
        }
    }
}
