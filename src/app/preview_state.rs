//! The data of `kubelab preview` that the rest of the app holds: the
//! reloaded library an event carries, and the bookkeeping kept in
//! [`App::preview`](super::state::App::preview). Apart from `preview.rs`,
//! which works on the whole [`App`](super::state::App), so that events and
//! state do not import it back.

use super::library::{Content, Entry, Library};
use crate::course::model::{Lesson, LessonError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A freshly loaded library, sent from the watcher thread, with the new
/// text of the lesson files that changed (to follow the reader's place).
///
/// Compared by identity so it can ride inside the `Eq` [`super::Action`].
#[derive(Debug, Clone)]
pub struct Reloaded(pub Arc<(Library, HashMap<PathBuf, String>)>);

impl PartialEq for Reloaded {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Reloaded {}

/// Preview bookkeeping kept in [`App::preview`](super::state::App::preview).
#[derive(Debug, Clone, Default)]
pub struct PreviewState {
    /// Last version of each lesson file that parsed, by path.
    pub(super) good: HashMap<PathBuf, Arc<Lesson>>,
    /// While the last good version is shown: (entry, the error it hides).
    pub(super) hidden_error: Option<(usize, LessonError)>,
    /// Reloads applied so far (tests and the status line use it).
    pub reloads: u64,
    /// Source line last seen at the top of a rendered lesson: an error page
    /// has none, so a fix (or `v`) returns to this place.
    pub(super) anchor: u32,
    /// Last text read of each lesson file, to map the top line through edits.
    pub(super) texts: HashMap<PathBuf, String>,
}

impl PreviewState {
    /// State for the first load of `lib` (its good lessons remembered).
    pub fn new(lib: &Library) -> PreviewState {
        let mut p = PreviewState::default();
        p.remember(lib);
        p.texts = lib
            .entries
            .iter()
            .filter_map(entry_path)
            .filter_map(|path| Some((path.to_path_buf(), std::fs::read_to_string(path).ok()?)))
            .collect();
        p
    }

    pub(super) fn remember(&mut self, lib: &Library) {
        for e in &lib.entries {
            if let Content::Lesson(l) = &e.content {
                self.good.insert(l.path.clone(), l.clone());
            }
        }
    }

    /// Whether the shown lesson is the last good version hiding an error.
    pub fn showing_last_good(&self) -> bool {
        self.hidden_error.is_some()
    }
}

/// The file an outline entry was loaded from (drafts have none).
pub(super) fn entry_path(e: &Entry) -> Option<&Path> {
    match &e.content {
        Content::Lesson(l) => Some(&l.path),
        Content::Error(err) => Some(&err.path),
        Content::Draft => None,
    }
}
