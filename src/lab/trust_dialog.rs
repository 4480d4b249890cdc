//! The trust question in the pane area, while a lesson's lab waits for it:
//! the prompt (scrollable: a course can list many host commands), the
//! answer keys, and after "n" what was declined and what still works.

use super::exposure::CourseExposure;
use super::trust::{self, TrustState};
use crate::course::model::Lesson;
use crate::panes::text::PaneText;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use std::sync::Arc;

/// The question about one lesson's lab.
pub struct TrustDialog {
    pub lesson: Arc<Lesson>,
    /// The learner answered "n": say what was declined, stop being modal.
    declined: bool,
    /// Rows of the prompt scrolled away.
    scroll: u16,
}

/// What a key did to the dialog.
pub enum DialogKey {
    /// The learner allowed the lab (`Trusted` or `SandboxesOnly`).
    Answer(TrustState),
    /// "n"/Esc: the lab stays off; focus may leave the panes.
    Declined,
    /// Any other key: kept by the dialog.
    Kept,
}

impl TrustDialog {
    pub fn new(lesson: Arc<Lesson>) -> TrustDialog {
        TrustDialog {
            lesson,
            declined: false,
            scroll: 0,
        }
    }

    /// Whether the question still waits for an answer.
    pub fn modal(&self) -> bool {
        !self.declined
    }

    /// `host_part`: the course runs something on the host, so `s`
    /// (sandboxes only) is an answer.
    pub fn key(&mut self, key: &KeyEvent, host_part: bool) -> DialogKey {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => DialogKey::Answer(TrustState::Trusted),
            KeyCode::Char('s') | KeyCode::Char('S') if host_part && !self.declined => {
                DialogKey::Answer(TrustState::SandboxesOnly)
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                self.declined = true;
                self.scroll = 0;
                DialogKey::Declined
            }
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(-1),
            KeyCode::PageDown => self.scroll_by(10),
            KeyCode::PageUp => self.scroll_by(-10),
            _ => DialogKey::Kept,
        }
    }

    pub fn scroll_by(&mut self, lines: isize) -> DialogKey {
        let to = (self.scroll as isize + lines).clamp(0, u16::MAX as isize);
        self.scroll = to as u16;
        DialogKey::Kept
    }

    /// Draws the prompt (or, after "n", what was declined) in `area`.
    pub fn render(
        &self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        exposure: &CourseExposure,
        previous: Option<&[String]>,
        t: &PaneText,
    ) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(Style::default().fg(if focused {
                Color::Yellow
            } else {
                Color::DarkGray
            }))
            .title(t.trust_title);
        let inner = block.inner(area);
        block.render(area, buf);
        let lines = if self.declined {
            trust::declined_lines(t)
        } else {
            trust::prompt_lines(&self.lesson, exposure, previous, t)
        };
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((self.scroll, 0))
            .render(inner, buf);
    }
}
