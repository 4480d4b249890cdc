//! Loading one lesson file: bytes → UTF-8 → front matter → body.

use super::files::{self, FileError};
use super::model::{Lang, Lesson};
use super::{front, include};
use crate::diagnostic::Diagnostic;
use crate::doc;
use std::path::Path;

/// Lessons larger than this are refused (a lesson is prose, not a data dump;
/// a huge file would stall the reader).
pub const MAX_LESSON_BYTES: u64 = 2 * 1024 * 1024;

/// The outcome of loading one lesson: the lesson if it had no errors, and
/// every diagnostic (errors and warnings) found on the way.
#[derive(Debug, Clone)]
pub struct LessonLoad {
    pub lesson: Option<Lesson>,
    /// The lesson as far as it parsed, when it has errors but its front
    /// matter parsed: lint checks it too, so one run reports every error.
    pub partial: Option<Lesson>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LessonLoad {
    fn failed(d: Diagnostic) -> LessonLoad {
        LessonLoad {
            lesson: None,
            partial: None,
            diagnostics: vec![d],
        }
    }

    /// The first error, if the lesson failed to load.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }
}

/// Reads and parses the lesson at `path`. The file stem must equal the
/// front-matter `id`. Its `{{#include}}`s may read inside the folder
/// [`files::include_root`] gives.
pub fn load_file(path: &Path, lang: Lang) -> LessonLoad {
    load_file_in(path, lang, None)
}

/// [`load_file`] of a lesson of the course folder `course` (includes never
/// reach outside it).
pub fn load_file_in(path: &Path, lang: Lang, course: Option<&Path>) -> LessonLoad {
    let bytes = match files::read_regular(path, MAX_LESSON_BYTES) {
        Ok(b) => b,
        Err(FileError::TooBig(size)) => {
            return LessonLoad::failed(Diagnostic::error(
                path,
                0,
                0,
                format!(
                    "the lesson is {:.1} MiB; lessons must be under {} MiB — split it into several lessons",
                    size as f64 / (1024.0 * 1024.0),
                    MAX_LESSON_BYTES >> 20
                ),
            ))
        }
        Err(e) => {
            return LessonLoad::failed(Diagnostic::error(
                path,
                0,
                0,
                format!("cannot read the lesson: it {e}"),
            ))
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() as u32 + 1;
            let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            return LessonLoad::failed(Diagnostic::error(
                path,
                line,
                col,
                "the lesson is not valid UTF-8 here; save the file as UTF-8",
            ));
        }
    };
    parse_text_in(&text, path, lang, &files::include_root(path, course))
}

/// Reported control-character lines per lesson: enough to find them all
/// with a search, without a flood from a binary file.
const MAX_CONTROL_REPORTS: usize = 20;

/// An error for every line holding a control character (NUL, ESC, a lone
/// CR, C1...) other than a tab or a CRLF line end: a lesson is text, and a
/// NUL in a check script or an escape in a title is either a mistake or an
/// attack on the learner's terminal.
fn control_chars(text: &str, path: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some((_, col, c)) = crate::sanitize::first_control(line, true) else {
            continue;
        };
        if out.len() == MAX_CONTROL_REPORTS {
            out.push(Diagnostic::error(
                path,
                i as u32 + 1,
                col,
                "more control characters follow; is this a text file?",
            ));
            break;
        }
        out.push(Diagnostic::error(
            path,
            i as u32 + 1,
            col,
            format!(
                "control character {c} in the lesson; remove it (only tabs and line breaks belong in a lesson)"
            ),
        ));
    }
    out
}

/// Parses a lesson from text already in memory (used by `load_file` and by
/// tools that hold an edited buffer, e.g. a live preview).
pub fn parse_text(text: &str, path: &Path, lang: Lang) -> LessonLoad {
    parse_text_in(text, path, lang, &files::include_root(path, None))
}

/// [`parse_text`] with `{{#include}}`s confined to `include_root`.
pub fn parse_text_in(text: &str, path: &Path, lang: Lang, include_root: &Path) -> LessonLoad {
    let controls = control_chars(text, path);
    let split = match front::split(text, path) {
        Ok(s) => s,
        Err(d) => {
            let mut l = LessonLoad::failed(d);
            l.diagnostics.extend(controls);
            return l;
        }
    };
    let mut diagnostics = controls;
    // A front-matter error does not hide the body's: lint reports both.
    let front = front::lesson_front(&split, path)
        .map_err(|d| diagnostics.push(d))
        .ok();
    let parsed = parse_body(split.body, split.body_line, path, include_root);
    let Some(front) = front else {
        diagnostics.extend(parsed.diagnostics);
        return LessonLoad {
            lesson: None,
            partial: None,
            diagnostics,
        };
    };
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        if front.id != stem {
            let line = split
                .front
                .lines()
                .position(|l| l.trim_start().starts_with("id"))
                .map_or(split.front_line, |i| split.front_line + i as u32);
            diagnostics.push(Diagnostic::error(
                path,
                line,
                1,
                format!(
                    "id = \"{}\" but the file is {stem}.md; a lesson's id is its file name, make them equal",
                    front.id
                ),
            ));
        }
    }
    diagnostics.extend(parsed.diagnostics);
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    let lesson = Lesson {
        lang,
        path: path.to_path_buf(),
        front,
        doc: parsed.doc,
    };
    let (lesson, partial) = if ok {
        (Some(lesson), None)
    } else {
        (None, Some(lesson))
    };
    LessonLoad {
        lesson,
        partial,
        diagnostics,
    }
}

/// The body parsed after expanding its `{{#include}}`s (an include that
/// cannot be read is an error on its line, the directive left as written).
fn parse_body(body: &str, body_line: u32, path: &Path, root: &Path) -> doc::Parsed {
    if !include::has_directive(body) {
        return doc::parse_body(body, body_line, path);
    }
    let e = include::expand(body, path, root);
    let mut parsed = doc::parse::parse_body_mapped(&e.text, body_line, path, &e.line_map);
    for (line, msg) in e.errors {
        parsed
            .diagnostics
            .push(Diagnostic::error(path, body_line + line - 1, 1, msg));
    }
    parsed
}
