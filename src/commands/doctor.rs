//! `kubelab doctor`: can this machine run the labs? Each check with its fix.

use crate::cli::Context;
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

pub fn run(_ctx: &Context, a: DoctorArgs) -> anyhow::Result<i32> {
    let mut checks = doctor::static_checks();
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
    for c in &checks {
        let tag = match c.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => {
                failed = true;
                "FAIL"
            }
        };
        writeln!(out, "[{tag}] {:<20} {}", c.name, c.detail)?;
        if !c.fix.is_empty() {
            writeln!(out, "       {:<20} fix: {}", "", c.fix)?;
        }
    }
    writeln!(
        out,
        "{}",
        if failed {
            "kubelab cannot run its labs here: fix the FAIL lines above."
        } else {
            "kubelab can run its labs here."
        }
    )?;
    Ok(if failed { 1 } else { 0 })
}
