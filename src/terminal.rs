//! The one owner of the real terminal (docs/ARCHITECTURE.md, pattern 2): raw mode,
//! alternate screen, mouse capture and cursor, restored on every way out —
//! normal exit, `Drop`, panic (hook), SIGTERM (the app's loop quits) — and
//! given back while suspended with Ctrl-Z. A death no code of this process
//! sees (kill -9, abort, stack overflow) is left to [`crate::terminal_guard`].

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout, Write};
use std::sync::Once;

pub type Backend = CrosstermBackend<Stdout>;

pub struct Tui {
    pub terminal: Terminal<Backend>,
    active: bool,
}

impl Tui {
    /// Takes over the terminal. Installs the panic hook on first use.
    pub fn enter() -> io::Result<Tui> {
        install_panic_hook();
        // Before raw mode: the guard saves the settings to restore.
        crate::terminal_guard::start();
        let mut tui = Tui {
            terminal: Terminal::new(CrosstermBackend::new(io::stdout()))?,
            active: false,
        };
        tui.start()?;
        Ok(tui)
    }

    fn start(&mut self) -> io::Result<()> {
        terminal::enable_raw_mode()?;
        self.active = true;
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            cursor::Hide
        )?;
        // Not `Terminal::clear`: it queries the cursor position, and after a
        // resume the input task would swallow the reply. `resize` clears and
        // forces a full redraw without asking the terminal anything.
        let size = self.terminal.size()?;
        self.terminal
            .resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
        Ok(())
    }

    /// Gives the terminal back (idempotent).
    pub fn exit(&mut self) -> io::Result<()> {
        if self.active {
            self.active = false;
            restore(&mut io::stdout())?;
        }
        Ok(())
    }

    /// Ctrl-Z: restore the terminal, stop the process like a shell job, and
    /// take the terminal over again when `fg` continues it.
    pub fn suspend(&mut self) -> io::Result<()> {
        self.exit()?;
        signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
        // Execution resumes here after SIGCONT.
        self.start()
    }

    pub fn size(&self) -> io::Result<(u16, u16)> {
        let s = self.terminal.size()?;
        Ok((s.width, s.height))
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.exit();
        crate::terminal_guard::stand_down();
    }
}

/// Writes the escape sequences that undo [`Tui::enter`] to `w` and leaves
/// raw mode. Safe to call when the terminal was never taken over.
pub fn restore(w: &mut impl Write) -> io::Result<()> {
    let raw = terminal::disable_raw_mode();
    execute!(w, DisableMouseCapture, LeaveAlternateScreen, cursor::Show)?;
    w.flush()?;
    raw
}

static HOOK: Once = Once::new();

/// On panic: restore the terminal first, so the message is readable and
/// the shell is usable, then run the previous hook (which prints it), then
/// end the process. A panic on any thread (a PTY reader, a sampler) counts:
/// once the terminal is handed back the TUI cannot go on drawing, and exiting
/// closes every sandbox's lifeline, so their supervisors tear them down.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore(&mut io::stdout());
            crate::terminal_guard::stand_down_from_hook();
            previous(info);
            std::process::exit(101);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_leaves_alternate_screen_and_shows_cursor() {
        let mut out = Vec::new();
        // Not a TTY under `cargo test`: raw mode calls may fail, the escape
        // sequences must still be written.
        let _ = restore(&mut out);
        let s = String::from_utf8_lossy(&out);
        assert!(s.contains("\x1b[?1049l"), "leave alternate screen: {s:?}");
        assert!(s.contains("\x1b[?25h"), "show cursor: {s:?}");
        assert!(s.contains("\x1b[?1000l"), "mouse capture off: {s:?}");
    }
}
