//! `kubelab node`: a node agent in the foreground, like the kubelet with a
//! `staticPodPath`; `kubelab pod …` talks to it over its socket.

use kubelab_node::agent::{Node, NodeConfig};
use kubelab_node::api::server::Server;
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
    /// A host directory hostPath volumes may use (repeatable).
    #[arg(long = "allow-host-path", value_name = "DIR")]
    pub allow_host_path: Vec<PathBuf>,
    /// Divide the CrashLoopBackOff delays (10 s to 5 min) by this, for labs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub backoff_divisor: u32,
    /// The Pods' addresses (host-local IPAM on the node's bridge `kubelab0`).
    #[arg(long, value_name = "CIDR", default_value = kubelab_node::sandbox_runtime::network::DEFAULT_POD_CIDR)]
    pub pod_cidr: String,
    /// Where the CNI plugins are (repeatable; CNI_PATH).
    #[arg(long = "cni-bin-dir", value_name = "DIR", default_value = kubelab_node::cni::DEBIAN_PLUGIN_DIR)]
    pub cni_bin_dirs: Vec<PathBuf>,
}

/// The state directory the node and `kubelab pod` agree on.
pub fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(kubelab_node::api::client::default_state_dir)
}

pub fn run(a: NodeArgs) -> anyhow::Result<i32> {
    let state = state_dir(a.state_dir);
    let cni = kubelab_node::sandbox_runtime::CniOptions {
        plugin_dirs: a.cni_bin_dirs,
        pod_cidr: a.pod_cidr,
        state_dir: state.join("cni"),
    };
    let runtime = super::node_runtime::node_runtime(&a.name, Some(cni))?;
    let mut config = NodeConfig::new(&a.name, &state);
    config.manifests = a.manifests;
    config.host_path_roots = a.allow_host_path;
    config.backoff = BackOffConfig::scaled_down(a.backoff_divisor);
    config.images.busybox = std::path::Path::new("/bin/busybox").exists();
    let node = Node::new(config, runtime);
    let server = Server::start(node.clone())
        .map_err(|e| anyhow::anyhow!("serving the node's socket in {}: {e}", state.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone())?;
    }
    eprintln!(
        "kubelab node {}: serving {} (Ctrl-C stops every Pod)",
        crate::sanitize::line(&a.name),
        crate::sanitize::line(&server.path().display().to_string())
    );
    let thread = node.spawn();
    while !stop.load(Ordering::SeqCst) {
        // The loop runs on its own thread; this one prints its messages.
        for m in node.take_messages() {
            eprintln!("{}", crate::sanitize::text(&m));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("kubelab node: stopping every Pod…");
    thread.stop();
    for m in node.take_messages() {
        eprintln!("{}", crate::sanitize::text(&m));
    }
    drop(server);
    Ok(0)
}
