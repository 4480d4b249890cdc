//! `kubelab` / `kubelab open <lesson-id>`: the reader TUI.

use crate::context::Context;
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
        // Ids come from the course: quoted through sanitize.
        let near = crate::course::suggest::near(&ids, &args.lesson)
            .iter()
            .map(|s| format!("`{}`", crate::sanitize::line(s)))
            .collect::<Vec<_>>()
            .join(", ");
        let zh = ctx.lang == crate::course::model::Lang::Zh;
        // Where: the folder the learner gave, or "the built-in course" (its
        // unpacked copy in the cache is nothing they chose).
        let place = if ctx.builtin_course {
            (if zh {
                "内置课程"
            } else {
                "the built-in course"
            })
            .to_string()
        } else {
            crate::course::load::books_root(&ctx.course_dir)
                .display()
                .to_string()
        };
        match (zh, near.is_empty()) {
            (true, true) => anyhow::bail!(
                "{place}里没有 id 为 `{}` 的课；用 `kubelab list` 查看所有课的 id",
                args.lesson
            ),
            (true, false) => anyhow::bail!(
                "{place}里没有 id 为 `{}` 的课；你是指 {near} 吗？",
                args.lesson
            ),
            (false, true) => anyhow::bail!(
                "no lesson with id `{}` in {place}; run `kubelab list` to see the lesson ids",
                args.lesson
            ),
            (false, false) => {
                anyhow::bail!(
                    "no lesson with id `{}` in {place}; did you mean {near}?",
                    args.lesson
                )
            }
        }
    }
    crate::course::preload(&ctx.course_dir, loaded);
    run_reader(ctx, Some(args.lesson))
}

/// The message for a non-terminal stdout/stdin.
pub const NOT_A_TTY: &str =
    "kubelab: the course reader needs a terminal, but stdin or stdout is not one.\n\
     For a plain-text outline use `kubelab list`; to check lessons use `kubelab lint`.";

/// Why progress cannot be kept: the data directory and the reason.
type Unwritable = (String, String);

/// As `Context::open_progress`, and a moved-aside notice also goes to the
/// reader's status bar (stderr is hidden while the TUI runs).
fn open_progress(ctx: &Context) -> Result<crate::progress::Store, Unwritable> {
    let dir = ctx
        .data_dir()
        .map_err(|e| (String::from("?"), format!("{e:#}")))?;
    let key = crate::progress::course_key(&ctx.course_dir, ctx.builtin_course);
    let shown = dir.display().to_string();
    let opened = crate::progress::Store::open(&dir, &key).map_err(|e| (shown, e.to_string()))?;
    if let Some(n) = &opened.notice {
        eprintln!("{n}");
        crate::app::startup_notice(&n.reason, &n.to);
    }
    Ok(opened.store)
}

/// Whether the store's directory can be written: created if missing, a
/// probe file made and removed. Checked at start-up so the learner knows
/// before working, not after quitting.
fn writable(store: &crate::progress::Store) -> Result<(), Unwritable> {
    let dir = store.path().parent().unwrap_or(std::path::Path::new("."));
    let shown = || dir.display().to_string();
    std::fs::create_dir_all(dir).map_err(|e| (shown(), e.to_string()))?;
    let probe = dir.join(format!(".kubelab-probe-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| (shown(), e.to_string()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Starts the reader TUI, optionally at lesson `open`.
pub fn run_reader(ctx: &Context, open: Option<String>) -> anyhow::Result<i32> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("{NOT_A_TTY}");
        return Ok(2);
    }
    // A dumb terminal (Emacs' shell, some CI logs) would get a screenful of
    // escape sequences: refuse before drawing anything.
    if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        eprintln!("{}", crate::i18n::strings(ctx.lang).dumb_terminal);
        return Ok(2);
    }
    // `--lock` / book.toml lock: checked before the terminal is taken over.
    let lock = crate::lock::rule_for_reader(ctx)?;
    let opts = crate::app::AppOptions {
        course_dir: ctx.course_dir.clone(),
        ui_lang: ctx.lang,
        lesson_lang: ctx.lang,
        open,
        panes: Some(crate::lab::host::for_course(ctx)),
        // Reading works without a data directory; say that nothing is
        // saved, in the status bar, now (not after quitting).
        progress: match open_progress(ctx).and_then(|s| writable(&s).map(|()| s)) {
            Ok(s) => Some(s),
            Err((dir, why)) => {
                eprintln!("kubelab: progress will not be saved: {why}");
                crate::app::startup_message(
                    crate::i18n::strings(ctx.lang)
                        .data_dir_unwritable
                        .replace("{dir}", &dir)
                        .replace("{why}", &why),
                );
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
    rt.block_on(crate::app::run(opts, crate::ui::draw))?;
    Ok(0)
}
