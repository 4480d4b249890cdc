//! Loading one lesson file: bytes → UTF-8 → front matter → body.

use super::front;
use super::model::{Lang, Lesson};
use crate::diagnostic::Diagnostic;
use crate::doc;
use std::io::Read;
use std::path::Path;

/// Lessons larger than this are refused (a lesson is prose, not a data dump;
/// a huge file would stall the reader).
pub const MAX_LESSON_BYTES: u64 = 2 * 1024 * 1024;

/// The outcome of loading one lesson: the lesson if it had no errors, and
/// every diagnostic (errors and warnings) found on the way.
#[derive(Debug, Clone)]
pub struct LessonLoad {
    pub lesson: Option<Lesson>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LessonLoad {
    fn failed(d: Diagnostic) -> LessonLoad {
        LessonLoad {
            lesson: None,
            diagnostics: vec![d],
        }
    }

    /// The first error, if the lesson failed to load.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }
}

/// Reads and parses the lesson at `path`. The file stem must equal the
/// front-matter `id`.
pub fn load_file(path: &Path, lang: Lang) -> LessonLoad {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return LessonLoad::failed(Diagnostic::error(
                path,
                0,
                0,
                format!("cannot read the lesson: {e}"),
            ))
        }
    };
    let mut bytes = Vec::new();
    // Read one byte past the limit to tell "too big" without reading it all.
    if let Err(e) = (&mut file)
        .take(MAX_LESSON_BYTES + 1)
        .read_to_end(&mut bytes)
    {
        return LessonLoad::failed(Diagnostic::error(
            path,
            0,
            0,
            format!("cannot read the lesson: {e}"),
        ));
    }
    if bytes.len() as u64 > MAX_LESSON_BYTES {
        let size = file
            .metadata()
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64);
        return LessonLoad::failed(Diagnostic::error(
            path,
            0,
            0,
            format!(
                "the lesson is {:.1} MiB; lessons must be under {} MiB — split it into several lessons",
                size as f64 / (1024.0 * 1024.0),
                MAX_LESSON_BYTES >> 20
            ),
        ));
    }
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
    parse_text(&text, path, lang)
}

/// Parses a lesson from text already in memory (used by `load_file` and by
/// tools that hold an edited buffer, e.g. a live preview).
pub fn parse_text(text: &str, path: &Path, lang: Lang) -> LessonLoad {
    let split = match front::split(text, path) {
        Ok(s) => s,
        Err(d) => return LessonLoad::failed(d),
    };
    let front = match front::lesson_front(&split, path) {
        Ok(f) => f,
        Err(d) => return LessonLoad::failed(d),
    };
    let mut diagnostics = Vec::new();
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
    let parsed = doc::parse_body(split.body, split.body_line, path);
    diagnostics.extend(parsed.diagnostics);
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    LessonLoad {
        lesson: ok.then(|| Lesson {
            lang,
            path: path.to_path_buf(),
            front,
            doc: parsed.doc,
        }),
        diagnostics,
    }
}
