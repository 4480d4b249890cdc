//! The process's identity and its view of the host: ids, hostname, time,
//! randomness, memory, namespaces joined or left, the loopback interface.

use super::cvt::{check, until_done};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Microseconds on CLOCK_MONOTONIC (comparable across processes), for the
/// spawn trace.
pub fn monotonic_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare only changes this process's namespace membership.
    check(unsafe { libc::unshare(flags) }).map(drop)
}

pub fn setns(fd: BorrowedFd<'_>, nstype: libc::c_int) -> io::Result<()> {
    // SAFETY: fd is a valid open namespace file descriptor.
    check(unsafe { libc::setns(fd.as_raw_fd(), nstype) }).map(drop)
}

pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length describe the bytes of `name`.
    check(unsafe { libc::sethostname(name.as_ptr() as *const libc::c_char, name.len()) }).map(drop)
}

/// Brings the loopback interface of the current network namespace up.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket creation.
    let s =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: s is a fresh descriptor we own.
    let sock = unsafe { OwnedFd::from_raw_fd(s) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (i, b) in b"lo\0".iter().enumerate() {
        ifr.ifr_name[i] = *b as libc::c_char;
    }
    // SAFETY: ifr is a valid ifreq for both ioctls.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut ifr) })?;
    // SAFETY: reading the flags member the kernel just filled in.
    unsafe {
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: as above.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &ifr) }).map(drop)
}

pub fn getgid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getgid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::geteuid() }
}

pub fn getpid() -> libc::pid_t {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getpid() }
}

/// Fills `buf` from the kernel's random pool (getrandom(2): one syscall, no
/// file to open; blocks only before the pool is initialised at early boot).
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let len = buf.len();
    until_done(len, |off| {
        // SAFETY: the pointer and length describe the writable rest of `buf`.
        unsafe { libc::getrandom(buf[off..].as_mut_ptr() as *mut libc::c_void, len - off, 0) }
    })
}

/// Total swap space of the host in bytes (sysinfo(2): one syscall instead of
/// reading and parsing /proc/meminfo).
pub fn swap_total() -> io::Result<u64> {
    // SAFETY: sysinfo is plain data; all-zero is a valid value.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: si is a valid out pointer.
    check(unsafe { libc::sysinfo(&mut si) })?;
    Ok(si.totalswap as u64 * si.mem_unit.max(1) as u64)
}
