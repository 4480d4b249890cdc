//! The nat rules of a node's Services, in kube-proxy's iptables-mode
//! layout, as one `iptables-restore --noflush` input that rewrites every
//! `KUBE-*` chain at once (kube-proxy's `syncProxyRules`):
//!
//! ```text
//! PREROUTING, OUTPUT ─→ KUBE-SERVICES ─(-d clusterIP -p tcp --dport 80)─→ KUBE-SVC-<hash>
//! KUBE-SVC-<hash>:  -j KUBE-MARK-MASQ                     (every Service connection, see below)
//!                   -m statistic --probability 1/3 -j KUBE-SEP-<hash>
//!                   -m statistic --probability 1/2 -j KUBE-SEP-<hash>
//!                   -j KUBE-SEP-<hash>                   (the last one takes the rest)
//! KUBE-SEP-<hash>:  -s <podIP> -j KUBE-MARK-MASQ          (hairpin: a Pod reaching itself)
//!                   -p tcp -j DNAT --to-destination <podIP>:<targetPort>
//! KUBE-MARK-MASQ:   -j MARK --or-mark 0x4000
//! POSTROUTING ─→ KUBE-POSTROUTING: unmarked RETURN; marked: clear the mark, MASQUERADE
//! ```
//!
//! Every Service connection is marked for masquerading (kube-proxy's
//! `--masquerade-all`), not only off-cluster ones: the client and the
//! endpoint sit on the same bridge, so without `br_netfilter` the
//! endpoint's reply, addressed to the client's own IP, is bridged straight
//! to it and never passes the node's conntrack to be un-DNATed (the client
//! sees a reply from the Pod IP, not from the ClusterIP, and resets it).
//! Masqueraded, the reply is addressed to the bridge's IP, so it is routed
//! through the node and un-NATed. The endpoint then sees the node's bridge
//! address as its client.
//!
//! The jumps from the built-in chains are written only with the first
//! sync (`--noflush` keeps them and every non-`KUBE` chain, such as the CNI
//! plugins' own); chains of Services or endpoints that went are flushed and
//! deleted (`-X`).

use super::chain_names::{endpoint_chain, service_chain, service_port_name};
use super::ServicePlan;
use std::collections::BTreeSet;
use std::fmt::Write;

/// kube-proxy's masquerade mark (`--iptables-masquerade-bit` 14).
pub const MASQ_MARK: &str = "0x4000";

/// The chains every sync rewrites.
const BASE_CHAINS: [&str; 3] = ["KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING"];

/// One sync's `iptables-restore` input and the per-Service chains it
/// made (pass them as `previous` next time, so the ones that went are
/// deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub text: String,
    pub chains: BTreeSet<String>,
}

/// The nat table's `KUBE-*` chains for `plan`. `first`: also the jumps
/// from PREROUTING, OUTPUT and POSTROUTING.
pub fn render(plan: &ServicePlan, first: bool, previous: &BTreeSet<String>) -> Rules {
    let mut chains = BTreeSet::new();
    let mut body = String::new();
    for svc in &plan.services {
        let Some(ip) = svc.cluster_ip else { continue };
        for p in &svc.ports {
            let spn = service_port_name(&svc.namespace, &svc.name, &p.name);
            let proto = p.protocol.to_ascii_lowercase();
            let svc_chain = service_chain(&spn, &p.protocol);
            // Without endpoints no chain: the packet is routed to the
            // ClusterIP, which nothing has, and fails at once.
            if p.backends.is_empty() {
                let _ = writeln!(
                    body,
                    "# {spn} has no endpoints (no Ready Pod matches its selector)"
                );
                continue;
            }
            chains.insert(svc_chain.clone());
            let _ = writeln!(
                body,
                "-A KUBE-SERVICES -d {ip}/32 -p {proto} -m comment --comment \"{spn} cluster IP\" -m {proto} --dport {} -j {svc_chain}",
                p.port
            );
            let _ = writeln!(
                body,
                "-A {svc_chain} -d {ip}/32 -p {proto} -m comment --comment \"{spn} cluster IP\" -m {proto} --dport {} -j KUBE-MARK-MASQ",
                p.port
            );
            let n = p.backends.len();
            for (i, b) in p.backends.iter().enumerate() {
                let endpoint = format!("{}:{}", b.ip, b.port);
                let sep = endpoint_chain(&spn, &p.protocol, &endpoint);
                chains.insert(sep.clone());
                let statistic = if i + 1 < n {
                    format!(
                        " -m statistic --mode random --probability {:.10}",
                        1.0 / (n - i) as f64
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    body,
                    "-A {svc_chain} -m comment --comment \"{spn} -> {endpoint}\"{statistic} -j {sep}"
                );
                let _ = writeln!(
                    body,
                    "-A {sep} -s {}/32 -m comment --comment \"{spn}\" -j KUBE-MARK-MASQ",
                    b.ip
                );
                let _ = writeln!(
                    body,
                    "-A {sep} -p {proto} -m comment --comment \"{spn}\" -m {proto} -j DNAT --to-destination {endpoint}"
                );
            }
        }
    }
    let mut text = String::from("*nat\n");
    for c in BASE_CHAINS {
        let _ = writeln!(text, ":{c} - [0:0]");
    }
    let stale: Vec<&String> = previous.difference(&chains).collect();
    for c in chains.iter().chain(stale.iter().copied()) {
        let _ = writeln!(text, ":{c} - [0:0]");
    }
    if first {
        text.push_str(
            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        );
        text.push_str(
            "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n",
        );
        text.push_str("-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n");
    }
    let _ = writeln!(text, "-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}");
    let _ = writeln!(
        text,
        "-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN"
    );
    let _ = writeln!(text, "-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}");
    text.push_str("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE\n");
    text.push_str(&body);
    for c in stale {
        let _ = writeln!(text, "-X {c}");
    }
    text.push_str("COMMIT\n");
    Rules { text, chains }
}
