//! Snapshots of the whole app with live panes at 120×40 and 80×24.
//!
//! Host PIDs and cgroup histories change from run to run, so the sandbox
//! here is a stand-in with fixed observations and a real `/bin/sh` on a real
//! PTY as its console; the engine itself is covered by `lab_live.rs`.

mod common;

use common::screen;
use common::standin::{sh_console, ShSandbox};
use kubelab::app::{build_app, handle, App, AppEvent, AppOptions};
use kubelab::course::model::{Lang, Requirement};
use kubelab::lab::backend::LabSandbox;
use kubelab::lab::harness::SandboxFactory;
use kubelab::lab::host::LabHost;
use kubelab::lab::trust::TrustState;
use kubelab::panes::inspect::model::*;
use kubelab::panes::inspect::sampler::Observe;
use kubelab::panes::pty::PtySize;
use kubelab_sandbox::spec::Spec;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct FixedObserver;

impl Observe for FixedObserver {
    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        Ok(["pid", "uts", "ipc", "mnt", "net", "user", "cgroup"]
            .iter()
            .enumerate()
            .map(|(i, k)| NsRow {
                kind: k.to_string(),
                host: Some(4026531835 + i as u64),
                sandbox: Some(if *k == "cgroup" {
                    4026531835 + i as u64
                } else {
                    4026532200 + i as u64
                }),
            })
            .collect())
    }
    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        Ok(vec![
            ProcRow {
                host_pid: 4242,
                ns_pid: Some(1),
                inner_pid: None,
                ppid: 4241,
                name: "kubelab-init".into(),
                cmdline: "kubelab-init".into(),
                rss: 1 << 20,
            },
            ProcRow {
                host_pid: 4243,
                ns_pid: Some(2),
                inner_pid: None,
                ppid: 4242,
                name: "sh".into(),
                cmdline: "/bin/sh".into(),
                rss: 2 << 20,
            },
        ])
    }
    fn cgroup(&self) -> Result<CgroupStats, String> {
        Err("no cgroup: a fixed stand-in".into())
    }
    fn filesystem(&self) -> Result<FsView, String> {
        Err("no overlay: a fixed stand-in".into())
    }
    fn network(&self) -> Result<NetView, String> {
        Err("no network namespace: a fixed stand-in".into())
    }
}

struct ShFactory;

impl SandboxFactory for ShFactory {
    fn start(
        &self,
        _name: &str,
        _spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        let console = console.map(sh_console).transpose()?;
        Ok(Box::new(ShSandbox::new(console, Arc::new(FixedObserver))))
    }
    fn unmet(&self, _req: Requirement) -> Option<String> {
        None
    }
}

fn app_with_panes(w: u16, h: u16) -> App {
    app_in(w, h, Lang::En)
}

fn app_in(w: u16, h: u16, ui_lang: Lang) -> App {
    kubelab::render::highlight::warm_up();
    let opts = AppOptions {
        ui_lang,
        open: Some("solvable".into()),
        ..AppOptions::reader(common::labs_dir(), Lang::En)
    };
    let mut app = build_app(&opts, (w, h)).unwrap();
    let mut host = LabHost::new(
        Arc::new(ShFactory),
        // The real binary: it supervises the lesson's `on=host` check.
        common::kubelab(),
        TrustState::Builtin,
    );
    host.set_lang(ui_lang);
    app.panes = Box::new(host);
    kubelab::app::update::notify_panes(&mut app);
    app
}

/// Pumps pane events until the shell prompt, the first inspector sample and
/// the check results are all on screen.
fn settle(app: &mut App, want: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        handle(app, AppEvent::PaneDirty);
        let s = screen(app);
        if want.iter().all(|w| s.contains(w)) {
            // One more round so nothing is mid-update.
            std::thread::sleep(Duration::from_millis(300));
            handle(app, AppEvent::PaneDirty);
            return screen(app);
        }
        assert!(
            Instant::now() < deadline,
            "screen never showed {want:?}:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A key press, the pane events it causes, and the screen after them.
fn press(app: &mut App, code: crossterm::event::KeyCode) -> String {
    use crossterm::event::{KeyEvent, KeyModifiers};
    handle(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    handle(app, AppEvent::PaneDirty);
    screen(app)
}

#[test]
fn lesson_with_panes_120x40() {
    let mut app = app_with_panes(120, 40);
    let s = settle(&mut app, &["lab$", "isolated", "not yet"]);
    insta::assert_snapshot!(s);
}

#[test]
fn lesson_with_panes_in_chinese_120x40() {
    let mut app = app_in(120, 40, Lang::Zh);
    let s = settle(&mut app, &["lab$", "已隔离", "stand-in", "UTS namespace"]);
    insta::assert_snapshot!(s);
}

/// Records what the app tells the panes about the lesson view.
struct Recorder(Arc<Mutex<Vec<(u32, u32)>>>);

impl kubelab::app::PaneHost for Recorder {
    fn visible_lines(&mut self, first: u32, last: u32) {
        self.0.lock().unwrap().push((first, last));
    }
}

#[test]
fn the_app_tells_the_panes_which_lines_are_on_screen() {
    // Short enough that the lesson scrolls.
    let mut app = app_with_panes(100, 16);
    let seen = Arc::new(Mutex::new(Vec::new()));
    app.panes = Box::new(Recorder(seen.clone()));
    let key = |c| {
        AppEvent::Key(crossterm::event::KeyEvent::new(
            c,
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    handle(&mut app, key(crossterm::event::KeyCode::Char('j')));
    let first = *seen.lock().unwrap().last().expect("told after a key");
    assert!(first.0 <= first.1, "{first:?}");
    handle(&mut app, key(crossterm::event::KeyCode::End));
    let end = *seen.lock().unwrap().last().unwrap();
    assert!(end.0 > first.0 && end.1 > first.1, "{first:?} then {end:?}");
}

#[test]
fn reading_a_step_brings_its_inspector_to_the_front_once() {
    use crossterm::event::KeyCode;
    // Short enough that the lesson scrolls from step 1 to step 2.
    let mut app = app_with_panes(120, 25);
    settle(&mut app, &["lab$"]);
    let s = screen(&app);
    assert!(
        s.contains("[namespaces]"),
        "step 1 keeps the first inspector:\n{s}"
    );
    // The fixture's step_panes: step 2 shows the processes pane.
    let s = press(&mut app, KeyCode::End);
    assert!(s.contains("[processes]"), "step 2 brings processes:\n{s}");
    // F7 within the step is the learner's choice; scrolling inside the
    // same step keeps it.
    press(&mut app, KeyCode::F(7));
    let s = press(&mut app, KeyCode::Char('k'));
    assert!(s.contains("[cgroup]"), "F7 moved on and stayed:\n{s}");
    // Back to step 1 (no choice there) and into step 2 again: processes.
    let s = press(&mut app, KeyCode::Home);
    assert!(
        s.contains("[cgroup]"),
        "step 1 names none, nothing changes:\n{s}"
    );
    let s = press(&mut app, KeyCode::End);
    assert!(s.contains("[processes]"), "entering step 2 again:\n{s}");
}

#[test]
fn cramped_f7_goes_from_the_shell_to_the_steps_inspector_and_round() {
    use crossterm::event::KeyCode;
    // Too low for shell and inspector together: one view at a time.
    let mut app = app_with_panes(120, 16);
    settle(&mut app, &["lab$", "F7 ▸ namespaces"]);
    // Step 2 chooses processes: the shell stays, F7 now leads there.
    let s = press(&mut app, KeyCode::End);
    assert!(s.contains("lab$") && s.contains("F7 ▸ processes"), "{s}");
    let s = press(&mut app, KeyCode::F(7));
    assert!(s.contains("[processes]") && !s.contains("lab$"), "{s}");
    // On through the rest (cgroup, filesystem, network), then the shell.
    for want in ["[cgroup]", "[filesystem]", "[network]"] {
        let s = press(&mut app, KeyCode::F(7));
        assert!(s.contains(want), "{want}:\n{s}");
    }
    let s = press(&mut app, KeyCode::F(7));
    assert!(s.contains("lab$") && s.contains("F7 ▸ namespaces"), "{s}");
}

#[test]
fn lesson_with_panes_80x24() {
    let mut app = app_with_panes(80, 24);
    let s = settle(&mut app, &["lab$", "not yet"]);
    insta::assert_snapshot!(s);
}

#[test]
fn a_check_shows_its_hint_then_the_solution_then_hides_both() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = app_with_panes(120, 40);
    settle(&mut app, &["lab$"]);
    let key = |app: &mut App, c: KeyCode| {
        handle(app, AppEvent::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    };
    // ] focuses the run block, ] again the first check.
    key(&mut app, KeyCode::Char(']'));
    key(&mut app, KeyCode::Char(']'));
    let count = |s: &str| s.matches("echo hello > /root/made").count();
    let s0 = screen(&app);
    assert_eq!(count(&s0), 1, "only the run block shows the command:\n{s0}");
    key(&mut app, KeyCode::Enter);
    let s1 = screen(&app);
    assert_eq!(count(&s1), 2, "the hint (same command) appears:\n{s1}");
    key(&mut app, KeyCode::Enter);
    let s2 = screen(&app);
    assert_eq!(count(&s2), 3, "the solution is revealed too:\n{s2}");
    key(&mut app, KeyCode::Enter);
    assert_eq!(count(&screen(&app)), 1, "a third press hides both");
}

#[test]
fn any_terminal_size_draws_without_panicking() {
    let mut app = app_with_panes(120, 40);
    settle(&mut app, &["lab$", "isolated"]);
    // Every inspector in turn, at sizes down to a single cell; the PTY
    // follows each (clamped), the shell keeps running.
    for _ in 0..7 {
        for (w, h) in [
            (1, 1),
            (2, 3),
            (7, 2),
            (20, 5),
            (40, 10),
            (60, 24),
            (300, 3),
        ] {
            handle(&mut app, AppEvent::Resize(w, h));
            handle(&mut app, AppEvent::PaneDirty);
            screen(&app);
        }
        handle(&mut app, AppEvent::Resize(120, 40));
        app.panes.key(crossterm::event::KeyEvent::new(
            kubelab::lab::host::NEXT_INSPECTOR,
            crossterm::event::KeyModifiers::NONE,
        ));
    }
    // Back at a usable size the shell is still there.
    settle(&mut app, &["lab$"]);
}
