//! The reader on Markdown written elsewhere (issue 26): tables, text blocks,
//! links, lists with code and raw HTML, at 80×24 and 120×40. One lesson per
//! shape in `tests/fixtures/realworld_course`. Review snapshot changes with
//! `cargo insta review`.

mod tui_common;
use kubelab::app::{build_app, App, AppOptions};
use kubelab::course::model::Lang;
use std::path::PathBuf;
use tui_common::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn open(lesson: &str, w: u16, h: u16) -> App {
    kubelab::render::highlight::warm_up();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld_course");
    let opts = AppOptions {
        open: Some(lesson.into()),
        ..AppOptions::reader(dir, Lang::Zh)
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

fn snap(name: &str, w: u16, h: u16, screen: String) {
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
}

#[test]
fn tables() {
    for (w, h) in SIZES {
        snap("tables", w, h, draw(&open("tables", w, h)));
    }
}

#[test]
fn too_wide_table() {
    for (w, h) in SIZES {
        snap("wide_table", w, h, draw(&open("wide", w, h)));
    }
}

#[test]
fn text_blocks_and_lists_with_code() {
    for (w, h) in SIZES {
        snap("code", w, h, draw(&open("code", w, h)));
    }
}

#[test]
fn links() {
    for (w, h) in SIZES {
        snap("links", w, h, draw(&open("links", w, h)));
    }
}

#[test]
fn raw_html() {
    for (w, h) in SIZES {
        snap("html", w, h, draw(&open("html", w, h)));
    }
}
