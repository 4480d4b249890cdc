//! `--lock <lesson-id>`: an instructor keeps a class together by opening the
//! course only up to one lesson. The one place that decides which lessons a
//! learner may open.
//!
//! The rule is pure (outline order in, yes/no out) so the reader's outline,
//! `n`/`p` navigation, search jumps, `kubelab open`, `kubelab list` and
//! `kubelab progress` can all ask the same question (the reader's side:
//! `App::is_locked` and `app::update::open`, which stop at the last open
//! lesson). The lock comes from `--lock` or, when that is absent, from
//! `lock = "id"` in the course's `book.toml` (`[preprocessor.kubelab]`, or
//! `[kubelab]` for courses never built with mdBook); the flag wins.

use crate::context::Context;
use crate::course::model::Lang;
use std::fmt;
use std::path::{Path, PathBuf};

/// Outline mark of a locked lesson.
pub const MARK: &str = "🔒";

/// Which lessons of one book are open under a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRule {
    /// Lesson ids in SUMMARY order (drafts have no id and are skipped).
    order: Vec<String>,
    /// Number of lessons from the start that are open; `None` = no lock.
    open: Option<usize>,
    lock: Option<String>,
}

/// The lock names a lesson the book does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockError {
    pub lock: String,
    /// The ids that would have been accepted, in outline order.
    pub known: Vec<String>,
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let near = crate::course::suggest::near(&self.known, &self.lock);
        let near = if near.is_empty() {
            String::new()
        } else {
            format!("did you mean `{}`? ", near.join("`, `"))
        };
        write!(
            f,
            "--lock `{}`: no lesson with that id in the course outline (SUMMARY.md); \
             {near}use one of: {}",
            self.lock,
            if self.known.is_empty() {
                "(the outline has no written lessons)".to_string()
            } else {
                self.known.join(", ")
            }
        )
    }
}

impl std::error::Error for LockError {}

impl LockRule {
    /// No lock: every lesson is open.
    pub fn unlocked() -> LockRule {
        LockRule {
            order: Vec::new(),
            open: None,
            lock: None,
        }
    }

    /// Builds the rule from the outline's lesson ids (SUMMARY order) and the
    /// lock, if any. The locked lesson itself is open; later ones are not.
    pub fn new<'a>(
        outline: impl IntoIterator<Item = &'a str>,
        lock: Option<&str>,
    ) -> Result<LockRule, LockError> {
        let order: Vec<String> = outline.into_iter().map(str::to_owned).collect();
        let Some(lock) = lock else {
            return Ok(LockRule {
                order,
                open: None,
                lock: None,
            });
        };
        match order.iter().position(|id| id == lock) {
            Some(pos) => Ok(LockRule {
                order,
                open: Some(pos + 1),
                lock: Some(lock.to_owned()),
            }),
            None => Err(LockError {
                lock: lock.to_owned(),
                known: order,
            }),
        }
    }

    /// The rule for one book of a loaded course.
    pub fn for_book(
        book: &crate::course::model::Book,
        lock: Option<&str>,
    ) -> Result<LockRule, LockError> {
        let ids = book
            .parts
            .iter()
            .flat_map(|p| p.chapters.iter())
            .filter_map(|c| c.id.as_deref());
        LockRule::new(ids, lock)
    }

    /// The rule for the reader's resolved outline (drafts have no id).
    pub fn for_outline(
        outline: &crate::course::Outline,
        lock: Option<&str>,
    ) -> Result<LockRule, LockError> {
        LockRule::new(outline.entries().filter_map(|e| e.id.as_deref()), lock)
    }

    /// May the learner open this lesson? Ids not in the outline (a lesson
    /// opened by path, say) are open only when there is no lock.
    pub fn is_open(&self, id: &str) -> bool {
        match self.open {
            None => true,
            Some(n) => self.order.iter().take(n).any(|o| o == id),
        }
    }

    /// The lock in force, for the status line ("locked after 05-process").
    pub fn lock(&self) -> Option<&str> {
        self.lock.as_deref()
    }

    /// The last open lesson id when locked: where `n` stops and where a
    /// request for a locked lesson is sent instead.
    pub fn last_open(&self) -> Option<&str> {
        self.open
            .and_then(|n| self.order.get(n.checked_sub(1)?))
            .map(String::as_str)
    }
}

/// Error reading the `[kubelab]` table of a `book.toml`.
#[derive(Debug)]
pub struct BookTomlError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for BookTomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for BookTomlError {}

/// `[kubelab] lock = "id"` from a book directory's `book.toml`.
/// A missing file or table means no lock.
pub fn lock_from_book_toml(book_dir: &Path) -> Result<Option<String>, BookTomlError> {
    let path = book_dir.join("book.toml");
    let max = crate::course::limits::MAX_BOOK_TOML_BYTES;
    let text = match crate::course::limits::read_capped(&path, max, "book.toml") {
        Ok(t) => t,
        Err(_) if std::fs::symlink_metadata(&path).is_err() => return Ok(None),
        Err(d) => {
            return Err(BookTomlError {
                path,
                message: d.message,
            })
        }
    };
    lock_from_book_toml_str(&text).map_err(|message| BookTomlError { path, message })
}

/// The text form of [`lock_from_book_toml`], for tests and callers that
/// already read the file. Two places are read: `[preprocessor.kubelab] lock`
/// (recommended: mdBook 0.5 rejects unknown top-level tables, so this is the
/// only spelling that still builds as a web book) and `[kubelab] lock`.
pub fn lock_from_book_toml_str(text: &str) -> Result<Option<String>, String> {
    let value: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let tables = [
        (
            value
                .get("preprocessor")
                .and_then(|p| p.as_table())
                .and_then(|p| p.get("kubelab")),
            "[preprocessor.kubelab]",
        ),
        (value.get("kubelab"), "[kubelab]"),
    ];
    for (table, name) in tables {
        let Some(table) = table else { continue };
        let table = table
            .as_table()
            .ok_or_else(|| format!("{name} must be a table with lock = \"05-process\""))?;
        match table.get("lock") {
            None => {}
            Some(toml::Value::String(s)) if !s.trim().is_empty() => {
                return Ok(Some(s.trim().to_owned()))
            }
            Some(_) => {
                return Err(format!(
                    "{name} lock must be a lesson id string, e.g. lock = \"05-process\""
                ))
            }
        }
    }
    Ok(None)
}

/// Why the lock could not be set up.
#[derive(Debug)]
pub enum LockSetupError {
    BookToml(BookTomlError),
    Lock(LockError),
}

impl fmt::Display for LockSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockSetupError::BookToml(e) => e.fmt(f),
            LockSetupError::Lock(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LockSetupError {}

impl LockRule {
    /// The rule for a loaded course as the reader shows it: `--lock` (or
    /// `$KUBELAB_LOCK`) if given, else the lock in the shown book's
    /// `book.toml` (then the other language's), checked against that
    /// book's outline.
    pub fn for_course(
        course: &crate::course::LoadedCourse,
        lang: Lang,
        flag: Option<&str>,
    ) -> Result<LockRule, LockSetupError> {
        let outline = course.outline(lang);
        let lock = match flag.filter(|f| !f.trim().is_empty()) {
            Some(f) => Some(f.trim().to_owned()),
            None => {
                let mut found = None;
                for l in [outline.lang, outline.lang.other()] {
                    let Some(book) = course.course.books.iter().find(|b| b.lang == l) else {
                        continue;
                    };
                    found = lock_from_book_toml(&book.dir).map_err(LockSetupError::BookToml)?;
                    if found.is_some() {
                        break;
                    }
                }
                found
            }
        };
        LockRule::for_outline(&outline, lock.as_deref()).map_err(LockSetupError::Lock)
    }

    /// [`LockRule::for_course`] with the command line's settings.
    pub fn for_context(
        ctx: &Context,
        course: &crate::course::LoadedCourse,
    ) -> Result<LockRule, LockSetupError> {
        LockRule::for_course(course, ctx.lang, ctx.lock_flag.as_deref())
    }
}

/// The lock rule the reader should apply for `ctx`, or `None` when nothing
/// is locked. Loads the course only when a lock is asked for (flag or a
/// `lock` in a book.toml), so the usual start stays fast.
pub fn rule_for_reader(ctx: &Context) -> anyhow::Result<Option<LockRule>> {
    if ctx.lock_flag.is_none() && !any_book_lock(&ctx.course_dir) {
        return Ok(None);
    }
    let loaded = ctx.load_course()?;
    let rule = LockRule::for_context(ctx, &loaded)?;
    // The reader would load the same course again: hand this one over.
    crate::course::preload(&ctx.course_dir, loaded);
    Ok(rule.lock().is_some().then_some(rule))
}

/// Whether a book.toml of the course directory sets a lock (cheap: reads
/// at most three small files).
fn any_book_lock(dir: &Path) -> bool {
    let root = crate::course::books_root(dir);
    std::iter::once(dir.to_path_buf())
        .chain(Lang::ALL.iter().map(|l| root.join(l.code())))
        .any(|d| {
            // An unreadable book.toml is reported when the lock is built.
            lock_from_book_toml(&d).map_or(true, |l| l.is_some())
        })
}

/// The status-bar message when a request to open lesson `title` stops at
/// the last open lesson `open`.
pub fn locked_message(lang: Lang, title: &str, open: &str) -> String {
    match lang {
        Lang::Zh => format!("🔒 「{title}」还没开放：老师把课程开放到「{open}」"),
        Lang::En => {
            format!("🔒 “{title}” is locked: the instructor opened the course up to “{open}”")
        }
    }
}

/// The lock in force: the CLI flag wins over `book.toml`.
pub fn effective_lock(cli: Option<&str>, book_toml: Option<&str>) -> Option<String> {
    cli.or(book_toml).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTLINE: [&str; 4] = ["00-opening", "01-whale", "05-process", "06-isolation"];

    #[test]
    fn no_lock_opens_everything() {
        let rule = LockRule::new(OUTLINE, None).unwrap();
        assert!(OUTLINE.iter().all(|id| rule.is_open(id)));
        assert!(rule.is_open("not-in-outline"));
        assert_eq!(rule.last_open(), None);
    }

    #[test]
    fn lock_opens_up_to_and_including_the_lesson() {
        let rule = LockRule::new(OUTLINE, Some("01-whale")).unwrap();
        assert!(rule.is_open("00-opening"));
        assert!(rule.is_open("01-whale"));
        assert!(!rule.is_open("05-process"));
        assert!(!rule.is_open("06-isolation"));
        assert!(!rule.is_open("not-in-outline"));
        assert_eq!(rule.last_open(), Some("01-whale"));
        assert_eq!(rule.lock(), Some("01-whale"));
    }

    #[test]
    fn unknown_lock_is_an_error_listing_ids() {
        let err = LockRule::new(OUTLINE, Some("99-nope")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("99-nope") && msg.contains("05-process"),
            "{msg}"
        );
    }

    #[test]
    fn book_toml_lock() {
        let t = "[book]\ntitle = \"x\"\n[kubelab]\nlock = \"05-process\"\n";
        assert_eq!(
            lock_from_book_toml_str(t).unwrap().as_deref(),
            Some("05-process")
        );
        assert_eq!(
            lock_from_book_toml_str("[book]\ntitle = \"x\"\n").unwrap(),
            None
        );
        assert!(lock_from_book_toml_str("[kubelab]\nlock = 5\n").is_err());
        assert!(lock_from_book_toml_str("kubelab = 1\n").is_err());
        let t = "[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\nlock = \"06-x\"\n";
        assert_eq!(lock_from_book_toml_str(t).unwrap().as_deref(), Some("06-x"));
        let t = "[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\n";
        assert_eq!(lock_from_book_toml_str(t).unwrap(), None);
        assert_eq!(effective_lock(Some("a"), Some("b")).as_deref(), Some("a"));
        assert_eq!(effective_lock(None, Some("b")).as_deref(), Some("b"));
    }

    #[test]
    fn for_course_reads_flag_then_book_toml() {
        let dir = tempfile::tempdir().unwrap();
        let book = dir.path().join("en");
        std::fs::create_dir_all(book.join("src")).unwrap();
        std::fs::write(
            book.join("src/SUMMARY.md"),
            "# Summary\n\n# M\n\n- [A](a.md)\n- [B](b.md)\n- [C]()\n",
        )
        .unwrap();
        for id in ["a", "b"] {
            std::fs::write(
                book.join(format!("src/{id}.md")),
                format!("+++\nid = \"{id}\"\ntitle = \"{id}\"\n+++\n\n# {id}\n"),
            )
            .unwrap();
        }
        let toml = |lock: &str| {
            std::fs::write(
                book.join("book.toml"),
                format!("[book]\ntitle = \"T\"\n[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\n{lock}"),
            )
            .unwrap();
        };
        toml("");
        let course = crate::course::load(dir.path()).unwrap();
        let rule = LockRule::for_course(&course, Lang::En, None).unwrap();
        assert!(rule.is_open("b"));
        let rule = LockRule::for_course(&course, Lang::En, Some("a")).unwrap();
        assert!(rule.is_open("a") && !rule.is_open("b"));
        toml("lock = \"a\"\n");
        let rule = LockRule::for_course(&course, Lang::En, None).unwrap();
        assert!(!rule.is_open("b"));
        // The flag wins over book.toml.
        let rule = LockRule::for_course(&course, Lang::En, Some("b")).unwrap();
        assert!(rule.is_open("b"));
        let err = LockRule::for_course(&course, Lang::En, Some("zz")).unwrap_err();
        assert!(err.to_string().contains("zz"), "{err}");
    }

    #[test]
    fn book_toml_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(lock_from_book_toml(dir.path()).unwrap(), None);
        std::fs::write(
            dir.path().join("book.toml"),
            "[kubelab]\nlock = \"00-opening\"\n",
        )
        .unwrap();
        assert_eq!(
            lock_from_book_toml(dir.path()).unwrap().as_deref(),
            Some("00-opening")
        );
        std::fs::write(dir.path().join("book.toml"), "[kubelab\n").unwrap();
        let err = lock_from_book_toml(dir.path()).unwrap_err().to_string();
        assert!(err.contains("book.toml"), "{err}");
    }
}
