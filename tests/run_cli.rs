//! `kubelab run` as a user runs it: the real binary, with and without the
//! `kubelab-helper` beside it, exit codes, output, signals and bad input.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubelab");
const HELPER: &str = env!("CARGO_BIN_EXE_kubelab-helper");

fn kubelab(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("start kubelab")
}

/// `None` (after a visible SKIP) when this host cannot start sandboxes.
fn sandboxes_work() -> Option<()> {
    let o = kubelab(Path::new(BIN), &["--", "true"]);
    if o.status.code() == Some(0) {
        return Some(());
    }
    eprintln!(
        "SKIP: `kubelab run -- true` fails on this host ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr).trim()
    );
    None
}

fn spawn_bg(bin: &Path, args: &[&str]) -> Child {
    Command::new(bin)
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubelab")
}

/// Waits until the process `pid` runs the executable `exe` (the exec into
/// the helper happens right after start).
fn wait_for_exe(pid: u32, exe: &Path) -> PathBuf {
    let start = Instant::now();
    loop {
        let now = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if now == exe || start.elapsed() > Duration::from_secs(10) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `sleep` runs somewhere below `pid` (the payload has been
/// exec'd: signals sent earlier would meet kubelab's setup code instead).
fn wait_for_payload(pid: u32) {
    fn descendants(pid: u32) -> Vec<u32> {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let direct: Vec<u32> = children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .collect();
        let mut all = direct.clone();
        for c in direct {
            all.extend(descendants(c));
        }
        all
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let running = descendants(pid).into_iter().any(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "sleep")
        });
        if running {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the sandbox of {pid} did not start its payload");
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

#[test]
fn output_and_exit_code_pass_through_with_the_helper_and_without() {
    let Some(()) = sandboxes_work() else { return };
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("kubelab");
    std::fs::copy(BIN, &copy).unwrap();
    for bin in [Path::new(BIN), &copy] {
        let o = kubelab(bin, &["--", "sh", "-c", "echo out; echo err >&2; exit 7"]);
        assert_eq!(o.status.code(), Some(7), "{}: {o:?}", bin.display());
        assert_eq!(String::from_utf8_lossy(&o.stdout), "out\n");
        assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
    }
}

/// The first child of `pid` (the supervisor of a `kubelab run`).
fn first_child(pid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{pid} has no child"))
}

#[test]
fn a_sandbox_that_runs_on_moves_into_the_small_helper() {
    let Some(()) = sandboxes_work() else { return };
    let helper = std::fs::canonicalize(HELPER).unwrap();
    let mut child = spawn_bg(Path::new(BIN), &["--", "sleep", "30"]);
    wait_for_payload(child.id());
    // Both waiting processes, the caller and the supervisor, re-execute
    // themselves as the helper once the sandbox has run for a moment.
    let caller = wait_for_exe(child.id(), &helper);
    let supervisor = first_child(child.id());
    let supervisor_exe = wait_for_exe(supervisor, &helper);
    // The sandbox is the same one: still running, still ours to stop.
    terminate(&child);
    std::thread::sleep(Duration::from_millis(200));
    terminate(&child);
    let code = child.wait().unwrap().code();
    assert_eq!(caller, helper);
    assert_eq!(supervisor_exe, helper);
    assert_eq!(code, Some(137));

    // Alone in a directory, kubelab keeps doing the work itself.
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("kubelab");
    std::fs::copy(BIN, &copy).unwrap();
    let mut child = spawn_bg(&copy, &["--", "sleep", "30"]);
    wait_for_payload(child.id());
    std::thread::sleep(Duration::from_millis(500));
    let exe = std::fs::read_link(format!("/proc/{}/exe", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exe, copy);
}

#[test]
fn killing_the_moved_caller_still_cleans_up_everything() {
    let Some(()) = sandboxes_work() else { return };
    let helper = std::fs::canonicalize(HELPER).unwrap();
    let mut child = spawn_bg(Path::new(BIN), &["--pids", "16", "--", "sleep", "30"]);
    wait_for_payload(child.id());
    assert_eq!(wait_for_exe(child.id(), &helper), helper);
    let supervisor = first_child(child.id());
    assert_eq!(wait_for_exe(supervisor, &helper), helper);
    let pid1 = first_child(supervisor);
    // The sandbox's pids cgroup, seen from the host.
    let cgroup = std::fs::read_to_string(format!("/proc/{pid1}/cgroup"))
        .unwrap()
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrl, path) = (f.next()?, f.next()?, f.next()?);
            match ctrl {
                "pids" => Some(PathBuf::from("/sys/fs/cgroup/pids").join(&path[1..])),
                "" => Some(PathBuf::from("/sys/fs/cgroup").join(&path[1..])),
                _ => None,
            }
        })
        .filter(|p| p.to_string_lossy().contains("kubelab/"));
    let _ = child.kill();
    let _ = child.wait();
    let start = Instant::now();
    let gone = |p: u32| !Path::new(&format!("/proc/{p}")).exists();
    while !(gone(supervisor) && gone(pid1)) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "supervisor {supervisor} or PID 1 {pid1} outlived the killed caller"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    match cgroup {
        Some(dir) => assert!(!dir.exists(), "{} left behind", dir.display()),
        None => eprintln!("SKIP (part): the sandbox got no pids cgroup here"),
    }
}

#[test]
fn a_signal_pid_1_ignores_is_explained_and_a_second_one_kills_the_sandbox() {
    let Some(()) = sandboxes_work() else { return };
    let child = spawn_bg(Path::new(BIN), &["--", "sleep", "30"]);
    wait_for_payload(child.id());
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(137), "{err}");
    assert!(err.contains("no handler for it"), "{err}");
    assert!(err.contains("killing the sandbox"), "{err}");

    // With --init, the first SIGTERM reaches sleep, which dies of it; here
    // after the move into the helper.
    let child = spawn_bg(Path::new(BIN), &["--init", "--", "sleep", "30"]);
    wait_for_payload(child.id());
    let helper = std::fs::canonicalize(HELPER).unwrap();
    assert_eq!(wait_for_exe(child.id(), &helper), helper);
    terminate(&child);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(128 + 15), "{o:?}");
    assert!(o.stderr.is_empty(), "{o:?}");
}

#[test]
fn bad_input_names_the_option_with_kubelabs_own_exit_codes() {
    let Some(()) = sandboxes_work() else { return };
    let o = kubelab(Path::new(BIN), &["--memory", "64XB", "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--memory"),
        "{o:?}"
    );
    let o = kubelab(Path::new(BIN), &["--", "no-such-command-here"]);
    assert_eq!(o.status.code(), Some(127), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not found inside the sandbox"),
        "{o:?}"
    );
    let o = kubelab(Path::new(BIN), &["--rootfs", "/no/such/dir", "--", "true"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rootfs"),
        "{o:?}"
    );
}

/// A PTY pair whose slave stands in for the user's terminal.
fn terminal() -> (std::fs::File, std::os::fd::OwnedFd) {
    use rustix::pty::{grantpt, ioctl_tiocgptpeer, openpt, unlockpt, OpenptFlags};
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = openpt(flags).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let slave = ioctl_tiocgptpeer(&master, flags).unwrap();
    (master.into(), slave)
}

/// What the terminal shows: the master, copied by a thread.
struct Screen(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Screen {
    fn watch(master: std::fs::File) -> Screen {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = seen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = (&master).read(&mut buf) {
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Screen(seen)
    }

    /// The text once `done` holds for it (the PTY passes output on
    /// asynchronously), or whatever is there after 10 s.
    fn wait_for(&self, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = String::from_utf8_lossy(&self.0.lock().unwrap()).replace("\r\n", "\n");
            if done(&text) || start.elapsed() > Duration::from_secs(10) {
                self.0.lock().unwrap().clear();
                return text;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn without_t_the_users_terminal_is_never_handed_to_the_sandbox() {
    let Some(()) = sandboxes_work() else { return };
    let (master, tty) = terminal();
    let screen = Screen::watch(master);
    let on_tty = || Stdio::from(tty.try_clone().unwrap());
    // The attack: turn the terminal's echo off and push a command into its
    // input queue (TIOCSTI, where the kernel still allows it).
    let attack = "stty -echo 2>/dev/null; \
                  for f in 0 1 2; do test -t $f && echo \"fd $f is a terminal\"; done; \
                  echo done";
    let st = Command::new(BIN)
        .args(["run", "--", "sh", "-c", attack])
        .stdin(on_tty())
        .stdout(on_tty())
        .stderr(on_tty())
        .status()
        .unwrap();
    let out = screen.wait_for(|t| t.contains("done\n"));
    assert_eq!(st.code(), Some(0), "{out}");
    assert!(
        out.ends_with("done\n") && !out.contains("is a terminal"),
        "{out}"
    );
    let t = rustix::termios::tcgetattr(&tty).unwrap();
    assert!(
        t.local_modes.contains(rustix::termios::LocalModes::ECHO),
        "the sandbox turned the user's terminal echo off"
    );
    // Piped input still reaches the payload while its output shows on the
    // terminal (`echo hi | kubelab run -- cat`).
    let mut run = Command::new(BIN)
        .args(["run", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(on_tty())
        .stderr(on_tty())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut run.stdin.take().unwrap(), b"piped in\n").unwrap();
    assert_eq!(run.wait().unwrap().code(), Some(0));
    assert_eq!(screen.wait_for(|t| t.contains('\n')), "piped in\n");
}
