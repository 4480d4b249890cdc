//! Host checks (`on=host`) of a course: `kubelab test` runs them only with
//! `--trust` (or a yes on a terminal), and nothing they start outlives the
//! check or kubelab — not even after `kill -9`.

mod common;
use common::{engine_or_skip, kubelab, one_lesson_course, wait_until};
use kubelab::lab::check::run_host_script;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(10);

fn alive(pid: i32) -> bool {
    // A zombie has no cmdline left; count only running processes.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn kill9(pid: i32) {
    let _ = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

#[test]
fn output_exit_code_and_timeout() {
    let k = kubelab();
    let o = run_host_script(&k, "echo; echo 'no file yet'; exit 3", &[], LONG).unwrap();
    assert_eq!((o.code, o.stdout.as_str()), (3, "\nno file yet\n"));
    let o = run_host_script(&k, "test \"$A\" = b", &[("A".into(), "b".into())], LONG).unwrap();
    assert_eq!(o.code, 0, "{o:?}");
    let o = run_host_script(&k, "head -c 3000000 /dev/zero | tr '\\0' x", &[], LONG).unwrap();
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout.len(), 1 << 20, "output is capped");
    let o = run_host_script(&k, "echo $$; sleep 30", &[], Duration::from_millis(300)).unwrap();
    assert!(o.timed_out);
    let pid: i32 = o.stdout.trim().parse().unwrap();
    wait_until("the timed-out script is gone", 20, || {
        (!alive(pid)).then_some(())
    });
}

#[test]
fn a_background_child_ends_with_its_check() {
    // The script ends at once; its child would keep running for 30 s.
    let o = run_host_script(&kubelab(), "sleep 30 & echo $!; exit 4", &[], LONG).unwrap();
    assert!(!o.timed_out);
    assert_eq!(o.code, 4);
    let child: i32 = o.stdout.trim().parse().unwrap();
    wait_until("the background child is gone", 20, || {
        (!alive(child)).then_some(())
    });
}

/// A course whose one lesson has a host check that records its pids and
/// sleeps (and a sandbox check, so the lab runs).
fn sleeping_course(dir: &Path, pids: &Path) {
    one_lesson_course(
        dir,
        &format!(
            "+++\nid = \"01-a\"\ntitle = \"A\"\npanes = [\"shell\"]\n[sandboxes.main]\n+++\n\n# A\n\n\
             ```sh check id=sleeps on=host\nsleep 300 &\necho \"$$ $!\" > {}\nwait\n```\n\n\
             ```sh solution\ntrue\n```\n",
            pids.display()
        ),
    );
}

fn kubelab_test(course: &Path, data: &Path, trust: bool) -> Command {
    let mut c = Command::new(kubelab());
    c.arg("--course").arg(course).arg("--data-dir").arg(data);
    if trust {
        c.arg("--trust");
    }
    c.arg("test").stdin(Stdio::null());
    c
}

#[test]
fn test_refuses_host_checks_of_another_course_without_trust() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    sleeping_course(dir.path(), &pids);
    let o = kubelab_test(dir.path(), data.path(), false)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--trust"), "{err}");
    assert!(err.contains("01-a: check sleeps (line 10) runs"), "{err}");
    assert!(err.contains("$ sleep 300 &"), "{err}");
    assert!(!pids.exists(), "the host check ran without a yes");
}

/// Starts `kubelab --trust test` on the sleeping course, waits for the host
/// check to run, ends kubelab with `signal`, and asserts the check's shell
/// and its child are gone.
fn host_check_ends_with_kubelab(signal: &str) {
    if engine_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    sleeping_course(dir.path(), &pids);
    let mut k = kubelab_test(dir.path(), data.path(), true)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sh, sleep) = wait_until("the host check runs", 60, || {
        let text = std::fs::read_to_string(&pids).ok()?;
        let mut it = text.split_whitespace().map(|p| p.parse::<i32>().ok());
        Some((it.next()??, it.next()??))
    });
    assert!(alive(sh) && alive(sleep));
    let ok = Command::new("kill")
        .args([signal, &k.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let _ = k.wait();
    let gone = std::panic::catch_unwind(|| {
        wait_until("the host check's processes are gone", 20, || {
            (!alive(sh) && !alive(sleep)).then_some(())
        })
    });
    // Never leave the sleepers behind, even when the assertion fails.
    kill9(sh);
    kill9(sleep);
    assert!(gone.is_ok(), "kill {signal} left the host check running");
}

#[test]
fn a_host_check_does_not_outlive_kill_9() {
    host_check_ends_with_kubelab("-9");
}

#[test]
fn a_host_check_does_not_outlive_sigterm() {
    host_check_ends_with_kubelab("-TERM");
}

/// A tmux server of its own (socket in a temporary folder), killed on drop.
struct Tmux {
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn new() -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIP: tmux is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        Some(Tmux {
            socket: dir.path().join("tmux-host-commands"),
            _dir: dir,
        })
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "hostcmd"]).stdout)
            .into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The reader on lesson 01-a of `course`, in tmux session `hostcmd` of
/// `size` (columns, rows); the shell says KUBELAB_EXIT=<code> after it.
fn open_reader(t: &Tmux, course: &Path, data: &Path, trust: bool, size: (u16, u16)) {
    let cmd = format!(
        "env LANG=C.UTF-8 LC_ALL= {} --course {} --data-dir {} {}--lang en open 01-a; echo KUBELAB_EXIT=$?; exec sleep 600",
        kubelab().display(),
        course.display(),
        data.display(),
        if trust { "--trust " } else { "" }
    );
    let (w, h) = (size.0.to_string(), size.1.to_string());
    let out = t.run(&[
        "new-session",
        "-d",
        "-x",
        &w,
        "-y",
        &h,
        "-s",
        "hostcmd",
        "sh",
        "-c",
        &cmd,
    ]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_host_check_ends_when_the_reader_quits() {
    if engine_or_skip().is_none() {
        return;
    }
    let Some(t) = Tmux::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    sleeping_course(dir.path(), &pids);
    open_reader(&t, dir.path(), data.path(), true, (100, 30));
    let (sh, sleep) = wait_until("the host check runs in the reader", 60, || {
        let text = std::fs::read_to_string(&pids).ok()?;
        let mut it = text.split_whitespace().map(|p| p.parse::<i32>().ok());
        Some((it.next()??, it.next()??))
    });
    assert!(alive(sh) && alive(sleep));
    t.run(&["send-keys", "-t", "hostcmd", "q"]);
    let quit = std::panic::catch_unwind(|| {
        wait_until("the reader quits", 30, || {
            t.screen().contains("KUBELAB_EXIT=0").then_some(())
        });
        wait_until("the host check's processes are gone", 20, || {
            (!alive(sh) && !alive(sleep)).then_some(())
        })
    });
    kill9(sh);
    kill9(sleep);
    assert!(
        quit.is_ok(),
        "quitting the reader left the host check running:\n{}",
        t.screen()
    );
}

#[test]
fn a_host_check_does_not_outlive_sighup() {
    host_check_ends_with_kubelab("-HUP");
}

#[test]
fn the_reader_at_80x24_asks_and_sandboxes_only_skips_the_host_check() {
    if engine_or_skip().is_none() {
        return;
    }
    let Some(t) = Tmux::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    sleeping_course(dir.path(), &pids);
    open_reader(&t, dir.path(), data.path(), false, (80, 24));
    let wait_for = |text: &str| {
        wait_until(&format!("{text:?} on screen"), 30, || {
            let s = t.screen();
            s.contains(text).then_some(s)
        })
    };
    let screen = wait_for("s: sandboxes only");
    assert!(screen.contains("ON YOUR MACHINE"), "{screen}");
    assert!(screen.contains("check sleeps"), "{screen}");
    t.run(&["send-keys", "-t", "hostcmd", "s"]);
    wait_for("not run: you declined host commands");
    assert!(
        !pids.exists(),
        "the host check ran after \"sandboxes only\""
    );
    t.run(&["send-keys", "-t", "hostcmd", "q"]);
    wait_for("KUBELAB_EXIT=0");
}

#[test]
fn a_busy_loop_check_is_stopped_by_its_cpu_limit_not_the_timeout() {
    // A wall-clock timeout far beyond the CPU limit: the loop must end by
    // SIGXCPU (exit 128 + 24), and so must a child forked first thing.
    let k = kubelab();
    let long = Duration::from_secs(300);
    let o = run_host_script(&k, "while :; do :; done", &[], long).unwrap();
    assert!(!o.timed_out, "{o:?}");
    assert_eq!(o.code, 152, "{o:?}");
    let o = run_host_script(&k, "sh -c 'while :; do :; done'; exit $?", &[], long).unwrap();
    assert_eq!(o.code, 152, "{o:?}");
    let o = run_host_script(&k, "grep 'Max cpu time' /proc/self/limits", &[], long).unwrap();
    let limits: Vec<&str> = o.stdout.split_whitespace().collect();
    assert_eq!(limits[3..5], ["2", "3"], "{o:?}");
}

#[test]
fn a_host_checks_reason_has_no_terminal_controls() {
    let script = "printf '\\033[2J\\n\\033]52;c;aGk=\\007\\033[31mnot\\302\\23331m done\\033[0m\\r\\n'; exit 1";
    let o = run_host_script(&kubelab(), script, &[], LONG).unwrap();
    let r = kubelab::lab::check::result_of("c", Ok(o));
    let why = r.reason.unwrap();
    assert_eq!(
        kubelab::sanitize::first_control(&why, false),
        None,
        "{why:?}"
    );
    // The C1 CSI is dropped by the emulator like the 7-bit ones.
    assert_eq!(why, "not31m done");
}
