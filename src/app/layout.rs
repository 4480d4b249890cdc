//! The one layout function. Drawing (`ui`), mouse hit-testing (`keymap`)
//! and pane sizes all use it, so what is drawn is what is clicked. It lives
//! in `app`, below `ui`, because the app's state keeps the current layout.
//!
//! ```text
//! ┌Outline──┐┌Lesson title──────────────┐┌Panes─────────┐
//! │ module  ││ (fallback banner)        ││ shell, ...   │
//! │  lesson ││ ▌text                    ││              │
//! └─────────┘└──────────────────────────┘└──────────────┘
//!  status bar
//! ```
//! Below 120 columns the panes go under the lesson text; below 60 columns
//! only one of outline / lesson is shown (the focused one); below
//! [`MIN_WIDTH`] columns the app shows a "too small" screen.

use super::library::Library;
use ratatui::layout::Rect;

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;
/// Columns left of the lesson text: focus marker + space.
pub const GUTTER: u16 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppLayout {
    pub area: Rect,
    pub too_small: bool,
    /// The outline sidebar (with its border); zero-sized when hidden.
    pub outline: Rect,
    /// The lesson view (with its border); zero-sized when hidden.
    pub lesson: Rect,
    /// Where rendered lesson lines go (inside border, banner and gutter).
    pub lesson_text: Rect,
    /// The one-line fallback-language banner, when shown.
    pub banner: Option<Rect>,
    /// The live pane area, `None` when the lesson has no panes. The panes
    /// side splits it further and sizes PTYs from it.
    pub panes: Option<Rect>,
    pub status: Rect,
}

/// Computes every rectangle for a terminal of `area`.
pub fn layout(area: Rect, has_panes: bool, outline_focused: bool, banner: bool) -> AppLayout {
    layout_with(area, has_panes, outline_focused, banner, false)
}

/// [`layout`], with the outline column hidden (`t`) at any width: it then
/// shows only while focused, as on narrow terminals.
pub fn layout_with(
    area: Rect,
    has_panes: bool,
    outline_focused: bool,
    banner: bool,
    outline_hidden: bool,
) -> AppLayout {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return AppLayout {
            area,
            too_small: true,
            ..AppLayout::default()
        };
    }
    let main = Rect {
        height: area.height - 1,
        ..area
    };
    let status = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    let (outline, rest) = if area.width < 60 || outline_hidden {
        if outline_focused {
            (main, Rect::new(main.x + main.width, main.y, 0, main.height))
        } else {
            (Rect::new(main.x, main.y, 0, main.height), main)
        }
    } else {
        let w = (area.width / 4).clamp(20, 30);
        (
            Rect { width: w, ..main },
            Rect::new(main.x + w, main.y, main.width - w, main.height),
        )
    };
    let (lesson, panes) = if !has_panes || rest.width == 0 {
        (rest, None)
    } else if area.width >= 120 {
        let pw = rest.width * 9 / 20;
        (
            Rect {
                width: rest.width - pw,
                ..rest
            },
            Some(Rect::new(rest.x + rest.width - pw, rest.y, pw, rest.height)),
        )
    } else {
        let ph = rest.height * 9 / 20;
        (
            Rect {
                height: rest.height - ph,
                ..rest
            },
            Some(Rect::new(rest.x, rest.y + rest.height - ph, rest.width, ph)),
        )
    };
    let inner = shrink(lesson);
    let banner_rect = (banner && inner.height > 1).then_some(Rect { height: 1, ..inner });
    let top = u16::from(banner_rect.is_some());
    let lesson_text = Rect::new(
        inner.x + GUTTER.min(inner.width),
        inner.y + top,
        inner.width.saturating_sub(GUTTER + 1),
        inner.height.saturating_sub(top),
    );
    AppLayout {
        area,
        too_small: false,
        outline,
        lesson,
        lesson_text,
        banner: banner_rect,
        panes,
        status,
    }
}

/// The inside of a bordered block.
pub fn shrink(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// What is under a screen cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// Row inside the outline's border.
    Outline(u16),
    /// Row of the lesson text area.
    Lesson(u16),
    Panes,
    Status,
    None,
}

fn contains(r: Rect, x: u16, y: u16) -> bool {
    r.width > 0 && x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

pub fn hit(l: &AppLayout, x: u16, y: u16) -> Region {
    if l.too_small {
        return Region::None;
    }
    if l.panes.is_some_and(|p| contains(p, x, y)) {
        return Region::Panes;
    }
    let oi = shrink(l.outline);
    if contains(oi, x, y) {
        return Region::Outline(y - oi.y);
    }
    if contains(l.lesson, x, y) {
        let t = l.lesson_text;
        if y >= t.y && y < t.y + t.height {
            return Region::Lesson(y - t.y);
        }
        return Region::None;
    }
    if contains(l.status, x, y) {
        return Region::Status;
    }
    Region::None
}

/// One row of the outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutlineRow {
    Module(usize),
    Entry(usize),
}

/// Outline rows: each module title followed by its entries.
pub fn outline_rows(lib: &Library) -> Vec<OutlineRow> {
    let mut rows = Vec::with_capacity(lib.entries.len() + lib.modules.len());
    let mut last = None;
    for (i, e) in lib.entries.iter().enumerate() {
        if last != Some(e.module) {
            if lib.modules.get(e.module).is_some_and(|m| m.title.is_some()) {
                rows.push(OutlineRow::Module(e.module));
            }
            last = Some(e.module);
        }
        rows.push(OutlineRow::Entry(i));
    }
    rows
}

/// First outline row shown so that the cursor's row is visible.
pub fn outline_offset(rows: &[OutlineRow], cursor: usize, height: u16) -> usize {
    let h = usize::from(height).max(1);
    let row = rows
        .iter()
        .position(|r| *r == OutlineRow::Entry(cursor))
        .unwrap_or(0);
    // Keep a little context above the cursor when scrolled.
    (row + 3)
        .saturating_sub(h)
        .min(rows.len().saturating_sub(h))
}

/// The entry at inner row `row` of the outline, if that row is an entry.
pub fn outline_entry_at(lib: &Library, cursor: usize, outline: Rect, row: u16) -> Option<usize> {
    let rows = outline_rows(lib);
    let off = outline_offset(&rows, cursor, shrink(outline).height);
    match rows.get(off + usize::from(row)) {
        Some(OutlineRow::Entry(i)) => Some(*i),
        _ => None,
    }
}

/// The search overlay box, its results area, and how many results fit.
pub fn search_box(l: &AppLayout) -> (Rect, Rect) {
    let a = l.area;
    let w = (a.width * 4 / 5).max(MIN_WIDTH.min(a.width)).min(a.width);
    let h = (a.height * 4 / 5).max(6).min(a.height);
    let outer = Rect::new(a.x + (a.width - w) / 2, a.y + (a.height - h) / 2, w, h);
    let inner = shrink(outer);
    // Row 0: the query; row 1: hint; results below.
    let results = Rect::new(
        inner.x,
        inner.y + 2,
        inner.width,
        inner.height.saturating_sub(2),
    );
    (outer, results)
}

/// First search result shown so that the selected one is visible.
pub fn search_offset(selected: usize, height: u16) -> usize {
    (selected + 1).saturating_sub(usize::from(height).max(1))
}

/// The search hit under a click, given the number of hits and the selection.
pub fn search_hit_at(l: &AppLayout, hits: usize, selected: usize, x: u16, y: u16) -> Option<usize> {
    let (_, results) = search_box(l);
    if !contains(results, x, y) {
        return None;
    }
    let i = search_offset(selected, results.height) + usize::from(y - results.y);
    (i < hits).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_by_twenty_four_without_panes() {
        let l = layout(Rect::new(0, 0, 80, 24), false, false, false);
        assert!(!l.too_small);
        assert_eq!(l.outline, Rect::new(0, 0, 20, 23));
        assert_eq!(l.lesson, Rect::new(20, 0, 60, 23));
        assert_eq!(l.lesson_text, Rect::new(23, 1, 55, 21));
        assert_eq!(l.panes, None);
        assert_eq!(l.status, Rect::new(0, 23, 80, 1));
    }

    #[test]
    fn panes_beside_at_120_and_below_at_80() {
        let wide = layout(Rect::new(0, 0, 120, 40), true, false, false);
        let p = wide.panes.expect("panes");
        assert_eq!(p.y, 0);
        assert_eq!(wide.lesson.x + wide.lesson.width, p.x);
        let narrow = layout(Rect::new(0, 0, 80, 24), true, false, false);
        let p = narrow.panes.expect("panes");
        assert_eq!(narrow.lesson.y + narrow.lesson.height, p.y);
        assert_eq!(hit(&narrow, p.x + 1, p.y + 1), Region::Panes);
    }

    #[test]
    fn too_small_and_narrow() {
        assert!(layout(Rect::new(0, 0, 39, 24), false, false, false).too_small);
        let n = layout(Rect::new(0, 0, 50, 20), false, false, true);
        assert_eq!(n.outline.width, 0);
        assert_eq!(n.lesson.width, 50);
        assert!(n.banner.is_some());
        let o = layout(Rect::new(0, 0, 50, 20), false, true, false);
        assert_eq!(o.outline.width, 50);
        assert_eq!(o.lesson.width, 0);
    }

    #[test]
    fn hit_testing_matches_layout() {
        let l = layout(Rect::new(0, 0, 80, 24), false, false, false);
        assert_eq!(hit(&l, 5, 3), Region::Outline(2));
        assert_eq!(hit(&l, 30, 1), Region::Lesson(0));
        assert_eq!(hit(&l, 30, 23), Region::Status);
        assert_eq!(hit(&l, 19, 5), Region::None);
    }
}
