//! A watchdog for the terminal: a tiny process (this binary, re-executed
//! with [`ARG`]) that outlives the reader only to put the terminal back when
//! the reader dies without doing it — `kill -9`, an abort, a stack overflow —
//! which no code in the dying process can handle.
//!
//! The guard starts before the reader touches the terminal and saves its
//! settings (termios). Then it blocks reading a pipe (its stdin) whose only
//! writer is the reader, at no cost. A reader that restored the terminal
//! itself writes one byte first and the guard exits silently; end of file
//! without that byte means the reader died: the guard leaves the alternate
//! screen, turns mouse reporting off, shows the cursor, restores the saved
//! settings and exits. It never outlives the reader: the pipe closes with
//! the reader's last file descriptor. (A hang-up of the terminal kills it
//! with the reader's process group.)

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// The hidden argument that turns this binary into the guard.
pub const ARG: &str = "__tty-guard";

/// What undoes `Tui::enter`: every mouse mode crossterm enables off, the
/// main screen, the cursor shown.
const RESTORE: &[u8] =
    b"\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?1049l\x1b[?25h\x1b[0m\r\n";

/// The running guard of this process (one at a time).
static GUARD: Mutex<Option<Guard>> = Mutex::new(None);

struct Guard {
    lifeline: ChildStdin,
    child: Child,
}

/// Runs the guard when this process was started as one.
pub fn dispatch() -> Option<i32> {
    if std::env::args_os().nth(1)? != ARG {
        return None;
    }
    Some(guard_main())
}

fn guard_main() -> i32 {
    let tty = io::stdout();
    let saved = rustix::termios::tcgetattr(&tty).ok();
    // Ready: the reader may change the terminal now.
    {
        let mut ready = io::stderr();
        let _ = ready.write_all(b"R");
        let _ = ready.flush();
    }
    let mut byte = [0u8; 1];
    let read = loop {
        match io::stdin().read(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => break r,
        }
    };
    if matches!(read, Ok(1)) {
        return 0; // the reader restored the terminal itself
    }
    let mut out = tty.lock();
    let _ = out.write_all(RESTORE);
    let _ = out.flush();
    // Only while the terminal is still in the reader's raw mode (no signal
    // keys): a shell that took it back since keeps its own settings.
    if let (Some(saved), Ok(now)) = (saved, rustix::termios::tcgetattr(&tty)) {
        if !now.local_modes.contains(rustix::termios::LocalModes::ISIG) {
            let _ = rustix::termios::tcsetattr(&tty, rustix::termios::OptionalActions::Now, &saved);
        }
    }
    0
}

/// Starts the guard for the terminal on stdout (before raw mode). Without
/// one (no executable to re-run, no processes left) the reader runs as
/// before: a guard is a safety net, not a requirement.
pub fn start() {
    let mut slot = GUARD.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let Ok(mut child) = Command::new(exe)
        .arg(ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return;
    };
    // Wait until it saved the settings (one byte, or end of file if it died).
    let mut ready = [0u8; 1];
    let ok = child
        .stderr
        .take()
        .is_some_and(|mut e| matches!(e.read(&mut ready), Ok(1)));
    match (ok, child.stdin.take()) {
        (true, Some(lifeline)) => *slot = Some(Guard { lifeline, child }),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The terminal was restored: the guard exits without touching it.
pub fn stand_down() {
    let guard = GUARD.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut g) = guard {
        let _ = g.lifeline.write_all(b"D");
        drop(g.lifeline);
        let _ = g.child.wait();
    }
}

/// From the panic hook: as [`stand_down`], without blocking on a lock a
/// panicking thread may hold.
pub fn stand_down_from_hook() {
    if let Ok(mut slot) = GUARD.try_lock() {
        if let Some(mut g) = slot.take() {
            let _ = g.lifeline.write_all(b"D");
        }
    }
}
