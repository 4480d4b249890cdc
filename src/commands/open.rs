//! `kubelab` / `kubelab open <lesson-id>`: the reader TUI.

use crate::cli::Context;
use std::io::IsTerminal;

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Lesson id to open, e.g. 05-process (see `kubelab list`).
    pub lesson: String,
}

pub fn run(ctx: &Context, args: OpenArgs) -> anyhow::Result<i32> {
    // Check the id before taking over the terminal, so a typo is a plain
    // error message with suggestions.
    let loaded = ctx.load_course()?;
    let ids = loaded.lesson_ids();
    if !ids.contains(&args.lesson) {
        let hint = crate::course::suggest::hint(&ids, &args.lesson);
        anyhow::bail!(
            "no lesson with id `{}` in {}; {hint}",
            args.lesson,
            crate::course::load::books_root(&ctx.course_dir).display()
        );
    }
    crate::app::preload_course(&ctx.course_dir, loaded);
    run_reader(ctx, Some(args.lesson))
}

/// The message for a non-terminal stdout/stdin.
pub const NOT_A_TTY: &str =
    "kubelab: the course reader needs a terminal, but stdin or stdout is not one.\n\
     For a plain-text outline use `kubelab list`; to check lessons use `kubelab lint`.";

/// As `Context::open_progress`, and a moved-aside notice also goes to the
/// reader's status bar (stderr is hidden while the TUI runs).
fn open_progress(ctx: &Context) -> anyhow::Result<crate::progress::Store> {
    let key = crate::progress::course_key(&ctx.course_dir, ctx.builtin_course);
    let opened = crate::progress::Store::open(&ctx.data_dir()?, &key)?;
    if let Some(n) = &opened.notice {
        eprintln!("{n}");
        crate::app::startup_notice(&n.reason, &n.to);
    }
    Ok(opened.store)
}

/// Starts the reader TUI, optionally at lesson `open`.
pub fn run_reader(ctx: &Context, open: Option<String>) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("{NOT_A_TTY}");
        return Ok(2);
    }
    // `--lock` / book.toml lock: checked before the terminal is taken over.
    let lock = crate::app::lock::rule_for_reader(ctx)?;
    let opts = crate::app::AppOptions {
        course_dir: ctx.course_dir.clone(),
        ui_lang: ctx.lang,
        lesson_lang: ctx.lang,
        open,
        panes: Some(crate::lab::host::for_course(ctx)),
        // Reading works without a data directory; say that nothing is saved.
        progress: match open_progress(ctx) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("kubelab: progress will not be saved: {e:#}");
                None
            }
        },
        lock,
        preview: None,
    };
    run_tui(opts)
}

/// Runs the reader TUI on its own runtime until the learner quits (`open`
/// and `preview`): two workers, one per core of the machines we target.
pub fn run_tui(opts: crate::app::AppOptions) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(crate::app::run(opts))?;
    Ok(0)
}
