//! A course folder may only use its own files: `{{#include}}`s that leave
//! it, lesson/SUMMARY/book.toml files that are symlinks out of it, and
//! FIFOs or devices in place of files are errors naming file and line, in
//! lint, in the reader's loader and in the mdBook preprocessor — and a FIFO
//! never blocks a read.

mod common;
use kubelab::lint::lint_path;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// A one-book (`en`) course with one lesson `01-a.md` holding `body`.
fn course(dir: &Path, body: &str) {
    common::one_lesson_course(
        dir,
        &format!("+++\nid = \"01-a\"\ntitle = \"A\"\n+++\n\nIntro.\n\n{body}"),
    );
}

/// Runs `f` on a thread; fails the test if it does not finish in 60 s (a
/// FIFO opened for reading would block for ever).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("blocked: a FIFO was opened for reading")
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn lint_messages(dir: &Path) -> Vec<String> {
    let dir = dir.to_path_buf();
    bounded(move || {
        lint_path(&dir)
            .unwrap()
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect()
    })
}

#[test]
fn includes_that_leave_the_course_are_errors_with_file_and_line() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOP-SECRET\n").unwrap();
    let depth = "../".repeat(30);
    let cases = [
        (
            "dot-dot",
            format!(
                "```sh\n{{{{#include {depth}{}/secret.txt}}}}\n```\n",
                outside.path().display()
            ),
        ),
        (
            "absolute",
            format!(
                "```sh\n{{{{#include {}/secret.txt}}}}\n```\n",
                outside.path().display()
            ),
        ),
        ("symlink", "```sh\n{{#include link.txt}}\n```\n".to_string()),
        ("playground", "{{#playground link.txt}}\n".to_string()),
    ];
    for (name, body) in cases {
        let dir = tempfile::tempdir().unwrap();
        course(dir.path(), &body);
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("en/src/link.txt"),
        )
        .unwrap();
        let m = lint_messages(dir.path());
        // The directive is on line 9 (front matter 4, blank, Intro, blank).
        assert!(
            m.iter().any(|d| d.contains("01-a.md:")
                && d.contains("error")
                && d.contains("outside the course")
                || d.contains("absolute")),
            "{name}: {m:#?}"
        );
        let line = if name == "playground" { 8 } else { 9 };
        assert!(
            m.iter().any(|d| d.contains(&format!("01-a.md:{line}:"))),
            "{name}: no file:line: {m:#?}"
        );
        // The reader's loader refuses the lesson, and nothing leaked into it.
        let loaded = kubelab::course::load(dir.path()).unwrap();
        assert!(loaded.lessons.is_empty(), "{name}: the lesson loaded");
        assert!(!format!("{:?}", loaded.errors).contains("TOP-SECRET"));
    }
}

#[test]
fn includes_inside_the_course_are_rendered_in_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    course(
        dir.path(),
        "```sh\n{{#include code/setup.sh:body}}\n```\n\nAfter.\n",
    );
    std::fs::create_dir_all(dir.path().join("en/src/code")).unwrap();
    std::fs::write(
        dir.path().join("en/src/code/setup.sh"),
        "#!/bin/sh\n# ANCHOR: body\nunshare --pid --fork sh\n# ANCHOR_END: body\n",
    )
    .unwrap();
    let m = lint_messages(dir.path());
    assert!(m.iter().all(|d| !d.contains("error")), "{m:#?}");
    let loaded = kubelab::course::load(dir.path()).unwrap();
    let l = &loaded.lessons[0];
    let code = l
        .doc
        .blocks
        .iter()
        .find_map(|b| match b {
            kubelab::doc::ir::Block::Code { code, line, .. } => Some((code.clone(), *line)),
            _ => None,
        })
        .expect("a code block");
    assert_eq!(code, ("unshare --pid --fork sh\n".to_string(), 8));
    // Lines after the include are still the file's lines.
    let after = l
        .doc
        .blocks
        .iter()
        .find(|b| matches!(b, kubelab::doc::ir::Block::Paragraph { .. }) && b.line() > 8)
        .map(|b| b.line());
    assert_eq!(after, Some(12));
}

#[test]
fn a_fifo_lesson_is_not_a_regular_file_and_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), "");
    let lesson = dir.path().join("en/src/01-a.md");
    std::fs::remove_file(&lesson).unwrap();
    mkfifo(&lesson);
    let m = lint_messages(dir.path());
    assert!(
        m.iter()
            .any(|d| d.contains("SUMMARY.md:3:") && d.contains("not a regular file")),
        "{m:#?}"
    );
    assert!(m.iter().all(|d| !d.contains("does not exist")), "{m:#?}");
    // Linting the file alone does not block either.
    let m: Vec<String> = bounded(move || {
        kubelab::lint::lint_file(&lesson)
            .diagnostics
            .iter()
            .map(|d| d.to_string())
            .collect()
    });
    assert!(m.iter().any(|d| d.contains("not a regular file")), "{m:#?}");
}

#[test]
fn fifo_summary_and_book_toml_never_block() {
    for file in ["en/src/SUMMARY.md", "en/book.toml"] {
        let dir = tempfile::tempdir().unwrap();
        course(dir.path(), "");
        std::fs::remove_file(dir.path().join(file)).unwrap();
        mkfifo(&dir.path().join(file));
        let d = dir.path().to_path_buf();
        let m: String = bounded(move || match kubelab::course::load(&d) {
            Ok(l) => format!("{:?}", l.diagnostics),
            Err(e) => e.to_string(),
        });
        assert!(m.contains("not a regular file"), "{file}: {m}");
    }
}

#[test]
fn a_lesson_symlinked_out_of_the_course_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("01-a.md"),
        "+++\nid = \"01-a\"\ntitle = \"Elsewhere\"\n+++\n\nOUTSIDE TEXT\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), "");
    let lesson = dir.path().join("en/src/01-a.md");
    std::fs::remove_file(&lesson).unwrap();
    std::os::unix::fs::symlink(outside.path().join("01-a.md"), &lesson).unwrap();
    let m = lint_messages(dir.path());
    assert!(
        m.iter()
            .any(|d| d.contains("SUMMARY.md:3:") && d.contains("outside the course folder")),
        "{m:#?}"
    );
    let loaded = kubelab::course::load(dir.path()).unwrap();
    assert!(loaded.lessons.is_empty());
}

fn preprocessor_input(root: &Path, content: &str, before: bool) -> Value {
    let mut pre = json!({"command": "kubelab mdbook"});
    if before {
        pre["before"] = json!(["links"]);
    }
    json!([
        {"root": root, "renderer": "html", "mdbook_version": "0.5.4",
         "config": {"book": {"language": "en", "src": "src"},
                    "preprocessor": {"kubelab": pre}}},
        {"items": [{"Chapter": {"name": "A", "content": content, "number": [1],
            "sub_items": [], "path": "01-a.md", "source_path": "01-a.md",
            "parent_names": []}}]}
    ])
}

#[test]
fn the_mdbook_preprocessor_refuses_escaping_includes_and_a_late_position() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "TOP-SECRET\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), "");
    let book = dir.path().join("en");
    std::fs::write(book.join("src/ok.sh"), "echo fine\n").unwrap();
    let bad = format!(
        "Intro\n\n```sh\n{{{{#include ../../../../../../../..{}/secret.txt}}}}\n```\n",
        outside.path().display()
    );
    let e = kubelab::commands::mdbook::preprocess(preprocessor_input(&book, &bad, true))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("01-a.md:4:") && e.contains("outside the course"),
        "{e}"
    );
    let good = "```sh\n{{#include ok.sh}}\n```\n";
    let out = kubelab::commands::mdbook::preprocess(preprocessor_input(&book, good, true)).unwrap();
    let text = out["items"][0]["Chapter"]["content"].as_str().unwrap();
    assert!(
        text.contains("echo fine") && !text.contains("{{#include"),
        "{text}"
    );
    // After mdBook's links preprocessor the files are read already: refuse.
    let e = kubelab::commands::mdbook::preprocess(preprocessor_input(&book, good, false))
        .unwrap_err()
        .to_string();
    assert!(e.contains("before = [\"links\"]"), "{e}");
}

#[test]
fn lint_wants_the_preprocessor_before_links() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), "");
    let toml = dir.path().join("en/book.toml");
    let mut t = std::fs::read_to_string(&toml).unwrap();
    t.push_str("\n[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\n");
    std::fs::write(&toml, &t).unwrap();
    let m = lint_messages(dir.path());
    assert!(
        m.iter()
            .any(|d| d.contains("book.toml:5:") && d.contains("before = [\"links\"]")),
        "{m:#?}"
    );
    t.push_str("before = [\"links\"]\n");
    std::fs::write(&toml, &t).unwrap();
    let m = lint_messages(dir.path());
    assert!(m.iter().all(|d| !d.contains("links")), "{m:#?}");
}

#[test]
fn the_lock_and_the_content_hash_never_block_on_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), "");
    std::fs::remove_file(dir.path().join("en/book.toml")).unwrap();
    mkfifo(&dir.path().join("en/book.toml"));
    mkfifo(&dir.path().join("en/src/extra.md"));
    let d = dir.path().to_path_buf();
    let (lock, hash) = bounded(move || {
        (
            kubelab::lock::lock_from_book_toml(&d.join("en")).map_err(|e| e.to_string()),
            kubelab::classroom::hash::content_hash(&d).map_err(|e| e.to_string()),
        )
    });
    assert!(lock.unwrap_err().contains("not a regular file"));
    // The hash skips what is not a plain file; that it returned at all
    // (`bounded`) is the point.
    assert!(hash.is_ok(), "{hash:?}");
}
