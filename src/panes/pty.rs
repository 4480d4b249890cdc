//! Pseudo-terminals without `unsafe`: open a master/slave pair, resize it, and
//! start a host program on the slave side.
//!
//! Sandboxed shells come from the engine (it owns spawning inside namespaces);
//! this module only needs the master fd and a way to wait for the child. A
//! plain host shell (`spawn_host`) sits behind the same [`PtyChild`] interface
//! so the pane and its tests work the same with or without a sandbox.

use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};

/// Smallest and largest terminal sizes we hand to a PTY. A zero-sized or huge
/// window confuses programs (and a hostile resize must not allocate gigabytes).
pub const MIN_ROWS: u16 = 2;
pub const MIN_COLS: u16 = 10;
pub const MAX_ROWS: u16 = 500;
pub const MAX_COLS: u16 = 1000;

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtySize {
    pub rows: u16,
    pub cols: u16,
}

impl PtySize {
    /// A size clamped into the range every program can live with.
    pub fn clamped(rows: u16, cols: u16) -> PtySize {
        PtySize {
            rows: rows.clamp(MIN_ROWS, MAX_ROWS),
            cols: cols.clamp(MIN_COLS, MAX_COLS),
        }
    }
}

/// Both ends of a fresh pseudo-terminal.
pub struct PtyPair {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Opens a PTY pair with the given window size.
pub fn open(size: PtySize) -> io::Result<PtyPair> {
    let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    set_size(&master, size)?;
    Ok(PtyPair { master, slave })
}

/// Sets the window size the program on the slave side sees (it gets SIGWINCH).
pub fn set_size(master: impl AsFd, size: PtySize) -> io::Result<()> {
    let size = PtySize::clamped(size.rows, size.cols);
    rustix::termios::tcsetwinsize(
        master,
        Winsize {
            ws_row: size.rows,
            ws_col: size.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )?;
    Ok(())
}

/// The process on the slave side of a PTY, as far as a pane cares.
pub trait PtyChild: Send {
    /// Blocks until the process exits; returns its exit code (128+N for a
    /// signal N, as shells report it).
    fn wait(&mut self) -> io::Result<i32>;
    /// A handle that stops the process from another thread (used on drop and
    /// restart while `wait` may be blocking elsewhere).
    fn killer(&self) -> Box<dyn Fn() + Send + Sync>;
}

/// A started PTY program: the master side plus its process.
pub struct Spawned {
    pub master: OwnedFd,
    pub child: Box<dyn PtyChild>,
}

/// Starts `program args` on the host in a new session whose controlling
/// terminal is a fresh PTY. `setsid --ctty` gives job control (Ctrl-C, Ctrl-Z)
/// without `pre_exec` (which would need `unsafe` here).
pub fn spawn_host(
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    size: PtySize,
) -> io::Result<Spawned> {
    let pair = open(size)?;
    let mut cmd = Command::new("setsid");
    cmd.arg("--ctty")
        .arg("--wait")
        .arg(program)
        .args(args)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(pair.slave.try_clone()?))
        .stdout(Stdio::from(pair.slave.try_clone()?))
        .stderr(Stdio::from(pair.slave));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start `setsid {program}` (util-linux): {e}"),
        )
    })?;
    Ok(Spawned {
        master: pair.master,
        child: Box::new(HostChild { child }),
    })
}

struct HostChild {
    child: std::process::Child,
}

impl PtyChild for HostChild {
    fn wait(&mut self) -> io::Result<i32> {
        Ok(exit_code(self.child.wait()?))
    }

    fn killer(&self) -> Box<dyn Fn() + Send + Sync> {
        let pid = self.child.id();
        Box::new(move || {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                // The shell leads its own session: kill its whole process group
                // too, so a running `yes` does not outlive the pane.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        })
    }
}

/// Exit code as a shell reports it: the code, or 128 + signal number.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}
