//! The shipped books build into a web book with mdBook and `kubelab mdbook`
//! as preprocessor, and the HTML holds each lesson's text and its rendered
//! interactive blocks. Needs `mdbook` on PATH (scripts/build-web-book.sh
//! installs it); without it the test prints SKIP, unless
//! KUBELAB_REQUIRE_MDBOOK is set (CI), where it fails.

use kubelab::course::model::Lang;
use kubelab::doc::ir::{Block, Inline};
use std::path::{Path, PathBuf};
use std::process::Command;

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The longest run of the text without Markdown/HTML/punctuation characters
/// that mdBook may rewrite (smart quotes, dashes, escapes, code spans).
fn fragment(text: &str) -> String {
    text.split(|c: char| "`*_[]()<>&\"'\\-.~|#!".contains(c) || c == '\n')
        .map(str::trim)
        .max_by_key(|s| s.chars().count())
        .unwrap_or("")
        .to_owned()
}

fn plain(inlines: &[Inline]) -> String {
    let mut s = String::new();
    for i in inlines {
        match i {
            Inline::Text(t) => s.push_str(t),
            // Markup becomes tags in HTML: break fragments there.
            Inline::Code(t) => {
                s.push('\n');
                s.push_str(t);
                s.push('\n');
            }
            Inline::Emph(x)
            | Inline::Strong(x)
            | Inline::Strike(x)
            | Inline::Link { text: x, .. } => {
                s.push('\n');
                s.push_str(&plain(x));
                s.push('\n');
            }
            Inline::SoftBreak | Inline::HardBreak => s.push('\n'),
            Inline::Image { .. } => {}
        }
    }
    s
}

fn main_part(html: &str) -> &str {
    let start = html.find("<main>").unwrap_or(0);
    let end = html[start..]
        .find("</main>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn web_books_contain_lessons_and_rendered_blocks() {
    let Some(mdbook) = find_on_path("mdbook") else {
        if std::env::var_os("KUBELAB_REQUIRE_MDBOOK").is_some() {
            panic!("mdbook is not on PATH but KUBELAB_REQUIRE_MDBOOK is set; run scripts/build-web-book.sh");
        }
        eprintln!("SKIP: mdbook not installed (scripts/build-web-book.sh installs it)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kubelab")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let course = kubelab::course::load(root).unwrap();

    let (mut lessons, mut quizzes, mut solutions, mut checks) = (0, 0, 0, 0);
    for lang in Lang::ALL {
        let dest = out.path().join(lang.code());
        let run = Command::new(&mdbook)
            .arg("build")
            .arg(root.join("lessons").join(lang.code()))
            .arg("--dest-dir")
            .arg(&dest)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "mdbook build {lang} failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let book = course.book(lang).unwrap();
        for chapter in book.parts.iter().flat_map(|p| &p.chapters) {
            let Some(rel) = &chapter.path else { continue };
            let Some(lesson) = chapter.id.as_deref().and_then(|id| course.lesson(lang, id)) else {
                continue;
            };
            let file = dest.join(rel).with_extension("html");
            let html = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let page = main_part(&html);
            let where_ = file.display();
            lessons += 1;
            // Front matter is gone; the lesson text is there.
            assert!(
                !page.contains("+++") && !page.contains("panes = "),
                "{where_}: front matter left"
            );
            let first_para = lesson.doc.blocks.iter().find_map(|b| match b {
                Block::Paragraph { text, .. } => Some(plain(text)),
                _ => None,
            });
            if let Some(p) = first_para {
                let f = fragment(&p);
                assert!(page.contains(&f), "{where_}: paragraph text {f:?} missing");
            }
            // No raw interactive fence reached the page.
            for raw in ["language-toml quiz", "answer = ", "# title:", "# hint:"] {
                assert!(!page.contains(raw), "{where_}: raw `{raw}` in the page");
            }
            if !lesson.doc.quizzes().is_empty() {
                quizzes += 1;
                assert!(
                    page.contains("<div class=\"kubelab-quiz\">"),
                    "{where_}: no quiz"
                );
                assert!(
                    page.contains("<details class=\"kubelab-quiz-answer\">"),
                    "{where_}: quiz answer not collapsed"
                );
                for q in lesson.doc.quizzes() {
                    let f = fragment(&q.question);
                    assert!(page.contains(&f), "{where_}: quiz question {f:?} missing");
                }
            }
            if !lesson.doc.checks().is_empty() {
                checks += 1;
                assert!(
                    page.contains("<div class=\"kubelab-check\">"),
                    "{where_}: no how-to-verify section"
                );
            }
            let has_solution = lesson
                .doc
                .interactives()
                .iter()
                .any(|i| matches!(i, kubelab::doc::ir::Interactive::Solution(_)));
            if has_solution {
                solutions += 1;
                assert!(
                    page.contains("<details class=\"kubelab-solution\">"),
                    "{where_}: solution not collapsed"
                );
            }
        }
    }
    eprintln!("web book: {lessons} lesson pages checked ({quizzes} with quizzes, {checks} with checks, {solutions} with solutions)");
    assert!(
        lessons > 0 && quizzes > 0 && solutions > 0,
        "nothing was checked: no lesson in the SUMMARYs?"
    );
}

/// `mdbook build` of a course whose lesson includes a file from outside the
/// course fails, and the file's text never reaches the HTML — whether or
/// not book.toml puts kubelab before mdBook's `links`.
#[test]
fn an_include_from_outside_the_course_never_reaches_the_html() {
    let Some(mdbook) = find_on_path("mdbook") else {
        if std::env::var_os("KUBELAB_REQUIRE_MDBOOK").is_some() {
            panic!("mdbook is not on PATH but KUBELAB_REQUIRE_MDBOOK is set");
        }
        eprintln!("SKIP: mdbook not installed (scripts/build-web-book.sh installs it)");
        return;
    };
    let bin = env!("CARGO_BIN_EXE_kubelab");
    let bin_dir = Path::new(bin).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "TOP-SECRET-7f3a\n").unwrap();
    let course = tmp.path().join("course");
    let made = Command::new(bin)
        .args(["new", "--lang", "en", "--course"])
        .arg(&course)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let book = course.join("en");
    let lesson = book.join("src/01-first-lab.md");
    let text = std::fs::read_to_string(&lesson).unwrap();
    std::fs::write(book.join("src/inside.sh"), "echo INSIDE-OK\n").unwrap();
    let build = |name: &str| {
        let out = tmp.path().join(name);
        let run = Command::new(&mdbook)
            .arg("build")
            .arg(&book)
            .arg("--dest-dir")
            .arg(&out)
            .env("PATH", &path)
            .output()
            .unwrap();
        let mut html = String::new();
        if let Ok(rd) = std::fs::read_dir(&out) {
            for e in rd.flatten() {
                html.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        (run, html)
    };
    // Inside the course: expanded.
    std::fs::write(
        &lesson,
        format!("{text}\n```sh\n{{{{#include inside.sh}}}}\n```\n"),
    )
    .unwrap();
    let (run, html) = build("ok");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(html.contains("INSIDE-OK"));
    // Outside: the build fails, the secret is nowhere.
    std::fs::write(
        &lesson,
        format!("{text}\n```sh\n{{{{#include ../../../secret.txt}}}}\n```\n"),
    )
    .unwrap();
    let (run, html) = build("escape");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{err}");
    assert!(err.contains("outside the course folder"), "{err}");
    assert!(!html.contains("TOP-SECRET"));
    // kubelab after mdBook's links (no `before`): refused, nothing built.
    let toml = std::fs::read_to_string(book.join("book.toml")).unwrap();
    std::fs::write(
        book.join("book.toml"),
        toml.replace("before = [\"links\"]\n", ""),
    )
    .unwrap();
    let (run, html) = build("late");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{err}");
    assert!(err.contains("before = [\"links\"]"), "{err}");
    assert!(!html.contains("TOP-SECRET"));
}
