//! What CNI plugins print: the ADD result and the error object (SPEC.md,
//! "Success" and "Error"; 0.3.x–1.1.0 shapes, unknown fields ignored).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An ADD result. `raw` is the plugin's JSON exactly as printed: it is what
/// the next plugin of the chain gets as `prevResult`, and what DEL and CHECK
/// get later, so fields this crate does not model are not lost.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CniResult {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub ips: Vec<IpConfig>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub dns: Dns,
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Interface {
    pub name: String,
    #[serde(default)]
    pub mac: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The netns path for an interface inside the Pod, empty on the node side.
    #[serde(default)]
    pub sandbox: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct IpConfig {
    /// CIDR notation: `10.88.0.2/24`.
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Index into `interfaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
}

impl IpConfig {
    /// The address without its prefix length.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.split('/').next()?.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Route {
    pub dst: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Dns {
    #[serde(default)]
    pub nameservers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default)]
    pub search: Vec<String>,
    #[serde(default)]
    pub options: Vec<String>,
}

impl CniResult {
    /// Parses a plugin's stdout.
    pub fn parse(stdout: &[u8]) -> Result<CniResult, serde_json::Error> {
        let raw: Value = serde_json::from_slice(stdout)?;
        let mut result: CniResult = serde_json::from_value(raw.clone())?;
        result.raw = raw;
        Ok(result)
    }

    /// The Pod's IP: the first address on an interface inside the sandbox
    /// (the bridge plugin also lists the bridge and the node-side veth), else
    /// the first address.
    pub fn pod_ip(&self) -> Option<IpAddr> {
        let in_sandbox = |ip: &&IpConfig| {
            ip.interface
                .and_then(|i| self.interfaces.get(i))
                .is_some_and(|iface| !iface.sandbox.is_empty())
        };
        self.ips
            .iter()
            .find(in_sandbox)
            .or(self.ips.first())
            .and_then(IpConfig::ip)
    }
}

/// The error object a failing plugin prints on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PluginErrorBody {
    pub code: u32,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub details: String,
}

/// The spec's well-known error codes (100 and up are the plugin's own).
pub fn error_code_meaning(code: u32) -> &'static str {
    match code {
        1 => "incompatible CNI version",
        2 => "unsupported field in network configuration",
        3 => "container unknown or does not exist",
        4 => "invalid necessary environment variables",
        5 => "I/O failure",
        6 => "failed to decode content",
        7 => "invalid network config",
        11 => "try again later",
        50 => "the plugin is not available",
        51 => "the plugin is not available, existing containers may have limited connectivity",
        _ if code >= 100 => "plugin-specific error",
        _ => "reserved error code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Debian's bridge plugin prints for an ADD (1.0.0).
    const BRIDGE_ADD: &str = r#"{
      "cniVersion": "1.0.0",
      "interfaces": [
        {"name": "kubelab0", "mac": "6a:1f:00:00:00:01"},
        {"name": "veth1234", "mac": "6a:1f:00:00:00:02"},
        {"name": "eth0", "mac": "6a:1f:00:00:00:03", "sandbox": "/proc/42/ns/net"}
      ],
      "ips": [{"interface": 2, "address": "10.88.0.2/24", "gateway": "10.88.0.1"}],
      "routes": [{"dst": "0.0.0.0/0"}],
      "dns": {},
      "futureField": {"kept": true}
    }"#;

    #[test]
    fn parses_a_bridge_result_and_finds_the_pod_ip() {
        let r = CniResult::parse(BRIDGE_ADD.as_bytes()).unwrap();
        assert_eq!(r.interfaces.len(), 3);
        assert_eq!(r.pod_ip(), Some("10.88.0.2".parse().unwrap()));
        assert_eq!(r.ips[0].gateway.as_deref(), Some("10.88.0.1"));
        assert_eq!(r.routes[0].dst, "0.0.0.0/0");
        // The raw JSON keeps what the types do not model.
        assert_eq!(r.raw["futureField"]["kept"], true);
    }

    #[test]
    fn reads_older_and_minimal_results() {
        // 0.4.0 had "version" on each IP; an IPAM result has no interfaces.
        let r = CniResult::parse(
            br#"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/16"}]}"#,
        )
        .unwrap();
        assert_eq!(r.pod_ip(), Some("10.1.0.5".parse().unwrap()));
        let r = CniResult::parse(br#"{"cniVersion":"1.0.0"}"#).unwrap();
        assert_eq!(r.pod_ip(), None);
        assert!(CniResult::parse(b"not json").is_err());
        assert!(CniResult::parse(br#"{"ips":"no"}"#).is_err());
    }

    #[test]
    fn error_bodies_and_codes() {
        let e: PluginErrorBody =
            serde_json::from_str(r#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"why"}"#)
                .unwrap();
        assert_eq!(
            (e.code, e.msg.as_str(), e.details.as_str()),
            (7, "bad", "why")
        );
        assert_eq!(error_code_meaning(7), "invalid network config");
        assert_eq!(error_code_meaning(999), "plugin-specific error");
        assert_eq!(error_code_meaning(42), "reserved error code");
    }
}
