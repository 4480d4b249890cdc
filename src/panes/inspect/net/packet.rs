//! The packet view: the counters that moved between samples, gathered into
//! one burst of traffic (a ping, a curl) and shown as the path the packet
//! took — received on, matched by, sent from.

use super::{Hop, NetView};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Quiet time that ends a burst: the next movement starts a new path.
pub const QUIET: Duration = Duration::from_millis(1500);

/// Where the netfilter hooks come in a packet's life (for ordering rules).
fn hook_rank(h: Option<&str>) -> u8 {
    match h {
        Some("ingress") => 0,
        Some("prerouting") => 1,
        Some("input") => 2,
        Some("forward") => 3,
        Some("output") => 4,
        Some("postrouting") => 5,
        _ => 6,
    }
}

#[derive(Default, Clone, Copy)]
struct Moved {
    packets: u64,
    bytes: u64,
}

impl Moved {
    fn add(&mut self, p: u64, b: u64) {
        self.packets = self.packets.saturating_add(p);
        self.bytes = self.bytes.saturating_add(b);
    }
}

/// Counters of one sample, by link name and by rule key.
#[derive(Default)]
struct Counters {
    rx: HashMap<String, (u64, u64)>,
    tx: HashMap<String, (u64, u64)>,
    rules: HashMap<String, (u64, u64)>,
}

impl Counters {
    fn of(v: &NetView) -> Counters {
        let mut c = Counters::default();
        for l in &v.links.rows {
            c.rx.insert(l.name.clone(), (l.rx_packets, l.rx_bytes));
            c.tx.insert(l.name.clone(), (l.tx_packets, l.tx_bytes));
        }
        for r in &v.rules.rows {
            if let Some(n) = r.counter {
                c.rules.insert(r.key(), n);
            }
        }
        c
    }
}

/// The current burst: what moved since it began, with when it last moved.
struct Burst {
    last: Instant,
    rx: HashMap<String, Moved>,
    tx: HashMap<String, Moved>,
    rules: HashMap<String, Moved>,
}

/// Remembers the previous sample and the current burst.
#[derive(Default)]
pub struct Tracker {
    prev: Option<Counters>,
    burst: Option<Burst>,
    /// The hops of the last burst, kept until the next one starts.
    shown: Vec<Hop>,
}

/// What moved from `before` to `after` (a counter that went down — a link
/// recreated, a rule reset — counts as moved by its new value).
fn diff(
    before: &HashMap<String, (u64, u64)>,
    after: &HashMap<String, (u64, u64)>,
) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for (k, &(p, b)) in after {
        let (p0, b0) = before.get(k).copied().unwrap_or((p, b));
        let (dp, db) = if p < p0 {
            (p, b)
        } else {
            (p - p0, b.saturating_sub(b0))
        };
        if dp > 0 {
            out.push((k.clone(), dp, db));
        }
    }
    out
}

impl Tracker {
    /// Takes sample `v` at `now` and fills its `packet` hops.
    pub fn update(&mut self, v: &mut NetView, now: Instant) {
        let cur = Counters::of(v);
        if let Some(prev) = &self.prev {
            let rx = diff(&prev.rx, &cur.rx);
            let tx = diff(&prev.tx, &cur.tx);
            let rules = diff(&prev.rules, &cur.rules);
            if !(rx.is_empty() && tx.is_empty() && rules.is_empty()) {
                let fresh = self
                    .burst
                    .as_ref()
                    .is_none_or(|b| now.duration_since(b.last) >= QUIET);
                if fresh {
                    self.burst = Some(Burst {
                        last: now,
                        rx: HashMap::new(),
                        tx: HashMap::new(),
                        rules: HashMap::new(),
                    });
                }
                if let Some(b) = &mut self.burst {
                    b.last = now;
                    for (k, p, by) in rx {
                        b.rx.entry(k).or_default().add(p, by);
                    }
                    for (k, p, by) in tx {
                        b.tx.entry(k).or_default().add(p, by);
                    }
                    for (k, p, by) in rules {
                        b.rules.entry(k).or_default().add(p, by);
                    }
                }
                self.shown = self.hops(v);
            }
        }
        self.prev = Some(cur);
        v.packet = self.shown.clone();
    }

    /// The burst as a path: interfaces it came in on (in interface order),
    /// the rules it matched (in hook order), the interfaces it left by.
    fn hops(&self, v: &NetView) -> Vec<Hop> {
        let Some(b) = &self.burst else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for l in &v.links.rows {
            if let Some(m) = b.rx.get(&l.name) {
                out.push(Hop::In {
                    link: l.name.clone(),
                    packets: m.packets,
                    bytes: m.bytes,
                });
            }
        }
        let mut rules: Vec<_> = v
            .rules
            .rows
            .iter()
            .filter_map(|r| b.rules.get(&r.key()).map(|m| (r, *m)))
            .collect();
        rules.sort_by_key(|(r, _)| hook_rank(r.hook.as_deref()));
        for (r, m) in rules {
            out.push(Hop::Rule {
                chain: r.chain.clone(),
                text: r.text.clone(),
                packets: m.packets,
                bytes: m.bytes,
            });
        }
        for l in &v.links.rows {
            if let Some(m) = b.tx.get(&l.name) {
                out.push(Hop::Out {
                    link: l.name.clone(),
                    packets: m.packets,
                    bytes: m.bytes,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LinkRow, RuleRow};
    use super::*;

    fn view(tx_eth: u64, rule: u64) -> NetView {
        let mut v = NetView::default();
        for (i, name) in ["lo", "eth0"].into_iter().enumerate() {
            v.links.rows.push(LinkRow {
                index: i as u32 + 1,
                name: name.into(),
                tx_packets: if name == "eth0" { tx_eth } else { 0 },
                tx_bytes: if name == "eth0" { tx_eth * 98 } else { 0 },
                ..LinkRow::default()
            });
        }
        v.rules.rows.push(RuleRow {
            chain: "inet t out".into(),
            hook: Some("output".into()),
            handle: 2,
            text: "icmp type echo-request".into(),
            counter: Some((rule, rule * 84)),
        });
        v
    }

    #[test]
    fn a_ping_shows_its_rule_then_its_interface_and_stays_until_the_next_burst() {
        let t0 = Instant::now();
        let mut tr = Tracker::default();
        let mut v = view(5, 0);
        tr.update(&mut v, t0);
        assert!(
            v.packet.is_empty(),
            "the first sample has nothing to compare"
        );
        let mut v = view(6, 1);
        tr.update(&mut v, t0 + Duration::from_millis(250));
        assert_eq!(
            v.packet,
            vec![
                Hop::Rule {
                    chain: "inet t out".into(),
                    text: "icmp type echo-request".into(),
                    packets: 1,
                    bytes: 84
                },
                Hop::Out {
                    link: "eth0".into(),
                    packets: 1,
                    bytes: 98
                },
            ]
        );
        // Within the burst, movements add up.
        let mut v = view(7, 2);
        tr.update(&mut v, t0 + Duration::from_millis(500));
        assert!(
            matches!(v.packet[1], Hop::Out { packets: 2, .. }),
            "{:?}",
            v.packet
        );
        // Quiet: the path stays shown.
        let mut v = view(7, 2);
        tr.update(&mut v, t0 + Duration::from_secs(5));
        assert!(
            matches!(v.packet[1], Hop::Out { packets: 2, .. }),
            "{:?}",
            v.packet
        );
        // After the quiet, a new movement starts a new path.
        let mut v = view(8, 2);
        tr.update(&mut v, t0 + Duration::from_secs(6));
        assert_eq!(
            v.packet,
            vec![Hop::Out {
                link: "eth0".into(),
                packets: 1,
                bytes: 98
            }]
        );
    }
}
