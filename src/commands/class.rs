//! `kubelab class report FILES… [--csv]`: the instructor's roster.

use crate::classroom::hash;
use crate::classroom::report::{self, CourseRef};
use std::path::{Path, PathBuf};

/// Tools for instructors.
#[derive(Debug, Clone, clap::Args)]
pub struct ClassArgs {
    #[command(subcommand)]
    pub command: ClassCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClassCommand {
    /// Merge learners' `kubelab progress export` files into a roster
    /// (Markdown table on stdout). Unusable files are named and skipped.
    /// With --course, exports are compared against that course's content;
    /// otherwise against the version most exports share.
    Report(ReportArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Export files (JSON), e.g. exports/*.json.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print CSV (one row per learner and lesson) instead of Markdown.
    #[arg(long)]
    pub csv: bool,
}

/// The report text for stdout and the exit code: 0 with at least one usable
/// export, 2 with none. Skipped files are also listed on stderr.
pub fn report_text(args: &ReportArgs, course_dir: Option<&Path>) -> anyhow::Result<(String, i32)> {
    let course = match course_dir {
        Some(dir) => {
            if hash::book_dirs(dir).is_empty() {
                anyhow::bail!(
                    "{}: no course here (expected lessons/zh, lessons/en, zh/, en/ or a book.toml)",
                    dir.display()
                );
            }
            Some(CourseRef {
                id: hash::course_id(dir),
                content_hash: hash::content_hash(dir)
                    .map_err(|e| anyhow::anyhow!("{}: hashing the course: {e}", dir.display()))?,
            })
        }
        None => None,
    };
    let roster = report::build(&args.files, course);
    for s in &roster.skipped {
        let what = format!("{}: {}", s.file.display(), s.reason);
        eprintln!("kubelab: skipped {}", crate::sanitize::line(&what));
    }
    let text = if args.csv {
        report::csv(&roster)
    } else {
        report::markdown(&roster)
    };
    let code = if roster.rows.is_empty() {
        eprintln!(
            "kubelab: no usable exports among {} file(s)",
            args.files.len()
        );
        2
    } else {
        0
    };
    Ok((text, code))
}

/// `kubelab class ...`.
pub fn run(ctx: &crate::context::Context, args: ClassArgs) -> anyhow::Result<i32> {
    match args.command {
        ClassCommand::Report(a) => {
            // Only an explicit --course is a reference; otherwise the exports decide.
            let course = (!ctx.builtin_course).then_some(ctx.course_dir.as_path());
            let (text, code) = report_text(&a, course)?;
            // Written, not print!: a closed pipe (`| head`) must not panic.
            // The report quotes learners' exports: no terminal control passes.
            let text = crate::sanitize::text(&text);
            std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
            Ok(code)
        }
    }
}
