//! The lab of the lesson on screen: its sandboxes (started lazily on helper
//! threads), one shell pane per sandbox, inspector samplers and a check loop
//! that re-runs the checks of the visible steps every ~2 s and after each
//! command (all checks until the UI says what is on screen). Checks of
//! steps off screen keep their last result.
//!
//! Dropping a [`LiveLab`] stops everything: shells are killed, samplers and
//! the check loop end, and the last reference to each sandbox drops it (the
//! engine tears it down).

use super::backend::LabSandbox;
use super::check::{run_check, CheckEnv, CheckResult, CHECK_TIMEOUT};
use super::harness::SandboxFactory;
use super::model;
use crate::course::model::Lesson;
use crate::course::track;
use crate::doc::ir::CheckBlock;
use crate::panes::inspect::sampler::Sampler;
use crate::panes::kind::{PaneKind, PaneRef};
use crate::panes::session::Notify;
use crate::panes::shell::{ShellPane, Spawner};
use crate::panes::text::{fill, PaneText};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How often checks re-run on their own.
pub const RECHECK: Duration = Duration::from_secs(2);
/// Output quiet this long after Enter means the command finished.
pub const SETTLE: Duration = Duration::from_millis(300);

/// A sandbox as the UI sees it.
pub enum CellState {
    Starting,
    Ready(Arc<dyn LabSandbox>),
    Failed(String),
    Stopped,
}

/// One lesson sandbox slot. It (re)starts its sandbox on a helper thread:
/// the shell pane's start does it for a sandbox with a shell (the shell is
/// the sandbox's console), the lab's start for the others.
pub struct SandboxCell {
    name: String,
    spec: kubelab_sandbox::spec::Spec,
    /// The lesson id of a `[cluster]` lab: its sandboxes get the cluster's
    /// environment (src/cluster/lab.rs) — in a two-track lesson only the
    /// cluster track's sandbox.
    cluster_lesson: Option<String>,
    /// What the cluster track needs on the host (`[cluster].requires`):
    /// unmet, the sandbox does not start and says why.
    cluster_requires: Vec<crate::course::model::Requirement>,
    factory: Arc<dyn SandboxFactory + Send + Sync>,
    /// Inspector kinds shown for this sandbox (sampled while it runs).
    kinds: Vec<PaneKind>,
    notify: Notify,
    state: Mutex<CellState>,
    sampler: Mutex<Option<Sampler>>,
    ready: Condvar,
}

impl SandboxCell {
    fn lock(&self) -> MutexGuard<'_, CellState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running sandbox, if it is up.
    pub fn get(&self) -> Option<Arc<dyn LabSandbox>> {
        match &*self.lock() {
            CellState::Ready(sb) => Some(sb.clone()),
            _ => None,
        }
    }

    /// Why the sandbox could not start, once it failed.
    pub fn failure(&self) -> Option<String> {
        match &*self.lock() {
            CellState::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// A one-line status when the sandbox is not (yet) running.
    pub fn status(&self, t: &PaneText) -> Option<String> {
        match &*self.lock() {
            CellState::Starting => Some(t.starting.into()),
            CellState::Ready(_) => None,
            CellState::Failed(e) => Some(fill(t.sandbox_failed, &[("e", e)])),
            CellState::Stopped => Some(t.stopped.into()),
        }
    }

    /// Starts a fresh sandbox in this slot (stopping the previous one) and
    /// returns its console when `console` is given. Blocking: call it on a
    /// helper thread.
    pub fn launch(
        &self,
        console: Option<crate::panes::pty::PtySize>,
    ) -> io::Result<Option<crate::panes::pty::Spawned>> {
        let previous = {
            let mut st = self.lock();
            if matches!(*st, CellState::Stopped) {
                return Err(io::Error::other("the lab was stopped"));
            }
            std::mem::replace(&mut *st, CellState::Starting)
        };
        // Dropped outside the lock: the last handle to a sandbox tears it
        // down (waits for it), and drawing reads the state meanwhile.
        drop(previous);
        *self.sampler() = None;
        (self.notify)();
        let r = self
            .cluster_spec()
            .and_then(|spec| self.factory.start(&self.name, &spec, console));
        let mut st = self.lock();
        if matches!(*st, CellState::Stopped) {
            return Err(io::Error::other("the lab was stopped")); // left while starting: drop it
        }
        let out = match r {
            Ok(sb) => {
                let sb: Arc<dyn LabSandbox> = Arc::from(sb);
                if !self.kinds.is_empty() {
                    *self.sampler() = Some(Sampler::start(
                        sb.observer(),
                        &self.kinds,
                        self.notify.clone(),
                    ));
                }
                let console = if console.is_some() {
                    sb.take_console()
                } else {
                    None
                };
                *st = CellState::Ready(sb);
                Ok(console)
            }
            Err(e) => {
                *st = CellState::Failed(e.to_string());
                Err(e)
            }
        };
        drop(st);
        self.ready.notify_all();
        (self.notify)();
        out
    }

    /// The spec to start: for a `[cluster]` lab, with the cluster's
    /// environment (namespace made first; a cluster problem is the
    /// sandbox's start error, shown in its pane).
    fn cluster_spec(&self) -> io::Result<kubelab_sandbox::spec::Spec> {
        let unmet: Vec<String> = self
            .cluster_requires
            .iter()
            .filter_map(|r| self.factory.unmet(*r))
            .collect();
        if !unmet.is_empty() {
            return Err(io::Error::other(unmet.join("; ")));
        }
        match &self.cluster_lesson {
            Some(lesson) => {
                let p = crate::cluster::lab::prepare_blocking(lesson).map_err(io::Error::other)?;
                Ok(crate::cluster::lab::lab_spec(&self.spec, &p.env))
            }
            None => Ok(self.spec.clone()),
        }
    }

    fn stop(&self) {
        let previous = std::mem::replace(&mut *self.lock(), CellState::Stopped);
        *self.sampler.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.ready.notify_all();
        drop(previous); // may tear the sandbox down: outside the lock
    }

    pub fn sampler(&self) -> MutexGuard<'_, Option<Sampler>> {
        self.sampler.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Shared results of the check loop: check id → last result.
pub type CheckResults = Arc<Mutex<HashMap<String, CheckResult>>>;

/// Ids of the checks the loop re-runs; `None`: every check of the lesson.
type Visible = Arc<Mutex<Option<HashSet<String>>>>;

/// The running lab of one lesson.
pub struct LiveLab {
    pub lesson: Arc<Lesson>,
    /// Panes from front matter, in order; bad entries are reported in `errors`.
    pub panes: Vec<PaneRef>,
    pub errors: Vec<String>,
    pub cells: BTreeMap<String, Arc<SandboxCell>>,
    pub shells: BTreeMap<String, ShellPane>,
    /// Index into the lesson's inspector panes shown below the shell.
    pub inspector: usize,
    results: CheckResults,
    poke: mpsc::Sender<()>,
    stop: Arc<AtomicBool>,
    kubelab: PathBuf,
    notify: Notify,
    /// Set while a command runs in a shell: the check loop ticks the UI so
    /// the end of the command (quiet output) is noticed.
    awaiting: Arc<AtomicBool>,
    /// Source lines on screen, as last told by [`LiveLab::set_visible`].
    lines: Option<(u32, u32)>,
    visible: Visible,
    /// The `##` step being read (see [`LiveLab::follow_step`]).
    reading: Option<String>,
    /// See [`LiveLab::start_declining_host`].
    host_declined: Option<&'static str>,
    /// The Objects pane of a `[cluster]` lab that shows one.
    pub objects: Option<crate::cluster::live::ObjectsPane>,
    /// The Pod pane of a lab that shows one.
    pub pods: Option<crate::panes::pods::PodPane>,
    /// The node of a `[node]` lab (src/lab/node.rs), stopped after the
    /// sandboxes when the lab is dropped.
    pub node: Option<Arc<super::node::NodeSlot>>,
    /// The world of a `[world]` lab (src/lab/world.rs), torn down after
    /// its nodes' shells when the lab is dropped (leave, quit, reset).
    pub world: Option<Arc<super::world::WorldSlot>>,
    /// The shell on show when the lab has several (F8, or the last run
    /// block's target); `None`: the default sandbox's.
    active_shell: Option<String>,
}

impl LiveLab {
    /// Starts the lab: every sandbox on its own thread, the shells (which
    /// wait for their sandbox) and the check loop. `text`: the UI language.
    pub fn start(
        lesson: Arc<Lesson>,
        factory: Arc<dyn SandboxFactory + Send + Sync>,
        kubelab: PathBuf,
        notify: Notify,
        text: &'static PaneText,
    ) -> LiveLab {
        LiveLab::start_declining_host(lesson, factory, kubelab, notify, text, None)
    }

    /// [`LiveLab::start`]; with `host_declined` set (the learner allowed
    /// sandboxes only) `on=host` checks never run and show that reason.
    pub fn start_declining_host(
        lesson: Arc<Lesson>,
        factory: Arc<dyn SandboxFactory + Send + Sync>,
        kubelab: PathBuf,
        notify: Notify,
        text: &'static PaneText,
        host_declined: Option<&'static str>,
    ) -> LiveLab {
        let mut panes = Vec::new();
        let mut errors = Vec::new();
        for p in &lesson.front.panes {
            match p.parse::<PaneRef>() {
                Ok(r) => panes.push(r),
                Err(e) => errors.push(format!("{}: {e}", lesson.path.display())),
            }
        }
        // A `[node]` lab: its node starts now, off this thread; every
        // sandbox start waits for it and gets its tools (src/lab/node.rs).
        let node = lesson
            .front
            .node
            .as_ref()
            .map(|_| super::node::NodeSlot::start(kubelab.clone(), lesson.clone()));
        // A two-track lesson's cluster sandbox gets neither the node's
        // tools (its `kubectl` is the real one) nor a world node's place.
        let cluster_sandbox = lesson.front.cluster_sandbox().map(str::to_string);
        let factory: Arc<dyn SandboxFactory + Send + Sync> = match &node {
            Some(slot) => Arc::new(super::node::NodeFactory {
                inner: factory,
                node: slot.clone(),
                except: cluster_sandbox.clone(),
            }),
            None => factory,
        };
        // A `[world]` lab: its nodes are the lab's "sandboxes"; the world
        // is built by the first node start (src/lab/world.rs).
        // "Sandboxes only" starts no world: its nodes see the host's files.
        let world_declined = host_declined.is_some() && lesson.front.world.is_some();
        if world_declined {
            errors.push(text.world_declined.to_string());
        }
        let world = (!world_declined)
            .then(|| super::world::WorldSlot::new(&lesson, &kubelab))
            .flatten();
        let factory: Arc<dyn SandboxFactory + Send + Sync> = match &world {
            Some(slot) => Arc::new(super::world::WorldFactory {
                inner: factory,
                world: slot.clone(),
                except: cluster_sandbox.clone(),
            }),
            None => factory,
        };
        let no_spec = kubelab_sandbox::spec::Spec::default();
        let default_sb = lesson.front.default_sandbox().map(str::to_string);
        let target = |p: &PaneRef| p.sandbox_or(default_sb.as_deref());
        let mut cells = BTreeMap::new();
        let targets = if world_declined {
            Vec::new()
        } else {
            lesson.front.lab_targets()
        };
        for name in targets {
            let name = &name.to_string();
            let spec = lesson.front.sandboxes.get(name).unwrap_or(&no_spec);
            let kinds: Vec<PaneKind> = panes
                .iter()
                .filter(|p| !matches!(p.kind, PaneKind::Shell | PaneKind::Objects | PaneKind::Pods))
                .filter(|p| target(p).as_ref() == Some(name))
                .map(|p| p.kind)
                .collect();
            let cell = Arc::new(SandboxCell {
                name: name.clone(),
                spec: spec.clone(),
                cluster_lesson: lesson
                    .front
                    .cluster
                    .as_ref()
                    .filter(|_| cluster_sandbox.as_ref().is_none_or(|cs| cs == name))
                    .map(|_| lesson.front.id.clone()),
                cluster_requires: match (&lesson.front.cluster, &cluster_sandbox) {
                    (Some(c), Some(cs)) if cs == name => c.requires.clone(),
                    _ => Vec::new(),
                },
                factory: factory.clone(),
                kinds,
                notify: notify.clone(),
                state: Mutex::new(CellState::Starting),
                sampler: Mutex::new(None),
                ready: Condvar::new(),
            });
            cells.insert(name.clone(), cell);
        }
        for p in panes.iter().filter(|_| !world_declined) {
            if let Some(name) = target(p).filter(|n| !cells.contains_key(n)) {
                errors.push(format!(
                    "pane `{}@{name}`: no sandbox `{name}` in the front matter",
                    p.kind
                ));
            }
        }
        let mut shells = BTreeMap::new();
        // Several shells (a world's nodes): one on show, F8 the next; its
        // title says which node and which comes next.
        let shell_names: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for p in panes.iter().filter(|p| p.kind == PaneKind::Shell) {
                if let Some(n) = target(p).filter(|n| cells.contains_key(n) && !v.contains(n)) {
                    v.push(n);
                }
            }
            v
        };
        for p in panes.iter().filter(|p| p.kind == PaneKind::Shell) {
            let Some(cell) = target(p).and_then(|n| cells.get(&n)).cloned() else {
                continue;
            };
            if shells.contains_key(&cell.name) {
                continue;
            }
            let name = cell.name.clone();
            // The shell is the sandbox's console: starting (or restarting
            // after exit) the shell starts a fresh sandbox.
            let spawner: Spawner = Arc::new(move |size| {
                cell.launch(Some(size))?
                    .ok_or_else(|| io::Error::other("the sandbox came up without a console"))
            });
            let title = match shell_names.iter().position(|n| *n == name) {
                Some(i) if shell_names.len() > 1 => format!(
                    "{} · {name} · F8 ▸ {}",
                    text.shell,
                    shell_names[(i + 1) % shell_names.len()]
                ),
                _ => format!("{} · {name}", text.shell),
            };
            let mut shell = ShellPane::new(title, spawner, notify.clone());
            shell.set_text(text);
            shell.start();
            shells.insert(name, shell);
        }
        for cell in cells.values().filter(|c| !shells.contains_key(&c.name)) {
            let c = cell.clone();
            let _ = std::thread::Builder::new()
                .name("sandbox-start".into())
                .spawn(move || {
                    let _ = c.launch(None);
                });
        }
        let objects = (lesson.front.cluster.is_some()
            && panes.iter().any(|p| p.kind == PaneKind::Objects))
        .then(|| crate::cluster::live::ObjectsPane::start(&lesson.front.id, notify.clone()));
        // The lab's own node once it runs; without `[node]` (lint refuses
        // that) where `kubelab pod` without flags would look.
        let pods = panes.iter().any(|p| p.kind == PaneKind::Pods).then(|| {
            let source = match &node {
                Some(slot) => {
                    let slot = slot.clone();
                    crate::panes::pods::PodSource::Later(Arc::new(move || {
                        slot.get().map(|n| n.state_dir())
                    }))
                }
                None => crate::panes::pods::PodSource::Node {
                    state_dir: kubelab_node::api::client::default_state_dir(),
                },
            };
            crate::panes::pods::PodPane::start(source, notify.clone())
        });
        let stop = Arc::new(AtomicBool::new(false));
        let awaiting = Arc::new(AtomicBool::new(false));
        let results: CheckResults = Arc::default();
        let visible: Visible = Arc::default();
        let poke = spawn_checks(CheckLoop {
            lesson: lesson.clone(),
            cells: cells.clone(),
            results: results.clone(),
            visible: visible.clone(),
            stop: stop.clone(),
            awaiting: awaiting.clone(),
            kubelab: kubelab.clone(),
            notify: notify.clone(),
            host_declined,
        });
        LiveLab {
            lesson,
            panes,
            errors,
            cells,
            shells,
            inspector: 0,
            kubelab,
            notify,
            results,
            poke,
            stop,
            awaiting,
            lines: None,
            visible,
            reading: None,
            host_declined,
            objects,
            pods,
            node,
            world,
            active_shell: None,
        }
    }

    /// The lesson view shows source lines `first..=last`: from now on the
    /// loop re-runs only the checks of the steps there (at once if that set
    /// changed).
    pub fn set_visible(&mut self, first: u32, last: u32) {
        self.lines = Some((first, last));
        let ids = model::visible_checks(&self.lesson.doc, first, last);
        let mut cur = self.visible.lock().unwrap_or_else(|e| e.into_inner());
        if cur.as_ref() != Some(&ids) {
            *cur = Some(ids);
            drop(cur);
            self.recheck();
        }
    }

    /// The learner reads source line `line` (see
    /// [`crate::app::PaneHost::reading_line`]). When that moves into
    /// another step and the front matter's `step_panes` names an inspector
    /// for it, shows that one. Only on the change: an F7 press within the
    /// step stands.
    pub fn follow_step(&mut self, line: u32) {
        let step = model::step_at(&self.lesson.doc, line);
        if step == self.reading {
            return;
        }
        self.reading = step;
        let Some(wanted) = self
            .reading
            .as_ref()
            .and_then(|s| self.lesson.front.step_panes.get(s))
            .and_then(|p| p.parse::<PaneRef>().ok())
        else {
            return;
        };
        let default = self.lesson.front.default_sandbox();
        if let Some(i) = self.inspectors().iter().position(|p| {
            p.kind == wanted.kind && p.sandbox_or(default) == wanted.sandbox_or(default)
        }) {
            self.inspector = i;
        }
    }

    /// Ids of the checks re-run now (`None`: all of them).
    pub fn visible_checks(&self) -> Option<HashSet<String>> {
        self.visible
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The lesson file changed on disk (`kubelab preview`): keep the
    /// sandboxes and shells, run the new text's checks from now on.
    pub fn reload(&mut self, lesson: Arc<Lesson>) {
        self.stop.store(true, Ordering::Release);
        let _ = self.poke.send(());
        self.stop = Arc::new(AtomicBool::new(false));
        self.results = Arc::default();
        self.visible = Arc::new(Mutex::new(
            self.lines
                .map(|(a, b)| model::visible_checks(&lesson.doc, a, b)),
        ));
        self.lesson = lesson.clone();
        self.poke = spawn_checks(CheckLoop {
            lesson,
            cells: self.cells.clone(),
            results: self.results.clone(),
            visible: self.visible.clone(),
            stop: self.stop.clone(),
            awaiting: self.awaiting.clone(),
            kubelab: self.kubelab.clone(),
            notify: self.notify.clone(),
            host_declined: self.host_declined,
        });
    }

    /// Inspector panes (everything but shells), in front-matter order.
    pub fn inspectors(&self) -> Vec<&PaneRef> {
        self.panes
            .iter()
            .filter(|p| p.kind != PaneKind::Shell)
            .collect()
    }

    /// The shell that run blocks for `sandbox` (or the default) go to; it
    /// becomes the shell on show.
    pub fn shell_for(&mut self, sandbox: Option<&str>) -> Option<&mut ShellPane> {
        let name = model::sandbox_for(&self.lesson.front, sandbox)?.to_string();
        if self.shells.contains_key(&name) {
            self.active_shell = Some(name.clone());
        }
        self.shells.get_mut(&name)
    }

    /// The name of the shell on show (the one keys go to).
    pub fn shown_shell(&self) -> Option<&str> {
        let default = self.lesson.front.default_sandbox();
        [self.active_shell.as_deref(), default]
            .into_iter()
            .flatten()
            .find(|n| self.shells.contains_key(*n))
            .or_else(|| self.shells.keys().next().map(String::as_str))
    }

    /// The shell on show (the one keys go to).
    pub fn main_shell(&mut self) -> Option<&mut ShellPane> {
        let name = self.shown_shell()?.to_string();
        self.shells.get_mut(&name)
    }

    /// Shows the next shell (F8), in the order of `panes`' shells as the
    /// lab's names sort; false when there is only one.
    pub fn next_shell(&mut self) -> bool {
        if self.shells.len() < 2 {
            return false;
        }
        let order: Vec<String> = self
            .lesson
            .front
            .lab_targets()
            .iter()
            .map(|s| s.to_string())
            .filter(|n| self.shells.contains_key(n))
            .collect();
        let now = self.shown_shell().map(str::to_string);
        let i = order
            .iter()
            .position(|n| Some(n) == now.as_ref())
            .unwrap_or(0);
        self.active_shell = order.get((i + 1) % order.len()).cloned();
        true
    }

    /// Re-run the checks now (after a command).
    pub fn recheck(&self) {
        let _ = self.poke.send(());
    }

    /// A command was sent to a shell: watch for it to finish.
    pub fn command_started(&self) {
        self.awaiting.store(true, Ordering::Release);
    }

    /// Polls shells; re-runs checks when a command has settled. Returns
    /// whether anything visible changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        let now = std::time::Instant::now();
        let mut settled = false;
        for s in self.shells.values_mut() {
            changed |= s.poll();
            settled |= s.command_settled(now, SETTLE);
        }
        if settled {
            self.awaiting.store(false, Ordering::Release);
            self.recheck();
        }
        changed
    }

    /// The latest result of every check that has run.
    pub fn results(&self) -> HashMap<String, CheckResult> {
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for LiveLab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.poke.send(());
        // A world first: its end ends every process in its nodes, so the
        // node shells' terminals close at once (a shell's own background
        // jobs would keep them open until then).
        if let Some(w) = self.world.take() {
            w.stop();
        }
        for s in self.shells.values_mut() {
            s.stop();
        }
        self.shells.clear();
        for c in self.cells.values() {
            c.stop();
        }
        // After the sandboxes: every Pod deleted, the node's folder gone.
        if let Some(n) = self.node.take() {
            n.stop();
        }
    }
}

fn spawn_checks(lab: CheckLoop) -> mpsc::Sender<()> {
    let (poke, rx) = mpsc::channel();
    let _ = std::thread::Builder::new()
        .name("checks".into())
        .spawn(move || lab.run(rx));
    poke
}

/// The thread that re-runs a lesson's checks.
struct CheckLoop {
    lesson: Arc<Lesson>,
    cells: BTreeMap<String, Arc<SandboxCell>>,
    results: CheckResults,
    visible: Visible,
    stop: Arc<AtomicBool>,
    awaiting: Arc<AtomicBool>,
    kubelab: PathBuf,
    notify: Notify,
    host_declined: Option<&'static str>,
}

impl CheckLoop {
    fn run(self, rx: mpsc::Receiver<()>) {
        let checks: Vec<CheckBlock> = self.lesson.doc.checks().into_iter().cloned().collect();
        let mut since_run = RECHECK; // run right away once a sandbox is up
        let tick = Duration::from_millis(250);
        loop {
            let poked = match rx.recv_timeout(tick) {
                Ok(()) => true,
                Err(mpsc::RecvTimeoutError::Timeout) => false,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if self.awaiting.load(Ordering::Acquire) {
                (self.notify)(); // let the UI notice the command settling
            }
            since_run += tick;
            if !poked && since_run < RECHECK {
                continue;
            }
            since_run = Duration::ZERO;
            let mut changed = false;
            let visible = self
                .visible
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for c in &checks {
                if self.stop.load(Ordering::Acquire) {
                    return;
                }
                if visible.as_ref().is_some_and(|v| !v.contains(&c.id)) {
                    continue; // off screen: keeps its last result
                }
                let cell =
                    track::check_sandbox(&self.lesson.front, c).and_then(|n| self.cells.get(n));
                let Some(sb) = cell.and_then(|c| c.get()) else {
                    // The cluster track without a cluster: skipped, saying why.
                    let why = cell.and_then(|cell| cell.failure()).filter(|_| {
                        track::of_check(&self.lesson.front, c) == track::Track::Cluster
                            && track::two_track(&self.lesson.front)
                    });
                    if let Some(why) = why {
                        let r = CheckResult {
                            id: c.id.clone(),
                            passed: false,
                            reason: None,
                            limits_off: None,
                            skipped: Some(why),
                        };
                        let mut map = self.results.lock().unwrap_or_else(|e| e.into_inner());
                        if map.get(&c.id) != Some(&r) {
                            map.insert(c.id.clone(), r);
                            changed = true;
                        }
                    }
                    continue;
                };
                let env = CheckEnv {
                    kubelab: &self.kubelab,
                    lesson: &self.lesson.front.id,
                    timeout: CHECK_TIMEOUT,
                    host_declined: self.host_declined,
                };
                let r = run_check(c, sb.as_ref(), &env);
                let mut map = self.results.lock().unwrap_or_else(|e| e.into_inner());
                if map.get(&c.id) != Some(&r) {
                    map.insert(c.id.clone(), r);
                    changed = true;
                }
            }
            if changed && !self.stop.load(Ordering::Acquire) {
                (self.notify)();
            }
        }
    }
}
