//! The kubelet's side of FlexVolume (`pkg/volume/flexvolume`): for a Pod's
//! `flexVolume` volume it runs the driver `<plugin dir>/<vendor>~<driver>/
//! <driver>` with a verb and reads one JSON object from its output:
//!
//! - `init` → `{"status": "Success", "capabilities": {"attach": false}}`;
//! - `mount <mount dir> <json options>` when the Pod starts;
//! - `unmount <mount dir>` when it has stopped.
//!
//! Only drivers without attach are run (`attach: true` is refused, naming
//! it); `Not supported` from `init` means the defaults (attach true, as
//! the kubelet assumes), so it is refused too.
//!
//! The driver runs in the Pod's volume plugin sandbox (see
//! `crate::sandbox_runtime`'s `volume_plugins`), never as host root: it sees
//! the plugin directory at [`PLUGIN_DIR`], a log folder at [`LOG_DIR`] and
//! the Pod's volume folders at the kubelet's own paths under
//! [`KUBELET_PODS`], and the containers bind what it mounted there.
//! Unlike the kubelet, which calls `init` once per driver, the node calls it
//! before each Pod's first mount with that driver.

use crate::runtime::{PodSandbox, Runtime, VolumePluginConfig};
use k8s_openapi::api::core::v1::{FlexVolumeSource, Pod};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where a driver sees the plugin directory: kubeadm's
/// `--volume-plugin-dir` for nodes whose `/usr` is read-only (a sandbox's
/// `/usr` is the host's, read-only).
pub const PLUGIN_DIR: &str = "/opt/libexec/kubernetes/kubelet-plugins/volume/exec";
/// A folder the drivers may log to, which the node keeps.
pub const LOG_DIR: &str = "/var/log/flexvolume";
/// The kubelet's Pods folder, as drivers see it.
pub const KUBELET_PODS: &str = "/var/lib/kubelet/pods";
/// The log folder in the node's state directory.
pub const LOG_SUBDIR: &str = "flexvolume-logs";
/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a reply read as JSON.
const MAX_REPLY: usize = 64 * 1024;

/// `vendor/driver` → `vendor~driver` (the kubelet's escaped name).
pub fn escaped(driver: &str) -> String {
    driver.replace('/', "~")
}

/// The executable's name: the part after `/`.
fn executable(driver: &str) -> &str {
    driver.rsplit('/').next().unwrap_or(driver)
}

/// The Pod's flexVolume volumes, by name.
fn flex_volumes(pod: &Pod) -> impl Iterator<Item = (&str, &FlexVolumeSource)> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.flex_volume.as_ref().map(|f| (v.name.as_str(), f)))
}

/// Why this node cannot run `pod`'s flexVolume volumes, if it cannot.
pub fn unsupported_here(pod: &Pod, plugin_dir: Option<&Path>) -> Option<String> {
    (has_flex(pod) && plugin_dir.is_none()).then(|| {
        "spec.volumes: flexVolume needs a node started with --volume-plugin-dir (the folder of its FlexVolume drivers)".to_string()
    })
}

/// Whether the Pod has a flexVolume volume.
pub fn has_flex(pod: &Pod) -> bool {
    flex_volumes(pod).next().is_some()
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// The mount directory a driver gets for volume `name`, in its sandbox.
fn mount_dir(pod: &Pod, name: &str, f: &FlexVolumeSource) -> PathBuf {
    Path::new(KUBELET_PODS)
        .join(uid(pod))
        .join("volumes")
        .join(escaped(&f.driver))
        .join(name)
}

/// Each flexVolume volume's mount directory in the plugin sandbox, by name
/// (what containers bind from there).
pub fn inner_paths(pod: &Pod) -> BTreeMap<String, PathBuf> {
    flex_volumes(pod)
        .map(|(n, f)| (n.to_string(), mount_dir(pod, n, f)))
        .collect()
}

/// The plugin sandbox's folders for `pod`: the plugin directory, the log
/// folder and one `<vendor>~<driver>` folder per driver of the Pod.
pub fn plugin_config(state_dir: &Path, plugin_dir: &Path, pod: &Pod) -> VolumePluginConfig {
    let mut volume_dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (_, f) in flex_volumes(pod) {
        let esc = escaped(&f.driver);
        let host = super::volumes::pod_dir(state_dir, uid(pod))
            .join("volumes")
            .join(&esc);
        let inner = Path::new(KUBELET_PODS)
            .join(uid(pod))
            .join("volumes")
            .join(&esc);
        if !volume_dirs.iter().any(|(h, _)| *h == host) {
            volume_dirs.push((host, inner));
        }
    }
    VolumePluginConfig {
        plugin_dir: (plugin_dir.to_path_buf(), PathBuf::from(PLUGIN_DIR)),
        log_dir: (state_dir.join(LOG_SUBDIR), PathBuf::from(LOG_DIR)),
        volume_dirs,
    }
}

/// A driver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: String,
    pub message: String,
    /// `capabilities.attach` (the kubelet's default: true).
    pub attach: bool,
}

/// Reads a driver's output as the kubelet does: one JSON object with a
/// `status` (`Success`, `Failure`, `Not supported`).
pub fn parse_reply(out: &[u8]) -> Result<Reply, String> {
    let text = String::from_utf8_lossy(&out[..out.len().min(MAX_REPLY)]);
    let v: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "its output is not one JSON object ({e}): {:?} (a driver prints only its reply; log to a file)",
            one_line(&text)
        )
    })?;
    let status = v
        .get("status")
        .and_then(|s| s.as_str())
        .ok_or_else(|| format!("its reply has no \"status\": {}", one_line(&text)))?;
    if !matches!(status, "Success" | "Failure" | "Not supported") {
        return Err(format!(
            "its status {:?} is none of Success, Failure, Not supported",
            one_line(status)
        ));
    }
    Ok(Reply {
        status: status.to_string(),
        message: v
            .get("message")
            .and_then(|m| m.as_str())
            .map(one_line)
            .unwrap_or_default(),
        attach: v
            .pointer("/capabilities/attach")
            .and_then(|a| a.as_bool())
            .unwrap_or(true),
    })
}

/// At most 300 characters on one line.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    match flat.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat.to_string(),
    }
}

/// The JSON options of `mount`: the volume's `options` and the kubelet's
/// `kubernetes.io/…` keys (`pkg/volume/flexvolume/util.go`).
pub fn mount_options(pod: &Pod, name: &str, f: &FlexVolumeSource) -> String {
    let mut m: BTreeMap<String, String> = f.options.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let keys = [
        (
            "kubernetes.io/fsType",
            f.fs_type.clone().unwrap_or_default(),
        ),
        (
            "kubernetes.io/readwrite",
            if f.read_only.unwrap_or(false) {
                "ro"
            } else {
                "rw"
            }
            .into(),
        ),
        ("kubernetes.io/pvOrVolumeName", name.to_string()),
        (
            "kubernetes.io/pod.name",
            pod.metadata.name.clone().unwrap_or_default(),
        ),
        (
            "kubernetes.io/pod.namespace",
            pod.metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
        ),
        ("kubernetes.io/pod.uid", uid(pod).to_string()),
        (
            "kubernetes.io/serviceAccount.name",
            spec.service_account_name
                .clone()
                .unwrap_or_else(|| "default".into()),
        ),
    ];
    for (k, v) in keys {
        m.insert(k.to_string(), v);
    }
    serde_json::to_string(&m).unwrap_or_else(|_| "{}".into())
}

/// One call, as the kubelet makes it; `Ok` only for `Success`.
fn call(
    runtime: &dyn Runtime,
    sb: &PodSandbox,
    driver: &str,
    args: &[String],
) -> Result<Reply, String> {
    let exe = Path::new(PLUGIN_DIR)
        .join(escaped(driver))
        .join(executable(driver));
    let argv: Vec<String> = std::iter::once(exe.display().to_string())
        .chain(args.iter().cloned())
        .collect();
    let (code, out, err) = runtime
        .volume_plugin_call(sb, &argv, CALL_TIMEOUT)
        .map_err(|e| format!("driver {driver}: {e}"))?;
    // The kubelet reads stdout and stderr together (CombinedOutput).
    let mut both = out;
    both.extend_from_slice(&err);
    if code == 126 || code == 127 {
        return Err(format!(
            "driver {driver}: {} could not be run (exit {code}): is it there, executable, with a working #! line? {}",
            exe.display(),
            one_line(&String::from_utf8_lossy(&both))
        ));
    }
    let reply = parse_reply(&both).map_err(|e| format!("driver {driver}: {e}"))?;
    Ok(reply)
}

/// Sets up every flexVolume volume of `pod`: the plugin sandbox, then per
/// volume `init` and `mount`. An error names the volume as the kubelet's
/// `FailedMount` event does.
pub fn setup(
    runtime: &dyn Runtime,
    sb: &PodSandbox,
    state_dir: &Path,
    plugin_dir: Option<&Path>,
    pod: &Pod,
) -> Result<(), String> {
    let Some(plugin_dir) = plugin_dir else {
        return Err("this node has no --volume-plugin-dir: flexVolume volumes are off".into());
    };
    let config = plugin_config(state_dir, plugin_dir, pod);
    let logs = &config.log_dir.0;
    if !logs.is_dir() {
        // Sticky and world-writable as /tmp: the drivers run as the Pod's
        // root, which is not the node's user.
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(logs)
            .and_then(|()| std::fs::set_permissions(logs, std::fs::Permissions::from_mode(0o1777)))
            .map_err(|e| format!("{}: {e}", logs.display()))?;
    }
    for (host, _) in &config.volume_dirs {
        std::fs::create_dir_all(host).map_err(|e| format!("{}: {e}", host.display()))?;
    }
    runtime
        .start_volume_plugins(sb, &config)
        .map_err(|e| e.to_string())?;
    let mut inited: Vec<&str> = Vec::new();
    for (name, f) in flex_volumes(pod) {
        let failed = |why: String| format!("MountVolume.SetUp failed for volume {name:?} : {why}");
        if !inited.contains(&f.driver.as_str()) {
            let r = call(runtime, sb, &f.driver, &["init".into()]).map_err(&failed)?;
            match r.status.as_str() {
                "Success" if !r.attach => {}
                "Success" | "Not supported" => {
                    return Err(failed(format!(
                        "driver {} wants attach/detach calls (capabilities.attach is not false), which this node does not make",
                        f.driver
                    )))
                }
                _ => return Err(failed(format!("driver {} init: {}", f.driver, r.message))),
            }
            inited.push(&f.driver);
        }
        let dir = mount_dir(pod, name, f);
        let r = call(
            runtime,
            sb,
            &f.driver,
            &[
                "mount".into(),
                dir.display().to_string(),
                mount_options(pod, name, f),
            ],
        )
        .map_err(&failed)?;
        if r.status != "Success" {
            return Err(failed(format!(
                "driver {} mount: {}: {}",
                f.driver, r.status, r.message
            )));
        }
    }
    Ok(())
}

/// `unmount` for every flexVolume volume of `pod` (its containers have
/// stopped); the problems, if any. The plugin sandbox's end removes what a
/// driver left mounted either way.
pub fn teardown(runtime: &dyn Runtime, sb: &PodSandbox, pod: &Pod) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, f) in flex_volumes(pod) {
        let dir = mount_dir(pod, name, f);
        let r = call(
            runtime,
            sb,
            &f.driver,
            &["unmount".into(), dir.display().to_string()],
        );
        match r {
            Ok(r) if r.status == "Success" => {}
            Ok(r) => problems.push(format!(
                "UnmountVolume.TearDown failed for volume {name:?} : driver {} unmount: {}: {}",
                f.driver, r.status, r.message
            )),
            Err(e) => problems.push(format!(
                "UnmountVolume.TearDown failed for volume {name:?} : {e}"
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_one_json_object_with_a_known_status() {
        let r =
            parse_reply(br#"{"status": "Success", "capabilities": {"attach": false}}"#).unwrap();
        assert_eq!(r.status, "Success");
        assert!(!r.attach);
        let r = parse_reply(b"{\"status\": \"Failure\", \"message\": \"no\\nway\"}\n").unwrap();
        assert_eq!(
            (r.status.as_str(), r.message.as_str()),
            ("Failure", "no way")
        );
        // The kubelet's default for a driver that does not say.
        assert!(parse_reply(br#"{"status": "Success"}"#).unwrap().attach);
        let e = parse_reply(b"mounting...\n{\"status\": \"Success\"}").unwrap_err();
        assert!(
            e.contains("not one JSON object") && e.contains("log to a file"),
            "{e}"
        );
        assert!(parse_reply(br#"{"status": "ok"}"#).is_err());
        assert!(parse_reply(br#"{"message": "x"}"#).is_err());
    }

    #[test]
    fn the_options_carry_the_kubelets_keys_and_the_volumes_own() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1"},
            "spec": {"containers": [], "volumes": [{"name": "cache", "flexVolume": {
                "driver": "kubelab/tmpfs", "readOnly": true, "options": {"size": "16m"}}}]}
        }))
        .unwrap();
        let (name, f) = flex_volumes(&pod).next().unwrap();
        let m: BTreeMap<String, String> =
            serde_json::from_str(&mount_options(&pod, name, f)).unwrap();
        assert_eq!(m["size"], "16m");
        assert_eq!(m["kubernetes.io/readwrite"], "ro");
        assert_eq!(m["kubernetes.io/pod.name"], "web");
        assert_eq!(m["kubernetes.io/pod.namespace"], "shop");
        assert_eq!(m["kubernetes.io/pod.uid"], "u-1");
        assert_eq!(m["kubernetes.io/pvOrVolumeName"], "cache");
        assert_eq!(m["kubernetes.io/serviceAccount.name"], "default");
        assert_eq!(
            mount_dir(&pod, name, f),
            Path::new("/var/lib/kubelet/pods/u-1/volumes/kubelab~tmpfs/cache")
        );
        assert_eq!(executable("kubelab/tmpfs"), "tmpfs");
    }
}
