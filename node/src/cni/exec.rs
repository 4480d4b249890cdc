//! Running one CNI plugin executable as the spec says: found by its `type`
//! in the CNI_PATH directories, parameters in `CNI_*` variables, the
//! configuration on stdin, the result or an error object on stdout.
//!
//! Each call has a deadline; the plugin runs in its own process group, which
//! is killed when the call ends, so a hung plugin or a helper it started
//! (an IPAM plugin) cannot outlive the call. Output is bounded.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, waitid, Pid, Signal, WaitId, WaitIdOptions};

use super::result::PluginErrorBody;
use super::CniError;

/// Most bytes read from a plugin's stdout (results are a few KiB).
const MAX_STDOUT: usize = 1024 * 1024;
/// Most bytes of stderr kept for an error message.
const MAX_STDERR: usize = 8 * 1024;

/// How plugin processes are started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Launcher {
    /// In the caller's namespaces.
    #[default]
    Direct,
    /// Through a command prefix, e.g. `nsenter --net=/proc/<pid>/ns/net --`
    /// so that the bridge and the node-side veths are created in the node's
    /// network namespace, never the host's.
    Prefix(Vec<OsString>),
}

impl Launcher {
    /// Runs plugins inside the network namespace at `netns` (util-linux
    /// `nsenter`, which needs CAP_SYS_ADMIN over the namespace's owner: a
    /// rootless node's prefix must enter its user namespace as well, e.g.
    /// `nsenter --user=… --net=… --preserve-credentials --`).
    pub fn nsenter_net(netns: &Path) -> Launcher {
        let mut net = OsString::from("--net=");
        net.push(netns);
        Launcher::Prefix(vec!["nsenter".into(), net, "--".into()])
    }
}

/// The CNI_COMMAND values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CniCommand {
    Add,
    Del,
    Check,
    Version,
}

impl CniCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            CniCommand::Add => "ADD",
            CniCommand::Del => "DEL",
            CniCommand::Check => "CHECK",
            CniCommand::Version => "VERSION",
        }
    }
}

/// Where plugins are and how they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRunner {
    /// CNI_PATH, searched in order.
    pub plugin_dirs: Vec<PathBuf>,
    /// Deadline of one plugin call.
    pub timeout: Duration,
    pub launcher: Launcher,
}

impl PluginRunner {
    /// Debian's plugin directory, a 30 s deadline, plugins run directly.
    pub fn new(plugin_dirs: Vec<PathBuf>) -> Self {
        PluginRunner {
            plugin_dirs,
            timeout: Duration::from_secs(30),
            launcher: Launcher::Direct,
        }
    }

    /// The plugin's executable: the first `<dir>/<type>` that is an
    /// executable file.
    pub fn find(&self, plugin: &str) -> Result<PathBuf, CniError> {
        self.plugin_dirs
            .iter()
            .map(|d| d.join(plugin))
            .find(|p| {
                p.metadata()
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .ok_or_else(|| CniError::NotFound {
                plugin: plugin.to_string(),
                dirs: self.cni_path().to_string_lossy().into_owned(),
            })
    }

    fn cni_path(&self) -> OsString {
        std::env::join_paths(&self.plugin_dirs).unwrap_or_default()
    }

    /// Runs `plugin` once; `env` holds the `CNI_*` variables but CNI_COMMAND
    /// and CNI_PATH, which are set here. Returns stdout on success.
    pub fn run(
        &self,
        plugin: &str,
        command: CniCommand,
        env: &[(&str, OsString)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, CniError> {
        let exe = self.find(plugin)?;
        let io_err = |e: std::io::Error| CniError::Io {
            plugin: plugin.to_string(),
            command: command.as_str(),
            source: e,
        };
        let mut cmd = match &self.launcher {
            Launcher::Direct => Command::new(&exe),
            Launcher::Prefix(prefix) => {
                let mut c =
                    Command::new(prefix.first().map_or("env".as_ref(), OsString::as_os_str));
                c.args(prefix.iter().skip(1)).arg(&exe);
                c
            }
        };
        // A clean environment: what the spec defines, and a PATH for the
        // tools plugins run (iptables for portmap).
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("CNI_COMMAND", command.as_str())
            .env("CNI_PATH", self.cni_path())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = spawn_retrying(&mut cmd).map_err(|e| match &self.launcher {
            // Say which program is missing: the launcher, not the plugin.
            Launcher::Prefix(p) if e.kind() == std::io::ErrorKind::NotFound => {
                io_err(std::io::Error::new(
                    e.kind(),
                    format!(
                        "the launcher {:?} is not installed ({e})",
                        p.first().cloned().unwrap_or_default()
                    ),
                ))
            }
            _ => io_err(e),
        })?;
        let pgid = Pid::from_raw(child.id() as i32)
            .ok_or_else(|| io_err(std::io::Error::other("plugin has no pid")))?;
        let kill_group = || {
            let _ = kill_process_group(pgid, Signal::KILL);
        };
        let mut input = child.stdin.take();
        let data = stdin.to_vec();
        let writer = thread::spawn(move || {
            if let Some(mut i) = input.take() {
                // A plugin may exit without reading its config: EPIPE is fine.
                let _ = i.write_all(&data);
            }
        });
        let out = child
            .stdout
            .take()
            .map(|o| thread::spawn(move || read_bounded(o, MAX_STDOUT)));
        let err = child
            .stderr
            .take()
            .map(|e| thread::spawn(move || read_bounded(e, MAX_STDERR)));
        // Poll for the exit without reaping (WNOWAIT): the group is killed
        // while its leader's pid is still ours, so the kill cannot hit a
        // process that reused the pid.
        let deadline = Instant::now() + self.timeout;
        let flags = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        let timed_out = loop {
            match waitid(WaitId::Pid(pgid), flags) {
                Ok(None) if Instant::now() >= deadline => break true,
                Ok(None) => thread::sleep(Duration::from_millis(2)),
                Err(rustix::io::Errno::INTR) => {}
                _ => break false,
            }
        };
        // Whatever the plugin left in its group goes too, so the pipes close.
        kill_group();
        let status = child.wait().map_err(io_err)?;
        let _ = writer.join();
        let (stdout, stdout_overflow) = out.and_then(|t| t.join().ok()).unwrap_or_default();
        let (stderr, _) = err.and_then(|t| t.join().ok()).unwrap_or_default();
        if timed_out {
            return Err(CniError::Timeout {
                plugin: plugin.to_string(),
                command: command.as_str(),
                timeout: self.timeout,
            });
        }
        if stdout_overflow {
            return Err(CniError::BadOutput {
                plugin: plugin.to_string(),
                command: command.as_str(),
                msg: format!("more than {MAX_STDOUT} bytes on stdout"),
            });
        }
        if status.success() {
            return Ok(stdout);
        }
        match serde_json::from_slice::<PluginErrorBody>(&stdout) {
            Ok(body) => Err(CniError::Plugin {
                plugin: plugin.to_string(),
                command: command.as_str(),
                code: body.code,
                msg: clean(&body.msg),
                details: clean(&body.details),
            }),
            Err(_) => Err(CniError::Crashed {
                plugin: plugin.to_string(),
                command: command.as_str(),
                status: status.to_string(),
                stderr: clean(&String::from_utf8_lossy(&stderr)),
            }),
        }
    }
}

/// Spawns, retrying briefly on ETXTBSY: exec of a plugin binary that is
/// being replaced (a package upgrade) fails that way for a moment.
fn spawn_retrying(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// Reads up to `max` bytes, then drains the rest; `true` if some was dropped.
fn read_bounded(mut r: impl Read, max: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut overflow = false;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return (kept, overflow),
            Ok(n) => {
                let room = max.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                overflow |= n > room;
            }
        }
    }
}

/// A plugin's text for an error message: control characters replaced (the
/// message may reach a terminal), at most 2 KiB.
fn clean(s: &str) -> String {
    let mut out: String = s
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .take(2048)
        .collect();
    if out.len() < s.trim().len() && s.trim().chars().count() > 2048 {
        out.push('…');
    }
    out
}
