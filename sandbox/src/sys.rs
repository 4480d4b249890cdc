//! Thin wrappers over the raw syscalls the engine needs. Every `unsafe` block of
//! the crate that talks to the kernel directly lives here, each with its reason.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

pub fn cstr(p: impl AsRef<std::ffi::OsStr>) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_ref().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `clone(flags | SIGCHLD)` without a new stack: behaves like `fork`, but the
/// child starts in the requested new namespaces (a new PID namespace makes the
/// child its PID 1). Returns 0 in the child, the child's PID in the parent.
///
/// Only call this from a single-threaded process (the supervisor is one).
pub fn clone_fork(flags: libc::c_int) -> io::Result<libc::pid_t> {
    // SAFETY: a NULL stack makes clone behave like fork (the child gets a
    // copy-on-write copy of the stack). The callers are single-threaded
    // re-exec'd processes, so no lock can be held by a vanished thread.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as libc::pid_t)
    }
}

/// `struct clone_args` of clone3(2), up to the `cgroup` field (Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Like [`clone_fork`], but the child starts inside the cgroup v2 directory
/// `cgroup_dir` (`CLONE_INTO_CGROUP`, Linux >= 5.7). Unlike a later write to
/// `cgroup.procs`, this never takes the global cgroup threadgroup lock, whose
/// write side waits for an RCU grace period (milliseconds). Errors (old
/// kernel, v1 directory, no permission) leave no child behind.
///
/// Only call this from a single-threaded process (the supervisor is one).
pub fn clone3_into_cgroup(
    flags: libc::c_int,
    cgroup_dir: BorrowedFd<'_>,
) -> io::Result<libc::pid_t> {
    let mut args = CloneArgs {
        flags: (flags as u32 as u64) | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup_dir.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: without CLONE_VM and with a NULL stack, clone3 behaves like fork
    // (copy-on-write copy of the stack); `args` is a valid, fully initialised
    // clone_args of the size passed. The caller is single-threaded, so no lock
    // can be held by a vanished thread in the child.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as libc::pid_t)
    }
}

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

/// Plain `fork` for the single-threaded helper processes.
pub fn fork() -> io::Result<libc::pid_t> {
    clone_fork(0)
}

pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare only changes this process's namespace membership.
    check(unsafe { libc::unshare(flags) }).map(drop)
}

pub fn setns(fd: BorrowedFd<'_>, nstype: libc::c_int) -> io::Result<()> {
    // SAFETY: fd is a valid open namespace file descriptor.
    check(unsafe { libc::setns(fd.as_raw_fd(), nstype) }).map(drop)
}

pub fn mount(
    src: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let src = src.map(cstr).transpose()?;
    let target_c = cstr(target)?;
    let fstype = fstype.map(cstr).transpose()?;
    let data = data.map(cstr).transpose()?;
    // SAFETY: all pointers are NUL-terminated strings that outlive the call or NULL.
    let ret = unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target_c.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr() as *const libc::c_void),
        )
    };
    check(ret).map(drop).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("mount {} ({}): {e}", target.display(), fstype_name(&fstype)),
        )
    })
}

fn fstype_name(f: &Option<CString>) -> String {
    f.as_ref()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bind/remount".into())
}

pub fn umount_detach(target: &Path) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: t is a valid C string.
    check(unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) }).map(drop)
}

pub fn pivot_root(new_root: &Path, put_old: &Path) -> io::Result<()> {
    let a = cstr(new_root)?;
    let b = cstr(put_old)?;
    // SAFETY: both are valid C strings; pivot_root has no libc wrapper.
    let ret = unsafe { libc::syscall(libc::SYS_pivot_root, a.as_ptr(), b.as_ptr()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length describe the bytes of `name`.
    check(unsafe { libc::sethostname(name.as_ptr() as *const libc::c_char, name.len()) }).map(drop)
}

pub fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the options used by this crate take one integer argument.
    check(unsafe {
        libc::prctl(
            option,
            arg,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// Capabilities a container gets by default (the Docker/OCI default set).
pub const DEFAULT_CAPS: &[u32] = &[
    0,  // CAP_CHOWN
    1,  // CAP_DAC_OVERRIDE
    3,  // CAP_FOWNER
    4,  // CAP_FSETID
    5,  // CAP_KILL
    6,  // CAP_SETGID
    7,  // CAP_SETUID
    8,  // CAP_SETPCAP
    10, // CAP_NET_BIND_SERVICE
    13, // CAP_NET_RAW
    18, // CAP_SYS_CHROOT
    27, // CAP_MKNOD
    29, // CAP_AUDIT_WRITE
    31, // CAP_SETFCAP
];

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drops every capability outside `keep` from the bounding set and from the
/// effective, permitted and inheritable sets, and clears the ambient set.
pub fn drop_caps(keep: &[u32]) -> io::Result<()> {
    let last = last_cap();
    for cap in 0..=last {
        if !keep.contains(&cap) {
            prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong)?;
        }
    }
    // PR_CAP_AMBIENT_CLEAR_ALL
    let _ = prctl_ambient_clear();
    let mut mask = [0u32; 2];
    for &c in keep {
        if c <= last {
            mask[(c / 32) as usize] |= 1 << (c % 32);
        }
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [
        Data {
            effective: mask[0],
            permitted: mask[0],
            inheritable: mask[0],
        },
        Data {
            effective: mask[1],
            permitted: mask[1],
            inheritable: mask[1],
        },
    ];
    // SAFETY: header and two data structs match the v3 capset ABI.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn prctl_ambient_clear() -> io::Result<()> {
    // SAFETY: PR_CAP_AMBIENT with PR_CAP_AMBIENT_CLEAR_ALL takes no pointers.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

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

pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element array.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned two fresh descriptors that we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_SETFD on a descriptor has no memory effects.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, if on { libc::FD_CLOEXEC } else { 0 }) })
        .map(drop)
}

/// Takes ownership of an inherited descriptor number passed by the parent.
pub fn adopt_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD only checks that the descriptor is open.
    check(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    set_cloexec(fd, true)?;
    // SAFETY: the parent handed this descriptor to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only manipulates the descriptor table.
    check(unsafe { libc::dup2(from, to) }).map(drop)
}

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

/// Executes `argv[0]` (searched in PATH from `env`) replacing this process.
/// Only returns on failure.
pub fn execvpe(argv: &[String], env: &[(String, String)]) -> io::Error {
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    match resolve_program(&argv[0], &path_var) {
        Ok(prog) => exec_keeping_signals(&prog, argv, env),
        Err(e) => e,
    }
}

fn resolve_program(name: &str, path_var: &str) -> io::Result<std::path::PathBuf> {
    if name.contains('/') {
        return Ok(name.into());
    }
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let cand = Path::new(dir).join(name);
        if let Ok(md) = std::fs::metadata(&cand) {
            use std::os::unix::fs::PermissionsExt;
            if md.is_file() && md.permissions().mode() & 0o111 != 0 {
                return Ok(cand);
            }
        }
    }
    Err(io::Error::from_raw_os_error(libc::ENOENT))
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

/// poll() on a set of descriptors for readability; returns which are ready.
pub fn poll_read(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: p is a valid array of pollfd.
    let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(vec![false; fds.len()]);
        }
        return Err(e);
    }
    Ok(p.iter().map(|x| x.revents != 0).collect())
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

/// Terminates the process immediately without running destructors or atexit
/// handlers (used by forked children that must not unwind into the parent's code).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

pub fn statvfs_flags(path: &Path) -> io::Result<libc::c_ulong> {
    let c = cstr(path)?;
    // SAFETY: statvfs is plain data; c is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out pointer.
    check(unsafe { libc::statvfs(c.as_ptr(), &mut st) })?;
    Ok(st.f_flag)
}

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

/// Repeats a call that may do part of `len` bytes (write, getrandom) from
/// the offset reached so far until all are done, retrying EINTR.
fn until_done(len: usize, mut call: impl FnMut(usize) -> isize) -> io::Result<()> {
    let mut off = 0;
    while off < len {
        let r = call(off);
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        off += r as usize;
    }
    Ok(())
}

pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is writable for its length.
        let r = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        return Ok(r as usize);
    }
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

/// A connected pair of close-on-exec unix sockets for passing descriptors.
pub fn fd_socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

pub fn send_fd(sock: RawFd, fd: RawFd) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [io::IoSlice::new(b"F")];
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock, &iov, &cmsg, MsgFlags::empty(), None)
        .map(drop)
        .map_err(io::Error::from)
}

/// Receives one descriptor; None when the other side closed without sending.
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut buf = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this descriptor for us.
                return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
    }
    Ok(None)
}

/// Clones the mount tree at `path` into a detached mount (open_tree with
/// OPEN_TREE_CLONE), attachable later with [`move_mount_to`] — even after
/// pivot_root, when `path` is no longer reachable.
pub fn open_tree_clone(path: &Path) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let flags = OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: c is a valid C string; open_tree returns a new descriptor.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// Attaches a detached mount from [`open_tree_clone`] at `target`.
pub fn move_mount_to(fd: BorrowedFd<'_>, target: &Path) -> io::Result<()> {
    let t = cstr(target)?;
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    // SAFETY: valid descriptor and C strings.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether `path` is on a tmpfs (statfs).
pub fn is_tmpfs(path: &Path) -> bool {
    let Ok(c) = cstr(path) else {
        return false;
    };
    // SAFETY: statfs is plain data; all-zero is a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid C string and st a valid out pointer.
    let ok = unsafe { libc::statfs(c.as_ptr(), &mut st) } == 0;
    ok && st.f_type == libc::TMPFS_MAGIC
}

/// Returns free heap memory to the kernel (the helpers' setup allocates a
/// few hundred kB that an idle supervisor or init would otherwise keep).
pub fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of the allocator; no
    // pointer owned by Rust code is affected.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Whether this process has a single thread (then `fork` without `exec` is
/// safe: no other thread can hold a lock the child would need).
pub fn single_threaded() -> bool {
    fs_threads() == Some(1)
}

fn fs_threads() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Closes every descriptor except those in `keep` (forked helpers must not
/// hold the caller's files, pipes or sockets).
pub fn close_fds_except(keep: &[RawFd]) {
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        if !keep.contains(&fd) {
            // SAFETY: closing a descriptor number; nothing in this freshly
            // forked child owns these (the read_dir handle is already gone,
            // and closing it twice would only return EBADF).
            unsafe { libc::close(fd) };
        }
    }
}

/// Ignores SIGPIPE, as the Rust runtime does at startup: a write to a closed
/// status pipe must return EPIPE, not kill the helper.
pub fn ignore_sigpipe() {
    // SAFETY: setting a standard disposition; no handler code involved.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Most descriptors one message carries: the kernel's SCM_MAX_FD (a `tasks`
/// file per v1 hierarchy, or an OCI image's layers as detached mounts).
pub const MAX_PASSED_FDS: usize = 253;

/// Sends one message (`data`, at least one byte) with `fds` attached as
/// SCM_RIGHTS (none: a plain message). MSG_NOSIGNAL: a peer that already
/// exited gives EPIPE instead of killing the sender.
pub fn send_with_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    if fds.len() > MAX_PASSED_FDS {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let iov = [io::IoSlice::new(data)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsg: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    sendmsg::<()>(sock, &iov, cmsg, MsgFlags::MSG_NOSIGNAL, None)
        .map(drop)
        .map_err(io::Error::from)
}

/// Receives one message into `buf` and the descriptors attached to it
/// (close-on-exec). `(0, [])`: the other side closed without sending.
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut space = nix::cmsg_space!([RawFd; MAX_PASSED_FDS]);
    let msg = loop {
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => break r.map_err(io::Error::from)?,
        }
    };
    let n = msg.bytes;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            for fd in raw {
                // SAFETY: the kernel just installed these descriptors for us
                // and nothing else refers to them.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Ok((n, fds))
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

/// Reads a small file (a /proc or cgroupfs file) in one `read` of a 4 KiB
/// buffer, growing only if needed. These files report size 0, so
/// `fs::read_to_string` starts at 32 bytes and needs ~8 reads for a
/// mountinfo.
pub fn read_small(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(4096);
    loop {
        let len = buf.len();
        if buf.capacity() - len < 1024 {
            buf.reserve(buf.capacity());
        }
        let spare = buf.capacity() - len;
        buf.resize(len + spare, 0);
        match f.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                break;
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => return Err(e),
        }
    }
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Executes `prog` with `argv` (argv[0] may differ from `prog`) and exactly
/// `env`, keeping the signal mask and pending signals, which
/// `std::process::Command::exec` would reset. Only returns on failure.
pub fn exec_keeping_signals(prog: &Path, argv: &[String], env: &[(String, String)]) -> io::Error {
    let c_prog = match cstr(prog) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let c_args: Vec<CString> = match argv.iter().map(cstr).collect() {
        Ok(v) => v,
        Err(e) => return e,
    };
    let c_env: Vec<CString> = match env.iter().map(|(k, v)| cstr(format!("{k}={v}"))).collect() {
        Ok(v) => v,
        Err(e) => return e,
    };
    let mut pa: Vec<*const libc::c_char> = c_args.iter().map(|c| c.as_ptr()).collect();
    pa.push(std::ptr::null());
    let mut pe: Vec<*const libc::c_char> = c_env.iter().map(|c| c.as_ptr()).collect();
    pe.push(std::ptr::null());
    // SAFETY: argv/envp are NULL-terminated arrays of valid C strings that
    // outlive the call.
    unsafe { libc::execve(c_prog.as_ptr(), pa.as_ptr(), pe.as_ptr()) };
    io::Error::last_os_error()
}

#[cfg(test)]
mod passing_tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;

    #[test]
    fn several_descriptors_travel_in_one_message() {
        let (a, b) = fd_socketpair().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<std::fs::File> = (0..3)
            .map(|i| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .read(true)
                    .write(true)
                    .open(dir.path().join(format!("f{i}")))
                    .unwrap()
            })
            .collect();
        let raw: Vec<RawFd> = files.iter().map(|f| f.as_raw_fd()).collect();
        send_with_fds(a.as_raw_fd(), b"g", &raw).unwrap();
        send_with_fds(a.as_raw_fd(), b"ok", &[]).unwrap();
        let mut buf = [0u8; 8];
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], got.len()), (&b"g"[..], 3));
        // Each received descriptor is the same open file as the one sent.
        for (i, fd) in got.into_iter().enumerate() {
            std::fs::File::from(fd)
                .write_all(format!("{i}").as_bytes())
                .unwrap();
            let mut f = &files[i];
            f.rewind().unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            assert_eq!(s, i.to_string());
        }
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], got.len()), (&b"ok"[..], 0));
        drop(a);
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((n, got.len()), (0, 0), "EOF once the peer is gone");
    }

    #[test]
    fn sending_to_a_closed_peer_fails_instead_of_killing_us() {
        let (a, b) = fd_socketpair().unwrap();
        drop(b);
        let e = send_with_fds(a.as_raw_fd(), b"g", &[]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn read_small_reads_a_whole_proc_file() {
        let small = read_small(Path::new("/proc/self/mountinfo")).unwrap();
        let std = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert_eq!(small, std);
        // Longer than the first 4 KiB buffer.
        let big = "x".repeat(10_000);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), &big).unwrap();
        assert_eq!(read_small(&dir.path().join("big")).unwrap(), big);
    }
}
