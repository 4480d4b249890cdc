//! Shared helpers of the sandbox integration tests.
#![allow(dead_code)]

pub mod oci;

use kubelab_sandbox::spec::Spec;
use kubelab_sandbox::{ExecRequest, Sandbox, SpawnOptions, StdioMode};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The crate's helper binary, re-executed as the sandbox supervisor. Cargo
/// tells us where it is; a copied test binary (e.g. in a VM) finds it next to
/// itself or through `KUBELAB_SANDBOX_HELPER`.
pub fn helper() -> PathBuf {
    if let Some(p) = std::env::var_os("KUBELAB_SANDBOX_HELPER") {
        return PathBuf::from(p);
    }
    let built = PathBuf::from(env!("CARGO_BIN_EXE_kubelab-sandbox"));
    if built.is_file() {
        return built;
    }
    let exe = std::env::current_exe().expect("current_exe");
    for dir in exe.ancestors().skip(1).take(3) {
        let cand = dir.join("kubelab-sandbox");
        if cand.is_file() {
            return cand;
        }
    }
    built
}

/// Test runtime dir, so tests never sweep a real kubelab's sandboxes.
pub fn runtime_dir() -> PathBuf {
    let base = if kubelab_sandbox::is_root() {
        PathBuf::from("/run/kubelab-test")
    } else {
        std::env::temp_dir().join(format!("kubelab-test-{}", unsafe_free_uid()))
    };
    base
}

fn unsafe_free_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

pub fn opts(stdio: StdioMode) -> SpawnOptions {
    SpawnOptions {
        helper_exe: helper(),
        stdio,
        runtime_dir: Some(runtime_dir()),
        ..SpawnOptions::default()
    }
}

/// Prints a visible SKIP line and returns true when `why` is Some.
pub fn skip(why: Option<String>) -> bool {
    if let Some(w) = why {
        eprintln!("SKIP: {w}");
        true
    } else {
        false
    }
}

/// Whether user namespaces can be created here at all.
pub fn userns_unavailable() -> Option<String> {
    match std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        Ok(s) if s.trim() == "0" => Some("user namespaces disabled (max_user_namespaces=0)".into()),
        Err(_) => Some("kernel without user namespaces".into()),
        _ => None,
    }
}

pub fn spec(cmd: &[&str]) -> Spec {
    Spec {
        command: cmd.iter().map(|s| s.to_string()).collect(),
        ..Spec::default()
    }
}

/// Runs `script` with sh in a fresh sandbox; returns (code, stdout, stderr).
pub fn run_sh(spec_base: Spec, script: &str) -> (i32, String, String) {
    let mut s = spec_base;
    s.command = vec!["/bin/sh".into(), "-c".into(), script.into()];
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Piped)).expect("spawn");
    let (out, err) = read_all(&mut sb);
    let code = sb.wait().expect("wait");
    (code, out, err)
}

pub fn read_all(sb: &mut Sandbox) -> (String, String) {
    use std::io::Read;
    drop(sb.take_stdin());
    let mut e = sb.take_stderr().expect("stderr");
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = e.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    sb.take_stdout()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    (out, t.join().unwrap())
}

pub fn exec_sh(sb: &Sandbox, script: &str) -> (i32, String) {
    let p = sb
        .exec(&ExecRequest::shell(script), StdioMode::Piped)
        .expect("exec");
    let (code, out, err) = p.output().expect("output");
    let mut s = String::from_utf8_lossy(&out).into_owned();
    if !err.is_empty() {
        s.push_str(&String::from_utf8_lossy(&err));
    }
    (code, s)
}

pub fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// Processes, cgroups, mounts and runtime entries named after `id` that still exist.
pub fn leftovers(id: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for l in mi.lines().filter(|l| l.contains(id)) {
        v.push(format!("mount: {l}"));
    }
    let mut stack = vec![PathBuf::from("/sys/fs/cgroup")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                if p.file_name().is_some_and(|n| n.to_string_lossy() == id) {
                    v.push(format!("cgroup: {}", p.display()));
                }
                stack.push(p);
            }
        }
    }
    if runtime_dir().join(id).exists() {
        v.push(format!(
            "runtime entry {}",
            runtime_dir().join(id).display()
        ));
    }
    v
}

pub fn alive(pid: i32) -> bool {
    // A zombie still has /proc/PID; check the state too.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .map(|(_, r)| r.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Samples `sample` every 20 ms until `done` accepts a sample or `secs`
/// pass, and returns the last sample so the caller's assertion can show
/// it. Polled, not slept: under qemu's TCG a fork can take seconds.
pub fn sample_until<T>(secs: u64, mut sample: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = sample();
        if done(&v) || Instant::now() >= deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Host PIDs of every process in the sandbox whose PID 1 is `init`.
pub fn host_pids(init: u32) -> Vec<i32> {
    kubelab_sandbox::observe::processes(init)
        .iter()
        .map(|p| p.host_pid)
        .collect()
}

/// The unprivileged uid (and gid) the rootless tests run as.
pub const NOBODY: u32 = 65534;

/// Runs the test helper binary as uid [`NOBODY`] with a runtime dir of its
/// own (removed when the test ends). Returns exit code, stdout and stderr.
pub fn helper_as_nobody(args: &[&str]) -> (Option<i32>, String, String) {
    use std::os::unix::process::CommandExt;
    let rt = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(rt.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let out = std::process::Command::new(helper())
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_RUNTIME_DIR", rt.path())
        .current_dir("/")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
