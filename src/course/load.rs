//! Loading a course directory: both books, their outlines and every lesson.
//!
//! Nothing here aborts on a bad lesson: a lesson that fails to load becomes a
//! [`LessonError`] in [`LoadedCourse::errors`] (shown as an error page and
//! reported by lint), and everything else still loads.

use super::files::{self, FileError};
use super::lesson::{self, LessonLoad};
use super::model::{Book, Chapter, Course, Lang, Lesson, LessonError};
use super::summary;
use crate::diagnostic::Diagnostic;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The course directory holds no book at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseError {
    pub dir: PathBuf,
    pub message: String,
}

impl fmt::Display for CourseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.dir.display(), self.message)
    }
}

impl std::error::Error for CourseError {}

/// What an outline entry leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Index into [`LoadedCourse::lessons`].
    Lesson(usize),
    /// Index into [`LoadedCourse::errors`].
    Error(usize),
    /// `- [Title]()`: not written yet.
    Draft,
}

/// A loaded course. Build it with [`load`].
#[derive(Debug, Clone)]
pub struct LoadedCourse {
    /// Books (one per language found) with their SUMMARY outlines.
    pub course: Course,
    /// Every lesson that loaded, of every book.
    pub lessons: Vec<Lesson>,
    /// Lessons (or SUMMARY entries) that failed to load.
    pub errors: Vec<LessonError>,
    /// Everything found while loading, errors and warnings, for `kubelab lint`.
    pub diagnostics: Vec<Diagnostic>,
    /// Lessons with errors, as far as they parsed (lint checks them too).
    pub partial: Vec<Lesson>,
    /// (lang, part index, chapter index) → what the entry leads to.
    slots: HashMap<(Lang, usize, usize), Slot>,
    /// Lesson file path (book `src/` joined with the SUMMARY target) → slot.
    by_path: HashMap<PathBuf, Slot>,
}

/// The book directory (`<root>/<lang>`) of a course directory: `DIR/lessons/`
/// when it exists (a repository or course checkout), else `DIR` itself.
pub fn books_root(dir: &Path) -> PathBuf {
    let lessons = dir.join("lessons");
    if lessons.is_dir() {
        lessons
    } else {
        dir.to_path_buf()
    }
}

/// Loads every book under `dir` (`dir/lessons/{zh,en}/` or `dir/{zh,en}/`),
/// or the single book `dir` is (when it holds `book.toml`).
///
/// Errors only when no book is found; a broken book or lesson is reported in
/// [`LoadedCourse::errors`] / [`LoadedCourse::diagnostics`] instead.
pub fn load(dir: &Path) -> Result<LoadedCourse, CourseError> {
    let root = books_root(dir);
    let mut loaded = LoadedCourse {
        course: Course {
            root: dir.to_path_buf(),
            books: Vec::new(),
        },
        lessons: Vec::new(),
        errors: Vec::new(),
        diagnostics: Vec::new(),
        partial: Vec::new(),
        slots: HashMap::new(),
        by_path: HashMap::new(),
    };
    if let Some(lang) = single_book_lang(dir) {
        // DIR is itself one book (`--course lessons/zh`).
        loaded.load_book(lang, dir);
    } else {
        for lang in Lang::ALL {
            let book_dir = root.join(lang.code());
            if book_dir.is_dir() {
                loaded.load_book(lang, &book_dir);
            }
        }
    }
    if loaded.course.books.is_empty() {
        let mut message = format!(
            "no course here: expected a book directory {} or {} with book.toml and src/SUMMARY.md",
            root.join("zh").display(),
            root.join("en").display()
        );
        if let Some(e) = loaded.errors.first() {
            message = format!("{e}");
        }
        return Err(CourseError {
            dir: dir.to_path_buf(),
            message,
        });
    }
    Ok(loaded)
}

/// The language of `dir` when it is a single book (holds `book.toml`): its
/// `[book] language`, else the directory name (`zh`/`en`).
fn single_book_lang(dir: &Path) -> Option<Lang> {
    let toml = dir.join("book.toml");
    if !toml.is_file() {
        return None;
    }
    let from_toml = read_book_toml(&toml)
        .ok()
        .and_then(|b| b.language?.parse().ok());
    from_toml.or_else(|| dir.canonicalize().ok()?.file_name()?.to_str()?.parse().ok())
}

/// A diagnostic about the file a symlink led to, labelled with the path
/// the author wrote.
fn relabel(mut d: Diagnostic, path: &Path) -> Diagnostic {
    d.path = path.to_path_buf();
    d
}

/// `[book]` settings kubelab reads from `book.toml` (everything else, e.g.
/// mdBook's own or `[preprocessor.*]` tables, is left to mdBook).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookToml {
    pub title: Option<String>,
    pub language: Option<String>,
    /// `[book] src`, default "src".
    pub src: Option<String>,
}

/// Reads `book.toml`, mapping TOML errors to file positions.
pub fn read_book_toml(path: &Path) -> Result<BookToml, Diagnostic> {
    let text = super::limits::read_capped(path, super::limits::MAX_BOOK_TOML_BYTES, "book.toml")?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let idx = crate::diagnostic::LineIndex::new(&text);
        let (l, c) = idx.line_col(&text, e.span().map_or(0, |s| s.start));
        Diagnostic::error(path, l, c, format!("book.toml: {}", e.message().trim()))
    })?;
    let book = table.get("book").and_then(|b| b.as_table());
    let get = |k: &str| {
        book.and_then(|b| b.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Ok(BookToml {
        title: get("title"),
        language: get("language"),
        src: get("src"),
    })
}

impl LoadedCourse {
    fn load_book(&mut self, lang: Lang, dir: &Path) {
        let toml_path = dir.join("book.toml");
        let exists = std::fs::symlink_metadata(&toml_path).is_ok();
        let settings = if exists {
            match files::confine(&toml_path, &self.course.root)
                .map_err(|e| {
                    Diagnostic::error(&toml_path, 0, 0, format!("cannot read book.toml: it {e}"))
                })
                .and_then(|real| read_book_toml(&real).map_err(|d| relabel(d, &toml_path)))
            {
                Ok(s) => s,
                Err(d) => {
                    self.diagnostics.push(d);
                    BookToml::default()
                }
            }
        } else {
            self.diagnostics.push(Diagnostic::error(
                &toml_path,
                0,
                0,
                "missing book.toml; add one with [book] title = \"...\" and language",
            ));
            BookToml::default()
        };
        if let Some(l) = &settings.language {
            if l != lang.code() {
                self.diagnostics.push(Diagnostic::warning(
                    &toml_path,
                    0,
                    0,
                    format!(
                        "[book] language = \"{l}\" but the book is in the `{}` directory",
                        lang.code()
                    ),
                ));
            }
        }
        let src = dir.join(settings.src.as_deref().unwrap_or("src"));
        let summary_path = src.join("SUMMARY.md");
        let limit = super::limits::MAX_SUMMARY_BYTES;
        // Confined to the course folder (a symlinked SUMMARY.md may not lead
        // out of it), then read with the cap, never blocking on a FIFO.
        let read = files::confine(&summary_path, &self.course.root)
            .map_err(|e| {
                Diagnostic::error(
                    &summary_path,
                    0,
                    0,
                    format!(
                        "cannot read the book's outline: it {e}; every book needs src/SUMMARY.md"
                    ),
                )
            })
            .and_then(|real| super::limits::read_capped(&real, limit, "SUMMARY.md"));
        let text = match read {
            Ok(t) => t,
            Err(d) => {
                self.errors.push(LessonError::from(&d));
                self.diagnostics.push(d);
                return;
            }
        };
        let summary = summary::parse(&text, &summary_path);
        self.diagnostics.extend(summary.diagnostics);
        let title = settings
            .title
            .unwrap_or_else(|| format!("kubelab ({})", lang.code()));
        for (pi, part) in summary.parts.iter().enumerate() {
            for (ci, ch) in part.chapters.iter().enumerate() {
                let slot = self.load_chapter(lang, &src, &summary_path, ch);
                self.slots.insert((lang, pi, ci), slot);
                if let Some(rel) = &ch.path {
                    self.by_path.insert(src.join(rel), slot);
                }
            }
        }
        self.course.books.push(Book {
            lang,
            dir: dir.to_path_buf(),
            title,
            parts: summary.parts,
        });
    }

    fn load_chapter(&mut self, lang: Lang, src: &Path, summary: &Path, ch: &Chapter) -> Slot {
        let Some(rel) = &ch.path else {
            return Slot::Draft;
        };
        let path = src.join(rel);
        let problem = match files::check_regular(&path)
            .and_then(|()| files::confine(&path, &self.course.root).map(drop))
        {
            Ok(()) => None,
            Err(FileError::Missing) => Some(format!(
                "`{}` links to {}, which does not exist; create it or make the entry a draft `- [{}]()`",
                ch.title,
                rel.display(),
                ch.title
            )),
            Err(e) => Some(format!(
                "`{}` links to {}, which {e}",
                ch.title,
                rel.display()
            )),
        };
        if let Some(message) = problem {
            let d = Diagnostic::error(summary, ch.summary_line, 1, message);
            return self.push_error(d);
        }
        let LessonLoad {
            lesson,
            partial,
            diagnostics,
        } = lesson::load_file_in(&path, lang, Some(&self.course.root));
        let first_error = diagnostics.iter().find(|d| d.is_error()).cloned();
        self.diagnostics.extend(diagnostics);
        self.partial.extend(partial);
        match (lesson, first_error) {
            (Some(l), None) => {
                self.lessons.push(l);
                Slot::Lesson(self.lessons.len() - 1)
            }
            (_, Some(e)) => {
                self.errors.push(LessonError::from(&e));
                Slot::Error(self.errors.len() - 1)
            }
            (None, None) => unreachable!("a lesson without errors always loads"),
        }
    }

    fn push_error(&mut self, d: Diagnostic) -> Slot {
        self.errors.push(LessonError::from(&d));
        self.diagnostics.push(d);
        Slot::Error(self.errors.len() - 1)
    }

    /// The book in `lang`, if the course has one.
    pub fn book(&self, lang: Lang) -> Option<&Book> {
        self.course.books.iter().find(|b| b.lang == lang)
    }

    /// What the SUMMARY entry (part `part`, chapter `chapter`) of the `lang`
    /// book leads to.
    pub fn slot(&self, lang: Lang, part: usize, chapter: usize) -> Option<Slot> {
        self.slots.get(&(lang, part, chapter)).copied()
    }

    /// The lesson at `path` (a book's `src/` joined with a SUMMARY target), as
    /// loaded: `None` if no SUMMARY entry points there. Matches the loader
    /// closure of `app::library::Library::from_course` without re-reading.
    pub fn lesson_at(&self, path: &Path) -> Option<Result<&Lesson, &LessonError>> {
        match self.by_path.get(path)? {
            Slot::Lesson(i) => Some(Ok(&self.lessons[*i])),
            Slot::Error(i) => Some(Err(&self.errors[*i])),
            Slot::Draft => None,
        }
    }

    /// The loaded lesson `id` in exactly `lang`.
    pub fn lesson(&self, lang: Lang, id: &str) -> Option<&Lesson> {
        self.lessons
            .iter()
            .find(|l| l.lang == lang && l.front.id == id)
    }

    /// The lesson `id` in `lang`, else in the other language.
    /// Returns the lesson and whether it is a fallback.
    pub fn lesson_or_fallback(&self, lang: Lang, id: &str) -> Option<(&Lesson, bool)> {
        self.lesson(lang, id)
            .map(|l| (l, false))
            .or_else(|| self.lesson(lang.other(), id).map(|l| (l, true)))
    }

    /// Every lesson id of the course, in outline order (both books merged).
    pub fn lesson_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for lang in Lang::ALL {
            for e in self.outline(lang).entries() {
                if let Some(id) = &e.id {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
        }
        ids
    }

    /// The outline to show for a reader who prefers `lang`: that book's
    /// SUMMARY (or the other book's when the course has no `lang` book), each
    /// entry resolved to its lesson. A draft entry whose counterpart in the
    /// other book (same module, same position) is written falls back to that
    /// lesson, flagged with `fallback: true`.
    pub fn outline(&self, lang: Lang) -> Outline {
        let Some(book) = self.book(lang).or_else(|| self.book(lang.other())) else {
            return Outline {
                lang,
                title: String::new(),
                parts: Vec::new(),
            };
        };
        let other = self.book(book.lang.other());
        let parts = book
            .parts
            .iter()
            .enumerate()
            .map(|(pi, part)| OutlinePart {
                title: part.title.clone(),
                entries: part
                    .chapters
                    .iter()
                    .enumerate()
                    .map(|(ci, ch)| {
                        let mut state = match self.slot(book.lang, pi, ci) {
                            Some(Slot::Lesson(i)) => EntryState::Lesson {
                                index: i,
                                lang: book.lang,
                                fallback: book.lang != lang,
                            },
                            Some(Slot::Error(i)) => EntryState::Error { index: i },
                            Some(Slot::Draft) | None => EntryState::Draft,
                        };
                        let mut id = ch.id.clone();
                        if state == EntryState::Draft {
                            if let Some((i, oid)) = other.and_then(|o| {
                                let och = o.parts.get(pi)?.chapters.get(ci)?;
                                match self.slot(o.lang, pi, ci)? {
                                    Slot::Lesson(i) => Some((i, och.id.clone()?)),
                                    _ => None,
                                }
                            }) {
                                state = EntryState::Lesson {
                                    index: i,
                                    lang: book.lang.other(),
                                    fallback: true,
                                };
                                id = Some(oid);
                            }
                        }
                        OutlineEntry {
                            title: ch.title.clone(),
                            id,
                            state,
                            summary_line: ch.summary_line,
                        }
                    })
                    .collect(),
            })
            .collect();
        Outline {
            lang: book.lang,
            title: book.title.clone(),
            parts,
        }
    }

    /// A search index over every lesson of the `lang` outline.
    pub fn search_index(&self, lang: Lang) -> SearchIndex {
        let mut docs = Vec::new();
        for e in self.outline(lang).entries() {
            if let EntryState::Lesson { index, .. } = e.state {
                let l = &self.lessons[index];
                let mut lines = vec![(0, l.front.title.clone())];
                lines.extend(l.doc.search_lines());
                docs.push(SearchDoc {
                    lesson_id: l.front.id.clone(),
                    lang: l.lang,
                    title: l.front.title.clone(),
                    lines: lines
                        .into_iter()
                        .map(|(n, t)| {
                            let lower = t.to_lowercase();
                            (n, t, lower)
                        })
                        .collect(),
                });
            }
        }
        SearchIndex { docs }
    }
}

/// A book's outline resolved for display; see [`LoadedCourse::outline`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// Language of the SUMMARY shown (differs from the asked one only when
    /// the course has no book in that language).
    pub lang: Lang,
    pub title: String,
    pub parts: Vec<OutlinePart>,
}

impl Outline {
    /// All entries in reading order (for n/p navigation and `kubelab list`).
    pub fn entries(&self) -> impl Iterator<Item = &OutlineEntry> {
        self.parts.iter().flat_map(|p| p.entries.iter())
    }

    /// The entry of lesson `id`.
    pub fn find(&self, id: &str) -> Option<&OutlineEntry> {
        self.entries().find(|e| e.id.as_deref() == Some(id))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutlinePart {
    pub title: Option<String>,
    pub entries: Vec<OutlineEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutlineEntry {
    /// Title from the SUMMARY of the outline's language.
    pub title: String,
    /// Lesson id; `None` for a draft with no lesson in either language.
    pub id: Option<String>,
    pub state: EntryState,
    /// Line of the entry in SUMMARY.md.
    pub summary_line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// `index` into [`LoadedCourse::lessons`]; `lang` is the lesson's own
    /// language; `fallback` is set when it is not the asked-for language
    /// (say so on screen).
    Lesson {
        index: usize,
        lang: Lang,
        fallback: bool,
    },
    /// `index` into [`LoadedCourse::errors`].
    Error {
        index: usize,
    },
    Draft,
}

/// Text of every lesson of one outline, lower-cased once, for `/` search.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    docs: Vec<SearchDoc>,
}

#[derive(Debug, Clone)]
struct SearchDoc {
    lesson_id: String,
    lang: Lang,
    title: String,
    /// (file line, text, lower-cased text); line 0 is the lesson title.
    lines: Vec<(u32, String, String)>,
}

/// One line matching a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub lesson_id: String,
    pub lang: Lang,
    pub lesson_title: String,
    /// 1-based line in the lesson file (0 = the lesson title matched).
    pub line: u32,
    /// The matching line's text.
    pub text: String,
}

impl SearchIndex {
    /// Case-insensitive substring search, hits in outline order, at most
    /// `limit` of them. An empty (or blank) query finds nothing.
    pub fn find(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for d in &self.docs {
            for (line, text, lower) in &d.lines {
                if lower.contains(&q) {
                    hits.push(SearchHit {
                        lesson_id: d.lesson_id.clone(),
                        lang: d.lang,
                        lesson_title: d.title.clone(),
                        line: *line,
                        text: text.clone(),
                    });
                    if hits.len() >= limit {
                        return hits;
                    }
                }
            }
        }
        hits
    }

    /// Number of indexed lessons.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}
