//! Drawing the inspector panes from an [`Inspection`].

use super::model::*;
use crate::panes::kind::PaneKind;
use crate::panes::text::{fill, PaneText};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Sparkline, Widget};
use std::collections::HashMap;

/// Draws the inspector `kind` with its border and title, labels from `t`.
pub fn render(
    kind: PaneKind,
    data: &Inspection,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
    t: &'static PaneText,
) {
    let border = if focused {
        Color::Cyan
    } else {
        Color::DarkGray
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(border))
        .title(format!(" {title} "));
    let inner = block.inner(area);
    block.render(area, buf);
    content(kind, data, inner, buf, t);
}

/// Most rows an inspector is drawn on when scrolled (a fork bomb's process
/// list is cut there).
pub const MAX_SCROLL_ROWS: u16 = 2000;

/// Draws like [`render`], the view scrolled `scroll` rows down with its first
/// row (the column heads) kept in place. The view is drawn on a taller
/// off-screen buffer, so every inspector scrolls the same way. Returns the
/// scroll actually used: never past the last row with content.
#[allow(clippy::too_many_arguments)]
pub fn render_scrolled(
    kind: PaneKind,
    data: &Inspection,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
    t: &'static PaneText,
    scroll: usize,
) -> usize {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    if scroll == 0 || inner.height < 2 {
        render(kind, data, title, area, buf, focused, t);
        return 0;
    }
    let tall_h = (usize::from(inner.height) + scroll).min(usize::from(MAX_SCROLL_ROWS)) as u16;
    let tall = Rect::new(0, 0, inner.width, tall_h);
    let mut off = Buffer::empty(tall);
    content(kind, data, tall, &mut off, t);
    let used = (0..tall_h)
        .rev()
        .find(|&y| (0..inner.width).any(|x| off[(x, y)].symbol() != " "))
        .map_or(0, |y| y + 1);
    let scroll = scroll.min(usize::from(used.saturating_sub(inner.height)));
    let mut title = title.to_string();
    if scroll > 0 {
        title.push_str(&format!(" ↓{scroll}"));
    }
    render(kind, data, &title, area, buf, focused, t);
    for row in 0..inner.height {
        // Row 0 stays: the column heads.
        let from = if row == 0 { 0 } else { row + scroll as u16 };
        for x in 0..inner.width {
            let cell = off[(x, from)].clone();
            buf[(inner.x + x, inner.y + row)] = cell;
        }
    }
    scroll
}

fn content(kind: PaneKind, data: &Inspection, inner: Rect, buf: &mut Buffer, t: &'static PaneText) {
    match kind {
        PaneKind::Namespaces => with(&data.namespaces, inner, buf, t, |v, a, b, t| {
            namespaces(v, a, b, t)
        }),
        PaneKind::Processes => with(&data.processes, inner, buf, t, |v, a, b, t| {
            processes(v, a, b, t)
        }),
        PaneKind::Cgroup => with(&data.cgroup, inner, buf, t, cgroup),
        PaneKind::Filesystem => with(&data.filesystem, inner, buf, t, filesystem),
        PaneKind::Network => with(&data.network, inner, buf, t, network),
        // Drawn from the cluster's watches (src/cluster/pane.rs) and the
        // node (src/panes/pods/).
        PaneKind::Shell | PaneKind::Objects | PaneKind::Pods => {}
    }
}

type Draw<T> = fn(&T, Rect, &mut Buffer, &'static PaneText);

fn with<T>(shown: &Shown<T>, area: Rect, buf: &mut Buffer, t: &'static PaneText, draw: Draw<T>) {
    match shown {
        Shown::Waiting => status_text(t.starting, Color::DarkGray, area, buf),
        Shown::Unavailable(why) => status_text(&t.note(why), Color::Yellow, area, buf),
        Shown::Data(d) => draw(d, area, buf, t),
    }
}

/// A status text in place of the view, wrapped to the pane: the reason a
/// view is unavailable is the useful part and often longer than one row.
fn status_text(text: &str, color: Color, area: Rect, buf: &mut Buffer) {
    let style = Style::default().fg(color);
    let rows = crate::wrap::wrap_str(text, usize::from(area.width.max(1)))
        .into_iter()
        .map(|row| Line::styled(row, style))
        .collect();
    lines(area, buf, rows);
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

fn head() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn lines(area: Rect, buf: &mut Buffer, lines: Vec<Line<'static>>) {
    Paragraph::new(lines).render(area, buf);
}

/// `s` padded with spaces to `w` columns (CJK-aware), on the left or right.
fn pad(s: &str, w: usize, left: bool) -> String {
    let fill = " ".repeat(w.saturating_sub(unicode_width::UnicodeWidthStr::width(s)));
    if left {
        format!("{s}{fill}")
    } else {
        format!("{fill}{s}")
    }
}

fn namespaces(rows: &[NsRow], area: Rect, buf: &mut Buffer, t: &'static PaneText) {
    let ino = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let [ty, host, sb] = t.ns_head;
    let mut out = vec![Line::styled(
        format!(
            "{}{}{} ",
            pad(ty, 6, true),
            pad(host, 11, false),
            pad(sb, 11, false)
        ),
        head(),
    )];
    for r in rows {
        let (mark, color) = match r.isolated() {
            Some(true) => (t.isolated, Color::Green),
            Some(false) => (t.shared, Color::Yellow),
            None => ("?", Color::DarkGray),
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "{:<6}{:>11}{:>11} ",
                r.kind,
                ino(r.host),
                ino(r.sandbox)
            )),
            Span::styled(mark, Style::default().fg(color)),
        ]));
    }
    lines(area, buf, out);
}

fn processes(rows: &[ProcRow], area: Rect, buf: &mut Buffer, t: &'static PaneText) {
    let [host, pid, cmd] = t.proc_head;
    let mut out = vec![Line::styled(
        // The five columns after PID hold a nested PID (`›N`) in the rows.
        format!("{} {}     {cmd}", pad(host, 8, false), pad(pid, 5, false)),
        head(),
    )];
    if rows.iter().any(|r| r.inner_pid.is_some()) {
        out.push(Line::styled(format!("         {}", t.nested_pid), dim()));
    }
    // Depth-first from the roots (processes whose parent is not in the
    // sandbox), children by host PID. One pass builds the child lists: a
    // fork bomb can put thousands of rows here, drawn several times a second.
    let pids: std::collections::HashSet<u32> = rows.iter().map(|r| r.host_pid).collect();
    let mut children: HashMap<u32, Vec<&ProcRow>> = HashMap::new();
    for r in rows.iter().filter(|r| r.ppid != r.host_pid) {
        children.entry(r.ppid).or_default().push(r);
    }
    let mut stack: Vec<(usize, &ProcRow)> = rows
        .iter()
        .filter(|r| !pids.contains(&r.ppid))
        .rev()
        .map(|r| (0, r))
        .collect();
    while let Some((depth, r)) = stack.pop() {
        if out.len() >= usize::from(area.height) {
            break; // the rest would be cut off anyway
        }
        let cmd = if r.cmdline.is_empty() {
            &r.name
        } else {
            &r.cmdline
        };
        let indent = if depth == 0 {
            String::new()
        } else {
            format!("{}└ ", "  ".repeat(depth - 1))
        };
        out.push(Line::from(vec![
            Span::raw(format!("{:>8} ", r.host_pid)),
            Span::styled(
                format!("{:>5}", r.ns_pid.map_or("-".into(), |p| p.to_string())),
                Style::default().fg(Color::Green),
            ),
            Span::styled(
                r.inner_pid.map_or("     ".into(), |p| format!("›{p:<3} ")),
                Style::default().fg(Color::Magenta),
            ),
            // Written by whatever runs in the sandbox: shown, never acted on.
            Span::raw(format!("{indent}{}", crate::sanitize::line(cmd))),
        ]));
        if let Some(kids) = children.get_mut(&r.host_pid) {
            kids.sort_by_key(|c| std::cmp::Reverse(c.host_pid));
            stack.extend(kids.iter().map(|&c| (depth + 1, c)));
        }
    }
    lines(area, buf, out);
}

fn cgroup(v: &CgroupView, area: Rect, buf: &mut Buffer, t: &'static PaneText) {
    let s = &v.stats;
    if let Some(why) = &s.limits_off {
        return cgroup_without_limits(v, why, area, buf, t);
    }
    let [mem_gauge, mem_spark, cpu_line, cpu_spark, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(area);
    let limit = s.memory_max.map_or(t.no_limit.to_string(), human_bytes);
    let used = human_bytes(s.memory_current);
    let label = fill(t.memory, &[("used", &used), ("limit", &limit)]);
    match s.memory_max {
        Some(max) if max > 0 => {
            let ratio = (s.memory_current as f64 / max as f64).clamp(0.0, 1.0);
            let color = if ratio > 0.9 {
                Color::Red
            } else if ratio > 0.7 {
                Color::Yellow
            } else {
                Color::Green
            };
            Gauge::default()
                .ratio(ratio)
                .label(label)
                .gauge_style(Style::default().fg(color).bg(Color::Black))
                .render(mem_gauge, buf);
        }
        _ => Line::raw(label).render(mem_gauge, buf),
    }
    let mem: Vec<u64> = v.memory.iter().copied().collect();
    let mut spark = Sparkline::default()
        .data(&mem)
        .style(Style::default().fg(Color::Green));
    if let Some(max) = s.memory_max {
        spark = spark.max(max);
    }
    spark.render(mem_spark, buf);

    let cpu_now = v.cpu_milli.back().copied().unwrap_or(0);
    let quota = s
        .cpu_quota
        .map_or(t.no_quota.to_string(), |q| format!("{q:.2}"));
    let used = format!("{:.2}", cpu_now as f64 / 1000.0);
    Line::from(vec![
        Span::raw(fill(t.cpu, &[("used", &used), ("quota", &quota)])),
        Span::styled(
            fill(t.throttled, &[("pct", &(v.throttled_milli / 10))]),
            Style::default().fg(if v.throttled_milli > 0 {
                Color::Yellow
            } else {
                Color::DarkGray
            }),
        ),
    ])
    .render(cpu_line, buf);
    let cpu: Vec<u64> = v.cpu_milli.iter().copied().collect();
    let mut spark = Sparkline::default()
        .data(&cpu)
        .style(Style::default().fg(Color::Cyan));
    if let Some(q) = s.cpu_quota {
        spark = spark.max((q * 1000.0) as u64);
    }
    spark.render(cpu_spark, buf);

    let pids_max = s.pids_max.map_or(t.no_limit.to_string(), |m| m.to_string());
    let peak = human_bytes(s.memory_peak);
    let mut out = vec![
        Line::raw(fill(t.pids, &[("n", &s.pids_current), ("max", &pids_max)])),
        Line::styled(
            fill(t.oom_kills, &[("n", &s.oom_kills), ("peak", &peak)]),
            if s.oom_kills > 0 {
                Style::default().fg(Color::Red)
            } else {
                dim()
            },
        ),
    ];
    if let Some(why) = &v.ended {
        out.push(Line::styled(
            t.note(why),
            Style::default().fg(Color::Yellow),
        ));
    }
    for e in v.events.iter().rev() {
        out.push(Line::styled(
            e.line(t),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    lines(rest, buf, out);
}

/// No cgroup: why and how to turn limits on (the useful part: first, whole),
/// then what the sandbox's processes use, then the CPU history if room.
fn cgroup_without_limits(
    v: &CgroupView,
    why: &str,
    area: Rect,
    buf: &mut Buffer,
    t: &'static PaneText,
) {
    let s = &v.stats;
    let width = usize::from(area.width.max(1));
    let warn = Style::default().fg(Color::Yellow);
    let mut out: Vec<Line<'static>> = crate::wrap::wrap_str(t.limits_off(why), width)
        .into_iter()
        .map(|row| Line::styled(row, warn))
        .collect();
    out.push(Line::styled(t.usage_without_limits, dim()));
    let cpu_now = v.cpu_milli.back().copied().unwrap_or(0);
    let used = format!("{:.2}", cpu_now as f64 / 1000.0);
    out.push(Line::raw(fill(
        t.memory,
        &[
            ("used", &human_bytes(s.memory_current)),
            ("limit", &t.no_limit),
        ],
    )));
    out.push(Line::raw(fill(
        t.cpu,
        &[("used", &used), ("quota", &t.no_quota)],
    )));
    out.push(Line::raw(fill(
        t.pids,
        &[("n", &s.pids_current), ("max", &t.no_limit)],
    )));
    let text_rows = (out.len() as u16).min(area.height);
    let [text, spark] =
        Layout::vertical([Constraint::Length(text_rows), Constraint::Min(0)]).areas(area);
    lines(text, buf, out);
    let cpu: Vec<u64> = v.cpu_milli.iter().copied().collect();
    Sparkline::default()
        .data(&cpu)
        .style(Style::default().fg(Color::Cyan))
        .render(spark, buf);
}

fn filesystem(v: &FsView, area: Rect, buf: &mut Buffer, t: &'static PaneText) {
    let mut out = vec![Line::styled(t.mounts_inside, head())];
    // Columns as wide as their longest cell (display width, capped), so a
    // long mount point does not push its row out of line.
    let width = |s: &String| unicode_width::UnicodeWidthStr::width(s.as_str());
    let tw = v
        .mounts
        .iter()
        .map(|m| width(&m.0))
        .max()
        .unwrap_or(0)
        .clamp(6, 24);
    let fw = v
        .mounts
        .iter()
        .map(|m| width(&m.1))
        .max()
        .unwrap_or(0)
        .clamp(4, 10);
    for (target, fstype, source) in &v.mounts {
        out.push(Line::from(vec![
            Span::raw(format!("{} ", pad(target, tw, true))),
            Span::styled(
                format!("{} ", pad(fstype, fw, true)),
                Style::default().fg(Color::Cyan),
            ),
            Span::styled(source.clone(), dim()),
        ]));
    }
    out.push(Line::styled(t.overlay_upper, head()));
    match &v.upper {
        Err(why) => out.push(Line::styled(
            t.note(why),
            Style::default().fg(Color::Yellow),
        )),
        Ok(entries) if entries.is_empty() => out.push(Line::styled(t.upper_empty, dim())),
        Ok(entries) => {
            let pw = entries
                .iter()
                .map(|e| unicode_width::UnicodeWidthStr::width(e.path.as_str()))
                .max()
                .unwrap_or(0)
                .min(30);
            for e in entries {
                let (mark, color, note) = match e.kind {
                    UpperKind::File => ("+", Color::Green, human_bytes(e.size)),
                    UpperKind::Dir => ("d", Color::Blue, String::new()),
                    UpperKind::Symlink => ("l", Color::Cyan, String::new()),
                    UpperKind::Whiteout => ("✗", Color::Red, t.whiteout.into()),
                    UpperKind::Opaque => ("▣", Color::Magenta, t.opaque.into()),
                };
                out.push(Line::from(vec![
                    Span::styled(format!("{mark} "), Style::default().fg(color)),
                    Span::raw(format!("{} ", pad(&e.path, pw, true))),
                    Span::styled(note, dim()),
                ]));
            }
        }
    }
    lines(area, buf, out);
}

fn network(v: &NetView, area: Rect, buf: &mut Buffer, t: &'static PaneText) {
    lines(area, buf, super::net::draw::lines(v, t.net));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;

    fn screen(buf: &Buffer) -> String {
        crate::panes::buffer_rows(buf).join("\n")
    }

    fn proc(host_pid: u32, ppid: u32, name: &str) -> ProcRow {
        ProcRow {
            host_pid,
            ns_pid: Some(host_pid - 100),
            inner_pid: None,
            ppid,
            name: name.into(),
            cmdline: String::new(),
            rss: 0,
        }
    }

    #[test]
    fn processes_draw_as_a_tree_in_pid_order_cut_at_the_pane() {
        let rows = vec![
            proc(103, 101, "c"),
            proc(101, 50, "init"),
            proc(104, 102, "grandchild"),
            proc(102, 101, "b"),
        ];
        let data = Inspection {
            processes: Shown::Data(rows),
            ..Inspection::default()
        };
        let t = crate::panes::text::text(Lang::En);
        let draw = |h: u16| {
            let area = Rect::new(0, 0, 40, h);
            let mut buf = Buffer::empty(area);
            render(PaneKind::Processes, &data, "p", area, &mut buf, false, t);
            screen(&buf)
        };
        let text = draw(8);
        let order: Vec<&str> = ["init", "└ b", "  └ grandchild", "└ c"]
            .into_iter()
            .filter(|w| text.contains(w))
            .collect();
        assert_eq!(order.len(), 4, "{text}");
        let at = |w: &str| text.find(w).unwrap();
        assert!(
            at("init") < at("└ b") && at("└ b") < at("grandchild") && at("grandchild") < at("└ c"),
            "{text}"
        );
        // Three rows inside the border: the header and two processes.
        let short = draw(5);
        assert!(
            short.contains("└ b") && !short.contains("grandchild"),
            "{short}"
        );
    }

    /// A process inside the sandbox names itself: its escapes are shown,
    /// not dropped into a half-sequence like `[2J`.
    #[test]
    fn process_names_show_their_controls_escaped() {
        let data = Inspection {
            processes: Shown::Data(vec![proc(101, 50, "a\u{1b}[2J\u{9b}b\rc")]),
            ..Inspection::default()
        };
        let area = Rect::new(0, 0, 50, 5);
        let mut buf = Buffer::empty(area);
        let t = crate::panes::text::text(Lang::En);
        render(PaneKind::Processes, &data, "p", area, &mut buf, false, t);
        let text = screen(&buf);
        assert!(text.contains("a^[[2J\\u{9b}b^Mc"), "{text}");
    }

    #[test]
    fn columns_line_up_with_their_heads_in_both_languages() {
        use unicode_width::UnicodeWidthStr;
        // Column where `needle` starts on the row containing it (the dump
        // has one char per cell: a wide char is followed by a blank).
        let col = |text: &str, needle: &str| {
            let spaced: String = needle
                .chars()
                .map(|c| match c.to_string().width() {
                    2 => format!("{c} "),
                    _ => c.to_string(),
                })
                .collect();
            let spaced = spaced.trim_end();
            let line = text
                .lines()
                .find(|l| l.contains(spaced))
                .unwrap_or_else(|| panic!("{needle:?} in\n{text}"));
            line[..line.find(spaced).unwrap()].chars().count()
        };
        for lang in [Lang::En, Lang::Zh] {
            let t = crate::panes::text::text(lang);
            let area = Rect::new(0, 0, 60, 6);
            let data = Inspection {
                processes: Shown::Data(vec![proc(101, 50, "init")]),
                filesystem: Shown::Data(FsView {
                    mounts: vec![
                        ("/".into(), "overlay".into(), "overlay".into()),
                        ("/proc/sys/kernel/x".into(), "proc".into(), "proc".into()),
                    ],
                    upper: Ok(Vec::new()),
                }),
                ..Inspection::default()
            };
            let mut buf = Buffer::empty(area);
            render(PaneKind::Processes, &data, "p", area, &mut buf, false, t);
            let text = screen(&buf);
            assert_eq!(col(&text, t.proc_head[2]), col(&text, "init"), "{text}");
            let mut buf = Buffer::empty(area);
            render(PaneKind::Filesystem, &data, "f", area, &mut buf, false, t);
            let text = screen(&buf);
            assert_eq!(col(&text, " overlay"), col(&text, " proc"), "{text}");
        }
    }

    #[test]
    fn an_unavailable_reason_wraps_to_the_pane_instead_of_being_cut() {
        let why = "no cgroup: cgroup v1 is not writable by uid 1001; limits need root";
        let data = Inspection {
            cgroup: Shown::Unavailable(why.into()),
            ..Inspection::default()
        };
        let area = Rect::new(0, 0, 24, 8);
        let mut buf = Buffer::empty(area);
        let t = crate::panes::text::text(Lang::En);
        render(PaneKind::Cgroup, &data, "cgroup", area, &mut buf, false, t);
        let text = screen(&buf);
        // Inside the border, the rows read back as the whole reason.
        let rows: Vec<&str> = text
            .lines()
            .map(|l| l.trim_matches(|c| c == '│' || c == ' '))
            .filter(|l| !l.is_empty() && !l.starts_with('┌') && !l.starts_with('└'))
            .collect();
        assert!(
            rows.len() > 1,
            "the reason should take several rows:\n{text}"
        );
        assert_eq!(rows.join(" "), why, "\n{text}");
    }

    #[test]
    fn without_limits_the_cgroup_pane_says_why_then_shows_usage_at_80_columns() {
        let stats = CgroupStats {
            memory_current: 9 << 20,
            pids_current: 3,
            limits_off: Some(
                "cgroup v1 (/sys/fs/cgroup/cpu) is not writable by uid 65534: Permission \
                 denied (os error 13)"
                    .into(),
            ),
            ..CgroupStats::default()
        };
        let view = CgroupView {
            stats,
            cpu_milli: [0, 990].into_iter().collect(),
            ..CgroupView::default()
        };
        let data = Inspection {
            cgroup: Shown::Data(view),
            ..Inspection::default()
        };
        // The inspector below the lesson at 80×24: 58 columns, 8 rows inside.
        // (Compared without spaces: the dump pads each wide character.)
        for (lang, why, usage) in [
            (
                Lang::Zh,
                "即可开启限制",
                ["内存9MiB/不限", "CPU0.99/不限核", "进程数3/不限"],
            ),
            (
                Lang::En,
                "toturnthemon.",
                [
                    "memory9MiB/nolimit",
                    "cpu0.99/noquotacores",
                    "pids3/nolimit",
                ],
            ),
        ] {
            let area = Rect::new(0, 0, 60, 10);
            let mut buf = Buffer::empty(area);
            let t = crate::panes::text::text(lang);
            render(PaneKind::Cgroup, &data, "cgroup", area, &mut buf, false, t);
            let text = screen(&buf);
            let flat = text.replace(' ', "");
            assert!(flat.contains(why), "{text}");
            for u in usage {
                assert!(flat.contains(u), "{u:?} in\n{text}");
            }
            assert!(!text.contains("Permission"), "{text}");
        }
    }
}
