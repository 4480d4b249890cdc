//! The reader TUI: state, actions, `update`, and the event loop.
//!
//! Flow (docs/ARCHITECTURE.md): terminal events, signals, the highlighter
//! and the panes all send [`AppEvent`]s into one channel → [`keymap`] turns
//! them into [`Action`]s depending on focus → [`update::update`] changes
//! [`App`] → the [`Draw`] function (`ui::draw`, handed to [`run`]) renders
//! it, at most once per frame interval and only when something changed.
//!
//! Extension points for the live panes (issue 4): [`PaneHost`] (plugged in
//! through [`AppOptions::panes`]), the pane rectangle
//! [`layout::AppLayout::panes`], [`Focus::Panes`],
//! [`AppEvent::PaneDirty`] and [`PaneHost::run_block`] (Enter on a run block).

pub mod action;
pub mod event;
pub mod graphics;
mod hangup;
pub mod help;
pub mod hooks;
pub mod keymap;
pub mod layout;
pub mod library;
pub mod preview;
mod preview_state;
pub mod state;
pub mod update;

pub use action::Action;
pub use event::{AppEvent, EventSender};
pub use hooks::{NoPanes, PaneFocus, PaneHost};
pub use library::Library;
pub use state::{App, Focus, Overlay};

use crate::course::model::Lang;
use crate::render::highlight;
use crate::terminal::Tui;
use anyhow::Context;
use futures_util::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Shortest time between two frames (~60 fps).
pub const FRAME: Duration = Duration::from_millis(16);

/// Test and benchmark hook: quit right after the first frame (`1`) or the
/// first frame with highlighted code (`highlighted`).
pub const EXIT_AFTER_FIRST_FRAME: &str = "KUBELAB_DEBUG_EXIT_AFTER_FIRST_FRAME";
/// Test hook: panic after the first frame (checks the terminal is restored);
/// `thread` panics on a worker thread instead of the UI task.
pub const PANIC_AFTER_FIRST_FRAME: &str = "KUBELAB_DEBUG_PANIC";

/// What the CLI passes to [`run`].
pub struct AppOptions {
    /// Course directory (holding `lessons/` or the books themselves).
    pub course_dir: PathBuf,
    /// Language of the UI chrome.
    pub ui_lang: Lang,
    /// Preferred lesson language (falls back per lesson).
    pub lesson_lang: Lang,
    /// Lesson id to open; else the saved position, else the first lesson.
    pub open: Option<String>,
    /// Live panes; `None` shows lessons without them.
    pub panes: Option<Box<dyn PaneHost>>,
    /// Saved progress; `None` keeps progress in memory only.
    pub progress: Option<crate::progress::Store>,
    /// `--lock`: lessons after the lock are shown locked (see [`crate::lock`]).
    pub lock: Option<crate::lock::LockRule>,
    /// `kubelab preview`: the lesson file or course to watch and reload.
    pub preview: Option<preview::PreviewOptions>,
}

impl AppOptions {
    /// Just the reader: `course_dir` in `lang`, from the first lesson, with
    /// no panes, no saved progress, no lock and no preview. Callers set
    /// the rest with struct update syntax.
    pub fn reader(course_dir: impl Into<PathBuf>, lang: Lang) -> AppOptions {
        AppOptions {
            course_dir: course_dir.into(),
            ui_lang: lang,
            lesson_lang: lang,
            open: None,
            panes: None,
            progress: None,
            lock: None,
            preview: None,
        }
    }
}

static STARTUP_NOTICE: std::sync::Mutex<Option<(String, PathBuf)>> = std::sync::Mutex::new(None);

/// A notice from before the terminal was taken over (the progress file was
/// moved aside): the next [`build_app`] shows it in the status bar, where
/// the learner sees it (stderr is hidden behind the alternate screen).
/// `reason` and `moved_to` as in `progress::Opened::notice`.
pub fn startup_notice(reason: &str, moved_to: &std::path::Path) {
    if let Ok(mut n) = STARTUP_NOTICE.lock() {
        *n = Some((reason.to_string(), moved_to.to_path_buf()));
    }
}

static STARTUP_MESSAGE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// A message for the status bar of the next [`build_app`], already in the
/// UI language (e.g. the data directory cannot be written).
pub fn startup_message(text: String) {
    if let Ok(mut m) = STARTUP_MESSAGE.lock() {
        *m = Some(text);
    }
}

/// Builds the app state for `opts` at terminal size `size` (no terminal
/// needed: tests and benchmarks use this too).
pub fn build_app(opts: &AppOptions, size: (u16, u16)) -> anyhow::Result<App> {
    let lib = match &opts.preview {
        Some(p) => preview::load_library(&p.target, opts.lesson_lang)?,
        None => {
            let loaded = match crate::course::take_preloaded(&opts.course_dir) {
                Some(l) => l,
                None => crate::course::load(&opts.course_dir).with_context(|| {
                    format!("cannot open the course in {}", opts.course_dir.display())
                })?,
            };
            Library::from_loaded(&loaded, opts.lesson_lang)
        }
    };
    let mut app = App::new(lib, opts.ui_lang, size);
    if let Some(store) = &opts.progress {
        app.apply_progress(store.progress.clone());
    }
    let start = match &opts.open {
        Some(id) => Some(
            app.lib
                .find(id)
                .with_context(|| format!("no lesson with id `{id}` (see `kubelab list`)"))?,
        ),
        // Reopen where the learner left off.
        None => app
            .progress
            .position
            .as_ref()
            .and_then(|p| app.lib.find(&p.lesson)),
    };
    let start = start.unwrap_or(app.current);
    app.lock = opts.lock.clone();
    if opts.preview.is_some() {
        app.preview = Some(preview::PreviewState::new(&app.lib));
    }
    update::open(&mut app, start);
    app.progress_dirty = false;
    if let Some(text) = STARTUP_MESSAGE.lock().ok().and_then(|mut m| m.take()) {
        app.message = Some(text);
    }
    if let Some((reason, to)) = STARTUP_NOTICE.lock().ok().and_then(|mut n| n.take()) {
        app.message = Some(
            app.strings
                .progress_moved
                .replace("{reason}", &reason)
                .replace("{to}", &to.display().to_string()),
        );
    }
    Ok(app)
}

/// Ctrl-Z: hand the terminal back and stop; on `fg`, take it over again at
/// its (maybe new) size. Returns whether a redraw is needed.
fn suspend_if_asked(
    app: &mut App,
    tui: &mut crate::terminal::Tui,
    graphics: &mut graphics::Graphics,
) -> anyhow::Result<bool> {
    if !app.suspend {
        return Ok(false);
    }
    app.suspend = false;
    // The shell gets a clean screen; the pictures are sent again after.
    let _ = graphics.forget(app, tui.terminal.backend_mut());
    tui.suspend()?;
    let (w, h) = tui.size()?;
    update::update(app, Action::Resize(w, h));
    Ok(true)
}

/// Draws the whole app into a frame: `ui::draw`, handed in by the command
/// that runs the reader (the view sits above the app's state and loop).
pub type Draw = fn(&mut ratatui::Frame, &App);

/// Runs the reader until the learner quits.
pub async fn run(mut opts: AppOptions, draw: Draw) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the kubelab reader needs a terminal (stdin/stdout is not a TTY); for scripts use `kubelab list`"
        );
    }
    let (tx, mut rx) = event::channel();
    // Load the highlighter's theme and shell grammar on the second core
    // while this one loads the course.
    std::thread::spawn(highlight::warm_up);
    // Stops watching when dropped, at the end of `run`.
    let _preview_watch = match &opts.preview {
        Some(p) => Some(preview::start(p, opts.lesson_lang, &tx)?),
        None => None,
    };
    let mut app = build_app(&opts, crossterm::terminal::size().unwrap_or((80, 24)))?;
    spawn_highlighter(&app.lib, app.current, tx.clone());
    let mut tui = Tui::enter().context("cannot set up the terminal")?;
    app.hyperlinks = !matches!(std::env::var("TERM").as_deref(), Ok("dumb" | "linux"));
    // From TERM/NO_COLOR only: querying the terminal could hang it.
    app.pictures = crate::picture::Mode::from_env();
    update::update(&mut app, Action::Resize(tui.size()?.0, tui.size()?.1));
    if let Some(p) = opts.panes.take() {
        app.panes = p;
    }
    app.panes.attach(tx.clone());
    update::notify_panes(&mut app);
    spawn_input(tx.clone());
    spawn_signals(tx.clone());
    hangup::watch(tx.clone());
    let saver = opts.progress.take().map(Saver::start);

    let exit_after = std::env::var(EXIT_AFTER_FIRST_FRAME).ok();
    let panic_after = std::env::var(PANIC_AFTER_FIRST_FRAME).ok();
    let mut report = FrameReport::from_env();
    let mut graphics = graphics::Graphics::default();
    tui.terminal.draw(|f| draw(f, &app))?;
    // Pictures in pixels are an extra: a failed write leaves the half blocks.
    let _ = graphics.present(&app, tui.terminal.backend_mut(), true);
    report.frame(&app);
    let mut last_draw = Instant::now();
    match panic_after.as_deref() {
        // A crash no hook sees (as a stack overflow): the terminal guard's job.
        Some("abort") => std::process::abort(),
        // The preview's watcher thread panics on the next save (preview.rs).
        Some("watch") => {}
        Some("thread") => {
            std::thread::spawn(|| panic!("{PANIC_AFTER_FIRST_FRAME}=thread: panicking on purpose"));
        }
        Some(_) => panic!("{PANIC_AFTER_FIRST_FRAME} is set: panicking on purpose"),
        None => {}
    }
    if exit_after.as_deref() == Some("1")
        || (exit_after.as_deref() == Some("highlighted") && report.highlighted_done)
    {
        app.quit = true;
    }

    let mut lost: Option<std::io::Error> = None;
    while !app.quit {
        let Some(ev) = rx.recv().await else { break };
        let mut dirty = handle(&mut app, ev);
        while let Ok(ev) = rx.try_recv() {
            dirty |= handle(&mut app, ev);
        }
        if app.quit {
            break;
        }
        dirty |= suspend_if_asked(&mut app, &mut tui, &mut graphics)?;
        if app.progress_dirty {
            app.progress_dirty = false;
            if let Some(s) = &saver {
                s.save(&app.progress);
            }
        }
        if dirty {
            let next = last_draw + FRAME;
            if Instant::now() < next {
                // Coalesce bursts (PTY floods, wheel spins) into one frame.
                tokio::time::sleep_until(next.into()).await;
                while let Ok(ev) = rx.try_recv() {
                    handle(&mut app, ev);
                }
                if app.quit {
                    break;
                }
                // A Ctrl-Z drained here must act now, not wait for the next event.
                suspend_if_asked(&mut app, &mut tui, &mut graphics)?;
            }
            let full = graphics.needs_full_redraw(&app);
            if full {
                // iTerm2/sixel pixels replaced cells ratatui thinks it drew.
                let _ = tui.terminal.clear();
            }
            if let Err(e) = tui.terminal.draw(|f| draw(f, &app)) {
                // The terminal is gone (EIO): still stop the sandboxes and
                // save progress below, then report it.
                lost = Some(e);
                break;
            }
            let _ = graphics.present(&app, tui.terminal.backend_mut(), full);
            last_draw = Instant::now();
            report.frame(&app);
            if exit_after.as_deref() == Some("highlighted") && report.highlighted_done {
                app.quit = true;
            }
        }
    }
    let _ = graphics.forget(&app, tui.terminal.backend_mut());
    update::save_position(&mut app);
    app.panes.shutdown();
    // Fails when the terminal hung up: progress is saved all the same.
    let restored = tui.exit();
    if let Some(s) = saver {
        s.save(&app.progress);
        s.finish()?;
    }
    if let Some(e) = lost {
        return Err(e).context("the terminal went away");
    }
    restored?;
    Ok(())
}

/// Writes progress on its own thread (the file is fsynced), newest state
/// wins when saves pile up.
struct Saver {
    tx: std::sync::mpsc::Sender<crate::progress::Progress>,
    thread: std::thread::JoinHandle<Result<(), crate::progress::ProgressError>>,
}

impl Saver {
    fn start(mut store: crate::progress::Store) -> Saver {
        let (tx, rx) = std::sync::mpsc::channel::<crate::progress::Progress>();
        let thread = std::thread::spawn(move || {
            let mut result = Ok(());
            while let Ok(mut p) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    p = newer;
                }
                store.progress = p;
                result = store.save();
            }
            result
        });
        Saver { tx, thread }
    }

    fn save(&self, p: &crate::progress::Progress) {
        let _ = self.tx.send(p.clone());
    }

    /// Waits for the last save; reports the last error.
    fn finish(self) -> anyhow::Result<()> {
        drop(self.tx);
        match self.thread.join() {
            Ok(r) => r.context("cannot save progress"),
            Err(_) => anyhow::bail!("the progress writer panicked"),
        }
    }
}

/// Highlights code off the UI task: the open lesson first (then the loop
/// is told to redraw), then every other lesson.
fn spawn_highlighter(lib: &Library, first: usize, tx: EventSender) {
    let docs: Vec<std::sync::Arc<crate::course::model::Lesson>> = std::iter::once(first)
        .chain((0..lib.entries.len()).filter(|i| *i != first))
        .filter_map(|i| match &lib.entries.get(i)?.content {
            library::Content::Lesson(l) => Some(l.clone()),
            _ => None,
        })
        .collect();
    std::thread::spawn(move || {
        for (n, l) in docs.iter().enumerate() {
            highlight::highlight_all(crate::render::code_blocks(&l.doc));
            if n == 0 {
                tx.send(AppEvent::HighlightReady);
            }
        }
        tx.send(AppEvent::HighlightReady);
    });
}

/// Benchmark hook: with `KUBELAB_DEBUG_FRAME_REPORT=FILE`, the wall-clock
/// times (Unix ns) of the first frame and of the first frame whose code is
/// highlighted are written to FILE.
struct FrameReport {
    file: Option<PathBuf>,
    first_done: bool,
    highlighted_done: bool,
}

impl FrameReport {
    fn from_env() -> FrameReport {
        FrameReport {
            file: std::env::var_os("KUBELAB_DEBUG_FRAME_REPORT").map(PathBuf::from),
            first_done: false,
            highlighted_done: false,
        }
    }

    fn frame(&mut self, app: &App) {
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        };
        let mut lines = String::new();
        if !self.first_done {
            self.first_done = true;
            lines.push_str(&format!("first_frame {}\n", now()));
        }
        if !self.highlighted_done && app.highlighted() {
            self.highlighted_done = true;
            lines.push_str(&format!("highlighted_frame {}\n", now()));
        }
        if let (Some(f), false) = (&self.file, lines.is_empty()) {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(f)
            {
                let _ = f.write_all(lines.as_bytes());
            }
        }
    }
}

/// Applies one event; returns whether the screen may have changed.
pub fn handle(app: &mut App, ev: AppEvent) -> bool {
    if let AppEvent::PaneDirty = ev {
        let redraw = app.panes.update();
        // Check results from the panes side: ✓/✗ in the lesson, passes saved.
        if let Some(statuses) = app.panes.check_statuses() {
            for (id, st) in statuses {
                app.set_check(app.current, &id, st);
            }
            app.prepare();
        }
        // Also before the first key: only the opening step's checks run.
        tell_visible_lines(app);
        return redraw;
    }
    match keymap::map_event(app, &ev) {
        Some(action) => {
            update::update(app, action);
            tell_visible_lines(app);
            true
        }
        None => false,
    }
}

/// Tells the panes which source lines are on screen (their checks re-run).
fn tell_visible_lines(app: &mut App) {
    let Some(r) = app.rendered() else { return };
    let last = (app.scroll + app.page_height())
        .min(r.src_lines.len())
        .saturating_sub(1);
    let at_end = app.scroll > 0 && last + 1 == r.src_lines.len();
    let reading = if at_end {
        last
    } else {
        (app.scroll + last) / 2
    };
    let line = |i: usize| r.src_lines.get(i).copied();
    let (first, last, reading) = (line(app.scroll), line(last), line(reading));
    if let (Some(a), Some(b)) = (first, last) {
        app.panes.visible_lines(a, b);
    }
    if let Some(l) = reading {
        app.panes.reading_line(l);
    }
}

fn spawn_input(tx: EventSender) {
    use crossterm::event::Event;
    tokio::spawn(async move {
        let mut stream = crossterm::event::EventStream::new();
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(Event::Key(k)) => tx.send(AppEvent::Key(k)),
                Ok(Event::Mouse(m)) => tx.send(AppEvent::Mouse(m)),
                Ok(Event::Resize(w, h)) => tx.send(AppEvent::Resize(w, h)),
                Ok(_) => {}
                Err(_) => {
                    tx.send(AppEvent::InputClosed);
                    return;
                }
            }
        }
        tx.send(AppEvent::InputClosed);
    });
}

fn spawn_signals(tx: EventSender) {
    use tokio::signal::unix::{signal, SignalKind};
    for kind in [SignalKind::terminate(), SignalKind::hangup()] {
        let tx = tx.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                if s.recv().await.is_some() {
                    tx.send(AppEvent::Terminate);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only lib test that builds an app, so no other test can take the
    /// notice first.
    #[test]
    fn moved_aside_progress_is_announced_in_the_status_bar() {
        startup_notice(
            "cannot be read (expected value at line 1)",
            std::path::Path::new("/data/progress.json.corrupt-1"),
        );
        let opts = AppOptions::reader(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui_course"),
            Lang::En,
        );
        let app = build_app(&opts, (120, 40)).unwrap();
        assert_eq!(
            app.message.as_deref(),
            Some("progress file cannot be read (expected value at line 1): moved to /data/progress.json.corrupt-1; progress starts fresh")
        );
        // Shown once: the next app starts without it.
        assert!(build_app(&opts, (120, 40)).unwrap().message.is_none());
    }
}
