//! Events → actions, depending on overlay and focus (docs/ARCHITECTURE.md, pattern 4).
//! The help overlay lists these keys (`i18n::Strings::keys`); keep both in step.

use super::action::Action;
use super::event::AppEvent;
use super::state::{App, Focus, Overlay};
use crate::app::layout::{hit, outline_entry_at, search_hit_at, Region};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// Lines scrolled per mouse wheel notch.
const WHEEL: isize = 3;

pub fn map_event(app: &App, ev: &AppEvent) -> Option<Action> {
    match ev {
        AppEvent::Key(k) if k.kind != KeyEventKind::Release => map_key(app, *k),
        AppEvent::Key(_) => None,
        AppEvent::Mouse(m) => map_mouse(app, *m),
        AppEvent::Resize(w, h) => Some(Action::Resize(*w, *h)),
        AppEvent::Terminate | AppEvent::InputClosed => Some(Action::Quit),
        AppEvent::HighlightReady => Some(Action::Redraw),
        AppEvent::Tick | AppEvent::PaneDirty => None,
        AppEvent::Reload(r) => Some(Action::Reload(r.clone())),
    }
}

pub fn map_key(app: &App, k: KeyEvent) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') && app.focus != Focus::Panes {
        return Some(Action::Quit);
    }
    // A pane's question (the trust dialog: y all, s sandboxes only, n no)
    // is answered wherever focus is.
    if app.panes.modal()
        && matches!(
            k.code,
            KeyCode::Char('y' | 'Y' | 's' | 'S' | 'n' | 'N') | KeyCode::Esc
        )
        && !ctrl
    {
        return Some(Action::PaneKey(k));
    }
    // The reset question takes the next key: only `y` resets.
    if app.confirm_reset {
        return Some(Action::ResetAnswer(matches!(
            k.code,
            KeyCode::Char('y' | 'Y')
        )));
    }
    match &app.overlay {
        Overlay::Help => {
            return match k.code {
                KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => Some(Action::CloseOverlay),
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Char('j') | KeyCode::Down => Some(Action::HelpScroll(1)),
                KeyCode::Char('k') | KeyCode::Up => Some(Action::HelpScroll(-1)),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::HelpScroll(10)),
                KeyCode::PageUp | KeyCode::Char('b') => Some(Action::HelpScroll(-10)),
                KeyCode::Char('g') | KeyCode::Home => Some(Action::HelpScroll(isize::MIN / 2)),
                KeyCode::Char('G') | KeyCode::End => Some(Action::HelpScroll(isize::MAX / 2)),
                _ => None,
            }
        }
        Overlay::Search(_) => {
            return match k.code {
                KeyCode::Esc => Some(Action::CloseOverlay),
                KeyCode::Enter => Some(Action::SearchJump(None)),
                KeyCode::Up => Some(Action::SearchMove(-1)),
                KeyCode::Down => Some(Action::SearchMove(1)),
                KeyCode::Char('p') if ctrl => Some(Action::SearchMove(-1)),
                KeyCode::Char('n') if ctrl => Some(Action::SearchMove(1)),
                KeyCode::Backspace => Some(Action::SearchBackspace),
                KeyCode::Char(c) if !ctrl => Some(Action::SearchInput(c)),
                _ => None,
            }
        }
        Overlay::None => {}
    }
    // F7 (next inspector pane) and F8 (next shell: a world's nodes) are
    // not shell keys: they work from any focus.
    if matches!(k.code, KeyCode::F(7) | KeyCode::F(8))
        && app.has_panes()
        && app.focus != Focus::Panes
    {
        return Some(Action::PaneKey(k));
    }
    if app.focus == Focus::Panes {
        if ctrl && k.code == KeyCode::Char('z') && !app.panes.wants_ctrl_z() {
            return Some(Action::Suspend);
        }
        return Some(Action::PaneKey(k));
    }
    if ctrl {
        return match k.code {
            KeyCode::Char('z') => Some(Action::Suspend),
            KeyCode::Char('d') => Some(Action::Page(1)),
            KeyCode::Char('u') => Some(Action::Page(-1)),
            _ => None,
        };
    }
    // Keys that work in every focus.
    let common = match k.code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?') => Some(Action::ToggleHelp),
        KeyCode::Char('/') => Some(Action::OpenSearch),
        KeyCode::Tab => Some(Action::FocusNext),
        KeyCode::BackTab => Some(Action::FocusPrev),
        KeyCode::Char('n') => Some(Action::NextLesson),
        KeyCode::Char('p') => Some(Action::PrevLesson),
        KeyCode::Char('t') => Some(Action::ToggleOutline),
        KeyCode::Char(super::preview::PREVIEW_KEY) if app.preview.is_some() => {
            Some(Action::PreviewToggle)
        }
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match app.focus {
        Focus::Outline => match k.code {
            KeyCode::Char('j') | KeyCode::Down => Some(Action::OutlineMove(1)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::OutlineMove(-1)),
            KeyCode::PageDown => Some(Action::OutlineMove(10)),
            KeyCode::PageUp => Some(Action::OutlineMove(-10)),
            KeyCode::Char('g') | KeyCode::Home => Some(Action::OutlineTo(0)),
            KeyCode::Char('G') | KeyCode::End => {
                Some(Action::OutlineTo(app.lib.entries.len().saturating_sub(1)))
            }
            KeyCode::Enter | KeyCode::Char('l') | KeyCode::Right => Some(Action::OpenSelected),
            KeyCode::Esc => Some(Action::SetFocus(Focus::Lesson)),
            _ => None,
        },
        Focus::Lesson => match k.code {
            KeyCode::Char(c @ 'a'..='d') if quiz_focused(app) => {
                Some(Action::Answer(c as usize - 'a' as usize))
            }
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Scroll(1)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Scroll(-1)),
            KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::Page(1)),
            KeyCode::PageUp | KeyCode::Char('b') => Some(Action::Page(-1)),
            KeyCode::Char('g') | KeyCode::Home => Some(Action::ScrollTop),
            KeyCode::Char('G') | KeyCode::End => Some(Action::ScrollBottom),
            KeyCode::Char(']') => Some(Action::FocusBlock(1)),
            KeyCode::Char('[') => Some(Action::FocusBlock(-1)),
            KeyCode::Enter => Some(Action::Activate),
            KeyCode::Char('R') => Some(Action::ResetLab),
            KeyCode::Char('y') => Some(Action::CopyBlock),
            KeyCode::Char('o') => Some(Action::NextLink(1)),
            KeyCode::Char('O') => Some(Action::NextLink(-1)),
            _ => None,
        },
        Focus::Panes => None,
    }
}

/// `b` pages up, except while a quiz is focused (then it answers "b").
fn quiz_focused(app: &App) -> bool {
    let Some(f) = app.block_focus else {
        return false;
    };
    app.rendered()
        .and_then(|r| r.blocks.iter().find(|b| b.index == f))
        .is_some_and(|b| b.kind == crate::render::InteractiveKind::Quiz)
}

pub fn map_mouse(app: &App, m: MouseEvent) -> Option<Action> {
    let lay = app.layout();
    if let Overlay::Search(s) = &app.overlay {
        if let MouseEventKind::Down(MouseButton::Left) = m.kind {
            return search_hit_at(&lay, s.hits.len(), s.selected, m.column, m.row)
                .map(|i| Action::SearchJump(Some(i)));
        }
        return None;
    }
    if app.overlay != Overlay::None {
        return matches!(m.kind, MouseEventKind::Down(_)).then_some(Action::CloseOverlay);
    }
    let region = hit(&lay, m.column, m.row);
    match (m.kind, region) {
        (MouseEventKind::ScrollDown, Region::Lesson(_)) => Some(Action::Scroll(WHEEL)),
        (MouseEventKind::ScrollUp, Region::Lesson(_)) => Some(Action::Scroll(-WHEEL)),
        (MouseEventKind::ScrollDown, Region::Outline(_)) => Some(Action::OutlineMove(1)),
        (MouseEventKind::ScrollUp, Region::Outline(_)) => Some(Action::OutlineMove(-1)),
        (MouseEventKind::Down(MouseButton::Left), Region::Outline(row)) => {
            outline_entry_at(&app.lib, app.cursor, lay.outline, row).map(Action::OpenEntry)
        }
        (MouseEventKind::Down(MouseButton::Left), Region::Lesson(row)) => {
            let line = app.scroll + usize::from(row);
            match app.rendered().and_then(|r| r.block_at(line)) {
                Some(b) if app.block_focus == Some(b.index) => Some(Action::Activate),
                Some(b) => Some(Action::FocusBlockIndex(b.index)),
                None => Some(Action::SetFocus(Focus::Lesson)),
            }
        }
        (MouseEventKind::ScrollUp, Region::Panes) if app.has_panes() => {
            Some(Action::PaneScroll(WHEEL))
        }
        (MouseEventKind::ScrollDown, Region::Panes) if app.has_panes() => {
            Some(Action::PaneScroll(-WHEEL))
        }
        (MouseEventKind::Down(_), Region::Panes) if app.has_panes() => {
            Some(Action::SetFocus(Focus::Panes))
        }
        _ => None,
    }
}
