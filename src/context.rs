//! The global options of one run, resolved once: which course, which
//! language, where progress lives, the lock and the trust flag.
//!
//! The command line builds a [`Context`] from its parsed arguments
//! (`cli::context_from`) and hands it down to a command; everything below
//! the commands takes it as a plain value and never looks at `cli`. It sits
//! at the bottom of the crate (docs/layers.toml), so it holds data only: the
//! methods that open what it names live beside what they open,
//! [`Context::load_course`] in `course` and [`Context::data_dir`] /
//! [`Context::open_progress`] in `progress`.

use crate::locale::Lang;
use std::path::PathBuf;

/// Global options resolved once, handed to every command.
#[derive(Debug, Clone)]
pub struct Context {
    /// The course directory (from `--course`, else `$KUBELAB_COURSE`, else
    /// the built-in course).
    pub course_dir: PathBuf,
    /// `false` when the course came from `--course`/`$KUBELAB_COURSE`
    /// (someone else's lessons: ask before running anything).
    pub builtin_course: bool,
    /// UI and preferred lesson language.
    pub lang: Lang,
    /// `--data-dir`, if given (see [`crate::progress::data_dir`]).
    pub data_dir_flag: Option<PathBuf>,
    /// `--lock` / `$KUBELAB_LOCK` (empty = none); book.toml's lock applies
    /// when absent: see [`crate::lock::LockRule::for_context`].
    pub lock_flag: Option<String>,
    /// `--trust`: run another course's labs without asking.
    pub trust: bool,
}
