//! cgroup limits are enforced and the stats show it.

mod common;
use common::*;
use kubelab_sandbox::spec::{ByteSize, Cpus};
use kubelab_sandbox::{Sandbox, StdioMode};
use std::time::{Duration, Instant};

/// A sandbox needs its own cgroup for these tests (root, or delegated v2).
fn cgroup_or_skip(sb: &Sandbox) -> bool {
    if sb.cgroup().is_none() {
        eprintln!(
            "SKIP: sandbox has no cgroup: {}",
            sb.cgroup_note().unwrap_or("unknown reason")
        );
        return false;
    }
    // The systemd VM guest (sandbox/tests/vm/systemd.sh): the limits must
    // come from the user manager's delegated scope, not from anywhere else.
    if std::env::var("KUBELAB_VM").as_deref() == Ok("systemd") {
        let dir = sb
            .cgroup()
            .and_then(|c| c.memory.clone())
            .unwrap_or_default();
        let d = dir.display().to_string();
        assert!(
            d.contains("/user@") && d.contains(".scope/kubelab/") && d.contains("/kubelab-"),
            "sandbox cgroup {d} is not below a kubelab-*.scope of the user manager"
        );
    }
    true
}

#[test]
fn memory_hog_is_oom_killed_at_its_limit() {
    if skip(userns_unavailable()) {
        return;
    }
    let mut s = spec(&[
        "/bin/sh",
        "-c",
        "head -c 200M /dev/zero | tail > /dev/null; sleep 30",
    ]);
    const LIMIT: u64 = 32 << 20;
    s.limits.memory = Some(ByteSize(LIMIT));
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Null)).unwrap();
    if !cgroup_or_skip(&sb) {
        return;
    }
    let cg = sb.cgroup().unwrap().clone();
    // Generous: under qemu's TCG on a busy 2-core CI machine the pipe is slow.
    let st = sample_until(60, || cg.stats(), |st| st.oom_kills > 0);
    eprintln!("memory hog stats: {st:?}");
    assert!(st.oom_kills >= 1, "no OOM kill: {st:?}");
    assert_eq!(st.memory_max, Some(LIMIT), "{st:?}");
    // The peak may pass memory.max by a little: the kernel force-charges
    // allocations of a task the OOM killer already chose, so it can exit
    // (cgroup-v2.rst, memory.max: "the usage may go over the limit
    // temporarily"). A real escape would be tens of MiB; allow 1/8.
    assert!(
        st.memory_peak <= LIMIT + LIMIT / 8,
        "peak far above the limit: {st:?}"
    );
    assert!(
        st.memory_peak > LIMIT / 2,
        "hog never got near the limit: {st:?}"
    );
    // The inspect view reports the same numbers.
    let pid = sb.pid();
    let field = |name: &str| {
        kubelab_sandbox::inspect::field(pid, name)
            .unwrap_or_else(|e| panic!("inspect field {name} of pid {pid}: {e}"))
    };
    assert_eq!(field("memory.max"), LIMIT.to_string());
    let kills = field("oom_kills");
    assert!(
        kills.parse::<u64>().is_ok_and(|n| n >= 1),
        "inspect says oom_kills={kills:?}, stats: {st:?}"
    );
    sb.kill().unwrap();
}

#[test]
fn fork_bomb_stops_at_pids_max_and_host_stays_fine() {
    if skip(userns_unavailable()) {
        return;
    }
    // An inner shell tries to start 200 sleepers and dies at the first failed
    // fork; only pids.max processes may exist. The outer one then stays.
    let script = "sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null; exec sleep 30";
    let mut s = spec(&["/bin/sh", "-c", script]);
    s.limits.pids = Some(16);
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Null)).unwrap();
    if !cgroup_or_skip(&sb) {
        return;
    }
    let cg = sb.cgroup().unwrap().clone();
    let st = sample_until(30, || cg.stats(), |st| st.pids_limit_hits > 0);
    assert!(st.pids_limit_hits > 0, "pids limit never hit: {st:?}");
    assert_eq!(st.pids_max, Some(16));
    assert!(st.pids_current <= 16, "{st:?}");
    // The host can still start processes (no wall-clock bound: under qemu's
    // TCG a fork can take seconds and still be fine).
    let out = std::process::Command::new("true").status().unwrap();
    assert!(out.success());
    assert_eq!(
        kubelab_sandbox::inspect::field(sb.pid(), "pids.max").unwrap(),
        "16"
    );
    sb.kill().unwrap();
}

#[test]
fn cpu_hog_stays_near_its_quota() {
    if skip(userns_unavailable()) {
        return;
    }
    let mut s = spec(&["/bin/sh", "-c", "while :; do :; done"]);
    s.limits.cpus = Some(Cpus::new(0.2).unwrap());
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Null)).unwrap();
    if !cgroup_or_skip(&sb) {
        return;
    }
    let cg = sb.cgroup().unwrap().clone();
    let start = cg.stats().cpu_usage_usec;
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let st = cg.stats();
    let used = (st.cpu_usage_usec - start) as f64 / 1e6;
    let share = used / t.elapsed().as_secs_f64();
    assert!(
        // The bound that matters is the upper one; the lower one only says
        // the hog ran, which a starved TCG vCPU can make slow.
        share > 0.04 && share < 0.4,
        "cpu share {share:.3} not near 0.2: {st:?}"
    );
    assert!(
        st.cpu_throttled_usec > 0 || st.cpu_nr_throttled > 0,
        "never throttled: {st:?}"
    );
    assert_eq!(st.cpu_quota, Some(0.2));
    assert_eq!(
        kubelab_sandbox::inspect::field(sb.pid(), "cpu.quota").unwrap(),
        "0.2"
    );
    sb.kill().unwrap();
}

/// `kubelab doctor`'s limits path: root here and in the VM's root role, the
/// delegated subtree for the busybox VM guest's user, the user manager's
/// scope in the systemd VM guest (sandbox/tests/vm/systemd.sh).
#[test]
fn doctor_names_the_limits_path_in_use() {
    use kubelab_sandbox::doctor::{limits_path_check, Level};
    let c = limits_path_check(&helper());
    eprintln!("{}: {} {}", c.name, c.detail, c.fix);
    let vm = std::env::var("KUBELAB_VM").unwrap_or_default();
    if kubelab_sandbox::is_root() {
        assert!(c.detail.starts_with("root"), "{c:?}");
        assert_eq!(c.level, Level::Ok);
    } else if vm == "systemd" {
        assert!(
            c.detail.starts_with("systemd scope") && c.detail.contains(".scope"),
            "{c:?}"
        );
        // Debian 12's systemd 252 delegates cpu, memory and pids to user@.service.
        assert_eq!(c.level, Level::Ok, "{c:?}");
    } else if vm == "user" {
        assert!(c.detail.starts_with("delegated subtree"), "{c:?}");
    } else if c.detail.starts_with("none") {
        // An unprivileged run elsewhere: no limits, with the reason and a fix.
        assert!(!c.fix.is_empty(), "{c:?}");
    }
}
