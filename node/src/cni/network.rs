//! Running a network configuration list for one Pod, as libcni does
//! (`AddNetworkList`, `DelNetworkList`, `CheckNetworkList`).
//!
//! ADD runs the plugins in order, each getting the list's `name` and
//! `cniVersion` and the previous plugin's result as `prevResult`; if a
//! plugin fails, what was set up is torn down with DEL before the error is
//! returned, so a failed ADD leaves nothing behind. DEL runs in reverse
//! order with the ADD result as `prevResult` (spec ≥ 0.4.0), goes on past a
//! failing plugin so as much as possible is released, and drops `CNI_NETNS`
//! when the namespace is already gone (the spec's "clean up as much as
//! possible"). The caller keeps the ADD result for DEL and CHECK.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::config::{valid_name, NetworkConfigList};
use super::exec::{CniCommand, PluginRunner};
use super::result::CniResult;
use super::CniError;

/// A `hostPort` for the `portmap` plugin (`portMappings` capability).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    #[serde(rename = "hostPort")]
    pub host_port: u16,
    #[serde(rename = "containerPort")]
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    #[serde(rename = "hostIP", default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
}

/// One Pod's attachment to a network: the per-call CNI parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// CNI_CONTAINERID: the Pod sandbox's ID.
    pub container_id: String,
    /// CNI_NETNS: `/proc/<infra pid>/ns/net` or a bind mount of it.
    pub netns: Option<PathBuf>,
    /// CNI_IFNAME, `eth0` for a Pod.
    pub ifname: String,
    /// CNI_ARGS pairs.
    pub args: Vec<(String, String)>,
    pub port_mappings: Vec<PortMapping>,
}

impl Attachment {
    /// The attachment the kubelet (through containerd) makes for a Pod:
    /// `eth0`, and CNI_ARGS `IgnoreUnknown=1;K8S_POD_NAMESPACE=…;K8S_POD_NAME=…;
    /// K8S_POD_INFRA_CONTAINER_ID=…;K8S_POD_UID=…`.
    pub fn for_pod(
        namespace: &str,
        name: &str,
        uid: &str,
        sandbox_id: &str,
        netns: PathBuf,
    ) -> Attachment {
        let args = [
            ("IgnoreUnknown", "1"),
            ("K8S_POD_NAMESPACE", namespace),
            ("K8S_POD_NAME", name),
            ("K8S_POD_INFRA_CONTAINER_ID", sandbox_id),
            ("K8S_POD_UID", uid),
        ];
        Attachment {
            container_id: sandbox_id.to_string(),
            netns: Some(netns),
            ifname: "eth0".into(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            port_mappings: Vec::new(),
        }
    }

    /// The spec's rules for container IDs and interface names; CNI_ARGS
    /// items must not contain the `;` and `=` separators.
    pub fn validate(&self) -> Result<(), CniError> {
        let err = |msg: String| CniError::invalid("the Pod's network attachment", msg);
        if !valid_name(&self.container_id) {
            return Err(err(format!(
                "container ID {:?} must start with a letter or digit, then letters, digits, `_`, `.` or `-`",
                self.container_id
            )));
        }
        let i = &self.ifname;
        if i.is_empty()
            || i == "."
            || i == ".."
            || i.len() > 15
            || i.contains(['/', ':'])
            || i.contains(char::is_whitespace)
        {
            return Err(err(format!(
                "interface name {i:?} must be 1 to 15 bytes, not `.` or `..`, without `/`, `:` or spaces"
            )));
        }
        for (k, v) in &self.args {
            let bad = |s: &str| s.contains([';', '=', '\0']) || s.contains(char::is_control);
            if k.is_empty() || bad(k) || bad(v) {
                return Err(err(format!(
                    "CNI_ARGS item {k:?}={v:?} must not contain `;`, `=` or control characters"
                )));
            }
        }
        Ok(())
    }

    fn env(&self, command: CniCommand) -> Vec<(&'static str, OsString)> {
        // DEL without a namespace is allowed: it frees what it can.
        let netns = match &self.netns {
            Some(p) if command != CniCommand::Del || p.exists() => p.clone().into_os_string(),
            _ => OsString::new(),
        };
        let args: Vec<String> = self.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        vec![
            ("CNI_CONTAINERID", self.container_id.clone().into()),
            ("CNI_NETNS", netns),
            ("CNI_IFNAME", self.ifname.clone().into()),
            ("CNI_ARGS", args.join(";").into()),
        ]
    }
}

/// A plugin's answer to VERSION.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    #[serde(rename = "supportedVersions", default)]
    pub supported_versions: Vec<String>,
}

/// Whether results travel back as `prevResult` on DEL/CHECK (spec ≥ 0.4.0).
fn has_prev_result_on_del(version: &str) -> bool {
    !version.starts_with("0.3.")
}

/// The stdin of plugin `index`: its own object plus what the runtime injects.
fn plugin_stdin(
    list: &NetworkConfigList,
    index: usize,
    prev: Option<&Value>,
    att: &Attachment,
) -> Vec<u8> {
    let mut conf = list.plugins[index].clone();
    conf.insert("name".into(), list.name.clone().into());
    conf.insert("cniVersion".into(), list.cni_version.clone().into());
    if let Some(prev) = prev {
        conf.insert("prevResult".into(), prev.clone());
    }
    // libcni's injectRuntimeConfig: only capabilities the plugin declares.
    let wants_ports = conf
        .get("capabilities")
        .and_then(|c| c.get("portMappings"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if wants_ports && !att.port_mappings.is_empty() {
        conf.insert(
            "runtimeConfig".into(),
            json!({ "portMappings": att.port_mappings }),
        );
    }
    serde_json::to_vec(&conf).unwrap_or_default()
}

fn plugin_type(list: &NetworkConfigList, index: usize) -> &str {
    list.plugins[index]
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// ADD the Pod to the network; the last plugin's result.
pub fn add(
    runner: &PluginRunner,
    list: &NetworkConfigList,
    att: &Attachment,
) -> Result<CniResult, CniError> {
    att.validate()?;
    let mut prev: Option<CniResult> = None;
    for i in 0..list.plugins.len() {
        let plugin = plugin_type(list, i);
        let stdin = plugin_stdin(list, i, prev.as_ref().map(|r| &r.raw), att);
        let step = runner
            .run(plugin, CniCommand::Add, &att.env(CniCommand::Add), &stdin)
            .and_then(|out| {
                CniResult::parse(&out).map_err(|e| CniError::BadOutput {
                    plugin: plugin.to_string(),
                    command: "ADD",
                    msg: format!("not a CNI result: {e}"),
                })
            });
        match step {
            Ok(result) => prev = Some(result),
            Err(e) => {
                // Undo the plugins that ran (and the failed one, which may
                // have done part of its work); the ADD error is what matters.
                let _ = del(runner, list, att, prev.as_ref());
                return Err(e);
            }
        }
    }
    prev.ok_or_else(|| CniError::invalid(&list.name, "the list has no plugins"))
}

/// DEL the Pod from the network; `prev` is the ADD result if known. Every
/// plugin runs; the first error is returned.
pub fn del(
    runner: &PluginRunner,
    list: &NetworkConfigList,
    att: &Attachment,
    prev: Option<&CniResult>,
) -> Result<(), CniError> {
    att.validate()?;
    let prev = prev
        .filter(|_| has_prev_result_on_del(&list.cni_version))
        .map(|r| &r.raw);
    let mut first_error = None;
    for i in (0..list.plugins.len()).rev() {
        let stdin = plugin_stdin(list, i, prev, att);
        if let Err(e) = runner.run(
            plugin_type(list, i),
            CniCommand::Del,
            &att.env(CniCommand::Del),
            &stdin,
        ) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// CHECK the Pod's networking against the ADD result (skipped when the list
/// says `disableCheck`). Stops at the first failing plugin.
pub fn check(
    runner: &PluginRunner,
    list: &NetworkConfigList,
    att: &Attachment,
    prev: &CniResult,
) -> Result<(), CniError> {
    att.validate()?;
    if list.disable_check {
        return Ok(());
    }
    if !has_prev_result_on_del(&list.cni_version) {
        return Err(CniError::invalid(
            &list.name,
            format!(
                "CHECK needs cniVersion 0.4.0 or later, the list says {}",
                list.cni_version
            ),
        ));
    }
    for i in 0..list.plugins.len() {
        let stdin = plugin_stdin(list, i, Some(&prev.raw), att);
        runner.run(
            plugin_type(list, i),
            CniCommand::Check,
            &att.env(CniCommand::Check),
            &stdin,
        )?;
    }
    Ok(())
}

/// VERSION of one plugin.
pub fn version(runner: &PluginRunner, plugin: &str) -> Result<VersionInfo, CniError> {
    let stdin = serde_json::to_vec(&json!({ "cniVersion": "1.0.0" })).unwrap_or_default();
    let env = [
        ("CNI_CONTAINERID", OsString::new()),
        ("CNI_NETNS", OsString::new()),
        ("CNI_IFNAME", OsString::new()),
        ("CNI_ARGS", OsString::new()),
    ];
    let out = runner.run(plugin, CniCommand::Version, &env, &stdin)?;
    serde_json::from_slice(&out).map_err(|e| CniError::BadOutput {
        plugin: plugin.to_string(),
        command: "VERSION",
        msg: e.to_string(),
    })
}
