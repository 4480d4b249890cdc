//! The Pod pane as a widget: its sampler, which Pod is selected, the page
//! on show and its scroll. Keys as in the outline and the lesson: j/k (or
//! ↑/↓) select a Pod, Enter (l, →) inspects it, h (←, Backspace) goes back
//! to the list; on the inspector j/k, PgUp/PgDn, g/G scroll.

use super::model::PodKey;
use super::render::{self, Page};
use super::sampler::{PodSampler, PodSource};
use super::text::text;
use crate::course::model::Lang;
use crate::panes::session::Notify;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::cell::Cell;

/// A live Pod pane.
pub struct PodPane {
    sampler: PodSampler,
    selected: Option<PodKey>,
    page: Page,
    /// The inspector's scroll; the drawn value (clamped to its content).
    scroll: Cell<usize>,
    /// Rows inside the pane last drawn (a page for PgUp/PgDn).
    rows: Cell<u16>,
}

impl PodPane {
    pub fn start(source: PodSource, notify: Notify) -> PodPane {
        PodPane {
            sampler: PodSampler::start(source, notify),
            selected: None,
            page: Page::List,
            scroll: Cell::new(0),
            rows: Cell::new(1),
        }
    }

    /// Samples only while shown.
    pub fn set_shown(&self, shown: bool) {
        self.sampler.set_wanted(shown);
    }

    pub fn page(&self) -> Page {
        self.page
    }

    pub fn selected(&self) -> Option<&PodKey> {
        self.selected.as_ref()
    }

    /// Shows the inspector of `key` (the Objects pane's Enter on a Pod).
    pub fn inspect(&mut self, key: PodKey) {
        self.selected = Some(key.clone());
        self.sampler.select(Some(key));
        self.page = Page::Detail;
        self.scroll.set(0);
    }

    fn keys(&self) -> Vec<PodKey> {
        match &self.sampler.data().listing {
            super::model::Listing::Pods { rows, .. } => {
                rows.iter().map(|r| r.key.clone()).collect()
            }
            _ => Vec::new(),
        }
    }

    fn move_selection(&mut self, by: isize) {
        let keys = self.keys();
        if keys.is_empty() {
            return;
        }
        let at = self
            .selected
            .as_ref()
            .and_then(|s| keys.iter().position(|k| k == s));
        let next = match at {
            None => 0,
            Some(i) => (i as isize + by).clamp(0, keys.len() as isize - 1) as usize,
        };
        self.selected = Some(keys[next].clone());
        self.sampler.select(self.selected.clone());
    }

    /// Handles a key; `false` when it is not the pane's (Esc, F-keys…).
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        let page = self.rows.get().max(1) as isize;
        match (self.page, key.code) {
            (Page::List, KeyCode::Char('j') | KeyCode::Down) => self.move_selection(1),
            (Page::List, KeyCode::Char('k') | KeyCode::Up) => self.move_selection(-1),
            (Page::List, KeyCode::Char('g') | KeyCode::Home) => self.move_selection(isize::MIN / 2),
            (Page::List, KeyCode::Char('G') | KeyCode::End) => self.move_selection(isize::MAX / 2),
            (Page::List, KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right) => {
                if self.selected.is_none() {
                    self.move_selection(0);
                }
                if self.selected.is_some() {
                    self.page = Page::Detail;
                    self.scroll.set(0);
                }
            }
            (Page::Detail, KeyCode::Char('h') | KeyCode::Left | KeyCode::Backspace) => {
                self.page = Page::List;
            }
            (Page::Detail, code) => {
                let by = match code {
                    KeyCode::Char('j') | KeyCode::Down => 1,
                    KeyCode::Char('k') | KeyCode::Up => -1,
                    KeyCode::PageDown | KeyCode::Char(' ') => page,
                    KeyCode::PageUp | KeyCode::Char('b') => -page,
                    KeyCode::Char('g') | KeyCode::Home => isize::MIN / 2,
                    KeyCode::Char('G') | KeyCode::End => isize::MAX / 2,
                    _ => return false,
                };
                let at = self.scroll.get() as isize + by;
                self.scroll.set(at.max(0) as usize);
            }
            _ => return false,
        }
        true
    }

    /// Draws the page on show with `title`.
    pub fn render(&self, title: &str, area: Rect, buf: &mut Buffer, focused: bool, lang: Lang) {
        let t = text(lang);
        let w = usize::from(area.width.saturating_sub(2));
        self.rows.set(area.height.saturating_sub(2).max(1));
        let data = self.sampler.data();
        match (self.page, &data.detail) {
            (Page::Detail, Some(d)) => {
                let (head, lines) = render::detail_lines(d, w, t);
                let used =
                    render::draw_lines(head, lines, title, area, buf, focused, self.scroll.get());
                self.scroll.set(used);
            }
            _ => {
                let (head, lines, at) = render::list_lines(&data, self.selected.as_ref(), w, t);
                // The list scrolls to keep the selected row in view.
                let room = usize::from(self.rows.get()).saturating_sub(head).max(1);
                let scroll = at.map_or(0, |i| (i + 1).saturating_sub(head + room));
                render::draw_lines(head, lines, title, area, buf, focused, scroll);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::pods::model::{EventLine, Listing};
    use crate::panes::pods::ClusterPods;
    use k8s_openapi::api::core::v1::Pod;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    struct Two;

    impl ClusterPods for Two {
        fn pods(&self) -> Result<Vec<Pod>, String> {
            Ok(["a", "b"]
                .map(|n| {
                    serde_json::from_value(serde_json::json!({
                        "metadata": {"name": n, "namespace": "ns",
                                     "uid": "99999999-0000-0000-0000-000000000000"},
                        "spec": {"containers": [{"name": "c"}]}
                    }))
                    .unwrap()
                })
                .to_vec())
        }
        fn events(&self, _: &PodKey) -> Vec<EventLine> {
            Vec::new()
        }
    }

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn screen(p: &PodPane) -> String {
        let area = Rect::new(0, 0, 58, 10);
        let mut buf = Buffer::empty(area);
        p.render("Pods", area, &mut buf, true, Lang::En);
        crate::panes::buffer_rows(&buf).join("\n")
    }

    #[test]
    fn select_with_j_k_inspect_with_enter_back_with_h() {
        let mut p = PodPane::start(PodSource::Cluster(Arc::new(Two)), Arc::new(|| {}));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !matches!(p.sampler.data().listing, Listing::Pods { .. }) {
            assert!(Instant::now() < deadline, "never sampled");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(p.key(&k(KeyCode::Char('j'))));
        assert_eq!(p.selected().map(|s| s.name.as_str()), Some("a"));
        assert!(p.key(&k(KeyCode::Down)));
        assert!(p.key(&k(KeyCode::Down)), "stays on the last");
        assert_eq!(p.selected().map(|s| s.name.as_str()), Some("b"));
        assert!(screen(&p).contains("▸ b"), "{}", screen(&p));
        assert!(p.key(&k(KeyCode::Enter)));
        assert_eq!(p.page(), Page::Detail);
        // The detail of b arrives; its UID runs nowhere here.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !screen(&p).contains("Pod runs on another node") {
            assert!(Instant::now() < deadline, "{}", screen(&p));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(p.key(&k(KeyCode::Char('h'))));
        assert_eq!(p.page(), Page::List);
        // Esc and F-keys are the reader's.
        assert!(!p.key(&k(KeyCode::Esc)));
        assert!(!p.key(&k(KeyCode::F(7))));
    }
}
