//! Starting and replacing processes: clone without a new stack (fork-like,
//! into new namespaces or straight into a cgroup), exec keeping the signal
//! mask, and what a freshly forked single-threaded child does first.

use super::cvt::cstr;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

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

/// Plain `fork` for the single-threaded helper processes.
pub fn fork() -> io::Result<libc::pid_t> {
    clone_fork(0)
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

/// Terminates the process immediately without running destructors or atexit
/// handlers (used by forked children that must not unwind into the parent's code).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
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
