//! The seam between the reader and the live panes (issue 4).
//!
//! The reader owns layout, focus and the event loop; the panes side plugs in
//! by implementing [`PaneHost`] and passing it in [`super::AppOptions::panes`].
//! Without one, lessons that declare panes show an empty pane area saying
//! the panes are not available.

use crate::course::model::Lesson;
use crate::doc::ir::RunBlock;
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

/// Live panes beside the lesson text.
///
/// Called on the UI task only; implementations must not block (do PTY and
/// /sys work on their own tasks and wake the loop with
/// [`super::AppEvent::PaneDirty`] through the [`super::EventSender`] they get
/// in [`PaneHost::attach`]).
/// What takes the keys when the pane area has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneFocus {
    /// A shell: every key but F6 goes to it.
    Shell,
    /// An inspector alone on show: keys scroll it.
    Inspector,
    /// Anything else (a question, a message).
    Other,
}

pub trait PaneHost: Send {
    /// Called once before the first frame with a way to wake the UI.
    fn attach(&mut self, _events: super::EventSender) {}
    /// The lesson shown changed (`None`: a draft, error page or no lesson).
    fn lesson_opened(&mut self, _lesson: Option<&Lesson>) {}
    /// `kubelab preview` re-loaded the lesson on screen (same file, new
    /// text): pick up its new checks and re-run them. The default treats it
    /// like opening the lesson again.
    fn lesson_reloaded(&mut self, lesson: &Lesson) {
        self.lesson_opened(Some(lesson));
    }
    /// The lesson view shows source lines `first..=last` of the lesson
    /// file (sent after events that may scroll; may repeat). Only the checks
    /// of the steps there re-run on their own.
    fn visible_lines(&mut self, _first: u32, _last: u32) {}
    /// The source line the learner is reading: the one mid-view, or the
    /// last one on screen once scrolled to the lesson's end (a short last
    /// step never reaches the middle). Its step's `step_panes` choice
    /// comes to the front.
    fn reading_line(&mut self, _line: u32) {}
    /// Enter on a focused ```` ```sh run ```` block: type it into the shell
    /// of `block.sandbox` (or the default one). `Ok` moves focus into the
    /// panes; `Err(msg)` shows `msg` in the status bar (an empty message
    /// means "not available" and shows the standard notice).
    fn run_block(&mut self, _block: &RunBlock) -> Result<(), String> {
        Err(String::new())
    }
    /// A key while the pane area has focus. Return `false` to hand focus
    /// back to the lesson (e.g. the release key).
    fn key(&mut self, _key: KeyEvent) -> bool {
        false
    }
    /// Draws the panes into `area` (the rectangle from [`crate::app::layout`]).
    fn draw(&self, _frame: &mut Frame, _area: Rect, _focused: bool) {}
    /// Called on [`super::AppEvent::PaneDirty`]; returns whether to redraw.
    fn update(&mut self) -> bool {
        true
    }
    /// Whether Ctrl-Z should go to the panes instead of suspending (a shell
    /// with focus wants it as 0x1A).
    fn wants_ctrl_z(&self) -> bool {
        false
    }
    /// Whether the panes hold several shells, F8 showing the next (a lab
    /// world's nodes): then F8 works from any focus, as F7 does.
    fn several_shells(&self) -> bool {
        false
    }
    /// What has the pane focus when the pane area has it (the status bar
    /// lists the keys that work there).
    fn focus_kind(&self) -> PaneFocus {
        PaneFocus::Other
    }
    /// Whether the panes show a question that must be answered first (the
    /// trust dialog): y/n/Esc then go to [`PaneHost::key`] whatever has focus.
    fn modal(&self) -> bool {
        false
    }
    /// Extra (key, description) rows for the `?` help overlay, in the UI
    /// language `lang`.
    fn help_keys(&self, _lang: crate::course::model::Lang) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Called when the app exits: stop sandboxes and children.
    fn shutdown(&mut self) {}
    /// Latest check results of the lesson on screen (check id → status),
    /// read after each [`PaneHost::update`]; passes go into progress.
    fn check_statuses(
        &self,
    ) -> Option<std::collections::HashMap<String, crate::render::CheckStatus>> {
        None
    }
    /// A short note the status bar shows while no message is (a cluster
    /// lab's cluster gone, a permission missing), in the UI language.
    fn status_note(&self, _lang: crate::course::model::Lang) -> Option<String> {
        None
    }
    /// Mouse wheel over the pane area (+ = back into the shell's history).
    fn scroll(&mut self, _lines: isize) {}
    /// `R` in the lesson: replace the lesson's sandboxes with fresh ones.
    /// `Ok`/`Err` hold the status-bar message (`Err("")`: not available).
    fn reset(&mut self) -> Result<String, String> {
        Err(String::new())
    }
    /// `y` on a run block: put `text` on the clipboard (OSC 52); the
    /// message as for [`PaneHost::reset`].
    fn copy(&mut self, _text: &str) -> Result<String, String> {
        Err(String::new())
    }
    /// True when a real implementation is plugged in.
    fn available(&self) -> bool {
        true
    }
}

/// The stand-in used when no panes are plugged in.
#[derive(Debug, Default)]
pub struct NoPanes;

impl PaneHost for NoPanes {
    fn available(&self) -> bool {
        false
    }
}
