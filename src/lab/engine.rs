//! The lab's sandboxes on top of the `kubelab-sandbox` engine.

use super::backend::{LabSandbox, ScriptOutput};
use super::check::{collect_script, Stream};
use super::harness::SandboxFactory;
use crate::course::model::Requirement;
use crate::panes::inspect::sampler::Observe;
use crate::panes::pty::{PtyChild, PtySize, Spawned};
use kubelab_sandbox::exec::{ExecProcess, ExecRequest};
use kubelab_sandbox::spawn::{Sandbox, SpawnOptions, StdioMode};
use kubelab_sandbox::spec::Spec;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The shell a lab's shell pane runs: bash when the rootfs has it. A
/// cluster lab's shell first says which cluster and namespace kubectl will
/// use (src/cluster/lab.rs sets the variables), before anything runs.
const SHELL: &str = concat!(
    "[ -z \"${KUBELAB_CLUSTER:-}\" ] || ",
    "printf 'kubelab: kubectl uses %s · namespace %s\\n' \"$KUBELAB_CLUSTER\" \"$KUBELAB_NAMESPACE\"; ",
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"
);
/// PID 1's job in a lab sandbox when the spec names no command: stay alive
/// (the learner's shells are exec'd next to it).
/// The sandboxes' locale: UTF-8, built into glibc since 2.35 (no locale files
/// needed in the image) and harmless where a libc ignores it (busybox).
pub const LOCALE: &str = "C.UTF-8";

const KEEP_ALIVE: &str = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";

/// Starts lesson sandboxes with the real engine.
pub struct EngineFactory {
    /// The kubelab binary, re-executed as the sandbox helper.
    pub helper_exe: PathBuf,
}

impl EngineFactory {
    /// Uses `kubelab-helper` installed beside this binary, else the running
    /// binary itself (it dispatches `__sandbox-*` too). Each sandbox keeps
    /// a supervisor alive and each check execs one: the small helper makes
    /// those a few hundred kB instead of a copy of the whole app.
    pub fn new() -> EngineFactory {
        EngineFactory {
            helper_exe: kubelab_sandbox::front::helper_beside_current_exe()
                .unwrap_or_else(|| PathBuf::from("/proc/self/exe")),
        }
    }

    /// Uses `exe` as the helper (tests pass the built `kubelab` binary).
    pub fn with_helper(exe: impl Into<PathBuf>) -> EngineFactory {
        EngineFactory {
            helper_exe: exe.into(),
        }
    }

    /// Starts one sandbox for a lesson. With `console`, the sandbox's main
    /// program (the spec's `command`, else bash or sh) runs on a PTY: that is
    /// the shell pane, a child of the sandbox's init like a container's main
    /// process. Without, the main program is the spec's command, or a
    /// keep-alive loop when it names none.
    pub fn spawn(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<EngineSandbox> {
        let mut spec = spec.clone();
        // Without a locale bash and coreutils fall back to POSIX: Chinese in
        // a command line redraws garbled, `ls` prints names as octal escapes.
        spec.env
            .entry("LANG".into())
            .or_insert_with(|| LOCALE.into());
        let stdio = match console {
            Some(size) => {
                if spec.command.is_empty() {
                    spec.command = vec!["/bin/sh".into(), "-c".into(), SHELL.into()];
                }
                spec.env
                    .entry("TERM".into())
                    .or_insert_with(|| "xterm-256color".into());
                StdioMode::Pty {
                    rows: size.rows,
                    cols: size.cols,
                }
            }
            None => {
                if spec.command.is_empty() {
                    spec.command = vec!["/bin/sh".into(), "-c".into(), KEEP_ALIVE.into()];
                }
                StdioMode::Null
            }
        };
        let opts = SpawnOptions {
            helper_exe: self.helper_exe.clone(),
            stdio,
            ..SpawnOptions::default()
        };
        let mut sb = Sandbox::spawn(&spec, &opts).map_err(|e| io::Error::other(e.to_string()))?;
        let console = sb.take_pty_master();
        let observer: Arc<dyn Observe> = Arc::new(super::observe::EngineObserver::new(&sb));
        let limits_off = super::limits_off::note(
            !spec.limits.is_empty(),
            sb.cgroup().is_some(),
            sb.cgroup_note(),
        );
        Ok(EngineSandbox {
            limits_off,
            name: name.to_string(),
            pid: sb.pid(),
            env: sb.check_env(),
            spec,
            observer,
            helper_exe: self.helper_exe.clone(),
            sb: Arc::new(Mutex::new(sb)),
            console: Mutex::new(console),
        })
    }
}

impl Default for EngineFactory {
    fn default() -> Self {
        EngineFactory::new()
    }
}

impl SandboxFactory for EngineFactory {
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        Ok(Box::new(self.spawn(name, spec, console)?))
    }

    fn unmet(&self, req: Requirement) -> Option<String> {
        host_unmet(req)
    }
}

/// Why this host cannot meet a lesson requirement.
pub fn host_unmet(req: Requirement) -> Option<String> {
    let root = rustix::process::geteuid().is_root();
    match req {
        Requirement::Root if !root => Some("needs root on the host (run as root)".into()),
        Requirement::Cgroups => {
            // Rootless on a systemd host: the sandboxes' cgroups go below
            // kubelab's delegated scope (made here if need be), which the
            // probe below would not use.
            if !root {
                use kubelab_sandbox::cgroup_delegation::{self as d, LimitsPath};
                let helper = kubelab_sandbox::front::helper_beside_current_exe()
                    .unwrap_or_else(|| PathBuf::from("/proc/self/exe"));
                match d::limits_path(&helper) {
                    LimitsPath::SystemdScope(dir) => {
                        let missing = d::missing_controllers(&dir);
                        return (!missing.is_empty()).then(|| {
                            format!(
                                "needs cgroup limits: the {} controller(s) are not delegated \
                                 to {}; {}",
                                missing.join(", "),
                                dir.display(),
                                d::DELEGATE_FIX
                            )
                        });
                    }
                    LimitsPath::None { why, fix } => {
                        return Some(format!("needs cgroup limits: {why}; {fix}"))
                    }
                    LimitsPath::Root | LimitsPath::Delegated(_) => {}
                }
            }
            // Unique per call: `kubelab test` asks from several threads.
            static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = format!("probe-{}-{n}", std::process::id());
            let probe = kubelab_sandbox::cgroup::create(&id, &Default::default());
            match probe {
                Ok(cg) => {
                    cg.destroy();
                    None
                }
                Err(why) => Some(format!("needs cgroup limits: {why}")),
            }
        }
        Requirement::Busybox => kubelab_sandbox::hostfacts::static_elf(std::path::Path::new(
            kubelab_sandbox::hostfacts::BUSYBOX,
        ))
        .err()
        .map(|why| {
            format!("needs a static busybox: {why} (Debian/Ubuntu: apt-get install busybox-static)")
        }),
        Requirement::TmpfsXattr => kubelab_sandbox::hostfacts::tmpfs_user_xattrs()
            .err()
            .map(|why| format!("needs Linux 6.6 or newer: {why}")),
        Requirement::Tun => kubelab_sandbox::hostfacts::tun_usable()
            .err()
            .map(|why| format!("needs a TUN device: {why}")),
        Requirement::CniPlugins => {
            use kubelab_node::cni::DEBIAN_PLUGIN_DIR;
            let missing =
                kubelab_node::sandbox_runtime::network::missing_plugins(
                    &[DEBIAN_PLUGIN_DIR.into()],
                );
            (!missing.is_empty()).then(|| {
                format!(
                    "needs the CNI plugins {} in {DEBIAN_PLUGIN_DIR} (Debian/Ubuntu: apt-get install containernetworking-plugins)",
                    missing.join(", ")
                )
            })
        }
        Requirement::Tool(tool) => (!on_host_path(tool.command)).then(|| {
            format!(
                "needs `{}` on the host (Debian/Ubuntu: apt-get install {})",
                tool.command, tool.package
            )
        }),
        _ => None,
    }
}

/// The directories a host-rootfs sandbox finds programs in (its `PATH`).
const HOST_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Whether an executable `command` is in one of [`HOST_PATH`]'s directories.
fn on_host_path(command: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    HOST_PATH.iter().any(|dir| {
        std::fs::metadata(std::path::Path::new(dir).join(command))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// A running lesson sandbox.
pub struct EngineSandbox {
    name: String,
    pid: u32,
    env: Vec<(String, String)>,
    spec: Spec,
    observer: Arc<dyn Observe>,
    helper_exe: PathBuf,
    /// Shared with the console's [`PtyChild`], which waits for the sandbox
    /// to end when its shell exits.
    sb: Arc<Mutex<Sandbox>>,
    console: Mutex<Option<OwnedFd>>,
    /// See [`LabSandbox::limits_off`].
    limits_off: Option<String>,
}

impl EngineSandbox {
    fn exec(&self, command: Vec<String>, cpu_seconds: Option<u64>) -> io::Result<ExecProcess> {
        // The spec's environment, as the shell has it (a node lab's PATH
        // with kubectl, a cluster lab's KUBECONFIG), then the terminal's.
        let mut env: Vec<(String, String)> = self
            .spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.extend([
            ("TERM".into(), "xterm-256color".into()),
            (
                "LANG".into(),
                self.spec.env.get("LANG").map_or(LOCALE, |v| v).into(),
            ),
        ]);
        let req = ExecRequest {
            command,
            cpu_seconds,
            env,
            workdir: self.spec.workdir.clone(),
            // What `Sandbox::exec` adds: the spec's privilege applies to execs.
            privileged: self.spec.privileged,
            identity: self.spec.identity.clone(),
        };
        // Not through the locked `Sandbox`: an exec waits for its helper to
        // join the namespaces, and the console's killer (run by whichever
        // thread drops the shell) needs that lock meanwhile.
        kubelab_sandbox::exec::exec_pid(self.pid as i32, &req, StdioMode::Piped, &self.helper_exe)
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

impl LabSandbox for EngineSandbox {
    fn name(&self) -> &str {
        &self.name
    }

    fn pid(&self) -> u32 {
        self.pid
    }

    fn take_console(&self) -> Option<Spawned> {
        let master = self
            .console
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        Some(Spawned {
            master,
            child: Box::new(ConsoleChild(self.sb.clone())),
        })
    }

    fn exec_script(&self, script: &str, timeout: Duration) -> io::Result<ScriptOutput> {
        let mut p = self.exec(
            ExecRequest::shell(script).command,
            Some(super::check::CHECK_CPU_SECONDS),
        )?;
        drop(p.take_stdin());
        let stdout = p.take_stdout().map(|r| Box::new(r) as Stream);
        let stderr = p.take_stderr().map(|r| Box::new(r) as Stream);
        let p = std::cell::RefCell::new(p);
        collect_script(
            stdout,
            stderr,
            timeout,
            || p.borrow_mut().try_wait(),
            || p.borrow_mut().kill(),
        )
    }

    fn host_env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }

    fn observer(&self) -> Arc<dyn Observe> {
        self.observer.clone()
    }

    fn limits_off(&self) -> Option<String> {
        self.limits_off.clone()
    }
}

/// The console's process: the sandbox itself (its main program exiting ends it).
struct ConsoleChild(Arc<Mutex<Sandbox>>);

impl PtyChild for ConsoleChild {
    fn wait(&mut self) -> io::Result<i32> {
        // Called after the PTY hit EOF, i.e. the sandbox is ending: poll so
        // the lock is never held while blocking.
        loop {
            if let Some(code) = self
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait()?
            {
                return Ok(code);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn killer(&self) -> Box<dyn Fn() + Send + Sync> {
        let sb = self.0.clone();
        // Teardown goes through the supervisor's lifeline: a SIGKILL to the
        // supervisor itself would leave its cgroups behind.
        Box::new(move || sb.lock().unwrap_or_else(|e| e.into_inner()).teardown())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tool_requirement_is_met_only_when_the_program_is_there() {
        use crate::course::model::{Requirement, Tool};
        // `sh` is on every host kubelab runs on; the second one on none.
        static SH: Tool = Tool {
            command: "sh",
            package: "dash",
        };
        static NONE: Tool = Tool {
            command: "kubelab-no-such-tool",
            package: "kubelab-pkg",
        };
        assert_eq!(super::host_unmet(Requirement::Tool(&SH)), None);
        let why = super::host_unmet(Requirement::Tool(&NONE)).expect("missing tool must be unmet");
        assert!(why.contains("apt-get install kubelab-pkg"), "{why}");
    }

    use std::io::Write;
    use std::process::{Command, Stdio};

    fn shell_says(env: &[(&str, &str)]) -> String {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", super::SHELL])
            .env_remove("KUBELAB_CLUSTER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"exit 0\n").unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }

    #[test]
    fn a_cluster_labs_shell_names_the_cluster_first() {
        let out = shell_says(&[
            (
                "KUBELAB_CLUSTER",
                "context kind-kind · cluster kind-kind · https://127.0.0.1:6443/",
            ),
            ("KUBELAB_NAMESPACE", "kubelab-rollout"),
        ]);
        assert_eq!(
            out,
            "kubelab: kubectl uses context kind-kind · cluster kind-kind · https://127.0.0.1:6443/ · namespace kubelab-rollout\n"
        );
        assert_eq!(shell_says(&[]), "", "other labs' shells say nothing");
    }
}
