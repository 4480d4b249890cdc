//! File descriptors: pipes, close-on-exec, adopting an inherited number,
//! dup2, whole reads and writes, and poll.

use super::cvt::{check, until_done};
use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(io::Error::from)
}

/// Hand-written: it takes inherited descriptor numbers (also between fork
/// and exec in `pre_exec`), which rustix would need borrowed unsafely.
pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_SETFD on a descriptor has no memory effects.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, if on { libc::FD_CLOEXEC } else { 0 }) })
        .map(drop)
}

/// Takes ownership of an inherited descriptor number passed by the parent.
pub fn adopt_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD only checks that the descriptor is open; once it is,
    // the parent handed it to us and nothing else owns it.
    let owned = unsafe {
        check(libc::fcntl(fd, libc::F_GETFD))?;
        OwnedFd::from_raw_fd(fd)
    };
    rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC)?;
    Ok(owned)
}

/// Makes `from` this process's descriptor `to` (0, 1 or 2). No allocation:
/// runs between fork and exec.
pub fn dup2_stdio(from: BorrowedFd<'_>, to: RawFd) -> io::Result<()> {
    match to {
        0 => rustix::stdio::dup2_stdin(from),
        1 => rustix::stdio::dup2_stdout(from),
        2 => rustix::stdio::dup2_stderr(from),
        _ => Err(rustix::io::Errno::BADF),
    }
    .map_err(io::Error::from)
}

/// poll() on a set of descriptors for readability; returns which are ready
/// (none when interrupted by a signal). `timeout_ms` < 0: no timeout.
pub fn poll_read(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<Vec<bool>> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut p: Vec<PollFd> = fds
        .iter()
        .map(|fd| PollFd::new(fd, PollFlags::IN))
        .collect();
    let timeout = (timeout_ms >= 0).then(|| Timespec {
        tv_sec: (timeout_ms / 1000).into(),
        tv_nsec: ((timeout_ms % 1000) * 1_000_000).into(),
    });
    match rustix::event::poll(&mut p, timeout.as_ref()) {
        Ok(_) => Ok(p.iter().map(|x| !x.revents().is_empty()).collect()),
        Err(rustix::io::Errno::INTR) => Ok(vec![false; fds.len()]),
        Err(e) => Err(e.into()),
    }
}

/// Writes all of `data` to a descriptor number (the status pipe a helper
/// was handed, stderr); hand-written for the same reason as [`set_cloexec`].
pub fn write_fd(fd: RawFd, data: &[u8]) -> io::Result<()> {
    until_done(data.len(), |off| {
        // SAFETY: the slice is valid for its remaining length.
        unsafe {
            libc::write(
                fd,
                data[off..].as_ptr() as *const libc::c_void,
                data.len() - off,
            )
        }
    })
}

pub fn read_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::io::read(fd, &mut *buf) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}
