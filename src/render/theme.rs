//! Colours and text styles of the reader. Named by role so a palette change
//! is one edit; the 16 ANSI colours follow the user's terminal theme.

use crate::doc::ir::Alert;
use crate::i18n::Strings;
use ratatui::style::{Color, Modifier, Style};

pub const H1: Style = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);
pub const H2: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const H3: Style = Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD);
pub const INLINE_CODE: Style = Style::new().fg(Color::Yellow);
pub const LINK: Style = Style::new()
    .fg(Color::Blue)
    .add_modifier(Modifier::UNDERLINED);
pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const CODE_BAR: Style = Style::new().fg(Color::DarkGray);
pub const CODE_TEXT: Style = Style::new();
/// The "↪" of a wrapped code line and the "›" of a clipped diagram line.
pub const CODE_CUT: Style = Style::new().fg(Color::DarkGray);
pub const RUN: Style = Style::new().fg(Color::Green);
pub const CHECK: Style = Style::new().fg(Color::Cyan);
pub const SOLUTION: Style = Style::new().fg(Color::Yellow);
pub const QUIZ: Style = Style::new().fg(Color::Magenta);
pub const PASS: Style = Style::new().fg(Color::Green);
pub const FAIL: Style = Style::new().fg(Color::Red);
pub const TABLE_BORDER: Style = Style::new().fg(Color::DarkGray);
pub const TABLE_HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
pub const FOCUS_GUTTER: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
pub const SEARCH_HIT: Style = Style::new().fg(Color::Black).bg(Color::Yellow);
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
pub const DRAFT: Style = Style::new().fg(Color::DarkGray);
pub const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const BORDER_FOCUSED: Style = Style::new().fg(Color::Cyan);
pub const BORDER: Style = Style::new().fg(Color::DarkGray);
pub const STATUS: Style = Style::new().fg(Color::Black).bg(Color::Gray);

/// Colour, icon and label of a GFM alert, the label in the UI language.
pub fn alert(alert: Alert, s: &Strings) -> (Style, &'static str, &'static str) {
    match alert {
        Alert::Note => (Style::new().fg(Color::Blue), "ℹ", s.alerts[0]),
        Alert::Tip => (Style::new().fg(Color::Green), "✦", s.alerts[1]),
        Alert::Important => (Style::new().fg(Color::Magenta), "!", s.alerts[2]),
        Alert::Warning => (Style::new().fg(Color::Yellow), "⚠", s.alerts[3]),
        Alert::Caution => (Style::new().fg(Color::Red), "⛔", s.alerts[4]),
    }
}
