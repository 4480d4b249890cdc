//! A learner's progress: where they were reading, which checks they have
//! completed (with timestamps) and how they answered quizzes.
//!
//! # Using it
//!
//! ```no_run
//! # use kubelab::progress::{Store, data_dir};
//! let dir = data_dir(None).unwrap();                       // or --data-dir
//! let opened = Store::open(&dir, "builtin").unwrap();      // course key
//! if let Some(notice) = &opened.notice { eprintln!("{notice}"); } // file moved aside
//! let mut store = opened.store;
//! store.progress.set_position("05-process", 42);
//! store.progress.complete_check("05-process", "pid-ns");
//! store.save().unwrap();                                   // atomic
//! ```
//!
//! # On disk
//!
//! One JSON file per course under the data directory
//! (`$XDG_DATA_HOME/kubelab/`, else `~/.local/share/kubelab/`, or
//! `--data-dir`): `progress.json` for the built-in course,
//! `progress-<key>.json` for another `--course` (see [`course_key`]).
//! Written atomically (temporary file + rename). The file carries a
//! `version`; a file that does not parse, or that a newer kubelab wrote, is
//! renamed aside (`progress.json.corrupt-<time>` / `progress.json.v<N>-<time>`)
//! and reported through [`Opened::notice`], never silently overwritten.
//!
//! Format, version 1 (times are Unix seconds, UTC):
//! ```json
//! { "version": 1,
//!   "position": { "lesson": "05-process", "line": 42 },
//!   "lessons": { "05-process": {
//!       "visited": true, "line": 42,
//!       "checks":  { "pid-ns": { "completed_at": 1795320600 } },
//!       "quizzes": { "pid-one": { "answer": 1, "correct": true, "answered_at": 1795320650 } } } } }
//! ```

mod store;
pub mod time;

pub use store::{course_key, data_dir, private_dir, Opened, ProgressError, Store};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The progress file format this build writes.
pub const PROGRESS_VERSION: u32 = 1;

/// Everything saved for one course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// Where the learner was last reading; kubelab reopens there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// Per lesson id.
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            version: PROGRESS_VERSION,
            position: None,
            lessons: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub lesson: String,
    /// 1-based source line of the lesson file at the top of the view (width
    /// independent, unlike a row offset).
    pub line: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// The learner has opened the lesson.
    #[serde(default)]
    pub visited: bool,
    /// Last reading position in this lesson (source line), for returning to it.
    #[serde(default)]
    pub line: u32,
    #[serde(default)]
    pub checks: BTreeMap<String, CheckDone>,
    /// Checks that cannot pass on the learner's machine (`needs=limits`
    /// without cgroup limits): not missing, so the lesson can be completed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, CheckSkipped>,
    #[serde(default)]
    pub quizzes: BTreeMap<String, QuizAnswer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSkipped {
    /// When it was first found unavailable (Unix seconds).
    pub skipped_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDone {
    /// When the check first passed (Unix seconds).
    pub completed_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizAnswer {
    /// 0-based choice index (A = 0) of the latest answer.
    pub answer: usize,
    pub correct: bool,
    pub answered_at: u64,
    /// The first answer given: after a wrong one the verdict shows the right
    /// one, so the latest answer alone cannot tell what the learner knew.
    /// (Absent in files written before it was recorded.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_answer: Option<usize>,
    /// How many answers were given (0 in files written before it was counted).
    #[serde(default)]
    pub attempts: u32,
}

/// How far a learner is in one lesson, for outline marks and `kubelab list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LessonStatus {
    pub visited: bool,
    pub checks_done: usize,
    /// Not done, and not doable on this machine (see [`LessonProgress::skipped`]).
    pub checks_skipped: usize,
    pub checks_total: usize,
    pub quizzes_answered: usize,
    pub quizzes_total: usize,
    /// A two-track lesson (src/course/track.rs): each track's checks,
    /// done (or skipped) and in total. Either track completes the lesson.
    pub tracks: Option<TrackCounts>,
}

/// Checks (done or skipped, total) of each track of a two-track lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackCounts {
    pub node: (usize, usize),
    pub cluster: (usize, usize),
}

impl TrackCounts {
    fn complete((done, total): (usize, usize)) -> bool {
        total > 0 && done >= total
    }

    /// The track that counts: a complete one (the node track first), else
    /// the one further along.
    fn counted(&self) -> (usize, usize) {
        let (n, c) = (self.node, self.cluster);
        match (Self::complete(n), Self::complete(c)) {
            (true, _) => n,
            (false, true) => c,
            _ if c.0 > n.0 => c,
            _ => n,
        }
    }
}

impl LessonStatus {
    /// Items (checks + quizzes) done or skipped, and in total.
    pub fn items(&self) -> (usize, usize) {
        let (checks_done, checks_total) = match &self.tracks {
            Some(t) => t.counted(),
            None => (self.checks_done + self.checks_skipped, self.checks_total),
        };
        (
            checks_done + self.quizzes_answered,
            checks_total + self.quizzes_total,
        )
    }

    /// Which tracks of a two-track lesson are complete: `node`,
    /// `cluster`, `both`; `None` for none, or a one-track lesson.
    pub fn tracks_done(&self) -> Option<&'static str> {
        let t = self.tracks?;
        match (
            TrackCounts::complete(t.node),
            TrackCounts::complete(t.cluster),
        ) {
            (true, true) => Some("both"),
            (true, false) => Some("node"),
            (false, true) => Some("cluster"),
            (false, false) => None,
        }
    }

    /// `done`, `started`, `read` (visited, nothing to do) or `new`.
    pub fn word(&self) -> &'static str {
        let (done, total) = self.items();
        match (done, total) {
            (d, t) if t > 0 && d >= t => "done",
            (d, _) if d > 0 => "started",
            (_, 0) if self.visited => "read",
            _ if self.visited => "started",
            _ => "new",
        }
    }
}

impl Progress {
    /// Remembers the reading position (and marks the lesson visited).
    pub fn set_position(&mut self, lesson: &str, line: u32) {
        let l = self.lessons.entry(lesson.to_string()).or_default();
        l.visited = true;
        l.line = line;
        self.position = Some(Position {
            lesson: lesson.to_string(),
            line,
        });
    }

    /// Records a passed check; returns `true` the first time. The first
    /// completion time is kept.
    pub fn complete_check(&mut self, lesson: &str, check: &str) -> bool {
        self.complete_check_at(lesson, check, time::now())
    }

    pub fn complete_check_at(&mut self, lesson: &str, check: &str, at: u64) -> bool {
        let l = self.lessons.entry(lesson.to_string()).or_default();
        if l.checks.contains_key(check) {
            return false;
        }
        l.checks
            .insert(check.to_string(), CheckDone { completed_at: at });
        true
    }

    /// Records a check that cannot pass on this machine; returns `true` the
    /// first time. A check already done stays done, not skipped.
    pub fn skip_check(&mut self, lesson: &str, check: &str) -> bool {
        let l = self.lessons.entry(lesson.to_string()).or_default();
        if l.checks.contains_key(check) || l.skipped.contains_key(check) {
            return false;
        }
        l.skipped.insert(
            check.to_string(),
            CheckSkipped {
                skipped_at: time::now(),
            },
        );
        true
    }

    pub fn check_done(&self, lesson: &str, check: &str) -> Option<CheckDone> {
        self.lessons.get(lesson)?.checks.get(check).copied()
    }

    /// Records a quiz answer (the latest answer replaces an earlier one).
    pub fn answer_quiz(&mut self, lesson: &str, quiz: &str, answer: usize, correct: bool) {
        let quizzes = &mut self.lessons.entry(lesson.to_string()).or_default().quizzes;
        let before = quizzes.get(quiz);
        let first_answer = match before {
            Some(b) => b.first_answer,
            None => Some(answer),
        };
        let attempts = before.map_or(0, |b| b.attempts.max(1)) + 1;
        quizzes.insert(
            quiz.to_string(),
            QuizAnswer {
                answer,
                correct,
                answered_at: time::now(),
                first_answer,
                attempts,
            },
        );
    }

    pub fn quiz_answer(&self, lesson: &str, quiz: &str) -> Option<QuizAnswer> {
        self.lessons.get(lesson)?.quizzes.get(quiz).copied()
    }

    /// Status of a lesson against its current checks and quizzes (ids that
    /// are no longer in the lesson do not count).
    pub fn status(&self, lesson: &crate::course::model::Lesson) -> LessonStatus {
        let id = &lesson.front.id;
        let checks = lesson.doc.checks();
        let quizzes = lesson.doc.quizzes();
        let lp = self.lessons.get(id);
        let counted = |c: &&crate::doc::ir::CheckBlock| {
            self.check_done(id, &c.id).is_some()
                || lp.is_some_and(|l| l.skipped.contains_key(&c.id))
        };
        let tracks = crate::course::track::two_track(&lesson.front).then(|| {
            use crate::course::track::{of_check, Track};
            let of = |t: Track| {
                let mine: Vec<_> = checks
                    .iter()
                    .filter(|c| of_check(&lesson.front, c) == t)
                    .collect();
                (mine.iter().filter(|c| counted(c)).count(), mine.len())
            };
            TrackCounts {
                node: of(Track::Node),
                cluster: of(Track::Cluster),
            }
        });
        LessonStatus {
            tracks,
            visited: lp.is_some_and(|l| l.visited),
            checks_done: checks
                .iter()
                .filter(|c| self.check_done(id, &c.id).is_some())
                .count(),
            checks_skipped: checks
                .iter()
                .filter(|c| self.check_done(id, &c.id).is_none())
                .filter(|c| lp.is_some_and(|l| l.skipped.contains_key(&c.id)))
                .count(),
            checks_total: checks.len(),
            quizzes_answered: quizzes
                .iter()
                .filter(|q| self.quiz_answer(id, &q.id).is_some())
                .count(),
            quizzes_total: quizzes.len(),
        }
    }

    /// Forgets one lesson; returns whether there was anything to forget.
    pub fn reset_lesson(&mut self, lesson: &str) -> bool {
        let had = self.lessons.remove(lesson).is_some();
        let at_position = self.position.as_ref().is_some_and(|p| p.lesson == lesson);
        if at_position {
            self.position = None;
        }
        had || at_position
    }
}

/// Opening the progress a [`Context`] names (the context sits below
/// `progress`, so these live here).
impl crate::context::Context {
    /// The data directory (for progress).
    pub fn data_dir(&self) -> anyhow::Result<std::path::PathBuf> {
        Ok(data_dir(self.data_dir_flag.as_deref())?)
    }

    /// Opens this course's progress, printing a notice if an unreadable file
    /// was moved aside.
    pub fn open_progress(&self) -> anyhow::Result<Store> {
        let key = course_key(&self.course_dir, self.builtin_course);
        let opened = Store::open(&self.data_dir()?, &key)?;
        if let Some(n) = &opened.notice {
            eprintln!("{}", crate::sanitize::text(&n.to_string()));
        }
        Ok(opened.store)
    }
}

#[cfg(test)]
mod tests;
