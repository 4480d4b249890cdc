//! A running sandbox's handle carried across an exec of its holder (a
//! foreground run moving into the small helper, see [`super::front`]).

use super::spawn::Sandbox;
use crate::cgroup::Cgroup;
use crate::process::supervisor_handle::Supervisor;
use crate::spec::Spec;
use crate::sys;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// A running sandbox's handle in a form that survives an exec of the caller
/// (a foreground run moving into the small helper, see [`super::front`]):
/// the descriptors stay open across the exec, the supervisor stays a child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Handoff {
    id: String,
    init_pid: i32,
    supervisor_pid: i32,
    lifeline_fd: RawFd,
    pty_master_fd: Option<RawFd>,
    cgroup: Option<Cgroup>,
    cgroup_note: Option<String>,
    sandbox_dir: PathBuf,
    spec: Spec,
    helper_exe: PathBuf,
}

impl Sandbox {
    /// Turns the handle into a [`Handoff`] for an exec. Its descriptors lose
    /// close-on-exec; nothing is killed. If the exec fails, take the handle
    /// back with [`Sandbox::from_handoff`].
    pub(crate) fn into_handoff(
        self,
    ) -> std::result::Result<Handoff, Box<(Sandbox, std::io::Error)>> {
        let mut sb = self;
        let Some(lifeline) = sb.lifeline.as_ref().map(|l| l.as_raw_fd()) else {
            return Err(Box::new((
                sb,
                std::io::Error::other("the sandbox has ended"),
            )));
        };
        let fds = std::iter::once(lifeline).chain(sb.pty_master.as_ref().map(|m| m.as_raw_fd()));
        for fd in fds {
            if let Err(e) = sys::set_cloexec(fd, false) {
                return Err(Box::new((sb, e)));
            }
        }
        let h = Handoff {
            id: std::mem::take(&mut sb.id),
            init_pid: sb.init_pid,
            supervisor_pid: sb.supervisor.id() as i32,
            lifeline_fd: sb
                .lifeline
                .take()
                .map(IntoRawFd::into_raw_fd)
                .unwrap_or(lifeline),
            pty_master_fd: sb.pty_master.take().map(IntoRawFd::into_raw_fd),
            cgroup: sb.cgroup.take(),
            cgroup_note: sb.cgroup_note.take(),
            sandbox_dir: std::mem::take(&mut sb.sandbox_dir),
            spec: std::mem::take(&mut sb.spec),
            helper_exe: std::mem::take(&mut sb.helper_exe),
        };
        // No Drop: it would kill the sandbox this handle now describes. (An
        // exec'd supervisor's `Child` only holds its pid, kept in `h`.)
        std::mem::forget(sb);
        Ok(h)
    }

    /// Gives the handle a PTY master again (after [`Sandbox::take_pty_master`]).
    pub(crate) fn put_pty_master(&mut self, master: OwnedFd) {
        self.pty_master = Some(master);
    }

    /// The handle again, in the process the [`Handoff`] reached.
    pub(crate) fn from_handoff(h: Handoff) -> std::io::Result<Sandbox> {
        let lifeline = sys::adopt_fd(h.lifeline_fd)?;
        sys::set_cloexec(lifeline.as_raw_fd(), true)?;
        let pty_master = match h.pty_master_fd {
            Some(fd) => {
                let m = sys::adopt_fd(fd)?;
                sys::set_cloexec(m.as_raw_fd(), true)?;
                Some(m)
            }
            None => None,
        };
        Ok(Sandbox {
            id: h.id,
            init_pid: h.init_pid,
            supervisor: Supervisor::Forked {
                pid: h.supervisor_pid,
                code: None,
            },
            lifeline: Some(lifeline),
            pty_master,
            cgroup: h.cgroup,
            cgroup_note: h.cgroup_note,
            sandbox_dir: h.sandbox_dir,
            spec: h.spec,
            helper_exe: h.helper_exe,
            exit: None,
        })
    }
}
