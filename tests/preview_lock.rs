//! `kubelab preview` reloads (driven by real file changes through the
//! watcher) and `--lock` in the reader (outline marks, navigation stops).

mod common;

use common::screen as draw;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use kubelab::app::preview::{PreviewOptions, PREVIEW_KEY};
use kubelab::app::{build_app, handle, App, AppEvent, AppOptions};
use kubelab::course::model::Lang;
use kubelab::lock::LockRule;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest wait for a reload before the test fails (bounded, not timed).
const RELOAD_WAIT: Duration = Duration::from_secs(30);

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn lesson(id: &str, title: &str, body: &str) -> String {
    format!("+++\nid = \"{id}\"\ntitle = \"{title}\"\n+++\n\n# {title}\n\n{body}\n")
}

/// An English book in `dir/en` with lessons (id, title, body), in order,
/// each in `<id>.md`; returns the book's directory.
fn write_book(dir: &Path, lessons: &[(&str, &str, &str)]) -> std::path::PathBuf {
    let book = dir.join("en");
    write(
        &book.join("book.toml"),
        "[book]\ntitle = \"T\"\nlanguage = \"en\"\n",
    );
    let mut summary = String::from("# Summary\n\n");
    for (id, title, body) in lessons {
        summary.push_str(&format!("- [{title}]({id}.md)\n"));
        write(&book.join(format!("src/{id}.md")), &lesson(id, title, body));
    }
    write(&book.join("src/SUMMARY.md"), &summary);
    book
}

fn key(app: &mut App, code: KeyCode) {
    handle(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn opts(course_dir: &Path) -> AppOptions {
    AppOptions::reader(course_dir, Lang::En)
}

/// A preview app over `file` plus the running watch and its event channel.
struct Preview {
    app: App,
    rx: tokio::sync::mpsc::UnboundedReceiver<AppEvent>,
    _watch: kubelab::authoring::watch::Watch,
}

fn preview(dir: &Path, file: &Path, size: (u16, u16)) -> Preview {
    kubelab::render::highlight::warm_up();
    let mut p = PreviewOptions::new(file);
    p.debounce = Duration::from_millis(50);
    let mut o = opts(dir);
    o.preview = Some(p.clone());
    let app = build_app(&o, size).expect("preview app builds");
    let (tx, rx) = kubelab::app::event::channel();
    let watch = kubelab::app::preview::start(&p, Lang::En, &tx).expect("watch starts");
    Preview {
        app,
        rx,
        _watch: watch,
    }
}

impl Preview {
    /// Applies reload events until the lesson source holds `text` (one
    /// save can end in more than one burst of file events).
    fn reload_until(&mut self, text: &str, what: &str) {
        let deadline = Instant::now() + RELOAD_WAIT;
        while !self.source_has(text) {
            match self.rx.try_recv() {
                Ok(ev @ AppEvent::Reload(_)) => {
                    handle(&mut self.app, ev);
                }
                Ok(_) => {}
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    assert!(
                        Instant::now() < deadline,
                        "no reload showing `{text}` within {RELOAD_WAIT:?} after {what}"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("event channel closed while waiting for {what}: {e}"),
            }
        }
    }

    /// Whether the shown entry (lesson text or error message) contains `text`.
    fn source_has(&self, text: &str) -> bool {
        use kubelab::app::library::Content;
        match &self.app.lib.entries[self.app.current].content {
            Content::Lesson(l) => l
                .doc
                .blocks
                .iter()
                .any(|b| kubelab::render::block_text(b).contains(text)),
            Content::Error(e) => e.message.contains(text),
            Content::Draft => false,
        }
    }
}

#[test]
fn preview_reloads_the_lesson_on_save_and_keeps_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("en/src/demo.md");
    let paras: String = (1..=60)
        .map(|i| format!("Paragraph number {i} of the demo.\n\n"))
        .collect();
    write(
        &file,
        &lesson("demo", "Demo", &format!("ALPHA first text.\n\n{paras}")),
    );
    let mut p = preview(dir.path(), &file, (100, 30));
    let screen = draw(&p.app);
    assert!(
        screen.contains("ALPHA first text"),
        "first render:\n{screen}"
    );

    // Scroll into the lesson; remember the source line at the top.
    for _ in 0..40 {
        key(&mut p.app, KeyCode::Char('j'));
    }
    let top = p.app.top_source_line();
    assert!(top > 10, "scrolled into the lesson (top source line {top})");

    // Edit below the view: the same source line stays on top.
    let edited = format!("ALPHA first text.\n\n{paras}BETA appended at the end.\n");
    write(&file, &lesson("demo", "Demo", &edited));
    p.reload_until("BETA appended", "appending a paragraph");
    assert!(p.app.preview.as_ref().unwrap().reloads >= 1);
    assert_eq!(p.app.top_source_line(), top, "place kept across the reload");
    key(&mut p.app, KeyCode::Char('G'));
    let screen = draw(&p.app);
    assert!(
        screen.contains("BETA appended"),
        "new text shown:\n{screen}"
    );

    // Edit the first paragraph: the new text is what renders.
    let edited = edited.replace("ALPHA first text", "GAMMA rewritten opening");
    write(&file, &lesson("demo", "Demo", &edited));
    p.reload_until("GAMMA rewritten", "rewriting the opening");
    key(&mut p.app, KeyCode::Char('g'));
    let screen = draw(&p.app);
    assert!(screen.contains("GAMMA rewritten opening"), "{screen}");
    assert!(!screen.contains("ALPHA"), "old text gone:\n{screen}");

    // Break the file, then fix it: the place before the error comes back.
    for _ in 0..30 {
        key(&mut p.app, KeyCode::Char('j'));
    }
    let top = p.app.top_source_line();
    write(&file, "+++\nid = \"demo\"\nBROKEN = 1\n+++\n");
    p.reload_until("BROKEN", "breaking the file");
    let fixed = edited.replace("GAMMA rewritten", "DELTA fixed");
    write(&file, &lesson("demo", "Demo", &fixed));
    p.reload_until("DELTA fixed", "fixing the file");
    assert_eq!(
        p.app.top_source_line(),
        top,
        "place kept across error and fix"
    );
}

#[test]
fn preview_follows_lines_inserted_above_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("en/src/demo.md");
    let paras: String = (1..=60)
        .map(|i| format!("Paragraph number {i} of the demo.\n\n"))
        .collect();
    write(&file, &lesson("demo", "Demo", &paras));
    let mut p = preview(dir.path(), &file, (100, 30));
    for _ in 0..40 {
        key(&mut p.app, KeyCode::Char('j'));
    }
    let top = p.app.top_source_line();
    let line_of = |text: &str, n: u32| text.lines().nth(n as usize - 1).unwrap().to_string();
    let before = line_of(&std::fs::read_to_string(&file).unwrap(), top);
    assert!(before.contains("Paragraph number"), "{before:?}");
    // Four new lines (two paragraphs) at the start of the body.
    let edited = format!("INSERTED one.\n\nINSERTED two.\n\n{paras}");
    write(&file, &lesson("demo", "Demo", &edited));
    p.reload_until("INSERTED one", "inserting lines above the view");
    assert_eq!(
        p.app.top_source_line(),
        top + 4,
        "anchor moved with the text"
    );
    let after = line_of(&std::fs::read_to_string(&file).unwrap(), top + 4);
    assert_eq!(
        after, before,
        "the same paragraph is at the top of the view"
    );
}

#[test]
fn preview_shows_errors_inline_and_keeps_the_last_good_version_one_key_away() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("en/src/demo.md");
    write(&file, &lesson("demo", "Demo", "GOOD version of the text."));
    let mut p = preview(dir.path(), &file, (100, 30));
    assert!(draw(&p.app).contains("GOOD version"));

    // The help overlay documents the preview key.
    key(&mut p.app, KeyCode::Char('?'));
    let help = draw(&p.app);
    assert!(
        help.contains(&format!("{PREVIEW_KEY} ")) && help.contains("last good version"),
        "help lists the preview key:\n{help}"
    );
    key(&mut p.app, KeyCode::Esc);

    // Break the front matter (unknown field on line 4).
    write(
        &file,
        "+++\nid = \"demo\"\ntitle = \"Demo\"\ncolour = \"red\"\n+++\n\nBROKEN text.\n",
    );
    p.reload_until("colour", "breaking the front matter");
    let screen = draw(&p.app);
    assert!(
        screen.contains("demo.md:4"),
        "error with file:line:\n{screen}"
    );
    assert!(
        !screen.contains("GOOD version"),
        "error page, not the lesson:\n{screen}"
    );
    assert!(
        screen.contains("colour"),
        "the error names the field:\n{screen}"
    );
    assert!(
        screen.contains("preview reloads it") && !screen.contains("reopen kubelab"),
        "preview says saving is enough:\n{screen}"
    );

    // One key shows the last good render, the same key goes back.
    key(&mut p.app, KeyCode::Char(PREVIEW_KEY));
    let screen = draw(&p.app);
    assert!(
        screen.contains("GOOD version"),
        "last good version:\n{screen}"
    );
    assert!(p.app.preview.as_ref().unwrap().showing_last_good());
    key(&mut p.app, KeyCode::Char(PREVIEW_KEY));
    assert!(draw(&p.app).contains("demo.md:4"), "back to the error");

    // Fix it: the lesson is back.
    write(&file, &lesson("demo", "Demo", "FIXED version of the text."));
    p.reload_until("FIXED version", "fixing the file");
    let screen = draw(&p.app);
    assert!(screen.contains("FIXED version"), "fixed lesson:\n{screen}");
    assert!(!screen.contains("demo.md:4"), "{screen}");
    assert!(!p.app.preview.as_ref().unwrap().showing_last_good());
}

#[test]
fn preview_of_a_course_directory_reloads_the_open_lesson() {
    let dir = tempfile::tempdir().unwrap();
    let book = write_book(
        dir.path(),
        &[
            ("one", "One", "First lesson."),
            ("two", "Two", "Second ORIGINAL."),
        ],
    );
    let mut p = preview(dir.path(), dir.path(), (100, 30));
    key(&mut p.app, KeyCode::Char('n'));
    assert!(draw(&p.app).contains("Second ORIGINAL"));
    write(
        &book.join("src/two.md"),
        &lesson("two", "Two", "Second EDITED."),
    );
    p.reload_until("Second EDITED", "editing a lesson of the course");
    let screen = draw(&p.app);
    assert!(
        screen.contains("Second EDITED"),
        "same lesson, new text:\n{screen}"
    );
}

/// Records what the app tells the panes.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl kubelab::app::PaneHost for Recorder {
    fn lesson_opened(&mut self, lesson: Option<&kubelab::course::model::Lesson>) {
        let what = lesson.map_or("none".to_string(), |l| l.front.id.clone());
        self.0.lock().unwrap().push(format!("opened {what}"));
    }
    fn lesson_reloaded(&mut self, lesson: &kubelab::course::model::Lesson) {
        let checks: Vec<String> = lesson
            .doc
            .checks()
            .iter()
            .map(|c| c.code.trim().lines().last().unwrap_or("").to_string())
            .collect();
        self.0
            .lock()
            .unwrap()
            .push(format!("reloaded {}", checks.join("|")));
    }
}

fn lab_lesson(prose: &str, check: &str) -> String {
    format!(
        "+++\nid = \"demo\"\ntitle = \"Demo\"\npanes = [\"shell\"]\n\n[sandboxes.main]\n\
         rootfs = \"host\"\ncommand = [\"/bin/sh\"]\n+++\n\n# Demo\n\n## Step\n\n{prose}\n\n\
         ```sh check id=c1\n# title: the check\n{check}\n```\n"
    )
}

#[test]
fn preview_restarts_the_lab_when_checks_change_and_keeps_it_for_prose() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("en/src/demo.md");
    write(&file, &lab_lesson("First prose.", "test -e /tmp/a"));
    let mut p = preview(dir.path(), &file, (120, 40));
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    p.app.panes = Box::new(Recorder(log.clone()));
    assert!(p.source_has("First prose"), "lab lesson parses");

    // Prose only: the panes keep their lab (told about the reload).
    write(&file, &lab_lesson("PROSE edited.", "test -e /tmp/a"));
    p.reload_until("PROSE edited", "editing prose");
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen.last().map(String::as_str),
        Some("reloaded test -e /tmp/a"),
        "{seen:?}"
    );

    // A new check script: a fresh lab for the new lesson (its checks run).
    log.lock().unwrap().clear();
    write(&file, &lab_lesson("PROSE edited.", "test -e /tmp/b"));
    let deadline = Instant::now() + RELOAD_WAIT;
    while !log.lock().unwrap().iter().any(|l| l == "opened demo") {
        assert!(
            Instant::now() < deadline,
            "no lab restart after a check edit: {log:?}"
        );
        match p.rx.try_recv() {
            Ok(ev @ AppEvent::Reload(_)) => {
                handle(&mut p.app, ev);
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let log = log.lock().unwrap().clone();
    let at = log.iter().position(|l| l == "opened demo").unwrap();
    assert!(
        at > 0 && log[at - 1] == "opened none",
        "old lab closed first: {log:?}"
    );
}

/// A three-lesson course locked after the second lesson.
fn locked_course() -> (tempfile::TempDir, AppOptions) {
    let dir = tempfile::tempdir().unwrap();
    write_book(
        dir.path(),
        &[
            ("a", "Alpha lesson", "Text of a."),
            ("b", "Beta lesson", "Text of b."),
            ("c", "Gamma lesson", "Text of c with ZEBRAWORD."),
        ],
    );
    let loaded = kubelab::course::load(dir.path()).unwrap();
    let rule = LockRule::for_course(&loaded, Lang::En, Some("b")).unwrap();
    let mut o = opts(dir.path());
    o.lock = Some(rule);
    (dir, o)
}

fn current_id(app: &App) -> String {
    app.lib.entries[app.current].id.clone().unwrap_or_default()
}

fn outline_row<'a>(screen: &'a str, title: &str) -> (u16, &'a str) {
    screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(title))
        .map(|(y, l)| (y as u16, l))
        .unwrap_or_else(|| panic!("`{title}` in the outline:\n{screen}"))
}

#[test]
fn lock_marks_and_greys_locked_lessons_in_the_outline() {
    let (_dir, o) = locked_course();
    let app = build_app(&o, (120, 40)).unwrap();
    let screen = draw(&app);
    let (_, gamma) = outline_row(&screen, "Gamma lesson");
    assert!(gamma.contains("🔒"), "locked lesson marked: {gamma}");
    for open in ["Alpha lesson", "Beta lesson"] {
        let (_, row) = outline_row(&screen, open);
        assert!(!row.contains("🔒"), "open lesson not marked: {row}");
    }
    // Greyed like a draft.
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| kubelab::ui::draw(f, &app)).unwrap();
    let buf = t.backend().buffer();
    let (y, _) = outline_row(&screen, "Gamma lesson");
    let x = (0..buf.area.width)
        .find(|x| buf[(*x, y)].symbol() == "G")
        .expect("title cell");
    assert_eq!(buf[(x, y)].fg, kubelab::render::theme::DRAFT.fg.unwrap());

    // Without a lock nothing is marked.
    let mut unlocked = o;
    unlocked.lock = None;
    let app = build_app(&unlocked, (120, 40)).unwrap();
    assert!(!draw(&app).contains("🔒"));
}

#[test]
fn lock_stops_next_clicks_search_and_open_at_the_last_open_lesson() {
    let (_dir, o) = locked_course();
    let mut app = build_app(&o, (120, 40)).unwrap();
    assert_eq!(current_id(&app), "a");

    // n: a → b, then stops at b with a message.
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(current_id(&app), "b");
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(current_id(&app), "b", "n stops at the lock");
    let msg = app.message.clone().unwrap_or_default();
    assert!(
        msg.contains("locked") && msg.contains("Beta lesson"),
        "{msg}"
    );

    // A click on the locked lesson in the outline.
    key(&mut app, KeyCode::Char('p'));
    assert_eq!(current_id(&app), "a");
    let screen = draw(&app);
    let (y, _) = outline_row(&screen, "Gamma lesson");
    handle(
        &mut app,
        AppEvent::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 5,
            row: y,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(
        current_id(&app),
        "b",
        "a click on a locked lesson stops at b"
    );
    assert!(app.message.as_deref().unwrap_or("").contains("locked"));

    // Search does not look inside the locked lesson (its snippet would
    // give the text away); the open ones are still found.
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('/'));
    for c in "zebraword".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    assert!(!draw(&app).contains("ZEBRAWORD"), "{}", draw(&app));
    key(&mut app, KeyCode::Enter);
    assert_eq!(current_id(&app), "a", "no hit, no jump");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    for c in "text of b".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(current_id(&app), "b", "a hit in an open lesson jumps there");
    key(&mut app, KeyCode::Char('p'));

    // `open c` (and a saved position there) starts at b instead.
    let mut o = o;
    o.open = Some("c".into());
    let app = build_app(&o, (120, 40)).unwrap();
    assert_eq!(current_id(&app), "b");
    assert!(draw(&app).contains("locked"), "the message is on screen");
}

#[test]
fn lock_comes_from_book_toml_when_no_flag_is_given() {
    let (dir, _) = locked_course();
    let toml = dir.path().join("en/book.toml");
    write(
        &toml,
        "[book]\ntitle = \"T\"\nlanguage = \"en\"\n\n[preprocessor.kubelab]\nlock = \"a\"\n",
    );
    let ctx = kubelab::context::Context {
        course_dir: dir.path().to_path_buf(),
        builtin_course: false,
        lang: Lang::En,
        data_dir_flag: None,
        lock_flag: None,
        trust: false,
    };
    let rule = kubelab::lock::rule_for_reader(&ctx)
        .unwrap()
        .expect("book.toml lock found");
    assert_eq!(rule.last_open(), Some("a"));
    // The flag wins over book.toml; an unknown id is a clear error.
    let ctx = kubelab::context::Context {
        lock_flag: Some("b".into()),
        ..ctx
    };
    let rule = kubelab::lock::rule_for_reader(&ctx).unwrap().unwrap();
    assert_eq!(rule.last_open(), Some("b"));
    let ctx = kubelab::context::Context {
        lock_flag: Some("zz".into()),
        ..ctx
    };
    let err = kubelab::lock::rule_for_reader(&ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("zz") && err.contains("a, b, c"), "{err}");
    // No lock anywhere: no rule, and the course is not even loaded.
    write(&toml, "[book]\ntitle = \"T\"\nlanguage = \"en\"\n");
    let ctx = kubelab::context::Context {
        lock_flag: None,
        ..ctx
    };
    assert!(kubelab::lock::rule_for_reader(&ctx).unwrap().is_none());
}
