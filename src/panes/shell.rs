//! The shell pane: an interactive program in a PTY drawn with tui-term.
//!
//! Lifecycle: `Idle` → `start()` → `Starting` (the spawner runs on a helper
//! thread, the pane says "starting…") → `Live(Session)`; when the program
//! exits the pane shows "exited (code N) — press Enter to restart".

use super::keys;
use super::pty::{PtySize, Spawned};
use super::session::{Notify, Session, SessionState};
use super::text::{fill, text, PaneText};
use crate::course::model::Lang;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tui_term::widget::{Cursor, PseudoTerminal};

/// Starts the program for a shell pane (a sandbox shell, or a host shell in
/// tests). Runs on a helper thread, never on the UI task.
pub type Spawner = Arc<dyn Fn(PtySize) -> io::Result<Spawned> + Send + Sync>;

/// What a key did when the shell pane had focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    /// The key went to the shell (or scrolled, or restarted it).
    Consumed,
    /// The release key: the app should move focus back to the lesson.
    Release,
}

enum Phase {
    Idle,
    Starting,
    Live(Session),
    Failed(String),
}

/// One shell pane and its (possibly not yet started) session.
pub struct ShellPane {
    title: String,
    spawner: Spawner,
    notify: Notify,
    phase: Phase,
    started: Arc<Mutex<Pending>>,
    size: PtySize,
    /// Input typed before the shell was up (e.g. a run block pressed while
    /// "starting…"); sent as soon as it is live.
    pending_input: Vec<u8>,
    scroll: usize,
    enter_at: Option<Instant>,
    /// A run block's lines not typed yet: each goes in once the one before
    /// has finished ([`ShellPane::feed`]).
    queued: VecDeque<String>,
    typing: Option<Typing>,
    text: &'static PaneText,
}

/// Where typing a run block's lines stands.
struct Typing {
    /// The foreground process group that reads commands (the shell at its
    /// prompt, or one the block started, such as `unshare … sh`).
    reader: Option<i32>,
    sent_at: Instant,
}

/// After a line, the next waits until the command reader is in the
/// foreground again and the output has been quiet this long…
const LINE_QUIET: Duration = Duration::from_millis(100);
/// …or, when another program holds the terminal (a shell the block
/// started, which the next lines are for), quiet this long.
const OTHER_READER_QUIET: Duration = Duration::from_millis(1000);

impl ShellPane {
    pub fn new(title: impl Into<String>, spawner: Spawner, notify: Notify) -> ShellPane {
        ShellPane {
            title: title.into(),
            spawner,
            notify,
            phase: Phase::Idle,
            started: Arc::default(),
            size: PtySize::clamped(24, 80),
            pending_input: Vec::new(),
            scroll: 0,
            enter_at: None,
            queued: VecDeque::new(),
            typing: None,
            text: text(Lang::En),
        }
    }

    /// Draws its notes in the language of `t` (English by default).
    pub fn set_text(&mut self, t: &'static PaneText) {
        self.text = t;
    }

    /// Starts the program in the background unless it is already starting or live.
    pub fn start(&mut self) {
        if matches!(self.phase, Phase::Starting) {
            return;
        }
        if let Phase::Live(s) = &self.phase {
            if s.state() == SessionState::Running {
                return;
            }
        }
        self.phase = Phase::Starting;
        self.scroll = 0;
        let slot: Arc<Mutex<Pending>> = Arc::default();
        self.started = slot.clone();
        let (spawner, notify, size) = (self.spawner.clone(), self.notify.clone(), self.size);
        let spawned = std::thread::Builder::new()
            .name("shell-start".into())
            .spawn(move || {
                let r = spawner(size);
                slot.lock().unwrap_or_else(|e| e.into_inner()).0 = Some(r);
                notify();
            });
        if let Err(e) = spawned {
            self.phase = Phase::Failed(format!("cannot start a thread: {e}"));
        }
    }

    /// Stops the program (the session's drop kills it).
    pub fn stop(&mut self) {
        self.phase = Phase::Idle;
        self.started = Arc::default();
        self.pending_input.clear();
        self.queued.clear();
        self.typing = None;
    }

    /// Picks up a finished start. Call on every event; returns true when the
    /// pane needs a redraw (new output, state change).
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        if matches!(self.phase, Phase::Starting) {
            let done = self
                .started
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .0
                .take();
            match done {
                Some(Ok(spawned)) => {
                    self.phase = match Session::start(spawned, self.size, self.notify.clone()) {
                        Ok(s) => {
                            if !self.pending_input.is_empty() {
                                s.write(std::mem::take(&mut self.pending_input));
                            }
                            Phase::Live(s)
                        }
                        Err(e) => Phase::Failed(e.to_string()),
                    };
                    changed = true;
                }
                Some(Err(e)) => {
                    self.phase = Phase::Failed(e.to_string());
                    changed = true;
                }
                None => {}
            }
        }
        self.feed(Instant::now());
        if let Phase::Live(s) = &self.phase {
            changed |= s.take_dirty();
        }
        changed
    }

    /// Types the next queued line of a run block when the line before has
    /// been taken care of: the command reader back in the foreground (the
    /// command ended) and the output quiet. Typing all lines at once left
    /// the later ones in the terminal's input, where a command that reads
    /// its standard input (`runc exec`, `ssh`) swallowed them.
    fn feed(&mut self, now: Instant) {
        let Phase::Live(s) = &self.phase else {
            return;
        };
        if s.state() != SessionState::Running {
            self.queued.clear();
            self.typing = None;
            return;
        }
        let Some(line) = self.queued.front() else {
            self.typing = None;
            return;
        };
        let fg = s.foreground();
        let ready = match &mut self.typing {
            None => {
                self.typing = Some(Typing {
                    reader: fg,
                    sent_at: now,
                });
                true
            }
            Some(t) => {
                let quiet_since = s.last_output().unwrap_or(t.sent_at).max(t.sent_at);
                let quiet = now.saturating_duration_since(quiet_since);
                if fg.is_some() && fg == t.reader {
                    quiet >= LINE_QUIET
                } else if quiet >= OTHER_READER_QUIET {
                    t.reader = fg; // the next lines are for it
                    true
                } else {
                    false
                }
            }
        };
        if !ready {
            return;
        }
        let bytes = keys::typed(line);
        s.write(bytes);
        self.queued.pop_front();
        if let Some(t) = &mut self.typing {
            t.sent_at = now;
        }
        self.enter_at = Some(now);
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn session(&self) -> Option<&Session> {
        match &self.phase {
            Phase::Live(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_starting(&self) -> bool {
        matches!(self.phase, Phase::Starting)
    }

    /// The exit code once the program has exited.
    pub fn exit_code(&self) -> Option<i32> {
        match self.session()?.state() {
            SessionState::Exited(c) => Some(c),
            _ => None,
        }
    }

    fn running(&self) -> Option<&Session> {
        self.session()
            .filter(|s| s.state() == SessionState::Running)
    }

    /// Handles a key while the pane has focus.
    pub fn handle_key(&mut self, key: &KeyEvent) -> KeyOutcome {
        if keys::is_release(key) {
            return KeyOutcome::Release;
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::PageUp if shift => {
                self.scroll_by(self.size.rows as isize / 2);
                return KeyOutcome::Consumed;
            }
            KeyCode::PageDown if shift => {
                self.scroll_by(-(self.size.rows as isize / 2));
                return KeyOutcome::Consumed;
            }
            _ => {}
        }
        if self.running().is_none() {
            // Exited or failed: Enter restarts, other keys do nothing.
            if key.code == KeyCode::Enter && !self.is_starting() {
                self.start();
            }
            return KeyOutcome::Consumed;
        }
        let app_cursor = self
            .running()
            .map(|s| s.parser().screen().application_cursor())
            .unwrap_or(false);
        if let Some(bytes) = keys::encode(key, app_cursor) {
            // The learner takes over: a run block's lines not typed yet
            // are dropped (Ctrl-C stops a block as it stops a command).
            self.queued.clear();
            self.typing = None;
            if key.code == KeyCode::Enter {
                self.enter_at = Some(Instant::now());
            }
            self.send(bytes);
        }
        KeyOutcome::Consumed
    }

    /// Pasted text (bracketed if the program asked for it).
    pub fn paste(&mut self, text: &str) {
        let bracketed = self
            .running()
            .map(|s| s.parser().screen().bracketed_paste())
            .unwrap_or(false);
        let mut bytes = Vec::new();
        if bracketed {
            bytes.extend_from_slice(b"\x1b[200~");
        }
        bytes.extend_from_slice(text.as_bytes());
        if bracketed {
            bytes.extend_from_slice(b"\x1b[201~");
        }
        self.send(bytes);
    }

    /// Types text as the learner would (a run block): each line ends with
    /// Enter. Starts the shell first if needed.
    /// The lines go in one at a time, each once the one before has
    /// finished ([`ShellPane::feed`]), as a learner would type them.
    pub fn type_text(&mut self, text: &str) {
        if self.running().is_none() && !self.is_starting() {
            self.start();
        }
        self.scroll = 0;
        self.queued.extend(text.lines().map(|l| format!("{l}\n")));
        self.enter_at = Some(Instant::now());
        self.feed(Instant::now());
    }

    /// Whether a run block is still being typed.
    pub fn typing(&self) -> bool {
        !self.queued.is_empty()
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.scroll = 0;
        match &self.phase {
            Phase::Live(s) => {
                s.parser().screen_mut().set_scrollback(0);
                s.write(bytes);
            }
            Phase::Starting => self.pending_input.extend(bytes),
            _ => {}
        }
    }

    /// Scrolls the view into the scrollback (positive = older lines).
    pub fn scroll_by(&mut self, lines: isize) {
        if let Phase::Live(s) = &self.phase {
            let mut p = s.parser();
            let want = (self.scroll as isize + lines).max(0) as usize;
            p.screen_mut().set_scrollback(want);
            // vt100 clamps to what it has; remember the real offset.
            self.scroll = p.screen().scrollback();
        }
    }

    pub fn scroll_offset(&self) -> usize {
        self.scroll
    }

    /// True once per command: the learner pressed Enter (or a run block was
    /// typed) and the output has since been quiet for `quiet`. The lab uses
    /// it to re-run checks after each command.
    pub fn command_settled(&mut self, now: Instant, quiet: Duration) -> bool {
        let Some(at) = self.enter_at else {
            return false;
        };
        if self.typing() {
            return false; // the block's last line has not gone in yet
        }
        let last = self.session().and_then(Session::last_output).unwrap_or(at);
        let since = last.max(at);
        if now.saturating_duration_since(since) >= quiet {
            self.enter_at = None;
            return true;
        }
        false
    }

    /// The size the PTY gets for a pane drawn in `area` (inside the border).
    pub fn inner(area: Rect) -> Rect {
        Block::default().borders(Borders::ALL).inner(area)
    }

    /// Makes the PTY follow the pane: call with the pane's rectangle whenever
    /// the layout changes (drawing does it too).
    pub fn resize_to(&mut self, area: Rect) {
        let inner = Self::inner(area);
        self.size = PtySize::clamped(inner.height, inner.width);
        if let Some(s) = self.session() {
            s.resize(self.size.rows, self.size.cols);
        }
    }

    /// The screen text (tests, checks of the pane's own output).
    pub fn screen_text(&self) -> String {
        self.session().map(Session::screen_text).unwrap_or_default()
    }

    /// Draws the pane. The PTY is resized to follow `area` (a no-op when
    /// unchanged): the one piece of state drawing touches, so the program
    /// always sees the size it is shown at.
    pub fn render(&self, area: Rect, buf: &mut Buffer, focused: bool) {
        let border = if focused {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default().fg(Color::DarkGray)
        };
        let t = self.text;
        let mut title = format!(" {} ", self.title);
        if focused {
            title.push_str(t.f6_leaves);
        }
        if self.scroll > 0 {
            title.push_str(&fill(t.scrolled, &[("n", &self.scroll)]));
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(border)
            .title(title);
        let inner = block.inner(area);
        match &self.phase {
            Phase::Live(s) => {
                s.resize(inner.height, inner.width);
                let parser = s.parser();
                let cursor = if focused && self.scroll == 0 {
                    Cursor::default()
                } else {
                    Cursor::default().visibility(false)
                };
                PseudoTerminal::new(parser.screen())
                    .block(block)
                    .cursor(cursor)
                    .render(area, buf);
                drop(parser);
                let note = match s.state() {
                    SessionState::Running => None,
                    SessionState::Exited(code) => Some(fill(t.exited, &[("code", &code)])),
                    SessionState::Failed(e) => Some(fill(t.terminal_error, &[("e", &e)])),
                };
                if let Some(note) = note {
                    status_line(inner, buf, &note, Color::Yellow);
                }
            }
            Phase::Idle => {
                block.render(area, buf);
                status_line(inner, buf, t.press_enter_to_start, Color::DarkGray);
            }
            Phase::Starting => {
                block.render(area, buf);
                status_line(inner, buf, t.starting, Color::DarkGray);
            }
            Phase::Failed(e) => {
                block.render(area, buf);
                let msg = fill(t.cannot_start, &[("e", &e)]);
                Paragraph::new(msg)
                    .style(Style::default().fg(Color::Red))
                    .wrap(ratatui::widgets::Wrap { trim: true })
                    .render(inner, buf);
            }
        }
    }
}

/// A start's result until the pane picks it up. A program started for a
/// pane that was stopped (or restarted) meanwhile is never picked up:
/// dropping the slot kills and reaps it instead of leaking it.
#[derive(Default)]
struct Pending(Option<io::Result<Spawned>>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(Ok(spawned)) = self.0.take() {
            let Spawned { master, mut child } = spawned;
            // The last owner may be the UI task (`stop`): wait elsewhere.
            let _ = std::thread::Builder::new()
                .name("shell-reap".into())
                .spawn(move || {
                    child.killer()();
                    drop(master);
                    let _ = child.wait();
                });
        }
    }
}

/// A note at the bottom of the pane, wrapped to its width (with CJK rules) so
/// "press Enter to restart" is never cut off in a narrow pane.
fn status_line(inner: Rect, buf: &mut Buffer, text: &str, color: Color) {
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let lines = crate::wrap::wrap_str(text, inner.width as usize);
    let n = (lines.len() as u16).min(inner.height);
    let style = Style::default().fg(color).add_modifier(Modifier::BOLD);
    for (i, l) in lines.into_iter().take(n as usize).enumerate() {
        let row = Rect {
            y: inner.y + inner.height - n + i as u16,
            height: 1,
            ..inner
        };
        Line::from(l).style(style).render(row, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::panes::buffer_rows as rows;

    #[test]
    fn a_note_wider_than_the_pane_wraps_at_the_bottom_instead_of_being_cut() {
        let area = Rect::new(0, 0, 20, 5);
        let mut buf = Buffer::empty(area);
        status_line(
            area,
            &mut buf,
            "exited (code 7) — press Enter to restart",
            Color::Yellow,
        );
        let text: String = rows(&buf)
            .concat()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("restart"), "{:?}", rows(&buf));
        assert!(
            rows(&buf)[4].contains("restart"),
            "last row ends the note: {:?}",
            rows(&buf)
        );
    }
}
