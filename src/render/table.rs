//! GFM tables with columns measured in display width, so Chinese cells line
//! up. Too-wide tables shrink their widest columns and wrap cell text.

use super::{inline, theme};
use crate::doc::ir::{Align, Inline};
use crate::wrap::{self, Piece};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

pub(super) fn render(
    align: &[Align],
    header: &[Vec<Inline>],
    rows: &[Vec<Vec<Inline>>],
    width: usize,
    links: &mut Vec<String>,
) -> Vec<Line<'static>> {
    let ncols = header
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    if ncols == 0 {
        return Vec::new();
    }
    let cell =
        |row: &[Vec<Inline>], c: usize, style: Style, links: &mut Vec<String>| -> Vec<Piece> {
            row.get(c)
                .map(|i| inline::pieces(i, style, links))
                .unwrap_or_default()
        };
    let mut grid: Vec<Vec<Vec<Piece>>> = Vec::new();
    grid.push(
        (0..ncols)
            .map(|c| cell(header, c, theme::TABLE_HEADER, links))
            .collect(),
    );
    for r in rows {
        grid.push(
            (0..ncols)
                .map(|c| cell(r, c, Style::new(), links))
                .collect(),
        );
    }
    let natural: Vec<usize> = (0..ncols)
        .map(|c| {
            grid.iter()
                .map(|r| r[c].iter().map(|p| wrap::width(&p.text)).sum::<usize>())
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    // Borders: "│ " before each column, " │" after the last, " │ " between.
    let chrome = 3 * ncols + 1;
    let avail = width.saturating_sub(chrome).max(ncols * 2);
    // The narrowest a column gets before words break: its longest Latin
    // word (CJK text may break between any two characters).
    let min: Vec<usize> = (0..ncols)
        .map(|c| {
            grid.iter()
                .map(|r| wrap::min_width(&r[c]))
                .max()
                .unwrap_or(1)
                .max(1)
        })
        .collect();
    let mut widths = natural.clone();
    // First shrink the widest column that is still above its minimum...
    while widths.iter().sum::<usize>() > avail {
        let Some((i, _)) = widths
            .iter()
            .enumerate()
            .filter(|(c, w)| **w > min[*c])
            .max_by_key(|(_, w)| **w)
        else {
            break;
        };
        widths[i] -= 1;
    }
    // ...and only when that is not enough, break words too.
    while widths.iter().sum::<usize>() > avail {
        let (i, &m) = widths
            .iter()
            .enumerate()
            .max_by_key(|(_, w)| **w)
            .unwrap_or((0, &0));
        if m <= 2 {
            break;
        }
        widths[i] = m - 1;
    }
    let border = |l: &str, m: &str, r: &str| -> Line<'static> {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        Line::styled(format!("{l}{}{r}", parts.join(m)), theme::TABLE_BORDER)
    };
    let mut out = vec![border("┌", "┬", "┐")];
    for (ri, row) in grid.iter().enumerate() {
        let wrapped: Vec<Vec<Vec<Piece>>> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| wrap::wrap(cell, w))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut spans = vec![Span::styled("│ ", theme::TABLE_BORDER)];
            for (c, cell_lines) in wrapped.iter().enumerate() {
                let pieces = cell_lines.get(k).cloned().unwrap_or_default();
                let used: usize = pieces.iter().map(|p| wrap::width(&p.text)).sum();
                let pad = widths[c].saturating_sub(used);
                let (left, right) = match align.get(c).copied().unwrap_or(Align::None) {
                    Align::Right => (pad, 0),
                    Align::Center => (pad / 2, pad - pad / 2),
                    Align::Left | Align::None => (0, pad),
                };
                spans.push(Span::raw(" ".repeat(left)));
                spans.extend(pieces.into_iter().map(|p| Span::styled(p.text, p.style)));
                spans.push(Span::raw(" ".repeat(right)));
                let sep = if c + 1 == ncols { " │" } else { " │ " };
                spans.push(Span::styled(sep, theme::TABLE_BORDER));
            }
            out.push(Line::from(spans));
        }
        if ri == 0 {
            out.push(border("├", "┼", "┤"));
        }
    }
    out.push(border("└", "┴", "┘"));
    out
}
