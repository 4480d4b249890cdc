//! Shared helpers for the reader's TestBackend tests.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use kubelab::app::{build_app, handle, App, AppEvent, AppOptions};
use kubelab::course::model::Lang;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::PathBuf;

pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui_course")
}

/// The app over the fixture course, highlighter loaded (deterministic output).
pub fn app(w: u16, h: u16, ui: Lang, lessons: Lang) -> App {
    kubelab::render::highlight::warm_up();
    let opts = AppOptions {
        ui_lang: ui,
        ..AppOptions::reader(fixture(), lessons)
    };
    let mut a = build_app(&opts, (w, h)).expect("fixture course loads");
    for e in &a.lib.entries {
        if let kubelab::app::library::Content::Lesson(l) = &e.content {
            kubelab::render::highlight::highlight_all(kubelab::render::code_blocks(&l.doc));
        }
    }
    a.prepare();
    a
}

pub fn draw(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| kubelab::ui::draw(f, app)).unwrap();
    dump(t.backend().buffer())
}

#[path = "../support/screen.rs"]
mod screen;
pub use screen::dump;

pub fn key(app: &mut App, code: KeyCode) {
    handle(app, AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

pub fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

pub fn ctrl(app: &mut App, c: char) {
    handle(
        app,
        AppEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}

pub fn mouse(app: &mut App, kind: MouseEventKind, x: u16, y: u16) {
    handle(
        app,
        AppEvent::Mouse(MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

pub fn click(app: &mut App, x: u16, y: u16) {
    mouse(app, MouseEventKind::Down(MouseButton::Left), x, y);
}

pub fn resize(app: &mut App, w: u16, h: u16) {
    handle(app, AppEvent::Resize(w, h));
}

/// The line of the screen dump containing `needle`.
pub fn screen_has(app: &App, needle: &str) -> bool {
    draw(app).contains(needle)
}
