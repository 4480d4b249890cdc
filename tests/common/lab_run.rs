//! `kubelab test` runs of a lab whose kubelab owns something outside
//! itself (a lab node, a lab world): started as root or as an unprivileged
//! uid, killed with `kill -9` once the lab runs, and polled until nothing
//! it made is left (tests/node_lab.rs, tests/world_lab.rs).

use super::kubelab;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `kubelab --course COURSE --data-dir DATA --trust test`, without the
/// override `env_override` of the lab's runtime folder (each run makes its
/// own).
pub fn kubelab_test(course: &Path, data: &Path, env_override: &str) -> Command {
    let mut c = Command::new(kubelab());
    c.arg("--course")
        .arg(course)
        .arg("--data-dir")
        .arg(data)
        .arg("--trust")
        .arg("test")
        .env_remove(env_override)
        .stdin(Stdio::null());
    c
}

/// The run's report, or `None` (with a visible SKIP) when this host
/// cannot run the lab of lesson `01-a`.
pub fn passed_or_skip(out: &Output, who: &str) -> Option<String> {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("SKIP 01-a") {
        eprintln!("SKIP: {who}: this host cannot run the lab: {text}");
        return None;
    }
    assert!(out.status.success(), "{who}: {text}");
    assert!(text.contains("PASS 01-a"), "{who}: {text}");
    Some(text)
}

/// Polls `left` until it lists nothing; fails after `secs` listing what
/// stayed.
pub fn assert_nothing_left(secs: u64, left: impl Fn() -> Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let now = left();
        if now.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "left after {secs} s:\n{}",
            now.join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits up to `secs` until `running` says the lab runs, then kills
/// `child` (a `kubelab test`) with SIGKILL and reaps it. False, with a
/// visible SKIP naming `what`, when the run ended before (a host that
/// skips the lab).
pub fn kill_9_once_running(
    child: &mut Child,
    what: &str,
    secs: u64,
    mut running: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            eprintln!("SKIP: kubelab test ended before {what} ran (this host skips the lab)");
            return false;
        }
        if running() {
            break;
        }
        assert!(Instant::now() < deadline, "no {what} within {secs} s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let _ = child.wait();
    true
}

/// `kubelab test` of COURSE as the unprivileged `uid` (both folders handed
/// to it), its pid and output; `None` with a visible SKIP where this test
/// cannot drop to it (not root, no setpriv, a private build folder).
pub fn rootless_kubelab_test(course: &Path, data: &Path, uid: u32) -> Option<(u32, Output)> {
    if !is_root() {
        eprintln!("SKIP: the rootless run drops from root to uid {uid}; this test runs as a non-root user already");
        return None;
    }
    if Command::new("setpriv")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("SKIP: setpriv (util-linux) is needed to drop to an unprivileged uid");
        return None;
    }
    for d in [course, data] {
        Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{uid}"))
            .arg(d)
            .status()
            .unwrap();
    }
    let bin = kubelab();
    let setpriv = || {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ]);
        c
    };
    // The binary must be reachable by that uid (a build folder under a
    // private home is not).
    let reachable = setpriv()
        .arg(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !reachable {
        eprintln!(
            "SKIP: uid {uid} cannot run {} (a folder on its path is private)",
            bin.display()
        );
        return None;
    }
    let child = setpriv()
        .arg("env")
        .arg(format!("HOME={}", data.display()))
        .arg("XDG_RUNTIME_DIR=")
        .arg(&bin)
        .arg("--course")
        .arg(course)
        .arg("--data-dir")
        .arg(data)
        .arg("--trust")
        .arg("test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // setpriv execs env, which execs kubelab: the same pid.
    let pid = child.id();
    Some((pid, child.wait_with_output().unwrap()))
}

/// The processes of `uid` still running, as one line (none: empty).
pub fn processes_of(uid: u32) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-o", "pid=,args=", "-u", &uid.to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if ps.is_empty() {
        Vec::new()
    } else {
        vec![format!("processes of uid {uid}: {ps}")]
    }
}
