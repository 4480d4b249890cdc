//! A namespace holder: a child process that creates new namespaces and
//! does nothing else, so they live exactly as long as it does (as `pause`
//! holds a Pod's). It dies with its parent (`PR_SET_PDEATHSIG`), so a
//! killed parent leaves no namespace behind. Lab worlds hold each node's
//! network, UTS and mount namespaces with one.

use crate::sys;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

/// A running holder. Dropping the handle does not stop it: it lives until
/// its parent dies or it is killed.
#[derive(Debug)]
pub(crate) struct Holder {
    /// Its PID, as the parent's PID namespace sees it.
    pub pid: libc::pid_t,
    /// Its network namespace (when it made one), for `setns`: the parent
    /// may live in a PID namespace that the mounted /proc does not show.
    pub netns: Option<OwnedFd>,
}

/// Forks a holder of new namespaces (`CLONE_NEW*` `flags`) with `hostname`
/// set when `flags` has `CLONE_NEWUTS`, the loopback up when it has
/// `CLONE_NEWNET`, and with both `CLONE_NEWNET` and `CLONE_NEWNS` a node's
/// mounts ([`super::machine_mounts`]). Returns once they exist, or with the child's error.
///
/// Only call this from a single-threaded process (it forks without exec).
pub(crate) fn spawn(flags: libc::c_int, hostname: Option<&str>) -> io::Result<Holder> {
    let (ours, theirs) = sys::fd_socketpair()?;
    let parent = sys::getpid();
    let pid = sys::fork()?;
    if pid == 0 {
        drop(ours);
        let res = hold_setup(parent, theirs.as_raw_fd(), flags, hostname);
        let sent = match &res {
            Ok(netns) => {
                let fds: Vec<_> = netns.iter().map(|f| f.as_fd()).collect();
                sys::send_with_fds(theirs.as_fd(), b"ok", &fds)
            }
            Err(e) => sys::send_with_fds(theirs.as_fd(), e.to_string().as_bytes(), &[]),
        };
        drop(res);
        drop(theirs);
        if sent.is_err() {
            sys::exit_now(1);
        }
        sys::trim_heap();
        loop {
            // Blocks until a signal; only SIGKILL (or the parent's death,
            // which sends it) ends a holder.
            let _ = sys::poll_read(&[], -1);
        }
    }
    drop(theirs);
    let mut buf = [0u8; 512];
    let (n, mut fds) = sys::recv_with_fds(ours.as_fd(), &mut buf).unwrap_or((0, Vec::new()));
    if &buf[..n] == b"ok" {
        let want_net = flags & libc::CLONE_NEWNET != 0;
        if want_net == (fds.len() == 1) {
            return Ok(Holder {
                pid,
                netns: want_net.then(|| fds.remove(0)),
            });
        }
    }
    let _ = sys::kill(pid, libc::SIGKILL);
    let _ = sys::waitpid(pid, 0);
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    Err(io::Error::other(if msg.is_empty() || msg == "ok" {
        "the namespace holder died during setup".to_string()
    } else {
        msg
    }))
}

/// The child's side: arm the death signal, close what the parent had
/// open, make the namespaces. Returns its network namespace's descriptor.
fn hold_setup(
    parent: libc::pid_t,
    sock: RawFd,
    flags: libc::c_int,
    hostname: Option<&str>,
) -> io::Result<Option<OwnedFd>> {
    sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)?;
    // The parent may have died before the death signal was armed.
    if sys::getppid() != parent {
        sys::exit_now(1);
    }
    let _ = sys::prctl(
        libc::PR_SET_NAME,
        c"kubelab-holder".as_ptr() as libc::c_ulong,
    );
    sys::reset_signals();
    // Nothing of the parent's stays open for the holder's lifetime (a pipe
    // someone waits on to close, say).
    sys::close_fds_except(&[0, 1, 2, sock]);
    let ctx =
        |what: &'static str| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    sys::unshare(flags).map_err(ctx("unshare"))?;
    if flags & libc::CLONE_NEWUTS != 0 {
        if let Some(h) = hostname {
            sys::sethostname(h).map_err(ctx("sethostname"))?;
        }
    }
    if flags & libc::CLONE_NEWNET == 0 {
        return Ok(None);
    }
    sys::loopback_up().map_err(ctx("lo up"))?;
    if flags & libc::CLONE_NEWNS != 0 {
        // A machine's mounts: its /sys, its own /run (machine_mounts).
        super::machine_mounts::set_up()?;
    }
    // /proc/self is right whatever PID namespace we are in.
    let f = std::fs::File::open("/proc/self/ns/net").map_err(ctx("/proc/self/ns/net"))?;
    Ok(Some(OwnedFd::from(f)))
}
