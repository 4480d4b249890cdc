//! The network pane's rows: the packet path first (what the learner just
//! did), then links, addresses, routes, neighbours, FDB, rules, conntrack.
//! Every string in a [`NetView`] is sanitized by the parser already.

use super::text::NetText;
use super::{Hop, LinkRow, NetView, Section};
use crate::panes::inspect::model::human_bytes;
use crate::panes::text::fill;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

fn head() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// `3p 252 B`: packets and bytes that moved.
fn moved(p: u64, b: u64) -> String {
    format!("{p}p {}", human_bytes(b))
}

/// The pane's rows, the summary row first (kept in place when scrolled).
pub fn lines(v: &NetView, t: &NetText) -> Vec<Line<'static>> {
    let n = |s: usize| s.to_string();
    let mut out = vec![Line::styled(
        fill(
            t.summary,
            &[
                ("links", &n(v.links.rows.len())),
                ("routes", &n(v.routes.rows.len())),
                ("neigh", &n(v.neigh.rows.len())),
                ("rules", &n(v.rules.rows.len())),
                ("conntrack", &n(v.conntrack.rows.len() + v.conntrack.cut)),
            ],
        ),
        dim(),
    )];
    packet(v, t, &mut out);
    section(t.links, &v.links, t, &mut out, link_lines);
    plain(t.addrs, &v.addrs, t, &mut out);
    plain(t.routes, &v.routes, t, &mut out);
    plain(t.neigh, &v.neigh, t, &mut out);
    plain(t.fdb, &v.fdb, t, &mut out);
    rules(v, t, &mut out);
    if let Some(ipt) = &v.iptables {
        plain(t.iptables, ipt, t, &mut out);
    }
    plain(t.conntrack, &v.conntrack, t, &mut out);
    out
}

fn packet(v: &NetView, t: &NetText, out: &mut Vec<Line<'static>>) {
    out.push(Line::styled(t.packet, head()));
    if v.packet.is_empty() {
        out.push(Line::styled(t.packet_hint, dim()));
    }
    let label_w = [t.came_in, t.matched, t.went_out]
        .iter()
        .map(|l| width(l))
        .max()
        .unwrap_or(4);
    for (i, h) in v.packet.iter().enumerate() {
        let arrow = if i == 0 { "  " } else { "→ " };
        let (label, color, what, p, b) = match h {
            Hop::In {
                link,
                packets,
                bytes,
            } => (t.came_in, Color::Green, link.clone(), packets, bytes),
            Hop::Rule {
                chain,
                text,
                packets,
                bytes,
            } => (
                t.matched,
                Color::Magenta,
                format!("{chain}: {text}"),
                packets,
                bytes,
            ),
            Hop::Out {
                link,
                packets,
                bytes,
            } => (t.went_out, Color::Cyan, link.clone(), packets, bytes),
        };
        out.push(Line::from(vec![
            Span::raw(arrow),
            Span::styled(pad(label, label_w), Style::default().fg(color)),
            Span::raw(format!(" {} ", pad(&what, 24))),
            Span::styled(moved(*p, *b), Style::default().fg(Color::Yellow)),
        ]));
    }
}

/// A section's head, then its rows drawn by `rows`, or why it has none.
fn section<T>(
    title: &'static str,
    s: &Section<T>,
    t: &NetText,
    out: &mut Vec<Line<'static>>,
    rows: fn(&T, &mut Vec<Line<'static>>),
) {
    out.push(Line::styled(title, head()));
    if let Some(why) = &s.why {
        out.push(Line::styled(
            format!("  {}", crate::sanitize::line(why)),
            Style::default().fg(Color::Yellow),
        ));
        return;
    }
    if s.rows.is_empty() {
        out.push(Line::styled(t.none, dim()));
    }
    for r in &s.rows {
        rows(r, out);
    }
    if s.cut > 0 {
        out.push(Line::styled(fill(t.more, &[("n", &s.cut)]), dim()));
    }
}

fn plain(title: &'static str, s: &Section<String>, t: &NetText, out: &mut Vec<Line<'static>>) {
    section(title, s, t, out, |r, out| {
        out.push(Line::raw(format!("  {r}")))
    });
}

/// `eth0  veth  UP  mtu 1500  rx 12p 848 B  tx 7p 498 B`, and under it the
/// peer, master and VXLAN details when there are some.
fn link_lines(l: &LinkRow, out: &mut Vec<Line<'static>>) {
    let state = match l.state.as_str() {
        "UP" | "UNKNOWN" => Color::Green,
        _ => Color::Red,
    };
    out.push(Line::from(vec![
        Span::raw(format!("  {} {} ", pad(&l.name, 10), pad(&l.kind, 6))),
        Span::styled(pad(&l.state, 5), Style::default().fg(state)),
        Span::raw(format!(
            " mtu {:<5} rx {} tx {}",
            l.mtu,
            moved(l.rx_packets, l.rx_bytes),
            moved(l.tx_packets, l.tx_bytes)
        )),
    ]));
    let mut more = Vec::new();
    if let Some(v) = &l.vxlan {
        more.push(v.clone());
    }
    if let Some(p) = &l.peer {
        more.push(format!(
            "{} {p}",
            if l.vxlan.is_some() { "dev" } else { "peer" }
        ));
    }
    if let Some(m) = &l.master {
        more.push(format!("master {m}"));
    }
    if !more.is_empty() {
        out.push(Line::styled(format!("    {}", more.join("  ")), dim()));
    }
}

fn rules(v: &NetView, t: &NetText, out: &mut Vec<Line<'static>>) {
    out.push(Line::styled(t.rules, head()));
    if let Some(why) = &v.rules.why {
        out.push(Line::styled(
            format!("  {}", crate::sanitize::line(why)),
            Style::default().fg(Color::Yellow),
        ));
        return;
    }
    if v.rules.rows.is_empty() {
        out.push(Line::styled(t.none, dim()));
    }
    let mut chain = "";
    for r in &v.rules.rows {
        if r.chain != chain {
            chain = &r.chain;
            let hook = r
                .hook
                .as_deref()
                .map(|h| format!(" (hook {h})"))
                .unwrap_or_default();
            out.push(Line::styled(format!("  {chain}{hook}"), dim()));
        }
        let mut spans = vec![Span::raw(format!("    {}", r.text))];
        if let Some((p, b)) = r.counter {
            let color = if p > 0 {
                Color::Yellow
            } else {
                Color::DarkGray
            };
            spans.push(Span::styled(
                format!("  [{p} {b}]"),
                Style::default().fg(color),
            ));
        }
        out.push(Line::from(spans));
    }
    if v.rules.cut > 0 {
        out.push(Line::styled(fill(t.more, &[("n", &v.rules.cut)]), dim()));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Hop, NetView};
    use crate::course::model::Lang;
    use crate::panes::inspect::model::{Inspection, Shown};
    use crate::panes::inspect::render::render_scrolled;
    use crate::panes::kind::PaneKind;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn fixture() -> NetView {
        let f = |n: &str| {
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/net/{n}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let (ip, fdb, nft, ipt, ct) = (
            f("ip-batch.json"),
            f("fdb.json"),
            f("nft.json"),
            f("iptables-save.txt"),
            f("conntrack.txt"),
        );
        let mut v = parse::view(Ok(&ip), Ok(&fdb), Ok(&nft), Some(Ok(&ipt)), Ok(&ct));
        v.packet = vec![
            Hop::Rule {
                chain: "inet t c".into(),
                text: "icmp type echo-request".into(),
                packets: 1,
                bytes: 84,
            },
            Hop::Out {
                link: "vb".into(),
                packets: 1,
                bytes: 98,
            },
            Hop::In {
                link: "vb".into(),
                packets: 1,
                bytes: 98,
            },
        ];
        v
    }

    /// The pane at 80×24 in `lang`, scrolled `scroll` rows.
    fn screen(v: &NetView, lang: Lang, scroll: usize) -> String {
        let data = Inspection {
            network: Shown::Data(v.clone()),
            ..Inspection::default()
        };
        let t = crate::panes::text::text(lang);
        let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
        term.draw(|f| {
            let area = f.area();
            render_scrolled(
                PaneKind::Network,
                &data,
                "network",
                area,
                f.buffer_mut(),
                true,
                t,
                scroll,
            );
        })
        .unwrap();
        rows(term.backend().buffer()).join("\n")
    }

    /// The rows as a reader sees them: the cell after a wide character
    /// (its second half) skipped.
    fn rows(buf: &ratatui::buffer::Buffer) -> Vec<String> {
        let a = buf.area;
        (a.y..a.y + a.height)
            .map(|y| {
                let mut row = String::new();
                let mut x = a.x;
                while x < a.x + a.width {
                    let sym = buf[(x, y)].symbol();
                    row.push_str(sym);
                    x += (unicode_width::UnicodeWidthStr::width(sym) as u16).max(1);
                }
                row
            })
            .collect()
    }

    #[test]
    fn at_80x24_the_packet_path_and_the_links_come_first_in_english() {
        let s = screen(&fixture(), Lang::En, 0);
        let at = |w: &str| s.find(w).unwrap_or_else(|| panic!("no {w:?} in\n{s}"));
        let path = &s[at("packet path")..];
        let at_path = |w: &str| path.find(w).unwrap_or_else(|| panic!("no {w:?} in\n{s}"));
        assert!(
            at_path("rule") < at_path("→ out") && at_path("→ out") < at_path("→ in"),
            "{s}"
        );
        assert!(
            s.contains("inet t c: icmp type echo-request") && s.contains("1p 84 B"),
            "{s}"
        );
        assert!(at("packet path") < at("│links "), "{s}");
        assert!(s.contains("vni 42 remote 10.9.9.2 dstport 4789"), "{s}");
        assert!(s.contains("master br0"), "{s}");
        // Every row fits: the right border is on each of them.
        for row in s.lines() {
            assert!(
                row.ends_with('│') || row.ends_with('┐') || row.ends_with('┘'),
                "{row:?}"
            );
        }
    }

    #[test]
    fn scrolling_reaches_rules_neighbours_fdb_and_conntrack() {
        let v = fixture();
        let mut seen = String::new();
        for scroll in (0..200).step_by(20) {
            seen.push_str(&screen(&v, Lang::En, scroll));
        }
        for w in [
            "neighbours (ARP/NDP)",
            "10.9.8.7 dev br0 lladdr 02:00:00:00:00:07 PERMANENT",
            "bridge/VXLAN FDB",
            "dev vx0 dst 10.9.9.3",
            "nftables rules",
            "inet t c (hook output)",
            "[2 168]",
            "iptables-nft view",
            "-A OUTPUT -p icmp",
            "conntrack",
            "src=127.0.0.1",
        ] {
            assert!(seen.contains(w), "{w:?} never shown");
        }
        // The summary row stays on top while scrolled.
        let s = screen(&v, Lang::En, 40);
        assert!(s.lines().nth(1).unwrap().contains("5 links"), "{s}");
    }

    #[test]
    fn at_80x24_in_chinese_the_heads_are_translated_and_rows_fit() {
        let v = fixture();
        let s = screen(&v, Lang::Zh, 0);
        for w in ["数据包路径", "规则", "出", "进", "网卡"] {
            assert!(s.contains(w), "{w:?} in\n{s}");
        }
        for row in s.lines() {
            assert_eq!(unicode_width::UnicodeWidthStr::width(row), 80, "{row:?}");
        }
        let mut seen = String::new();
        for scroll in (0..200).step_by(20) {
            seen.push_str(&screen(&v, Lang::Zh, scroll));
        }
        assert!(
            seen.contains("邻居（ARP/NDP）") && seen.contains("连接跟踪"),
            "{seen}"
        );
    }

    #[test]
    fn before_any_traffic_the_pane_says_what_to_do_and_a_missing_tool_its_package() {
        let mut v = fixture();
        v.packet.clear();
        v.rules =
            super::super::Section::unavailable("`nft` is not installed (apt install nftables)");
        let s = screen(&v, Lang::En, 0);
        assert!(s.contains("ping or curl"), "{s}");
        let mut seen = String::new();
        for scroll in (0..200).step_by(20) {
            seen.push_str(&screen(&v, Lang::En, scroll));
        }
        assert!(seen.contains("apt install nftables"), "{seen}");
    }
}
