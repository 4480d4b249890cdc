//! `kubelab node`: a node agent in the foreground, like the kubelet with a
//! `staticPodPath`; `kubelab pod …` talks to it over its socket.

use kubelab_node::agent::{Node, NodeConfig};
use kubelab_node::api::metrics::MetricsServer;
use kubelab_node::api::server::Server;
use kubelab_node::logs::RotationPolicy;
use kubelab_node::restart::BackOffConfig;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Run a node agent in the foreground: Pods from a manifests directory and
/// from `kubelab pod apply`. Ctrl-C or SIGTERM stops every Pod, honouring
/// grace periods.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// Static Pods: a file added starts its Pods, changed replaces them,
    /// removed stops them (the kubelet's staticPodPath).
    #[arg(long, value_name = "DIR")]
    pub manifests: Option<PathBuf>,
    /// The node's name (static Pods are named `<pod>-<node>`).
    #[arg(long, value_name = "N", default_value = "kubelab")]
    pub name: String,
    /// The node's state: socket, volumes, logs, configmaps/, secrets/
    /// (default: $KUBELAB_NODE_DIR, else $XDG_RUNTIME_DIR/kubelab-node,
    /// else /tmp/kubelab-node-<uid>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// A host directory hostPath volumes may use (repeatable); PATH=DIR:
    /// manifests write PATH, the node uses DIR.
    #[arg(long = "allow-host-path", value_name = "DIR", value_parser = kubelab_node::manifest::HostPathRoot::parse)]
    pub allow_host_path: Vec<kubelab_node::manifest::HostPathRoot>,
    /// FlexVolume drivers, each at <vendor>~<driver>/<driver> (the
    /// kubelet's flag). They run in each Pod's volume plugin sandbox (root of
    /// the Pod's user namespace, never the host's), which sees this folder at
    /// /opt/libexec/kubernetes/kubelet-plugins/volume/exec. Without it,
    /// flexVolume volumes are refused.
    #[arg(long, value_name = "DIR")]
    pub volume_plugin_dir: Option<PathBuf>,
    /// The node's built-in device plugin: advertise COUNT devices of KIND
    /// (repeatable; kinds: fuse → kubelab.io/fuse, char 10:229). The node
    /// also makes <state-dir>/dev/KIND, its own device node, for
    /// --allow-host-path.
    #[arg(long = "device-plugin", value_name = "KIND=COUNT", value_parser = kubelab_node::agent::devices::parse_flag)]
    pub device_plugins: Vec<(String, u32)>,
    /// Divide the CrashLoopBackOff delays (10 s to 5 min) by this, for labs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub backoff_divisor: u32,
    /// The Pods' addresses (host-local IPAM on the node's bridge `kubelab0`).
    #[arg(long, value_name = "CIDR", default_value = kubelab_node::sandbox_runtime::network::DEFAULT_POD_CIDR)]
    pub pod_cidr: String,
    /// Where Services' ClusterIPs come from; its tenth address is the
    /// cluster DNS (dnsmasq in the node's network namespace).
    #[arg(long, value_name = "CIDR", default_value = kubelab_node::service::DEFAULT_SERVICE_CIDR, value_parser = kubelab_node::service::ServiceCidr::parse)]
    pub service_cidr: kubelab_node::service::ServiceCidr,
    /// The node's bridge, where Pods are attached; its address is the
    /// Pod CIDR's first, the Pods' gateway.
    #[arg(long, value_name = "NAME", default_value = kubelab_node::cni::DEFAULT_BRIDGE)]
    pub bridge: String,
    /// Run the Pods in this process's network namespace (a lab world's
    /// node: `kubelab world up` starts its node agents so) instead of one
    /// of the node's own.
    #[arg(long = "netns-pid", value_name = "PID", hide = true)]
    pub netns_pid: Option<u32>,
    /// When the node stops, each Pod gets at most this long to end (the
    /// kubelet's shutdownGracePeriod), e.g. 0s, 10s; default: each Pod's
    /// own grace period.
    #[arg(long, value_name = "DURATION", value_parser = grace_period)]
    pub shutdown_grace_period: Option<std::time::Duration>,
    /// Where the CNI plugins are (repeatable; CNI_PATH).
    #[arg(long = "cni-bin-dir", value_name = "DIR", default_value = kubelab_node::cni::DEBIAN_PLUGIN_DIR)]
    pub cni_bin_dirs: Vec<PathBuf>,
    /// Names the node's cgroup subtree `kubelab/node-<KEY>` instead of
    /// `node-<name>`: a lab's node gets one unique to its run, so two runs
    /// with the same node name never share cgroups (src/lab/node.rs).
    #[arg(long, value_name = "KEY", hide = true)]
    pub cgroup_key: Option<String>,
    /// Standard input is a lifeline: end of file (the starter closed it, or
    /// died, even by `kill -9`) stops the node like SIGTERM.
    #[arg(long, hide = true)]
    pub lifeline: bool,
    /// After the node stopped, remove DIR (a lab's directory holding the
    /// state and manifests directories, marked by kubelab when it made it).
    #[arg(long, value_name = "DIR", hide = true)]
    pub remove_when_done: Option<PathBuf>,
    /// Rotate a container's log once it reaches this size, a quantity such
    /// as 10Mi (the kubelet's containerLogMaxSize).
    #[arg(long, value_name = "SIZE", default_value = "10Mi", value_parser = log_max_size)]
    pub container_log_max_size: u64,
    /// Log files kept per container, the current one included, at least 2
    /// (the kubelet's containerLogMaxFiles).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(2..))]
    pub container_log_max_files: u16,
    /// How often a running Pod's configMap, secret and downwardAPI volumes
    /// are written again from their source (the kubelet's syncFrequency),
    /// e.g. 1m, 10s, 500ms.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = sync_frequency)]
    pub sync_frequency: std::time::Duration,
}

/// `--sync-frequency`: a duration as Go writes them, in one unit (`1m`,
/// `10s`, `500ms`), at least 100 ms.
fn sync_frequency(text: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let bad = || format!("{text:?} is not a duration; write one such as 1m, 10s or 500ms");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if d < Duration::from_millis(100) {
        return Err(format!("{text:?} is too short; at least 100ms"));
    }
    Ok(d)
}

/// `--shutdown-grace-period`: a duration in one unit (`0s`, `10s`,
/// `500ms`, `1m`), at most 5 minutes.
fn grace_period(text: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let bad = || format!("{text:?} is not a duration; write one such as 0s, 10s or 500ms");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if d > Duration::from_secs(300) {
        return Err(format!("{text:?} is too long; at most 5m"));
    }
    Ok(d)
}

/// `--container-log-max-size`: a positive Kubernetes quantity of bytes.
fn log_max_size(text: &str) -> Result<u64, String> {
    let q = kubelab_node::quantity::Quantity::parse(text)
        .map_err(|e| format!("{e}; write a size such as 10Mi or 512Ki"))?;
    u64::try_from(q.value())
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| "must be more than 0 bytes; write a size such as 10Mi".to_string())
}

/// Removes a lab's node directory once its node has stopped: only one that
/// kubelab marked and that holds the state directory, never through a link.
fn remove_lab_dir(dir: &std::path::Path, state: &std::path::Path) {
    let marked = std::fs::symlink_metadata(dir.join(crate::lab::node::LAB_DIR_MARKER))
        .is_ok_and(|m| m.is_file());
    let is_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    if marked && is_dir && state.starts_with(dir) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The device plugin's own device nodes, `<state>/dev/<kind>` (what a
/// host's `/dev/fuse` is), made as root; removed when the node stops.
fn host_device_nodes(state: &std::path::Path, plugins: &[(String, u32)]) -> Vec<PathBuf> {
    use kubelab_node::agent::devices;
    let mut made = Vec::new();
    for (name, _) in plugins {
        let Some(k) = devices::kind(name) else {
            continue;
        };
        let path = devices::host_node_path(state, k);
        match devices::make_node(&path, k, devices::pod_root()) {
            Ok(()) => made.push(path),
            Err(e) => eprintln!(
                "device plugin {name}: no device node of the node's own ({}); run the node as root",
                crate::sanitize::line(&e.to_string())
            ),
        }
    }
    made
}

/// The state directory the node and `kubelab pod` agree on.
pub fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(kubelab_node::api::client::default_state_dir)
}

pub fn run(a: NodeArgs) -> anyhow::Result<i32> {
    let state = state_dir(a.state_dir);
    let mut cni = kubelab_node::sandbox_runtime::CniOptions::new(
        a.cni_bin_dirs,
        a.pod_cidr,
        state.join("cni"),
    );
    cni.bridge = a.bridge;
    cni.netns_pid = a.netns_pid;
    let runtime = super::node_runtime::node_runtime(
        a.cgroup_key.as_deref().unwrap_or(&a.name),
        Some(cni),
        Some(state.join(kubelab_node::api::metrics::METRICS_SOCKET)),
    )?;
    let mut config = NodeConfig::new(&a.name, &state);
    config.manifests = a.manifests;
    config.host_path_roots = a.allow_host_path;
    config.volume_plugin_dir = a.volume_plugin_dir;
    config.backoff = BackOffConfig::scaled_down(a.backoff_divisor);
    config.sync_frequency = a.sync_frequency;
    config.shutdown_grace = a.shutdown_grace_period;
    config.log_rotation = RotationPolicy {
        max_size: a.container_log_max_size,
        max_files: usize::from(a.container_log_max_files),
    };
    config.images.busybox = std::path::Path::new("/bin/busybox").exists();
    config.service_cidr = a.service_cidr;
    config.device_plugins = a.device_plugins.clone();
    let node = Node::new(config, runtime);
    let server = Server::start(node.clone())
        .map_err(|e| anyhow::anyhow!("serving the node's socket in {}: {e}", state.display()))?;
    let metrics = MetricsServer::start(node.clone()).map_err(|e| {
        anyhow::anyhow!(
            "serving the node's metrics socket in {}: {e}",
            state.display()
        )
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    // The lifeline's end wakes the loop below at once (a lab world's
    // `down` waits for it); signals only set the flag, seen within 200 ms.
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    if a.lifeline {
        let stop = stop.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 64];
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            stop.store(true, Ordering::SeqCst);
            let _ = wake.send(());
        });
    }
    eprintln!(
        "kubelab node {}: serving {} and metrics on {} (Ctrl-C stops every Pod)",
        crate::sanitize::line(&a.name),
        crate::sanitize::line(&server.path().display().to_string()),
        crate::sanitize::line(&metrics.path().display().to_string())
    );
    if let Some(why) = kubelab_node::sandbox_runtime::why_no_cluster_dns() {
        eprintln!("{}", crate::sanitize::line(&why));
    }
    let host_nodes = host_device_nodes(&state, &a.device_plugins);
    for (resource, capacity, _) in node.device_capacity() {
        eprintln!("device plugin: {resource}: capacity {capacity}, allocatable {capacity}");
    }
    let thread = node.spawn();
    while !stop.load(Ordering::SeqCst) {
        // The loop runs on its own thread; this one prints its messages.
        for m in node.take_messages() {
            eprintln!("{}", crate::sanitize::text(&m));
        }
        let _ = woken.recv_timeout(Duration::from_millis(200));
    }
    eprintln!("kubelab node: stopping every Pod…");
    thread.stop();
    for m in node.take_messages() {
        eprintln!("{}", crate::sanitize::text(&m));
    }
    drop(metrics);
    drop(server);
    for p in host_nodes {
        let _ = std::fs::remove_file(p);
    }
    if let Some(dir) = &a.remove_when_done {
        remove_lab_dir(dir, &state);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::{remove_lab_dir, sync_frequency};
    use std::time::Duration;

    #[test]
    fn sync_frequency_reads_go_durations_in_one_unit() {
        assert_eq!(sync_frequency("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(sync_frequency("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(sync_frequency("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "5", "1h", "s", "-1s", "10ms"] {
            assert!(sync_frequency(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_marked_lab_folder_holding_the_state_is_removed() {
        let d = tempfile::tempdir().unwrap();
        let lab = d.path().join("lab");
        let state = lab.join("state");
        std::fs::create_dir_all(&state).unwrap();
        // Not marked: stays.
        remove_lab_dir(&lab, &state);
        assert!(state.is_dir());
        std::fs::write(lab.join(crate::lab::node::LAB_DIR_MARKER), "").unwrap();
        // Marked, but the state directory is elsewhere: stays.
        remove_lab_dir(&lab, d.path());
        assert!(state.is_dir());
        // A link to the folder is not followed.
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&lab, &link).unwrap();
        remove_lab_dir(&link, &link.join("state"));
        assert!(state.is_dir());
        remove_lab_dir(&lab, &state);
        assert!(!lab.exists());
    }
}
