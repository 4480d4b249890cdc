//! `kubelab pod exec -it`: the user's terminal relayed to a PTY in the
//! container. The node hands the PTY's master end over its socket
//! (`kubelab_node::api::exec_tty`); this side puts the terminal in raw mode
//! (restored on every way out: return, error, panic — and by the
//! `terminal_guard` watchdog if this process is killed), copies keystrokes
//! in and output out, passes window size changes on, and returns the
//! command's exit code.
//!
//! The container's output reaches the terminal unfiltered, escape sequences
//! included: that is what an interactive terminal is for (`kubectl exec
//! -it`, `docker exec -it` do the same), and the user asked for it with
//! `-t`. Everything else from the node (errors) is sanitized.

use kubelab_node::api::exec_tty::attach;
use kubelab_node::api::Request;
use rustix::termios::Winsize;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// Raw mode while it lives.
struct RawTerminal;

impl RawTerminal {
    fn enable() -> anyhow::Result<RawTerminal> {
        crate::terminal_guard::start();
        if let Err(e) = crossterm::terminal::enable_raw_mode() {
            crate::terminal_guard::stand_down();
            anyhow::bail!("cannot put the terminal in raw mode: {e}");
        }
        Ok(RawTerminal)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        crate::terminal_guard::stand_down();
    }
}

fn window_size() -> (u16, u16) {
    // crossterm gives (columns, rows).
    crossterm::terminal::size()
        .map(|(c, r)| (r, c))
        .unwrap_or((24, 80))
}

fn set_size(master: &impl AsFd, (rows, cols): (u16, u16)) {
    let ws = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let _ = rustix::termios::tcsetwinsize(master, ws);
}

pub fn run(
    state: &Path,
    namespace: String,
    name: String,
    container: Option<String>,
    argv: Vec<String>,
) -> anyhow::Result<i32> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "exec -it needs a terminal on stdin and stdout; without one, drop -it (`kubelab pod exec NAME -- CMD`)"
        );
    }
    let (rows, cols) = window_size();
    let req = Request::ExecTty {
        name,
        namespace,
        container,
        argv,
        rows,
        cols,
    };
    let session =
        attach(state, &req).map_err(|e| anyhow::anyhow!("{}", crate::sanitize::text(&e)))?;
    let raw = RawTerminal::enable()?;
    relay(&session.master)?;
    drop(raw);
    let code = session
        .exit_code()
        .map_err(|e| anyhow::anyhow!("{}", crate::sanitize::text(&e)))?;
    Ok(code.clamp(0, 255))
}

/// Keystrokes in and window sizes on (threads that end with the process),
/// output out until the PTY ends.
fn relay(master: &OwnedFd) -> anyhow::Result<()> {
    let mut input = std::fs::File::from(master.try_clone()?);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdin.read(&mut buf) {
            if input.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let sizer = master.try_clone()?;
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGWINCH])?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            set_size(&sizer, window_size());
        }
    });
    let mut output = std::fs::File::from(master.try_clone()?);
    let mut stdout = std::io::stdout().lock();
    let mut buf = [0u8; 8192];
    // EIO (or 0) once the command and everything holding its terminal ended.
    while let Ok(n @ 1..) = output.read(&mut buf) {
        if stdout
            .write_all(&buf[..n])
            .and_then(|_| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    handle.close();
    Ok(())
}
