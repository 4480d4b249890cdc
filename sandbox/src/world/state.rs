//! A running world's record in its runtime directory (`world.json`, in a
//! directory only its owner may enter), and whether its process still runs.

use crate::world_spec::WorldSpec;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const STATE_FILE: &str = "world.json";

/// What `kubelab world up` leaves for `exec`, `shell` and `down`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldState {
    /// The world's name (a world file's stem, a lesson's id).
    pub name: String,
    /// Where it was read from, for messages.
    pub source: String,
    pub spec: WorldSpec,
    /// The world's process (`kubelab-world`): `down` stops it, killing it
    /// takes everything with it.
    pub keeper_pid: i32,
    /// Its start time (clock ticks after boot), against PID reuse.
    pub keeper_start: u64,
    /// The process holding the world's user, PID and underlay network
    /// namespaces (PID 1 of that PID namespace), as the host sees it.
    pub init_pid: i32,
    /// Each node's namespace holder, in the order of `spec.nodes`.
    pub node_pids: Vec<i32>,
    /// The world's user namespace (inode), to tell its processes from
    /// others that reuse a PID.
    pub user_ns_ino: Option<u64>,
    /// The node agents running beside nodes with Pods (host processes,
    /// children of the keeper; see `crate::world::NodeAgent`).
    #[serde(default)]
    pub agents: Vec<AgentProcess>,
    /// A folder every node sees (`$KUBELAB_WORLD_SHARED` in node shells,
    /// checks and `world exec`): what a lab keeps where a cluster would
    /// keep it in its API server. Removed with the world's record.
    #[serde(default)]
    pub shared: Option<std::path::PathBuf>,
}

/// A node agent of a running world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentProcess {
    pub node: String,
    pub pid: i32,
    /// Its start time (clock ticks after boot), against PID reuse.
    pub start: u64,
    /// Set for the commands `exec` runs in this node.
    #[serde(default)]
    pub exec_env: Vec<(String, String)>,
    /// Put first on `PATH` for the commands `exec` runs in this node.
    #[serde(default)]
    pub exec_path: Vec<PathBuf>,
}

impl AgentProcess {
    /// Whether the agent that was recorded still runs.
    pub fn is_running(&self) -> bool {
        self.start != 0 && crate::process::runtime::start_time(self.pid) == Some(self.start)
    }
}

impl WorldState {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    pub(crate) fn write(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join("world.json.tmp");
        fs::write(&tmp, serde_json::to_vec(self).map_err(io::Error::other)?)?;
        fs::rename(tmp, Self::path(dir))
    }

    /// The record in `dir`, if there is one (running or not).
    pub fn read(dir: &Path) -> io::Result<Option<WorldState>> {
        match fs::read(Self::path(dir)) {
            Ok(b) if b.len() <= 1 << 20 => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| io::Error::other(format!("{}: {e}", Self::path(dir).display()))),
            Ok(_) => Err(io::Error::other("world.json is too large")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the world's process is the one that wrote this record.
    pub fn is_running(&self) -> bool {
        crate::process::runtime::start_time(self.keeper_pid) == Some(self.keeper_start)
    }

    /// The holder PID of node `name`.
    pub fn node_pid(&self, name: &str) -> Option<i32> {
        let i = self
            .spec
            .nodes
            .iter()
            .position(|n| n.name.as_str() == name)?;
        self.node_pids.get(i).copied()
    }
}

/// Removes the record (the world is gone).
pub(crate) fn remove(dir: &Path) {
    let _ = fs::remove_file(dir.join("world.json.tmp"));
    let _ = fs::remove_file(WorldState::path(dir));
    let _ = fs::remove_dir_all(shared_dir(dir));
}

/// The world's shared folder in its runtime directory `dir`.
pub(crate) fn shared_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("shared")
}

/// A fresh, empty shared folder (what a killed world left is wiped).
pub(crate) fn make_shared(dir: &Path) -> io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let d = shared_dir(dir);
    match fs::remove_dir_all(&d) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::DirBuilder::new().mode(0o700).create(&d)?;
    Ok(d)
}

/// Where worlds keep their record: `/run/kubelab-world` for root,
/// `$XDG_RUNTIME_DIR/kubelab-world`, else `/tmp/kubelab-world-UID`
/// (`$KUBELAB_WORLD_DIR` overrides it). Not inside the sandboxes' runtime
/// directory, whose sweep removes what it does not know.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KUBELAB_WORLD_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    let uid = crate::sys::geteuid();
    if uid == 0 {
        return PathBuf::from("/run/kubelab-world");
    }
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_dir() {
            return p.join("kubelab-world");
        }
    }
    PathBuf::from(format!("/tmp/kubelab-world-{uid}"))
}

/// Creates `dir` with mode 0700 if needed and checks that it is a real
/// directory of ours that nobody else may enter (in /tmp somebody could have
/// made it first, or put a symlink there).
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(_) if dir.is_dir() => {}
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
    }
    let md = fs::symlink_metadata(dir)?;
    if !md.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory (a symlink?); remove it",
            dir.display()
        )));
    }
    if md.uid() != crate::sys::geteuid() {
        return Err(io::Error::other(format!(
            "{} belongs to uid {}, not to you; remove it or set KUBELAB_WORLD_DIR",
            dir.display(),
            md.uid()
        )));
    }
    if md.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
