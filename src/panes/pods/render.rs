//! Drawing the Pod pane: the list (kubectl's columns, the selected row
//! highlighted) or the selected Pod's inspector, as lines with a head that
//! stays while the rest scrolls, as the other inspectors do. Every string
//! from a manifest or the node goes through `crate::sanitize`.

use super::model::*;
use super::text::PodText;
use crate::panes::inspect::model::human_bytes;
use crate::panes::text::fill;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

/// What the pane is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    #[default]
    List,
    Detail,
}

fn clean(s: &str) -> String {
    crate::sanitize::line(s).into_owned()
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn status_style(s: &str) -> Style {
    if ["BackOff", "Error", "OOMKilled", "Failed", "ErrImage"]
        .iter()
        .any(|b| s.contains(b))
    {
        Style::default().fg(Color::Red)
    } else if s == "Running" || s == "Completed" {
        Style::default().fg(Color::Green)
    } else {
        Style::default().fg(Color::Yellow)
    }
}

fn why(t: &PodText, n: &NoProcs) -> String {
    match n {
        NoProcs::OtherNode => t.other_node.into(),
        NoProcs::NotRunning => t.not_running.into(),
        NoProcs::Gone => t.gone.into(),
        NoProcs::Error(e) => clean(e),
    }
}

/// Wrapped rows of a message, styled.
fn said(text: &str, w: usize, style: Style) -> Vec<Line<'static>> {
    crate::wrap::wrap_str(text, w.max(1))
        .into_iter()
        .map(|r| Line::styled(r, style))
        .collect()
}

/// The list's lines: (head rows, lines, the selected row's line index).
pub fn list_lines(
    data: &PodsData,
    selected: Option<&PodKey>,
    w: usize,
    t: &PodText,
) -> (usize, Vec<Line<'static>>, Option<usize>) {
    let (rows, truncated) = match &data.listing {
        Listing::Waiting => return (0, said(t.connecting, w, dim()), None),
        Listing::Unavailable(e) => {
            let msg = fill(t.node_down, &[("e", &clean(e))]);
            return (0, said(&msg, w, Style::default().fg(Color::Yellow)), None);
        }
        Listing::Pods { rows, truncated } => (rows, *truncated),
    };
    if rows.is_empty() {
        return (0, said(t.no_pods, w, dim()), None);
    }
    // kubectl's own tabwriter, over sanitized cells; NAMESPACE only when
    // there is more than one.
    let many_ns = rows
        .iter()
        .any(|r| r.key.namespace != rows[0].key.namespace);
    let mut cells = vec![Vec::new()];
    if many_ns {
        cells[0].push("NAMESPACE".to_string());
    }
    cells[0].extend(["NAME", "READY", "STATUS", "RESTARTS", "AGE"].map(String::from));
    for r in rows {
        let mut c = Vec::new();
        if many_ns {
            c.push(clean(&r.key.namespace));
        }
        c.extend([
            clean(&r.key.name),
            clean(&r.ready),
            clean(&r.status),
            clean(&r.restarts),
            clean(&r.age),
        ]);
        cells.push(c);
    }
    let table = kubelab_node::status::printer::columns(&cells);
    let mut lines = Vec::new();
    let mut at = None;
    for (i, text) in table.lines().enumerate() {
        if i == 0 {
            lines.push(Line::styled(format!("  {text}"), bold()));
            continue;
        }
        let r = &rows[i - 1];
        let chosen = selected == Some(&r.key);
        let mark = if chosen { "▸ " } else { "  " };
        let style = if chosen {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            status_style(&r.status)
        };
        if chosen {
            at = Some(lines.len());
        }
        lines.push(Line::styled(format!("{mark}{text}"), style));
    }
    if truncated {
        lines.push(Line::styled(
            fill(t.truncated, &[("n", &rows.len())]),
            dim(),
        ));
    }
    lines.push(Line::styled(t.list_keys.to_string(), dim()));
    (1, lines, at)
}

/// The inspector's lines for the selected Pod: (head rows, lines).
pub fn detail_lines(
    d: &Result<PodDetail, NoProcs>,
    w: usize,
    t: &PodText,
) -> (usize, Vec<Line<'static>>) {
    let d = match d {
        Ok(d) => d,
        Err(n) => {
            let mut l = said(&why(t, n), w, Style::default().fg(Color::Yellow));
            l.push(Line::styled(t.detail_keys.to_string(), dim()));
            return (0, l);
        }
    };
    let mut out = vec![Line::from(vec![
        Span::styled(format!("pod/{} ", clean(&d.row.key.name)), bold()),
        Span::styled(clean(&d.row.status), status_style(&d.row.status)),
        Span::raw(format!(
            " {} · {} {} · {}",
            clean(&d.row.ready),
            t.qos,
            clean(&d.qos),
            clean(&d.row.key.namespace)
        )),
    ])];
    let head = 1;
    // Containers.
    out.push(Line::styled(t.containers.to_string(), bold()));
    let mut cells = vec![t.container_head.map(String::from).to_vec()];
    for c in &d.containers {
        let name = if c.init {
            format!("{} ({})", clean(&c.name), t.init)
        } else {
            clean(&c.name)
        };
        cells.push(vec![
            name,
            clean(&c.state),
            c.restarts.to_string(),
            c.pid.map_or("-".into(), |p| p.to_string()),
        ]);
    }
    for l in kubelab_node::status::printer::columns(&cells).lines() {
        out.push(Line::raw(format!("  {l}")));
    }
    // Namespaces: the infra's inode, then each container's (or "shared").
    out.push(Line::styled(t.namespaces.to_string(), bold()));
    match &d.namespaces {
        Err(n) => out.extend(said(&why(t, n), w, Style::default().fg(Color::Yellow))),
        Ok(rows) => {
            let cols: Vec<String> = d.ns_columns.iter().map(|c| clean(c)).collect();
            let cw = cols.iter().map(|c| c.width()).max().unwrap_or(0).max(10) + 1;
            // Display width, not chars: the Chinese head is twice as wide.
            let ty = format!(
                "{}{}",
                t.ns_type,
                " ".repeat(6usize.saturating_sub(t.ns_type.width()))
            );
            let mut head_line = format!("  {ty}{:>11}", "infra");
            for c in &cols {
                head_line.push_str(&format!("{:>cw$}", c, cw = cw));
            }
            out.push(Line::styled(head_line, dim()));
            for r in rows {
                let ino = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
                let mut spans = vec![Span::raw(format!("  {:<6}{:>11}", r.kind, ino(r.infra)))];
                for i in 0..cols.len() {
                    let (txt, style) = match r.shared(i) {
                        Some(true) => (
                            format!("= {}", t.shared),
                            Style::default().fg(Color::Yellow),
                        ),
                        Some(false) => (ino(r.containers[i]), Style::default().fg(Color::Green)),
                        None => ("-".to_string(), dim()),
                    };
                    let pad = cw.saturating_sub(txt.width());
                    spans.push(Span::styled(format!("{}{txt}", " ".repeat(pad)), style));
                }
                out.push(Line::from(spans));
            }
        }
    }
    // The cgroup subtree and its use.
    match &d.cgroup {
        Err(n) => {
            out.push(Line::styled(t.cgroup.to_string(), bold()));
            out.extend(said(&why(t, n), w, Style::default().fg(Color::Yellow)));
        }
        Ok(c) => {
            out.push(Line::styled(format!("{} v{}", t.cgroup, c.version), bold()));
            // The path is long (`…/kubepods/burstable/pod<UID>`): wrapped,
            // never cut.
            for row in crate::wrap::wrap_str(&clean(&c.path), w.saturating_sub(2).max(1)) {
                out.push(Line::raw(format!("  {row}")));
            }
            let none = t.no_limit.to_string();
            let cpu = c
                .cpu_milli
                .map_or("-".into(), |m| format!("{:.2}", m as f64 / 1000.0));
            let cpu_lim = c.cpu_limit.map_or(none.clone(), |l| format!("{l:.2}"));
            let mem = c.memory.map_or("-".into(), human_bytes);
            let mem_lim = c.memory_limit.map_or(none.clone(), human_bytes);
            let pids = c.pids.map_or("-".into(), |p| p.to_string());
            let pids_lim = c.pids_limit.map_or(none, |p| p.to_string());
            let parts = [
                fill(t.cpu, &[("used", &cpu), ("limit", &cpu_lim)]),
                fill(t.memory, &[("used", &mem), ("limit", &mem_lim)]),
                fill(t.pids, &[("used", &pids), ("limit", &pids_lim)]),
            ];
            let one = format!("  {}", parts.join(" · "));
            if one.width() <= w {
                out.push(Line::raw(one));
            } else {
                out.extend(parts.iter().map(|p| Line::raw(format!("  {p}"))));
            }
        }
    }
    // Events, newest last.
    out.push(Line::styled(t.events.to_string(), bold()));
    if d.events.is_empty() {
        out.push(Line::styled(format!("  {}", t.no_events), dim()));
    }
    for e in &d.events {
        let count = if e.count > 1 {
            format!(" ×{}", e.count)
        } else {
            String::new()
        };
        let style = if e.warning {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default()
        };
        // A probe's message is what the learner needs: wrapped, not cut.
        let body = format!(
            "{:<6} {} {}{count}",
            clean(&e.age),
            clean(&e.reason),
            clean(&e.message)
        );
        for (i, row) in crate::wrap::wrap_str(&body, w.saturating_sub(4).max(1))
            .into_iter()
            .enumerate()
        {
            let indent = if i == 0 { "  " } else { "    " };
            out.push(Line::styled(format!("{indent}{row}"), style));
        }
    }
    out.push(Line::styled(t.detail_keys.to_string(), dim()));
    (head, out)
}

/// Draws `lines` in `area` with a border and `title`, the first `head`
/// lines kept while the rest is `scroll` rows down (clamped: never past
/// the last line). Returns the scroll used.
pub fn draw_lines(
    head: usize,
    mut lines: Vec<Line<'static>>,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
    scroll: usize,
) -> usize {
    let border = if focused {
        Color::Cyan
    } else {
        Color::DarkGray
    };
    let plain = Block::default().borders(Borders::ALL);
    let inner = plain.inner(area);
    let h = usize::from(inner.height);
    let head = if head * 2 > h { 0 } else { head };
    let room = h.saturating_sub(head);
    let scroll = scroll.min(lines.len().saturating_sub(head + room));
    let title = if scroll > 0 {
        format!(" {title} ↓{scroll} ")
    } else {
        format!(" {title} ")
    };
    plain
        .border_style(Style::default().fg(border))
        .title(title)
        .render(area, buf);
    let body = lines.split_off(head.min(lines.len()));
    lines.extend(body.into_iter().skip(scroll));
    Paragraph::new(lines).render(inner, buf);
    scroll
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;
    use crate::panes::pods::text::text;

    fn key(name: &str) -> PodKey {
        PodKey {
            namespace: "default".into(),
            name: name.into(),
        }
    }

    fn row(name: &str, status: &str) -> ListRow {
        ListRow {
            key: key(name),
            ready: "2/2".into(),
            status: status.into(),
            restarts: "0".into(),
            age: "12s".into(),
        }
    }

    fn detail() -> PodDetail {
        PodDetail {
            row: row("web", "Running"),
            uid: "u1".into(),
            qos: "Burstable".into(),
            containers: vec![
                ContainerRow {
                    name: "main".into(),
                    init: false,
                    state: "Running".into(),
                    ready: true,
                    restarts: 0,
                    pid: Some(5354),
                },
                ContainerRow {
                    name: "side".into(),
                    init: false,
                    state: "Waiting: CrashLoopBackOff".into(),
                    ready: false,
                    restarts: 3,
                    pid: Some(5359),
                },
            ],
            ns_columns: vec!["main".into(), "side".into()],
            namespaces: Ok(vec![
                NsRow {
                    kind: "mnt",
                    infra: Some(4026532400),
                    containers: vec![Some(4026532471), Some(4026532475)],
                },
                NsRow {
                    kind: "net",
                    infra: Some(4026532405),
                    containers: vec![Some(4026532405), Some(4026532405)],
                },
            ]),
            cgroup: Ok(CgroupUse {
                path: "/kubelab/node-n1/kubepods/burstable/podu1".into(),
                cpu_milli: Some(120),
                cpu_limit: Some(0.5),
                memory: Some(3 << 20),
                memory_limit: None,
                pids: Some(3),
                pids_limit: None,
                version: 1,
            }),
            events: vec![EventLine {
                age: "5s".into(),
                warning: true,
                reason: "BackOff".into(),
                message: "Back-off restarting failed container side".into(),
                count: 4,
            }],
        }
    }

    /// The reader at 80×24 gives the inspector in front 78×~20 cells; the
    /// narrow split 58×8.
    fn draw(lines: (usize, Vec<Line<'static>>), w: u16, h: u16, scroll: usize) -> (usize, String) {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        let used = draw_lines(lines.0, lines.1, "Pods", area, &mut buf, true, scroll);
        (used, crate::panes::buffer_rows(&buf).join("\n"))
    }

    #[test]
    fn the_list_uses_kubectls_columns_and_marks_the_selection() {
        let data = PodsData {
            listing: Listing::Pods {
                rows: vec![row("db", "Pending"), row("web", "Running")],
                truncated: false,
            },
            detail: None,
        };
        for lang in [Lang::En, Lang::Zh] {
            let (head, lines, at) = list_lines(&data, Some(&key("web")), 76, text(lang));
            assert_eq!((head, at), (1, Some(2)));
            let (_, s) = draw((head, lines), 80, 20, 0);
            assert!(s.contains("NAME   READY   STATUS    RESTARTS   AGE"), "{s}");
            assert!(
                s.contains("▸ web    2/2     Running   0          12s"),
                "{s}"
            );
            assert!(s.contains("  db     2/2     Pending"), "{s}");
        }
        // Several namespaces: kubectl's NAMESPACE column.
        let mut many = data.clone();
        if let Listing::Pods { rows, .. } = &mut many.listing {
            rows[0].key.namespace = "kube-system".into();
        }
        let (_, lines, _) = list_lines(&many, None, 76, text(Lang::En));
        assert!(lines[0].to_string().contains("NAMESPACE"), "{:?}", lines[0]);
    }

    #[test]
    fn the_inspector_shows_sharing_qos_cgroup_and_events_at_80x24_in_both_languages() {
        let d = Ok(detail());
        for (lang, words) in [
            (
                Lang::En,
                [
                    "Containers",
                    "Namespaces",
                    "memory 3 MiB / no limit",
                    "Events",
                ],
            ),
            (Lang::Zh, ["容器", "命名空间", "内存 3 MiB / 不限", "事件"]),
        ] {
            let t = text(lang);
            let (_, s) = draw(detail_lines(&d, 76, t), 80, 22, 0);
            let flat = s.replace(' ', "");
            for w in words {
                assert!(flat.contains(&w.replace(' ', "")), "{w:?} in\n{s}");
            }
            assert!(s.contains("pod/web Running 2/2 · QoS Burstable"), "{s}");
            assert!(s.contains("Waiting: CrashLoopBackOff"), "{s}");
            let net = s.lines().find(|l| l.contains(" net ")).unwrap();
            let shared = t.shared.chars().next().unwrap().to_string();
            assert_eq!(net.matches(&shared).count(), 2, "{net}");
            let mnt = s.lines().find(|l| l.contains(" mnt ")).unwrap();
            assert!(
                mnt.contains("4026532471") && mnt.contains("4026532475"),
                "{mnt}"
            );
            assert!(
                s.contains("/kubelab/node-n1/kubepods/burstable/podu1"),
                "{s}"
            );
            assert!(
                s.contains("BackOff Back-off restarting failed container side ×4"),
                "{s}"
            );
        }
        // 58 columns: the cgroup path wraps whole, the figures one a row.
        let lines = detail_lines(&d, 56, text(Lang::En)).1;
        let all: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert!(all.iter().all(|l| l.width() <= 56), "{all:#?}");
        assert!(
            all.concat()
                .contains("/kubelab/node-n1/kubepods/burstable/podu1"),
            "{all:#?}"
        );
        assert!(
            all.iter().any(|l| l.trim() == "cpu 0.12 / 0.50 cores"),
            "{all:#?}"
        );
        // 8 rows: the head stays, the rest scrolls to its last line.
        let (used, s) = draw(detail_lines(&d, 56, text(Lang::En)), 58, 10, 999);
        assert!(used > 0 && s.contains("pod/web"), "{s}");
        assert!(s.contains("j/k scroll"), "{s}");
    }

    #[test]
    fn manifest_strings_never_reach_the_terminal_raw() {
        let mut d = detail();
        d.row.key.name = "x\x1b]0;pwned\x07".into();
        d.containers[0].name = "c\x1b[2J".into();
        d.ns_columns[0] = "c\x1b[2J".into();
        d.events[0].message = "m\u{9b}31m\r\n".into();
        let (_, lines) = detail_lines(&Ok(d), 76, text(Lang::En));
        let all: String = lines
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!all.chars().any(|c| c.is_control()), "{all:?}");
        let data = PodsData {
            listing: Listing::Pods {
                rows: vec![row("a\x1b[H", "Run\x07")],
                truncated: false,
            },
            detail: None,
        };
        let (_, lines, _) = list_lines(&data, None, 76, text(Lang::En));
        let all: String = lines.iter().map(|l| l.to_string()).collect();
        assert!(!all.chars().any(|c| c.is_control()), "{all:?}");
    }

    #[test]
    fn a_missing_node_or_pod_is_said_in_the_pane() {
        let t = text(Lang::En);
        let down = PodsData {
            listing: Listing::Unavailable("cannot reach a node at /x/node.sock".into()),
            detail: None,
        };
        let (_, s) = draw((0, vec_of(&down, t)), 58, 8, 0);
        assert!(s.contains("No node to ask: cannot reach a node"), "{s}");
        let (_, s) = draw(detail_lines(&Err(NoProcs::OtherNode), 56, t), 58, 8, 0);
        assert!(
            s.replace('\n', " ").contains("Pod runs on another node"),
            "{s}"
        );
        let zh = text(Lang::Zh);
        let (_, s) = draw(detail_lines(&Err(NoProcs::Gone), 56, zh), 58, 8, 0);
        assert!(s.replace(' ', "").contains("已不存在"), "{s}");
    }

    fn vec_of(d: &PodsData, t: &PodText) -> Vec<Line<'static>> {
        list_lines(d, None, 56, t).1
    }
}
