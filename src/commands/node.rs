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
    /// A host directory hostPath volumes may use (repeatable).
    #[arg(long = "allow-host-path", value_name = "DIR")]
    pub allow_host_path: Vec<PathBuf>,
    /// Divide the CrashLoopBackOff delays (10 s to 5 min) by this, for labs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub backoff_divisor: u32,
    /// Rotate a container's log once it reaches this size, a quantity such
    /// as 10Mi (the kubelet's containerLogMaxSize).
    #[arg(long, value_name = "SIZE", default_value = "10Mi", value_parser = log_max_size)]
    pub container_log_max_size: u64,
    /// Log files kept per container, the current one included, at least 2
    /// (the kubelet's containerLogMaxFiles).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(2..))]
    pub container_log_max_files: u16,
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

/// The state directory the node and `kubelab pod` agree on.
pub fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(d) = flag {
        return d;
    }
    if let Some(d) = std::env::var_os("KUBELAB_NODE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d).join("kubelab-node");
    }
    // The server refuses a directory that is not ours and private.
    PathBuf::from(format!(
        "/tmp/kubelab-node-{}",
        rustix::process::geteuid().as_raw()
    ))
}

pub fn run(a: NodeArgs) -> anyhow::Result<i32> {
    let runtime = super::node_runtime::node_runtime(&a.name)?;
    let state = state_dir(a.state_dir);
    let mut config = NodeConfig::new(&a.name, &state);
    config.manifests = a.manifests;
    config.host_path_roots = a.allow_host_path;
    config.backoff = BackOffConfig::scaled_down(a.backoff_divisor);
    config.log_rotation = RotationPolicy {
        max_size: a.container_log_max_size,
        max_files: usize::from(a.container_log_max_files),
    };
    config.images.busybox = std::path::Path::new("/bin/busybox").exists();
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
    eprintln!(
        "kubelab node {}: serving {} and metrics on {} (Ctrl-C stops every Pod)",
        crate::sanitize::line(&a.name),
        crate::sanitize::line(&server.path().display().to_string()),
        crate::sanitize::line(&metrics.path().display().to_string())
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
    drop(metrics);
    drop(server);
    Ok(0)
}
