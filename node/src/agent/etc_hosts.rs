//! The Pod's `/etc/hosts`, written by the node as the kubelet's
//! `ensureHostsFile` does: one file per Pod (`pods/<uid>/etc-hosts`),
//! bound read-write at `/etc/hosts` in every container that does not mount
//! something there itself, written once (a restarted container sees what
//! the Pod's containers changed in it, as with the kubelet).
//!
//! The kubelet mounts it only when the Pod has an IP; kubelab's node also
//! mounts it for a Pod with loopback only (no IP line then), so
//! `hostAliases` work on a node without a Pod network too.

use k8s_openapi::api::core::v1::{HostAlias, Pod};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The kubelet's `managedHostsFileContent`: the header, the loopback and
/// IPv6 boilerplate, `<podIP>\t<hostname>`, then the `hostAliases`.
pub fn content(hostname: &str, pod_ip: Option<IpAddr>, aliases: &[HostAlias]) -> String {
    let mut s = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    if let Some(ip) = pod_ip {
        s.push_str(&format!("{ip}\t{hostname}\n"));
    }
    if !aliases.is_empty() {
        s.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            let names = a.hostnames.as_deref().unwrap_or_default().join("\t");
            s.push_str(&format!("{}\t{names}\n", a.ip));
        }
    }
    s
}

/// Writes `dir/etc-hosts` for `pod` unless it exists; returns its path.
/// The values were validated at apply time (IPs, DNS-1123 names), so no
/// line of the file can be forged by a manifest.
pub fn ensure(dir: &Path, pod: &Pod, pod_ip: Option<IpAddr>) -> Result<PathBuf, String> {
    let path = dir.join("etc-hosts");
    let spec = pod.spec.as_ref();
    let hostname = spec
        .and_then(|s| s.hostname.clone())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    let aliases = spec
        .and_then(|s| s.host_aliases.as_deref())
        .unwrap_or_default();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match file {
        Ok(mut f) => {
            // 0644 whatever the umask, as the kubelet's.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))
                .and_then(|()| f.write_all(content(&hostname, pod_ip, aliases).as_bytes()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(path),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_the_kubelets() {
        let aliases = vec![
            HostAlias {
                ip: "127.0.0.1".into(),
                hostnames: Some(vec!["foo.local".into(), "bar.local".into()]),
            },
            HostAlias {
                ip: "10.1.2.3".into(),
                hostnames: Some(vec!["foo.remote".into()]),
            },
        ];
        let ip = "10.88.0.4".parse().ok();
        assert_eq!(
            content("web", ip, &aliases),
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n\
             ::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
             fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n\
             10.88.0.4\tweb\n\n# Entries added by HostAliases.\n\
             127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n"
        );
        let bare = content("web", None, &[]);
        assert!(bare.ends_with("fe00::2\tip6-allrouters\n"), "{bare}");
    }

    #[test]
    fn it_is_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let pod: Pod = serde_json::from_str(
            r#"{"metadata":{"name":"p"},"spec":{"containers":[],"hostAliases":[{"ip":"1.2.3.4","hostnames":["a.b"]}]}}"#,
        )
        .unwrap();
        let p = ensure(dir.path(), &pod, None).unwrap();
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .ends_with("1.2.3.4\ta.b\n"));
        std::fs::write(&p, "changed by a container\n").unwrap();
        ensure(dir.path(), &pod, "10.0.0.1".parse().ok()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "changed by a container\n"
        );
    }
}
