//! `kubelab progress export`: one learner's progress as a stable, documented
//! file an instructor collects (schema in docs/progress-export.md).
//!
//! The schema is versioned (`schema = 1`). Within one schema version fields
//! are only ever added, so readers ignore fields they do not know; a
//! breaking change bumps `schema`, and `kubelab class report` then names the
//! file as made by a newer kubelab instead of misreading it.

use crate::course::model::Lang;
use crate::doc::ir::Doc;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// The export schema this build writes and reads.
pub const EXPORT_SCHEMA: u32 = 1;
/// `kind` of every export, so a stray JSON file is recognised as foreign.
pub const EXPORT_KIND: &str = "kubelab-progress";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub schema: u32,
    pub kind: String,
    pub kubelab_version: String,
    /// RFC 3339, UTC.
    pub exported_at: String,
    pub learner: String,
    pub course: CourseInfo,
    /// Every written lesson of the course in outline order, started or not.
    pub lessons: Vec<LessonExport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseInfo {
    pub id: String,
    /// The book the lesson list and totals come from.
    pub lang: Lang,
    /// `sha256:<hex>` of the course content (see `classroom::hash`).
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonExport {
    pub id: String,
    pub title: String,
    pub checks_total: u32,
    /// Checks that have passed, in the lesson's order, with when.
    pub checks_passed: Vec<CheckPassed>,
    pub quizzes_total: u32,
    pub quiz_answers: Vec<QuizAnswer>,
    /// Every check passed (a lesson without checks is never `done`).
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckPassed {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizAnswer {
    pub id: String,
    /// The latest chosen letter, `"A"`...
    pub answer: String,
    pub correct: bool,
    /// RFC 3339, UTC; may be absent in files from other tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The first letter chosen (absent when the progress file predates it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_answer: Option<String>,
    /// Whether the first answer was right, against the lesson as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_correct: Option<bool>,
    /// Answers given in all (absent when not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

/// A lesson of the course, as far as the export needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonOutline {
    pub id: String,
    pub title: String,
    /// Check ids in document order.
    pub checks: Vec<String>,
    /// Quiz ids with the index of the right answer.
    pub quizzes: Vec<(String, usize)>,
}

impl LessonOutline {
    /// Collects a lesson's checks and quizzes from its document.
    pub fn from_doc(id: &str, title: &str, doc: &Doc) -> LessonOutline {
        LessonOutline {
            id: id.to_owned(),
            title: title.to_owned(),
            checks: doc.checks().iter().map(|c| c.id.clone()).collect(),
            quizzes: doc
                .quizzes()
                .iter()
                .map(|q| (q.id.clone(), q.answer))
                .collect(),
        }
    }
}

/// Everything an export is made of; `now` is passed in so tests are stable.
pub struct ExportInput<'a> {
    pub learner: &'a str,
    pub course_id: &'a str,
    pub lang: Lang,
    pub content_hash: &'a str,
    pub lessons: &'a [LessonOutline],
    pub progress: &'a Progress,
    pub now: u64,
}

pub fn build(input: &ExportInput<'_>) -> Export {
    let rfc = crate::progress::time::rfc3339;
    let lessons = input
        .lessons
        .iter()
        .map(|l| {
            let checks_passed: Vec<CheckPassed> = l
                .checks
                .iter()
                .filter_map(|c| {
                    let done = input.progress.check_done(&l.id, c)?;
                    Some(CheckPassed {
                        id: c.clone(),
                        at: rfc(done.completed_at),
                    })
                })
                .collect();
            let quiz_answers = l
                .quizzes
                .iter()
                .filter_map(|(q, right)| {
                    let a = input.progress.quiz_answer(&l.id, q)?;
                    Some(QuizAnswer {
                        id: q.clone(),
                        answer: letter(a.answer),
                        // Judged against the lesson as it is now.
                        correct: a.answer == *right,
                        at: Some(rfc(a.answered_at)),
                        first_answer: a.first_answer.map(letter),
                        first_correct: a.first_answer.map(|f| f == *right),
                        attempts: (a.attempts > 0).then_some(a.attempts),
                    })
                })
                .collect();
            LessonExport {
                id: l.id.clone(),
                title: l.title.clone(),
                checks_total: l.checks.len() as u32,
                done: !l.checks.is_empty() && checks_passed.len() == l.checks.len(),
                checks_passed,
                quizzes_total: l.quizzes.len() as u32,
                quiz_answers,
            }
        })
        .collect();
    Export {
        schema: EXPORT_SCHEMA,
        kind: EXPORT_KIND.to_owned(),
        kubelab_version: env!("CARGO_PKG_VERSION").to_owned(),
        exported_at: rfc(input.now),
        learner: input.learner.to_owned(),
        course: CourseInfo {
            id: input.course_id.to_owned(),
            lang: input.lang,
            content_hash: input.content_hash.to_owned(),
        },
        lessons,
    }
}

fn letter(i: usize) -> String {
    char::from(b'A' + (i % 26) as u8).to_string()
}

/// Pretty JSON with a trailing newline.
pub fn to_json(export: &Export) -> String {
    let mut s = serde_json::to_string_pretty(export).unwrap_or_default();
    s.push('\n');
    s
}

/// Header of the CSV form: one row per passed check or answered quiz, each
/// with the learner and course columns so rows from many files concatenate.
pub const CSV_HEADER: &str =
    "schema,learner,course_id,content_hash,kubelab_version,lesson,kind,item,answer,correct,at";

/// The CSV form (RFC 4180 quoting). Lessons with nothing done yet have no rows.
pub fn to_csv(export: &Export) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let head = [
        export.schema.to_string(),
        export.learner.clone(),
        export.course.id.clone(),
        export.course.content_hash.clone(),
        export.kubelab_version.clone(),
    ];
    for l in &export.lessons {
        for c in &l.checks_passed {
            row(&mut out, &head, [&l.id, "check", &c.id, "", "true", &c.at]);
        }
        for q in &l.quiz_answers {
            let correct = if q.correct { "true" } else { "false" };
            row(
                &mut out,
                &head,
                [
                    &l.id,
                    "quiz",
                    &q.id,
                    &q.answer,
                    correct,
                    q.at.as_deref().unwrap_or(""),
                ],
            );
        }
    }
    out
}

fn row(out: &mut String, head: &[String; 5], rest: [&str; 6]) {
    let cells: Vec<String> = head
        .iter()
        .map(String::as_str)
        .chain(rest)
        .map(csv_cell)
        .collect();
    out.push_str(&cells.join(","));
    out.push('\n');
}

pub fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An export input of learner "x" for course "c" at time 0.
    fn input<'a>(lessons: &'a [LessonOutline], progress: &'a Progress) -> ExportInput<'a> {
        ExportInput {
            learner: "x",
            course_id: "c",
            lang: Lang::En,
            content_hash: "sha256:0",
            lessons,
            progress,
            now: 0,
        }
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn a_corrected_quiz_answer_keeps_the_first_one() {
        let lessons = vec![LessonOutline {
            id: "a".into(),
            title: "A".into(),
            checks: vec![],
            quizzes: vec![("q".into(), 1)],
        }];
        let mut progress = Progress::default();
        // Wrong (A), then the right one (B) after the verdict showed it.
        progress.answer_quiz("a", "q", 0, false);
        progress.answer_quiz("a", "q", 1, true);
        let e = build(&input(&lessons, &progress));
        let q = &e.lessons[0].quiz_answers[0];
        assert_eq!((q.answer.as_str(), q.correct), ("B", true));
        assert_eq!(q.first_answer.as_deref(), Some("A"));
        assert_eq!(q.first_correct, Some(false));
        assert_eq!(q.attempts, Some(2));
        let json = to_json(&e);
        assert!(json.contains("\"first_answer\": \"A\""), "{json}");
    }

    #[test]
    fn done_needs_every_check() {
        let lessons = vec![
            LessonOutline {
                id: "a".into(),
                title: "A".into(),
                checks: vec!["c1".into(), "c2".into()],
                quizzes: vec![("q".into(), 1)],
            },
            LessonOutline {
                id: "b".into(),
                title: "B".into(),
                checks: vec![],
                quizzes: vec![],
            },
        ];
        let mut progress = Progress::default();
        progress.complete_check_at("a", "c2", 60);
        progress.answer_quiz("a", "q", 0, false);
        let e = build(&input(&lessons, &progress));
        assert!(!e.lessons[0].done && !e.lessons[1].done);
        assert_eq!(
            e.lessons[0].checks_passed,
            vec![CheckPassed {
                id: "c2".into(),
                at: "1970-01-01T00:01:00Z".into()
            }]
        );
        assert_eq!(e.lessons[0].quiz_answers[0].answer, "A");
        assert!(!e.lessons[0].quiz_answers[0].correct);
        let mut more = progress.clone();
        more.complete_check_at("a", "c1", 30);
        let e = build(&input(&lessons, &more));
        assert!(e.lessons[0].done);
        // Order follows the lesson, not the store.
        assert_eq!(e.lessons[0].checks_passed[0].id, "c1");
    }
}
