//! CNI network configuration lists (`.conflist`), loaded and validated as
//! libcni does, and the node's default ones.
//!
//! A list is `{"cniVersion", "name", "plugins": [{"type", ...}, ...]}`
//! (SPEC.md, "Network configuration lists"), optionally `disableCheck` and,
//! since 1.1.0, `cniVersions` (the runtime picks the highest it knows).
//! Each plugin's object is kept as written: fields this crate does not know
//! are the plugin's business and are passed through on stdin.

use std::net::IpAddr;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::CniError;

/// CNI spec versions whose results this crate reads.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

/// Largest conflist accepted.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Most plugins in one list.
pub const MAX_PLUGINS: usize = 32;

/// A validated network configuration list.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfigList {
    pub cni_version: String,
    pub name: String,
    pub disable_check: bool,
    /// Each plugin's configuration object, `type` validated.
    pub plugins: Vec<Map<String, Value>>,
}

impl NetworkConfigList {
    /// Reads and validates a `.conflist` file.
    pub fn load(path: &Path) -> Result<Self, CniError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| CniError::invalid(&shown, format!("cannot read it: {e}")))?;
        let mut text = String::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| CniError::invalid(&shown, format!("cannot read it: {e}")))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(CniError::invalid(
                &shown,
                format!("larger than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        Self::parse(&text, &shown)
    }

    /// Parses and validates conflist text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, CniError> {
        let value: Value = serde_json::from_str(text).map_err(|e| CniError::Config {
            origin: origin.to_string(),
            line: e.line(),
            column: e.column(),
            msg: e.to_string(),
        })?;
        Self::from_value(value, origin)
    }

    fn from_value(value: Value, origin: &str) -> Result<Self, CniError> {
        let err = |msg: String| CniError::invalid(origin, msg);
        let Value::Object(mut top) = value else {
            return Err(err("the top level must be a JSON object".into()));
        };
        let name = match top.get("name") {
            Some(Value::String(n)) if valid_name(n) => n.clone(),
            Some(Value::String(n)) => {
                return Err(err(format!(
                    "`name` {n:?} is not a valid network name: a letter or digit, then letters, digits, `_`, `.` or `-`"
                )))
            }
            _ => return Err(err("`name` (a string) is missing".into())),
        };
        let cni_version = pick_version(&top).map_err(err)?;
        let disable_check = match top.get("disableCheck") {
            None => false,
            Some(Value::Bool(b)) => *b,
            // libcni also accepts the strings "true"/"false".
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => return Err(err("`disableCheck` must be true or false".into())),
        };
        let Some(Value::Array(list)) = top.remove("plugins") else {
            return Err(err(
                "`plugins` (a list of plugin configurations) is missing".into(),
            ));
        };
        if list.is_empty() || list.len() > MAX_PLUGINS {
            return Err(err(format!(
                "`plugins` must hold 1 to {MAX_PLUGINS} plugins, it holds {}",
                list.len()
            )));
        }
        let mut plugins = Vec::with_capacity(list.len());
        for (i, p) in list.into_iter().enumerate() {
            let Value::Object(p) = p else {
                return Err(err(format!("plugins[{i}] must be a JSON object")));
            };
            match p.get("type") {
                Some(Value::String(t)) if valid_plugin_type(t) => {}
                Some(Value::String(t)) => {
                    return Err(err(format!(
                        "plugins[{i}].type {t:?} is not a plugin executable name (letters, digits, `_`, `.`, `-`; no `/`)"
                    )))
                }
                _ => return Err(err(format!("plugins[{i}].type (a string) is missing"))),
            }
            plugins.push(p);
        }
        Ok(NetworkConfigList {
            cni_version,
            name,
            disable_check,
            plugins,
        })
    }

    /// The conflist as JSON, e.g. to write it to the node's config dir.
    pub fn to_json(&self) -> Value {
        json!({
            "cniVersion": self.cni_version,
            "name": self.name,
            "disableCheck": self.disable_check,
            "plugins": self.plugins,
        })
    }

    /// The `type` of each plugin, in order.
    pub fn plugin_types(&self) -> Vec<&str> {
        self.plugins
            .iter()
            .map(|p| p.get("type").and_then(Value::as_str).unwrap_or_default())
            .collect()
    }
}

/// `cniVersion`, or the highest supported entry of `cniVersions` (1.1.0).
fn pick_version(top: &Map<String, Value>) -> Result<String, String> {
    if let Some(Value::Array(versions)) = top.get("cniVersions") {
        let best = SUPPORTED_VERSIONS
            .iter()
            .rev()
            .find(|v| versions.iter().any(|x| x.as_str() == Some(v)));
        if let Some(v) = best {
            return Ok(v.to_string());
        }
    }
    match top.get("cniVersion") {
        Some(Value::String(v)) if SUPPORTED_VERSIONS.contains(&v.as_str()) => Ok(v.clone()),
        Some(Value::String(v)) => Err(format!(
            "`cniVersion` {v:?} is not supported; use one of {}",
            SUPPORTED_VERSIONS.join(", ")
        )),
        _ => Err("`cniVersion` (a string such as \"1.0.0\") is missing".into()),
    }
}

/// libcni's network name rule, also the spec's rule for container IDs.
pub(crate) fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A plugin `type` is an executable's file name in a CNI_PATH directory.
fn valid_plugin_type(s: &str) -> bool {
    valid_name(s) && s.len() <= 255
}

/// The node's Pod network as kubelab sets it up: a `bridge` named
/// `kubelab0` in the node's network namespace with host-local addresses from
/// the node's Pod CIDR (state in `ipam_dir`, never `/var/lib/cni`), then
/// `portmap` for `hostPort`s. No masquerading: traffic stays inside the
/// node's namespace. Loopback is a separate list ([`loopback_conflist`]), as
/// containerd does it.
pub fn default_bridge_conflist(
    pod_cidr: &str,
    ipam_dir: &Path,
) -> Result<NetworkConfigList, CniError> {
    bridge_conflist(DEFAULT_BRIDGE, pod_cidr, ipam_dir)
}

/// The node's bridge when none is named.
pub const DEFAULT_BRIDGE: &str = "kubelab0";

/// [`default_bridge_conflist`] on the bridge `bridge` (a lab world's node
/// names it `cni0`, as flannel and kubenet do): a Linux interface name,
/// 1 to 15 letters, digits, `-`, `_` or `.`.
pub fn bridge_conflist(
    bridge: &str,
    pod_cidr: &str,
    ipam_dir: &Path,
) -> Result<NetworkConfigList, CniError> {
    let name_ok = (1..=15).contains(&bridge.len())
        && bridge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && bridge != "."
        && bridge != "..";
    if !name_ok {
        return Err(CniError::invalid(
            "the node's bridge",
            format!("{bridge:?} is not an interface name (1 to 15 letters, digits, -, _ or .)"),
        ));
    }
    let valid = pod_cidr.split_once('/').is_some_and(|(ip, len)| {
        ip.parse::<IpAddr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 128)
    });
    if !valid {
        return Err(CniError::invalid(
            "the node's Pod CIDR",
            format!("{pod_cidr:?} is not an address/prefix such as 10.88.0.0/24"),
        ));
    }
    let default_route = if pod_cidr.contains(':') {
        "::/0"
    } else {
        "0.0.0.0/0"
    };
    let value = json!({
        "cniVersion": "1.0.0",
        "name": "kubelab",
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr }]],
                    "routes": [{ "dst": default_route }],
                    "dataDir": ipam_dir,
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
        ]
    });
    NetworkConfigList::from_value(value, "the default network")
}

/// The Pod's `lo`, brought up by the `loopback` plugin.
pub fn loopback_conflist() -> NetworkConfigList {
    let mut plugin = Map::new();
    plugin.insert("type".into(), "loopback".into());
    NetworkConfigList {
        cni_version: "1.0.0".into(),
        name: "cni-loopback".into(),
        disable_check: false,
        plugins: vec![plugin],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NetworkConfigList, CniError> {
        NetworkConfigList::parse(text, "/etc/cni/net.d/10-test.conflist")
    }

    #[test]
    fn parses_a_conflist_keeping_plugin_fields() {
        let l = parse(
            r#"{"cniVersion":"0.4.0","name":"net-1","disableCheck":"true",
                "plugins":[{"type":"bridge","bridge":"br0","ipam":{"type":"host-local"}},{"type":"portmap"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (l.cni_version.as_str(), l.name.as_str(), l.disable_check),
            ("0.4.0", "net-1", true)
        );
        assert_eq!(l.plugin_types(), ["bridge", "portmap"]);
        assert_eq!(l.plugins[0]["bridge"], "br0");
        // 1.1.0's cniVersions: the highest known wins.
        let l = parse(
            r#"{"cniVersions":["0.4.0","1.0.0","9.9.9"],"name":"n","plugins":[{"type":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(l.cni_version, "1.0.0");
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let err = parse("{\n  \"name\": \"n\",\n  \"plugins\": [,]\n}").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("/etc/cni/net.d/10-test.conflist:3:"),
            "{msg}"
        );
    }

    #[test]
    fn invalid_lists_say_what_to_fix() {
        let cases = [
            ("[]", "top level must be a JSON object"),
            (
                r#"{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}"#,
                "`name`",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"../x","plugins":[{"type":"x"}]}"#,
                "not a valid network name",
            ),
            (
                r#"{"cniVersion":"2.0.0","name":"n","plugins":[{"type":"x"}]}"#,
                "use one of 0.3.0",
            ),
            (r#"{"name":"n","plugins":[{"type":"x"}]}"#, "`cniVersion`"),
            (r#"{"cniVersion":"1.0.0","name":"n"}"#, "`plugins`"),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#,
                "1 to 32 plugins",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../../bin/sh"}]}"#,
                "plugins[0].type",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"ok"},{}]}"#,
                "plugins[1].type",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","disableCheck":1,"plugins":[{"type":"x"}]}"#,
                "disableCheck",
            ),
        ];
        for (text, want) in cases {
            let msg = parse(text).unwrap_err().to_string();
            assert!(
                msg.contains("10-test.conflist") && msg.contains(want),
                "{text}: {msg}"
            );
        }
    }

    #[test]
    fn load_bounds_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.conflist");
        std::fs::write(&p, vec![b' '; MAX_CONFIG_BYTES as usize + 10]).unwrap();
        let msg = NetworkConfigList::load(&p).unwrap_err().to_string();
        assert!(
            msg.contains("big.conflist") && msg.contains("larger than"),
            "{msg}"
        );
        let msg = NetworkConfigList::load(&dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cannot read it"), "{msg}");
    }

    #[test]
    fn the_default_network_round_trips_and_keeps_state_in_its_dir() {
        let l =
            default_bridge_conflist("10.88.0.0/24", Path::new("/run/kubelab/node/ipam")).unwrap();
        assert_eq!(l.plugin_types(), ["bridge", "portmap"]);
        assert_eq!(l.plugins[0]["ipam"]["dataDir"], "/run/kubelab/node/ipam");
        assert_eq!(
            l.plugins[0]["ipam"]["ranges"][0][0]["subnet"],
            "10.88.0.0/24"
        );
        let again = parse(&l.to_json().to_string()).unwrap();
        assert_eq!(again, l);
        assert!(default_bridge_conflist("10.88.0.0", Path::new("/x")).is_err());
        assert!(default_bridge_conflist("nonsense/8", Path::new("/x")).is_err());
        assert_eq!(loopback_conflist().plugin_types(), ["loopback"]);
    }
}
