//! A learner's session in a real terminal: the real binary in tmux at a
//! given size, over the built-in course, run as an ordinary user (uid 65534
//! via `setpriv` when the tests run as root) with its own data dir.
//!
//! Each harness has its own tmux server (socket in a temporary directory)
//! and kills it on drop, so no session is left behind.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kubelab");
/// The uid a learner without root runs as.
pub const LEARNER_UID: u32 = 65534;
/// How long any one screen condition may take (sandboxes start on a busy,
/// shared 2-core machine).
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Learner {
    dir: tempfile::TempDir,
    socket: PathBuf,
    /// The session name (unique per test).
    pub name: String,
    pub data_dir: PathBuf,
}

impl Learner {
    /// `None` (after printing SKIP) when tmux or setpriv is missing.
    pub fn new(name: &str) -> Option<Learner> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!("SKIP: tmux is not installed");
            return None;
        }
        if is_root() && Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("SKIP: setpriv (util-linux) is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // The learner must reach its data dir through the temporary one.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data_dir = dir.path().join("data");
        let home = dir.path().join("home");
        for d in [&home, &data_dir] {
            std::fs::create_dir(d).unwrap();
            if is_root() {
                std::os::unix::fs::chown(d, Some(LEARNER_UID), Some(LEARNER_UID)).unwrap();
            }
        }
        let l = Learner {
            socket: dir.path().join(format!("tmux-{name}")),
            dir,
            name: format!("kl-{name}"),
            data_dir,
        };
        // A session that keeps the server up while a test kills and starts
        // its own (a server exiting with its last session refuses new ones).
        let out = l.tmux(&["new-session", "-d", "-s", "keep", "sleep", "3600"]);
        assert!(out.status.success(), "tmux: {out:?}");
        Some(l)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn tmp(&self) -> &Path {
        self.dir.path()
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// The command line that runs kubelab as the learner (shell syntax).
    pub fn command(&self, args: &str) -> String {
        let drop = if is_root() {
            format!("setpriv --reuid={LEARNER_UID} --regid={LEARNER_UID} --clear-groups ")
        } else {
            String::new()
        };
        let home = self.home();
        format!(
            "{drop}env HOME={h} XDG_RUNTIME_DIR={h} LANG=C.UTF-8 LC_ALL= TERM=xterm-256color {BIN} --data-dir {d} {args}",
            h = home.display(),
            d = self.data_dir.display()
        )
    }

    /// Starts kubelab with `args` in a `w`×`h` window; after it exits the
    /// pane prints `KUBELAB_EXIT=<code>` and stays.
    pub fn start(&self, w: u16, h: u16, args: &str) {
        let cmd = format!(
            "{}; echo KUBELAB_EXIT=$?; exec sleep 600",
            self.command(args)
        );
        self.new_session(w, h, &["sh", "-c", &cmd]);
    }

    pub fn new_session(&self, w: u16, h: u16, argv: &[&str]) {
        let (w, h) = (w.to_string(), h.to_string());
        let mut args = vec!["new-session", "-d", "-x", &w, "-y", &h, "-s", &self.name];
        args.extend_from_slice(argv);
        let out = self.tmux(&args);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn kill_session(&self) {
        self.tmux(&["kill-session", "-t", &self.name]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", &self.name]).stdout)
            .into_owned()
    }

    pub fn var(&self, v: &str) -> String {
        let out = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            &self.name,
            &format!("#{{{v}}}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// tmux key names (`Enter`, `F7`, `C-c`) or single characters.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Literal text (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.name, "-l", text]);
    }

    /// Waits until `pred` holds on the screen; panics with the screen after [`WAIT`].
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen stays the same for a second (kubelab idle).
    pub fn wait_quiet(&self) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = self.screen();
        let mut same = 0;
        while same < 10 {
            assert!(
                Instant::now() < deadline,
                "the screen never settled:\n{last}"
            );
            std::thread::sleep(Duration::from_millis(100));
            let s = self.screen();
            if s == last {
                same += 1;
            } else {
                same = 0;
                last = s;
            }
        }
        last
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait(text, |s| s.contains(text))
    }

    /// PID of the pane's first process (the `sh -c` of [`Learner::start`]).
    pub fn pane_pid(&self) -> u32 {
        self.var("pane_pid").parse().expect("pane pid")
    }

    /// PID of kubelab: the descendant of the pane whose executable is [`BIN`].
    pub fn app_pid(&self) -> Option<u32> {
        let bin = std::fs::canonicalize(BIN).ok()?;
        descendants(self.pane_pid())
            .into_iter()
            .find(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok().as_ref() == Some(&bin))
    }
}

impl Drop for Learner {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

pub fn is_root() -> bool {
    kubelab_sandbox::is_root()
}

/// Children of `pid` from `/proc/*/stat`.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if parent(p) == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// All descendants of `pid`, parents before children.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children(p) {
            out.push(c);
            todo.push(c);
        }
    }
    out
}

pub fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn alive(pid: u32) -> bool {
    // A zombie has exited: it only waits for its parent to reap it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

/// The last non-empty line of a screen.
pub fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

impl Learner {
    /// True when the learner can start a sandbox here; else prints SKIP.
    pub fn can_sandbox(&self) -> bool {
        let out = Command::new("sh")
            .arg("-c")
            .arg(self.command("run -- true"))
            .output()
            .expect("run sh");
        if !out.status.success() {
            eprintln!(
                "SKIP: the learner cannot start a sandbox on this host: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        out.status.success()
    }
}
