//! Terminals: a PTY allocated inside a sandbox and made the payload's
//! controlling terminal; and the user's own terminal, for a foreground run
//! with a PTY: its size and raw mode (restored when the guard drops, on
//! every way out).

use rustix::pty::OpenptFlags;
use rustix::termios::{self, OptionalActions, Termios, Winsize};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// Starts a new session (the payload's own, so its terminal can be its
/// controlling one). No allocation: runs between fork and exec.
pub fn setsid() -> io::Result<()> {
    rustix::process::setsid().map(drop).map_err(io::Error::from)
}

/// Makes stdin (a terminal) the controlling terminal of this session. No
/// allocation: runs between fork and exec.
pub fn set_controlling_tty() -> io::Result<()> {
    rustix::process::ioctl_tiocsctty(rustix::stdio::stdin()).map_err(io::Error::from)
}

/// Sets a terminal's window size (works on the master side of a PTY).
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> io::Result<()> {
    let ws = Winsize {
        ws_row: rows.max(1),
        ws_col: cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    termios::tcsetwinsize(fd, ws).map_err(io::Error::from)
}

/// Opens a PTY pair from `/dev/ptmx` of the current mount namespace (the
/// sandbox's own devpts), so `tty` inside names a path that exists there.
/// The slave is opened with TIOCGPTPEER, without a path lookup.
pub fn open_pty_here(rows: u16, cols: u16) -> io::Result<(OwnedFd, OwnedFd)> {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags)?;
    set_winsize(std::os::fd::AsFd::as_fd(&master), rows, cols)?;
    Ok((master, slave))
}

/// `(rows, cols)` of the terminal on `fd`.
pub fn size(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let ws = termios::tcgetwinsize(fd)?;
    if ws.ws_row == 0 || ws.ws_col == 0 {
        return Err(io::Error::other("the terminal reports a zero size"));
    }
    Ok((ws.ws_row, ws.ws_col))
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: BorrowedFd<'_>) -> bool {
    termios::isatty(fd)
}

/// Descriptor 0 of this process.
pub fn stdin() -> BorrowedFd<'static> {
    rustix::stdio::stdin()
}

/// The standard descriptors 0, 1 and 2 of this process.
pub fn stdio() -> [BorrowedFd<'static>; 3] {
    [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ]
}

/// Raw mode on a terminal until dropped: keys go to the sandbox's PTY
/// unchanged (Ctrl-C included: the sandbox's own line discipline turns it
/// into SIGINT for its foreground process).
pub struct RawMode {
    fd: BorrowedFd<'static>,
    saved: Termios,
}

impl RawMode {
    pub fn enable(fd: BorrowedFd<'static>) -> io::Result<RawMode> {
        let saved = termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(fd, OptionalActions::Now, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, OptionalActions::Now, &self.saved);
    }
}
