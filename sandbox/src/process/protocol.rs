//! What the caller hands to the re-executed helper (`__sandbox-init`,
//! `__sandbox-exec`) and what the helpers report back on the status pipe.

use crate::cgroup::Cgroup;
use crate::error::Error;
use crate::ns::idmap::IdMap;
use crate::spec::Spec;
use serde::{Deserialize, Serialize};
use std::os::fd::RawFd;
use std::path::PathBuf;

/// Environment variable carrying the JSON config to the helper.
pub const CONFIG_ENV: &str = "KUBELAB_SANDBOX_CONFIG";
pub const INIT_ARG: &str = "__sandbox-init";
pub const EXEC_ARG: &str = "__sandbox-exec";
/// A supervisor that re-executed itself as the small helper ([`Slim`]).
pub const SUPERVISE_ARG: &str = "__sandbox-supervise";

/// Reads (and removes) the JSON config a helper was started with.
pub(crate) fn read_config<T: serde::de::DeserializeOwned>() -> Result<T, String> {
    let raw = std::env::var(CONFIG_ENV).map_err(|_| format!("{CONFIG_ENV} is not set"))?;
    std::env::remove_var(CONFIG_ENV);
    serde_json::from_str(&raw).map_err(|e| format!("bad {CONFIG_ENV}: {e}"))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitConfig {
    pub id: String,
    pub spec: Spec,
    /// Lower layers (bottom first) of an OCI rootfs, already unpacked.
    pub oci_layers: Vec<PathBuf>,
    /// `<runtime dir>/<id>`: state file and staging mountpoint.
    pub sandbox_dir: PathBuf,
    pub status_fd: RawFd,
    pub lifeline_fd: RawFd,
    pub uid: u32,
    pub gid: u32,
    /// Set: allocate a PTY inside the sandbox and send its master over this socket.
    pub pty: Option<PtyRequest>,
    /// Try to create a cgroup even without limits (for stats).
    pub want_cgroup: bool,
    /// Force cgroup v1 or v2 instead of detecting.
    #[serde(default)]
    pub cgroup_version: Option<u8>,
    /// Print the spawn timeline (see [`crate::trace`]).
    #[serde(default)]
    pub trace: bool,
    /// Re-execute the supervisor as this small helper once the sandbox has
    /// run for a moment (see `SpawnOptions::slim_exe`).
    #[serde(default)]
    pub slim_exe: Option<PathBuf>,
    /// Set when root starts the sandbox: PID 1 gets a user namespace of its
    /// own with this range, the supervisor stays host root (see [`crate::ns::idmap`]).
    #[serde(default)]
    pub idmap: Option<IdMap>,
    /// Rootless cgroup v2: the delegated systemd scope the caller sits in
    /// (sandbox cgroups go below it), or why it could get none (see
    /// [`crate::cgroup::delegation`]).
    #[serde(default)]
    pub cgroup_parent: Option<PathBuf>,
    #[serde(default)]
    pub cgroup_parent_note: Option<String>,
    /// A Pod's infra or container (see [`crate::pod`]).
    #[serde(default)]
    pub pod: Option<crate::pod::PodOptions>,
}

/// What a supervisor hands to its re-executed self (`__sandbox-supervise`):
/// everything it still needs to wait for PID 1 and clean up after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Slim {
    /// Host PID of the sandbox's PID 1 (still our child after the exec).
    pub child: i32,
    pub lifeline_fd: RawFd,
    pub cgroup: Option<Cgroup>,
    pub sandbox_dir: PathBuf,
    pub trace: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecConfig {
    /// Host PID of a process inside the sandbox (its PID 1).
    pub target_pid: i32,
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: Option<PathBuf>,
    pub privileged: bool,
    /// RLIMIT_CPU for the command (see `ExecRequest::cpu_seconds`).
    #[serde(default)]
    pub cpu_seconds: Option<u64>,
    /// The command's ids and capabilities (see `ExecRequest::identity`).
    #[serde(default)]
    pub identity: crate::spec::Identity,
    pub status_fd: RawFd,
    pub lifeline_fd: RawFd,
    pub pty: Option<PtyRequest>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PtyRequest {
    pub sock_fd: RawFd,
    pub rows: u16,
    pub cols: u16,
}

/// One line on the status pipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Report {
    /// The sandbox's PID 1 exists (host PID), cgroup applied or why not.
    Started {
        init_pid: i32,
        cgroup: Option<Cgroup>,
        cgroup_note: Option<String>,
    },
    /// The exec'd process exists (host PID).
    ExecStarted {
        pid: i32,
    },
    Failed(Error),
}

impl Report {
    pub fn send(&self, fd: RawFd) {
        if let Ok(mut line) = serde_json::to_vec(self) {
            line.push(b'\n');
            // The pipe is small and writes below PIPE_BUF are atomic.
            let _ = crate::sys::write_fd(fd, &line);
        }
    }
}
