//! Help and search overlays, drawn over the app.

use super::frame_block;
use super::layout::{search_box, search_offset, shrink, AppLayout};
use crate::app::state::{App, SearchState};
use crate::render::theme;
use crate::wrap;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

/// The help overlay's layout for `area`: its rectangle, column width, the
/// columns' lines and how far it can scroll.
struct HelpLayout {
    rect: Rect,
    col_w: usize,
    columns: Vec<Vec<Line<'static>>>,
    /// Rows of the tallest column that do not fit.
    max_scroll: usize,
}

fn help_layout(app: &App, area: Rect) -> HelpLayout {
    let s = app.strings;
    let mut keys: Vec<(String, String)> = s
        .keys
        .iter()
        .map(|(k, d)| (k.to_string(), d.to_string()))
        .collect();
    // `kubelab preview` keys first, so they show even on small screens.
    keys.splice(0..0, crate::app::preview::help_keys(app));
    keys.extend(app.panes.help_keys(app.ui_lang));
    let kw = keys.iter().map(|(k, _)| wrap::width(k)).max().unwrap_or(0);
    let dw = keys.iter().map(|(_, d)| wrap::width(d)).max().unwrap_or(0);
    // One column when it fits; else two side by side (more keys from panes
    // or preview), descriptions wrapped under themselves.
    let one_w = kw + dw + 4;
    let fit_rows = usize::from(area.height).saturating_sub(4).max(1);
    let two = keys.len() > fit_rows && usize::from(area.width) >= 2 * (kw + 16) + 4;
    let (cols, col_w) = if two {
        (2, one_w.min((usize::from(area.width) - 2) / 2))
    } else {
        (1, one_w.min(usize::from(area.width).saturating_sub(2)))
    };
    let desc_w = col_w.saturating_sub(kw + 3).max(4);
    // Each key as its display lines.
    let items: Vec<Vec<Line<'static>>> = keys
        .iter()
        .map(|(k, d)| {
            let pad = kw - wrap::width(k);
            wrap::wrap_str(d, desc_w)
                .into_iter()
                .enumerate()
                .map(|(i, part)| {
                    let head = if i == 0 {
                        format!(" {k}{} ", " ".repeat(pad))
                    } else {
                        " ".repeat(kw + 2)
                    };
                    Line::from(vec![
                        Span::styled(head, theme::INLINE_CODE),
                        Span::raw(part),
                    ])
                })
                .collect()
        })
        .collect();
    let total: usize = items.iter().map(Vec::len).sum();
    // Split into columns of about equal height, never inside a key.
    let target = total.div_ceil(cols);
    let mut columns: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    for item in items {
        if cols > 1
            && columns.len() < cols
            && columns
                .last()
                .is_some_and(|c| c.len() + item.len() > target && !c.is_empty())
        {
            columns.push(Vec::new());
        }
        if let Some(c) = columns.last_mut() {
            c.extend(item);
        }
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let w = ((col_w * columns.len() + 2) as u16).min(area.width);
    let h = (rows as u16 + 4).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    // Inside the border, below the blank first row.
    let visible = usize::from(h.saturating_sub(3));
    HelpLayout {
        rect,
        col_w,
        columns,
        max_scroll: rows.saturating_sub(visible),
    }
}

/// How far the help overlay can scroll at the current size (0: it fits).
pub fn help_max_scroll(app: &App) -> usize {
    help_layout(app, app.layout().area).max_scroll
}

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
