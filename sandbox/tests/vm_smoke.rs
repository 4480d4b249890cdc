//! Proves the cgroup v2 VM pipeline (`sandbox/tests/vm/run.sh`): when this
//! binary runs inside the VM it checks the facts the VM's init promises —
//! a pure cgroup v2 hierarchy with cpu, memory and pids delegated — and that
//! the unprivileged run really can create and limit cgroups in its delegated
//! subtree. Outside the VM it prints `SKIP:` and returns.

use std::fs;
use std::path::{Path, PathBuf};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Set by the VM's init (`sandbox/tests/vm/init.sh`) to `root` or `user`.
fn vm_role() -> Option<String> {
    std::env::var("KUBELAB_VM").ok().filter(|v| !v.is_empty())
}

fn skip_outside_vm(test: &str) -> Option<String> {
    let role = vm_role();
    if role.is_none() {
        eprintln!("SKIP: {test}: not inside the kubelab cgroup v2 VM (KUBELAB_VM unset; run sandbox/tests/vm/run.sh)");
    }
    role
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The cgroup this process lives in, from the v2 line `0::/path`.
fn own_cgroup() -> PathBuf {
    let text = read(Path::new("/proc/self/cgroup"));
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_else(|| panic!("no cgroup v2 line in /proc/self/cgroup: {text:?}"));
    Path::new(CGROUP_ROOT).join(rel.trim_start_matches('/'))
}

#[test]
fn vm_has_pure_cgroup_v2_with_controllers() {
    let Some(_) = skip_outside_vm("vm_has_pure_cgroup_v2_with_controllers") else {
        return;
    };
    let mounts = read(Path::new("/proc/self/mounts"));
    let line = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(CGROUP_ROOT))
        .unwrap_or_else(|| panic!("nothing mounted at {CGROUP_ROOT}:\n{mounts}"));
    assert_eq!(line.split_whitespace().nth(2), Some("cgroup2"), "{line}");
    assert!(
        line.contains("nsdelegate"),
        "cgroup2 mounted without nsdelegate: {line}"
    );
    assert!(
        !mounts
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("cgroup")),
        "a cgroup v1 hierarchy is mounted in the VM:\n{mounts}"
    );

    let controllers = read(&Path::new(CGROUP_ROOT).join("cgroup.controllers"));
    for want in ["cpu", "memory", "pids"] {
        assert!(
            controllers.split_whitespace().any(|c| c == want),
            "{want} missing from cgroup.controllers: {controllers:?}"
        );
    }
}

#[test]
fn vm_run_role_matches_uid() {
    let Some(role) = skip_outside_vm("vm_run_role_matches_uid") else {
        return;
    };
    let root = kubelab_sandbox::is_root();
    match role.as_str() {
        "root" => assert!(root, "role root but not running as root"),
        "user" => assert!(!root, "role user but running as root"),
        other => panic!("unknown KUBELAB_VM role {other:?}"),
    }
}

/// Creates a child cgroup where this process may (its own cgroup's parent for
/// the delegated user; the root for root), limits it, and removes it again.
#[test]
fn vm_can_create_and_limit_a_cgroup() {
    let Some(role) = skip_outside_vm("vm_can_create_and_limit_a_cgroup") else {
        return;
    };
    let base = if role == "user" {
        // Like systemd's Delegate=yes: the process sits in a leaf of a
        // subtree owned by its uid, so the leaf's parent is writable.
        let own = own_cgroup();
        own.parent()
            .expect("delegated cgroup has a parent")
            .to_path_buf()
    } else {
        PathBuf::from(CGROUP_ROOT)
    };
    let enabled = read(&base.join("cgroup.subtree_control"));
    for want in ["cpu", "memory", "pids"] {
        assert!(
            enabled.split_whitespace().any(|c| c == want),
            "{want} not enabled in {}: {enabled:?}",
            base.display()
        );
    }

    let child = base.join(format!("vm-smoke-{}", std::process::id()));
    fs::create_dir(&child).unwrap_or_else(|e| panic!("mkdir {}: {e}", child.display()));
    let result = std::panic::catch_unwind(|| {
        fs::write(child.join("pids.max"), "7").expect("write pids.max");
        assert_eq!(read(&child.join("pids.max")).trim(), "7");
        fs::write(child.join("memory.max"), "16777216").expect("write memory.max");
        assert_eq!(read(&child.join("memory.max")).trim(), "16777216");
        fs::write(child.join("cpu.max"), "20000 100000").expect("write cpu.max");
        assert_eq!(read(&child.join("cpu.max")).trim(), "20000 100000");
    });
    fs::remove_dir(&child).unwrap_or_else(|e| panic!("rmdir {}: {e}", child.display()));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
