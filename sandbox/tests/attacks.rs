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

/// The test helper as uid 65534 (`run-print`), with a runtime dir of its
/// own; `None` (with a visible SKIP) where unprivileged user namespaces are
/// switched off.
fn nobody_or_skip(args: &[&str]) -> Option<(Option<i32>, String, String)> {
    if std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
        .is_ok_and(|v| v.trim() == "0")
    {
        eprintln!("SKIP: kernel.unprivileged_userns_clone=0: no rootless sandbox here");
        return None;
    }
    Some(helper_as_nobody(args))
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
    let Some((code, out, err)) = nobody_or_skip(&["run-print", "--", "cat", "/proc/self/uid_map"])
    else {
        return;
    };
    assert_eq!(code, Some(0), "{out}{err}");
    let f: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(f, ["0", "65534", "1"], "{out}");
}

/// Mounts cgroupfs inside (v1 pids, memory, freezer; v2) and tries to raise
/// the limits and to make directories; then starts more processes than
/// allowed. Prints `mounted: ...`, `raised: ...` (what got through), then
/// `spawned`. `{ID}` names the directories, to find them on the host.
const CGROUP_ATTACK: &str = r#"
m=; r=
mkdir -p /cg/pids /cg/mem /cg/frz /cg/v2
if mount -t cgroup -o pids none /cg/pids 2>/dev/null; then
  m="$m v1-pids"
  echo max > /cg/pids/pids.max 2>/dev/null && r="$r v1-pids.max"
  mkdir /cg/pids/kl-attack-{ID} 2>/dev/null && r="$r v1-pids-mkdir"
fi
if mount -t cgroup -o memory none /cg/mem 2>/dev/null; then
  m="$m v1-memory"
  echo -1 > /cg/mem/memory.limit_in_bytes 2>/dev/null && r="$r v1-memory.limit"
fi
if mount -t cgroup -o freezer none /cg/frz 2>/dev/null; then
  m="$m v1-freezer"
  mkdir /cg/frz/kl-attack-{ID} 2>/dev/null && r="$r v1-freezer-mkdir"
fi
if mount -t cgroup2 none /cg/v2 2>/dev/null; then
  m="$m v2"
  echo max > /cg/v2/pids.max 2>/dev/null && r="$r v2-pids.max"
  echo max > /cg/v2/memory.max 2>/dev/null && r="$r v2-memory.max"
  mkdir /cg/v2/kl-attack-{ID} 2>/dev/null && r="$r v2-mkdir"
fi
echo "mounted:$m"
echo "raised:$r"
# (A shell dies at its first failed fork: an inner one does the forking.)
sh -c 'i=0; while [ $i -lt 60 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done' 2>/dev/null
echo spawned
exec sleep 30 >/dev/null 2>&1
"#;

/// Directories named `kl-attack-<id>` in any cgroup hierarchy of the host
/// (a few levels deep), with whether each lies inside `own`.
fn attack_dirs(id: &str) -> Vec<std::path::PathBuf> {
    let name = format!("kl-attack-{id}");
    let mut found = Vec::new();
    let mut todo: Vec<(std::path::PathBuf, u32)> = kubelab_sandbox::cgroup::hierarchies()
        .into_iter()
        .map(|h| (h.mount, 0))
        .chain(
            std::fs::read_dir("/sys/fs/cgroup")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| (e.path(), 0)),
        )
        .collect();
    while let Some((d, depth)) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if e.file_name().to_string_lossy() == name {
                found.push(p);
            } else if depth < 5 {
                todo.push((p, depth + 1));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A visible SKIP for each hierarchy the attack could not mount here (v1
/// parts on a cgroup v2 host, v2 where none is mounted).
fn skip_unmounted(out: &str) {
    let mounted = out
        .lines()
        .find_map(|l| l.strip_prefix("mounted:"))
        .unwrap_or("");
    for part in ["v1-pids", "v1-memory", "v1-freezer", "v2"] {
        if !mounted.split_whitespace().any(|m| m == part) {
            eprintln!(
                "SKIP (part): {part} could not be mounted inside: this host has no such hierarchy"
            );
        }
    }
}

fn remove_attack_dirs(dirs: &[std::path::PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}

#[test]
fn a_privileged_sandbox_cannot_lift_its_cgroup_limits_or_leave_its_cgroup() {
    if !root_or_skip("the cgroup escape") {
        return;
    }
    let id = format!("atk{}", std::process::id());
    let mut s = privileged();
    s.limits.pids = Some(32);
    s.limits.memory = Some(kubelab_sandbox::spec::ByteSize(64 << 20));
    s.command = vec![
        "/bin/sh".into(),
        "-c".into(),
        CGROUP_ATTACK.replace("{ID}", &id),
    ];
    let mut o = opts(StdioMode::Piped);
    o.id = Some(id.clone());
    let mut sb = Sandbox::spawn(&s, &o).unwrap();
    let Some(cg) = sb.cgroup().cloned() else {
        eprintln!("SKIP: no cgroup here: {:?}", sb.cgroup_note());
        return;
    };
    // Up to "spawned", while the sleepers still run (stderr: a thread).
    use std::io::{BufRead, Read};
    drop(sb.take_stdin());
    let mut e = sb.take_stderr().unwrap();
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = e.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    for l in std::io::BufReader::new(sb.take_stdout().unwrap()).lines() {
        let l = l.unwrap_or_default();
        out.push_str(&l);
        out.push('\n');
        if l == "spawned" {
            break;
        }
    }
    let st = sample_until(30, || cg.stats(), |st| st.pids_limit_hits > 0);
    let found = attack_dirs(&id);
    let own = cg.created.clone();
    let outside: Vec<_> = found
        .iter()
        .filter(|d| !own.iter().any(|o| d.starts_with(o)))
        .cloned()
        .collect();
    sb.kill().unwrap();
    let err = errs.join().unwrap();
    remove_attack_dirs(&found);
    eprintln!("{out}{err}stats: {st:?}");
    assert!(out.contains("spawned"), "{out}{err}");
    skip_unmounted(&out);
    let raised = out
        .lines()
        .find_map(|l| l.strip_prefix("raised:"))
        .unwrap_or("?");
    assert_eq!(raised.trim(), "", "the sandbox lifted its limits: {out}");
    assert!(
        outside.is_empty(),
        "cgroups created outside the sandbox's own: {outside:?}"
    );
    assert_eq!(st.pids_max, Some(32), "{st:?}");
    assert_eq!(st.memory_max, Some(64 << 20), "{st:?}");
    assert!(
        st.pids_limit_hits > 0,
        "60 sleepers never hit pids.max: {st:?}"
    );
    assert!(st.pids_current <= 32, "{st:?}");
}

#[test]
fn a_rootless_privileged_sandbox_cannot_leave_its_cgroup() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    let id = format!("atkrl{}", std::process::id());
    // No `exec sleep` at the end: the run must end for the output.
    let script = CGROUP_ATTACK
        .replace("{ID}", &id)
        .replace("exec sleep 30 >/dev/null 2>&1", "true");
    let Some((code, out, err)) = nobody_or_skip(&[
        "run-print",
        "--privileged",
        "--pids",
        "32",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]) else {
        return;
    };
    let found = attack_dirs(&id);
    remove_attack_dirs(&found);
    assert_eq!(code, Some(0), "{out}{err}");
    eprintln!("{out}{err}");
    skip_unmounted(&out);
    // Rootless, whatever the sandbox owns is its own delegated cgroup; here
    // only: nothing may appear outside it, and no limit may be raised.
    assert!(
        found
            .iter()
            .all(|d| d.to_string_lossy().contains("/kubelab/")),
        "cgroups created outside the sandbox's own: {found:?}"
    );
    let raised = out
        .lines()
        .find_map(|l| l.strip_prefix("raised:"))
        .unwrap_or("?");
    if err.contains("NOTE:") {
        eprintln!("SKIP (limits part): the rootless sandbox has no cgroup here: {err}");
        assert!(
            !raised.contains("mkdir"),
            "made a cgroup without having one: {out}"
        );
        return;
    }
    assert_eq!(raised.trim(), "", "the sandbox lifted its limits: {out}");
}

/// What a default or privileged sandbox can read or write of the host's
/// kernel interfaces that runc masks or makes read-only.
const MASK_PROBE: &str = r#"
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/acpi /proc/scsi /proc/asound /proc/timer_stats /sys/firmware /sys/devices/virtual/powercap; do
  [ -e "$f" ] || continue
  if [ -d "$f" ]; then n=$(ls -A "$f" 2>/dev/null | wc -l); else n=$(head -c 64 "$f" 2>/dev/null | wc -c); fi
  [ "$n" -gt 0 ] && echo "readable $f"
done
for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/hostname /proc/sys/vm/drop_caches /proc/sysrq-trigger /proc/irq/default_smp_affinity /proc/fs/nfsd/threads; do
  [ -e "$f" ] && [ -w "$f" ] && echo "writable $f"
done
echo probed
"#;

#[test]
fn masked_and_read_only_paths_in_default_and_privileged_sandboxes() {
    if skip(userns_unavailable()) {
        return;
    }
    for spec in [Spec::default(), privileged()] {
        let (code, out, err) = run_sh(spec.clone(), MASK_PROBE);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            out.trim(),
            "probed",
            "privileged={}: host kernel interfaces exposed",
            spec.privileged
        );
    }
    // A sandbox's own network namespace keeps its (namespaced) net.* sysctls.
    let (code, out, err) = run_sh(
        privileged(),
        "echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward",
    );
    assert_eq!((code, out.trim()), (0, "1"), "{err}");
}

#[test]
fn masked_paths_in_a_rootless_sandbox() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    for extra in [&[][..], &["--privileged"][..]] {
        let mut args = vec!["run-print"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/bin/sh", "-c", MASK_PROBE]);
        let Some((code, out, err)) = nobody_or_skip(&args) else {
            return;
        };
        assert_eq!(code, Some(0), "{out}{err}");
        assert_eq!(
            out.trim(),
            "probed",
            "{extra:?}: host kernel interfaces exposed"
        );
    }
}
