//! `--lock` in the reader: lessons after the instructor's lock are shown
//! greyed with a lock mark, and every way of opening a lesson (n/p, outline
//! Enter and clicks, search jumps, `kubelab open <id>`, the saved position)
//! goes through [`gate`], which stops at the last open lesson.

use super::state::App;
use crate::classroom::lock::LockRule;
use crate::course::model::Lang;

/// Outline mark of a locked lesson.
pub const MARK: &str = "🔒";

/// The lock rule the reader should apply for `ctx`, or `None` when nothing
/// is locked. Loads the course only when a lock is asked for (flag or a
/// `lock` in a book.toml), so the usual start stays fast.
pub fn rule_for_reader(ctx: &crate::context::Context) -> anyhow::Result<Option<LockRule>> {
    if ctx.lock_flag.is_none() && !any_book_lock(&ctx.course_dir) {
        return Ok(None);
    }
    let loaded = ctx.load_course()?;
    let rule = LockRule::for_context(ctx, &loaded)?;
    // The reader would load the same course again: hand this one over.
    super::preload_course(&ctx.course_dir, loaded);
    Ok(rule.lock().is_some().then_some(rule))
}

/// Whether a book.toml of the course directory sets a lock (cheap: reads
/// at most three small files).
fn any_book_lock(dir: &std::path::Path) -> bool {
    let root = crate::course::books_root(dir);
    std::iter::once(dir.to_path_buf())
        .chain(Lang::ALL.iter().map(|l| root.join(l.code())))
        .any(|d| {
            // An unreadable book.toml is reported when the lock is built.
            crate::classroom::lock::lock_from_book_toml(&d).map_or(true, |l| l.is_some())
        })
}

/// Index of the last open lesson in the outline, when a lock is in force.
fn last_open_index(app: &App) -> Option<usize> {
    let last = app.lock.as_ref()?.last_open()?;
    app.lib.find(last)
}

/// Whether outline entry `i` lies beyond the lock.
pub fn is_locked(app: &App, i: usize) -> bool {
    last_open_index(app).is_some_and(|j| i > j)
}

/// Where a request to open entry `i` may go: `i` itself, the last open
/// lesson instead (with a message), or nowhere (`None`: already there).
pub fn gate(app: &mut App, i: usize) -> Option<usize> {
    let Some(j) = last_open_index(app).filter(|j| i > *j) else {
        return Some(i);
    };
    let title = app.lib.entries.get(i).map_or("", |e| e.title.as_str());
    let open = app.lib.entries[j].title.as_str();
    app.message = Some(match app.ui_lang {
        Lang::Zh => format!("🔒 「{title}」还没开放：老师把课程开放到「{open}」"),
        Lang::En => {
            format!("🔒 “{title}” is locked: the instructor opened the course up to “{open}”")
        }
    });
    (app.current != j).then_some(j)
}
