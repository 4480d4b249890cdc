//! `kubelab preview <FILE|DIR>`: the reader on a lesson being written,
//! reloaded on every save (see [`crate::app::preview`]).

use crate::context::Context;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// A lesson file (e.g. lessons/en/src/05-process.md) or a course/book
    /// directory. Every save reloads it, keeping your place; a lesson that
    /// does not parse shows the error with file:line, and `v` toggles to the
    /// last version that did.
    pub path: PathBuf,

    /// Quiet time after the last change before reloading, in milliseconds.
    #[arg(long, default_value_t = 150, value_name = "MS")]
    pub debounce_ms: u64,
}

pub fn run(ctx: &Context, args: PreviewArgs) -> anyhow::Result<i32> {
    if !args.path.exists() {
        anyhow::bail!(
            "{}: no such file or directory; give a lesson .md file or a course directory",
            args.path.display()
        );
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "kubelab: preview needs a terminal, but stdin or stdout is not one.\n\
             To check a lesson without one use `kubelab lint {}`.",
            args.path.display()
        );
        return Ok(2);
    }
    let mut preview = crate::app::preview::PreviewOptions::new(&args.path);
    preview.debounce = std::time::Duration::from_millis(args.debounce_ms);
    let opts = crate::app::AppOptions {
        course_dir: if args.path.is_dir() {
            args.path.clone()
        } else {
            ctx.course_dir.clone()
        },
        ui_lang: ctx.lang,
        lesson_lang: ctx.lang,
        open: None,
        // The author's own lesson: labs ask before running unless --trust.
        panes: Some(crate::lab::host::for_reader(false, ctx.trust, ctx.lang)),
        // A preview is not study: nothing is recorded.
        progress: None,
        lock: None,
        preview: Some(preview),
    };
    super::open::run_tui(opts)
}
