//! `kubelab progress` and `kubelab progress reset [LESSON]`.

use crate::context::Context;
use crate::course::model::Lang;
use crate::progress::time;
use crate::sanitize;
use clap::Subcommand;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct ProgressArgs {
    #[command(subcommand)]
    pub action: Option<ProgressAction>,
}

/// `kubelab progress <action>`. Another action is one variant here (with
/// its Args struct in its own file) plus one arm in [`run`].
#[derive(Debug, Subcommand)]
pub enum ProgressAction {
    /// Forget the progress of one lesson, or of the whole course (the old
    /// file is kept as a backup beside it).
    Reset {
        /// Lesson id; without it, everything is reset.
        lesson: Option<String>,
    },
    /// Print your progress for your instructor (JSON or CSV; see
    /// docs/progress-export.md).
    Export(crate::commands::progress_export::ExportArgs),
}

pub fn run(ctx: &Context, args: ProgressArgs) -> anyhow::Result<i32> {
    match args.action {
        None => show(ctx),
        Some(ProgressAction::Reset { lesson }) => reset(ctx, lesson),
        Some(ProgressAction::Export(a)) => crate::commands::progress_export::run(ctx, a),
    }
}

fn show(ctx: &Context) -> anyhow::Result<i32> {
    let store = ctx.open_progress()?;
    let p = &store.progress;
    // Written, not println!: `kubelab progress | head` must not panic.
    let mut out = std::io::stdout().lock();
    let l = Labels::of(ctx.lang);
    writeln!(out, "{}: {}", l.file, store.path().display())?;
    match &p.position {
        Some(pos) => writeln!(
            out,
            "{}: {} ({} {})",
            l.position,
            sanitize::line(&pos.lesson),
            l.line,
            pos.line
        )?,
        None => writeln!(out, "{}: {}", l.position, l.none)?,
    }
    // Titles and totals come from the course; progress still prints if the
    // course cannot be loaded.
    let loaded = ctx.load_course().ok();
    // The reader's lock rules: a lock naming no lesson is an error; lessons
    // after it are marked.
    let lock = match &loaded {
        Some(c) => Some(crate::lock::LockRule::for_context(ctx, c)?),
        None => None,
    };
    if p.lessons.is_empty() {
        writeln!(out, "{}", l.nothing_yet)?;
    }
    for (id, lp) in &p.lessons {
        let lesson = loaded
            .as_ref()
            .and_then(|c| c.lesson_or_fallback(ctx.lang, id))
            .map(|(l, _)| l);
        let title = lesson.map_or(l.not_in_course, |l| l.front.title.as_str());
        let locked = lock.as_ref().is_some_and(|r| !r.is_open(id));
        // Ids come from the progress file, titles from the course.
        let (id, title) = (sanitize::line(id), sanitize::line(title));
        match lesson {
            Some(lesson) => {
                let st = p.status(lesson);
                let word = match st.tracks_done() {
                    Some(t) => format!("{} ({})", l.word(st.word()), l.tracks(t)),
                    None => l.word(st.word()).to_string(),
                };
                writeln!(
                    out,
                    "{id}\t{word}\t{} {}/{}\t{} {}/{}\t{title}",
                    l.checks,
                    st.checks_done,
                    st.checks_total,
                    l.quizzes,
                    st.quizzes_answered,
                    st.quizzes_total
                )?;
            }
            None => writeln!(out, "{id}\t{title}")?,
        }
        if locked {
            writeln!(out, "  locked: after the classroom lock")?;
        }
        for (check, done) in &lp.checks {
            writeln!(
                out,
                "  {} {}\t{} {}",
                l.check,
                sanitize::line(check),
                l.passed,
                time::rfc3339(done.completed_at)
            )?;
        }
        for (check, skipped) in lp
            .skipped
            .iter()
            .filter(|(c, _)| !lp.checks.contains_key(*c))
        {
            writeln!(
                out,
                "  {} {}\t{} {}",
                l.check,
                sanitize::line(check),
                l.skipped,
                time::rfc3339(skipped.skipped_at)
            )?;
        }
        for (quiz, a) in &lp.quizzes {
            writeln!(
                out,
                "  {} {}\t{} {}\t{}\t{}",
                l.quiz,
                sanitize::line(quiz),
                l.answer,
                crate::doc::quiz::letter(a.answer),
                if a.correct { l.correct } else { l.wrong },
                time::rfc3339(a.answered_at)
            )?;
        }
    }
    Ok(0)
}

fn reset(ctx: &Context, lesson: Option<String>) -> anyhow::Result<i32> {
    let mut store = ctx.open_progress()?;
    match lesson {
        Some(id) => {
            if store.progress.reset_lesson(&id) {
                store.save()?;
                println!("reset progress of {id}");
            } else {
                // A typo ("05-proces") must not look like a successful reset.
                if let Ok(course) = ctx.load_course() {
                    let ids = course.lesson_ids();
                    if !ids.contains(&id) {
                        anyhow::bail!(
                            "no lesson `{}` in this course (and no progress saved under that id); {}",
                            sanitize::line(&id),
                            crate::course::suggest::hint(&ids, &id)
                        );
                    }
                }
                println!("no progress saved for {id}; nothing to reset");
            }
        }
        None => {
            let backup = store.backup()?;
            store.progress = Default::default();
            store.save()?;
            match backup {
                Some(b) => println!(
                    "reset all progress; the old file is kept as {}",
                    b.display()
                ),
                None => println!("reset all progress"),
            }
        }
    }
    Ok(0)
}

/// The words of `kubelab progress` in the UI language (the layout, tabs
/// and ids, stays the same for scripts).
struct Labels {
    file: &'static str,
    position: &'static str,
    line: &'static str,
    none: &'static str,
    nothing_yet: &'static str,
    not_in_course: &'static str,
    checks: &'static str,
    quizzes: &'static str,
    check: &'static str,
    passed: &'static str,
    /// A check that cannot pass on this machine (needs cgroup limits).
    skipped: &'static str,
    quiz: &'static str,
    answer: &'static str,
    correct: &'static str,
    wrong: &'static str,
    /// new, read, started, done.
    words: [&'static str; 4],
    tracks: [&'static str; 3],
}

impl Labels {
    fn of(lang: Lang) -> &'static Labels {
        match lang {
            Lang::Zh => &Labels {
                file: "进度文件",
                position: "阅读位置",
                line: "第",
                none: "（无）",
                nothing_yet: "还没有开始任何一课",
                not_in_course: "（不在本课程中）",
                checks: "检查",
                quizzes: "小测验",
                check: "检查",
                passed: "通过于",
                skipped: "本机无法完成，跳过于",
                quiz: "小测验",
                answer: "答",
                correct: "正确",
                wrong: "错误",
                words: ["未开始", "已读", "进行中", "完成"],
                tracks: ["节点轨道已完成", "集群轨道已完成", "两条轨道都已完成"],
            },
            Lang::En => &Labels {
                file: "progress file",
                position: "position",
                line: "line",
                none: "(none)",
                nothing_yet: "no lessons started yet",
                not_in_course: "(not in this course)",
                checks: "checks",
                quizzes: "quizzes",
                check: "check",
                passed: "passed",
                skipped: "not available on this machine, skipped",
                quiz: "quiz",
                answer: "answer",
                correct: "correct",
                wrong: "wrong",
                words: ["new", "read", "started", "done"],
                tracks: ["node track done", "cluster track done", "both tracks done"],
            },
        }
    }

    /// A two-track lesson's completed tracks (`node`, `cluster`, `both`).
    fn tracks(&self, which: &str) -> &'static str {
        let i = ["node", "cluster", "both"].iter().position(|w| *w == which);
        i.map_or("?", |i| self.tracks[i])
    }

    fn word(&self, en: &str) -> &'static str {
        let i = ["new", "read", "started", "done"]
            .iter()
            .position(|w| *w == en);
        i.map_or("?", |i| self.words[i])
    }
}
