//! Nothing survives a sandbox: not after exit, kill, bad input, or SIGKILL of
//! the program that started it.

mod common;
use common::*;
use kubelab_sandbox::spec::{Mount, Rootfs};
use kubelab_sandbox::{Sandbox, StdioMode};
use std::io::BufRead;
use std::str::FromStr;

/// SIGKILLs a helper process if the test panics before doing it itself.
struct KillOnDrop(i32);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &self.0.to_string()])
            .status();
    }
}

fn wait_clean(id: &str, pids: &[i32]) -> Vec<String> {
    let still_there = || {
        let mut left = leftovers(id);
        left.extend(
            pids.iter()
                .filter(|&&p| alive(p))
                .map(|p| format!("process {p}")),
        );
        left
    };
    sample_until(20, still_there, |left| left.is_empty())
}

#[test]
fn sigkill_of_the_parent_leaves_nothing() {
    if skip(userns_unavailable()) {
        return;
    }
    let id = format!("leak{}", std::process::id());
    let mut holder = std::process::Command::new(helper())
        .arg("run-hold")
        .arg(&id)
        .arg(runtime_dir())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let f: Vec<i32> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(f.len(), 2, "helper said: {line}");
    let (sup, init) = (f[0], f[1]);
    let guard = KillOnDrop(holder.id() as i32);
    assert!(alive(sup) && alive(init));
    // Processes inside: PID 1, sh and two sleeps.
    let inside = sample_until(15, || host_pids(init as u32), |p| p.len() >= 4);
    assert!(inside.len() >= 4, "{inside:?}");
    std::mem::forget(guard);
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap();
    let mut all = inside.clone();
    all.push(sup);
    let left = wait_clean(&id, &all);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A sandbox (with a cgroup: a pids limit) running `script` under `sh -c`,
/// and the host PIDs of its processes once `expected` of them have started.
/// Polled, not slept: under qemu without KVM the shell can take seconds to
/// fork its children.
fn spawn_sleepers(id: &str, script: &str, expected: usize) -> (Sandbox, Vec<i32>) {
    let mut o = opts(StdioMode::Null);
    o.id = Some(id.to_string());
    let mut s = spec(&["/bin/sh", "-c", script]);
    s.limits.pids = Some(10);
    let sb = Sandbox::spawn(&s, &o).unwrap();
    let pids = sample_until(15, || host_pids(sb.pid()), |p| p.len() >= expected);
    assert!(pids.len() >= expected, "{script}: only {pids:?} started");
    (sb, pids)
}

#[test]
fn kill_and_exit_leave_nothing() {
    if skip(userns_unavailable()) {
        return;
    }
    let id = format!("kill{}", std::process::id());
    // PID 1, then the shell (exec'ing the last sleep) and two more sleeps.
    let (mut sb, pids) = spawn_sleepers(&id, "sleep 100 & sleep 100 & sleep 100", 4);
    assert_eq!(sb.kill().unwrap(), 137);
    assert!(wait_clean(&id, &pids).is_empty(), "{:?}", leftovers(&id));

    let id2 = format!("exit{}", std::process::id());
    let mut o = opts(StdioMode::Null);
    o.id = Some(id2.clone());
    let mut sb = Sandbox::spawn(&spec(&["/bin/sh", "-c", "sleep 100 & exit 3"]), &o).unwrap();
    assert_eq!(sb.wait().unwrap(), 3);
    assert!(leftovers(&id2).is_empty(), "{:?}", leftovers(&id2));
}

#[test]
fn sigkill_through_the_api_still_cleans_up() {
    // `signal(SIGKILL)` and `teardown()` come from other threads (a pane
    // dropping its shell, a closed terminal); they must not kill the
    // supervisor before it removes the cgroup.
    if skip(userns_unavailable()) {
        return;
    }
    for (n, via_signal) in [(0, true), (1, false)] {
        let id = format!("sigk{n}{}", std::process::id());
        let (mut sb, pids) = spawn_sleepers(&id, "sleep 100 & sleep 100", 3);
        if via_signal {
            sb.signal(libc::SIGKILL).unwrap();
        } else {
            sb.teardown();
        }
        assert_eq!(sb.wait().unwrap(), 137);
        assert!(wait_clean(&id, &pids).is_empty(), "{:?}", leftovers(&id));
    }
}

fn expect_err(s: kubelab_sandbox::spec::Spec, field: &str, code: i32, needle: &str) {
    let id = format!("bad{}{}", std::process::id(), field.replace('.', ""));
    let mut o = opts(StdioMode::Null);
    o.id = Some(id.clone());
    let e = Sandbox::spawn(&s, &o).expect_err("spawn should fail");
    assert_eq!(e.field, field, "{e}");
    assert_eq!(e.exit_code, code, "{e}");
    assert!(e.message.contains(needle), "{e}");
    assert!(leftovers(&id).is_empty(), "{:?}", leftovers(&id));
}

#[test]
fn bad_input_fails_clearly_and_leaves_nothing() {
    if skip(userns_unavailable()) {
        return;
    }
    // Spec-level errors name the field.
    let e = toml::from_str::<kubelab_sandbox::spec::Spec>("namespaces = [\"pidd\"]").unwrap_err();
    assert!(e.to_string().contains("pidd"), "{e}");
    assert!(kubelab_sandbox::spec::Namespace::from_str("pidd").is_err());
    let e =
        toml::from_str::<kubelab_sandbox::spec::Spec>("[limits]\nmemory = \"64XB\"").unwrap_err();
    assert!(e.to_string().contains("64XB"), "{e}");

    let mut s = spec(&["true"]);
    s.rootfs = Rootfs::Dir("/nonexistent/rootfs".into());
    expect_err(s, "rootfs", 125, "does not exist");

    let mut s = spec(&["true"]);
    s.mounts.push(Mount::Bind {
        source: "/nonexistent/src".into(),
        target: "/data".into(),
        readonly: true,
    });
    expect_err(s, "mounts", 125, "does not exist");

    expect_err(spec(&["no-such-command-xyz"]), "command", 127, "not found");
    expect_err(
        spec(&["/etc/hostname"]),
        "command",
        126,
        "cannot be executed",
    );
}

#[test]
fn oci_layout_with_missing_blob_is_rejected() {
    if skip(userns_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
    let manifest = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aa","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":10}]}"#;
    let manifest_digest = {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(manifest.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(d.join("blobs/sha256").join(&hex), manifest).unwrap();
        format!("sha256:{hex}")
    };
    std::fs::write(
        d.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":1}}]}}"#),
    )
    .unwrap();
    let mut s = spec(&["true"]);
    s.rootfs = Rootfs::Oci(d.to_path_buf());
    let mut o = opts(StdioMode::Null);
    o.cache_dir = Some(d.join("cache"));
    let e = Sandbox::spawn(&s, &o).expect_err("missing blob");
    assert_eq!(e.field, "rootfs");
    assert!(
        e.message.contains(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef is missing"
        ),
        "{e}"
    );
    assert_eq!(e.exit_code, 125);
}

#[test]
fn killed_supervisor_is_swept_at_next_start() {
    if skip(userns_unavailable()) {
        return;
    }
    let id = format!("sweep{}", std::process::id());
    // A runtime dir of its own: every spawn sweeps its runtime dir, so a test
    // running in parallel would (rightly) sweep the dead supervisor's entry
    // before this test gets to look for it.
    let rt = runtime_dir().with_file_name(format!("kubelab-test-sweep-{}", std::process::id()));
    let mut o = opts(StdioMode::Null);
    o.id = Some(id.clone());
    o.runtime_dir = Some(rt.clone());
    let mut s = spec(&["sleep", "100"]);
    s.limits.pids = Some(8);
    let sb = Sandbox::spawn(&s, &o).unwrap();
    let (sup, init) = (sb.supervisor_pid() as i32, sb.pid() as i32);
    let has_cgroup = sb.cgroup().is_some();
    // Simulate a crash of the supervisor itself: PID 1 dies with it
    // (PDEATHSIG), but its cgroup and runtime entry stay until a sweep.
    std::process::Command::new("kill")
        .args(["-9", &sup.to_string()])
        .status()
        .unwrap();
    std::mem::forget(sb); // its Drop would clean up; we test the sweep
    sample_until(20, || alive(init) || alive(sup), |running| !running);
    assert!(!alive(init), "PID 1 survived its supervisor");
    assert!(
        rt.join(&id).exists(),
        "the crashed supervisor's entry is gone before the sweep"
    );
    if has_cgroup {
        assert!(!leftovers(&id).iter().all(|l| !l.starts_with("cgroup")));
    }
    let swept = kubelab_sandbox::runtime::sweep(&rt);
    assert!(swept.contains(&id), "{swept:?}");
    assert!(leftovers(&id).is_empty(), "{:?}", leftovers(&id));
    assert!(!rt.join(&id).exists(), "the sweep left the runtime entry");
    // (Recursive: the runtime dir also holds the shared rootfs skeleton cache.)
    let _ = std::fs::remove_dir_all(&rt);
}

#[test]
fn cgroup_v2_mechanics_create_join_kill_remove() {
    if skip(userns_unavailable()) {
        return;
    }
    let hs = kubelab_sandbox::cgroup::hierarchies();
    let Some(v2) = hs.iter().find(|h| h.version == 2) else {
        eprintln!("SKIP: no cgroup2 mount");
        return;
    };
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: forcing v2 at the hierarchy root needs root");
        return;
    }
    let id = format!("v2mech{}", std::process::id());
    let mut o = opts(StdioMode::Null);
    o.id = Some(id.clone());
    o.cgroup_version = Some(2);
    let mut s = spec(&["/bin/sh", "-c", "sleep 100 & sleep 100"]);
    // Only ask for limits the v2 hierarchy can give (none on a hybrid host).
    if v2.controllers.iter().any(|c| c == "pids") {
        s.limits.pids = Some(12);
    }
    let mut sb = Sandbox::spawn(&s, &o).unwrap();
    let cg = sb
        .cgroup()
        .unwrap_or_else(|| panic!("no cgroup: {:?}", sb.cgroup_note()))
        .clone();
    assert_eq!(cg.version, 2);
    let dir = cg.pids.clone().unwrap();
    assert!(
        dir.starts_with(&v2.mount) && dir.ends_with(format!("kubelab/{id}")),
        "{dir:?}"
    );
    sample_until(15, || cg.pids_in(), |p| p.len() >= 4);
    assert!(
        cg.pids_in().contains(&(sb.pid() as i32)),
        "{:?}",
        cg.pids_in()
    );
    assert!(cg.pids_in().len() >= 4, "{:?}", cg.pids_in());
    let pids = cg.pids_in();
    sb.kill().unwrap();
    assert!(wait_clean(&id, &pids).is_empty(), "{:?}", leftovers(&id));
    assert!(!dir.exists());
}
