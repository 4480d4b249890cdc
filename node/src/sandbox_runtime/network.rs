//! Pod networking on the sandbox runtime, as containerd's CRI plugin does
//! it: after the infra starts, the `loopback` list and the node's network
//! list are ADDed for the Pod's network namespace (`CNI_NETNS=/proc/<infra
//! pid>/ns/net`, `CNI_IFNAME=eth0`), the result is cached, and the Pod's IP
//! is the result's; when the Pod goes, DEL in reverse with the cached
//! result.
//!
//! The plugins run inside the node's own network namespace
//! ([`kubelab_sandbox::net::NodeNetns`], started with the first Pod), so
//! the bridge and the node-side veths never appear in the host's; probes
//! connect from there too, as the kubelet connects from the host. The
//! namespace ends with the node (however it ends), taking every link with
//! it; host-local's reservations and the cached results of a killed run are
//! stale then and are wiped when the next run starts its namespace.
//!
//! A rootless node's namespace belongs to a user namespace of its own,
//! where the node's uid is root and each Pod's user namespace is made
//! (`PodNetwork::pods_userns`), so the plugins, root there, may configure
//! the Pods' network namespaces.

use crate::cni::network::{add, del};
use crate::cni::{
    bridge_conflist, loopback_conflist, Attachment, Launcher, NetworkConfigList, PluginRunner,
    ResultCache,
};
use crate::runtime::{CheckOutcome, NetCheck};
use kubelab_sandbox::net::forward::Forwarder;
use kubelab_sandbox::net::{NodeNetns, NodeNetnsOptions};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The plugins the node's default lists use.
pub const PLUGINS: [&str; 4] = ["bridge", "host-local", "loopback", "portmap"];

/// The Pod CIDR of a node without `--pod-cidr` (podman's default network).
pub const DEFAULT_POD_CIDR: &str = "10.88.0.0/16";

/// Which of [`PLUGINS`] are in none of `dirs`.
pub fn missing_plugins(dirs: &[PathBuf]) -> Vec<&'static str> {
    let runner = PluginRunner::new(dirs.to_vec());
    PLUGINS
        .iter()
        .copied()
        .filter(|p| runner.find(p).is_err())
        .collect()
}

/// The node's Pod network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniOptions {
    /// CNI_PATH (default Debian's `/usr/lib/cni`).
    pub plugin_dirs: Vec<PathBuf>,
    /// host-local's range, e.g. `10.88.0.0/16`.
    pub pod_cidr: String,
    /// The node's own CNI state (`ipam/`, `results/`), wiped when the node
    /// starts its network: nothing in it outlives the namespace it was for.
    pub state_dir: PathBuf,
    /// The node's bridge ([`crate::cni::DEFAULT_BRIDGE`] unless named).
    pub bridge: String,
    /// Use the network namespace of this process (host PID: a lab world's
    /// node holder, which its world keeps) instead of starting one; its
    /// user namespace is where rootless Pods' are made.
    pub netns_pid: Option<u32>,
}

impl CniOptions {
    /// A node's own namespace and bridge [`crate::cni::DEFAULT_BRIDGE`].
    pub fn new(plugin_dirs: Vec<PathBuf>, pod_cidr: String, state_dir: PathBuf) -> CniOptions {
        CniOptions {
            plugin_dirs,
            pod_cidr,
            state_dir,
            bridge: crate::cni::DEFAULT_BRIDGE.into(),
            netns_pid: None,
        }
    }
}

/// The kubelet's read-only port, where the node serves its metrics inside
/// its network namespace (see [`SandboxRuntimeOptions::metrics_socket`](super::SandboxRuntimeOptions::metrics_socket)).
pub const METRICS_PORT: u16 = 10255;

struct Started {
    /// Serves the metrics socket on [`METRICS_PORT`]; dropped (stopped)
    /// before the namespace's holder.
    _metrics: Option<Forwarder>,
    netns: NodeNetns,
    runner: PluginRunner,
    bridge: NetworkConfigList,
    lo: NetworkConfigList,
    cache: ResultCache,
    /// The node's own address, found once ([`PodNetwork::node_address`]).
    address: std::sync::OnceLock<Option<IpAddr>>,
    pod_cidr: String,
}

/// Pod networking, or why Pods have loopback only.
pub(crate) struct PodNetwork {
    opts: Option<CniOptions>,
    helper_exe: PathBuf,
    metrics_socket: Option<PathBuf>,
    /// Why Pods get loopback only (decided when the runtime starts).
    off: Option<String>,
    started: Mutex<Option<Arc<Started>>>,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Why a node with these options gives Pods loopback only, if it does.
pub fn why_loopback_only(opts: Option<&CniOptions>) -> Option<String> {
    let Some(opts) = opts else {
        return Some("Pod networking is off on this node: Pods get loopback only".into());
    };
    let missing = missing_plugins(&opts.plugin_dirs);
    if !missing.is_empty() {
        let dirs: Vec<String> = opts
            .plugin_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Some(format!(
            "no CNI plugin {} in {}: Pods get loopback only (apt install containernetworking-plugins)",
            missing.join(", "),
            dirs.join(":")
        ));
    }
    None
}

impl PodNetwork {
    /// Checks the options (a bad Pod CIDR is an error); nothing starts yet.
    pub(crate) fn new(
        opts: Option<CniOptions>,
        helper_exe: PathBuf,
        metrics_socket: Option<PathBuf>,
    ) -> io::Result<PodNetwork> {
        if let Some(o) = &opts {
            bridge_conflist(&o.bridge, &o.pod_cidr, &o.state_dir.join("ipam")).map_err(other)?;
        }
        Ok(PodNetwork {
            off: why_loopback_only(opts.as_ref()),
            opts,
            helper_exe,
            metrics_socket,
            started: Mutex::new(None),
        })
    }

    pub(crate) fn available(&self) -> Result<(), String> {
        self.off.clone().map_or(Ok(()), Err)
    }

    /// The node's namespace and plugins, started on first use.
    fn start(&self) -> io::Result<Arc<Started>> {
        let mut slot = self
            .started
            .lock()
            .map_err(|_| io::Error::other("network state poisoned"))?;
        if let Some(s) = &*slot {
            return Ok(s.clone());
        }
        let (Some(opts), None) = (&self.opts, &self.off) else {
            return Err(io::Error::other(self.off.clone().unwrap_or_default()));
        };
        // Rootless, the node's network namespace belongs to a user
        // namespace of its own, where the node's uid is root: the plugins
        // run as that root, and each Pod's user namespace is made inside
        // it ([`PodNetwork::pods_userns`]).
        let netns = match opts.netns_pid {
            // A lab world's node: its world keeps the namespace (and the
            // world's user namespace owns it, rootless Pods' parent).
            Some(pid) => {
                NodeNetns::join(pid, self.helper_exe.clone(), !kubelab_sandbox::is_root())?
            }
            None => NodeNetns::start(&NodeNetnsOptions {
                helper_exe: self.helper_exe.clone(),
                user_namespace: !kubelab_sandbox::is_root(),
            })?,
        };
        // What a killed run left describes a namespace that is gone.
        match std::fs::remove_dir_all(&opts.state_dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("clear {}: {e}", opts.state_dir.display()),
                ))
            }
            _ => {}
        }
        let ipam = opts.state_dir.join("ipam");
        let results = opts.state_dir.join("results");
        for d in [&ipam, &results] {
            std::fs::create_dir_all(d)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", d.display())))?;
        }
        let mut runner = PluginRunner::new(opts.plugin_dirs.clone());
        runner.launcher = Launcher::Prefix(netns.enter_prefix());
        let metrics = match &self.metrics_socket {
            Some(sock) => Some(
                Forwarder::start(&self.helper_exe, netns.pid(), METRICS_PORT, sock)
                    .map_err(|e| other(format!("serve metrics on port {METRICS_PORT}: {e}")))?,
            ),
            None => None,
        };
        let started = Arc::new(Started {
            _metrics: metrics,
            bridge: bridge_conflist(&opts.bridge, &opts.pod_cidr, &ipam).map_err(other)?,
            lo: loopback_conflist(),
            cache: ResultCache::new(results),
            runner,
            netns,
            address: std::sync::OnceLock::new(),
            pod_cidr: opts.pod_cidr.clone(),
        });
        *slot = Some(started.clone());
        Ok(started)
    }

    /// The user namespace a Pod's infra makes its own in: the node's, on
    /// a rootless node with Pod networking (started now if it is not
    /// yet), so the plugins, root there, may configure the Pod's network
    /// namespace. `None`: the host's (root, or loopback only).
    /// The node's own address, as the kubelet reports it (every Pod's
    /// `status.hostIP`, and a `hostNetwork` Pod's IP): the IPv4 address of
    /// the interface the node's default route leaves by (a world node's
    /// `eth0`), else the bridge's — a lab node alone, where its Pods reach
    /// it. `None` without Pod networking.
    pub(crate) fn node_address(&self) -> Option<IpAddr> {
        let s = self.start().ok()?;
        *s.address
            .get_or_init(|| default_route_address(&s.netns).or_else(|| bridge_address(&s.pod_cidr)))
    }

    pub(crate) fn pods_userns(&self) -> io::Result<Option<PathBuf>> {
        if self.off.is_some() || kubelab_sandbox::is_root() {
            return Ok(None);
        }
        Ok(self.start()?.netns.userns_path())
    }

    /// The node's network namespace (started now if it is not yet), for a
    /// `hostNetwork` Pod to live in.
    pub(crate) fn node_netns(&self) -> io::Result<PathBuf> {
        Ok(self.start()?.netns.netns_path())
    }

    /// CNI ADD of the Pod (loopback, then the node's network): its IP.
    /// A failed ADD leaves nothing (the lists undo themselves).
    pub(crate) fn attach(&self, att: &Attachment) -> io::Result<Option<IpAddr>> {
        let s = self.start()?;
        add(&s.runner, &s.lo, att).map_err(other)?;
        let result = match add(&s.runner, &s.bridge, att) {
            Ok(r) => r,
            Err(e) => {
                let _ = del(&s.runner, &s.lo, att, None);
                return Err(other(e));
            }
        };
        if let Err(e) = s.cache.save(&s.bridge.name, att, &result) {
            let _ = del(&s.runner, &s.bridge, att, Some(&result));
            let _ = del(&s.runner, &s.lo, att, None);
            return Err(other(e));
        }
        Ok(result.pod_ip())
    }

    /// CNI DEL of the Pod (reverse order, the cached ADD result as
    /// `prevResult`); the cache entry goes once DEL succeeded.
    pub(crate) fn detach(&self, att: &Attachment) -> io::Result<()> {
        let s = self.start()?;
        if !s.netns.is_alive() {
            // A lab world's node whose world ended first (its `down` pulls
            // the plug): the bridge, the veths and portmap's rules went
            // with its namespace, and the addresses are in this node's
            // state, removed with it. Nothing is left to DEL.
            return s.cache.remove(&s.bridge.name, att).map_err(other);
        }
        let cached = s.cache.load(&s.bridge.name, att).ok().flatten();
        del(&s.runner, &s.bridge, att, cached.as_ref()).map_err(other)?;
        s.cache.remove(&s.bridge.name, att).map_err(other)?;
        del(&s.runner, &s.lo, att, None).map_err(other)
    }

    /// `f` with the node's namespace (started now if it is not yet) and
    /// the node's network state directory: the Service data plane
    /// ([`super::services`]) works in them.
    pub(crate) fn with_netns<R>(&self, f: impl FnOnce(&NodeNetns, &Path) -> R) -> io::Result<R> {
        let s = self.start()?;
        let dir = self
            .opts
            .as_ref()
            .map(|o| o.state_dir.clone())
            .unwrap_or_default();
        Ok(f(&s.netns, &dir))
    }

    /// A probe from the node's network namespace.
    pub(crate) fn check(&self, check: &NetCheck, timeout: Duration) -> CheckOutcome {
        match self.start() {
            Ok(s) => s.netns.check(check, timeout),
            Err(e) => CheckOutcome {
                success: false,
                message: format!("the node has no Pod network: {e}"),
                status: None,
            },
        }
    }
}

/// The interface of the IPv4 default route in `/proc/<pid>/net/route`
/// (the network namespace of `pid`).
fn default_route_interface(route_table: &str) -> Option<String> {
    route_table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
        (f.len() > 7 && f[1] == "00000000" && f[7] == "00000000").then(|| f[0].to_string())
    })
}

/// The first `inet` address in `ip -4 -o addr show` output.
fn first_inet(out: &str) -> Option<IpAddr> {
    out.split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
}

fn default_route_address(netns: &NodeNetns) -> Option<IpAddr> {
    let table = std::fs::read_to_string(format!("/proc/{}/net/route", netns.pid())).ok()?;
    let dev = default_route_interface(&table)?;
    let ip = kubelab_sandbox::net::find_ip()?;
    let out = netns
        .command(ip)
        .args(["-4", "-o", "addr", "show", "dev", &dev])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    first_inet(&String::from_utf8_lossy(&out.stdout))
}

/// The Pod CIDR's first address: the bridge's, where the CNI `bridge`
/// plugin (`isGateway`) puts the gateway.
fn bridge_address(pod_cidr: &str) -> Option<IpAddr> {
    let (ip, len) = pod_cidr.split_once('/')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l < 31)?;
    let net = u32::from(ip) & (u32::MAX.checked_shl(32 - len).unwrap_or(0));
    Some(IpAddr::V4((net + 1).into()))
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn the_default_route_names_the_interface_and_ip_its_address() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            cni0\t0001F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
            eth0\t00000000\t0132A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        assert_eq!(default_route_interface(table).as_deref(), Some("eth0"));
        assert_eq!(default_route_interface("Iface\tDestination\n"), None);
        let out = "2: eth0    inet 192.168.50.11/24 brd 192.168.50.255 scope global eth0\\       valid_lft forever\n";
        assert_eq!(first_inet(out), Some("192.168.50.11".parse().unwrap()));
        assert_eq!(first_inet(""), None);
    }

    #[test]
    fn a_lone_node_is_at_its_bridge() {
        assert_eq!(
            bridge_address("10.244.1.0/24"),
            Some("10.244.1.1".parse().unwrap())
        );
        assert_eq!(
            bridge_address("10.88.0.0/16"),
            Some("10.88.0.1".parse().unwrap())
        );
        assert_eq!(bridge_address("fd00::/64"), None);
    }
}
