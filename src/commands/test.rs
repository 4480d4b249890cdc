//! `kubelab test [LESSON…] [--json]`: prove every lab headlessly.
//!
//! For each lesson with a lab (sandboxes + checks), in each language: a fresh
//! sandbox, every check must fail; the solutions are typed into a real PTY
//! shell of the sandbox; every check must pass. A lesson whose `requires`
//! the host cannot meet is SKIPPED with the reason. Exit code: 0 when nothing
//! failed, 1 when a lab failed, 2 for bad arguments or an unloadable course.

use crate::cli::Context;
use crate::course::{self, LoadedCourse};
use crate::lab::harness::{self, LessonReport, SandboxFactory, Status};
use crate::lab::model;
use crate::sanitize::line;
use std::io::Write;
use std::path::Path;

/// Arguments of `kubelab test`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TestArgs {
    /// Lesson ids to test (default: every lesson with a lab).
    #[arg(value_name = "LESSON")]
    pub lessons: Vec<String>,
    /// Print one JSON document (for CI) instead of text.
    #[arg(long)]
    pub json: bool,
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
    let mut out = std::io::stdout().lock();
    Ok(run_with(&loaded, &args, &factory, &kubelab, &mut out))
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
            });
        }
    }
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
                });
            }
            continue;
        }
        if !args.json {
            let _ = writeln!(
                out,
                "── {} [{}] {}",
                line(&lesson.front.id),
                lesson.lang,
                line(&lesson.path.display().to_string())
            );
            let _ = out.flush();
        }
        let r = harness::test_lesson(lesson, factory, kubelab);
        if !args.json {
            print_lesson(out, &r);
        }
        reports.push(r);
    }
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
    let _ = writeln!(out, "{word} {}{lang} ({:.1}s)", line(&r.id), r.seconds);
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
