//! `kubelab test [LESSON…] [--json]`: prove every lab headlessly.
//!
//! For each lesson with a lab (sandboxes + checks), in each language: a fresh
//! sandbox, every check must fail; the solutions are typed into a real PTY
//! shell of the sandbox; every check must pass. Translations with the same
//! sandboxes and solutions share one run of the lab (each language's checks
//! are proven against it), and labs run `--jobs` at a time, since most of
//! a lab's time is its own `sleep`s. A lesson whose `requires` the host
//! cannot meet is SKIPPED with the reason, as is a `[cluster]` lab when no
//! cluster answers (with one, it runs on it: src/lab/cluster_run.rs). Exit code: 0 when nothing failed,
//! 1 when a lab failed, 2 for bad arguments or an unloadable course.

use crate::context::Context;
use crate::course::model::Lesson;
use crate::course::{self, LoadedCourse};
use crate::lab::exposure::CourseExposure;
use crate::lab::harness::{self, LessonReport, SandboxFactory, Status};
use crate::lab::model;
use crate::lab::trust;
use crate::sanitize::line;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Arguments of `kubelab test`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TestArgs {
    /// Lesson ids to test (default: every lesson with a lab).
    #[arg(value_name = "LESSON")]
    pub lessons: Vec<String>,
    /// Print one JSON document (for CI) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Labs run at once (0: one per core, at least 2, at most 4). Labs
    /// spend most of their time waiting on their own sandboxes.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub jobs: usize,
}

/// Runs `kubelab test` over the course of `ctx` with the real engine.
pub fn run(ctx: &Context, args: TestArgs) -> anyhow::Result<i32> {
    let kubelab = std::env::current_exe().unwrap_or_else(|_| "kubelab".into());
    let factory = crate::lab::engine::EngineFactory::new();
    let loaded = match course::load(&ctx.course_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab test: {e}");
            return Ok(2);
        }
    };
    if !ctx.builtin_course && !ctx.trust {
        let wanted = |l: &&crate::course::model::Lesson| {
            args.lessons.is_empty() || args.lessons.contains(&l.front.id)
        };
        let exposure = CourseExposure::of(loaded.lessons.iter().filter(wanted));
        if !exposure.is_empty() && !host_allowed(&ctx.course_dir, &exposure, ctx.lang) {
            return Ok(2);
        }
    }
    if loaded.lessons.iter().any(|l| l.front.cluster.is_some()) {
        reset_cluster_labs_on_interrupt();
    }
    let mut out = std::io::stdout().lock();
    Ok(run_with(&loaded, &args, &factory, &kubelab, &mut out))
}

/// Ctrl-C (or SIGTERM) while cluster labs run: their namespaces live on the
/// cluster, not in this process, so they are reset (bounded) before the
/// process dies of the signal as it would have. A second Ctrl-C leaves at
/// once.
fn reset_cluster_labs_on_interrupt() {
    use crate::lab::cluster_run::{reset_interrupted, KubeconfigCluster};
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kubelab test: cannot catch Ctrl-C ({e}); an interrupted cluster lab keeps its namespace until the next run resets it");
            return;
        }
    };
    let _ = std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            let mut first = true;
            for sig in signals.forever() {
                if !first {
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                }
                first = false;
                let _ = std::thread::Builder::new()
                    .name("interrupt-reset".into())
                    .spawn(move || {
                        if crate::lab::cluster_run::running().is_empty() {
                            let _ = signal_hook::low_level::emulate_default_handler(sig);
                            return;
                        }
                        eprintln!(
                            "\nkubelab test: interrupted; resetting the cluster labs that were running \
                             (Ctrl-C again to leave now)"
                        );
                        for left in reset_interrupted(&KubeconfigCluster) {
                            eprintln!(
                                "kubelab test: not reset: {}; the next run resets it",
                                crate::sanitize::line(&left)
                            );
                        }
                        let _ = signal_hook::low_level::emulate_default_handler(sig);
                    });
            }
        });
}

/// A course from elsewhere that runs commands on this machine (checks
/// `on=host`, writable host folders): ask on a terminal, else refuse and
/// name `--trust`. The built-in course and `--trust` never get here.
fn host_allowed(dir: &Path, exposure: &CourseExposure, lang: crate::course::model::Lang) -> bool {
    use std::io::{BufRead, IsTerminal};
    let t = crate::panes::text::text(lang);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "kubelab test: the course {} runs commands on this machine, outside any sandbox, as you:",
        crate::sanitize::escape_controls(&dir.display().to_string(), 300)
    );
    for l in trust::host_lines(exposure, t) {
        let _ = writeln!(err, "{l}");
    }
    if !std::io::stdin().is_terminal() {
        let _ = writeln!(
            err,
            "kubelab test: refusing without a yes; if you trust this course, run \
             `kubelab --course {} --trust test` (or answer on a terminal)",
            dir.display()
        );
        return false;
    }
    let _ = write!(err, "Run them? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    let yes = matches!(answer.trim(), "y" | "Y" | "yes");
    if !yes {
        let _ = writeln!(
            err,
            "kubelab test: not run; `--trust` allows them without asking"
        );
    }
    yes
}

/// The harness over any sandbox factory, writing the report to `out`.
pub fn run_with(
    loaded: &LoadedCourse,
    args: &TestArgs,
    factory: &dyn SandboxFactory,
    kubelab: &Path,
    out: &mut dyn Write,
) -> i32 {
    let mut reports: Vec<LessonReport> = Vec::new();
    for id in &args.lessons {
        let known = loaded.lessons.iter().any(|l| &l.front.id == id)
            || loaded
                .errors
                .iter()
                .any(|e| e.path.file_stem().and_then(|s| s.to_str()) == Some(id.as_str()));
        if !known {
            eprintln!(
                "kubelab test: no lesson `{id}` in {} (see `kubelab list`)",
                loaded.course.root.display()
            );
            return 2;
        }
    }
    let wanted = |id: &str| args.lessons.is_empty() || args.lessons.iter().any(|w| w == id);
    // A lesson that failed to load cannot prove its lab.
    for e in &loaded.errors {
        let stem = e
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !args.lessons.is_empty() && wanted(stem) {
            reports.push(LessonReport {
                id: stem.to_string(),
                lang: String::new(),
                path: e.path.display().to_string(),
                status: Status::Fail,
                problems: vec![e.to_string()],
                checks: Vec::new(),
                seconds: 0.0,
                shared_with: None,
                skipped_tracks: Vec::new(),
            });
        }
    }
    // The labs to run, in course order: a lesson's translations that share
    // one lab (harness::same_lab) are proven against one run of it.
    let mut labs: Vec<Vec<&Lesson>> = Vec::new();
    for lesson in &loaded.lessons {
        if !wanted(&lesson.front.id) {
            continue;
        }
        if !model::has_lab(lesson) {
            if !args.lessons.is_empty() {
                reports.push(LessonReport {
                    id: lesson.front.id.clone(),
                    lang: lesson.lang.code().to_string(),
                    path: lesson.path.display().to_string(),
                    status: Status::Skip,
                    problems: vec!["no lab: the lesson declares no sandbox or no check".into()],
                    checks: Vec::new(),
                    seconds: 0.0,
                    shared_with: None,
                    skipped_tracks: Vec::new(),
                });
            }
            continue;
        }
        match labs.iter_mut().find(|g| harness::same_lab(g[0], lesson)) {
            Some(group) => group.push(lesson),
            None => labs.push(vec![lesson]),
        }
    }
    let jobs = match args.jobs {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)),
        n => n,
    };
    run_labs(&labs, jobs, factory, kubelab, |group| {
        if !args.json {
            for r in &group {
                let _ = writeln!(out, "── {} [{}] {}", line(&r.id), r.lang, line(&r.path));
                print_lesson(out, r);
            }
            let _ = out.flush();
        }
        reports.extend(group);
    });
    let failed = reports.iter().filter(|r| r.status == Status::Fail).count();
    let skipped = reports.iter().filter(|r| r.status == Status::Skip).count();
    let passed = reports.iter().filter(|r| r.status == Status::Pass).count();
    if args.json {
        let doc = serde_json::json!({
            "passed": passed, "failed": failed, "skipped": skipped, "lessons": reports,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let _ = writeln!(out, "{}", crate::sanitize::json(&text));
    } else {
        for r in reports
            .iter()
            .filter(|r| r.checks.is_empty() && r.status != Status::Pass)
        {
            print_lesson(out, r);
        }
        let _ = writeln!(out, "\n{passed} passed, {failed} failed, {skipped} skipped");
    }
    i32::from(failed > 0)
}

/// Runs `labs` on `jobs` threads and hands each lab's reports to `done` in
/// the order of `labs`, as soon as it and every lab before it finished.
fn run_labs(
    labs: &[Vec<&Lesson>],
    jobs: usize,
    factory: &dyn SandboxFactory,
    kubelab: &Path,
    mut done: impl FnMut(Vec<LessonReport>),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Vec<LessonReport>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, labs.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(group) = labs.get(i) else { break };
                if tx
                    .send((i, harness::test_lab(group, factory, kubelab)))
                    .is_err()
                {
                    break;
                }
            });
        }
        drop(tx);
        let mut finished: BTreeMap<usize, Vec<LessonReport>> = BTreeMap::new();
        let mut want = 0;
        for (i, reports) in rx {
            finished.insert(i, reports);
            while let Some(reports) = finished.remove(&want) {
                done(reports);
                want += 1;
            }
        }
    });
}

fn print_lesson(out: &mut dyn Write, r: &LessonReport) {
    for c in &r.checks {
        let mark = if c.ok() { "✓" } else { "✗" };
        let _ = writeln!(
            out,
            "  {mark} {} (line {}, step \"{}\")",
            line(&c.id),
            c.line,
            line(&c.step)
        );
        if !c.failed_first {
            let _ = writeln!(out, "      passes on a fresh sandbox: pre-solved");
        } else if let Some(why) = &c.fresh_reason {
            let _ = writeln!(out, "      fresh: {}", line(why));
        }
        if !c.passed_after {
            let why = c.reason.as_deref().unwrap_or("failed");
            let _ = writeln!(out, "      after the solution still fails: {}", line(why));
        }
    }
    for p in &r.problems {
        let _ = writeln!(out, "  ! {}", crate::sanitize::text(p));
    }
    for t in &r.skipped_tracks {
        let _ = writeln!(out, "  - SKIP {}", crate::sanitize::text(t));
    }
    let word = match r.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
    };
    let lang = if r.lang.is_empty() {
        String::new()
    } else {
        format!(" [{}]", r.lang)
    };
    let shared = match &r.shared_with {
        Some(other) => format!(", checked on the same run as [{other}]"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{word} {}{lang} ({:.1}s{shared})",
        line(&r.id),
        r.seconds
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::harness::CheckReport;

    /// Ids, steps, reasons and problems come from the course and from check
    /// output: none of their controls reach the terminal.
    #[test]
    fn lesson_reports_print_no_raw_controls() {
        let nasty = "x\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{9b}31m\ry";
        let r = LessonReport {
            id: nasty.into(),
            lang: "en".into(),
            path: nasty.into(),
            status: Status::Fail,
            problems: vec![nasty.into()],
            checks: vec![CheckReport {
                id: nasty.into(),
                step: nasty.into(),
                line: 3,
                failed_first: true,
                fresh_reason: Some(nasty.into()),
                passed_after: false,
                reason: Some(nasty.into()),
            }],
            seconds: 1.0,
            shared_with: None,
            skipped_tracks: vec![nasty.into()],
        };
        let mut out = Vec::new();
        print_lesson(&mut out, &r);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            crate::sanitize::first_control(&text, true),
            None,
            "{text:?}"
        );
        assert!(text.contains("x^[]52;c;aGk=^G"), "{text}");
    }
}
