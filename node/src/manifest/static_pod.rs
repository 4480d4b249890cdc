//! Static Pods: what the kubelet's file source (`pkg/kubelet/config/common.go`
//! `applyDefaults`) does to a Pod read from its manifests directory.
//!
//! - the UID is a digest of the Pod as read plus `host:<node>` and
//!   `file:<path>`, so an unchanged file keeps its UID and any change gives a
//!   new one (the kubelet then replaces the Pod). The kubelet hashes with
//!   md5; kubelab takes the first 16 bytes of a SHA-256 (the same 32 hex
//!   digits, and a hostile manifest cannot collide with another's);
//! - the name becomes `<name>-<node>` (`generatePodName`);
//! - namespace `default` when unset, `spec.nodeName` this node;
//! - annotations `kubernetes.io/config.hash` (the UID),
//!   `kubernetes.io/config.seen` and `kubernetes.io/config.source: file`.

use k8s_openapi::api::core::v1::Pod;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The UID of a static Pod read from `file` on node `node_name`.
pub fn static_pod_uid(pod: &Pod, node_name: &str, file: &Path) -> String {
    let mut h = Sha256::new();
    // A typed Pod serializes deterministically (fields in order, maps sorted).
    h.update(serde_json::to_vec(pod).unwrap_or_default());
    h.update(format!("host:{node_name}"));
    h.update(format!("file:{}", file.display()));
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `generatePodName`.
pub fn static_pod_name(name: &str, node_name: &str) -> String {
    format!("{name}-{}", node_name.to_lowercase())
}

/// Applies the file source's defaults; `seen` is the time the node read the
/// file (RFC 3339). Fails when `<name>-<node>` is not a valid Pod name (too
/// long).
pub fn make_static(pod: &mut Pod, node_name: &str, file: &Path, seen: &str) -> Result<(), String> {
    let uid = match pod.metadata.uid.as_deref() {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => static_pod_uid(pod, node_name, file),
    };
    let name = static_pod_name(pod.metadata.name.as_deref().unwrap_or_default(), node_name);
    super::names::dns1123_subdomain(&name)
        .map_err(|e| format!("the static Pod's name {}: {e}", super::quote(&name)))?;
    pod.metadata.name = Some(name);
    pod.metadata.uid = Some(uid.clone());
    pod.metadata
        .namespace
        .get_or_insert_with(|| "default".into());
    if let Some(spec) = &mut pod.spec {
        spec.node_name = Some(node_name.to_string());
    }
    let ann = pod
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    ann.insert("kubernetes.io/config.hash".into(), uid);
    ann.insert("kubernetes.io/config.seen".into(), seen.into());
    ann.insert("kubernetes.io/config.source".into(), "file".into());
    Ok(())
}

/// A random (version 4) UUID from 16 random bytes, for Pods that are not
/// static (the API server gives those a random UID).
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(image: &str) -> Pod {
        serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd"},
            "spec": {"containers": [{"name": "etcd", "image": image}]}}),
        )
        .unwrap()
    }

    #[test]
    fn static_pods_as_the_file_source() {
        let f = Path::new("/etc/kubelab/manifests/etcd.yaml");
        let a = static_pod_uid(&pod("busybox"), "Lab", f);
        assert_eq!(a.len(), 32);
        assert!(crate::manifest::names::uid(&a).is_ok());
        assert_eq!(a, static_pod_uid(&pod("busybox"), "Lab", f), "stable");
        assert_ne!(
            a,
            static_pod_uid(&pod("host"), "Lab", f),
            "a change gives a new UID"
        );
        assert_ne!(
            a,
            static_pod_uid(&pod("busybox"), "Lab", Path::new("/other.yaml"))
        );
        let mut p = pod("busybox");
        make_static(&mut p, "Lab", f, "2026-01-02T03:04:05Z").unwrap();
        assert_eq!(p.metadata.name.as_deref(), Some("etcd-lab"));
        assert_eq!(p.metadata.uid.as_deref(), Some(a.as_str()));
        assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(p.spec.as_ref().unwrap().node_name.as_deref(), Some("Lab"));
        let ann = p.metadata.annotations.unwrap();
        assert_eq!(ann["kubernetes.io/config.hash"], a);
        assert_eq!(ann["kubernetes.io/config.source"], "file");
        let mut long = pod("busybox");
        long.metadata.name = Some("a".repeat(250));
        assert!(make_static(&mut long, "lab", f, "t")
            .unwrap_err()
            .contains("253"));
    }

    #[test]
    fn uuids() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
