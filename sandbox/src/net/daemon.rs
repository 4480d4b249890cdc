//! A long-running program inside a holder's namespaces that lives no
//! longer than its caller: how a node runs its DNS server (dnsmasq) in its
//! network namespace.
//!
//! The helper (`DAEMON_ARG <pid> -- PROGRAM ARGS…`) joins the holder's
//! namespaces, starts the program as its child (with `PR_SET_PDEATHSIG`,
//! set by the helper's only thread, so a `kill -9` of the helper ends the
//! program too) and then reads its stdin, a pipe from the caller:
//! - a line `hup` sends the program SIGHUP (dnsmasq rereads its hosts
//!   files);
//! - EOF (the caller dropped the handle, or died however it died) sends it
//!   SIGTERM, then SIGKILL after a grace, and the helper exits.
//!
//! When the program exits on its own, the helper exits with its code. The
//! program's stderr is the caller's pipe ([`NetnsDaemon::stderr_lines`]).

use super::DAEMON_ARG;
use crate::sys;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the program has to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);
/// The control line that makes the helper send SIGHUP.
const HUP: &str = "hup";

/// A program running in a node's network namespace; dropping the handle
/// stops it and waits for it.
#[derive(Debug)]
pub struct NetnsDaemon {
    child: Child,
    control: Option<ChildStdin>,
}

impl NetnsDaemon {
    /// Starts `argv` inside the namespaces of holder `holder_pid`.
    pub fn start(helper_exe: &Path, holder_pid: u32, argv: &[OsString]) -> io::Result<NetnsDaemon> {
        if argv.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no program to run",
            ));
        }
        let mut child = Command::new(helper_exe)
            .arg(DAEMON_ARG)
            .arg(holder_pid.to_string())
            .arg("--")
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .current_dir("/")
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("start the daemon helper: {e}")))?;
        let control = child.stdin.take();
        Ok(NetnsDaemon { child, control })
    }

    /// Reads stderr lines until `until` matches one (`Ok(lines)`), the
    /// program ends (`Err` with what it said), or `timeout`. At most
    /// `max_lines` lines of at most 1 KiB are kept.
    pub fn stderr_lines(
        &mut self,
        until: impl Fn(&str) -> bool,
        timeout: Duration,
        max_lines: usize,
    ) -> Result<Vec<String>, String> {
        let Some(err) = self.child.stderr.take() else {
            return Err("the program's output was already read".into());
        };
        let (tx, rx) = std::sync::mpsc::channel::<Option<String>>();
        // A reader thread: lines go to the caller until it stops listening,
        // then the rest is read and dropped so the program never blocks.
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            loop {
                let mut line = Vec::new();
                match (&mut r).take(1024).read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        return;
                    }
                    Ok(_) => {
                        let text: String = String::from_utf8_lossy(&line)
                            .trim_end()
                            .chars()
                            .map(|c| if c.is_control() { ' ' } else { c })
                            .collect();
                        let _ = tx.send(Some(text));
                    }
                }
            }
        });
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Some(l)) => {
                    let done = until(&l);
                    if lines.len() < max_lines {
                        lines.push(l);
                    }
                    if done {
                        return Ok(lines);
                    }
                }
                Ok(None) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(if lines.is_empty() {
                        "it exited without a word".into()
                    } else {
                        lines.join("; ")
                    })
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "it did not say it started within {timeout:?}: {}",
                        lines.join("; ")
                    ))
                }
            }
        }
    }

    /// Sends the program SIGHUP (through the helper).
    pub fn hangup(&mut self) -> io::Result<()> {
        match &mut self.control {
            Some(c) => c.write_all(format!("{HUP}\n").as_bytes()),
            None => Err(io::Error::other("the daemon is stopped")),
        }
    }

    /// Whether the helper (and so the program) still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The helper's host PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl NetnsDaemon {
    /// Stops the program (SIGTERM, then SIGKILL) and waits for the helper;
    /// what dropping the handle does.
    pub fn stop(&mut self) {
        drop(self.control.take());
        let deadline = Instant::now() + GRACE + Duration::from_secs(1);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // The helper's death SIGKILLs the program (its death signal).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NetnsDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The helper (argv: `DAEMON_ARG <pid> -- PROGRAM ARGS…`); its exit code.
pub(crate) fn daemon_main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let (Some(pid), Some(sep)) = (args.first(), args.get(1)) else {
        eprintln!("usage: {DAEMON_ARG} <pid> -- PROGRAM ARGS…");
        return 125;
    };
    if sep != "--" || args.len() < 3 {
        eprintln!("usage: {DAEMON_ARG} <pid> -- PROGRAM ARGS…");
        return 125;
    }
    // Single-threaded until here: setns into a user namespace needs it.
    if let Err(e) = super::enter::join(&pid.to_string_lossy()) {
        eprintln!("kubelab: {e}");
        return 125;
    }
    let mut cmd = Command::new(&args[2]);
    cmd.args(&args[3..]).stdin(Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe syscalls (sigprocmask, signal, prctl). It is
    // set by this helper's only thread, so the death signal follows this
    // process.
    unsafe {
        cmd.pre_exec(|| {
            // The node agent blocks HUP, INT, QUIT, TERM and CHLD for its
            // signal thread, and a mask survives fork and exec: dnsmasq
            // then never saw the SIGHUP that reloads its hosts file.
            sys::reset_signals();
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab: start {}: {e}", args[2].to_string_lossy());
            return 127;
        }
    };
    let child_pid = child.id() as libc::pid_t;
    let exited = Arc::new(AtomicI32::new(i32::MIN));
    // The control pipe: `hup` lines, then EOF ends the program.
    let flag = exited.clone();
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut lines = BufReader::new(stdin.lock());
        loop {
            let mut line = Vec::new();
            match (&mut lines).take(64).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.trim_ascii() == HUP.as_bytes() => {
                    if flag.load(Ordering::SeqCst) == i32::MIN {
                        let _ = sys::kill(child_pid, libc::SIGHUP);
                    }
                }
                Ok(_) => {}
            }
        }
        if flag.load(Ordering::SeqCst) == i32::MIN {
            let _ = sys::kill(child_pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) != i32::MIN {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = sys::kill(child_pid, libc::SIGKILL);
    });
    let code = match child.wait() {
        Ok(s) => s.code().unwrap_or(128),
        Err(_) => 1,
    };
    exited.store(code, Ordering::SeqCst);
    code
}
