//! Drawing the Objects pane: the cluster line, the tree with kubectl's
//! columns, recent Events, and any problem in place of silence.

use super::text::text;
use super::tree::{EventRow, Row};
use super::watch::ObjectsWatch;
use crate::course::model::Lang;
use k8s_openapi::chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

/// What the pane shows, taken from the watches once per frame.
#[derive(Debug, Clone, Default)]
pub struct ObjectsView {
    /// `Target::describe()`: which cluster, before anything touches it.
    pub target: String,
    pub namespace: String,
    pub rows: Vec<Row>,
    pub events: Vec<EventRow>,
    /// Every kind listed or failed: nothing is still loading.
    pub synced: bool,
    /// What is wrong now, one message each, in the UI language.
    pub problems: Vec<String>,
    /// The Pod picked for the inspector (`[`/`]`), highlighted.
    pub selected_pod: Option<String>,
}

impl ObjectsView {
    /// Reads the watches (no API call: the stores are in memory).
    pub fn from_watch(
        w: &ObjectsWatch,
        target: &str,
        now: DateTime<Utc>,
        lang: Lang,
    ) -> ObjectsView {
        let snap = w.snapshot();
        ObjectsView {
            target: target.to_string(),
            namespace: w.namespace.clone(),
            rows: super::tree::build(&snap, now),
            events: super::tree::recent_events(&snap, now, 8),
            synced: w.settled(),
            problems: w.problems().iter().map(|p| p.message(lang)).collect(),
            selected_pod: None,
        }
    }
}

/// `s` in `w` columns, padded; control characters (from the server: a
/// waiting reason is free text) are shown escaped, never reach the terminal.
fn cut(s: &str, w: usize) -> String {
    let mut out = String::new();
    for c in crate::sanitize::line(s).chars() {
        if out.width() + c.to_string().width() > w {
            break;
        }
        out.push(c);
    }
    let pad = w.saturating_sub(out.width());
    out + &" ".repeat(pad)
}

/// Widths of the tree's columns in `w` cells: NAME as wide as the widest
/// name (a name is what the learner types next, so it is cut last), READY
/// and AGE fixed, STATUS the rest; RESTARTS only where STATUS keeps 20
/// cells (a narrow pane, the outline shown at 80 columns, folds it into
/// STATUS as `↻N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    name: usize,
    status: usize,
    restarts: bool,
}

impl Columns {
    fn fit(w: usize, widest_name: usize) -> Columns {
        // READY(5) AGE(6) and the spaces between; RESTARTS(8) and its space.
        let fixed = |restarts: bool| 5 + 6 + 3 + if restarts { 9 } else { 0 };
        let name = widest_name.clamp(12, 60);
        for restarts in [true, false] {
            let status = w.saturating_sub(name + fixed(restarts));
            if status >= if restarts { 20 } else { 14 } {
                return Columns {
                    name,
                    status,
                    restarts,
                };
            }
        }
        // Very narrow: STATUS keeps 14, NAME gets what is left.
        let name = w.saturating_sub(fixed(false) + 14).max(12);
        Columns {
            name,
            status: w.saturating_sub(name + fixed(false)).max(8),
            restarts: false,
        }
    }
}

fn status_style(s: &str) -> Style {
    let bad = [
        "CrashLoopBackOff",
        "Error",
        "Failed",
        "OOMKilled",
        "ImagePullBackOff",
        "ErrImagePull",
    ];
    if bad.iter().any(|b| s.contains(b)) {
        Style::default().fg(Color::Red)
    } else if s.contains("=False") || s == "Lost" {
        Style::default().fg(Color::Yellow)
    } else if s == "Running"
        || s == "Complete"
        || s == "Completed"
        || s == "Established"
        || s.starts_with("Bound")
    {
        Style::default().fg(Color::Green)
    } else if s.starts_with("rolling out")
        || s == "Terminating"
        || s == "Pending"
        || s.contains("Creating")
    {
        Style::default().fg(Color::Yellow)
    } else {
        Style::default()
    }
}

/// The pane's lines for `width` columns (scrolling is the caller's offset).
pub fn lines(v: &ObjectsView, width: u16, lang: Lang) -> Vec<Line<'static>> {
    laid_out(v, width, lang).1
}

/// The pane's lines and how many of them are its head (up to the column
/// headers), which stays put while the rest scrolls.
fn laid_out(v: &ObjectsView, width: u16, lang: Lang) -> (usize, Vec<Line<'static>>) {
    let t = text(lang);
    let w = usize::from(width.max(20));
    let dim = Style::default().fg(Color::DarkGray);
    let mut out = Vec::new();
    if !v.target.is_empty() {
        out.push(Line::styled(
            cut(&t.using.replace("{target}", &v.target), w),
            dim,
        ));
    }
    out.push(Line::styled(
        cut(&format!("{}: {}", t.namespace, v.namespace), w),
        dim,
    ));
    for p in &v.problems {
        let p = crate::sanitize::line(&super::error::one_line(p)).into_owned();
        for row in crate::wrap::wrap_str(&p, w) {
            out.push(Line::styled(row, Style::default().fg(Color::Yellow)));
        }
    }
    if !v.synced && v.rows.is_empty() {
        if v.problems.is_empty() {
            out.push(Line::styled(t.loading.to_string(), dim));
        }
        return (0, out);
    }
    let mut head = 0;
    if v.rows.is_empty() {
        out.push(Line::styled(
            cut(&t.empty.replace("{ns}", &v.namespace), w),
            dim,
        ));
    } else {
        let names: Vec<String> = v
            .rows
            .iter()
            .map(|r| format!("{}{}/{}", "  ".repeat(r.depth), r.kind, r.name))
            .collect();
        let cols = Columns::fit(w, names.iter().map(|n| n.width()).max().unwrap_or(0));
        let c = t.columns;
        let mut header = format!(
            "{} {} {} ",
            cut(c[0], cols.name),
            cut(c[1], 5),
            cut(c[2], cols.status)
        );
        if cols.restarts {
            header.push_str(&cut(c[3], 8));
            header.push(' ');
        }
        header.push_str(c[4]);
        out.push(Line::styled(
            header,
            Style::default().add_modifier(Modifier::BOLD),
        ));
        head = out.len();
        for (r, name) in v.rows.iter().zip(&names) {
            let mut status = r.status.clone();
            if !cols.restarts && !matches!(r.restarts.as_str(), "" | "0") {
                // No room for the column: the count goes before the status
                // (where a cut cannot take it).
                status = format!("↻{} {status}", r.restarts);
            }
            let mut tail = String::from(" ");
            if cols.restarts {
                tail.push_str(&cut(&r.restarts, 8));
                tail.push(' ');
            }
            tail.push_str(&cut(&r.age, 6));
            let mut line = Line::from(vec![
                Span::raw(format!("{} {} ", cut(name, cols.name), cut(&r.ready, 5))),
                Span::styled(cut(&status, cols.status), status_style(&r.status)),
                Span::raw(tail),
            ]);
            if r.kind == "pod" && v.selected_pod.as_deref() == Some(r.name.as_str()) {
                line = line.style(Style::default().add_modifier(Modifier::REVERSED));
            }
            out.push(line);
        }
    }
    if !v.events.is_empty() {
        out.push(Line::default());
        out.push(Line::styled(
            t.events.to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        for e in &v.events {
            let style = if e.type_ == "Warning" {
                Style::default().fg(Color::Yellow)
            } else {
                Style::default()
            };
            out.push(Line::styled(
                cut(
                    &format!(
                        "{:<6} {:<8} {:<18} {} {}",
                        e.age, e.type_, e.reason, e.object, e.message
                    ),
                    w,
                ),
                style,
            ));
        }
    }
    (head, out)
}

/// Draws the pane with its border and `title` (the reader passes its
/// inspector tabs), `scroll` rows down: the head (cluster, namespace,
/// problems, column headers) stays while the tree and events move, as the
/// other inspectors keep their column heads. Returns the scroll used
/// (clamped so the last row is at the bottom, never past it), which the
/// title shows as `↓N`.
pub fn render(
    v: &ObjectsView,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
    lang: Lang,
    scroll: usize,
) -> usize {
    let border = if focused {
        Color::Cyan
    } else {
        Color::DarkGray
    };
    let plain = Block::default().borders(Borders::ALL);
    let inner = plain.inner(area);
    let (mut head, mut all) = laid_out(v, inner.width, lang);
    let h = usize::from(inner.height);
    // A head that leaves under half the pane scrolls with the rest.
    if head * 2 > h {
        head = 0;
    }
    let room = h.saturating_sub(head);
    let scroll = scroll.min(all.len().saturating_sub(head + room));
    let title = if scroll > 0 {
        format!(" {title} ↓{scroll} ")
    } else {
        format!(" {title} ")
    };
    let block = plain.border_style(Style::default().fg(border)).title(title);
    block.render(area, buf);
    let body = all.split_off(head.min(all.len()));
    all.extend(body.into_iter().skip(scroll));
    Paragraph::new(all).render(inner, buf);
    scroll
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::chrono::TimeZone;

    fn view() -> ObjectsView {
        let o = crate::cluster::tree::tests::recorded();
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 10, 0).unwrap();
        ObjectsView {
            target: "context kind-kind · cluster kind-kind · https://127.0.0.1:6443/".into(),
            namespace: "kubelab-deploy".into(),
            rows: crate::cluster::tree::build(&o, now),
            events: crate::cluster::tree::recent_events(&o, now, 8),
            synced: true,
            problems: Vec::new(),
            selected_pod: None,
        }
    }

    #[test]
    fn the_picked_pod_is_highlighted_and_only_it() {
        let mut v = view();
        let pod = v
            .rows
            .iter()
            .find(|r| r.kind == "pod")
            .unwrap()
            .name
            .clone();
        v.selected_pod = Some(pod.clone());
        let ls = lines(&v, 100, Lang::En);
        let marked: Vec<String> = ls
            .iter()
            .filter(|l| l.style.add_modifier.contains(Modifier::REVERSED))
            .map(|l| l.to_string())
            .collect();
        assert_eq!(marked.len(), 1, "{marked:?}");
        assert!(marked[0].contains(&format!("pod/{pod}")), "{marked:?}");
    }

    fn screen(v: &ObjectsView, lang: Lang, scroll: usize) -> Vec<String> {
        screen_at(v, lang, scroll, Rect::new(0, 0, 100, 16)).1
    }

    fn screen_at(v: &ObjectsView, lang: Lang, scroll: usize, area: Rect) -> (usize, Vec<String>) {
        let mut buf = Buffer::empty(area);
        let used = render(v, text(lang).objects, area, &mut buf, true, lang, scroll);
        let rows = (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect();
        (used, rows)
    }

    #[test]
    fn draws_cluster_line_tree_and_scrolls() {
        let s = screen(&view(), Lang::En, 0);
        assert!(s[0].contains(" Objects "));
        assert!(s[1].contains("cluster: context kind-kind"));
        assert!(s[2].contains("namespace: kubelab-deploy"));
        assert!(s[3].contains("NAME") && s[3].contains("RESTARTS"));
        assert!(s[4].contains("deployment/web") && s[4].contains("rolling out: new 2 · old 2"));
        assert!(s[5].contains("  replicaset/web-7c9f6d5b4"));
        let scrolled = screen(&view(), Lang::En, 3);
        assert!(scrolled[0].contains(" Objects ↓3 "), "{scrolled:?}");
        assert!(scrolled[3].contains("NAME"), "the head stays: {scrolled:?}");
        assert!(
            scrolled[4].contains("    pod/web-7c9f6d5b4-m9d6f"),
            "{scrolled:?}"
        );
        let zh = screen(&view(), Lang::Zh, 0);
        // A wide character's second cell is blank in the buffer.
        let packed = |l: &str| l.replace(' ', "");
        assert!(packed(&zh[0]).contains("对象") && packed(&zh[1]).contains("集群："));
    }

    #[test]
    fn names_are_cut_last_and_restarts_fold_into_status_when_narrow() {
        assert_eq!(
            Columns::fit(76, 27),
            Columns {
                name: 27,
                status: 26,
                restarts: true
            }
        );
        // The outline shown at 80 columns: a 56-cell pane.
        assert_eq!(
            Columns::fit(56, 27),
            Columns {
                name: 27,
                status: 15,
                restarts: false
            }
        );
        assert_eq!(Columns::fit(40, 27).name, 12);
        let v = view();
        let narrow: Vec<String> = lines(&v, 56, Lang::En)
            .iter()
            .map(|l| l.to_string())
            .collect();
        let debug = narrow.iter().find(|l| l.contains("pod/debug")).unwrap();
        assert!(debug.contains("↻4 CrashLoopBa"), "{debug}");
        assert!(
            narrow
                .iter()
                .any(|l| l.contains("    pod/web-7c9f6d5b4-4hzt2 ")),
            "{narrow:#?}"
        );
        assert!(!narrow[2].contains("RESTARTS"), "{}", narrow[2]);
        let wide: Vec<String> = lines(&v, 100, Lang::En)
            .iter()
            .map(|l| l.to_string())
            .collect();
        let debug = wide.iter().find(|l| l.contains("pod/debug")).unwrap();
        assert!(
            debug.contains("CrashLoopBackOff") && debug.contains(" 4 "),
            "{debug}"
        );
        assert!(!debug.contains('↻'), "{debug}");
        // Folded where there is no column for it.
        let mut v = view();
        v.rows.truncate(1);
        v.rows[0].restarts = "4".into();
        v.rows[0].status = "Error".into();
        let s: String = lines(&v, 56, Lang::En)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(s.contains("↻4 Error"), "{s}");
    }

    /// At 80×24 the reader's pane area leaves a short inspector: every row
    /// of a tree longer than it is reachable, the last at the bottom.
    #[test]
    fn a_long_tree_is_reachable_to_its_last_row_at_80_columns() {
        let v = view();
        let area = Rect::new(0, 0, 80, 10);
        let all = lines(&v, 78, Lang::En);
        let last = all.last().unwrap().to_string();
        let mut seen = std::collections::BTreeSet::new();
        let mut at = 0;
        loop {
            let (used, s) = screen_at(&v, Lang::En, at, area);
            assert!(s[3].contains("NAME"), "{s:?}");
            seen.extend(
                s[4..9]
                    .iter()
                    .map(|l| l.trim_matches(['│', ' ']).to_string()),
            );
            if used < at {
                // Clamped: the last row sits on the pane's last line.
                assert_eq!(s[8].trim_matches(['│', ' ']), last.trim_end(), "{s:?}");
                break;
            }
            at += 1;
        }
        for r in &v.rows {
            let name = format!("{}/{}", r.kind, r.name);
            assert!(seen.iter().any(|l| l.contains(&name)), "{name} never shown");
        }
        // Scrolling further changes nothing.
        assert_eq!(
            screen_at(&v, Lang::En, 10_000, area),
            screen_at(&v, Lang::En, at - 1, area)
        );
        // A tree that fits does not scroll.
        let (used, _) = screen_at(&v, Lang::En, 5, Rect::new(0, 0, 80, 60));
        assert_eq!(used, 0);
    }

    #[test]
    fn server_text_cannot_reach_the_terminal_raw() {
        let mut v = view();
        v.rows[0].status = "Evil\x1b]0;pwned\x07".into();
        v.rows[1].name = "x\x1b[2J".into();
        v.rows[2].age = "1\x1b[H".into();
        let all: String = lines(&v, 100, Lang::En)
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!all.chars().any(|c| c.is_control()), "{all:?}");
    }

    #[test]
    fn problem_and_loading_are_said() {
        let v = ObjectsView {
            target: "context c".into(),
            namespace: "kubelab-x".into(),
            problems: vec!["cluster http://127.0.0.1:1/ unreachable: connection refused".into()],
            ..ObjectsView::default()
        };
        let s = screen(&v, Lang::En, 0).join("\n");
        assert!(s.contains("unreachable: connection refused"));
        assert!(!s.contains("listing objects…"), "a problem, not a wait");
        let waiting = ObjectsView {
            namespace: "kubelab-x".into(),
            ..ObjectsView::default()
        };
        let s = screen(&waiting, Lang::En, 0).join("\n");
        assert!(
            s.contains("listing objects…") && !s.contains("cluster:"),
            "{s}"
        );
    }
}
