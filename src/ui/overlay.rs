//! Help and search overlays, drawn over the app.

use super::frame_block;
use crate::app::help::{help_layout, HelpLayout};
use crate::app::layout::{search_box, search_offset, shrink, AppLayout};
use crate::app::state::{App, SearchState};
use crate::render::theme;
use crate::wrap;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

pub fn help(frame: &mut Frame, app: &App, area: Rect) {
    let s = app.strings;
    let HelpLayout {
        rect: r,
        col_w,
        columns,
        max_scroll,
    } = help_layout(app, area);
    let off = app.help_scroll.min(max_scroll);
    clear(frame, r);
    let title = Line::from(Span::styled(format!(" {} ", s.help_title), theme::TITLE));
    // The footer names the close and quit keys, so they show at any size.
    let footer = if max_scroll > 0 {
        let pos = format!(" {}/{} ", off, max_scroll);
        format!(" {} ·{pos}", s.help_scroll)
    } else {
        format!(" {} ", s.help_close)
    };
    frame.render_widget(
        frame_block(title, true).title_bottom(Line::styled(footer, theme::DIM)),
        r,
    );
    let inner = shrink(r);
    for (c, lines) in columns.into_iter().enumerate() {
        let x = inner.x + (c * col_w) as u16;
        let cw = (col_w as u16).min(inner.width.saturating_sub((c * col_w) as u16));
        let mut shown: Vec<Line> = vec![Line::default()];
        shown.extend(lines.into_iter().skip(off));
        frame.render_widget(
            Paragraph::new(shown),
            Rect {
                x,
                width: cw,
                ..inner
            },
        );
    }
}

pub fn search(frame: &mut Frame, app: &App, lay: &AppLayout, st: &SearchState) {
    let s = app.strings;
    let (outer, results) = search_box(lay);
    clear(frame, outer);
    let title = Line::from(Span::styled(format!(" {} ", s.search_title), theme::TITLE));
    frame.render_widget(frame_block(title, true), outer);
    let inner = shrink(outer);
    let w = usize::from(inner.width);
    let buf = frame.buffer_mut();
    let query = Line::from(vec![
        Span::styled(s.search_prompt, theme::TITLE),
        Span::raw(st.query.clone()),
        Span::styled("█", theme::DIM),
    ]);
    buf.set_line(inner.x, inner.y, &query, inner.width);
    let count = if st.query.trim().is_empty() {
        s.search_hint.to_string()
    } else if st.hits.is_empty() {
        s.search_none.to_string()
    } else {
        format!("{} · {}", st.hits.len(), s.search_hint)
    };
    buf.set_line(
        inner.x,
        inner.y + 1,
        &Line::styled(wrap::truncate(&count, w), theme::DIM),
        inner.width,
    );
    let off = search_offset(st.selected, results.height);
    for (k, hit) in st
        .hits
        .iter()
        .skip(off)
        .take(usize::from(results.height))
        .enumerate()
    {
        let i = off + k;
        let title = app
            .lib
            .entries
            .get(hit.entry)
            .map_or("", |e| e.title.as_str());
        let head = wrap::truncate(&format!("{title}:{}", hit.line), w / 3);
        let rest = w.saturating_sub(wrap::width(&head) + 2);
        let snippet = wrap::truncate(&hit.snippet, rest);
        let pad = rest.saturating_sub(wrap::width(&snippet));
        let mut line = Line::from(vec![
            Span::styled(head, theme::LINK),
            Span::raw("  "),
            Span::raw(snippet),
            Span::raw(" ".repeat(pad)),
        ]);
        if i == st.selected {
            line = line.style(theme::SELECTED);
        }
        buf.set_line(results.x, results.y + k as u16, &line, results.width);
    }
}

/// Clears `r` for an overlay. A wide character straddling the left edge
/// would be cut in half (terminals then show garbage), so blank it too.
fn clear(frame: &mut Frame, r: Rect) {
    frame.render_widget(Clear, r);
    if r.x == 0 {
        return;
    }
    let buf = frame.buffer_mut();
    for y in r.y..r.y + r.height {
        if let Some(cell) = buf.cell_mut((r.x - 1, y)) {
            if wrap::width(cell.symbol()) > 1 {
                cell.set_symbol(" ");
            }
        }
    }
}
