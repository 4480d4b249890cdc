//! Running check scripts: inside the sandbox (exec) or on the host with the
//! `KUBELAB_*` environment. A check passes when it exits 0; otherwise the
//! first line it printed is the reason shown to the learner.

use super::backend::{LabSandbox, ScriptOutput};
use crate::doc::ir::{CheckBlock, CheckSide};
use std::io::{self, Read};
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The limits on one check are course limits (docs: lessons/README.md).
pub use crate::course::limits::{CHECK_CPU_SECONDS, CHECK_TIMEOUT};

/// Exit code of a process ended by SIGXCPU (RLIMIT_CPU's soft limit).
const EXIT_SIGXCPU: i32 = 128 + rustix::process::Signal::XCPU.as_raw();

/// The outcome of one run of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub id: String,
    pub passed: bool,
    /// Why it failed: the script's first output line, or what went wrong
    /// running it. `None` when it passed.
    pub reason: Option<String>,
    /// Not run: a `needs=limits` check of a sandbox without its cgroup
    /// limits can never pass. The engine's note on why (see
    /// [`super::limits_off`]); the check counts as skipped, not failed.
    pub limits_off: Option<String>,
    /// Not run: a two-track lesson's cluster-track check while its
    /// sandbox could not start (no cluster, no kubectl), with the reason.
    /// Shown as skipped, never as failed, and not recorded as done.
    pub skipped: Option<String>,
}

/// Everything a check run needs besides the script.
pub struct CheckEnv<'a> {
    /// Absolute path of the kubelab binary (`$KUBELAB`).
    pub kubelab: &'a Path,
    pub lesson: &'a str,
    pub timeout: Duration,
    /// Set when the learner declined host commands: `on=host` checks are
    /// not run and fail with this reason.
    pub host_declined: Option<&'a str>,
}

/// Runs one check against a running sandbox.
pub fn run_check(check: &CheckBlock, sandbox: &dyn LabSandbox, env: &CheckEnv) -> CheckResult {
    if let Some(why) = sandbox.limits_off().filter(|_| check.needs_limits) {
        return CheckResult {
            id: check.id.clone(),
            passed: false,
            reason: None,
            limits_off: Some(why),
            skipped: None,
        };
    }
    let out = match check.on {
        CheckSide::Sandbox => sandbox.exec_script(&check.code, env.timeout),
        CheckSide::Host if env.host_declined.is_some() => {
            return CheckResult {
                id: check.id.clone(),
                passed: false,
                reason: env.host_declined.map(str::to_string),
                limits_off: None,
                skipped: None,
            };
        }
        CheckSide::Cluster => {
            let (passed, reason) = crate::cluster::lab::run_check(&check.code, env.lesson);
            return CheckResult {
                id: check.id.clone(),
                passed,
                reason,
                limits_off: None,
                skipped: None,
            };
        }
        CheckSide::Host => {
            let mut vars = sandbox.host_env();
            vars.push(("KUBELAB".into(), env.kubelab.display().to_string()));
            vars.push(("KUBELAB_LESSON".into(), env.lesson.to_string()));
            vars.push(("KUBELAB_SANDBOX".into(), sandbox.name().to_string()));
            run_host_script(env.kubelab, &check.code, &vars, env.timeout)
        }
    };
    result_of(&check.id, out)
}

/// A check's result from its script's output: passed on exit 0, else the
/// first output line (escape sequences stripped) as the reason.
pub fn result_of(id: &str, out: io::Result<ScriptOutput>) -> CheckResult {
    let (passed, reason) = match out {
        Err(e) => (false, Some(format!("could not run the check: {e}"))),
        Ok(o) if o.timed_out => (
            false,
            Some(format!(
                "the check did not finish in {}s",
                CHECK_TIMEOUT.as_secs()
            )),
        ),
        Ok(o) if o.code == 0 => (true, None),
        Ok(o) if o.code == EXIT_SIGXCPU => (
            false,
            Some(format!(
                "the check used more than {CHECK_CPU_SECONDS}s of CPU time and was stopped"
            )),
        ),
        Ok(o) => {
            let line = first_line(&o.stdout)
                .or_else(|| first_line(&o.stderr))
                .unwrap_or_else(|| format!("not done yet (exit code {})", o.code));
            (false, Some(line))
        }
    };
    CheckResult {
        id: id.to_string(),
        passed,
        reason,
        limits_off: None,
        skipped: None,
    }
}

/// The first line of script output that shows something, as a terminal
/// would show it (escape sequences interpreted and dropped, controls
/// escaped: the script is course code), cut to 200 characters.
fn first_line(s: &str) -> Option<String> {
    s.lines()
        .map(crate::sanitize::terminal_line)
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().chars().take(200).collect())
}

/// `sh -c SCRIPT` on the host with extra environment, killed at `timeout`,
/// supervised by `kubelab` (the kubelab binary) so that neither the script
/// nor anything it starts outlives the check or kubelab (see
/// [`super::host_run`]), and limited to [`CHECK_CPU_SECONDS`] of CPU per
/// process.
pub fn run_host_script(
    kubelab: &Path,
    script: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> io::Result<ScriptOutput> {
    let mut host = super::host_run::spawn(kubelab, script, env)?;
    let stdout = host.child.stdout.take().map(|r| Box::new(r) as Stream);
    let stderr = host.child.stderr.take().map(|r| Box::new(r) as Stream);
    let host = std::cell::RefCell::new(host);
    collect_script(
        stdout,
        stderr,
        timeout,
        || {
            Ok(host
                .borrow_mut()
                .child
                .try_wait()?
                .map(crate::panes::pty::exit_code))
        },
        || Ok(crate::panes::pty::exit_code(host.borrow_mut().stop()?)),
    )
}

/// Bytes of each output stream kept; the rest is read and dropped, so a
/// chatty script can neither fill a pipe and hang nor fill the memory.
const OUTPUT_CAP: usize = 1 << 20;
/// How long output may keep coming after the script ended: a background
/// child that inherited the pipes (`daemon &`) can hold them open for ever,
/// and the check loop must not wait for it.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// One output pipe of a script.
pub type Stream = Box<dyn Read + Send>;

/// Runs a started script to its end (`try_wait` gives its exit code) or to
/// `timeout` (then `kill` stops it and gives the code), reading its output
/// on helper threads meanwhile. Shared by host scripts and sandbox execs.
pub fn collect_script(
    stdout: Option<Stream>,
    stderr: Option<Stream>,
    timeout: Duration,
    mut try_wait: impl FnMut() -> io::Result<Option<i32>>,
    kill: impl FnOnce() -> io::Result<i32>,
) -> io::Result<ScriptOutput> {
    let out = Drain::start(stdout);
    let err = Drain::start(stderr);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let code = loop {
        if let Some(code) = try_wait()? {
            break code;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            break kill()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let until = Instant::now() + OUTPUT_GRACE;
    Ok(ScriptOutput {
        code,
        stdout: out.finish(until),
        stderr: err.finish(until),
        timed_out,
    })
}

/// A thread reading one pipe to its end into a shared, capped buffer.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    fn start(stream: Option<Stream>) -> Drain {
        let buf = Arc::new(Mutex::new(Vec::new()));
        // Never sent on: the thread's end drops `tx`, which ends the wait.
        let (tx, done) = mpsc::channel::<()>();
        let b = buf.clone();
        std::thread::spawn(move || {
            let _done = tx;
            let Some(mut r) = stream else { return };
            let mut chunk = [0u8; 8192];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut b = b.lock().unwrap_or_else(|e| e.into_inner());
                        let room = OUTPUT_CAP.saturating_sub(b.len());
                        b.extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Drain { buf, done }
    }

    /// What was read once the pipe closed, or by `until` at the latest.
    fn finish(self, until: Instant) -> String {
        let _ = self
            .done
            .recv_timeout(until.saturating_duration_since(Instant::now()));
        let b = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&b).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_the_first_output_line() {
        let out = |stdout: &str, code| ScriptOutput {
            code,
            stdout: stdout.into(),
            stderr: String::new(),
            timed_out: false,
        };
        let r = result_of("c", Ok(out("\nno file /tmp/x yet\nmore\n", 3)));
        assert!(!r.passed);
        assert_eq!(r.reason.as_deref(), Some("no file /tmp/x yet"));
        assert!(result_of("c", Ok(out("", 0))).passed);
        let timed_out = ScriptOutput {
            timed_out: true,
            ..out("", 137)
        };
        assert!(!result_of("c", Ok(timed_out)).passed);
    }
}
