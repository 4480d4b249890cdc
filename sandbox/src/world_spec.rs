//! A lab world: several nodes on one underlay network (issue 19). The same
//! table is a world file (`examples/worlds/two-nodes.toml`) and, later, a
//! lesson's `[world]` front matter, so it is plain serde data, strict like
//! [`crate::spec::Spec`]: unknown keys are errors, and every value is checked
//! while it is read, so a TOML reader attaches the error to the value's line.
//!
//! ```toml
//! underlay = "192.168.50.0/24"   # the "physical" switch's subnet; .1 is its gateway
//! pods = false                   # nodes run Pods (a `kubelab node` each)?
//!
//! [[nodes]]
//! name = "node1"                 # address: the subnet's 11th, 12th... (192.168.50.11)
//! pod_cidr = "10.244.1.0/24"     # default: 10.244.N.0/24 for the Nth node
//!
//! [[nodes]]
//! name = "node2"
//! address = "192.168.50.12"
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// At most this many nodes: each is a network namespace and a holder
/// process, and a laptop lab never needs more.
pub const MAX_NODES: usize = 8;
/// A node name is a DNS label of at most this many characters, so that the
/// underlay's end of its cable, `veth-NAME`, fits Linux's 15-byte
/// interface names.
pub const MAX_NODE_NAME: usize = 10;
/// The first default node address is the subnet's host number 11 (node1 is
/// .11, node2 .12, ...): easy to tell apart from the gateway, .1.
const FIRST_NODE_HOST: u32 = 11;

/// An IPv4 subnet written `A.B.C.D/N` with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Ipv4Net {
    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    pub fn contains(self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.addr)
    }

    pub fn overlaps(self, other: Ipv4Net) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// Host number `n` of the subnet (`n` from 0, the network address).
    pub fn host(self, n: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - self.prefix);
        (u64::from(n) < size).then(|| Ipv4Addr::from(u32::from(self.addr) + n))
    }

    /// The broadcast address (all host bits set).
    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Ipv4Net {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IPv4 subnet; write it like 192.168.50.0/24");
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = p.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
        let net = Ipv4Net { addr, prefix };
        let base = Ipv4Addr::from(u32::from(addr) & net.mask());
        if base != addr {
            return Err(format!(
                "{s} has host bits set; the subnet is {base}/{prefix}"
            ));
        }
        Ok(net)
    }
}

impl Serialize for Ipv4Net {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Net {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A node's name: a DNS label (lowercase letters, digits, `-`, starting and
/// ending with a letter or digit) of at most [`MAX_NODE_NAME`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeName(String);

impl NodeName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NodeName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let shown: String = s.chars().take(20).flat_map(char::escape_default).collect();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let edge =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if s.is_empty()
            || s.len() > MAX_NODE_NAME
            || !s.chars().all(ok_char)
            || !edge(s.chars().next())
            || !edge(s.chars().last())
        {
            return Err(format!(
                "node name \"{shown}\" is not a DNS label of at most {MAX_NODE_NAME} \
                 characters (lowercase letters, digits and '-', starting and ending \
                 with a letter or digit), e.g. \"node1\""
            ));
        }
        Ok(NodeName(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for NodeName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One node of a world, with its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSpec {
    pub name: NodeName,
    /// Its address on the underlay (`eth0` inside the node).
    pub address: Ipv4Addr,
    /// The Pods' subnet of this node (for host-gw routes and overlays).
    pub pod_cidr: Ipv4Net,
    /// Whether the node runs `kubelab node` (Pods).
    pub pods: bool,
}

/// A world: nodes, the underlay they share, and their Pod subnets. Read it
/// with serde (TOML); every check of [`WorldSpec::from_raw`] runs then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawWorld")]
pub struct WorldSpec {
    pub underlay: Ipv4Net,
    pub pods: bool,
    pub nodes: Vec<NodeSpec>,
}

/// The world as written, before the defaults and the checks that span
/// several nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorld {
    #[serde(default = "default_underlay")]
    pub underlay: Ipv4Net,
    #[serde(default)]
    pub pods: bool,
    pub nodes: Vec<RawNode>,
}

/// A node as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: NodeName,
    #[serde(default)]
    pub address: Option<Ipv4Addr>,
    #[serde(default)]
    pub pod_cidr: Option<Ipv4Net>,
    #[serde(default)]
    pub pods: Option<bool>,
}

fn default_underlay() -> Ipv4Net {
    Ipv4Net {
        addr: Ipv4Addr::new(192, 168, 50, 0),
        prefix: 24,
    }
}

impl TryFrom<RawWorld> for WorldSpec {
    type Error = String;
    fn try_from(raw: RawWorld) -> Result<Self, String> {
        WorldSpec::from_raw(raw)
    }
}

impl WorldSpec {
    /// The gateway of the underlay: its first host address, on the bridge
    /// in the underlay namespace (the nodes' default route, as a cloud VM's).
    pub fn gateway(&self) -> Ipv4Addr {
        self.underlay.host(1).unwrap_or(self.underlay.addr)
    }

    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name.as_str() == name)
    }

    /// Fills in the defaults and checks what spans several values: the
    /// node count, unique names and addresses, addresses inside the
    /// underlay, Pod subnets that overlap nothing.
    pub fn from_raw(raw: RawWorld) -> Result<Self, String> {
        let under = raw.underlay;
        if !(8..=29).contains(&under.prefix) {
            return Err(format!(
                "underlay = \"{under}\": use a prefix from /8 to /29 (e.g. 192.168.50.0/24)"
            ));
        }
        if raw.nodes.is_empty() || raw.nodes.len() > MAX_NODES {
            return Err(format!(
                "a world has 1 to {MAX_NODES} nodes ([[nodes]] tables); this one has {}",
                raw.nodes.len()
            ));
        }
        let gateway = under.host(1).unwrap_or(under.addr);
        let mut nodes: Vec<NodeSpec> = Vec::with_capacity(raw.nodes.len());
        for (i, n) in raw.nodes.into_iter().enumerate() {
            let name = n.name;
            if nodes.iter().any(|o| o.name == name) {
                return Err(format!(
                    "two nodes are named \"{name}\"; names must be unique"
                ));
            }
            let address = match n.address {
                Some(a) => a,
                None => under
                    .host(FIRST_NODE_HOST + i as u32)
                    .filter(|a| *a != under.broadcast())
                    .ok_or_else(|| {
                        format!(
                            "node \"{name}\": the underlay {under} has no default address \
                             for it (.{}); give it an `address` or use a larger underlay",
                            FIRST_NODE_HOST + i as u32
                        )
                    })?,
            };
            if !under.contains(address) || address == under.addr || address == under.broadcast() {
                return Err(format!(
                    "node \"{name}\": address {address} is not a host address of the \
                     underlay {under}"
                ));
            }
            if address == gateway {
                return Err(format!(
                    "node \"{name}\": address {address} is the underlay's gateway; \
                     use another one"
                ));
            }
            if let Some(o) = nodes.iter().find(|o| o.address == address) {
                return Err(format!(
                    "node \"{name}\": address {address} is node \"{}\"'s already",
                    o.name
                ));
            }
            let pod_cidr = match n.pod_cidr {
                Some(c) => c,
                None => Ipv4Net {
                    addr: Ipv4Addr::new(10, 244, i as u8 + 1, 0),
                    prefix: 24,
                },
            };
            if !(8..=30).contains(&pod_cidr.prefix) {
                return Err(format!(
                    "node \"{name}\": pod_cidr = \"{pod_cidr}\": use a prefix from /8 to /30"
                ));
            }
            if pod_cidr.overlaps(under) {
                return Err(format!(
                    "node \"{name}\": pod_cidr {pod_cidr} overlaps the underlay {under}"
                ));
            }
            if let Some(o) = nodes.iter().find(|o| o.pod_cidr.overlaps(pod_cidr)) {
                return Err(format!(
                    "node \"{name}\": pod_cidr {pod_cidr} overlaps node \"{}\"'s {}",
                    o.name, o.pod_cidr
                ));
            }
            nodes.push(NodeSpec {
                name,
                address,
                pod_cidr,
                pods: n.pods.unwrap_or(raw.pods),
            });
        }
        Ok(WorldSpec {
            underlay: under,
            pods: raw.pods,
            nodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(t: &str) -> Result<WorldSpec, String> {
        toml::from_str::<WorldSpec>(t).map_err(|e| e.to_string())
    }

    #[test]
    fn two_nodes_with_defaults() {
        let w = world("[[nodes]]\nname = \"node1\"\n[[nodes]]\nname = \"node2\"\n").unwrap();
        assert_eq!(w.underlay.to_string(), "192.168.50.0/24");
        assert_eq!(w.gateway(), Ipv4Addr::new(192, 168, 50, 1));
        let n: Vec<_> = w
            .nodes
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.address.to_string(),
                    n.pod_cidr.to_string(),
                )
            })
            .collect();
        assert_eq!(
            n,
            [
                ("node1", "192.168.50.11".into(), "10.244.1.0/24".into()),
                ("node2", "192.168.50.12".into(), "10.244.2.0/24".into())
            ]
        );
        assert!(!w.pods && !w.nodes[0].pods);
        // It goes through JSON (to the world's process) unchanged.
        let j = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<WorldSpec>(&j).unwrap(), w);
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("underlay = \"192.168.50.1/24\"\n[[nodes]]\nname = \"a\"", "host bits"),
            ("underlay = \"10.0.0/8\"\n[[nodes]]\nname = \"a\"", "not an IPv4 subnet"),
            ("underlay = \"10.0.0.0/30\"\n[[nodes]]\nname = \"a\"", "/8 to /29"),
            ("[[nodes]]\nname = \"Node1\"", "DNS label"),
            ("[[nodes]]\nname = \"n-\"", "DNS label"),
            ("[[nodes]]\nname = \"averylongname\"", "at most 10"),
            ("[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"a\"", "unique"),
            ("[[nodes]]\nname = \"a\"\naddress = \"192.168.50.1\"", "gateway"),
            ("[[nodes]]\nname = \"a\"\naddress = \"10.1.1.1\"", "not a host address"),
            ("[[nodes]]\nname = \"a\"\naddress = \"192.168.50.255\"", "not a host address"),
            (
                "[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"b\"\naddress = \"192.168.50.11\"",
                "node \"a\"'s already",
            ),
            ("[[nodes]]\nname = \"a\"\npod_cidr = \"192.168.0.0/16\"", "overlaps the underlay"),
            (
                "[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"b\"\npod_cidr = \"10.244.0.0/16\"",
                "overlaps node \"a\"",
            ),
            ("[[nodes]]\nname = \"a\"\npodcidr = \"10.0.0.0/24\"", "unknown field"),
            ("nodes = []", "1 to 8 nodes"),
            ("underlay = \"10.0.0.0/28\"\n[[nodes]]\nname = \"a\"\n[[nodes]]\nname = \"b\"\n[[nodes]]\nname = \"c\"\n[[nodes]]\nname = \"d\"\n[[nodes]]\nname = \"e\"", "no default address"),
        ];
        for (t, want) in cases {
            let e = world(t).unwrap_err();
            assert!(e.contains(want), "{t:?}: {e}");
        }
        let nine: String = (1..=9)
            .map(|i| format!("[[nodes]]\nname = \"n{i}\"\n"))
            .collect();
        assert!(world(&nine).unwrap_err().contains("has 9"));
    }

    #[test]
    fn subnet_arithmetic() {
        let n: Ipv4Net = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(Ipv4Addr::new(10, 255, 0, 1)));
        assert!(!n.contains(Ipv4Addr::new(11, 0, 0, 1)));
        assert_eq!(n.broadcast(), Ipv4Addr::new(10, 255, 255, 255));
        assert!(n.overlaps("10.244.0.0/16".parse().unwrap()));
        let s: Ipv4Net = "192.168.1.0/30".parse().unwrap();
        assert_eq!(s.host(3), Some(Ipv4Addr::new(192, 168, 1, 3)));
        assert_eq!(s.host(4), None);
    }
}
