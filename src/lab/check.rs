//! Running check scripts: inside the sandbox (exec) or on the host with the
//! `KUBELAB_*` environment. A check passes when it exits 0; otherwise the
//! first line it printed is the reason shown to the learner.

use super::backend::{LabSandbox, ScriptOutput};
use crate::doc::ir::{CheckBlock, CheckSide};
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one check may run before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// CPU seconds each process of a check may use (RLIMIT_CPU; inherited by the
/// script's children). A check reads a few files: a busy loop is stopped
/// here instead of pegging a core for the whole [`CHECK_TIMEOUT`].
pub const CHECK_CPU_SECONDS: u64 = 2;

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
}

/// Everything a check run needs besides the script.
pub struct CheckEnv<'a> {
    /// Absolute path of the kubelab binary (`$KUBELAB`).
    pub kubelab: &'a Path,
    pub lesson: &'a str,
    pub timeout: Duration,
}

/// Runs one check against a running sandbox.
pub fn run_check(check: &CheckBlock, sandbox: &dyn LabSandbox, env: &CheckEnv) -> CheckResult {
    let out = match check.on {
        CheckSide::Sandbox => sandbox.exec_script(&check.code, env.timeout),
        CheckSide::Host => {
            let mut vars = sandbox.host_env();
            vars.push(("KUBELAB".into(), env.kubelab.display().to_string()));
            vars.push(("KUBELAB_LESSON".into(), env.lesson.to_string()));
            vars.push(("KUBELAB_SANDBOX".into(), sandbox.name().to_string()));
            run_host_script(&check.code, &vars, env.timeout)
        }
    };
    result_of(&check.id, out)
}

fn result_of(id: &str, out: io::Result<ScriptOutput>) -> CheckResult {
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
/// limited to [`CHECK_CPU_SECONDS`] of CPU per process.
pub fn run_host_script(
    script: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> io::Result<ScriptOutput> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("/bin/sh");
    // Own process group, so a timeout kills the script's children too (a
    // surviving grandchild would hold the output pipes open).
    cmd.process_group(0)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Before exec, so the script cannot fork an unlimited child first.
    kubelab_sandbox::rlimit::limit_cpu(&mut cmd, CHECK_CPU_SECONDS);
    wait_with_timeout(cmd.spawn()?, timeout)
}

/// Collects a child's output, killing it (and its process group) at `timeout`.
pub fn wait_with_timeout(
    mut child: std::process::Child,
    timeout: Duration,
) -> io::Result<ScriptOutput> {
    let stdout = child.stdout.take().map(|r| Box::new(r) as Stream);
    let stderr = child.stderr.take().map(|r| Box::new(r) as Stream);
    let pid = child.id();
    let child = std::cell::RefCell::new(child);
    collect_script(
        stdout,
        stderr,
        timeout,
        || {
            Ok(child
                .borrow_mut()
                .try_wait()?
                .map(crate::panes::pty::exit_code))
        },
        || {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            let mut c = child.borrow_mut();
            let _ = c.kill();
            Ok(crate::panes::pty::exit_code(c.wait()?))
        },
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
        let o = run_host_script(
            "echo; echo 'no file /tmp/x yet'; echo more; exit 3",
            &[],
            CHECK_TIMEOUT,
        )
        .unwrap();
        let r = result_of("c", Ok(o));
        assert!(!r.passed);
        assert_eq!(r.reason.as_deref(), Some("no file /tmp/x yet"));
        let ok = result_of(
            "c",
            run_host_script(
                "test \"$A\" = b",
                &[("A".into(), "b".into())],
                CHECK_TIMEOUT,
            ),
        );
        assert!(ok.passed, "{ok:?}");
    }

    #[test]
    fn a_background_child_holding_the_output_does_not_hang_the_check() {
        // The script ends at once; its child keeps stdout open for 30 s.
        let o = run_host_script("sleep 30 & echo $!; exit 4", &[], CHECK_TIMEOUT).unwrap();
        let child = o.stdout.trim().parse::<i32>().ok();
        // Still running: the output was collected without waiting for it.
        let alive = child.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if let Some(pid) = child.and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
        assert!(alive, "{o:?}");
        assert!(!o.timed_out);
        assert_eq!(o.code, 4);
        assert!(child.is_some(), "{o:?}");
    }

    #[test]
    fn a_busy_loop_check_is_stopped_by_its_cpu_limit_not_the_timeout() {
        // A wall-clock timeout far beyond the CPU limit: the loop must end
        // by SIGXCPU, with a reason saying so.
        let timeout = Duration::from_secs(300);
        let o = run_host_script("while :; do :; done", &[], timeout).unwrap();
        assert!(!o.timed_out, "{o:?}");
        assert_eq!(o.code, EXIT_SIGXCPU, "{o:?}");
        let r = result_of("busy", Ok(o));
        assert!(!r.passed);
        assert!(r.reason.unwrap().contains("CPU time"));
        // A child of the script inherits the limit, even one forked first
        // thing (a limit set after spawn once lost this race under load).
        let o = run_host_script("sh -c 'while :; do :; done'; exit $?", &[], timeout).unwrap();
        assert_eq!(o.code, EXIT_SIGXCPU, "{o:?}");
        let o = run_host_script("grep 'Max cpu time' /proc/self/limits", &[], timeout).unwrap();
        let limits: Vec<&str> = o.stdout.split_whitespace().collect();
        assert_eq!(limits[3..5], ["2", "3"], "{o:?}");
    }

    #[test]
    fn reason_has_no_terminal_controls() {
        let o = run_host_script(
            "printf '\\033[2J\\n\\033]52;c;aGk=\\007\\033[31mnot\\302\\23331m done\\033[0m\\r\\n'; exit 1",
            &[],
            CHECK_TIMEOUT,
        )
        .unwrap();
        let r = result_of("c", Ok(o));
        let why = r.reason.unwrap();
        assert_eq!(crate::sanitize::first_control(&why, false), None, "{why:?}");
        // The C1 CSI is dropped by the emulator like the 7-bit ones.
        assert_eq!(why, "not31m done");
    }

    #[test]
    fn output_is_capped() {
        let o =
            run_host_script("head -c 3000000 /dev/zero | tr '\\0' x", &[], CHECK_TIMEOUT).unwrap();
        assert_eq!(o.code, 0);
        assert_eq!(o.stdout.len(), OUTPUT_CAP);
    }

    #[test]
    fn a_hanging_check_times_out() {
        let o = run_host_script("sleep 30", &[], Duration::from_millis(200)).unwrap();
        assert!(o.timed_out);
        assert!(!result_of("c", Ok(o)).passed);
    }
}
