//! Signals and children: kill, waitpid, blocked signals read through a
//! signalfd, dispositions reset for a child about to exec.

use super::cvt::check;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory effects.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `waitpid`; returns (pid, raw status).
pub fn waitpid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<(libc::pid_t, libc::c_int)> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        return Ok((r, status));
    }
}

/// Shell-style exit code of a raw wait status: the code, or 128 + signal.
pub fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

/// Installs a handler-less signal disposition: blocks `sigs` so they can be
/// collected with `sigtimedwait`-style polling through a signalfd.
pub fn block_signals(sigs: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in sigs {
        // SAFETY: set is a valid sigset_t.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    // SAFETY: set is valid; the old mask is not needed.
    check(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) })?;
    Ok(set)
}

/// Unblocks every signal and resets dispositions, for a child about to exec.
pub fn reset_signals() {
    // SAFETY: sigset_t is plain data, filled by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is valid.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for s in 1..32 {
            if s != libc::SIGKILL && s != libc::SIGSTOP {
                libc::signal(s, libc::SIG_DFL);
            }
        }
    }
}

pub fn signalfd(set: &libc::sigset_t) -> io::Result<OwnedFd> {
    // SAFETY: set is a valid sigset_t.
    let fd = check(unsafe { libc::signalfd(-1, set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) })?;
    // SAFETY: fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads all pending signal numbers from a non-blocking signalfd.
pub fn read_signals(fd: BorrowedFd<'_>) -> Vec<libc::c_int> {
    let mut out = Vec::new();
    loop {
        // SAFETY: signalfd_siginfo is plain data.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let n = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: info is writable for n bytes.
        let r = unsafe { libc::read(fd.as_raw_fd(), &mut info as *mut _ as *mut libc::c_void, n) };
        if r as usize != n {
            break;
        }
        out.push(info.ssi_signo as libc::c_int);
    }
    out
}

/// Ignores SIGPIPE, as the Rust runtime does at startup: a write to a closed
/// status pipe must return EPIPE, not kill the helper.
pub fn ignore_sigpipe() {
    // SAFETY: setting a standard disposition; no handler code involved.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
