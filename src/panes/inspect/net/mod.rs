//! The network pane: per network namespace, links (with their kind, master,
//! veth peer, VXLAN VNI/remote), addresses, routes, neighbours, the bridge
//! and VXLAN FDB, nftables rules with their counters (and iptables-nft's
//! view), conntrack entries, and the packet view — which interfaces and
//! rules a ping or curl moved, in the order the packet went through them.
//!
//! [`parse`] reads the tools' output (hostile: bounded, sanitized, never
//! panics), [`packet`] diffs two samples, [`draw`] lays it out.

pub mod draw;
pub mod packet;
pub mod parse;
pub mod source;
pub mod text;

/// One section of the pane: its rows, or why there are none (a tool is
/// missing: which package has it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section<T> {
    pub rows: Vec<T>,
    /// Rows the tool printed beyond the ones kept.
    pub cut: usize,
    pub why: Option<String>,
}

impl<T> Section<T> {
    pub fn unavailable(why: impl Into<String>) -> Self {
        Section {
            rows: Vec::new(),
            cut: 0,
            why: Some(why.into()),
        }
    }

    /// Keeps a row unless `max` are kept already (then counts it as cut).
    pub fn push_bounded(&mut self, row: T, max: usize) {
        if self.rows.len() < max {
            self.rows.push(row);
        } else {
            self.cut += 1;
        }
    }
}

/// A network interface, as `ip -d -s link` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkRow {
    pub index: u32,
    pub name: String,
    /// `veth`, `bridge`, `vxlan`, … (empty for a plain device such as lo).
    pub kind: String,
    /// The bridge it is a port of.
    pub master: Option<String>,
    /// The veth peer: its name here, or `if7` when it is in another
    /// namespace; the underlay device of a VXLAN.
    pub peer: Option<String>,
    /// `vni 42 remote 10.0.0.2 dstport 4789`.
    pub vxlan: Option<String>,
    /// `UP`, `DOWN`, `UNKNOWN` (lo), `LOWERLAYERDOWN`.
    pub state: String,
    pub mtu: u32,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

/// An nftables rule with its counter (none when it has no `counter`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleRow {
    /// `inet t c` (family, table, chain).
    pub chain: String,
    /// The chain's hook (`output`, `prerouting`, …), for the packet order.
    pub hook: Option<String>,
    pub handle: u64,
    /// The rule, nft-style: `icmp type echo-request accept`.
    pub text: String,
    pub counter: Option<(u64, u64)>,
}

impl RuleRow {
    /// What identifies the rule between two samples.
    pub fn key(&self) -> String {
        format!("{} #{}", self.chain, self.handle)
    }
}

/// One place the packet went, with the counters that moved there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// Received on an interface.
    In {
        link: String,
        packets: u64,
        bytes: u64,
    },
    /// Matched a rule (its counter moved).
    Rule {
        chain: String,
        text: String,
        packets: u64,
        bytes: u64,
    },
    /// Sent from an interface.
    Out {
        link: String,
        packets: u64,
        bytes: u64,
    },
}

/// The network pane's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetView {
    pub links: Section<LinkRow>,
    /// `10.0.0.1/24 dev eth0`.
    pub addrs: Section<String>,
    /// `default via 10.0.0.1 dev eth0 proto static`.
    pub routes: Section<String>,
    /// `10.0.0.2 dev eth0 lladdr 02:… REACHABLE`.
    pub neigh: Section<String>,
    /// `02:… dev vx0 dst 10.0.0.3 self permanent`.
    pub fdb: Section<String>,
    pub rules: Section<RuleRow>,
    /// iptables-nft's view (`iptables-save -c` lines) when `iptables` made
    /// tables in the ruleset; None when it did not.
    pub iptables: Option<Section<String>>,
    /// `conntrack -L -o extended` lines.
    pub conntrack: Section<String>,
    /// The last burst of traffic, hop by hop (filled by the sampler).
    pub packet: Vec<Hop>,
}
