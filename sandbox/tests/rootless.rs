//! The rootless path: an unprivileged uid gets a working sandbox (mapped to
//! root inside), and without cgroup permission it runs without limits and
//! says why.

mod common;
use common::*;

#[test]
fn unprivileged_user_gets_a_sandbox() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY} (already unprivileged: the other tests cover this uid)");
        return;
    }
    if std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
        .is_ok_and(|v| v.trim() == "0")
    {
        eprintln!("SKIP: kernel.unprivileged_userns_clone=0");
        return;
    }
    let (code, stdout, stderr) = helper_as_nobody(&[
        "run-print",
        "--pids",
        "20",
        "--",
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; hostname; echo $$; touch /root/x && echo wrote",
    ]);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "0", "root inside: {stdout}");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", "65534", "1"], "{stdout}");
    assert_eq!(lines[2], "kubelab");
    assert_eq!(lines[3], "2");
    assert_eq!(lines[4], "wrote");
    // Either a delegated cgroup was used, or the reason is stated.
    if stderr.contains("NOTE:") {
        assert!(
            stderr.contains("not writable by uid 65534")
                || stderr.contains("not delegated to uid 65534"),
            "{stderr}"
        );
        eprintln!("rootless ran without limits as expected here: {stderr}");
    }
}

/// Rootless on cgroup v2 without a delegated cgroup: kubelab asks the
/// user's systemd manager for a scope; without a user bus (none for uid
/// 65534 here, and its environment is cleared) it runs without limits and
/// the note says so. (With a user bus, the systemd VM guest runs the limit
/// tests through that scope: sandbox/tests/vm/systemd.sh.)
#[test]
fn rootless_v2_without_delegation_and_without_a_user_bus_says_why() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    if !kubelab_sandbox::cgroup::hierarchies()
        .iter()
        .any(|h| h.version == 2)
    {
        eprintln!("SKIP: no cgroup2 mounted here");
        return;
    }
    if std::path::Path::new(&format!("/run/user/{NOBODY}/bus")).exists() {
        eprintln!("SKIP: uid {NOBODY} has a user bus here");
        return;
    }
    let (code, stdout, stderr) = helper_as_nobody(&[
        "run-print",
        "--cgroup-v2",
        "--pids",
        "20",
        "--",
        "sh",
        "-c",
        "echo ran",
    ]);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout.trim(), "ran");
    let note = stderr
        .lines()
        .find(|l| l.starts_with("NOTE:"))
        .unwrap_or_else(|| panic!("limits without delegation or a user bus? {stderr}"));
    assert!(
        note.contains("not delegated to uid 65534")
            && note.contains("no user D-Bus")
            && note.contains(&format!("/run/user/{NOBODY}/bus"))
            && note.contains("systemd-run --user --scope -p Delegate=yes"),
        "{note}"
    );
}

#[test]
fn unprivileged_user_can_exec_into_its_sandbox() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    let (code, stdout, stderr) = helper_as_nobody(&["exec-print"]);
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let ns = lines[3].strip_prefix("NS ").unwrap();
    assert!(!ns.is_empty(), "sandbox ns not readable rootless: {stdout}");
    assert_eq!(lines[0], format!("pid:[{ns}]"), "{stdout}");
    assert_eq!(lines[1], "exec-lab");
    assert_eq!(lines[2], "0");
}
