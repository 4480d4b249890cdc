//! The one place `kubelab node` gets its container runtime from.
//!
//! The node agent (`kubelab_node::agent`) drives a CRI-shaped
//! `kubelab_node::runtime::Runtime`; its kernel side is `SandboxRuntime`
//! (namespaces, cgroups and rootfs through the sandbox engine), whose
//! long-lived processes run in `kubelab-helper` when it is installed beside
//! this binary, as the lab sandboxes do.

use kubelab_node::runtime::Runtime;
use kubelab_node::sandbox_runtime::{CniOptions, SandboxRuntime, SandboxRuntimeOptions};
use std::path::PathBuf;

/// The runtime of node `name`; `cni`: its Pod network (`None`: loopback
/// only); `metrics_socket`: the node's `metrics.sock`, also served on port
/// 10255 inside the node's network namespace.
pub fn node_runtime(
    name: &str,
    cni: Option<CniOptions>,
    metrics_socket: Option<PathBuf>,
) -> anyhow::Result<Box<dyn Runtime>> {
    let opts = SandboxRuntimeOptions {
        metrics_socket,
        helper_exe: kubelab_sandbox::front::helper_beside_current_exe()
            .unwrap_or_else(|| PathBuf::from("/proc/self/exe")),
        cni,
        ..SandboxRuntimeOptions::new(name)
    };
    let runtime = SandboxRuntime::new(opts).map_err(|e| {
        anyhow::anyhow!(
            "starting node {}'s container runtime: {e}",
            crate::sanitize::line(name)
        )
    })?;
    Ok(Box::new(runtime))
}
