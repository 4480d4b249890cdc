//! Signals and children: kill, waitpid, blocked signals read through a
//! signalfd, dispositions reset for a child about to exec.

use super::cvt::check;
use std::io;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};

/// Hand-written: rustix's `Signal` has no safe constructor for real-time
/// signals, which a caller may forward.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory effects.
    check(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// `waitpid`; returns (pid, raw status), `(0, 0)` when WNOHANG finds no
/// child that changed. `pid` -1 (any value <= 0): any child.
pub fn waitpid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<(libc::pid_t, libc::c_int)> {
    use rustix::process::{Pid, WaitOptions};
    let opts = WaitOptions::from_bits_retain(flags as u32);
    loop {
        // (rustix's `waitpid(None)` is waitpid(0): only our process group;
        // `wait` is waitpid(-1), every child.)
        let r = if pid > 0 {
            rustix::process::waitpid(Pid::from_raw(pid), opts)
        } else {
            rustix::process::wait(opts)
        };
        match r {
            Ok(Some((p, st))) => return Ok((p.as_raw_nonzero().get(), st.as_raw())),
            Ok(None) => return Ok((0, 0)),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
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

/// An empty signal set. (Signal masks and signalfd stay hand-written:
/// rustix has neither outside its unstable runtime module.)
fn empty_sigset() -> libc::sigset_t {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set it is given, so it is
    // initialised when read.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// Installs a handler-less signal disposition: blocks `sigs` so they can be
/// collected with `sigtimedwait`-style polling through a signalfd.
pub fn block_signals(sigs: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    let mut set = empty_sigset();
    // SAFETY: `set` is an initialised sigset_t that sigaddset writes into
    // and sigprocmask reads; the old mask is not asked for.
    check(unsafe {
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    })?;
    Ok(set)
}

/// Unblocks every signal and resets dispositions, for a child about to exec.
pub fn reset_signals() {
    let set = empty_sigset();
    // SAFETY: `set` is an initialised, empty sigset_t; resetting standard
    // dispositions to SIG_DFL involves no handler code.
    unsafe {
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for s in 1..32 {
            if s != libc::SIGKILL && s != libc::SIGSTOP {
                libc::signal(s, libc::SIG_DFL);
            }
        }
    }
}

pub fn signalfd(set: &libc::sigset_t) -> io::Result<OwnedFd> {
    // SAFETY: `set` is a valid sigset_t; on success the kernel returns a
    // fresh descriptor that nothing else owns.
    unsafe {
        let fd = check(libc::signalfd(
            -1,
            set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Reads all pending signal numbers from a non-blocking signalfd.
pub fn read_signals(fd: BorrowedFd<'_>) -> Vec<libc::c_int> {
    let mut out = Vec::new();
    // One `struct signalfd_siginfo` per read; `ssi_signo` is its first field.
    let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
    while let Ok(n) = rustix::io::read(fd, &mut info) {
        if n != info.len() {
            break;
        }
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        out.push(signo as libc::c_int);
    }
    out
}

/// Ignores SIGPIPE, as the Rust runtime does at startup: a write to a closed
/// status pipe must return EPIPE, not kill the helper.
pub fn ignore_sigpipe() {
    // SAFETY: setting a standard disposition; no handler code involved.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
