//! Proving a lab: fresh sandbox → every check fails → the solutions typed
//! into a real PTY shell → every check passes.

use super::backend::LabSandbox;
use super::check::{run_check, CheckEnv, CheckResult};
use super::cluster_run::{self, ClusterAccess, ClusterFactory, KubeconfigCluster, ResetGuard};
use super::model::{self, Step};
use crate::course::model::{Lesson, Requirement};
use crate::course::track::{self, Track};
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
/// `Sync`: `kubelab test` runs several labs at once from one factory.
pub trait SandboxFactory: Sync {
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
    /// The language whose run of the same lab this report's checks were
    /// proven against ([`same_lab`]), when not its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
    /// A two-track lesson's track that was skipped, with the reason
    /// (`cluster track: no cluster answers …`); the lesson stands on the
    /// other track.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_tracks: Vec<String>,
}

/// Whether two translations of a lesson share one lab: the same id,
/// sandboxes, requirements, `[node]` and `[cluster]`, and step by step the
/// same solutions (shell comments aside: each language explains its
/// commands in its own words, [`without_comments`]). Their
/// checks may differ (each speaks its own language), so [`test_lab`] proves
/// both sets of checks against a single run of the lab instead of starting
/// the sandboxes and typing the solutions twice.
pub fn same_lab(a: &Lesson, b: &Lesson) -> bool {
    let (fa, fb) = (&a.front, &b.front);
    if fa.id != fb.id
        || fa.sandboxes != fb.sandboxes
        || fa.requires != fb.requires
        || fa.node != fb.node
        || fa.cluster != fb.cluster
        || fa.world != fb.world
    {
        return false;
    }
    let (sa, sb) = (model::steps(a), model::steps(b));
    sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| {
            x.solutions.len() == y.solutions.len()
                && x.solutions.iter().zip(&y.solutions).all(|(p, q)| {
                    p.target() == q.target()
                        && without_comments(&p.code) == without_comments(&q.code)
                })
        })
}

/// `code` without its shell comments: a `#` that starts a word outside
/// quotes, to the end of its line (trailing blanks and emptied lines go
/// too). Only for comparing two translations' solutions; what runs is
/// always the text as written.
fn without_comments(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let (mut single, mut double, mut escaped) = (false, false, false);
        let mut prev_blank = true;
        let mut end = line.len();
        for (i, c) in line.char_indices() {
            if escaped {
                // An escaped blank joins the word: a `#` after it is text.
                escaped = false;
                prev_blank = false;
                continue;
            } else if c == '\\' && !single {
                escaped = true;
            } else if c == '\'' && !double {
                single = !single;
            } else if c == '"' && !single {
                double = !double;
            } else if c == '#' && !single && !double && prev_blank {
                end = i;
                break;
            }
            prev_blank = c.is_whitespace();
        }
        let kept = line[..end].trim_end();
        if !kept.is_empty() {
            out.push_str(kept);
            out.push('\n');
        }
    }
    out
}

/// Runs the whole lab of one lesson. The lesson must have a lab
/// ([`model::has_lab`]).
pub fn test_lesson(lesson: &Lesson, factory: &dyn SandboxFactory, kubelab: &Path) -> LessonReport {
    test_lab(&[lesson], factory, kubelab)
        .pop()
        .expect("one report per lesson")
}

/// Runs one lab for a group of lessons that share it ([`same_lab`]; a group
/// of one is an ordinary lesson): the first lesson's sandboxes and
/// solutions, every lesson's checks. One report per lesson, in order.
pub fn test_lab(
    group: &[&Lesson],
    factory: &dyn SandboxFactory,
    kubelab: &Path,
) -> Vec<LessonReport> {
    test_lab_on(group, factory, &KubeconfigCluster, kubelab)
}

/// [`test_lab`] with `cluster` as the cluster of `[cluster]` labs.
pub fn test_lab_on(
    group: &[&Lesson],
    factory: &dyn SandboxFactory,
    cluster: &dyn ClusterAccess,
    kubelab: &Path,
) -> Vec<LessonReport> {
    if group.first().is_some_and(|l| track::two_track(&l.front)) {
        return test_two_tracks(group, factory, cluster, kubelab);
    }
    let started = Instant::now();
    let first_lang = group.first().map(|l| l.lang.code().to_string());
    let mut reports: Vec<LessonReport> = group
        .iter()
        .enumerate()
        .map(|(i, lesson)| LessonReport {
            id: lesson.front.id.clone(),
            lang: lesson.lang.code().to_string(),
            path: lesson.path.display().to_string(),
            status: Status::Pass,
            problems: Vec::new(),
            checks: Vec::new(),
            seconds: 0.0,
            shared_with: if i == 0 { None } else { first_lang.clone() },
            skipped_tracks: Vec::new(),
        })
        .collect();
    let Some(lead) = group.first() else {
        return reports;
    };
    let unmet: Vec<String> = lead
        .front
        .requires
        .iter()
        .filter_map(|r| factory.unmet(*r))
        .collect();
    if !unmet.is_empty() {
        for r in &mut reports {
            r.status = Status::Skip;
            r.problems = unmet.clone();
        }
        return reports;
    }
    if let Some(req) = &lead.front.cluster {
        run_on_cluster(group, req, factory, cluster, kubelab, &mut reports);
    } else if let Some(world) = super::world::WorldSlot::new(lead, kubelab) {
        // The lab's own world for this run (src/lab/world.rs), built by
        // the first node start, torn down (waited for) after the nodes.
        let in_world = super::world::WorldFactory {
            inner: factory,
            world: world.clone(),
            except: None,
        };
        run_lab(group, &in_world, kubelab, &mut reports);
        drop(in_world);
        world.stop();
    } else {
        run_with_node(group, factory, kubelab, &mut reports);
    }
    let seconds = started.elapsed().as_secs_f64();
    for r in &mut reports {
        if r.status == Status::Skip {
            r.seconds = seconds;
            continue;
        }
        if !r.problems.is_empty() || r.checks.iter().any(|c| !c.ok()) {
            r.status = Status::Fail;
        }
        r.seconds = seconds;
    }
    reports
}

/// A two-track lesson (src/course/track.rs): each track proven as a lab
/// of its own, the node track first. A skipped track is noted, not failed:
/// the lesson stands on the other (in CI, with no cluster, on its node
/// track).
fn test_two_tracks(
    group: &[&Lesson],
    factory: &dyn SandboxFactory,
    cluster: &dyn ClusterAccess,
    kubelab: &Path,
) -> Vec<LessonReport> {
    let run = |t: Track| {
        let views: Vec<Lesson> = group.iter().map(|l| track::view(l, t)).collect();
        let refs: Vec<&Lesson> = views.iter().collect();
        test_lab_on(&refs, factory, cluster, kubelab)
    };
    let mut reports = run(Track::Node);
    let cluster_reports = run(Track::Cluster);
    for (r, c) in reports.iter_mut().zip(cluster_reports) {
        let node_skipped = r.status == Status::Skip;
        if node_skipped {
            r.skipped_tracks
                .push(format!("node track: {}", r.problems.join("; ")));
            r.problems.clear();
        }
        if c.status == Status::Skip {
            r.skipped_tracks
                .push(format!("cluster track: {}", c.problems.join("; ")));
        } else {
            r.checks.extend(c.checks);
            r.problems.extend(c.problems);
        }
        r.status = match (node_skipped, &c.status) {
            _ if r.status == Status::Fail || c.status == Status::Fail => Status::Fail,
            (true, Status::Skip) => Status::Skip,
            _ => Status::Pass,
        };
        r.seconds += c.seconds;
    }
    reports
}

/// A `[cluster]` lab: SKIP with the reason when no cluster answers; else,
/// one run at a time per lesson, reset → namespace and environment → the
/// lab → reset, the last one also on a failure or a panic ([`ResetGuard`]).
fn run_on_cluster(
    group: &[&Lesson],
    req: &crate::course::model::ClusterReq,
    factory: &dyn SandboxFactory,
    cluster: &dyn ClusterAccess,
    kubelab: &Path,
    reports: &mut [LessonReport],
) {
    if let Err(why) = cluster.answers(req) {
        for r in reports.iter_mut() {
            r.status = Status::Skip;
            r.problems = vec![why.clone()];
        }
        return;
    }
    let lesson = &group[0].front.id;
    let lock = cluster_run::lesson_lock(lesson);
    let _one_at_a_time = lock.lock().unwrap_or_else(|p| p.into_inner());
    let guard = ResetGuard::new(cluster, lesson);
    // A previous run's (or the reader's) objects must not pre-solve the lab.
    let env = cluster
        .reset(lesson, cluster_run::NAMESPACE_GONE)
        .map_err(|e| format!("could not reset the lab's namespace first: {e}"))
        .and_then(|()| {
            cluster
                .prepare(lesson)
                .map_err(|e| format!("could not prepare the lab's namespace: {e}"))
        });
    match env {
        Ok(env) => {
            let with_env = ClusterFactory {
                inner: factory,
                env,
            };
            run_with_node(group, &with_env, kubelab, reports);
        }
        Err(e) => {
            for r in reports.iter_mut() {
                r.problems.push(e.clone());
            }
        }
    }
    if let Err(e) = guard.finish() {
        for r in reports.iter_mut() {
            r.problems
                .push(format!("could not reset the lab after the run: {e}"));
        }
    }
}

/// Runs the lab, with its own node first when it has `[node]`.
fn run_with_node(
    group: &[&Lesson],
    factory: &dyn SandboxFactory,
    kubelab: &Path,
    reports: &mut [LessonReport],
) {
    let lead = group[0];
    if lead.front.node.is_some() {
        // The lab's own node for this run (src/lab/node.rs): started
        // before the sandboxes, stopped (waited for) after them.
        match super::node::LabNode::start_with_grace(kubelab, lead, Duration::ZERO) {
            Ok(node) => {
                let node = std::sync::Arc::new(node);
                let with_node = super::node::NodeFactory {
                    inner: factory,
                    node: super::node::NodeSlot::ready(node.clone()),
                    except: None,
                };
                run_lab(group, &with_node, kubelab, reports);
                drop(with_node);
                node.stop();
            }
            Err(e) => {
                for r in reports.iter_mut() {
                    r.problems
                        .push(format!("the lab's node did not start: {e}"));
                }
            }
        }
    } else {
        run_lab(group, factory, kubelab, reports);
    }
}

fn run_lab(
    group: &[&Lesson],
    factory: &dyn SandboxFactory,
    kubelab: &Path,
    reports: &mut [LessonReport],
) {
    let lead = group[0];
    let front = &lead.front;
    let mut sandboxes: BTreeMap<String, Box<dyn LabSandbox>> = BTreeMap::new();
    // A world lesson's nodes stand for its sandboxes (src/lab/world.rs).
    let no_spec = Spec::default();
    for name in front.lab_targets() {
        let spec = front.sandboxes.get(name).unwrap_or(&no_spec);
        match factory.start(name, spec, Some(TYPIST_SIZE)) {
            Ok(sb) => {
                sandboxes.insert(name.to_string(), sb);
            }
            Err(e) => {
                for r in reports.iter_mut() {
                    r.problems
                        .push(format!("sandbox `{name}` did not start: {e}"));
                }
                return;
            }
        }
    }
    // The `requires` probe said limits work, yet a sandbox came up without
    // them (a race with the host, a controller gone): never type a
    // `needs=limits` solution (a memory hog, a fork bomb) into it.
    let unlimited = lead
        .doc
        .blocks_needing_limits()
        .into_iter()
        .find_map(|named| {
            let sb = model::sandbox_for(front, named).and_then(|n| sandboxes.get(n))?;
            sb.limits_off()
        });
    if let Some(why) = unlimited {
        for r in reports.iter_mut() {
            r.status = Status::Skip;
            r.problems = vec![format!("needs cgroup limits: {why}")];
        }
        return;
    }
    let env = CheckEnv {
        kubelab,
        lesson: &front.id,
        timeout: super::check::CHECK_TIMEOUT,
        host_declined: None,
    };
    // Every lesson's steps; the lead's solutions are everybody's.
    let steps: Vec<Vec<Step>> = group.iter().map(|l| model::steps(l)).collect();
    let run = |c: &crate::doc::ir::CheckBlock| -> CheckResult {
        match model::sandbox_for(front, c.target()).and_then(|n| sandboxes.get(n)) {
            Some(sb) => run_check(c, sb.as_ref(), &env),
            None => CheckResult {
                id: c.id.clone(),
                passed: false,
                reason: Some(format!(
                    "line {}: check names sandbox or node `{}`, which the front matter does not declare",
                    c.line,
                    c.target().unwrap_or("(default)")
                )),
                limits_off: None,
                skipped: None,
            },
        }
    };

    // 1. Fresh sandbox: nothing may pass yet.
    for (report, lesson_steps) in reports.iter_mut().zip(&steps) {
        for step in lesson_steps {
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
        let presolved: Vec<String> = report
            .checks
            .iter()
            .filter(|c| !c.failed_first)
            .map(|c| {
                format!(
                    "check `{}` (line {}) already passes on a fresh sandbox: the lab is pre-solved",
                    c.id, c.line
                )
            })
            .collect();
        report.problems.extend(presolved);
    }

    // 2. Each step: type its solutions, then its checks must pass.
    let mut shells: BTreeMap<String, Typist> = BTreeMap::new();
    for (s, step) in steps[0].iter().enumerate() {
        if let Err(e) = type_solutions(step, lead, &sandboxes, &mut shells) {
            for (r, l) in reports.iter_mut().zip(&steps) {
                r.problems.push(format!("step \"{}\": {e}", l[s].title));
            }
        }
        let deadline = Instant::now() + SETTLE;
        // (lesson index, check) of this step, across the group.
        let mut pending: Vec<(usize, &crate::doc::ir::CheckBlock)> = steps
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l[s].checks.iter().map(move |c| (i, c)))
            .collect();
        loop {
            pending.retain(|&(i, c)| {
                let r = run(c);
                if let Some(rep) = reports[i]
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
        // Show what the solution printed: usually the reason it failed.
        let mut failing: Vec<usize> = pending.iter().map(|&(i, _)| i).collect();
        failing.dedup();
        for i in failing {
            for (name, t) in &shells {
                let msg = format!(
                    "step \"{}\": the `{name}` shell ends with: {}",
                    steps[i][s].title,
                    t.tail(8)
                );
                reports[i].problems.push(msg);
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
        let name = model::sandbox_for(&lesson.front, sol.target())
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

#[cfg(test)]
mod cluster_tests;

#[cfg(test)]
mod comment_tests {
    use super::without_comments;

    #[test]
    fn translations_differing_in_comments_compare_equal() {
        let en =
            "# make the sandbox\nip netns add pod1   # a Pod's netns\nconf=$(cat)  # the config\n";
        let zh =
            "# 建一个 sandbox\nip netns add pod1   # Pod 的网络 namespace\n\nconf=$(cat)  # 配置\n";
        assert_eq!(without_comments(en), without_comments(zh));
        assert_eq!(without_comments(en), "ip netns add pod1\nconf=$(cat)\n");
    }

    #[test]
    fn a_hash_that_is_not_a_comment_is_kept() {
        for code in [
            "echo \"a # b\"",
            "echo 'a # b'",
            "echo a\\ #b",
            "echo ${#x} $#",
            "curl http://x/#frag",
        ] {
            assert_eq!(without_comments(code), format!("{code}\n"), "{code}");
        }
        assert_ne!(
            without_comments("echo 1 # one"),
            without_comments("echo 2 # one")
        );
    }
}
