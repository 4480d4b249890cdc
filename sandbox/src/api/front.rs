//! A sandbox in the foreground, as `kubelab run` shows it: the payload's
//! output on the user's terminal (through pipes, or a PTY with the terminal
//! in raw mode; never the terminal itself), signals passed on, the
//! payload's exit code returned.
//!
//! The process doing this waits as long as the sandbox lives. It starts in
//! kubelab itself (a fork is the fastest way to a running sandbox), and if
//! the sandbox is still running after [`SLIM_AFTER`] it re-executes itself
//! as the small helper installed beside kubelab ([`helper_beside_current_exe`])
//! and carries on there, as does the supervisor: an idle `kubelab run` then
//! holds a few hundred kB instead of two copies of the app, and short runs
//! never pay for the exec.

use super::handoff::Handoff;
use super::spawn::{Sandbox, SpawnOptions, StdioMode};
use crate::error::{Error, EXIT_SETUP_FAILED};
use crate::process::payload::command_or_shell;
use crate::process::protocol::{read_config, CONFIG_ENV};
use crate::process::supervisor::SLIM_AFTER;
use crate::spec::Spec;
use crate::sys::{self, tty};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The helper mode taking over a running foreground sandbox.
pub const RUN_ARG: &str = "__sandbox-run";
/// The helper binary's file name, installed next to `kubelab`.
pub const HELPER_NAME: &str = "kubelab-helper";

/// What to run in the foreground.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Foreground {
    pub spec: Spec,
    /// Give the payload a PTY (the caller's stdin is a terminal).
    pub tty: bool,
    /// Forward the caller's stdin (with `tty`: through the PTY, raw mode).
    pub interactive: bool,
    /// Set in the helper: the running sandbox it takes over.
    #[serde(default)]
    pub(crate) adopt: Option<Handoff>,
}

impl Foreground {
    pub fn new(spec: Spec, tty: bool, interactive: bool) -> Foreground {
        Foreground {
            spec,
            tty,
            interactive,
            adopt: None,
        }
    }
}

/// Signals that ask the payload to end: the first is passed on, a second
/// kills the whole sandbox.
const TERMINATING: &[libc::c_int] = &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The helper binary next to the running executable, if there is one.
pub fn helper_beside_current_exe() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let exe = std::env::current_exe().ok()?;
    let helper = exe.with_file_name(HELPER_NAME);
    let md = std::fs::metadata(&helper).ok()?;
    (md.is_file() && md.permissions().mode() & 0o111 != 0).then_some(helper)
}

/// Replaces this process with `helper` carrying on with `fg` (its sandbox
/// in `fg.adopt`), keeping blocked and pending signals. Returns only if the
/// exec failed.
fn exec_helper(helper: &Path, fg: &Foreground) -> std::io::Error {
    let json = match serde_json::to_string(fg) {
        Ok(j) => j,
        Err(e) => return std::io::Error::other(e),
    };
    let mut env: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| k != CONFIG_ENV).collect();
    env.push((CONFIG_ENV.to_string(), json));
    // The command after `--` is only for `ps`; the helper reads the config.
    let mut argv = vec!["kubelab".to_string(), RUN_ARG.to_string(), "--".to_string()];
    argv.extend(command_or_shell(&fg.spec));
    let _ = std::io::stdout().flush();
    sys::exec_keeping_signals(helper, &argv, &env)
}

/// Entry point of `<helper> __sandbox-run`.
pub(crate) fn helper_main() -> i32 {
    match read_config::<Foreground>() {
        Ok(fg) => run(&fg, None),
        Err(e) => {
            eprintln!("kubelab: {e} (this mode is internal to kubelab)");
            EXIT_SETUP_FAILED
        }
    }
}

/// Runs `fg` to its end; returns the payload's exit code (125-127 for
/// kubelab's own failures, after printing what to fix). `slim_exe`: the
/// small helper to move into if the sandbox runs for a while (not with
/// `interactive`, whose stdin copy could lose keys across the exec).
pub fn run(fg: &Foreground, slim_exe: Option<&Path>) -> i32 {
    // Blocked before the spawn so a payload that ends at once cannot exit
    // unseen (its SIGCHLD waits in the signalfd); the forked supervisor
    // resets its mask, threads started later inherit it.
    let mut sigs = TERMINATING.to_vec();
    sigs.extend([libc::SIGWINCH, libc::SIGCHLD]);
    let signals = sys::block_signals(&sigs).and_then(|set| sys::signalfd(&set));
    let mut sb = match &fg.adopt {
        Some(h) => match Sandbox::from_handoff(h.clone()) {
            Ok(sb) => sb,
            Err(e) => {
                eprintln!("kubelab: could not take over the running sandbox: {e}");
                return EXIT_SETUP_FAILED;
            }
        },
        None => match start(fg, slim_exe) {
            Ok(sb) => sb,
            Err(code) => return code,
        },
    };
    let copies = copy_stdio(&mut sb, fg.interactive);
    let mut slim_at = slim_exe
        .filter(|_| !fg.interactive && fg.adopt.is_none() && copies.is_empty())
        .map(|exe| (exe, Instant::now() + SLIM_AFTER));
    let signals = match signals {
        Ok(s) => s,
        // Without a signalfd: no forwarding, just wait.
        Err(_) => return drained(sb.wait().unwrap_or(EXIT_SETUP_FAILED), copies),
    };
    let master = sb.take_pty_master().map(std::fs::File::from);
    // Raw mode only when keys are forwarded: without -i, Ctrl-C must stay
    // a signal to us, or nothing could stop the sandbox from the keyboard.
    let raw = match (&master, fg.interactive && tty::is_tty(0)) {
        (Some(_), true) => tty::RawMode::enable(0).ok(),
        _ => None,
    };
    if let (Some(m), true) = (&master, fg.interactive) {
        if let Ok(mut to_pty) = m.try_clone() {
            // A thread, so a payload that does not read its input cannot
            // stall the output copy below.
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut stdin = std::io::stdin().lock();
                while let Ok(n @ 1..) = stdin.read(&mut buf) {
                    if to_pty.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    }
    let mut fds = vec![signals.as_raw_fd()];
    if let Some(m) = &master {
        fds.push(m.as_raw_fd());
    }
    let mut out = std::io::stdout();
    let mut buf = [0u8; 8192];
    let mut asked_to_end = 0;
    let mut pty_open = master.is_some();
    loop {
        let watch = if pty_open { &fds[..] } else { &fds[..1] };
        let timeout_ms = slim_at.map_or(1000, |(_, at)| {
            at.saturating_duration_since(Instant::now()).as_millis() as i32 + 1
        });
        let ready = sys::poll_read(watch, timeout_ms).unwrap_or_default();
        if ready.get(1) == Some(&true) {
            if let Some(mut m) = master.as_ref() {
                // EIO once every holder of the PTY's other end is gone.
                match m.read(&mut buf) {
                    Ok(n @ 1..) => {
                        let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
                    }
                    _ => pty_open = false,
                }
            }
        }
        for s in sys::read_signals(signals.as_fd()) {
            match s {
                libc::SIGCHLD => {}
                libc::SIGWINCH => {
                    if let (Some(m), Ok((rows, cols))) = (&master, tty::size(0)) {
                        let _ = Sandbox::resize_pty(m, rows, cols);
                    }
                }
                s => {
                    asked_to_end += 1;
                    if asked_to_end == 1 {
                        let _ = sb.signaller().send(s);
                        if !fg.spec.init && !pid1_handles(sb.pid(), s) {
                            if matches!(s, libc::SIGINT | libc::SIGQUIT) && raw.is_none() {
                                // After the terminal's echo of ^C.
                                eprintln!();
                            }
                            say(
                                raw.is_some(),
                                &format!(
                                    "{} was passed on, but the sandbox's PID 1 (the command \
                                     itself) has no handler for it, and the kernel drops such \
                                     signals for a namespace's init. Send it again (Ctrl-C) to \
                                     kill the sandbox; `kubelab run --init` puts an init in front \
                                     that passes signals on.",
                                    signal_name(s)
                                ),
                            );
                        }
                    } else if asked_to_end == 2 {
                        if raw.is_none() {
                            eprintln!();
                        }
                        say(raw.is_some(), "killing the sandbox");
                        sb.teardown();
                    }
                }
            }
        }
        // The PTY is drained first so the payload's last words are shown.
        if !pty_open {
            if let Ok(Some(code)) = sb.try_wait() {
                return drained(code, copies);
            }
        }
        if let Some((exe, at)) = slim_at {
            if Instant::now() >= at {
                slim_at = None;
                if asked_to_end == 0 {
                    sb = slim_down(sb, master.as_ref(), fg, exe);
                }
            }
        }
    }
}

/// Moves this foreground run into the small helper (see the module
/// comment); returns the handle if that is not possible.
fn slim_down(sb: Sandbox, master: Option<&std::fs::File>, fg: &Foreground, exe: &Path) -> Sandbox {
    let mut sb = sb;
    // The handle gave its PTY master to this loop: give it back for the trip.
    if let Some(m) = master.and_then(|m| m.try_clone().ok()) {
        sb.put_pty_master(m.into());
    }
    let h = match sb.into_handoff() {
        Ok(h) => h,
        Err(failed) => {
            let (mut sb, e) = *failed;
            crate::trace::mark(&format!("caller: stays as it is ({e})"));
            drop(sb.take_pty_master());
            return sb;
        }
    };
    let next = Foreground {
        adopt: Some(h.clone()),
        ..fg.clone()
    };
    let e = exec_helper(exe, &next);
    crate::trace::mark(&format!("caller: stays as it is ({e})"));
    match Sandbox::from_handoff(h) {
        Ok(mut sb) => {
            drop(sb.take_pty_master());
            sb
        }
        // The descriptors were open a moment ago; nothing sensible is left.
        Err(e) => {
            eprintln!("kubelab: lost the sandbox's handle: {e}");
            std::process::exit(EXIT_SETUP_FAILED)
        }
    }
}

/// Without `-t`, the user's terminal is never handed to the sandbox: a
/// payload holding it could turn its echo off for good, or push keys into
/// it (TIOCSTI) that the user's shell runs after the sandbox ends. If any
/// of stdin/stdout/stderr is a terminal, all three become pipes copied
/// here; otherwise (scripts, `cmd | kubelab run ... | cmd`) they are
/// passed on as they are.
fn needs_pipes() -> bool {
    (0..3).any(tty::is_tty)
}

/// Copies the sandbox's pipes (if it got pipes): stdin only when it is not
/// a terminal or with `-i` (a terminal without `-i` gives end-of-file, as
/// `docker run` does), stdout and stderr always. Returns the output copies.
fn copy_stdio(sb: &mut Sandbox, interactive: bool) -> Vec<std::thread::JoinHandle<()>> {
    if let Some(mut to_sb) = sb.take_stdin() {
        if interactive || !tty::is_tty(0) {
            // Never joined: it may sit in read(2) on our stdin forever.
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_sb);
            });
        }
    }
    let mut copies = Vec::new();
    if let Some(mut out) = sb.take_stdout() {
        copies.push(std::thread::spawn(move || {
            let _ = std::io::copy(&mut out, &mut std::io::stdout());
        }));
    }
    if let Some(mut err) = sb.take_stderr() {
        copies.push(std::thread::spawn(move || {
            let _ = std::io::copy(&mut err, &mut std::io::stderr());
        }));
    }
    copies
}

/// The exit code, once the payload's last output was copied.
fn drained(code: i32, copies: Vec<std::thread::JoinHandle<()>>) -> i32 {
    for c in copies {
        let _ = c.join();
    }
    code
}

/// Starts the sandbox and says what it runs without.
fn start(fg: &Foreground, slim_exe: Option<&Path>) -> Result<Sandbox, i32> {
    let stdio = if fg.tty {
        let (rows, cols) = tty::size(0).unwrap_or((24, 80));
        StdioMode::Pty { rows, cols }
    } else if needs_pipes() {
        StdioMode::Piped
    } else {
        StdioMode::Inherit
    };
    let opts = SpawnOptions {
        stdio,
        slim_exe: slim_exe.map(Path::to_path_buf),
        ..SpawnOptions::default()
    };
    let sb = Sandbox::spawn(&fg.spec, &opts).map_err(|e| report(&e))?;
    if let Some(note) = sb.cgroup_note() {
        if !fg.spec.limits.is_empty() {
            if sb.cgroup().is_none() {
                eprintln!("kubelab: warning: running WITHOUT the requested limits: {note}");
            } else {
                eprintln!("kubelab: warning: {note}");
            }
        }
    }
    Ok(sb)
}

/// A line from kubelab on stderr; in raw mode the terminal needs the `\r`.
fn say(raw: bool, msg: &str) {
    if raw {
        eprint!("\r\nkubelab: {msg}\r\n");
    } else {
        eprintln!("kubelab: {msg}");
    }
}

/// Prints a sandbox error as kubelab's CLI does (`kubelab: FIELD: what to
/// fix`) and returns its exit code (125 when it names none).
pub fn report(e: &Error) -> i32 {
    eprintln!("kubelab: {}: {}", e.field, e.message);
    if e.exit_code == 0 {
        EXIT_SETUP_FAILED
    } else {
        e.exit_code
    }
}

/// Whether the process `pid` catches, blocks or ignores `sig` (read from
/// the Sig* masks of /proc/PID/status): otherwise a namespace's init never
/// sees it.
fn pid1_handles(pid: u32, sig: libc::c_int) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Ok(status) => handles(&status, sig),
        // Gone already: nothing to explain.
        Err(_) => true,
    }
}

/// [`pid1_handles`] on the text of a /proc/PID/status.
fn handles(status: &str, sig: libc::c_int) -> bool {
    let bit = 1u64 << (sig - 1);
    status
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k, "SigBlk" | "SigIgn" | "SigCgt").then_some(v.trim())
        })
        .filter_map(|hex| u64::from_str_radix(hex, 16).ok())
        .any(|mask| mask & bit != 0)
}

fn signal_name(sig: libc::c_int) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT (Ctrl-C)",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        _ => "the signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_counts_as_handled_when_caught_blocked_or_ignored() {
        // /proc/PID/status of `sleep` (nothing), and of an init that blocks
        // TERM (signal 15), ignores PIPE (13) and catches INT (2); bit N-1 is
        // signal N.
        let plain =
            "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n";
        let init =
            "SigBlk:\t0000000000004000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000000000002\n";
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGPIPE] {
            assert!(!handles(plain, sig), "{sig}");
            assert!(handles(init, sig), "{sig}");
        }
        assert!(!handles(init, libc::SIGUSR2));
        // An unreadable status (the process is gone) claims nothing.
        assert!(pid1_handles(u32::MAX, libc::SIGINT));
    }

    #[test]
    fn the_config_survives_the_trip_through_the_environment() {
        let fg = Foreground::new(
            Spec {
                command: vec!["sh".into(), "-c".into(), "exit 3".into()],
                ..Spec::default()
            },
            false,
            true,
        );
        let json = serde_json::to_string(&fg).unwrap();
        let back: Foreground = serde_json::from_str(&json).unwrap();
        assert_eq!(back.spec, fg.spec);
        assert!(back.interactive && !back.tty);
    }
}
