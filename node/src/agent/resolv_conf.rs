//! The Pod's `/etc/resolv.conf`, as the kubelet's DNS configurer writes it
//! per `dnsPolicy`: `ClusterFirst` (the default) points at the node's
//! cluster DNS with the `<ns>.svc.cluster.local svc.cluster.local
//! cluster.local` search path and `ndots:5`; `Default` leaves the image's
//! file, and so does `ClusterFirst` for a `hostNetwork` Pod (it takes
//! `ClusterFirstWithHostNet` to get the cluster DNS there). One file per Pod (`pods/<uid>/resolv.conf`), written once, bound
//! on `/etc/resolv.conf` in every container that mounts nothing there.
//!
//! A node without cluster DNS (no Pod network, no dnsmasq) gives the Pod
//! the image's file and says why in a `MissingClusterDNS` event, as the
//! kubelet does when it has no `clusterDNS`.

use super::state::{EventType, PodEntry};
use super::Inner;
use crate::runtime::{Mount, Propagation};
use std::io::Write;
use std::path::{Path, PathBuf};

const TARGET: &str = "/etc/resolv.conf";

/// Writes the Pod's resolv.conf when its policy and the node give one.
pub(crate) fn ensure(inner: &Inner, entry: &mut PodEntry, pod_dir: &Path) -> Option<PathBuf> {
    let policy = entry
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.dns_policy.as_deref())
        .unwrap_or("ClusterFirst");
    let host_network = entry
        .pod
        .spec
        .as_ref()
        .is_some_and(|s| s.host_network == Some(true));
    // The kubelet: a hostNetwork Pod uses the cluster DNS only when it
    // asks with ClusterFirstWithHostNet.
    if policy == "Default" || (policy == "ClusterFirst" && host_network) {
        return None;
    }
    // Loopback-only Pods reach no DNS server: the image's file.
    inner.runtime.pod_network().ok()?;
    let address = inner.config.service_cidr.dns_ip();
    if let Err(e) = inner.runtime.cluster_dns(address) {
        entry.event(
            EventType::Warning,
            "MissingClusterDNS",
            format!("pod: {policy:?}: {e}; the containers keep their image's /etc/resolv.conf"),
        );
        return None;
    }
    let path = pod_dir.join("resolv.conf");
    let text = crate::service::dns::resolv_conf(entry.namespace(), address);
    let written = std::fs::create_dir_all(pod_dir).and_then(|()| match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut f) => {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            f.write_all(text.as_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    });
    match written {
        Ok(()) => Some(path),
        Err(e) => {
            entry.event(
                EventType::Warning,
                "DNSConfigForming",
                format!("{}: {e}", path.display()),
            );
            None
        }
    }
}

/// The Pod's resolv.conf bound read-write, unless the container mounts
/// something at `/etc/resolv.conf` itself.
pub(crate) fn with_resolv_conf(mut mounts: Vec<Mount>, path: Option<&Path>) -> Vec<Mount> {
    let own = mounts
        .iter()
        .any(|m| Path::new(&m.container_path) == Path::new(TARGET));
    if let (Some(path), false) = (path, own) {
        mounts.push(Mount {
            host_path: path.to_path_buf(),
            container_path: TARGET.into(),
            read_only: false,
            propagation: Propagation::None,
            in_volume_plugin: None,
        });
    }
    mounts
}
