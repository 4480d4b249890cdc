//! The one place `kubelab node` gets its container runtime from.
//!
//! The node agent (`kubelab_node::agent`) drives a CRI-shaped
//! `kubelab_node::runtime::Runtime`; the kernel side (namespaces, cgroups,
//! rootfs: `SandboxRuntime` in the sandbox crate) is built separately.
//! Until it is wired in here, `kubelab node` stops with this error rather
//! than pretending to run Pods.

use kubelab_node::runtime::Runtime;

/// The node's runtime.
pub fn node_runtime() -> anyhow::Result<Box<dyn Runtime>> {
    anyhow::bail!(
        "the node runtime is not built in: this kubelab has the node agent but not its kernel side (SandboxRuntime); build a kubelab that includes it"
    )
}
