//! Pod networking through real CNI plugins, run as the CNI spec
//! (containernetworking/cni `SPEC.md`) and libcni run them.
//!
//! - [`config`]: `.conflist` files, validated; the node's default networks.
//! - [`exec`]: one plugin call (CNI_PATH lookup, `CNI_*` environment, config
//!   on stdin, deadline, process group).
//! - [`network`]: a whole list: ADD in order with `prevResult` chaining, DEL
//!   in reverse, CHECK, VERSION.
//! - [`result`]: the result and error JSON; [`cache`]: ADD results kept for
//!   DEL and CHECK.
//!
//! kubelab runs the plugins inside the node's own network namespace (a
//! [`Launcher::Prefix`] that joins it: `sandbox_runtime::network`) so the
//! bridge and veths never appear in the host's.

pub mod cache;
pub mod config;
pub mod exec;
pub mod network;
pub mod result;

use std::time::Duration;

pub use cache::ResultCache;
pub use config::{
    bridge_conflist, default_bridge_conflist, loopback_conflist, NetworkConfigList, DEFAULT_BRIDGE,
};
pub use exec::{CniCommand, Launcher, PluginRunner};
pub use network::{Attachment, PortMapping, VersionInfo};
pub use result::{error_code_meaning, CniResult, Dns, Interface, IpConfig, Route};

/// Debian's `containernetworking-plugins` install directory.
pub const DEBIAN_PLUGIN_DIR: &str = "/usr/lib/cni";

/// Everything that can go wrong with CNI. Plugin-provided text is cleaned of
/// control characters.
#[derive(Debug, thiserror::Error)]
pub enum CniError {
    #[error("{origin}:{line}:{column}: not valid JSON: {msg}")]
    Config {
        origin: String,
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("{origin}: {msg}")]
    Invalid { origin: String, msg: String },
    #[error("CNI plugin {plugin:?} not found in {dirs:?}: install Debian's containernetworking-plugins (apt-get install containernetworking-plugins) or point the CNI path at the plugins")]
    NotFound { plugin: String, dirs: String },
    #[error("CNI plugin {plugin} {command} failed: {msg}{} (code {code}: {})", details_suffix(.details), error_code_meaning(*.code))]
    Plugin {
        plugin: String,
        command: &'static str,
        code: u32,
        msg: String,
        details: String,
    },
    #[error("CNI plugin {plugin} {command} did not finish within {timeout:?} and was killed")]
    Timeout {
        plugin: String,
        command: &'static str,
        timeout: Duration,
    },
    #[error("CNI plugin {plugin} {command} failed ({status}) without an error object; its stderr: {stderr}")]
    Crashed {
        plugin: String,
        command: &'static str,
        status: String,
        stderr: String,
    },
    #[error("CNI plugin {plugin} {command} printed an unusable result: {msg}")]
    BadOutput {
        plugin: String,
        command: &'static str,
        msg: String,
    },
    #[error("running CNI plugin {plugin} {command}: {source}")]
    Io {
        plugin: String,
        command: &'static str,
        source: std::io::Error,
    },
}

impl CniError {
    pub(crate) fn invalid(origin: &str, msg: impl Into<String>) -> CniError {
        CniError::Invalid {
            origin: origin.to_string(),
            msg: msg.into(),
        }
    }
}

fn details_suffix(details: &str) -> String {
    if details.is_empty() {
        String::new()
    } else {
        format!(": {details}")
    }
}

#[cfg(test)]
mod tests;
