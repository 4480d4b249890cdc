//! The caller's handle on a sandbox's supervisor: an exec'd helper, or a
//! fork of a single-threaded caller ([`fork_supervisor`]).

use super::protocol::InitConfig;
use super::stdio::StdioMode;
use crate::error::{Error, Result, EXIT_SETUP_FAILED};
use crate::sys;
use std::os::fd::AsRawFd;
use std::process::Child;

/// The supervisor process: an exec'd helper, or (single-threaded caller) a
/// plain fork of the caller.
#[derive(Debug)]
pub(crate) enum Supervisor {
    Exec(Child),
    Forked { pid: i32, code: Option<i32> },
}

impl Supervisor {
    pub(crate) fn id(&self) -> u32 {
        match self {
            Supervisor::Exec(c) => c.id(),
            Supervisor::Forked { pid, .. } => *pid as u32,
        }
    }

    pub(crate) fn child(&mut self) -> Option<&mut Child> {
        match self {
            Supervisor::Exec(c) => Some(c),
            Supervisor::Forked { .. } => None,
        }
    }

    fn code_of(st: std::process::ExitStatus) -> i32 {
        st.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&st).unwrap_or(0)
        })
    }

    /// The supervisor's exit code, blocking.
    pub(crate) fn wait(&mut self) -> std::io::Result<i32> {
        match self {
            Supervisor::Exec(c) => c.wait().map(Self::code_of),
            Supervisor::Forked { pid, code } => {
                if code.is_none() {
                    let (_, st) = sys::waitpid(*pid, 0)?;
                    *code = Some(sys::exit_code(st));
                }
                Ok(code.unwrap_or(EXIT_SETUP_FAILED))
            }
        }
    }

    pub(crate) fn try_wait(&mut self) -> std::io::Result<Option<i32>> {
        match self {
            Supervisor::Exec(c) => c.try_wait().map(|s| s.map(Self::code_of)),
            Supervisor::Forked { pid, code } => {
                if code.is_none() {
                    let (p, st) = sys::waitpid(*pid, libc::WNOHANG)?;
                    if p == *pid {
                        *code = Some(sys::exit_code(st));
                    }
                }
                Ok(*code)
            }
        }
    }

    pub(crate) fn kill(&mut self) {
        let _ = sys::kill(self.id() as i32, libc::SIGKILL);
    }
}

/// Forks the supervisor from this single-threaded process. The child keeps
/// only stdio and the descriptors in `keep`, resets signals, and runs the
/// same code as an exec'd `__sandbox-init`.
pub(crate) fn fork_supervisor(
    cfg: InitConfig,
    stdio: StdioMode,
    keep: &[i32],
) -> Result<Supervisor> {
    let pid = sys::fork().map_err(|e| Error::new("spawn", format!("fork supervisor: {e}")))?;
    if pid != 0 {
        return Ok(Supervisor::Forked { pid, code: None });
    }
    sys::reset_signals();
    sys::ignore_sigpipe();
    if matches!(stdio, StdioMode::Null | StdioMode::Pty { .. }) {
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            for fd in 0..3 {
                let _ = sys::dup2(null.as_raw_fd(), fd);
            }
        }
    }
    let mut keep_fds = vec![0, 1, 2];
    keep_fds.extend_from_slice(keep);
    sys::close_fds_except(&keep_fds);
    let _ = sys::prctl(libc::PR_SET_NAME, c"kubelab-init".as_ptr() as libc::c_ulong);
    sys::exit_now(super::supervisor::supervisor_run(cfg))
}
