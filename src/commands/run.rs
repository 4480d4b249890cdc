//! `kubelab run`: a tiny `docker run` on kubelab's sandbox engine.

use crate::context::Context;
use kubelab_sandbox::front::{self, Foreground};
use kubelab_sandbox::spec::{ByteSize, Cpus, Mount, Namespace, Rootfs, Spec};
use kubelab_sandbox::Error;
use std::path::PathBuf;
use std::str::FromStr;

/// Run a command in a fresh sandbox; its exit code is passed through.
///
/// kubelab's own failures exit with 125 (126: command not executable,
/// 127: command not found) and name the option to fix.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  kubelab run -- hostname\n  kubelab run -it --hostname lab --memory 64M -- bash\n  kubelab run --rootfs busybox --pids 32 -- sh -c 'ps'\n  kubelab run --ns pid,mount -v /srv:/data:ro -- ls /data"
)]
pub struct RunArgs {
    /// Namespaces to create (comma separated or repeated): pid, uts, ipc,
    /// mount, net, user, cgroup. Default: all. `user` is always added.
    #[arg(long = "ns", value_name = "NS", value_delimiter = ',')]
    pub ns: Vec<String>,
    /// Hostname inside the sandbox.
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Root filesystem: host, busybox, an absolute DIR, or oci:DIR.
    #[arg(long, value_name = "ROOTFS", default_value = "host")]
    pub rootfs: String,
    /// Memory limit, e.g. 64M.
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// CPU quota in cores, e.g. 0.2.
    #[arg(long, value_name = "CORES", allow_hyphen_values = true)]
    pub cpus: Option<String>,
    /// Maximum number of processes.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub pids: Option<String>,
    /// Bind mount SRC:DST[:ro|rw] (read-write unless :ro).
    #[arg(short = 'v', long = "volume", value_name = "SRC:DST[:ro]")]
    pub volumes: Vec<String>,
    /// A tmpfs at DST, optionally limited: DST[:SIZE].
    #[arg(long = "tmpfs", value_name = "DST[:SIZE]")]
    pub tmpfs: Vec<String>,
    /// Environment variable K=V.
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Working directory inside.
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Keep stdin open and forward it (with -t: through the PTY).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a terminal (PTY) inside the sandbox.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Keep every capability inside the sandbox's user namespace.
    #[arg(long)]
    pub privileged: bool,
    /// Run kubelab's init as PID 1 (reaps zombies, forwards signals) with CMD
    /// as PID 2, like `docker run --init`. Default: CMD is PID 1, as in
    /// `docker run`, and ignores signals it has no handler for (a second
    /// Ctrl-C then kills the sandbox). With --spec, the file's `init` is kept.
    #[arg(long)]
    pub init: bool,
    /// Start from a sandbox spec in a TOML file; options above override it.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// The command and its arguments (default: /bin/sh).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// Builds the spec from the options; errors name the option.
pub fn build_spec(a: &RunArgs) -> Result<Spec, Error> {
    let mut spec = match &a.spec {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::new("--spec", format!("{}: {e}", p.display())))?;
            toml::from_str::<Spec>(&text)
                .map_err(|e| Error::new("--spec", format!("{}: {e}", p.display())))?
        }
        None => Spec::default(),
    };
    if !a.ns.is_empty() {
        let mut v = Vec::new();
        for n in &a.ns {
            let ns = Namespace::from_str(n.trim()).map_err(|e| Error::new("--ns", e.message))?;
            if !v.contains(&ns) {
                v.push(ns);
            }
        }
        spec.namespaces = v;
    }
    if a.hostname.is_some() {
        spec.hostname = a.hostname.clone();
    }
    if a.rootfs != "host" || a.spec.is_none() {
        let mut r = Rootfs::from_str(&a.rootfs).map_err(|e| Error::new("--rootfs", e.message))?;
        if let Rootfs::Dir(d) | Rootfs::Oci(d) = &mut r {
            if d.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    *d = cwd.join(&*d);
                }
            }
        }
        spec.rootfs = r;
    }
    if let Some(m) = &a.memory {
        spec.limits.memory =
            Some(ByteSize::from_str(m).map_err(|e| Error::new("--memory", e.message))?);
    }
    if let Some(c) = &a.cpus {
        spec.limits.cpus = Some(Cpus::from_str(c).map_err(|e| Error::new("--cpus", e.message))?);
    }
    if let Some(p) = &a.pids {
        let n: u64 = p.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            Error::new(
                "--pids",
                format!("`{p}` is not a process count; give a positive number, e.g. 32"),
            )
        })?;
        spec.limits.pids = Some(n);
    }
    for v in &a.volumes {
        let mut m = Mount::parse_volume(v).map_err(|e| Error::new("--volume", e.message))?;
        if let Mount::Bind { source, .. } = &mut m {
            if source.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    *source = cwd.join(&*source);
                }
            }
        }
        spec.mounts.push(m);
    }
    for t in &a.tmpfs {
        let (dst, size) = match t.split_once(':') {
            Some((d, s)) => (
                d,
                Some(ByteSize::from_str(s).map_err(|e| Error::new("--tmpfs", e.message))?),
            ),
            None => (t.as_str(), None),
        };
        if !dst.starts_with('/') {
            return Err(Error::new(
                "--tmpfs",
                format!("`{dst}` must be an absolute path"),
            ));
        }
        spec.mounts.push(Mount::Tmpfs {
            target: dst.into(),
            size,
        });
    }
    for kv in &a.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::new("--env", format!("`{kv}` is not K=V")))?;
        if k.is_empty() {
            return Err(Error::new("--env", format!("`{kv}` has an empty name")));
        }
        spec.env.insert(k.to_string(), v.to_string());
    }
    if a.workdir.is_some() {
        spec.workdir = a.workdir.clone();
    }
    if a.privileged {
        spec.privileged = true;
    }
    if a.init {
        spec.init = true;
    } else if a.spec.is_none() {
        spec.init = false;
    }
    if !a.command.is_empty() {
        spec.command = a.command.clone();
    }
    Ok(spec)
}

pub fn run(_ctx: &Context, a: RunArgs) -> anyhow::Result<i32> {
    let spec = match build_spec(&a) {
        Ok(s) => s,
        Err(e) => return Ok(front::report(&e)),
    };
    let tty = a.tty && crossterm::tty::IsTty::is_tty(&std::io::stdin());
    if a.tty && !tty {
        eprintln!("kubelab: -t: stdin is not a terminal; running without a PTY");
    }
    let fg = Foreground::new(spec, tty, a.interactive);
    // The sandbox starts from here (a fork is fastest); if it runs on, the
    // waiting sides move into the small helper installed beside us.
    let helper = front::helper_beside_current_exe();
    Ok(front::run(&fg, helper.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: RunArgs,
    }

    fn parse(args: &[&str]) -> Result<Spec, Error> {
        let t = T::try_parse_from(std::iter::once("run").chain(args.iter().copied())).unwrap();
        build_spec(&t.a)
    }

    #[test]
    fn options_build_the_spec() {
        let s = parse(&[
            "--ns",
            "pid,uts",
            "--hostname",
            "h",
            "--memory",
            "64M",
            "--cpus",
            "0.5",
            "--pids",
            "32",
            "-v",
            "/srv:/data:ro",
            "-e",
            "A=b",
            "-w",
            "/tmp",
            "--",
            "sh",
            "-c",
            "echo",
        ])
        .unwrap();
        assert_eq!(s.namespaces, vec![Namespace::Pid, Namespace::Uts]);
        assert_eq!(s.limits.memory, Some(ByteSize(64 << 20)));
        assert_eq!(s.limits.pids, Some(32));
        assert_eq!(s.command, vec!["sh", "-c", "echo"]);
        assert_eq!(s.env.get("A").map(String::as_str), Some("b"));
    }

    #[test]
    fn bad_options_name_the_option() {
        assert_eq!(parse(&["--memory", "64XB"]).unwrap_err().field, "--memory");
        assert_eq!(parse(&["--pids", "-1"]).unwrap_err().field, "--pids");
        assert_eq!(parse(&["--cpus", "-1"]).unwrap_err().field, "--cpus");
        assert_eq!(parse(&["--ns", "pidd"]).unwrap_err().field, "--ns");
        assert_eq!(parse(&["-e", "novalue"]).unwrap_err().field, "--env");
    }
}
