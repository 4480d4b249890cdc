//! Whole-app snapshots at 80×24 and 120×40 (docs/ARCHITECTURE.md, pattern 11).
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always and git diff).

mod tui_common;
use crossterm::event::KeyCode;
use kubelab::course::model::Lang;
use tui_common::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(name: &str, w: u16, h: u16, screen: String) {
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
}

#[test]
fn lesson() {
    for (w, h) in SIZES {
        let a = app(w, h, Lang::Zh, Lang::Zh);
        snap("lesson", w, h, draw(&a));
    }
}

#[test]
fn lesson_interactive_blocks() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        // Focus the solution (3rd block: run, check, solution), reveal it,
        // then answer the quiz wrongly.
        keys(&mut a, "G]]]");
        key(&mut a, KeyCode::Enter);
        keys(&mut a, "]a");
        snap("lesson_interactive", w, h, draw(&a));
    }
}

#[test]
fn outline() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        key(&mut a, KeyCode::Tab);
        keys(&mut a, "j");
        snap("outline", w, h, draw(&a));
    }
}

#[test]
fn help() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        keys(&mut a, "?");
        snap("help_zh", w, h, draw(&a));
        let mut a = app(w, h, Lang::En, Lang::En);
        keys(&mut a, "?");
        snap("help_en", w, h, draw(&a));
    }
}

#[test]
fn search() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        keys(&mut a, "/namespace");
        snap("search", w, h, draw(&a));
    }
}

#[test]
fn fallback_lesson_with_panes() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        keys(&mut a, "n");
        snap("fallback_panes", w, h, draw(&a));
    }
}

#[test]
fn error_page() {
    for (w, h) in SIZES {
        let mut a = app(w, h, Lang::Zh, Lang::Zh);
        keys(&mut a, "nn");
        snap("error_page", w, h, draw(&a));
    }
}

#[test]
fn english_ui() {
    let a = app(80, 24, Lang::En, Lang::En);
    snap("lesson_en", 80, 24, draw(&a));
}

#[test]
fn too_small() {
    let a = app(39, 12, Lang::Zh, Lang::Zh);
    snap("too_small", 39, 12, draw(&a));
}
