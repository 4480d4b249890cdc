//! The lesson view: rendered lines, the focused-block gutter, and the
//! draft / error pages.

use super::frame_block;
use crate::app::layout::AppLayout;
use crate::app::library::Content;
use crate::app::state::{App, Focus};
use crate::render::theme;
use crate::wrap::{self, Piece};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, lay: &AppLayout) {
    let focused = app.focus == Focus::Lesson;
    let Some(entry) = app.lib.entries.get(app.current) else {
        let block = frame_block(Line::default(), focused);
        frame.render_widget(block, lay.lesson);
        frame.render_widget(
            Paragraph::new(Line::styled(app.strings.empty_course, theme::DIM)),
            lay.lesson_text,
        );
        return;
    };
    let title = match &entry.content {
        Content::Lesson(l) => l.front.title.clone(),
        _ => entry.title.clone(),
    };
    let max = usize::from(lay.lesson.width.saturating_sub(4));
    let title = Line::from(Span::styled(
        format!(" {} ", wrap::truncate(&title, max)),
        theme::TITLE,
    ));
    frame.render_widget(frame_block(title, focused), lay.lesson);
    if let Some(b) = lay.banner {
        let note = app.strings.fallback(app.lib.lang, entry.lang);
        let line = Line::styled(
            wrap::truncate(&format!("  ⚑ {note}"), usize::from(b.width)),
            theme::SOLUTION,
        );
        frame.buffer_mut().set_line(b.x, b.y, &line, b.width);
    }
    let area = lay.lesson_text;
    match &entry.content {
        Content::Lesson(_) => {
            let Some(r) = app.rendered() else { return };
            let focus_range = app
                .block_focus
                .and_then(|f| r.blocks.iter().find(|b| b.index == f))
                .map(|b| b.lines.clone());
            let buf = frame.buffer_mut();
            for (k, line) in r
                .lines
                .iter()
                .skip(app.scroll)
                .take(usize::from(area.height))
                .enumerate()
            {
                let y = area.y + k as u16;
                buf.set_line(area.x, y, line, area.width);
                let i = app.scroll + k;
                if app.search_target.is_some() && r.src_lines.get(i).copied() == app.search_target {
                    buf.set_string(
                        area.x - crate::app::layout::GUTTER,
                        y,
                        "›",
                        theme::SEARCH_HIT,
                    );
                }
                if focus_range.as_ref().is_some_and(|fr| fr.contains(&i)) {
                    buf.set_string(
                        area.x - crate::app::layout::GUTTER,
                        y,
                        "▌",
                        theme::FOCUS_GUTTER,
                    );
                }
                if app
                    .link_focus
                    .is_some_and(|l| r.ref_lines.get(l) == Some(&i))
                {
                    buf.set_string(
                        area.x - crate::app::layout::GUTTER,
                        y,
                        "›",
                        theme::SEARCH_HIT,
                    );
                }
            }
        }
        Content::Draft => {
            let lines = vec![
                Line::default(),
                Line::styled(app.strings.draft_page, theme::DIM),
            ];
            frame.render_widget(Paragraph::new(lines), area);
        }
        Content::Error(e) => {
            let w = usize::from(area.width);
            let s = app.strings;
            let mut lines = vec![Line::styled(s.error_title, theme::ERROR), Line::default()];
            let path = e.path.strip_prefix(&app.lib.root).unwrap_or(&e.path);
            let loc = format!("{}:{}:{}", path.display(), e.line.max(1), e.col.max(1));
            // Paths have no spaces: cut them anywhere; prose wraps at words.
            for l in wrap::hard_wrap(&[Piece::new(loc, theme::LINK)], w) {
                lines.push(wrap::to_line(l));
            }
            for l in wrap::wrap(&[Piece::new(e.message.clone(), Style::new())], w)
                .into_iter()
                .take(40)
            {
                lines.push(wrap::to_line(l));
            }
            lines.push(Line::default());
            // `kubelab preview` reloads on save: no need to reopen.
            let hint = if app.preview.is_some() {
                s.error_hint_preview
            } else {
                s.error_hint
            };
            for l in wrap::wrap(&[Piece::new(hint, theme::DIM)], w) {
                lines.push(wrap::to_line(l));
            }
            frame.render_widget(Paragraph::new(lines), area);
        }
    }
}
