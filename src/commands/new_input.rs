//! What `kubelab new` accepts (lesson ids, titles) and the errors it
//! reports, apart from `new` so that `new_course` can use them without
//! importing `new` back.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum NewError {
    BadId(String),
    BadTitle,
    /// A title or module name that would break SUMMARY.md or the terminal.
    BadText {
        what: &'static str,
        why: String,
    },
    NoBook(PathBuf),
    Exists(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NewError::BadId(id) => write!(
                f,
                "lesson id `{}`: use lowercase letters, digits and dashes, at most {MAX_ID_CHARS}, \
                 `NN-slug` for numbered lessons (e.g. 07-images)",
                crate::sanitize::line(id)
            ),
            NewError::BadTitle => f.write_str("--title must not be empty"),
            NewError::BadText { what, why } => write!(f, "{what}: {why}"),
            NewError::NoBook(dir) => write!(
                f,
                "{}: no book here (expected book.toml and src/SUMMARY.md); \
                 pass the course directory with --course",
                dir.display()
            ),
            NewError::Exists(p) => write!(
                f,
                "{}: already exists; kubelab new never overwrites a lesson \
                 (pick another id or remove the file yourself)",
                p.display()
            ),
            NewError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for NewError {}

/// Longest lesson id `kubelab new` accepts (it is a file name and is
/// typed on the command line).
pub const MAX_ID_CHARS: usize = 64;

/// Longest title or module name `kubelab new` accepts (one outline line).
pub const MAX_TITLE_CHARS: usize = 200;

/// A title or module name goes on one SUMMARY.md line and into TOML and the
/// terminal: one line, no control characters, a sane length.
pub(super) fn check_text(what: &'static str, text: &str) -> Result<(), NewError> {
    let bad = |why: String| Err(NewError::BadText { what, why });
    if let Some((_, col, c)) = crate::sanitize::first_control(text, false) {
        let kind = if c == "^J" || c == "^M" {
            "a line break"
        } else {
            "a control character"
        };
        return bad(format!(
            "has {kind} ({c}) at character {col}; it must be one line of plain text"
        ));
    }
    let n = text.chars().count();
    if n > MAX_TITLE_CHARS {
        return bad(format!(
            "is {n} characters long; keep it under {MAX_TITLE_CHARS}"
        ));
    }
    Ok(())
}

/// Lesson ids: `[a-z0-9][a-z0-9-]*`, no trailing dash, no `--`, at most
/// [`MAX_ID_CHARS`].
pub fn valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && bytes[0].is_ascii_alphanumeric()
        && !id.ends_with('-')
        && !id.contains("--")
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}
