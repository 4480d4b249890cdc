//! The cluster DNS's records and the Pods' resolv.conf.
//!
//! The node's dnsmasq answers from one hosts file (`--addn-hosts`, reread
//! on SIGHUP): `<service>.<namespace>.svc.cluster.local` → its ClusterIP,
//! or, headless, one line per Ready endpoint (so one A record each). The
//! names come from validated DNS labels and the addresses are parsed IPs:
//! no manifest can write anything else into the file.

use super::{ServicePlan, CLUSTER_DOMAIN};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// dnsmasq's hosts file for `plan`.
pub fn hosts_file(plan: &ServicePlan) -> String {
    let mut s = String::from("# kubelab node: cluster DNS records, rewritten on every change\n");
    for svc in &plan.services {
        let name = svc.dns_name();
        match svc.cluster_ip {
            Some(ip) => {
                let _ = writeln!(s, "{ip}\t{name}");
            }
            None => {
                for ip in &svc.ready_ips {
                    let _ = writeln!(s, "{ip}\t{name}");
                }
            }
        }
    }
    s
}

/// The kubelet's `ClusterFirst` resolv.conf for a Pod in `namespace`.
pub fn resolv_conf(namespace: &str, nameserver: Ipv4Addr) -> String {
    format!(
        "search {namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\nnameserver {nameserver}\noptions ndots:5\n"
    )
}
