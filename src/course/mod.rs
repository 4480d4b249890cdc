//! The course on disk: books (one per language), their SUMMARY outline and
//! lesson files with TOML front matter.
//!
//! Entry point: [`load(dir)`](fn@load) → [`LoadedCourse`] with
//! - `course.books` — each book's SUMMARY parts and chapters,
//! - `lessons` — every lesson that loaded (both languages),
//! - `errors` — lessons/entries that failed (shown as error pages),
//! - `diagnostics` — every error and warning, for `kubelab lint`.
//!
//! For the reader: [`LoadedCourse::outline`]`(lang)` resolves the SUMMARY of
//! the preferred language into entries (`Lesson`/`Error`/`Draft`, with the
//! other-language fallback flagged), and [`LoadedCourse::search_index`]
//! builds the `/` search over every lesson's text with file line numbers.
pub mod builtin;
pub mod files;
pub mod front;
pub mod front_yaml;
pub mod include;
pub mod lesson;
pub mod limits;
pub mod load;
pub mod model;
pub mod node;
pub mod suggest;
pub mod summary;
pub mod track;
pub mod world;

pub use load::{
    books_root, load, CourseError, EntryState, LoadedCourse, Outline, OutlineEntry, OutlinePart,
    SearchHit, SearchIndex, Slot,
};

use model::{Lang, Lesson, LessonError};
use std::path::{Path, PathBuf};

/// Loads one lesson file; on failure, its first error (all of them are in
/// [`lesson::load_file`]'s diagnostics).
pub fn load_lesson(lang: Lang, path: &Path) -> Result<Lesson, LessonError> {
    let loaded = lesson::load_file(path, lang);
    match (
        loaded.lesson,
        loaded.diagnostics.iter().find(|d| d.is_error()),
    ) {
        (Some(l), None) => Ok(l),
        (_, Some(e)) => Err(LessonError::from(e)),
        (None, None) => Err(LessonError {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: "the lesson could not be loaded".into(),
        }),
    }
}

static PRELOADED: std::sync::Mutex<Option<(PathBuf, LoadedCourse)>> = std::sync::Mutex::new(None);

/// Hands a course already loaded (e.g. to check a lesson id or a lock) to
/// the next [`take_preloaded`] for the same directory (the reader's start),
/// so start-up does not parse every lesson twice.
pub fn preload(dir: &Path, course: LoadedCourse) {
    *PRELOADED.lock().unwrap_or_else(|e| e.into_inner()) = Some((dir.to_path_buf(), course));
}

/// The course [`preload`]ed for `dir`, if any (taken: a second call gets
/// `None`).
pub fn take_preloaded(dir: &Path) -> Option<LoadedCourse> {
    let mut slot = PRELOADED.lock().unwrap_or_else(|e| e.into_inner());
    match slot.take() {
        Some((d, c)) if d == dir => Some(c),
        _ => None,
    }
}

/// Loading the course a [`Context`](crate::context::Context) names (the
/// context sits below `course`, so this lives here).
impl crate::context::Context {
    /// Loads the course or explains why it cannot.
    pub fn load_course(&self) -> anyhow::Result<LoadedCourse> {
        load(&self.course_dir).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// The built-in course: the `lessons/` of a packaged install
/// (`<prefix>/share/kubelab/lessons`), else the course embedded in the
/// binary, unpacked to the user's cache ([`builtin`]). Never the source
/// tree: an installed binary must not depend on where it was built.
/// (`--course` and `$KUBELAB_COURSE` are handled by the CLI.)
pub fn default_course_dir() -> Result<PathBuf, String> {
    if let Ok(exe) = std::env::current_exe() {
        if let Some(prefix) = exe.parent().and_then(|bin| bin.parent()) {
            let shared = prefix.join("share").join("kubelab");
            if shared.join("lessons").is_dir() {
                return Ok(shared);
            }
        }
    }
    builtin::dir().map_err(|e| {
        format!("cannot unpack the built-in course into the cache: {e} (set XDG_CACHE_HOME to a writable folder, or use --course DIR)")
    })
}
