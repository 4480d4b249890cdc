//! `kubelab lint [PATH]`: print every problem as `file:line:col: severity:
//! message`; exit 1 when there is an error.

use crate::context::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// A course directory, one book directory (lessons/zh) or one lesson
    /// file. Default: the course being used (--course or the built-in one).
    pub path: Option<PathBuf>,
    /// Print errors only, not warnings (drafts, missing hints, ...).
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(ctx: &Context, args: LintArgs) -> anyhow::Result<i32> {
    let path = args.path.unwrap_or_else(|| ctx.course_dir.clone());
    let report = crate::lint::lint_path(&path)?;
    let mut out = std::io::stdout().lock();
    // Paths under the current directory print relative to it, as compilers do.
    let cwd = std::env::current_dir().ok();
    for d in &report.diagnostics {
        if args.quiet && !d.is_error() {
            continue;
        }
        let mut d = d.clone();
        if let Some(rel) = cwd.as_ref().and_then(|c| d.path.strip_prefix(c).ok()) {
            d.path = rel.to_path_buf();
        }
        // Messages quote course text: never let it drive the terminal.
        writeln!(out, "{}", crate::sanitize::text(&d.to_string()))?;
    }
    out.flush()?;
    eprintln!(
        "{}",
        summary(
            report.errors(),
            report.warnings(),
            report.books,
            report.lessons,
            args.quiet
        )
    );
    Ok(i32::from(report.errors() > 0))
}

/// The closing line on stderr. When errors hide among many warnings (the
/// shipped outline alone has ~90 draft warnings), it says how to see only
/// the errors.
fn summary(errors: usize, warnings: usize, books: usize, lessons: usize, quiet: bool) -> String {
    let mut s = format!(
        "lint: {errors} error{}, {warnings} warning{} ({books} book{}, {lessons} lesson{} loaded)",
        plural(errors),
        plural(warnings),
        plural(books),
        plural(lessons),
    );
    if errors > 0 && warnings > 0 && !quiet {
        s.push_str("; `kubelab lint -q` shows the errors only");
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_points_to_quiet_when_errors_hide_among_warnings() {
        let s = summary(4, 92, 2, 16, false);
        assert!(
            s.starts_with("lint: 4 errors, 92 warnings (2 books, 16 lessons loaded)"),
            "{s}"
        );
        assert!(
            s.ends_with("`kubelab lint -q` shows the errors only"),
            "{s}"
        );
        assert!(!summary(4, 92, 2, 16, true).contains("-q"));
        assert!(!summary(0, 92, 2, 16, false).contains("-q"));
        assert_eq!(
            summary(1, 0, 1, 1, false),
            "lint: 1 error, 0 warnings (1 book, 1 lesson loaded)"
        );
    }
}
