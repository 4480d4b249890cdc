//! Reading course files that may be hostile: only regular files, never
//! outside the course folder, never more than a bound.
//!
//! A FIFO opened for reading blocks until a writer comes (forever), and a
//! device can stream without end, so a file is opened with `O_NONBLOCK` and
//! checked on the open handle (no check-then-open race) before one byte is
//! read. A symlink is followed only to a target inside the course folder.

use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a course file could not be read; the message says what to do.
#[derive(Debug)]
pub enum FileError {
    /// Nothing at that path.
    Missing,
    /// A FIFO, socket, device or directory.
    NotRegular(&'static str),
    /// The path (or a symlink on it) leads out of the course folder.
    Outside(PathBuf),
    /// Bigger than the limit (the size found).
    TooBig(u64),
    Io(io::Error),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Missing => f.write_str("does not exist"),
            FileError::NotRegular(kind) => write!(
                f,
                "is not a regular file (it is a {kind}); course files must be plain files"
            ),
            FileError::Outside(to) => write!(
                f,
                "leads outside the course folder (to {}); a course may only use files inside its own folder",
                to.display()
            ),
            FileError::TooBig(n) => write!(f, "is too big ({n} bytes)"),
            FileError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl From<FileError> for io::Error {
    fn from(e: FileError) -> io::Error {
        match e {
            FileError::Io(e) => e,
            FileError::Missing => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
            e => io::Error::other(e.to_string()),
        }
    }
}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

/// `path` with symlinks resolved, if it stays inside `root` (both
/// canonicalised). `Missing` when it does not exist.
pub fn confine(path: &Path, root: &Path) -> Result<PathBuf, FileError> {
    let real = match path.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(FileError::Missing),
        Err(e) => return Err(FileError::Io(e)),
    };
    let root = root.canonicalize().map_err(FileError::Io)?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(FileError::Outside(real))
    }
}

/// What is at `path` without opening it: `Ok` for a regular file (through
/// symlinks), else why not.
pub fn check_regular(path: &Path) -> Result<(), FileError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => Err(FileError::NotRegular(kind_of(m.file_type()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FileError::Missing),
        Err(e) => Err(FileError::Io(e)),
    }
}

/// Reads at most `limit` bytes of the regular file at `path` (`TooBig`
/// past that). A FIFO or device is refused without blocking.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => FileError::Missing,
            _ => FileError::Io(e),
        })?;
    let meta = file.metadata().map_err(FileError::Io)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(FileError::TooBig(meta.len()));
    }
    let mut bytes = Vec::new();
    // One byte past the limit: a file growing while read is still caught.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(FileError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooBig(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    let bytes = read_regular(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not valid UTF-8 at byte {}; save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// The folder `{{#include}}` may read from for a lesson at `file`: the
/// folder holding the course's books (the parent of a `zh`/`en` book), or
/// the book itself (the folder with `book.toml`), or the lesson's own
/// folder when it is in no book — and never wider than `course` (the
/// folder the learner opened), when given.
pub fn include_root(file: &Path, course: Option<&Path>) -> PathBuf {
    let abs = file
        .canonicalize()
        .unwrap_or_else(|_| std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()));
    let dir = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
    let book = dir
        .ancestors()
        .find(|a| a.join("book.toml").is_file())
        .map(Path::to_path_buf);
    let heuristic = match book {
        Some(b) => {
            let is_lang = b
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "zh" || n == "en");
            match b.parent() {
                Some(p) if is_lang => p.to_path_buf(),
                _ => b,
            }
        }
        None => dir,
    };
    match course.and_then(|c| c.canonicalize().ok()) {
        Some(c) if c.starts_with(&heuristic) => c,
        _ => heuristic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("f.md");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(ok.success());
        assert!(matches!(
            read_regular(&fifo, 10),
            Err(FileError::NotRegular("FIFO"))
        ));
        assert!(matches!(
            check_regular(&fifo),
            Err(FileError::NotRegular("FIFO"))
        ));
        assert!(matches!(
            read_regular(&d.path().join("none"), 10),
            Err(FileError::Missing)
        ));
    }

    #[test]
    fn reads_are_bounded_and_confined() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.md");
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read_regular(&f, 5).unwrap(), b"12345");
        assert!(matches!(read_regular(&f, 4), Err(FileError::TooBig(5))));
        let inner = d.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        assert!(matches!(confine(&f, &inner), Err(FileError::Outside(_))));
        assert!(confine(&f, d.path()).is_ok());
        std::os::unix::fs::symlink(&f, inner.join("link.md")).unwrap();
        assert!(matches!(
            confine(&inner.join("link.md"), &inner),
            Err(FileError::Outside(_))
        ));
    }
}
