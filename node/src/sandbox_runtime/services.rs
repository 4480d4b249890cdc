//! The Service data plane in the node's network namespace: kube-proxy's
//! nat chains written with `iptables-restore --noflush` (Debian's is
//! iptables-nft, so `nft list ruleset` shows them too), and the cluster
//! DNS, dnsmasq, answering `cluster.local` from a hosts file the node
//! rewrites.
//!
//! The DNS address (the service CIDR's `.10`, kubeadm's 10.96.0.10) is
//! put on the node namespace's `lo` and dnsmasq listens there: Pods reach
//! it through their default route (the bridge), which ends in the node's
//! namespace, where the address is local. No DNAT is involved, so DNS
//! keeps working with no Service at all and UDP never meets a stale
//! conntrack entry after an endpoint change.
//!
//! dnsmasq runs with `--user=root --group=` (keep the user, change no
//! group): rootless, the node's user namespace maps one uid and one gid
//! (its root) and denies setgroups, so the default drop to `nobody` and
//! group `dip` fails; as root it reads its records from the node's state
//! directory (mode 0700), which `nobody` could not reread on SIGHUP. It
//! is root only inside the node's namespaces either way; it forwards no
//! query (`--no-resolv`, `--local=/cluster.local/`) and reads no file but
//! its records (`--conf-file=/dev/null`, `--no-hosts`). It ends with the
//! node: its helper stops it when the node drops it or dies
//! ([`kubelab_sandbox::net::daemon`]), and the records file goes with it.

use super::network::PodNetwork;
use crate::service::rules::render;
use crate::service::{dns, ServicePlan, CLUSTER_DOMAIN};
use kubelab_sandbox::net::daemon::NetnsDaemon;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Where Debian installs dnsmasq (package `dnsmasq-base`).
pub const DNSMASQ: &str = "/usr/sbin/dnsmasq";
/// How long dnsmasq has to say it started.
const DNS_START: Duration = Duration::from_secs(10);
/// Most bytes of a tool's error shown.
const MAX_ERROR: usize = 2048;

fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.is_file())
}

fn iptables_restore() -> Option<PathBuf> {
    find(&["/usr/sbin/iptables-restore", "/sbin/iptables-restore"])
}

fn ip_tool() -> Option<PathBuf> {
    find(&["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
}

fn clean(s: &[u8]) -> String {
    String::from_utf8_lossy(s)
        .trim()
        .chars()
        .take(MAX_ERROR)
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// Runs `cmd` (in the node's namespace), `input` on its stdin.
fn run(mut cmd: Command, input: &str, what: &str) -> Result<(), String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: {e}"))?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(input.as_bytes())
            .map_err(|e| format!("{what}: write its input: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}",
            out.status,
            clean(&out.stderr)
        ))
    }
}

/// The running DNS server and its records file.
struct Dns {
    /// Dropped first: dnsmasq stops before its file goes.
    daemon: NetnsDaemon,
    dir: PathBuf,
    hosts: PathBuf,
}

impl Drop for Dns {
    fn drop(&mut self) {
        // Fields drop after this body: stop dnsmasq before its file goes.
        self.daemon.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Plane {
    /// The namespace holder whose built-in chains jump to ours.
    jumps_for: Option<u32>,
    /// The per-Service chains the last sync made.
    chains: BTreeSet<String>,
    /// The DNS records the last sync asked for.
    records: String,
    /// The DNS server, or why there is none (decided once).
    dns: Option<Result<Dns, String>>,
}

/// The node's Services in its network namespace.
#[derive(Default)]
pub(crate) struct ServicePlane {
    plane: Mutex<Plane>,
}

impl ServicePlane {
    fn lock(&self) -> std::sync::MutexGuard<'_, Plane> {
        self.plane.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rewrites the KUBE chains and the DNS records for `plan`.
    pub(crate) fn sync(&self, network: &PodNetwork, plan: &ServicePlan) -> Result<(), String> {
        network.available()?;
        if let Some(why) = why_no_service_rules() {
            return Err(why);
        }
        let restore = iptables_restore().unwrap_or_default();
        let mut p = self.lock();
        let result = network
            .with_netns(|netns, _| {
                let first = p.jumps_for != Some(netns.pid());
                let rules = render(plan, first, &p.chains);
                let mut cmd = netns.command(&restore);
                cmd.arg("--noflush");
                run(
                    cmd,
                    &rules.text,
                    "iptables-restore in the node's network namespace",
                )?;
                p.jumps_for = Some(netns.pid());
                p.chains = rules.chains;
                Ok(())
            })
            .map_err(|e| e.to_string())?;
        let records = dns::hosts_file(plan);
        p.records = records.clone();
        if let Some(Ok(d)) = &mut p.dns {
            write_records(&d.hosts, &records)?;
            d.daemon
                .hangup()
                .map_err(|e| format!("tell dnsmasq to reread its records: {e}"))?;
        }
        result
    }

    /// Starts the cluster DNS at `address` unless it runs (or failed).
    pub(crate) fn dns(
        &self,
        network: &PodNetwork,
        helper_exe: &Path,
        address: Ipv4Addr,
    ) -> Result<(), String> {
        let mut p = self.lock();
        if p.dns.is_none() {
            let records = p.records.clone();
            p.dns = Some(start_dns(network, helper_exe, address, &records));
        }
        match &mut p.dns {
            Some(Ok(d)) => {
                if d.daemon.running() {
                    Ok(())
                } else {
                    Err("the cluster DNS (dnsmasq) exited".into())
                }
            }
            Some(Err(e)) => Err(e.clone()),
            None => Err("the cluster DNS did not start".into()),
        }
    }
}

/// Why this host's nodes cannot write Service rules, if they cannot.
pub fn why_no_service_rules() -> Option<String> {
    iptables_restore()
        .is_none()
        .then(|| "no iptables-restore: Services get no rules (apt-get install iptables)".into())
}

/// Why this host's nodes run without cluster DNS, if they do (said when
/// a node starts; each Pod's `MissingClusterDNS` event says it again).
pub fn why_no_cluster_dns() -> Option<String> {
    (!Path::new(DNSMASQ).is_file()).then(|| {
        format!("no {DNSMASQ}: the node runs without cluster DNS; Pods keep their image's /etc/resolv.conf (apt-get install dnsmasq-base)")
    })
}

fn write_records(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("write the DNS records {}: {e}", path.display()))
}

fn start_dns(
    network: &PodNetwork,
    helper_exe: &Path,
    address: Ipv4Addr,
    records: &str,
) -> Result<Dns, String> {
    network.available()?;
    if let Some(why) = why_no_cluster_dns() {
        return Err(why);
    }
    let ip = ip_tool().ok_or("no `ip`: the cluster DNS needs it (apt-get install iproute2)")?;
    network
        .with_netns(|netns, state_dir| {
            let dir = state_dir.join("dns");
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let hosts = dir.join("hosts");
            write_records(&hosts, records)?;
            let mut cmd = netns.command(&ip);
            cmd.args(["addr", "replace", &format!("{address}/32"), "dev", "lo"]);
            run(cmd, "", "put the cluster DNS's address on the node's lo")?;
            let arg = OsString::from;
            let argv = vec![
                arg(DNSMASQ.into()),
                arg("--keep-in-foreground".into()),
                arg("--log-facility=-".into()),
                arg("--conf-file=/dev/null".into()),
                arg("--pid-file".into()),
                arg("--user=root".into()),
                // Empty: no group change at all (setgroups is denied in
                // a rootless node's user namespace, so any change fails).
                arg("--group=".into()),
                arg("--no-resolv".into()),
                arg("--no-hosts".into()),
                arg(format!("--local=/{CLUSTER_DOMAIN}/")),
                arg("--domain-needed".into()),
                arg(format!("--listen-address={address}")),
                arg("--bind-interfaces".into()),
                arg("--cache-size=0".into()),
                arg(format!("--addn-hosts={}", hosts.display())),
            ];
            let mut daemon = NetnsDaemon::start(helper_exe, netns.pid(), &argv)
                .map_err(|e| format!("start dnsmasq: {e}"))?;
            daemon
                .stderr_lines(|l| l.contains(": started, version"), DNS_START, 16)
                .map_err(|e| format!("dnsmasq did not start: {e}"))?;
            Ok(Dns { daemon, dir, hosts })
        })
        .map_err(|e| e.to_string())?
}
