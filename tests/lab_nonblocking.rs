//! The UI task never waits for a sandbox to go away (docs/ARCHITECTURE.md, pattern 6).
//!
//! A stand-in sandbox whose teardown blocks (up to 10 s, like an engine
//! sandbox waiting for its supervisor) until the test lets it go: if the app
//! tore it down on the UI task, the key pressed after `R` would be handled
//! only after the teardown gave up waiting, on the test's own thread.

mod common;

use common::standin::{sh_console, ShSandbox};
use common::{labs_dir, screen, wait_until};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubelab::app::{build_app, handle, App, AppEvent, AppOptions, Overlay};
use kubelab::course::model::{Lang, Requirement};
use kubelab::lab::backend::LabSandbox;
use kubelab::lab::harness::SandboxFactory;
use kubelab::lab::host::LabHost;
use kubelab::lab::trust::TrustState;
use kubelab::panes::inspect::model::*;
use kubelab::panes::inspect::sampler::Observe;
use kubelab::panes::pty::{PtyChild, PtySize, Spawned};
use kubelab_sandbox::spec::Spec;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

/// Longest a stand-in teardown waits for the test before giving up.
const HOLD: Duration = Duration::from_secs(10);

/// A teardown step that happened: on which thread, and whether the test
/// let it go (false: it gave up waiting, i.e. the test was stuck behind it).
type Log = Arc<Mutex<Vec<(&'static str, ThreadId, bool)>>>;

#[derive(Clone, Default)]
struct Gate {
    open: Arc<(Mutex<bool>, Condvar)>,
    log: Log,
}

impl Gate {
    /// Blocks like a slow teardown until the gate opens (at most [`HOLD`]).
    fn pass(&self, what: &'static str) {
        let (m, cv) = &*self.open;
        let g = m.lock().unwrap();
        let (g, _) = cv.wait_timeout_while(g, HOLD, |open| !*open).unwrap();
        let released = *g;
        drop(g);
        let me = std::thread::current().id();
        self.log.lock().unwrap().push((what, me, released));
    }

    fn release(&self) {
        let (m, cv) = &*self.open;
        *m.lock().unwrap() = true;
        cv.notify_all();
    }

    fn log(&self) -> Vec<(&'static str, ThreadId, bool)> {
        self.log.lock().unwrap().clone()
    }
}

struct NoObserver;

impl Observe for NoObserver {
    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        Err("stand-in".into())
    }
    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        Err("stand-in".into())
    }
    fn cgroup(&self) -> Result<CgroupStats, String> {
        Err("stand-in".into())
    }
    fn filesystem(&self) -> Result<FsView, String> {
        Err("stand-in".into())
    }
    fn network(&self) -> Result<NetView, String> {
        Err("stand-in".into())
    }
}

/// A host shell whose killer blocks like the engine's teardown.
struct SlowChild {
    inner: Box<dyn PtyChild>,
    gate: Gate,
}

impl PtyChild for SlowChild {
    fn wait(&mut self) -> io::Result<i32> {
        self.inner.wait()
    }
    fn killer(&self) -> Box<dyn Fn() + Send + Sync> {
        let (kill, gate) = (self.inner.killer(), self.gate.clone());
        Box::new(move || {
            gate.pass("kill");
            kill();
        })
    }
}

struct SlowFactory(Gate);

impl SandboxFactory for SlowFactory {
    fn start(
        &self,
        _name: &str,
        _spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        let console = match console {
            Some(size) => {
                let s = sh_console(size)?;
                Some(Spawned {
                    master: s.master,
                    child: Box::new(SlowChild {
                        inner: s.child,
                        gate: self.0.clone(),
                    }),
                })
            }
            None => None,
        };
        let gate = self.0.clone();
        let sb = ShSandbox::new(console, Arc::new(NoObserver)).on_drop(move || gate.pass("drop"));
        Ok(Box::new(sb))
    }
    fn unmet(&self, _req: Requirement) -> Option<String> {
        None
    }
}

fn app(gate: &Gate) -> App {
    let opts = AppOptions {
        open: Some("solvable".into()),
        ..AppOptions::reader(labs_dir(), Lang::En)
    };
    let mut app = build_app(&opts, (120, 40)).unwrap();
    app.panes = Box::new(LabHost::new(
        Arc::new(SlowFactory(gate.clone())),
        PathBuf::from("kubelab"),
        TrustState::Builtin,
    ));
    kubelab::app::update::notify_panes(&mut app);
    app
}

fn key(app: &mut App, code: KeyCode) -> bool {
    handle(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn wait_for_prompt(app: &mut App) {
    wait_until("the shell prompt", 30, || {
        handle(app, AppEvent::PaneDirty);
        screen(app).contains("lab$").then_some(())
    });
}

#[test]
fn a_key_is_handled_while_the_old_sandbox_is_torn_down() {
    let gate = Gate::default();
    let mut app = app(&gate);
    wait_for_prompt(&mut app);

    // `R`, `y`: a fresh sandbox; the old one's teardown now blocks until released.
    assert!(key(&mut app, KeyCode::Char('R')));
    assert!(key(&mut app, KeyCode::Char('y')));
    assert!(key(&mut app, KeyCode::Char('?')), "the next key is handled");
    assert!(matches!(app.overlay, Overlay::Help), "and did its job");
    assert!(
        gate.log().is_empty(),
        "nothing was torn down on the UI task: {:?}",
        gate.log()
    );
    gate.release();

    // The old sandbox goes away on another thread, let go by the test.
    let ui = std::thread::current().id();
    let log = wait_until("the old sandbox's teardown", 30, || {
        let log = gate.log();
        log.iter().any(|(w, ..)| *w == "drop").then_some(log)
    });
    for (what, thread, released) in &log {
        assert_ne!(*thread, ui, "{what} ran on the UI task");
        assert!(released, "{what} gave up waiting for the test");
    }

    // The fresh sandbox comes up; quitting waits for its teardown (nothing
    // outlives the app).
    key(&mut app, KeyCode::Esc);
    wait_for_prompt(&mut app);
    let drops = || gate.log().iter().filter(|(w, ..)| *w == "drop").count();
    let before = drops();
    app.panes.shutdown();
    // The check loop may hold the last handle for the length of a check.
    wait_until("the fresh sandbox's teardown", 30, || {
        (drops() == before + 1).then_some(())
    });
}

#[test]
fn a_key_is_handled_while_the_previous_lesson_is_torn_down() {
    let gate = Gate::default();
    let mut app = app(&gate);
    wait_for_prompt(&mut app);

    // Leaving the lesson drops its lab.
    app.panes.lesson_opened(None);
    assert!(key(&mut app, KeyCode::Char('?')), "the next key is handled");
    assert!(gate.log().is_empty(), "{:?}", gate.log());
    gate.release();
    app.panes.shutdown();
    let log = wait_until("the teardown", 30, || {
        let log = gate.log();
        log.iter().any(|(w, ..)| *w == "drop").then_some(log)
    });
    let ui = std::thread::current().id();
    for (what, thread, released) in &log {
        assert_ne!(*thread, ui, "{what} ran on the UI task");
        assert!(released, "{what} gave up waiting for the test");
    }
}
