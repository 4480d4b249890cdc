//! Terminals: a PTY allocated inside a sandbox and made the payload's
//! controlling terminal; and the user's own terminal, for a foreground run
//! with a PTY: its size and raw mode (restored when the guard drops, on
//! every way out).

use super::cvt::{check, cstr};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

pub fn setsid() -> io::Result<()> {
    // SAFETY: no memory effects.
    check(unsafe { libc::setsid() }).map(drop)
}

/// Makes `fd` (a terminal) the controlling terminal of this session.
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument.
    check(unsafe { libc::ioctl(fd, libc::TIOCSCTTY as _, 0) }).map(drop)
}

/// Sets a terminal's window size (works on the master side of a PTY).
pub fn set_winsize(fd: RawFd, rows: u16, cols: u16) -> io::Result<()> {
    let ws = libc::winsize {
        ws_row: rows.max(1),
        ws_col: cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: ws is a valid winsize for the duration of the call.
    check(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ as _, &ws) }).map(drop)
}

/// Opens a PTY pair from `/dev/ptmx` of the current mount namespace (the
/// sandbox's own devpts), so `tty` inside names a path that exists there.
/// The slave is opened with TIOCGPTPEER, without a path lookup.
pub fn open_pty_here(rows: u16, cols: u16) -> io::Result<(OwnedFd, OwnedFd)> {
    let p = cstr("/dev/ptmx")?;
    // SAFETY: p is a valid C string.
    let m =
        check(unsafe { libc::open(p.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?;
    // SAFETY: m is a fresh descriptor we own.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    // SAFETY: master is a PTY master.
    check(unsafe { libc::unlockpt(m) })?;
    const TIOCGPTPEER: libc::c_ulong = 0x5441;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor.
    let s = check(unsafe {
        libc::ioctl(
            m,
            TIOCGPTPEER as _,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: s is a fresh descriptor we own.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    set_winsize(m, rows, cols)?;
    Ok((master, slave))
}

/// `(rows, cols)` of the terminal on `fd`.
pub fn size(fd: RawFd) -> io::Result<(u16, u16)> {
    // SAFETY: winsize is plain data; zeroed is a valid value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize into the valid, writable `ws`.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ as _, &mut ws) } < 0 {
        return Err(io::Error::last_os_error());
    }
    if ws.ws_row == 0 || ws.ws_col == 0 {
        return Err(io::Error::other("the terminal reports a zero size"));
    }
    Ok((ws.ws_row, ws.ws_col))
}

/// Whether `fd` is a terminal.
pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// Raw mode on a terminal until dropped: keys go to the sandbox's PTY
/// unchanged (Ctrl-C included: the sandbox's own line discipline turns it
/// into SIGINT for its foreground process).
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    pub fn enable(fd: RawFd) -> io::Result<RawMode> {
        // SAFETY: termios is plain data; tcgetattr fills it.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `saved` is a valid, writable termios.
        if unsafe { libc::tcgetattr(fd, &mut saved) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut raw = saved;
        // SAFETY: `raw` is a valid termios copied from the terminal's.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: `raw` is a valid termios for the duration of the call.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: `saved` is the termios read from this terminal in `enable`.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}
