//! `kubelab doctor`: can this machine run the labs? Each check with its fix.

use crate::context::Context;
use kubelab_sandbox::doctor::{self, Level};
use kubelab_sandbox::spec::Spec;
use kubelab_sandbox::{Sandbox, SpawnOptions, StdioMode};
use std::io::Write;

/// Check what this host supports for labs (user namespaces, cgroups,
/// overlayfs, /proc) and say how to fix what is missing.
///
/// Exits 1 when labs cannot run here, 0 otherwise (warnings included).
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Only the static checks; do not start a probe sandbox.
    #[arg(long)]
    pub no_probe: bool,
}

pub fn run(ctx: &Context, a: DoctorArgs) -> anyhow::Result<i32> {
    let mut checks = doctor::static_checks();
    // Before the probe: on a systemd host this may move kubelab into its
    // delegated scope, which the probe sandbox then uses.
    checks.push(doctor::limits_path_check(
        &SpawnOptions::default().helper_exe,
    ));
    if !a.no_probe {
        // With limits, so the probe needs the memory, cpu and pids controllers
        // (a rootless v2 host must have them delegated).
        let mut spec = Spec {
            command: vec!["/bin/true".into()],
            ..Spec::default()
        };
        spec.limits.memory = Some(kubelab_sandbox::spec::ByteSize(64 << 20));
        spec.limits.pids = Some(64);
        spec.limits.cpus = kubelab_sandbox::spec::Cpus::new(1.0).ok();
        let opts = SpawnOptions {
            stdio: StdioMode::Null,
            ..SpawnOptions::default()
        };
        let probe = Sandbox::spawn(&spec, &opts).and_then(|mut sb| {
            let note = sb.cgroup_note().map(String::from);
            let code = sb
                .wait()
                .map_err(|e| kubelab_sandbox::Error::new("sandbox", e.to_string()))?;
            Ok((code, note))
        });
        checks.extend(doctor::probe_result(probe));
    }
    if !a.no_probe {
        checks.extend(world_checks());
    }
    checks.push(match kubelab_sandbox::front::helper_beside_current_exe() {
        Some(h) => doctor::Check {
            name: "kubelab-helper",
            level: Level::Ok,
            detail: format!("{} (sandboxes' long-lived processes use it)", h.display()),
            fix: String::new(),
        },
        None => doctor::Check {
            name: "kubelab-helper",
            level: Level::Warn,
            detail: "not installed beside kubelab: each sandbox keeps about 1 MB more \
                     (kubelab runs its sandboxes itself)"
                .into(),
            fix: "install both binaries: `cargo install --path .` (or `cargo build --release \
                  --bins` in the source tree)"
                .into(),
        },
    });
    checks.push(pod_network_check());
    checks.push(services_check());
    // Cluster labs (never a FAIL: the other labs still run without one).
    let cluster = crate::cluster::lab::block_on(|| {
        Box::pin(crate::cluster::doctor::checks(
            crate::cluster::lab::context(),
        ))
    });
    match cluster {
        Ok(c) => checks.extend(c),
        Err(e) => checks.push(doctor::Check {
            name: "cluster",
            level: Level::Warn,
            detail: e,
            fix: String::new(),
        }),
    }
    // writeln!, not println!: `kubelab doctor | head` must not panic.
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    let zh = ctx.lang == crate::course::model::Lang::Zh;
    for c in &checks {
        let tag = match (c.level, zh) {
            (Level::Ok, false) => "ok  ",
            (Level::Warn, false) => "warn",
            (Level::Fail, false) => "FAIL",
            (Level::Ok, true) => "正常",
            (Level::Warn, true) => "注意",
            (Level::Fail, true) => "失败",
        };
        failed |= c.level == Level::Fail;
        // The check's own words (detail, fix) come from the sandbox engine
        // in English; its name and the verdict follow --lang.
        let name = if zh { zh_name(c.name) } else { c.name };
        writeln!(out, "[{tag}] {} {}", pad(name, 20), c.detail)?;
        if !c.fix.is_empty() {
            let fix = if zh { "解决：" } else { "fix: " };
            writeln!(out, "       {} {fix}{}", pad("", 20), c.fix)?;
        }
    }
    let verdict = match (failed, zh) {
        (true, false) => "kubelab cannot run its labs here: fix the FAIL lines above.",
        (false, false) => "kubelab can run its labs here.",
        (true, true) => "kubelab 无法在这台机器上运行实验：请先解决上面标为「失败」的项。",
        (false, true) => "kubelab 可以在这台机器上运行实验。",
    };
    writeln!(out, "{verdict}")?;
    Ok(if failed { 1 } else { 0 })
}

/// Lab worlds (docs/worlds.md): each network feature tried in a node of a
/// one-node world, as this user. Never a FAIL: only the lessons that need
/// a missing feature are skipped.
fn world_checks() -> Vec<doctor::Check> {
    use kubelab_sandbox::world::{self, facts::Outcome};
    let helper = kubelab_sandbox::front::helper_beside_current_exe()
        .unwrap_or_else(|| std::path::PathBuf::from("/proc/self/exe"));
    let facts = match world::facts::probe(&helper, &world::default_dir()) {
        Ok(f) => f,
        Err(e) => {
            return vec![doctor::Check {
                name: "world",
                level: Level::Warn,
                detail: format!("cannot build a lab world here: {}", e.message),
                fix: "see the user-namespace line above; lessons with a [world] are skipped".into(),
            }]
        }
    };
    facts
        .into_iter()
        .map(|f| {
            let (level, fix) = match f.outcome {
                Outcome::Works => (Level::Ok, String::new()),
                Outcome::NoTool => (Level::Warn, format!("apt install {}", f.package)),
                Outcome::Fails => (Level::Warn, world_fix(f.name)),
            };
            doctor::Check {
                name: f.name,
                level,
                detail: f.detail,
                fix,
            }
        })
        .collect()
}

/// What to do about a feature a world's node cannot use.
fn world_fix(name: &str) -> String {
    match name {
        "world: tun" => "TUN needs /dev/net/tun readable and writable by you (Debian ships it \
                         mode 0666: `chmod 0666 /dev/net/tun`); lessons using TUN are skipped"
            .into(),
        "world: ipvs" => "IPVS needs a kernel with CONFIG_IP_VS, and its netlink API only \
                          answers the host's own user namespace; lessons using it are skipped"
            .into(),
        "world: dummy" => "a kernel without CONFIG_DUMMY; lessons use a bridge without ports \
                           instead"
            .into(),
        _ => "this kernel does not allow it in a network namespace owned by a user \
              namespace; lessons using it are skipped"
            .into(),
    }
}

/// `s` padded with spaces to `w` display columns (CJK-aware).
fn pad(s: &str, w: usize) -> String {
    let n = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

/// A check's name in Chinese (unknown names stay as they are).
fn zh_name(name: &'static str) -> &'static str {
    match name {
        "kernel" => "内核",
        "user namespaces" => "用户命名空间",
        "cgroups" => "cgroup",
        "masked /proc" => "/proc 屏蔽",
        "seccomp" => "seccomp 过滤",
        "busybox" => "busybox",
        "sandbox" => "沙箱",
        "cgroup limits" => "cgroup 限制",
        other => other,
    }
}

/// Whether `kubelab node` can make Services (nat rules) and run the
/// cluster DNS (dnsmasq), both in its own network namespace.
fn services_check() -> doctor::Check {
    use kubelab_node::sandbox_runtime::{why_no_cluster_dns, why_no_service_rules};
    let missing: Vec<String> = [why_no_service_rules(), why_no_cluster_dns()]
        .into_iter()
        .flatten()
        .collect();
    let (level, detail, fix) = if missing.is_empty() {
        (
            Level::Ok,
            "iptables-restore and dnsmasq: `kubelab node` Services get kube-proxy's rules \
             and cluster DNS"
                .to_string(),
            String::new(),
        )
    } else {
        (
            Level::Warn,
            missing.join("; "),
            "apt-get install iptables dnsmasq-base".to_string(),
        )
    };
    doctor::Check {
        name: "services",
        level,
        detail,
        fix,
    }
}

/// Whether `kubelab node` gives Pods IPs: Debian's CNI plugins (rootless too:
/// the Pods' user namespaces are made inside the node's).
fn pod_network_check() -> doctor::Check {
    use kubelab_node::cni::DEBIAN_PLUGIN_DIR;
    use kubelab_node::sandbox_runtime::network::missing_plugins;
    let missing = missing_plugins(&[DEBIAN_PLUGIN_DIR.into()]);
    let (level, detail, fix) = if !missing.is_empty() {
        (
            Level::Warn,
            format!(
                "no CNI plugin {} in {DEBIAN_PLUGIN_DIR}: `kubelab node` Pods get loopback only \
                 (no Pod IPs, no tcpSocket/httpGet probes)",
                missing.join(", ")
            ),
            "apt install containernetworking-plugins".to_string(),
        )
    } else {
        (
            Level::Ok,
            format!(
                "CNI plugins bridge, host-local, loopback, portmap in {DEBIAN_PLUGIN_DIR}: \
                 `kubelab node` Pods get IPs"
            ),
            String::new(),
        )
    };
    doctor::Check {
        name: "pod network",
        level,
        detail,
        fix,
    }
}
