//! kube-proxy's chain names (`pkg/proxy/iptables`): a Service port's chain
//! is `KUBE-SVC-` and 16 characters of the base32 of a SHA-256 of
//! `"<namespace>/<name>:<port name>"` followed by the lowercase protocol;
//! an endpoint's chain is `KUBE-SEP-` and the same of that string followed
//! by `"<ip>:<port>"`. The same Service gets the same names on every node
//! and every run, so `KUBE-SVC-NPX46M4PTMTKRN6Y` is `default/kubernetes:https`
//! on any cluster.

use sha2::{Digest, Sha256};

/// kube-proxy's `ServicePortName.String()`: `ns/name:port`, or `ns/name`
/// for an unnamed port.
pub fn service_port_name(namespace: &str, name: &str, port: &str) -> String {
    if port.is_empty() {
        format!("{namespace}/{name}")
    } else {
        format!("{namespace}/{name}:{port}")
    }
}

/// RFC 4648 base32 (standard alphabet), of which the first 16
/// characters are used: 80 bits, no padding reached.
fn base32_16(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(16);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
            if out.len() == 16 {
                return out;
            }
        }
    }
    out
}

fn hash16(s: &str) -> String {
    base32_16(&Sha256::digest(s.as_bytes()))
}

/// `portProtoHash`: protocol as kube-proxy lowercases it (`tcp`, `udp`).
pub fn port_proto_hash(service_port_name: &str, protocol: &str) -> String {
    hash16(&format!(
        "{service_port_name}{}",
        protocol.to_ascii_lowercase()
    ))
}

/// `servicePortChainName`: `KUBE-SVC-…`.
pub fn service_chain(service_port_name: &str, protocol: &str) -> String {
    format!("KUBE-SVC-{}", port_proto_hash(service_port_name, protocol))
}

/// `servicePortEndpointChainName`: `KUBE-SEP-…` for endpoint `ip:port`.
pub fn endpoint_chain(service_port_name: &str, protocol: &str, endpoint: &str) -> String {
    format!(
        "KUBE-SEP-{}",
        hash16(&format!(
            "{service_port_name}{}{endpoint}",
            protocol.to_ascii_lowercase()
        ))
    )
}
