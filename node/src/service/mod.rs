//! Services, the way a cluster's nodes do them: a `v1 Service` manifest
//! ([`manifest`]) gets a ClusterIP from the node's service CIDR
//! ([`ServiceCidr`]); its Endpoints are the Ready Pods its selector matches
//! ([`endpoints`]); each node turns Services and Endpoints into nat rules
//! in kube-proxy's iptables-mode layout ([`rules`], chain names
//! [`chain_names`]) and into records its DNS server (dnsmasq) answers
//! under `cluster.local` ([`dns`]).
//!
//! This module is pure: it writes text (an `iptables-restore` input, a
//! hosts file, a resolv.conf). The node runs `iptables-restore` and
//! dnsmasq in its network namespace (`crate::sandbox_runtime::services`).

pub mod chain_names;
pub mod dns;
pub mod endpoints;
pub mod manifest;
pub mod printer;
pub mod rules;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;

/// The service CIDR of a node without `--service-cidr` (kubeadm's).
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/16";
/// The cluster domain (the kubelet's `clusterDomain`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// Most Services a node keeps.
pub const MAX_SERVICES: usize = 256;

/// The range ClusterIPs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCidr {
    network: Ipv4Addr,
    prefix: u8,
}

impl ServiceCidr {
    /// `a.b.c.d/n` with `n` from 8 to 28 (room for the DNS address, `.10`)
    /// and no host bits set.
    pub fn parse(s: &str) -> Result<ServiceCidr, String> {
        let bad = |why: &str| {
            format!("service CIDR {s:?}: {why}; write it as e.g. {DEFAULT_SERVICE_CIDR}")
        };
        let (ip, prefix) = s.split_once('/').ok_or_else(|| bad("no /prefix"))?;
        let network: Ipv4Addr = ip.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| bad("the prefix is not a number"))?;
        if !(8..=28).contains(&prefix) {
            return Err(bad("the prefix must be from /8 to /28"));
        }
        let c = ServiceCidr { network, prefix };
        if u32::from(network) & !c.mask() != 0 {
            return Err(bad("host bits are set"));
        }
        Ok(c)
    }

    fn mask(&self) -> u32 {
        u32::MAX << (32 - self.prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network)
    }

    /// The cluster DNS's address: the range's tenth (kubeadm's 10.96.0.10).
    pub fn dns_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 10)
    }

    /// Why `ip` cannot be a Service's ClusterIP here, if it cannot.
    pub fn refuse(&self, ip: Ipv4Addr) -> Option<String> {
        let n = u32::from(self.network);
        let last = n | !self.mask();
        if !self.contains(ip) {
            Some(format!(
                "it is not in this node's service CIDR {self}; leave clusterIP out to get one"
            ))
        } else if u32::from(ip) == n || u32::from(ip) == last {
            Some(format!("it is the network or broadcast address of {self}"))
        } else if ip == self.dns_ip() {
            Some("it is the cluster DNS's address on this node".into())
        } else {
            None
        }
    }

    /// The lowest free address (from `.1`) that is not `used` or refused.
    pub fn allocate(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let n = u32::from(self.network);
        let last = n | !self.mask();
        ((n + 1)..last)
            .map(Ipv4Addr::from)
            .find(|ip| !used.contains(ip) && self.refuse(*ip).is_none())
    }
}

impl fmt::Display for ServiceCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// One endpoint of a Service port: where its traffic is DNATed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Backend {
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// One Service port with its ready endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPort {
    /// The port's name (empty for a Service's only, unnamed port).
    pub name: String,
    pub port: u16,
    /// `TCP` or `UDP`.
    pub protocol: String,
    pub backends: Vec<Backend>,
}

/// One Service as the data plane sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanService {
    pub namespace: String,
    pub name: String,
    /// `None`: headless (`clusterIP: None`), DNS only.
    pub cluster_ip: Option<Ipv4Addr>,
    pub ports: Vec<PlanPort>,
    /// The ready endpoints' addresses (a headless Service's A records).
    pub ready_ips: Vec<Ipv4Addr>,
}

impl PlanService {
    /// `<name>.<namespace>.svc.<domain>`.
    pub fn dns_name(&self) -> String {
        format!("{}.{}.svc.{CLUSTER_DOMAIN}", self.name, self.namespace)
    }
}

/// Every Service of the node with its endpoints: what the node's rules and
/// DNS records are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicePlan {
    pub services: Vec<PlanService>,
}
