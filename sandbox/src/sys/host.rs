//! The process's identity and its view of the host: ids, hostname, time,
//! randomness, memory, namespaces joined or left, the loopback interface.

use super::cvt::check;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Microseconds on CLOCK_MONOTONIC (comparable across processes), for the
/// spawn trace.
pub fn monotonic_us() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// Hand-written: rustix offers unshare(2) only as an `unsafe fn` (it can
/// unshare the descriptor table under a thread's feet); our callers are the
/// single-threaded helpers.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare only changes this process's namespace membership, and
    // the callers are single-threaded (no CLONE_FILES is ever passed).
    check(unsafe { libc::unshare(flags) }).map(drop)
}

pub fn setns(fd: BorrowedFd<'_>, nstype: libc::c_int) -> io::Result<()> {
    let ty = rustix::thread::ThreadNameSpaceType::from_bits_retain(nstype as u32);
    rustix::thread::move_into_thread_name_spaces(fd, ty).map_err(io::Error::from)
}

/// The user namespace that owns namespace `fd` (`NS_GET_USERNS`), as a
/// new descriptor. Hand-written: rustix has no wrapper for the nsfs ioctls.
pub fn ns_owner(fd: BorrowedFd<'_>) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // _IO(0xb7, 0x1), linux/nsfs.h.
    const NS_GET_USERNS: libc::c_ulong = 0xb701;
    // SAFETY: NS_GET_USERNS takes no argument; it returns a new descriptor
    // or -1, and touches no memory of ours.
    let r = check(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_USERNS as _) })?;
    // SAFETY: `r` is a descriptor the kernel just opened for us alone.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(r) })
}

pub fn sethostname(name: &str) -> io::Result<()> {
    rustix::system::sethostname(name.as_bytes()).map_err(io::Error::from)
}

/// Brings the loopback interface of the current network namespace up.
/// (The SIOC[GS]IFFLAGS ioctls stay hand-written: rustix has no ifreq.)
pub fn loopback_up() -> io::Result<()> {
    use rustix::net::{socket_with, AddressFamily, SocketFlags, SocketType};
    let sock = socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data (all-zero is a valid value) and a
    // valid argument for both ioctls; the flags member read and written is
    // the one SIOCGIFFLAGS just filled in.
    unsafe {
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            ifr.ifr_name[i] = *b as libc::c_char;
        }
        check(libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCGIFFLAGS as _,
            &mut ifr,
        ))?;
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &ifr)).map(drop)
    }
}

pub fn getgid() -> u32 {
    rustix::process::getgid().as_raw()
}

pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// The parent's PID (0 when the parent is outside our PID namespace).
pub fn getppid() -> libc::pid_t {
    rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get())
}

pub fn getpid() -> libc::pid_t {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// Fills `buf` from the kernel's random pool (getrandom(2): one syscall, no
/// file to open; blocks only before the pool is initialised at early boot).
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut off = 0;
    while off < buf.len() {
        match rustix::rand::getrandom(&mut buf[off..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => off += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Total swap space of the host in bytes (sysinfo(2): one syscall instead of
/// reading and parsing /proc/meminfo).
pub fn swap_total() -> io::Result<u64> {
    let si = rustix::system::sysinfo();
    Ok(si.totalswap as u64 * si.mem_unit.max(1) as u64)
}
