//! Proving a lab: fresh sandbox → every check fails → the solutions typed
//! into a real PTY shell → every check passes.

use super::backend::LabSandbox;
use super::check::{run_check, CheckEnv, CheckResult};
use super::model::{self, Step};
use crate::course::model::{Lesson, Requirement};
use crate::panes::pty::PtySize;
use crate::panes::session::{Session, SessionState};
use kubelab_sandbox::spec::Spec;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Starts lesson sandboxes and knows what the host can do.
pub trait SandboxFactory {
    /// Starts a sandbox; with `console`, its main program runs on a PTY of
    /// that size (taken with [`LabSandbox::take_console`]).
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>>;
    /// Why the host cannot satisfy `req`, or `None` when it can.
    fn unmet(&self, req: Requirement) -> Option<String>;
}

/// How long a step's checks may take to pass after its solution ran.
const SETTLE: Duration = Duration::from_secs(15);
/// How long one solution block may take.
const SOLUTION_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// One check's journey through the harness.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub step: String,
    pub line: u32,
    /// Failed on the fresh sandbox (as it must), with its reason.
    pub failed_first: bool,
    pub fresh_reason: Option<String>,
    /// Passed after the solutions ran.
    pub passed_after: bool,
    pub reason: Option<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.failed_first && self.passed_after
    }
}

/// One lesson file's result.
#[derive(Debug, Clone, Serialize)]
pub struct LessonReport {
    pub id: String,
    pub lang: String,
    pub path: String,
    pub status: Status,
    /// Why it was skipped or what failed outside any single check.
    pub problems: Vec<String>,
    pub checks: Vec<CheckReport>,
    pub seconds: f64,
}

/// Runs the whole lab of one lesson. The lesson must have a lab
/// ([`model::has_lab`]).
pub fn test_lesson(lesson: &Lesson, factory: &dyn SandboxFactory, kubelab: &Path) -> LessonReport {
    let started = Instant::now();
    let mut report = LessonReport {
        id: lesson.front.id.clone(),
        lang: lesson.lang.code().to_string(),
        path: lesson.path.display().to_string(),
        status: Status::Pass,
        problems: Vec::new(),
        checks: Vec::new(),
        seconds: 0.0,
    };
    let unmet: Vec<String> = lesson
        .front
        .requires
        .iter()
        .filter_map(|r| factory.unmet(*r))
        .collect();
    if !unmet.is_empty() {
        report.status = Status::Skip;
        report.problems = unmet;
        return report;
    }
    run_lab(lesson, factory, kubelab, &mut report);
    if !report.problems.is_empty() || report.checks.iter().any(|c| !c.ok()) {
        report.status = Status::Fail;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

fn run_lab(
    lesson: &Lesson,
    factory: &dyn SandboxFactory,
    kubelab: &Path,
    report: &mut LessonReport,
) {
    let front = &lesson.front;
    let mut sandboxes: BTreeMap<String, Box<dyn LabSandbox>> = BTreeMap::new();
    for (name, spec) in &front.sandboxes {
        match factory.start(name, spec, Some(TYPIST_SIZE)) {
            Ok(sb) => {
                sandboxes.insert(name.clone(), sb);
            }
            Err(e) => {
                report
                    .problems
                    .push(format!("sandbox `{name}` did not start: {e}"));
                return;
            }
        }
    }
    let env = CheckEnv {
        kubelab,
        lesson: &front.id,
        timeout: super::check::CHECK_TIMEOUT,
        host_declined: None,
    };
    let steps = model::steps(lesson);
    let run = |c: &crate::doc::ir::CheckBlock| -> CheckResult {
        match model::sandbox_for(front, c.sandbox.as_deref()).and_then(|n| sandboxes.get(n)) {
            Some(sb) => run_check(c, sb.as_ref(), &env),
            None => CheckResult {
                id: c.id.clone(),
                passed: false,
                reason: Some(format!(
                    "line {}: check names sandbox `{}`, which the front matter does not declare",
                    c.line,
                    c.sandbox.as_deref().unwrap_or("(default)")
                )),
            },
        }
    };

    // 1. Fresh sandbox: nothing may pass yet.
    for step in &steps {
        for c in &step.checks {
            let r = run(c);
            report.checks.push(CheckReport {
                id: c.id.clone(),
                step: step.title.clone(),
                line: c.line,
                failed_first: !r.passed,
                fresh_reason: r.reason,
                passed_after: false,
                reason: None,
            });
        }
    }
    for c in report.checks.iter().filter(|c| !c.failed_first) {
        report.problems.push(format!(
            "check `{}` (line {}) already passes on a fresh sandbox: the lab is pre-solved",
            c.id, c.line
        ));
    }

    // 2. Each step: type its solutions, then its checks must pass.
    let mut shells: BTreeMap<String, Typist> = BTreeMap::new();
    for step in &steps {
        if let Err(e) = type_solutions(step, lesson, &sandboxes, &mut shells) {
            report
                .problems
                .push(format!("step \"{}\": {e}", step.title));
        }
        let deadline = Instant::now() + SETTLE;
        let mut pending: Vec<&crate::doc::ir::CheckBlock> = step.checks.iter().collect();
        loop {
            pending.retain(|c| {
                let r = run(c);
                if let Some(rep) = report
                    .checks
                    .iter_mut()
                    .find(|x| x.id == c.id && x.line == c.line)
                {
                    rep.passed_after = r.passed;
                    rep.reason = r.reason;
                }
                !r.passed
            });
            if pending.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        if !pending.is_empty() {
            // Show what the solution printed: usually the reason it failed.
            for (name, t) in &shells {
                report.problems.push(format!(
                    "step \"{}\": the `{name}` shell ends with: {}",
                    step.title,
                    t.tail(8)
                ));
            }
        }
    }
    // Shells go first, then the sandboxes (dropping stops them).
    drop(shells);
    drop(sandboxes);
}

fn type_solutions(
    step: &Step,
    lesson: &Lesson,
    sandboxes: &BTreeMap<String, Box<dyn LabSandbox>>,
    shells: &mut BTreeMap<String, Typist>,
) -> Result<(), String> {
    for sol in &step.solutions {
        let name = model::sandbox_for(&lesson.front, sol.sandbox.as_deref())
            .ok_or("a solution but no sandbox in the front matter")?;
        let sb = sandboxes.get(name).ok_or_else(|| {
            format!(
                "solution at line {} names unknown sandbox `{name}`",
                sol.line
            )
        })?;
        if !shells.contains_key(name) {
            let t = Typist::start(sb.as_ref())
                .map_err(|e| format!("cannot start a shell in `{name}`: {e}"))?;
            shells.insert(name.to_string(), t);
        }
        let t = shells.get_mut(name).ok_or("shell vanished")?;
        t.type_block(&sol.code)
            .map_err(|e| format!("solution at line {}: {e}", sol.line))?;
    }
    Ok(())
}

/// The console size the harness types into.
pub const TYPIST_SIZE: PtySize = PtySize {
    rows: 50,
    cols: 200,
};

/// A PTY shell the harness types into, like a learner would.
pub struct Typist {
    session: Session,
    marks: u32,
}

impl Typist {
    /// Takes the sandbox's console (its shell) to type into.
    pub fn start(sb: &dyn LabSandbox) -> io::Result<Typist> {
        let console = sb
            .take_console()
            .ok_or_else(|| io::Error::other("the sandbox has no console shell"))?;
        let session = Session::start(console, TYPIST_SIZE, Arc::new(|| {}))?;
        Ok(Typist { session, marks: 0 })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Types every line of `code` (each followed by Enter, after the previous
    /// one's output went quiet), then waits until the shell is back at a
    /// prompt: a sentinel `echo` whose *output* differs from its echoed
    /// command line proves every line before it ran.
    pub fn type_block(&mut self, code: &str) -> Result<(), String> {
        for line in code.lines() {
            self.session.write(format!("{line}\r"));
            self.quiet(Duration::from_millis(150), Duration::from_secs(3));
        }
        self.marks += 1;
        let n = 1000 + self.marks;
        self.session
            .write(format!("echo __kubelab_done_$((1+{}))\r", n - 1));
        let want = format!("__kubelab_done_{n}");
        let deadline = Instant::now() + SOLUTION_TIMEOUT;
        loop {
            if self.session.screen_text().contains(&want) {
                return Ok(());
            }
            if let SessionState::Exited(c) = self.session.state() {
                return Err(format!(
                    "the shell exited (code {c}) while typing the solution"
                ));
            }
            if Instant::now() >= deadline {
                let tail = self.tail(5);
                return Err(format!(
                    "did not get back to a prompt within {}s (a command still in the foreground?); screen ends: {tail}",
                    SOLUTION_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `n` non-empty screen lines, joined with ⏎.
    pub fn tail(&self, n: usize) -> String {
        let screen = self.session.screen_text();
        let lines: Vec<&str> = screen
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines[lines.len().saturating_sub(n)..].join(" ⏎ ")
    }

    /// Waits until no output arrived for `quiet` (at most `max`).
    fn quiet(&self, quiet: Duration, max: Duration) {
        let start = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(20));
            let last = self.session.last_output().unwrap_or(start).max(start);
            if last.elapsed() >= quiet || start.elapsed() >= max {
                return;
            }
        }
    }
}
