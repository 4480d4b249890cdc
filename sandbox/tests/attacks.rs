//! Issue 14, written as the attacks: root inside a sandbox must never be host
//! root. Each test does what a learner with a shell in a sandbox could do
//! and asserts that it fails (each failed on the code before the fix).
//! Writes that would hurt the host if they worked write the value that is
//! already there (core_pattern) or are only tested with access(2)
//! (sysrq-trigger), so even a regression does no harm.

mod common;
use common::*;
use kubelab_sandbox::spec::{Namespace, Spec};
use kubelab_sandbox::{Sandbox, StdioMode};
use std::os::unix::process::CommandExt;
use std::path::Path;

const NOBODY: u32 = 65534;

fn root_or_skip(what: &str) -> bool {
    if skip(userns_unavailable()) {
        return false;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: {what} is about sandboxes started by root; this test runs unprivileged");
        return false;
    }
    true
}

fn privileged() -> Spec {
    Spec {
        privileged: true,
        ..Spec::default()
    }
}

/// The test helper as uid 65534 (`run-print`), with a runtime dir of its own.
fn helper_as_nobody(args: &[&str]) -> Option<(Option<i32>, String, String)> {
    if std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
        .is_ok_and(|v| v.trim() == "0")
    {
        eprintln!("SKIP: kernel.unprivileged_userns_clone=0: no rootless sandbox here");
        return None;
    }
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
    Some((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn core_pattern_cannot_be_written_from_a_root_started_sandbox() {
    if !root_or_skip("core_pattern") {
        return;
    }
    // Writes back the value it read: harmless even if the write goes through.
    let script = "v=$(cat /proc/sys/kernel/core_pattern) && \
                  printf '%s\\n' \"$v\" > /proc/sys/kernel/core_pattern 2>/dev/null \
                  && echo WROTE || echo refused";
    for spec in [Spec::default(), privileged()] {
        let (code, out, err) = run_sh(spec.clone(), script);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            out.trim(),
            "refused",
            "privileged={}: the sandbox wrote the host's kernel.core_pattern",
            spec.privileged
        );
    }
}

#[test]
fn sandbox_root_is_not_host_root() {
    if !root_or_skip("the uid map") {
        return;
    }
    let (code, out, err) = run_sh(Spec::default(), "cat /proc/self/uid_map /proc/self/gid_map");
    assert_eq!(code, 0, "{err}");
    let want = kubelab_sandbox::idmap::for_root();
    for (line, host) in out.lines().zip([want.uid, want.gid]) {
        let f: Vec<u64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(f.len(), 3, "{out}");
        assert_ne!(f[1], 0, "sandbox uid 0 is host uid 0: {out}");
        assert!(f[1] > 65536, "range overlaps ordinary host ids: {out}");
        // The whole 16-bit range: useradd/apt-style labs need it.
        assert_eq!((f[0], f[1], f[2]), (0, host as u64, 65536), "{out}");
    }
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn a_root_started_sandbox_without_pid_namespace_cannot_kill_host_root() {
    if !root_or_skip("kill") {
        return;
    }
    let mut victim = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = victim.id();
    let mut spec = Spec::default();
    spec.namespaces.retain(|n| *n != Namespace::Pid);
    for privileged in [false, true] {
        spec.privileged = privileged;
        let (code, out, err) = run_sh(
            spec.clone(),
            &format!("kill -9 {pid} 2>/dev/null && echo KILLED || echo refused"),
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            alive(pid as i32),
            "privileged={privileged}: the sandbox killed host root's process {pid}"
        );
        assert_eq!(out.trim(), "refused", "{out}");
    }
    let _ = victim.kill();
    let _ = victim.wait();
}

#[test]
fn rootless_keeps_its_single_mapping() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    let Some((code, out, err)) =
        helper_as_nobody(&["run-print", "--", "cat", "/proc/self/uid_map"])
    else {
        return;
    };
    assert_eq!(code, Some(0), "{out}{err}");
    let f: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(f, ["0", "65534", "1"], "{out}");
}
