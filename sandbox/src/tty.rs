//! The user's own terminal, for a foreground run with a PTY: its size and
//! raw mode (restored when the guard drops, on every way out).

use std::io;
use std::os::fd::RawFd;

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
