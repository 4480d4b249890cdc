//! Noticing that the terminal went away.
//!
//! When the terminal closes (a tmux session killed, an SSH connection
//! dropped) the kernel sends SIGHUP to the terminal's session, but a reader
//! started under `su`, `setsid` or a wrapper that does not forward it never
//! gets one. Reads of the dead terminal then return at once, and the input
//! stream spun a core at 100 % forever while the sandboxes lived on. This
//! thread blocks in `poll()` on the terminal asking for no events: the
//! kernel still reports a hang-up (POLLHUP) or an error, and only then does
//! the thread wake — it costs nothing while the terminal lives.

use super::event::{AppEvent, EventSender};
use rustix::event::{poll, PollFd, PollFlags};
use std::os::fd::AsFd;

/// Sends [`AppEvent::Terminate`] once stdin's terminal hangs up.
pub fn watch(tx: EventSender) {
    let _ = std::thread::Builder::new()
        .name("tty-hangup".into())
        .spawn(move || {
            if wait_for_hangup(&std::io::stdin()) {
                tx.send(AppEvent::Terminate);
            }
        });
}

/// Blocks until `fd` reports a hang-up or an error (true), or polling
/// itself fails (false).
pub fn wait_for_hangup(fd: &impl AsFd) -> bool {
    let gone = PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL;
    loop {
        let mut fds = [PollFd::new(fd, PollFlags::empty())];
        match poll(&mut fds, None) {
            Ok(_) if fds[0].revents().intersects(gone) => return true,
            Ok(_) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pty_master_wakes_the_watcher_and_an_open_one_does_not() {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let r = wait_for_hangup(&slave);
            let _ = tx.send(r);
        });
        // Alive terminal: nothing to report (a bounded look, not a timing claim:
        // a wrong wake-up would show up here or as `false` below).
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        drop(master);
        assert!(rx.recv().unwrap(), "hang-up reported");
        t.join().unwrap();
    }
}
