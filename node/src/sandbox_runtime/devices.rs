//! Every container's device rules, as runc sets them from containerd's
//! config: the default allow list plus what a device plugin allocated,
//! everything else denied, on the container's cgroup before it joins.

use kubelab_sandbox::cgroup::devices::{self, DeviceRule};
use kubelab_sandbox::cgroup::Cgroup;
use std::io;

/// Whether this node can set device rules: root, and on v1 the `devices`
/// controller, on v2 the right to load BPF programs.
pub(super) fn enforceable(version: Option<u8>) -> Result<(), String> {
    if !kubelab_sandbox::is_root() {
        return Err(
            "a node run without root has no device cgroup of its own: cgroup v1 is \
                    root's, and a v2 device program needs CAP_BPF on the host"
                .into(),
        );
    }
    devices::can_restrict(version)
}

/// Restricts `leaf` to the default list and `extra`. No cgroup (rootless),
/// or a node that cannot: the container runs without device rules and the
/// note says so, unless it was given a device, which is refused.
pub(super) fn restrict(leaf: Option<&Cgroup>, extra: &[DeviceRule]) -> io::Result<Option<String>> {
    let why = match leaf {
        None => Some("the container has no cgroup".to_string()),
        Some(cg) => enforceable(Some(cg.version)).err(),
    };
    if let Some(why) = why {
        if !extra.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "the container was given a device but its device rules cannot be set \
                     ({why}); run the node as root"
                ),
            ));
        }
        return Ok(Some(format!(
            "no device rules (every device node the container can reach opens): {why}; run \
             the node as root"
        )));
    }
    let cg = leaf.expect("checked above");
    devices::restrict(cg, &devices::with_defaults(extra))
        .map(|()| None)
        .map_err(|e| io::Error::new(e.kind(), format!("set the container's device rules: {e}")))
}
