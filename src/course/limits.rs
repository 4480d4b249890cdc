//! Size limits on what a course may hand kubelab (documented in
//! lessons/README.md, "Limits"). A course is untrusted input: every file is
//! read with a cap, every count is bounded, and going over is an error that
//! names the file and the limit.

use crate::diagnostic::Diagnostic;
use std::path::Path;
use std::time::Duration;

pub use super::lesson::MAX_LESSON_BYTES;
pub use crate::doc::parse::{
    MAX_BLOCK_NESTING, MAX_CHECKS_PER_LESSON, MAX_CODE_BLOCKS_PER_LESSON, MAX_INLINE_NESTING,
};

/// How long one check may run before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// CPU seconds each process of a check may use (RLIMIT_CPU; inherited by the
/// script's children). A check reads a few files: a busy loop is stopped
/// here instead of pegging a core for the whole [`CHECK_TIMEOUT`].
pub const CHECK_CPU_SECONDS: u64 = 2;

/// SUMMARY.md: an outline, a few hundred lines at most. An 18 MB SUMMARY.md
/// used to take 370 MB of memory.
pub const MAX_SUMMARY_BYTES: u64 = 256 * 1024;

/// Chapters (written and draft) one SUMMARY.md may list.
pub const MAX_CHAPTERS_PER_BOOK: usize = 500;

/// book.toml: a handful of settings.
pub const MAX_BOOK_TOML_BYTES: u64 = 64 * 1024;

/// The TOML front matter of one lesson.
pub const MAX_FRONT_MATTER_BYTES: usize = 16 * 1024;

/// Reads a whole text file of at most `max` bytes. `what` names the file in
/// messages ("SUMMARY.md", "book.toml").
pub fn read_capped(path: &Path, max: u64, what: &str) -> Result<String, Diagnostic> {
    // Through the course-file reader: a FIFO or device in place of the file
    // is refused without ever blocking on it.
    let bytes = match super::files::read_regular(path, max) {
        Ok(b) => b,
        Err(super::files::FileError::TooBig(size)) => {
            return Err(Diagnostic::error(
                path,
                0,
                0,
                format!(
                "{what} is larger than {}; the limit is {} (see \"Limits\" in lessons/README.md)",
                human(size),
                human(max)
            ),
            ))
        }
        Err(e) => {
            return Err(Diagnostic::error(
                path,
                0,
                0,
                format!("cannot read {what}: it {e}"),
            ))
        }
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        Diagnostic::error(
            path,
            line,
            0,
            format!("{what} is not valid UTF-8 here; save the file as UTF-8"),
        )
    })
}

/// `256 KiB`, `2 MiB`: sizes in messages.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64).replace(".0 ", " ")
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_non_utf8_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("SUMMARY.md");
        std::fs::write(&p, vec![b'x'; 2048]).unwrap();
        let e = read_capped(&p, 1024, "SUMMARY.md").unwrap_err();
        assert_eq!(e.path, p);
        assert!(e.message.contains("limit is 1 KiB"), "{}", e.message);
        assert_eq!(read_capped(&p, 2048, "SUMMARY.md").unwrap().len(), 2048);
        std::fs::write(&p, b"ok\n\xff").unwrap();
        let e = read_capped(&p, 1024, "SUMMARY.md").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(human(2 << 20), "2 MiB");
    }
}
