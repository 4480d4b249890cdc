//! End-to-end: the real binary in tmux opens a lesson with a live sandbox,
//! a run block and typed keys reach the sandbox's shell, the processes pane
//! shows the sandbox's PID 1 with its host PID, and quitting stops the
//! sandbox. Uses its own tmux server (socket in a temp dir), killed on drop.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");

struct Tmux {
    socket: PathBuf,
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
            socket: dir.path().join("tmux-panes"),
            _dir: dir,
        })
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "kl"]).stdout).into_owned()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Host PID of the sandbox's PID 1 from the processes pane row "HOST  1  …".
fn sandbox_pid1(screen: &str) -> Option<u32> {
    for line in screen.lines() {
        for cell in line.split('│') {
            let mut it = cell.split_whitespace();
            if let (Some(host), Some("1"), Some(cmd)) = (it.next(), it.next(), it.next()) {
                if cmd.contains("init") {
                    return host.parse().ok();
                }
            }
        }
    }
    None
}

#[test]
fn a_lesson_sandbox_runs_in_the_real_binary_and_stops_on_quit() {
    let Some(t) = Tmux::new() else { return };
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: the lesson sandbox needs root or delegated cgroups here");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{BIN} --lang en --data-dir {} open 05-process",
        data.path().display()
    );
    let out = t.tmux(&[
        "new-session",
        "-d",
        "-s",
        "kl",
        "-x",
        "160",
        "-y",
        "45",
        &cmd,
    ]);
    assert!(out.status.success(), "{out:?}");
    t.wait_for("the sandbox shell prompt", |s| s.contains("root@lab:~#"));
    let s = t.wait_for("PID 1 in the processes pane", |s| sandbox_pid1(s).is_some());
    let pid1 = sandbox_pid1(&s).unwrap();
    assert!(PathBuf::from(format!("/proc/{pid1}")).exists());
    // The sandbox's supervisor (PID 1's parent) is the small kubelab-helper
    // installed beside the binary, not a second copy of the app.
    let stat = std::fs::read_to_string(format!("/proc/{pid1}/stat")).unwrap();
    let ppid = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap();
    let supervisor = std::fs::read_link(format!("/proc/{ppid}/exe")).unwrap();
    assert_eq!(
        supervisor,
        std::fs::canonicalize(env!("CARGO_BIN_EXE_kubelab-helper")).unwrap()
    );

    // The first run block (`echo $$`): focus it, Enter types it into the shell.
    t.tmux(&["send-keys", "-t", "kl", "]"]);
    t.tmux(&["send-keys", "-t", "kl", "Enter"]);
    t.wait_for("echo $$ in the shell", |s| s.contains("# echo $$"));
    // Focus is now in the shell: typed keys go there.
    t.tmux(&["send-keys", "-t", "kl", "-l", "echo typed-$((6*7))"]);
    t.tmux(&["send-keys", "-t", "kl", "Enter"]);
    t.wait_for("typed command output", |s| s.contains("typed-42"));
    // `q` goes to the shell while it has focus; F6 gives focus back.
    t.tmux(&["send-keys", "-t", "kl", "F6"]);
    t.tmux(&["send-keys", "-t", "kl", "q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while PathBuf::from(format!("/proc/{pid1}")).exists() {
        assert!(
            Instant::now() < deadline,
            "sandbox PID {pid1} still runs after quit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
