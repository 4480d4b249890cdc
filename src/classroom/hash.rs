//! The course's identity in an export: an id and a hash of its content, so
//! an instructor can tell which version of the lessons a learner used.

use crate::course::model::Lang;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The book directories of a course directory, as the loader finds them:
/// `DIR` itself when it holds `book.toml` (one book; its `[book] language`
/// or directory name says which), else `DIR/lessons/{zh,en}` or `DIR/{zh,en}`.
pub fn book_dirs(course_dir: &Path) -> Vec<(Lang, PathBuf)> {
    let toml = course_dir.join("book.toml");
    if toml.is_file() {
        let lang = crate::course::load::read_book_toml(&toml)
            .ok()
            .and_then(|b| b.language?.parse().ok())
            .or_else(|| {
                course_dir
                    .canonicalize()
                    .ok()?
                    .file_name()?
                    .to_str()?
                    .parse()
                    .ok()
            });
        return lang
            .map(|l| vec![(l, course_dir.to_path_buf())])
            .unwrap_or_default();
    }
    let root = crate::course::books_root(course_dir);
    Lang::ALL
        .into_iter()
        .map(|l| (l, root.join(l.code())))
        .filter(|(_, d)| d.is_dir())
        .collect()
}

/// `sha256:<hex>` over every book's `book.toml` and every file under its
/// `src/`, in a fixed order (language, then path), each as
/// `path NUL length NUL bytes`. Build output (`book/`) is not included, and
/// neither is anything outside the books, so rebuilding the web book or
/// adding notes beside the course does not change the hash.
/// Paths are hashed as `zh/...`/`en/...` whatever the layout, so the same
/// books give the same hash as `DIR/lessons/zh` or as `--course DIR/zh`.
pub fn content_hash(course_dir: &Path) -> std::io::Result<String> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (lang, book) in book_dirs(course_dir) {
        let toml = book.join("book.toml");
        let src = book.join(book_src(&toml));
        if toml.is_file() {
            files.push((format!("{}/book.toml", lang.code()), toml));
        }
        collect(&src, &format!("{}/src", lang.code()), &mut files)?;
    }
    files.sort();
    let mut hasher = Sha256::new();
    for (rel, path) in &files {
        // A FIFO or device among the course files is an error, never a hang.
        let bytes = crate::course::files::read_regular(path, u64::MAX)?;
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update(bytes.len().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("sha256:{hex}"))
}

fn book_src(book_toml: &Path) -> String {
    crate::course::files::read_text(book_toml, 64 * 1024)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("book")?.get("src")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "src".to_owned())
}

fn collect(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel = format!("{rel}/{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(&path, &rel, out)?;
        } else if kind.is_file() || path.is_file() {
            out.push((rel, path));
        }
    }
    Ok(())
}

/// The course id: `course-id` in `[preprocessor.kubelab]` of the zh or en
/// `book.toml`; `kubelab` (the built-in course) when neither sets one.
pub fn course_id(course_dir: &Path) -> String {
    for (_, book) in book_dirs(course_dir) {
        let id = crate::course::files::read_text(&book.join("book.toml"), 64 * 1024)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .and_then(|t| {
                t.get("preprocessor")?
                    .get("kubelab")?
                    .get("course-id")?
                    .as_str()
                    .map(str::to_owned)
            });
        if let Some(id) = id.filter(|i| !i.trim().is_empty()) {
            return id.trim().to_owned();
        }
    }
    "kubelab".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn hash_tracks_lesson_content_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "zh/book.toml", "[book]\ntitle = \"t\"\n");
        write(root, "zh/src/SUMMARY.md", "# Summary\n");
        write(root, "zh/src/a.md", "A");
        let h1 = content_hash(root).unwrap();
        assert!(h1.starts_with("sha256:") && h1.len() == 7 + 64, "{h1}");
        // Build output and unrelated files do not count.
        write(root, "zh/book/index.html", "<html>");
        write(root, "notes.txt", "x");
        assert_eq!(content_hash(root).unwrap(), h1);
        // A lesson edit does.
        write(root, "zh/src/a.md", "B");
        let h2 = content_hash(root).unwrap();
        assert_ne!(h1, h2);
        // Moving bytes between files changes it too (paths are hashed).
        write(root, "zh/src/a.md", "");
        write(root, "zh/src/b.md", "B");
        assert_ne!(content_hash(root).unwrap(), h2);
        // The same book opened as a single-book course hashes the same way
        // when it is the only book.
        let h3 = content_hash(root).unwrap();
        assert_eq!(content_hash(&root.join("zh")).unwrap(), h3);
        // And `lessons/` layouts are found.
        let other = tempfile::tempdir().unwrap();
        write(
            other.path(),
            "lessons/zh/book.toml",
            "[book]\ntitle = \"t\"\n",
        );
        assert_eq!(book_dirs(other.path()).len(), 1);
        assert!(book_dirs(&other.path().join("nothing")).is_empty());
    }

    #[test]
    fn course_id_from_book_toml() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(course_id(dir.path()), "kubelab");
        write(
            dir.path(),
            "en/book.toml",
            "[book]\ntitle = \"t\"\n[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\ncourse-id = \"k8s-fall-class\"\n",
        );
        assert_eq!(course_id(dir.path()), "k8s-fall-class");
    }
}
