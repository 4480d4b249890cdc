//! `kubelab progress export [--format json|csv] [--name NAME]`: prints this
//! learner's progress for the instructor (schema: docs/progress-export.md).

use crate::classroom::export::{self, ExportInput, LessonOutline};
use crate::classroom::hash;
use crate::course::model::Lang;
use crate::course::{EntryState, LoadedCourse};
use crate::progress::Progress;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

/// Export your progress (for your instructor's `kubelab class report`).
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Your name as the instructor should see it. Default: $USER, else
    /// $LOGNAME, else your account name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// The learner name: `--name`, else `$USER`, else `$LOGNAME`, else the
/// account name of this uid in /etc/passwd (`kubectl exec`, cron and
/// `docker exec` sessions often have no USER).
pub fn learner_name(flag: Option<&str>) -> anyhow::Result<String> {
    let clean = |n: String| Some(n.trim().to_owned()).filter(|n| !n.is_empty());
    let name = flag
        .map(str::to_owned)
        .and_then(clean)
        .or_else(|| std::env::var("USER").ok().and_then(clean))
        .or_else(|| std::env::var("LOGNAME").ok().and_then(clean))
        .or_else(account_name)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no learner name: pass --name NAME (USER and LOGNAME are not set and this uid has no /etc/passwd entry)"
            )
        })?;
    // The instructor's report prints it: no terminal controls, one line.
    if let Some((_, col, c)) = crate::sanitize::first_control(&name, false) {
        anyhow::bail!(
            "the learner name has a control character ({c} at character {col}); pass a plain --name NAME"
        );
    }
    Ok(name)
}

/// This process's account name, from /etc/passwd.
fn account_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective uid: no libc call needed.
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    passwd_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

/// The name of `uid` in passwd(5) text.
fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id = f.nth(1)?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// The written lessons of the `lang` book (falling back per lesson to the
/// other language), in outline order, with their checks and quizzes.
pub fn course_lessons(course: &LoadedCourse, lang: Lang) -> Vec<LessonOutline> {
    let outline = course.outline(lang);
    outline
        .entries()
        .filter(|e| matches!(e.state, EntryState::Lesson { .. }))
        .filter_map(|e| {
            let id = e.id.as_deref()?;
            let (lesson, _) = course.lesson_or_fallback(outline.lang, id)?;
            Some(LessonOutline::from_doc(
                id,
                &lesson.front.title,
                &lesson.doc,
            ))
        })
        .collect()
}

/// The export text for a loaded course and a learner's progress.
pub fn export_text(
    course_dir: &Path,
    course: &LoadedCourse,
    lang: Lang,
    progress: &Progress,
    learner: &str,
    format: Format,
    now: u64,
) -> anyhow::Result<String> {
    let content_hash = hash::content_hash(course_dir)
        .map_err(|e| anyhow::anyhow!("{}: hashing the course: {e}", course_dir.display()))?;
    let lessons = course_lessons(course, lang);
    let e = export::build(&ExportInput {
        learner,
        course_id: &hash::course_id(course_dir),
        lang: course.outline(lang).lang,
        content_hash: &content_hash,
        lessons: &lessons,
        progress,
        now,
    });
    // Titles and ids in the export come from the course.
    Ok(match format {
        Format::Json => crate::sanitize::json(&export::to_json(&e)).into_owned(),
        Format::Csv => crate::sanitize::text(&export::to_csv(&e)).into_owned(),
    })
}

/// `kubelab progress export`.
pub fn run(ctx: &crate::context::Context, args: ExportArgs) -> anyhow::Result<i32> {
    let learner = learner_name(args.name.as_deref())?;
    let course = ctx.load_course()?;
    let store = ctx.open_progress()?;
    let text = export_text(
        &ctx.course_dir,
        &course,
        ctx.lang,
        &store.progress,
        &learner,
        args.format,
        crate::progress::time::now(),
    )?;
    // Written, not print!: a closed pipe (`| head`) must not panic.
    std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_name_finds_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # comment\n\
                      broken-line\n\
                      alice:x:1001:1001:Alice Chen,,,:/home/alice:/bin/bash\n";
        assert_eq!(passwd_name(passwd, 1001).as_deref(), Some("alice"));
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 4242), None);
    }

    #[test]
    fn name_flag_wins_and_is_trimmed() {
        assert_eq!(learner_name(Some("  Alice Chen ")).unwrap(), "Alice Chen");
    }
}
