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
    let mut out = vec![Line::styled(
        format!(
            "{} {} · {} {} · {} {} · {} {}",
            t.links,
            v.links.rows.len(),
            t.routes,
            v.routes.rows.len(),
            t.neigh,
            v.neigh.rows.len(),
            t.rules,
            v.rules.rows.len()
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
