//! What the app should do. Keys and mouse events are mapped to actions by
//! [`super::keymap`]; only [`super::update::update`] changes state.

use crossterm::event::KeyEvent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    Suspend,
    ToggleHelp,
    /// Scroll the help overlay by this many rows (+ = down).
    HelpScroll(isize),
    OpenSearch,
    CloseOverlay,
    SearchInput(char),
    SearchBackspace,
    SearchMove(isize),
    /// Open the selected hit (or the given one, from a click).
    SearchJump(Option<usize>),
    FocusNext,
    FocusPrev,
    SetFocus(super::state::Focus),
    OutlineMove(isize),
    OutlineTo(usize),
    /// Open the outline entry under the cursor.
    OpenSelected,
    OpenEntry(usize),
    NextLesson,
    PrevLesson,
    Scroll(isize),
    /// Scroll by pages (negative: up).
    Page(isize),
    ScrollTop,
    ScrollBottom,
    /// Move focus to the next/previous interactive block.
    FocusBlock(isize),
    FocusBlockIndex(usize),
    /// Enter on the focused block: run / reveal / toggle hint.
    Activate,
    /// Answer the focused quiz with choice n (0-based).
    Answer(usize),
    /// Mouse wheel over the panes: scroll the shell's history (+ = older).
    PaneScroll(isize),
    /// `R`: ask whether to reset the lesson's sandboxes.
    ResetLab,
    /// The answer to [`Action::ResetLab`]: `true` resets (fresh sandboxes,
    /// panes side), `false` keeps them.
    ResetAnswer(bool),
    /// `o` / `O`: move to the next / previous link of the lesson (its
    /// reference line scrolled into view, its URL in the status line).
    NextLink(isize),
    /// `t`: show / hide the outline column on wide terminals.
    ToggleOutline,
    /// `y`: copy the focused run block to the clipboard (OSC 52).
    CopyBlock,
    /// Typed into the pane area while it has focus.
    PaneKey(KeyEvent),
    Resize(u16, u16),
    /// Something changed outside the state (highlighter, panes): redraw.
    Redraw,
    /// `kubelab preview`: swap in the re-loaded lessons.
    Reload(super::preview_state::Reloaded),
    /// `kubelab preview`: error page ↔ last good version of the lesson.
    PreviewToggle,
}
