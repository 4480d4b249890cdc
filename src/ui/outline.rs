//! The outline sidebar: modules, lessons, progress marks, drafts greyed.

use super::frame_block;
use crate::app::layout::{outline_offset, outline_rows, shrink, OutlineRow};
use crate::app::library::Content;
use crate::app::state::{App, Focus};
use crate::render::theme;
use crate::wrap;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// Progress mark of an entry, as `kubelab list` words it: ✓ done,
/// ◐ started, • read, blank new; `!` for a lesson that failed to load.
pub fn mark(app: &App, i: usize) -> &'static str {
    if app.is_locked(i) {
        return crate::lock::MARK;
    }
    match &app.lib.entries[i].content {
        Content::Lesson(l) => match app.progress.status(l).word() {
            "done" => "✓",
            "started" => "◐",
            "read" => "•",
            _ => " ",
        },
        Content::Error(_) => "!",
        Content::Draft => " ",
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let focused = app.focus == Focus::Outline;
    let title = Line::from(Span::styled(
        format!(" {} ", app.strings.outline),
        theme::TITLE,
    ));
    frame.render_widget(frame_block(title, focused), area);
    let inner = shrink(area);
    let rows = outline_rows(&app.lib);
    let off = outline_offset(&rows, app.cursor, inner.height);
    let w = usize::from(inner.width);
    let shown = shown_titles(app, &rows, w);
    let buf = frame.buffer_mut();
    for (k, row) in rows
        .iter()
        .skip(off)
        .take(usize::from(inner.height))
        .enumerate()
    {
        let y = inner.y + k as u16;
        let line = match *row {
            OutlineRow::Module(m) => {
                let t = app.lib.modules[m].title.clone().unwrap_or_default();
                Line::styled(
                    wrap::truncate(&t, w),
                    theme::TITLE.add_modifier(Modifier::UNDERLINED),
                )
            }
            OutlineRow::Entry(i) => {
                let e = &app.lib.entries[i];
                let draft = matches!(e.content, Content::Draft);
                // Beyond the instructor's `--lock`: greyed like a draft.
                let mut style = if draft || app.is_locked(i) {
                    theme::DRAFT
                } else {
                    ratatui::style::Style::new()
                };
                if i == app.current {
                    style = style
                        .add_modifier(Modifier::BOLD)
                        .fg(ratatui::style::Color::Cyan);
                }
                if i == app.cursor && focused {
                    style = style.patch(theme::SELECTED);
                }
                let fallback = if e.lang != app.lib.lang && !draft {
                    format!(" [{}]", e.lang.code())
                } else {
                    String::new()
                };
                let mark = mark(app, i);
                let mark_style = match mark {
                    "✓" => theme::PASS,
                    "!" => theme::ERROR,
                    _ => theme::DIM,
                };
                // Checks + quizzes done, e.g. "3/8" — the same measure as
                // `kubelab list` — once the learner has done one.
                let count = match &e.content {
                    Content::Lesson(l) => {
                        let (done, total) = app.progress.status(l).items();
                        (done > 0).then(|| format!(" {done}/{total}"))
                    }
                    _ => None,
                }
                .unwrap_or_default();
                let room = w.saturating_sub(3 + wrap::width(&count));
                let full = format!("{}{fallback}", e.title);
                let text = shown
                    .get(&i)
                    .cloned()
                    .unwrap_or_else(|| wrap::truncate(&full, room));
                let pad = room.saturating_sub(wrap::width(&text));
                Line::from(vec![
                    // The lock mark is two columns wide: no space after it.
                    Span::styled(
                        if mark == crate::lock::MARK {
                            mark.to_string()
                        } else {
                            format!("{mark} ")
                        },
                        mark_style,
                    ),
                    Span::styled(format!(" {text}{}", " ".repeat(pad)), style),
                    Span::styled(count, theme::DIM),
                ])
            }
        };
        buf.set_line(inner.x, y, &line, inner.width);
    }
}

/// Title text per entry where plain truncation would make it the same as
/// another's: "白话容器基础（一）：从进程说开去" and "…（二）…" both end up as
/// "白话容器基础（…" at 80 columns. Those show their distinct end instead,
/// from the start of the part they do not share ("…（一）：从进程…").
fn shown_titles(
    app: &App,
    rows: &[OutlineRow],
    w: usize,
) -> std::collections::HashMap<usize, String> {
    let mut titles = Vec::new();
    for row in rows {
        if let OutlineRow::Entry(i) = *row {
            let e = &app.lib.entries[i];
            let draft = matches!(e.content, Content::Draft);
            let fallback = if e.lang != app.lib.lang && !draft {
                format!(" [{}]", e.lang.code())
            } else {
                String::new()
            };
            let count = match &e.content {
                Content::Lesson(l) => {
                    let (done, total) = app.progress.status(l).items();
                    if done > 0 {
                        wrap::width(&format!(" {done}/{total}"))
                    } else {
                        0
                    }
                }
                _ => 0,
            };
            titles.push((
                i,
                format!("{}{fallback}", e.title),
                w.saturating_sub(3 + count),
            ));
        }
    }
    distinct_ends(&titles)
}

/// For `(id, title, room)` triples: the texts of those whose truncation
/// collides with another's, cut to start where they differ.
fn distinct_ends(titles: &[(usize, String, usize)]) -> std::collections::HashMap<usize, String> {
    let cut: Vec<String> = titles
        .iter()
        .map(|(_, t, room)| wrap::truncate(t, *room))
        .collect();
    let mut out = std::collections::HashMap::new();
    for (k, (id, title, room)) in titles.iter().enumerate() {
        let twins: Vec<&String> = titles
            .iter()
            .enumerate()
            .filter(|(j, (_, other, _))| *j != k && cut[*j] == cut[k] && other != title)
            .map(|(_, (_, other, _))| other)
            .collect();
        if twins.is_empty() {
            continue;
        }
        let chars: Vec<char> = title.chars().collect();
        let shared = twins
            .iter()
            .map(|o| o.chars().zip(&chars).take_while(|(a, b)| a == *b).count())
            .max()
            .unwrap_or(0);
        // Back to the start of the part that differs: an opening bracket,
        // or just after a space or colon.
        let mut p = shared.min(chars.len());
        while p > 0
            && !matches!(chars[p], '（' | '(' | '[' | '【')
            && !matches!(chars[p - 1], ' ' | '：' | ':' | '·')
        {
            p -= 1;
        }
        if p == 0 {
            continue;
        }
        let tail: String = chars[p..].iter().collect();
        out.insert(*id, wrap::truncate(&format!("…{tail}"), *room));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cut_alike_show_where_they_differ() {
        let t = |i: usize, s: &str| (i, s.to_string(), 15);
        let titles = [
            t(0, "白话容器基础（一）：从进程说开去"),
            t(1, "白话容器基础（二）：隔离与限制"),
            t(2, "白话容器基础（三）：深入理解容器镜像"),
            t(3, "从容器到容器云：谈谈 Kubernetes 的本质"),
        ];
        let shown = distinct_ends(&titles);
        assert_eq!(shown.get(&0).map(String::as_str), Some("…（一）：从进…"));
        assert_eq!(shown.get(&1).map(String::as_str), Some("…（二）：隔离…"));
        assert!(shown[&2].starts_with("…（三）"), "{:?}", shown[&2]);
        // Already distinct once cut: left alone.
        assert!(!shown.contains_key(&3));
    }
}
