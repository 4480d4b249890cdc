//! Keys for an inspector pane that alone fills the pane area (the shell
//! hidden behind it): they scroll it and never reach the hidden shell.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does to the inspector on show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectorKey {
    /// Scroll by this many rows (positive: further down).
    Scroll(isize),
    /// Give focus back to the lesson.
    Leave,
    /// Nothing (and in particular: not typed into the hidden shell).
    Ignore,
}

/// Maps a key to its effect, `page` rows per PgUp/PgDn, as the lesson view
/// does (j/k, arrows, PgUp/PgDn, Space/b, g/G, Home/End).
pub fn inspector_key(key: &KeyEvent, page: u16) -> InspectorKey {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return InspectorKey::Ignore;
    }
    let page = page.max(1) as isize;
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => InspectorKey::Scroll(1),
        KeyCode::Char('k') | KeyCode::Up => InspectorKey::Scroll(-1),
        KeyCode::PageDown | KeyCode::Char(' ') => InspectorKey::Scroll(page),
        KeyCode::PageUp | KeyCode::Char('b') => InspectorKey::Scroll(-page),
        KeyCode::Char('g') | KeyCode::Home => InspectorKey::Scroll(isize::MIN / 2),
        KeyCode::Char('G') | KeyCode::End => InspectorKey::Scroll(isize::MAX / 2),
        KeyCode::Esc => InspectorKey::Leave,
        _ => InspectorKey::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn reading_keys_scroll_and_typing_goes_nowhere() {
        assert_eq!(
            inspector_key(&k(KeyCode::Char('j')), 8),
            InspectorKey::Scroll(1)
        );
        assert_eq!(inspector_key(&k(KeyCode::Up), 8), InspectorKey::Scroll(-1));
        assert_eq!(
            inspector_key(&k(KeyCode::PageDown), 8),
            InspectorKey::Scroll(8)
        );
        assert_eq!(
            inspector_key(&k(KeyCode::PageUp), 8),
            InspectorKey::Scroll(-8)
        );
        assert_eq!(inspector_key(&k(KeyCode::Esc), 8), InspectorKey::Leave);
        for c in ['l', 's', 'x', 'r', 'm'] {
            assert_eq!(inspector_key(&k(KeyCode::Char(c)), 8), InspectorKey::Ignore);
        }
        assert_eq!(inspector_key(&k(KeyCode::Enter), 8), InspectorKey::Ignore);
    }
}
