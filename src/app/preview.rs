//! `kubelab preview`: the reader on an author's lesson file (or course
//! directory) that reloads on every save.
//!
//! The file watcher ([`crate::authoring::watch`]) runs on its own thread;
//! after a debounced burst of saves that thread re-parses the target,
//! highlights its code (off the UI task) and sends [`AppEvent::Reload`].
//! The keymap turns that into [`super::Action::Reload`] and
//! [`apply`] swaps the library in, keeping the same source line at the top
//! of the view. A lesson that no longer parses shows the standard error
//! page (file:line); [`PREVIEW_KEY`] toggles to the last version that
//! parsed and back.

use super::event::{AppEvent, EventSender};
use super::library::{Content, Entry, Library, Module};
use super::preview_state::entry_path;
pub use super::preview_state::{PreviewState, Reloaded};
use super::state::App;
use crate::course::model::{Lang, Lesson};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Toggles between a lesson's error page and its last good version.
pub const PREVIEW_KEY: char = 'v';

/// Default quiet time after the last file event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// What `kubelab preview` asks the app for ([`super::AppOptions::preview`]).
#[derive(Debug, Clone)]
pub struct PreviewOptions {
    /// A lesson file, or a course/book directory.
    pub target: PathBuf,
    pub debounce: Duration,
}

impl PreviewOptions {
    pub fn new(target: impl Into<PathBuf>) -> PreviewOptions {
        PreviewOptions {
            target: target.into(),
            debounce: DEBOUNCE,
        }
    }
}

/// The lesson language of a file: a `zh`/`en` directory above it (the
/// books' layout), else `fallback`.
pub fn lang_of(path: &Path, fallback: Lang) -> Lang {
    path.ancestors()
        .skip(1)
        .filter_map(|a| a.file_name()?.to_str()?.parse::<Lang>().ok())
        .next()
        .unwrap_or(fallback)
}

/// Loads the preview target: a directory as a course, a file as a
/// one-lesson library (its error page when it does not parse).
pub fn load_library(target: &Path, lang: Lang) -> anyhow::Result<Library> {
    if target.is_dir() {
        let loaded = crate::course::load(target)
            .map_err(|e| anyhow::anyhow!("cannot preview {}: {e}", target.display()))?;
        return Ok(Library::from_loaded(&loaded, lang));
    }
    if !target.is_file() {
        anyhow::bail!(
            "cannot preview {}: no such file or directory (give a lesson .md file or a course directory)",
            target.display()
        );
    }
    let file_lang = lang_of(target, lang);
    let name = target
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (content, title, id) = match crate::course::load_lesson(file_lang, target) {
        Ok(l) => {
            let title = l.front.title.clone();
            let id = Some(l.front.id.clone());
            (Content::Lesson(Arc::new(l)), title, id)
        }
        Err(e) => (Content::Error(e), name.clone(), None),
    };
    let entry = Entry {
        module: 0,
        title,
        id,
        content,
        lang: file_lang,
    };
    let mut lib = Library::new(name, file_lang, vec![Module { title: None }], vec![entry]);
    lib.root = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(lib)
}

/// Highlights every lesson's code so the first frame after a reload is
/// complete (runs on the watcher thread, not the UI task).
fn highlight(lib: &Library) {
    for e in &lib.entries {
        if let Content::Lesson(l) = &e.content {
            crate::render::highlight::highlight_all(crate::render::code_blocks(&l.doc));
        }
    }
}

/// Starts watching the preview target; every debounced burst of saves
/// sends one [`AppEvent::Reload`] on `tx`. Dropping the handle stops it.
pub fn start(
    opts: &PreviewOptions,
    lang: Lang,
    tx: &EventSender,
) -> anyhow::Result<crate::authoring::watch::Watch> {
    let target = opts.target.clone();
    let tx = tx.clone();
    // Tests: a crash on the watcher thread must still give the terminal back.
    let crash = std::env::var(super::PANIC_AFTER_FIRST_FRAME).is_ok_and(|v| v == "watch");
    crate::authoring::watch::watch(&opts.target, opts.debounce, move |changed| {
        if crash {
            panic!(
                "{}=watch: panicking on purpose",
                super::PANIC_AFTER_FIRST_FRAME
            );
        }
        // An error here means the file vanished mid-save or the course lost
        // its books: keep what is on screen and wait for the next save.
        if let Ok(lib) = load_library(&target, lang) {
            highlight(&lib);
            let names: Vec<_> = changed.paths.iter().filter_map(|p| p.file_name()).collect();
            let texts = lib
                .entries
                .iter()
                .filter_map(entry_path)
                .filter(|p| p.file_name().is_some_and(|n| names.contains(&n)))
                .filter_map(|p| Some((p.to_path_buf(), std::fs::read_to_string(p).ok()?)))
                .collect();
            tx.send(AppEvent::Reload(Reloaded(Arc::new((lib, texts)))));
        }
    })
    .map_err(|e| anyhow::anyhow!("cannot watch {}: {e}", opts.target.display()))
}

/// The file an entry was loaded from (a lesson or its error page).
/// Follows 1-based line `line` of `old` into `new`: lines before the edit
/// keep their number, lines after it move with the inserted or deleted
/// lines, and a line inside the edited region stays put (near the edit).
pub fn map_line(old: &str, new: &str, line: u32) -> u32 {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let l = line as usize;
    let mapped = if l <= prefix {
        l
    } else if l > old.len() - suffix {
        l + new.len() - old.len()
    } else {
        l.min(new.len().max(1))
    };
    mapped as u32
}

/// Key of an outline entry that survives a reload: the lesson's file (a
/// lesson and its error page share it), else a draft's id.
fn entry_key(e: &Entry) -> Option<String> {
    match &e.content {
        Content::Lesson(l) => Some(l.path.display().to_string()),
        Content::Error(err) => Some(err.path.display().to_string()),
        Content::Draft => e.id.clone(),
    }
}

/// Applies a reload: new library, same lesson, same source line on top.
pub fn apply(app: &mut App, reloaded: Reloaded) {
    let (lib, mut texts) = Arc::unwrap_or_clone(reloaded.0);
    // Only text that parsed is a base to follow lines from: an error page
    // keeps the place of the last good version until the fix.
    texts.retain(|path, _| {
        lib.entries
            .iter()
            .any(|e| matches!(&e.content, Content::Lesson(l) if &l.path == path))
    });
    let old_path = app
        .lib
        .entries
        .get(app.current)
        .and_then(entry_path)
        .map(Path::to_path_buf);
    let old_key = app.lib.entries.get(app.current).and_then(entry_key);
    let old_id = app.lib.entries.get(app.current).and_then(|e| e.id.clone());
    let anchor = match (app.rendered(), &app.preview) {
        (Some(_), _) => app.top_source_line(),
        (None, Some(p)) => p.anchor,
        (None, None) => 0,
    };
    // Lines inserted or deleted above the view move the anchor with them.
    let anchor = match (&old_path, &app.preview) {
        (Some(path), Some(p)) => match (p.texts.get(path), texts.get(path)) {
            (Some(old), Some(new)) if anchor > 0 => map_line(old, new, anchor),
            _ => anchor,
        },
        _ => anchor,
    };
    let current = old_key
        .as_ref()
        .and_then(|k| {
            lib.entries
                .iter()
                .position(|e| entry_key(e).as_ref() == Some(k))
        })
        .or_else(|| old_id.as_ref().and_then(|id| lib.find(id)))
        .unwrap_or_else(|| app.current.min(lib.entries.len().saturating_sub(1)));
    // Generations only grow, so no cached render of the old text survives.
    let next_gen = app.states.iter().map(|s| s.generation).max().unwrap_or(0) + 1;
    // Block state (revealed solutions, answers) follows its entry.
    let mut states = vec![crate::render::BlockStates::default(); lib.entries.len()];
    for (i, e) in lib.entries.iter().enumerate() {
        let key = entry_key(e);
        if let Some(j) = app
            .lib
            .entries
            .iter()
            .position(|o| key.is_some() && entry_key(o) == key)
        {
            states[i] = std::mem::take(&mut app.states[j]);
        }
    }
    for s in &mut states {
        s.generation = s.generation.max(next_gen);
    }
    let mut preview = app.preview.take().unwrap_or_default();
    // What the panes were showing: the last good version of this file.
    let lab_before = old_path.as_ref().and_then(|p| preview.good.get(p).cloned());
    preview.hidden_error = None;
    preview.remember(&lib);
    preview.reloads += 1;
    preview.anchor = anchor;
    preview.texts.extend(texts);
    app.preview = Some(preview);
    app.lib = lib;
    app.states = states;
    app.current = current;
    app.cursor = current;
    app.block_focus = None;
    app.prepare();
    if let Some(r) = app.rendered() {
        app.scroll = r.line_for_source(anchor);
    }
    app.prepare();
    let s = preview_strings(app.ui_lang);
    app.message = Some(match app.lib.entries.get(current).map(|e| &e.content) {
        Some(Content::Error(e)) => {
            let path = e.path.strip_prefix(&app.lib.root).unwrap_or(&e.path);
            let has_good = app
                .preview
                .as_ref()
                .is_some_and(|p| p.good.contains_key(&e.path));
            format!(
                "{}:{}: {}{}",
                path.display(),
                e.line.max(1),
                s.error,
                if has_good { s.error_key } else { "" }
            )
        }
        _ => s.reloaded.to_string(),
    });
    // On an error page the lab is left running while the author fixes it.
    if let Some(Content::Lesson(l)) = app.lib.entries.get(current).map(|e| e.content.clone()) {
        match lab_before {
            // New sandboxes, panes or check scripts: a fresh lab, whose
            // checks run against the new scripts.
            Some(before) if lab_changed(&before, &l) => {
                app.panes.lesson_opened(None);
                app.panes.lesson_opened(Some(&l));
                if app.panes.available() && !l.front.lab_targets().is_empty() {
                    if let Some(m) = &mut app.message {
                        m.push_str(s.lab_restarted);
                    }
                }
            }
            Some(_) => app.panes.lesson_reloaded(&l),
            None => app.panes.lesson_opened(Some(&l)),
        }
    }
}

/// Whether an edit changed what the live lab runs: sandboxes, panes or
/// check scripts (prose and line numbers do not count).
pub fn lab_changed(old: &Lesson, new: &Lesson) -> bool {
    let checks = |l: &Lesson| {
        l.doc
            .checks()
            .into_iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.code.clone(),
                    c.on,
                    c.target().map(str::to_string),
                )
            })
            .collect::<Vec<_>>()
    };
    old.front.sandboxes != new.front.sandboxes
        || old.front.world != new.front.world
        || old.front.panes != new.front.panes
        || checks(old) != checks(new)
}

/// [`PREVIEW_KEY`]: show the last good version of a lesson that has an
/// error now, or go back to the error.
pub fn toggle_last_good(app: &mut App) {
    let s = preview_strings(app.ui_lang);
    let top = app.rendered().map(|_| app.top_source_line());
    let Some(preview) = app.preview.as_mut() else {
        return;
    };
    if let Some(top) = top {
        preview.anchor = top;
    }
    let cur = app.current;
    if let Some((i, err)) = preview.hidden_error.take() {
        if let Some(e) = app.lib.entries.get_mut(i) {
            e.content = Content::Error(err);
        }
        app.message = Some(s.back_to_error.to_string());
    } else {
        let Some(Content::Error(err)) = app.lib.entries.get(cur).map(|e| e.content.clone()) else {
            app.message = Some(s.no_error.to_string());
            return;
        };
        let Some(good) = preview.good.get(&err.path).cloned() else {
            app.message = Some(s.no_good.to_string());
            return;
        };
        app.lib.entries[cur].content = Content::Lesson(good);
        preview.hidden_error = Some((cur, err));
        app.message = Some(s.showing_good.to_string());
    }
    if let Some(st) = app.states.get_mut(cur) {
        st.generation += 1;
    }
    app.block_focus = None;
    app.prepare();
    let anchor = app.preview.as_ref().map_or(0, |p| p.anchor);
    app.scroll = app.rendered().map_or(0, |r| r.line_for_source(anchor));
}

/// Keys shown first in the help overlay while previewing (none otherwise).
pub fn help_keys(app: &App) -> Vec<(String, String)> {
    match app.preview {
        Some(_) => vec![(
            PREVIEW_KEY.to_string(),
            preview_strings(app.ui_lang).key_help.to_string(),
        )],
        None => Vec::new(),
    }
}

struct PreviewStrings {
    reloaded: &'static str,
    lab_restarted: &'static str,
    error: &'static str,
    error_key: &'static str,
    showing_good: &'static str,
    back_to_error: &'static str,
    no_error: &'static str,
    no_good: &'static str,
    key_help: &'static str,
}

fn preview_strings(lang: Lang) -> &'static PreviewStrings {
    match lang {
        Lang::Zh => &PreviewStrings {
            reloaded: "预览：已重新载入",
            lab_restarted: " · 实验环境已按新内容重启，检查重新运行",
            error: "课文有错误",
            error_key: " · 按 v 查看上一个正确版本",
            showing_good: "预览：显示上一个正确版本（文件现在有错误）· 按 v 回到错误",
            back_to_error: "预览：显示错误",
            no_error: "预览：这一课没有错误",
            no_good: "预览：这一课还没有正确的版本",
            key_help: "预览：在错误页和上一个正确版本之间切换",
        },
        Lang::En => &PreviewStrings {
            reloaded: "preview: reloaded",
            lab_restarted: " · lab restarted with the new sandboxes/checks; checks re-run",
            error: "the lesson has an error",
            error_key: " · v shows the last good version",
            showing_good:
                "preview: last good version (the file has an error now) · v: back to the error",
            back_to_error: "preview: showing the error",
            no_error: "preview: this lesson has no error",
            no_good: "preview: no earlier good version of this lesson",
            key_help: "preview: toggle the error page / last good version",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::map_line;

    #[test]
    fn lines_follow_edits_above_and_stay_near_edits() {
        let old = "a\nb\nc\nd\ne\n";
        // Unchanged text: same line.
        assert_eq!(map_line(old, old, 3), 3);
        // Two lines inserted after `a`: `d` (line 4) moves to line 6.
        let new = "a\nx\ny\nb\nc\nd\ne\n";
        assert_eq!(map_line(old, new, 4), 6);
        assert_eq!(map_line(old, new, 1), 1);
        // A line deleted above: `e` moves up.
        assert_eq!(map_line(old, "b\nc\nd\ne\n", 5), 4);
        // The edited line itself stays where it was.
        assert_eq!(map_line(old, "a\nb\nC!\nd\ne\n", 3), 3);
        // Edits below the view change nothing.
        assert_eq!(map_line(old, "a\nb\nc\nd\ne\nf\ng\n", 2), 2);
        // Text cut short: clamped to the new end.
        assert_eq!(map_line(old, "a\nz\n", 4), 2);
    }
}
