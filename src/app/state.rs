//! Application state. Only [`super::update::update`] mutates it; the UI
//! reads it.

use super::hooks::{NoPanes, PaneHost};
use super::library::{Content, Hit, Library};
use crate::app::layout::AppLayout;
use crate::course::model::Lang;
use crate::i18n::{strings, Strings};
use crate::progress::Progress;
use crate::render::CheckStatus;
use crate::render::{render_doc_with, BlockStates, Rendered};
use ratatui::layout::Rect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Outline,
    Lesson,
    /// The live pane area (only when the lesson has panes).
    Panes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchState {
    pub query: String,
    pub hits: Vec<Hit>,
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Search(SearchState),
}

/// Cache key of [`App::rendered`].
type RenderKey = (usize, u16, u64, u64, crate::picture::Mode);

pub struct App {
    pub lib: Library,
    pub ui_lang: Lang,
    pub strings: &'static Strings,
    pub focus: Focus,
    pub overlay: Overlay,
    /// Outline cursor (entry index).
    pub cursor: usize,
    /// Entry shown in the lesson view.
    pub current: usize,
    /// First rendered line shown.
    pub scroll: usize,
    /// Focused interactive block of the current lesson (document order).
    pub block_focus: Option<usize>,
    /// Per entry: revealed solutions, quiz answers, check results.
    pub states: Vec<BlockStates>,
    /// Reading positions, visited lessons, passed checks, quiz answers.
    /// Written to disk by the event loop when [`App::progress_dirty`].
    pub progress: Progress,
    pub progress_dirty: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// One-line message in the status bar until the next key.
    pub message: Option<String>,
    /// Rows the help overlay is scrolled (when it does not fit).
    pub help_scroll: usize,
    /// Source line of the block a search just jumped to (marked in the
    /// gutter until the next key).
    pub search_target: Option<u32>,
    pub quit: bool,
    pub suspend: bool,
    /// `R` was pressed: the next key answers "reset the sandbox?" (y/n).
    pub confirm_reset: bool,
    pub panes: Box<dyn PaneHost>,
    /// `--lock` in force (see [`crate::lock`]).
    pub lock: Option<crate::lock::LockRule>,
    /// Set by `kubelab preview` (see [`super::preview`]).
    pub preview: Option<super::preview_state::PreviewState>,
    /// Emit OSC 8 hyperlinks over link text (a real terminal that is not
    /// `TERM=dumb`/`linux`); off in tests, whose screens compare text.
    pub hyperlinks: bool,
    /// How lesson pictures are shown: alt text (tests, dumb terminals) or
    /// half blocks (set at start-up from the terminal, see
    /// [`crate::picture::Mode::from_env`]).
    pub pictures: crate::picture::Mode,
    /// The link `o`/`O` last moved to (0-based), shown in the status line.
    pub link_focus: Option<usize>,
    /// `t`: the outline column is hidden on wide terminals too.
    pub outline_hidden: bool,
    /// A lesson has been opened (the startup open restores the saved place
    /// instead of saving the unscrolled one).
    pub(crate) shown: bool,
    rendered: Option<(RenderKey, Rendered)>,
}

impl App {
    /// Index of the last open lesson in the outline, when a lock is in force.
    pub fn last_open_index(&self) -> Option<usize> {
        let last = self.lock.as_ref()?.last_open()?;
        self.lib.find(last)
    }

    /// Whether outline entry `i` lies beyond the `--lock`.
    pub fn is_locked(&self, i: usize) -> bool {
        self.last_open_index().is_some_and(|j| i > j)
    }

    pub fn new(lib: Library, ui_lang: Lang, size: (u16, u16)) -> App {
        let n = lib.entries.len();
        let first = lib
            .entries
            .iter()
            .position(|e| !matches!(e.content, Content::Draft))
            .unwrap_or(0);
        let mut app = App {
            lib,
            ui_lang,
            strings: strings(ui_lang),
            focus: Focus::Lesson,
            overlay: Overlay::None,
            cursor: first,
            current: first,
            scroll: 0,
            block_focus: None,
            states: vec![BlockStates::default(); n],
            progress: Progress::default(),
            progress_dirty: false,
            size,
            message: None,
            help_scroll: 0,
            search_target: None,
            quit: false,
            suspend: false,
            confirm_reset: false,
            panes: Box::new(NoPanes),
            lock: None,
            preview: None,
            hyperlinks: false,
            pictures: crate::picture::Mode::AltText,
            link_focus: None,
            outline_hidden: false,
            shown: false,
            rendered: None,
        };
        app.prepare();
        app
    }

    /// Takes over saved progress: quiz answers and passed checks become
    /// block state; positions are used when lessons are opened.
    pub fn apply_progress(&mut self, progress: Progress) {
        for (i, e) in self.lib.entries.iter().enumerate() {
            let (Some(id), Content::Lesson(l)) = (&e.id, &e.content) else {
                continue;
            };
            let Some(lp) = progress.lessons.get(id) else {
                continue;
            };
            let st = &mut self.states[i];
            for q in l.doc.quizzes() {
                if let Some(a) = lp.quizzes.get(&q.id) {
                    st.quiz.insert(q.id.clone(), a.answer);
                }
            }
            for c in l.doc.checks() {
                if let Some(done) = lp.checks.get(&c.id) {
                    st.checks.insert(c.id.clone(), CheckStatus::Pass);
                    st.done_earlier.insert(c.id.clone(), done.completed_at);
                }
            }
            st.generation += 1;
        }
        self.progress = progress;
    }

    /// Sets the status of check `check_id` of entry `entry` (called by the
    /// check runner on the panes side). A pass is recorded in progress.
    pub fn set_check(&mut self, entry: usize, check_id: &str, status: CheckStatus) {
        let Some(st) = self.states.get_mut(entry) else {
            return;
        };
        if st.checks.get(check_id) == Some(&status) {
            return;
        }
        if let (CheckStatus::Unavailable(_), Some(id)) = (&status, &self.lib.entries[entry].id) {
            // Counted as skipped, so the lesson can be completed here.
            if self.progress.skip_check(id, check_id) {
                self.progress_dirty = true;
            }
        }
        if status == CheckStatus::Pass {
            if let Some(id) = self.lib.entries[entry].id.clone() {
                self.progress.complete_check(&id, check_id);
                self.progress_dirty = true;
                if let Some(done) = self.progress.check_done(&id, check_id) {
                    st.done_earlier
                        .insert(check_id.to_string(), done.completed_at);
                }
            }
        }
        st.checks.insert(check_id.to_string(), status);
        st.generation += 1;
        self.prepare();
    }

    /// Whether entry `i` was opened before (now or in an earlier session).
    pub fn visited(&self, i: usize) -> bool {
        self.lib.entries[i]
            .id
            .as_ref()
            .and_then(|id| self.progress.lessons.get(id))
            .is_some_and(|l| l.visited)
    }

    /// Whether the current lesson declares live panes.
    pub fn has_panes(&self) -> bool {
        match self.lib.entries.get(self.current).map(|e| &e.content) {
            Some(Content::Lesson(l)) => !l.front.panes.is_empty(),
            _ => false,
        }
    }

    /// Whether the current lesson is shown in the fallback language.
    pub fn fallback(&self) -> bool {
        self.lib
            .entries
            .get(self.current)
            .is_some_and(|e| e.lang != self.lib.lang && !matches!(e.content, Content::Draft))
    }

    pub fn layout(&self) -> AppLayout {
        crate::app::layout::layout_with(
            Rect::new(0, 0, self.size.0, self.size.1),
            self.has_panes(),
            self.focus == Focus::Outline,
            self.fallback(),
            self.outline_hidden,
        )
    }

    /// The current lesson's rendered lines (after [`App::prepare`]).
    pub fn rendered(&self) -> Option<&Rendered> {
        self.rendered.as_ref().map(|(_, r)| r)
    }

    /// Brings the render cache up to date with size and block state and
    /// clamps the scroll position. Called after every update.
    pub fn prepare(&mut self) {
        let lay = self.layout();
        let width = lay.lesson_text.width;
        let Some(entry) = self.lib.entries.get(self.current) else {
            self.rendered = None;
            return;
        };
        let Content::Lesson(lesson) = &entry.content else {
            self.rendered = None;
            self.scroll = 0;
            return;
        };
        let st = &self.states[self.current];
        let key = (
            self.current,
            width,
            st.generation,
            crate::render::highlight::generation(),
            self.pictures,
        );
        if self.rendered.as_ref().map(|(k, _)| *k) != Some(key) {
            // Keep the reader's place across re-wraps: remember the source
            // line at the top before re-rendering.
            let anchor = self
                .rendered
                .as_ref()
                .filter(|(k, _)| k.0 == self.current && k.1 != width)
                .and_then(|(_, r)| r.src_lines.get(self.scroll).copied());
            let pictures = self
                .pictures
                .draws_pictures()
                .then(|| crate::render::Pictures {
                    lesson: lesson.path.clone(),
                    root: crate::course::files::include_root(&lesson.path, Some(&self.lib.root)),
                });
            let r = render_doc_with(&lesson.doc, width, st, self.strings, pictures.as_ref());
            if let Some(src) = anchor {
                self.scroll = r.line_for_source(src);
            }
            self.rendered = Some((key, r));
        }
        let total = self.rendered().map_or(0, |r| r.lines.len());
        let height = usize::from(lay.lesson_text.height);
        self.scroll = self.scroll.min(total.saturating_sub(height.max(1)));
    }

    /// Whether every code block of the shown lesson is highlighted (or
    /// cannot be: unknown language).
    pub fn highlighted(&self) -> bool {
        match self.lib.entries.get(self.current).map(|e| &e.content) {
            Some(Content::Lesson(l)) => {
                self.rendered
                    .as_ref()
                    .is_some_and(|(k, _)| k.3 == crate::render::highlight::generation())
                    && crate::render::code_blocks(&l.doc)
                        .iter()
                        .all(|(lang, code)| crate::render::highlight::is_done(code, lang))
            }
            _ => true,
        }
    }

    /// Number of text rows in the lesson view.
    pub fn page_height(&self) -> usize {
        usize::from(self.layout().lesson_text.height).max(1)
    }

    /// Source line at the top of the lesson view (for saving the position).
    pub fn top_source_line(&self) -> u32 {
        self.rendered()
            .and_then(|r| r.src_lines.get(self.scroll).copied())
            .unwrap_or(0)
    }
}
