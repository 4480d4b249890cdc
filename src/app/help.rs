//! The help overlay's content and geometry: every key, with the keys of
//! `kubelab preview` and of the live panes, laid out in one or two columns.
//! The app needs it to bound scrolling; `ui` draws it.

use super::state::App;
use crate::render::theme;
use crate::wrap;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// The help overlay's layout for `area`: its rectangle, column width, the
/// columns' lines and how far it can scroll.
pub struct HelpLayout {
    pub rect: Rect,
    pub col_w: usize,
    pub columns: Vec<Vec<Line<'static>>>,
    /// Rows of the tallest column that do not fit.
    pub max_scroll: usize,
}

pub fn help_layout(app: &App, area: Rect) -> HelpLayout {
    let s = app.strings;
    let mut keys: Vec<(String, String)> = s
        .keys
        .iter()
        .map(|(k, d)| (k.to_string(), d.to_string()))
        .collect();
    // `kubelab preview` keys first, so they show even on small screens.
    keys.splice(0..0, super::preview::help_keys(app));
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
