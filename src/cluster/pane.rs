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
    pub synced: bool,
    pub problem: Option<String>,
}

impl ObjectsView {
    /// Reads the watches (no API call: the stores are in memory).
    pub fn from_watch(w: &ObjectsWatch, target: &str, now: DateTime<Utc>) -> ObjectsView {
        let snap = w.snapshot();
        ObjectsView {
            target: target.to_string(),
            namespace: w.namespace.clone(),
            rows: super::tree::build(&snap, now),
            events: super::tree::recent_events(&snap, now, 8),
            synced: w.synced(),
            problem: w.problem(),
        }
    }
}

/// `s` in `w` columns, padded; control characters (from the server: a
/// waiting reason is free text) become spaces, never reach the terminal.
fn cut(s: &str, w: usize) -> String {
    let mut out = String::new();
    for c in s.chars().map(|c| if c.is_control() { ' ' } else { c }) {
        if out.width() + c.to_string().width() > w {
            break;
        }
        out.push(c);
    }
    let pad = w.saturating_sub(out.width());
    out + &" ".repeat(pad)
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
    } else if s == "Running" || s == "Complete" || s == "Completed" {
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
    if let Some(p) = &v.problem {
        for row in crate::wrap::wrap_str(&super::error::one_line(p), w) {
            out.push(Line::styled(row, Style::default().fg(Color::Yellow)));
        }
    }
    if !v.synced && v.rows.is_empty() {
        if v.problem.is_none() {
            out.push(Line::styled(t.loading.to_string(), dim));
        }
        return out;
    }
    if v.rows.is_empty() {
        out.push(Line::styled(
            cut(&t.empty.replace("{ns}", &v.namespace), w),
            dim,
        ));
    } else {
        // NAME takes what READY(7) STATUS(26) RESTARTS(9) AGE(6) leave.
        let name_w = w.saturating_sub(7 + 26 + 9 + 6 + 4).max(12);
        let c = t.columns;
        out.push(Line::styled(
            format!(
                "{} {} {} {} {}",
                cut(c[0], name_w),
                cut(c[1], 7),
                cut(c[2], 26),
                cut(c[3], 9),
                c[4]
            ),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        for r in &v.rows {
            let name = format!("{}{}/{}", "  ".repeat(r.depth), r.kind, r.name);
            out.push(Line::from(vec![
                Span::raw(format!("{} {} ", cut(&name, name_w), cut(&r.ready, 7))),
                Span::styled(cut(&r.status, 26), status_style(&r.status)),
                Span::raw(format!(" {} {}", cut(&r.restarts, 9), cut(&r.age, 10))),
            ]));
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
    out
}

/// Draws the pane with its border and `title` (the reader passes its
/// inspector tabs); `scroll` lines are skipped.
pub fn render(
    v: &ObjectsView,
    title: &str,
    area: Rect,
    buf: &mut Buffer,
    focused: bool,
    lang: Lang,
    scroll: u16,
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
    Paragraph::new(lines(v, inner.width, lang))
        .scroll((scroll, 0))
        .render(inner, buf);
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
            problem: None,
        }
    }

    fn screen(v: &ObjectsView, lang: Lang, scroll: u16) -> Vec<String> {
        let area = Rect::new(0, 0, 100, 16);
        let mut buf = Buffer::empty(area);
        render(v, text(lang).objects, area, &mut buf, true, lang, scroll);
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
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
        assert!(scrolled[1].contains("deployment/web"), "{scrolled:?}");
        let zh = screen(&view(), Lang::Zh, 0);
        // A wide character's second cell is blank in the buffer.
        let packed = |l: &str| l.replace(' ', "");
        assert!(packed(&zh[0]).contains("对象") && packed(&zh[1]).contains("集群："));
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
            problem: Some("cluster http://127.0.0.1:1/ unreachable: connection refused".into()),
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
