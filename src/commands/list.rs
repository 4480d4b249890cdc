//! `kubelab list`: the outline with progress, as plain text (or JSON).
//!
//! Text format, one line per module and per entry:
//! ```text
//! # <module title>
//! <id>\t<status>\t<done>/<total>\t<lang>\t<title>
//! ```
//! `id` is `-` for a draft; `status` is new, read, started, done, draft,
//! locked (after the classroom lock) or
//! error; `done/total` counts checks + quizzes (`-` when there are none);
//! `lang` is the language of the text shown, with `*` when it falls back to
//! the other language. An error entry ends with `\t<file:line:col: message>`.

use crate::context::Context;
use crate::course::EntryState;
use crate::progress::Progress;
use crate::sanitize;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: ListArgs) -> anyhow::Result<i32> {
    let loaded = ctx.load_course()?;
    // Listing must work without a data directory (e.g. no HOME in CI).
    let progress = match ctx.open_progress() {
        Ok(s) => s.progress,
        Err(e) => {
            eprintln!("kubelab: progress not shown: {e:#}");
            Progress::default()
        }
    };
    // The reader's rules: a lock that names no lesson is an error, lessons
    // after it are listed as `locked`.
    let lock = crate::lock::LockRule::for_context(ctx, &loaded)?;
    let outline = loaded.outline(ctx.lang);
    let mut out = std::io::stdout().lock();
    let mut json_parts = Vec::new();
    for part in &outline.parts {
        if !args.json {
            let title = part.title.as_deref().unwrap_or("-");
            writeln!(out, "# {}", sanitize::line(title))?;
        }
        let mut json_entries = Vec::new();
        for e in &part.entries {
            let (status, items, lang, error) = match e.state {
                EntryState::Draft => ("draft".to_string(), None, None, None),
                EntryState::Error { index } => (
                    "error".to_string(),
                    None,
                    None,
                    Some(loaded.errors[index].to_string()),
                ),
                EntryState::Lesson {
                    index,
                    lang,
                    fallback,
                } => {
                    let st = progress.status(&loaded.lessons[index]);
                    let (d, t) = st.items();
                    let open = e.id.as_deref().is_none_or(|id| lock.is_open(id));
                    let word = match (open, st.tracks_done()) {
                        (false, _) => "locked".to_string(),
                        // A two-track lesson: which track was done.
                        (true, Some(track)) => format!("{} ({track} track)", st.word()),
                        (true, None) => st.word().to_string(),
                    };
                    (
                        word,
                        (t > 0).then_some((d, t)),
                        Some((lang, fallback)),
                        None,
                    )
                }
            };
            if args.json {
                json_entries.push(serde_json::json!({
                    "id": e.id,
                    "title": e.title,
                    "status": status,
                    "done": items.map(|i| i.0),
                    "total": items.map(|i| i.1),
                    "lang": lang.map(|l| l.0.code()),
                    "fallback": lang.is_some_and(|l| l.1),
                    "error": error,
                }));
                continue;
            }
            let items = items.map_or("-".to_string(), |(d, t)| format!("{d}/{t}"));
            let lang = lang.map_or("-".to_string(), |(l, f)| {
                format!("{}{}", l.code(), if f { "*" } else { "" })
            });
            // One TSV line per entry: course text never adds a line, a
            // field or a terminal escape.
            write!(
                out,
                "{}\t{status}\t{items}\t{lang}\t{}",
                sanitize::line(e.id.as_deref().unwrap_or("-")),
                sanitize::line(&e.title)
            )?;
            if let Some(err) = error {
                write!(out, "\t{}", sanitize::line(&err))?;
            }
            writeln!(out)?;
        }
        if args.json {
            json_parts.push(serde_json::json!({
                "title": part.title,
                "entries": json_entries,
            }));
        }
    }
    if args.json {
        let doc = serde_json::json!({
            "course": ctx.course_dir,
            "title": outline.title,
            "lang": outline.lang.code(),
            "position": progress.position.as_ref().map(|p| serde_json::json!({"lesson": p.lesson, "line": p.line})),
            "parts": json_parts,
        });
        // Serialize first so a closed pipe surfaces as a plain io::Error.
        let mut text = sanitize::json(&serde_json::to_string_pretty(&doc)?).into_owned();
        text.push('\n');
        out.write_all(text.as_bytes())?;
    }
    Ok(0)
}
