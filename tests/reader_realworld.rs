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

#[test]
fn links_are_reachable_from_the_keyboard() {
    for (w, h) in SIZES {
        let mut a = open("links", w, h);
        keys(&mut a, "o");
        let screen = draw(&a);
        // The whole URL of link 1, unbroken, in the status line.
        assert!(
            screen.contains(
                "[1/3] https://kubernetes.io/zh-cn/docs/reference/using-api/api-concepts/"
            ) || w < 100,
            "{screen}"
        );
        keys(&mut a, "oo");
        snap("links_third", w, h, draw(&a));
        keys(&mut a, "o");
        assert!(draw(&a).contains("[1/3]"), "o wraps around");
        keys(&mut a, "O");
        assert!(draw(&a).contains("[3/3]"), "O goes back");
    }
}

/// With hyperlinks on, link text and each reference URL carry OSC 8 with
/// the full URL, and nothing else escapes into the cells.
#[test]
fn links_are_osc8_hyperlinks() {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut a = open("links", 80, 24);
    a.hyperlinks = true;
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| kubelab::ui::draw(f, &a)).unwrap();
    let buf = t.backend().buffer();
    let url = "https://kubernetes.io/zh-cn/docs/reference/using-api/api-concepts/#efficient-detection-of-changes";
    let open_seq = format!("\x1b]8;;{url}\x1b\\");
    let linked: Vec<&str> = buf
        .content()
        .iter()
        .map(|c| c.symbol())
        .filter(|s| s.starts_with(&open_seq))
        .collect();
    let text: String = linked
        .iter()
        .map(|s| s[open_seq.len()..].trim_end_matches("\x1b]8;;\x1b\\"))
        .collect();
    // The link text, its number and the (wrapped) URL in the references.
    assert!(text.contains("Kubernetes API 概念"), "{text:?}");
    assert!(text.contains("efficient-detection"), "{text:?}");
    for c in buf.content() {
        let s = c.symbol();
        let inner = s
            .strip_prefix("\x1b]8;;")
            .and_then(|s| s.split_once("\x1b\\"))
            .map_or(s, |(_, rest)| rest.trim_end_matches("\x1b]8;;\x1b\\"));
        assert!(!inner.chars().any(char::is_control), "{s:?}");
    }
}

#[test]
fn the_outline_column_can_be_hidden() {
    let mut a = open("tables", 80, 24);
    keys(&mut a, "t");
    let screen = draw(&a);
    assert!(!screen.contains("目录"), "{screen}");
    snap("tables_no_outline", 80, 24, screen);
    keys(&mut a, "t");
    assert!(draw(&a).contains("目录"));
}

#[test]
fn mermaid_flowcharts() {
    for (w, h) in SIZES {
        snap("diagram", w, h, draw(&open("diagram", w, h)));
    }
}

/// An overlay over link text: no hyperlink cell may swallow the cells it
/// covers (they would never reach the terminal).
#[test]
fn no_hyperlink_cells_under_an_overlay() {
    use ratatui::backend::TestBackend;
    use ratatui::buffer::CellDiffOption;
    use ratatui::Terminal;
    for (w, h) in SIZES {
        for overlay in ["?", "/k"] {
            let mut a = open("links", w, h);
            a.hyperlinks = true;
            keys(&mut a, overlay);
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| kubelab::ui::draw(f, &a)).unwrap();
            let forced = t
                .backend()
                .buffer()
                .content()
                .iter()
                .filter(|c| matches!(c.diff_option, CellDiffOption::ForcedWidth(_)))
                .count();
            assert_eq!(forced, 0, "{overlay} at {w}x{h}");
        }
    }
}
