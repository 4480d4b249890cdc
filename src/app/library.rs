//! The course as the reader sees it: a flat list of outline entries (in the
//! chosen lesson language, with fallback to the other), grouped by module,
//! each either a loaded lesson, a draft, or a load error; plus a search index.

use crate::course::model::{Lang, Lesson, LessonError};
use crate::course::{EntryState, LoadedCourse};
use crate::doc::ir::Block;
use crate::render::block_text;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Content {
    /// An unwritten chapter (`- [Title]()`).
    Draft,
    Lesson(Arc<Lesson>),
    /// The lesson file failed to load; shown as an error page.
    Error(LessonError),
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// Index into [`Library::modules`].
    pub module: usize,
    pub title: String,
    pub id: Option<String>,
    pub content: Content,
    /// Language of the text shown; differs from the wanted one on fallback.
    pub lang: Lang,
}

#[derive(Debug, Clone)]
pub struct Module {
    pub title: Option<String>,
}

/// One searchable block: lesson entry, source line, plain text.
#[derive(Debug, Clone)]
pub struct IndexedText {
    pub entry: usize,
    pub line: u32,
    pub text: String,
    lower: String,
}

#[derive(Debug, Clone)]
pub struct Library {
    pub title: String,
    /// Course directory; error pages show paths relative to it.
    pub root: std::path::PathBuf,
    /// The lesson language the learner asked for.
    pub lang: Lang,
    pub modules: Vec<Module>,
    pub entries: Vec<Entry>,
    pub index: Vec<IndexedText>,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub entry: usize,
    pub line: u32,
    /// The matching text, cut around the match.
    pub snippet: String,
}

impl Library {
    /// The outline of `course` for a reader who prefers lesson language
    /// `lang` (fallback to the other language is resolved by the loader).
    pub fn from_loaded(course: &LoadedCourse, lang: Lang) -> Library {
        let outline = course.outline(lang);
        let mut modules = Vec::new();
        let mut entries = Vec::new();
        for part in &outline.parts {
            let module = modules.len();
            // Titles are course text: controls shown as `^[` in the outline.
            modules.push(Module {
                title: part
                    .title
                    .as_deref()
                    .map(|t| crate::sanitize::line(t).into_owned()),
            });
            for e in &part.entries {
                let (content, shown) = match e.state {
                    EntryState::Lesson { index, lang, .. } => (
                        Content::Lesson(Arc::new(course.lessons[index].clone())),
                        lang,
                    ),
                    EntryState::Error { index } => {
                        (Content::Error(course.errors[index].clone()), outline.lang)
                    }
                    EntryState::Draft => (Content::Draft, outline.lang),
                };
                entries.push(Entry {
                    module,
                    title: crate::sanitize::line(&e.title).into_owned(),
                    id: e.id.clone(),
                    content,
                    lang: shown,
                });
            }
        }
        let title = crate::sanitize::line(&outline.title).into_owned();
        let mut lib = Library::new(title, lang, modules, entries);
        lib.root = course.course.root.clone();
        lib
    }

    /// Assembles a library from ready-made entries (tests, other front ends).
    pub fn new(title: String, lang: Lang, modules: Vec<Module>, entries: Vec<Entry>) -> Library {
        let mut index = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            index.push(IndexedText::new(i, 0, &e.title));
            if let Content::Lesson(l) = &e.content {
                fn walk(i: usize, blocks: &[Block], out: &mut Vec<IndexedText>) {
                    for b in blocks {
                        match b {
                            Block::List { items, .. } => {
                                for it in items {
                                    walk(i, &it.blocks, out);
                                }
                            }
                            Block::Quote { blocks, .. } => walk(i, blocks, out),
                            other => {
                                let t = block_text(other);
                                if !t.trim().is_empty() {
                                    out.push(IndexedText::new(i, other.line(), &t));
                                }
                            }
                        }
                    }
                }
                walk(i, &l.doc.blocks, &mut index);
            }
        }
        Library {
            title,
            root: std::path::PathBuf::new(),
            lang,
            modules,
            entries,
            index,
        }
    }

    /// Index of the entry with lesson id `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.id.as_deref() == Some(id))
    }

    /// Case-insensitive substring search over every lesson; at most `limit` hits.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for it in &self.index {
            if let Some(pos) = it.lower.find(&q) {
                hits.push(Hit {
                    entry: it.entry,
                    line: it.line,
                    snippet: snippet(&it.text, &it.lower, pos),
                });
                if hits.len() >= limit {
                    break;
                }
            }
        }
        hits
    }
}

impl IndexedText {
    fn new(entry: usize, line: u32, text: &str) -> Self {
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        IndexedText {
            entry,
            line,
            lower: text.to_lowercase(),
            text,
        }
    }
}

/// Text around the match: up to 12 characters before it.
fn snippet(text: &str, lower: &str, pos: usize) -> String {
    // `lower` may differ in byte length from `text` for some scripts; map
    // the match position through character counts.
    let char_pos = lower[..pos].chars().count();
    let start = char_pos.saturating_sub(12);
    let mut s: String = text.chars().skip(start).collect();
    if start > 0 {
        s.insert(0, '…');
    }
    s
}
