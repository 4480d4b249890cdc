//! GFM tables with columns measured in display width, so Chinese cells line
//! up. Column widths come from content (see [`layout`]); a table whose
//! columns cannot all stay readable is shown as records, one block per row.

use super::{inline, theme};
use crate::doc::ir::{Align, Inline};
use crate::wrap::{self, Piece};
use ratatui::style::Style;

/// A laid-out line: pieces keep their links (for OSC 8).
type Row = Vec<Piece>;

/// The narrowest a column gets, even when its text could break narrower
/// (CJK breaks between any two characters): four CJK characters. Below
/// that a description reads one character per line.
const READABLE: usize = 8;

pub(super) fn render(
    align: &[Align],
    header: &[Vec<Inline>],
    rows: &[Vec<Vec<Inline>>],
    width: usize,
    links: &mut Vec<String>,
) -> Vec<Row> {
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
    let text_width = |p: &[Piece]| p.iter().map(|p| wrap::width(&p.text)).sum::<usize>();
    let natural: Vec<usize> = (0..ncols)
        .map(|c| {
            grid.iter()
                .map(|r| text_width(&r[c]))
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    // The longest run the line breaker cannot split (a Latin word, a URL;
    // CJK breaks anywhere), but never below READABLE unless the column's
    // whole text is narrower.
    let min: Vec<usize> = (0..ncols)
        .map(|c| {
            let token = grid
                .iter()
                .map(|r| wrap::min_width(&r[c]))
                .max()
                .unwrap_or(1);
            token.max(natural[c].min(READABLE)).max(1)
        })
        .collect();
    // Borders: "│ " before each column, " │" after the last, " │ " between.
    let chrome = 3 * ncols + 1;
    match layout(&natural, &min, width.saturating_sub(chrome)) {
        Some(widths) => grid_lines(align, &grid, &widths),
        None => records(&grid, width),
    }
}

/// Column widths for `avail` columns of text: every column at least its
/// minimum, at most its natural width, the room between shared in
/// proportion to what each column still wants (as browsers lay out
/// `table-layout: auto`). `None` when the minimums alone do not fit.
pub(super) fn layout(natural: &[usize], min: &[usize], avail: usize) -> Option<Vec<usize>> {
    let min_sum: usize = min.iter().sum();
    if min_sum > avail {
        return None;
    }
    if natural.iter().sum::<usize>() <= avail {
        return Some(natural.to_vec());
    }
    let extra = avail - min_sum;
    let want: Vec<usize> = natural
        .iter()
        .zip(min)
        .map(|(n, m)| n.saturating_sub(*m))
        .collect();
    let want_sum: usize = want.iter().sum::<usize>().max(1);
    let mut widths: Vec<usize> = min
        .iter()
        .zip(&want)
        .map(|(m, w)| m + w * extra / want_sum)
        .collect();
    // Hand out what integer division left, to the columns missing the most.
    let mut left = avail - widths.iter().sum::<usize>();
    while left > 0 {
        let Some(c) = (0..widths.len())
            .filter(|&c| widths[c] < natural[c].max(min[c]))
            .max_by_key(|&c| natural[c] - widths[c])
        else {
            break;
        };
        widths[c] += 1;
        left -= 1;
    }
    Some(widths)
}

fn grid_lines(align: &[Align], grid: &[Vec<Vec<Piece>>], widths: &[usize]) -> Vec<Row> {
    let ncols = widths.len();
    let border = |l: &str, m: &str, r: &str| -> Row {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        vec![Piece::new(
            format!("{l}{}{r}", parts.join(m)),
            theme::TABLE_BORDER,
        )]
    };
    let mut out = vec![border("┌", "┬", "┐")];
    for (ri, row) in grid.iter().enumerate() {
        let wrapped: Vec<Vec<Vec<Piece>>> = row
            .iter()
            .zip(widths)
            .map(|(cell, &w)| wrap::wrap(cell, w))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut spans = vec![Piece::new("│ ", theme::TABLE_BORDER)];
            for (c, cell_lines) in wrapped.iter().enumerate() {
                let pieces = cell_lines.get(k).cloned().unwrap_or_default();
                let used: usize = pieces.iter().map(|p| wrap::width(&p.text)).sum();
                let pad = widths[c].saturating_sub(used);
                let (left, right) = match align.get(c).copied().unwrap_or(Align::None) {
                    Align::Right => (pad, 0),
                    Align::Center => (pad / 2, pad - pad / 2),
                    Align::Left | Align::None => (0, pad),
                };
                spans.push(Piece::new(" ".repeat(left), Style::new()));
                spans.extend(pieces);
                spans.push(Piece::new(" ".repeat(right), Style::new()));
                let sep = if c + 1 == ncols { " │" } else { " │ " };
                spans.push(Piece::new(sep, theme::TABLE_BORDER));
            }
            out.push(spans);
        }
        if ri == 0 {
            out.push(border("├", "┼", "┤"));
        }
    }
    out.push(border("└", "┴", "┘"));
    out
}

/// The stacked layout: each body row becomes a block of `header: value`
/// lines (continuations indented), rows separated by a dim rule.
fn records(grid: &[Vec<Vec<Piece>>], width: usize) -> Vec<Row> {
    const INDENT: &str = "  ";
    let header = &grid[0];
    let inner = width.saturating_sub(INDENT.len()).max(4);
    let rule = || vec![Piece::new("┄".repeat(width), theme::TABLE_BORDER)];
    let mut out = vec![rule()];
    for row in &grid[1..] {
        for (c, value) in row.iter().enumerate() {
            let mut pieces: Vec<Piece> = header[c].clone();
            if !pieces.is_empty() {
                pieces.push(Piece::new(": ", theme::TABLE_HEADER));
            }
            pieces.extend(value.iter().cloned());
            for (k, l) in wrap::wrap(&pieces, inner).into_iter().enumerate() {
                let mut spans = vec![Piece::new(if k == 0 { "" } else { INDENT }, Style::new())];
                spans.extend(l);
                out.push(spans);
            }
        }
        out.push(rule());
    }
    out
}
