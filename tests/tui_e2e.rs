//! End-to-end: the real binary in a real terminal (tmux), driven by keys
//! and signals; after it ends the terminal must be restored (alternate
//! screen left, cursor shown, mouse reporting off).
//!
//! Each test uses its own tmux server (socket in a temporary directory),
//! killed on every path by [`Tmux`]'s `Drop`.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");

struct Tmux {
    /// Socket path inside the temporary directory, so nothing is left behind.
    socket: PathBuf,
    _data: tempfile::TempDir,
    data_dir: PathBuf,
}

impl Tmux {
    /// `None` (after printing SKIP) when tmux is missing.
    fn new(name: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIP: tmux is not installed");
            return None;
        }
        let data = tempfile::tempdir().unwrap();
        let data_dir = data.path().join("data");
        Some(Tmux {
            socket: data.path().join(format!("tmux-{name}")),
            _data: data,
            data_dir,
        })
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Starts kubelab in a `w`×`h` window; the pane stays after it exits
    /// and prints its exit code.
    fn start(&self, w: u16, h: u16, env: &str, args: &str) {
        let course = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui_course");
        let cmd = format!(
            "env LANG=C.UTF-8 LC_ALL= {env} {BIN} --course {} --data-dir {} {args}; echo KUBELAB_EXIT=$?; exec sleep 600",
            course.display(),
            self.data_dir.display()
        );
        let out = self.tmux(&[
            "new-session",
            "-d",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            "-s",
            "e2e",
            "sh",
            "-c",
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout)
            .into_owned()
    }

    fn var(&self, v: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "e2e", &format!("#{{{v}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the screen contains `text`.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {text:?}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// PID of kubelab (the child of the pane's `sh`).
    fn app_pid(&self) -> String {
        let sh = self.var("pane_pid");
        let out = Command::new("pgrep")
            .args(["-P", &sh])
            .output()
            .expect("pgrep");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("kubelab running")
            .to_string()
    }

    /// The terminal is back to normal: main screen, cursor visible, no mouse mode.
    fn assert_restored(&self) {
        assert_eq!(self.var("alternate_on"), "0", "alternate screen left");
        assert_eq!(self.var("cursor_flag"), "1", "cursor shown");
        assert_eq!(self.var("mouse_any_flag"), "0", "mouse reporting off");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn navigate_and_quit_restores_the_terminal() {
    let Some(t) = Tmux::new("nav") else { return };
    t.start(80, 24, "", "--lang zh");
    t.wait_for("容器其实是");
    assert_eq!(t.var("alternate_on"), "1");
    t.keys(&["j", "j", "G"]);
    t.wait_for("小测验");
    t.keys(&["?"]);
    t.wait_for("按键帮助");
    // Esc alone: Esc followed at once by `/` would read as Alt-/.
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(200));
    t.keys(&["/"]);
    t.wait_for("搜索：");
    t.keys(&["hostname", "Enter"]);
    t.wait_for("This lesson exists only in English");
    t.wait_for("本课暂无中文版");
    t.keys(&["BTab", "j", "Enter"]);
    t.wait_for("这一课无法加载");
    t.wait_for("broken.md:4");
    // Resize: the layout follows.
    t.tmux(&["resize-window", "-t", "e2e", "-x", "120", "-y", "40"]);
    t.keys(&["p"]);
    t.wait_for("Chinese book falls back to it");
    t.tmux(&["resize-window", "-t", "e2e", "-x", "30", "-y", "20"]);
    t.wait_for("终端太窄");
    t.tmux(&["resize-window", "-t", "e2e", "-x", "80", "-y", "24"]);
    t.keys(&["q"]);
    t.wait_for("KUBELAB_EXIT=0");
    t.assert_restored();

    // Reopens where the learner left off (the isolation lesson).
    t.tmux(&["kill-session", "-t", "e2e"]);
    t.start(80, 24, "", "--lang zh");
    t.wait_for("This lesson exists only in English");
    t.keys(&["q"]);
    t.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn panic_restores_the_terminal() {
    let Some(t) = Tmux::new("panic") else { return };
    t.start(80, 24, "KUBELAB_DEBUG_PANIC=1 RUST_BACKTRACE=0", "");
    let s = t.wait_for("KUBELAB_EXIT=101");
    assert!(
        s.contains("panicking on purpose"),
        "panic message readable:\n{s}"
    );
    t.assert_restored();
}

#[test]
fn a_panic_on_a_worker_thread_restores_the_terminal_and_exits() {
    // The UI cannot go on once the hook handed the terminal back.
    let Some(t) = Tmux::new("tpanic") else { return };
    t.start(80, 24, "KUBELAB_DEBUG_PANIC=thread RUST_BACKTRACE=0", "");
    let s = t.wait_for("KUBELAB_EXIT=101");
    assert!(
        s.contains("panicking on purpose"),
        "panic message readable:\n{s}"
    );
    t.assert_restored();
}

#[test]
fn sigterm_restores_the_terminal() {
    let Some(t) = Tmux::new("term") else { return };
    t.start(80, 24, "", "--lang en");
    t.wait_for("Containers and processes");
    let pid = t.app_pid();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    t.wait_for("KUBELAB_EXIT=0");
    t.assert_restored();
}

#[test]
fn ctrl_z_suspends_and_fg_resumes() {
    let Some(t) = Tmux::new("tstp") else { return };
    // Job control needs an interactive shell (in an orphaned process group
    // the kernel discards SIGTSTP).
    let course = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui_course");
    let out = t.tmux(&[
        "new-session",
        "-d",
        "-x",
        "80",
        "-y",
        "24",
        "-s",
        "e2e",
        "env",
        "PS1=$ ",
        "bash",
        "--norc",
        "--noprofile",
        "-i",
    ]);
    assert!(out.status.success());
    let cmd = format!(
        "{BIN} --course {} --data-dir {} --lang en",
        course.display(),
        t.data_dir.display()
    );
    t.tmux(&["send-keys", "-t", "e2e", "-l", &cmd]);
    t.keys(&["Enter"]);
    t.wait_for("Containers and processes");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    t.assert_restored();
    t.tmux(&["send-keys", "-t", "e2e", "-l", "fg"]);
    t.keys(&["Enter"]);
    let start = Instant::now();
    while t.var("alternate_on") != "1" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "did not resume:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.wait_for("Containers and processes");
    t.keys(&["j"]);
    t.keys(&["q"]);
    // Wait for bash's prompt: typing earlier races with bash taking the
    // terminal back (it may flush pending input).
    let start = Instant::now();
    while t
        .screen()
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::trim)
        != Some("$")
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "did not quit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.tmux(&["send-keys", "-t", "e2e", "-l", "echo KUBELAB_EXIT=$?"]);
    t.keys(&["Enter"]);
    t.wait_for("KUBELAB_EXIT=0");
    t.assert_restored();
}

#[test]
fn an_abort_no_panic_hook_sees_still_restores_the_terminal() {
    // As a stack overflow or kill -9: the dying process runs no code; the
    // terminal guard puts the terminal back.
    let Some(t) = Tmux::new("abort") else { return };
    t.start(80, 24, "KUBELAB_DEBUG_PANIC=abort", "");
    // Not the shell's `echo KUBELAB_EXIT=134`: the shell may print it while
    // the guard has yet to leave the alternate screen, and then it is gone
    // with it. Wait for kubelab to be gone (the shell has moved on to its
    // `sleep`) and the guard to have switched back.
    let start = Instant::now();
    while t.var("pane_current_command") != "sleep" || t.var("alternate_on") != "0" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "kubelab still running or the alternate screen still on:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.assert_restored();
}

#[test]
fn a_panic_on_the_preview_watcher_thread_restores_the_terminal() {
    let Some(t) = Tmux::new("watch") else { return };
    let dir = tempfile::tempdir().unwrap();
    let lesson = dir.path().join("w.md");
    std::fs::write(
        &lesson,
        "+++\nid = \"w\"\ntitle = \"Watched\"\n+++\n\n# Watched lesson\n",
    )
    .unwrap();
    let args = format!("--lang en preview {}", lesson.display());
    t.start(80, 24, "KUBELAB_DEBUG_PANIC=watch RUST_BACKTRACE=0", &args);
    t.wait_for("Watched lesson");
    // A save wakes the watcher, which panics on its own thread.
    std::fs::write(
        &lesson,
        "+++\nid = \"w\"\ntitle = \"Watched\"\n+++\n\n# Saved again\n",
    )
    .unwrap();
    let s = t.wait_for("KUBELAB_EXIT=101");
    assert!(s.contains("panicking on purpose"), "readable:\n{s}");
    t.assert_restored();
}
