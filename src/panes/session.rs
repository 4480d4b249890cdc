//! A live terminal session: the PTY master, a reader thread that feeds a
//! `vt100::Parser`, and a writer thread for keystrokes.
//!
//! Parsing happens on the reader thread, never on the UI task: the UI only
//! locks the parser to draw the visible screen, so a flood (`yes`) costs the
//! UI one bounded render per frame. The reader takes the lock once per read
//! chunk (at most [`CHUNK`] bytes), which keeps every hold short.

use super::pty::{self, PtySize, Spawned};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

/// Bytes read from the PTY per lock of the parser.
pub const CHUNK: usize = 32 * 1024;
/// Lines kept above the visible screen.
pub const SCROLLBACK: usize = 5000;

/// Called from the reader thread when there is something new to draw. It
/// must be cheap and non-blocking (e.g. send on an unbounded channel).
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// What the session is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    Running,
    /// The program exited with this code (128+N for signal N).
    Exited(i32),
    /// Reading the PTY failed in a way that is not a normal exit.
    Failed(String),
}

/// State shared between the reader thread and the UI.
struct Shared {
    parser: Mutex<vt100::Parser>,
    state: Mutex<SessionState>,
    /// Set by the reader when new output arrived, cleared by `take_dirty`; it
    /// coalesces notifications so a flood sends one wake-up per frame, not one
    /// per read. Only the reader sets it, and every false→true edge sends a
    /// wake-up: a `true` set by anyone else would swallow the next output's
    /// wake-up (the blank-prompt-on-launch bug).
    dirty: AtomicBool,
    bytes: AtomicU64,
    last_output: Mutex<Option<Instant>>,
}

/// A running program in a PTY, with its parsed screen.
pub struct Session {
    shared: Arc<Shared>,
    master: OwnedFd,
    input: mpsc::Sender<Vec<u8>>,
    kill: Box<dyn Fn() + Send + Sync>,
    size: Mutex<PtySize>,
}

impl Session {
    /// Starts the reader and writer threads for a spawned PTY program.
    pub fn start(spawned: Spawned, size: PtySize, notify: Notify) -> io::Result<Session> {
        let size = PtySize::clamped(size.rows, size.cols);
        pty::set_size(&spawned.master, size)?;
        let shared = Arc::new(Shared {
            parser: Mutex::new(vt100::Parser::new(size.rows, size.cols, SCROLLBACK)),
            state: Mutex::new(SessionState::Running),
            // The UI redraws when it picks up a new session anyway.
            dirty: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            last_output: Mutex::new(None),
        });
        let reader = File::from(spawned.master.try_clone()?);
        let writer = File::from(spawned.master.try_clone()?);
        let kill = spawned.child.killer();
        let mut child = spawned.child;

        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        thread::Builder::new()
            .name("pty-writer".into())
            .spawn(move || write_loop(writer, rx))?;

        let sh = shared.clone();
        thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let end = read_loop(reader, &sh, &notify);
                // EOF/EIO on the master means the slave side is gone: collect
                // the exit code (this also reaps the child).
                let state = match (end, child.wait()) {
                    (_, Ok(code)) => SessionState::Exited(code),
                    (Err(e), Err(_)) => SessionState::Failed(e.to_string()),
                    (Ok(()), Err(e)) => SessionState::Failed(format!("wait: {e}")),
                };
                *lock(&sh.state) = state;
                sh.dirty.store(true, Ordering::Release);
                // Always: the exit must be drawn even if a wake-up is pending.
                notify();
            })?;

        Ok(Session {
            shared,
            master: spawned.master,
            input: tx,
            kill,
            size: Mutex::new(size),
        })
    }

    /// The terminal's foreground process group (as this process sees PIDs):
    /// the shell's own while it waits for a command, a command's while one
    /// runs in the foreground. `None` if the PTY cannot say.
    pub fn foreground(&self) -> Option<i32> {
        rustix::termios::tcgetpgrp(&self.master)
            .ok()
            .map(|p| p.as_raw_nonzero().get())
    }

    /// Sends bytes to the program (keys, pasted text). Never blocks the caller.
    pub fn write(&self, bytes: impl Into<Vec<u8>>) {
        let _ = self.input.send(bytes.into());
    }

    /// Resizes parser and PTY together (the program gets SIGWINCH).
    /// Takes `&self` so drawing can make the PTY follow the pane's rectangle.
    /// It leaves the dirty flag alone: the caller is drawing (or about to),
    /// and the program's redraw after SIGWINCH wakes the UI through the reader.
    pub fn resize(&self, rows: u16, cols: u16) {
        let size = PtySize::clamped(rows, cols);
        let mut cur = lock(&self.size);
        if size == *cur {
            return;
        }
        *cur = size;
        let mut parser = lock(&self.shared.parser);
        // Shrinking cuts rows off the bottom, where the cursor (the prompt)
        // is: scroll the lines above it into the scrollback first, as a
        // terminal does, so nothing is lost and the cursor line stays.
        let (rows_now, _) = parser.screen().size();
        let (cursor_row, _) = parser.screen().cursor_position();
        if size.rows < rows_now && cursor_row >= size.rows && !parser.screen().alternate_screen() {
            let n = cursor_row - size.rows + 1;
            parser.process(format!("\x1b[{n}S\x1b[{n}A").as_bytes());
        }
        parser.screen_mut().set_size(size.rows, size.cols);
        drop(parser);
        let _ = pty::set_size(&self.master, size);
    }

    pub fn size(&self) -> PtySize {
        *lock(&self.size)
    }

    /// The parser, locked for drawing or inspection. Hold it briefly.
    pub fn parser(&self) -> MutexGuard<'_, vt100::Parser> {
        lock(&self.shared.parser)
    }

    pub fn state(&self) -> SessionState {
        lock(&self.shared.state).clone()
    }

    /// True once since the last call when new output or a state change arrived.
    pub fn take_dirty(&self) -> bool {
        self.shared.dirty.swap(false, Ordering::AcqRel)
    }

    /// Total bytes read from the program so far.
    pub fn bytes_read(&self) -> u64 {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// When the program last printed something.
    pub fn last_output(&self) -> Option<Instant> {
        *lock(&self.shared.last_output)
    }

    /// The visible screen as plain text, rows joined by newlines.
    pub fn screen_text(&self) -> String {
        self.parser().screen().contents()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if *lock(&self.shared.state) == SessionState::Running {
            (self.kill)();
        }
    }
}

fn read_loop(mut reader: File, sh: &Shared, notify: &Notify) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Linux reports a closed slave side as EIO on the master.
            Err(e) if e.raw_os_error() == Some(5) => return Ok(()),
            Err(e) => return Err(e),
        };
        lock(&sh.parser).process(&buf[..n]);
        sh.bytes.fetch_add(n as u64, Ordering::Relaxed);
        *lock(&sh.last_output) = Some(Instant::now());
        if !sh.dirty.swap(true, Ordering::AcqRel) {
            notify();
        }
    }
}

fn write_loop(mut writer: File, rx: mpsc::Receiver<Vec<u8>>) {
    // Ends when the session (the only sender) is dropped or the PTY is gone.
    while let Ok(bytes) = rx.recv() {
        if writer.write_all(&bytes).is_err() {
            return;
        }
    }
}

/// Locks a mutex, ignoring poisoning: a panicked reader thread must not take
/// the UI down with it; the data (a screen) stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
