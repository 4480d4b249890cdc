//! Host capability checks for `kubelab doctor`: what works, what does not,
//! and the fix for each.

use super::hostfacts;
use crate::cgroup::{self, Mode};
use std::fs;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Labs run, but something is degraded (e.g. no cgroup limits).
    Warn,
    /// Labs cannot run.
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
    /// What to do about it (empty when Ok).
    pub fix: String,
}

fn read(p: &str) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

fn check(
    name: &'static str,
    level: Level,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        name,
        level,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Kernel (major, minor) from uname.
pub fn kernel_version() -> (u32, u32, String) {
    let rel = read("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut it = rel.split(['.', '-']).map(|x| x.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0), rel)
}

/// Static checks (no sandbox is started).
pub fn static_checks() -> Vec<Check> {
    let mut out = Vec::new();
    let uid = crate::sys::geteuid();
    let (maj, min, rel) = kernel_version();
    out.push(if (maj, min) >= (5, 11) {
        check("kernel", Level::Ok, format!("Linux {rel}"), "")
    } else {
        check(
            "kernel",
            Level::Fail,
            format!("Linux {rel}: overlayfs in a user namespace needs 5.11 or newer"),
            "upgrade the kernel (any distribution kernel from 2021 on works)",
        )
    });
    match read("/proc/sys/user/max_user_namespaces").and_then(|v| v.parse::<u64>().ok()) {
        Some(0) => out.push(check(
            "user namespaces",
            Level::Fail,
            "user.max_user_namespaces = 0: user namespaces are disabled",
            "sysctl -w user.max_user_namespaces=15000",
        )),
        Some(n) => out.push(check(
            "user namespaces",
            Level::Ok,
            format!("user.max_user_namespaces = {n}"),
            "",
        )),
        None => out.push(check(
            "user namespaces",
            Level::Fail,
            "/proc/sys/user/max_user_namespaces is missing: kernel without CONFIG_USER_NS",
            "use a kernel built with CONFIG_USER_NS=y",
        )),
    }
    if uid != 0 {
        if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
            out.push(check(
                "unprivileged userns",
                Level::Fail,
                "kernel.unprivileged_userns_clone = 0 (Debian/Arch switch)",
                "sudo sysctl -w kernel.unprivileged_userns_clone=1",
            ));
        }
        if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
            out.push(check(
                "AppArmor userns",
                Level::Fail,
                "kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10+): unprivileged \
                 processes get a user namespace without capabilities",
                "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an \
                 AppArmor profile with `userns,` for the kubelab binary",
            ));
        }
    }
    let mode = cgroup::mode();
    let hs = cgroup::hierarchies();
    let detail = match mode {
        Mode::V2 => {
            let h = hs.iter().find(|h| h.version == 2);
            format!(
                "{} at {}; controllers: {}",
                mode.name(),
                h.map(|h| h.mount.display().to_string()).unwrap_or_default(),
                h.map(|h| h.controllers.join(" ")).unwrap_or_default()
            )
        }
        _ => format!(
            "{}; v1 controllers: {}",
            mode.name(),
            hs.iter()
                .filter(|h| h.version == 1)
                .flat_map(|h| h.controllers.clone())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    };
    out.push(match mode {
        Mode::None => check(
            "cgroups",
            Level::Warn,
            "no cgroup filesystem mounted: sandboxes run without limits",
            "mount -t cgroup2 none /sys/fs/cgroup",
        ),
        _ => check("cgroups", Level::Ok, detail, ""),
    });
    // Masked /proc (Docker, some CI): a fresh proc mount is refused.
    let masked = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.len() > 4 && f[4].starts_with("/proc/") && l.contains(" - ")
        })
        .count();
    out.push(if masked > 0 {
        check(
            "masked /proc",
            Level::Warn,
            format!("{masked} mounts over parts of /proc (container runtime masking): a fresh /proc may be refused"),
            "run kubelab on the host or in a container started with --privileged / --security-opt systempaths=unconfined",
        )
    } else {
        check("masked /proc", Level::Ok, "/proc is not masked", "")
    });
    // The kernel lists a Seccomp field only when built with seccomp; the
    // filter needs CONFIG_SECCOMP_FILTER too (same kernels in practice).
    let status = read("/proc/self/status").unwrap_or_default();
    out.push(if status.lines().any(|l| l.starts_with("Seccomp:")) {
        check(
            "seccomp",
            Level::Ok,
            "sandboxes get a filter denying keyrings, bpf, perf, io_uring, userfaultfd, modules",
            "",
        )
    } else {
        check(
            "seccomp",
            Level::Warn,
            "kernel without seccomp: sandboxes run without the syscall filter",
            "use a kernel built with CONFIG_SECCOMP_FILTER=y (every distribution kernel is)",
        )
    });
    out.push(match hostfacts::static_elf(Path::new(hostfacts::BUSYBOX)) {
        Ok(()) => check(
            "busybox",
            Level::Ok,
            "/bin/busybox is statically linked (rootfs = \"busybox\" and the rootfs labs work)",
            "",
        ),
        Err(why) => check(
            "busybox",
            Level::Warn,
            format!("{why}: rootfs = \"busybox\" and the labs that build a rootfs by hand skip"),
            "install a static busybox (Debian/Ubuntu: apt-get install busybox-static)",
        ),
    });
    out.push(match hostfacts::tmpfs_user_xattrs() {
        Ok(()) => check(
            "tmpfs xattrs",
            Level::Ok,
            "tmpfs keeps user.* xattrs: labs can mount an overlay on tmpfs",
            "",
        ),
        Err(why) => check(
            "tmpfs xattrs",
            Level::Warn,
            format!("{why}; the overlay steps of lessons 07 and 08 skip"),
            "a newer kernel (Ubuntu's HWE kernel, Debian's backports kernel)",
        ),
    });
    out
}

/// Which way sandboxes get their cgroup limits here: root, a delegated
/// subtree, a systemd scope from the user's manager (made now, by running
/// `helper`, an executable that calls [`crate::dispatch`]), or none, with
/// the one command that fixes it.
pub fn limits_path_check(helper: &Path) -> Check {
    use crate::cgroup::delegation::{self as d, LimitsPath};
    const NAME: &str = "cgroup limits path";
    let with_controllers = |what: String, dir: &Path| {
        let missing = d::missing_controllers(dir);
        if missing.is_empty() {
            check(NAME, Level::Ok, what, "")
        } else {
            check(
                NAME,
                Level::Warn,
                format!(
                    "{what}, but the {} controller(s) are not delegated to it: labs with \
                     those limits run without any",
                    missing.join(", ")
                ),
                d::DELEGATE_FIX,
            )
        }
    };
    match d::limits_path(helper) {
        LimitsPath::Root => check(
            NAME,
            Level::Ok,
            "root: kubelab/<id> in the host's cgroups",
            "",
        ),
        LimitsPath::Delegated(dir) => {
            with_controllers(format!("delegated subtree {}", dir.display()), &dir)
        }
        LimitsPath::SystemdScope(dir) => with_controllers(
            format!(
                "systemd scope {} (Delegate=yes, from your systemd user manager)",
                dir.display()
            ),
            &dir,
        ),
        LimitsPath::None { why, fix } => check(
            NAME,
            Level::Warn,
            format!("none: sandboxes run without limits: {why}"),
            fix,
        ),
    }
}

/// Summarises a probe sandbox run by the caller (see `kubelab doctor`).
pub fn probe_result(result: Result<(i32, Option<String>), crate::error::Error>) -> Vec<Check> {
    match result {
        Ok((0, note)) => {
            let mut v = vec![check(
                "sandbox",
                Level::Ok,
                "a sandbox with every namespace, overlay rootfs and pivot_root ran /bin/true",
                "",
            )];
            v.push(match note {
                None => check(
                    "cgroup limits",
                    Level::Ok,
                    "the probe sandbox got its own cgroup",
                    "",
                ),
                Some(n) => check(
                    "cgroup limits",
                    Level::Warn,
                    "sandboxes run without limits",
                    n,
                ),
            });
            v
        }
        Ok((code, _)) => vec![check(
            "sandbox",
            Level::Fail,
            format!("the probe sandbox exited with {code}"),
            "run `kubelab run -- /bin/true` to see the error",
        )],
        Err(e) => vec![check(
            "sandbox",
            Level::Fail,
            format!("the probe sandbox failed: {e}"),
            "see the checks above",
        )],
    }
}
