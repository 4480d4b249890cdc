//! The outline sidebar: modules, lessons, progress marks, drafts greyed.

use super::frame_block;
use super::layout::{outline_offset, outline_rows, shrink, OutlineRow};
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
    if crate::app::lock::is_locked(app, i) {
        return crate::app::lock::MARK;
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
                let mut style = if draft || crate::app::lock::is_locked(app, i) {
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
                let text = wrap::truncate(&format!("{}{fallback}", e.title), room);
                let pad = room.saturating_sub(wrap::width(&text));
                Line::from(vec![
                    // The lock mark is two columns wide: no space after it.
                    Span::styled(
                        if mark == crate::app::lock::MARK {
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
