//! The shipped books build into a web book with mdBook and `kubelab mdbook`
//! as preprocessor, and the HTML holds each lesson's text and its rendered
//! interactive blocks, numbered as the lessons are, with a banner, answers
//! and hints collapsed, no check script, and a search (Pagefind) that finds
//! Chinese words and never holds an answer. Needs `mdbook` on PATH
//! (scripts/build-web-book.sh installs it); without it the test prints
//! SKIP, unless KUBELAB_REQUIRE_MDBOOK is set (CI), where it fails. The
//! search part needs `node` and KUBELAB_PAGEFIND_DIR (the script sets both
//! up), with the same SKIP/fail rule; see tests/web_book/search.rs.

mod web_book {
    pub mod html;
    pub mod search;
}
use web_book::html;

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
    let search = web_book::search::Search::find(root, find_on_path("node"));

    let (mut lessons, mut quizzes, mut solutions, mut checks) = (0, 0, 0, 0);
    let (mut scripts_hidden, mut hints) = (0, 0);
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
        // mdBook's own search is off (it cannot segment Chinese): Pagefind's
        // box replaces it.
        assert!(
            !std::fs::read_dir(&dest).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("searchindex")),
            "{lang}: mdBook's search index was built; book.toml should disable it"
        );
        // print.html runs kubelab.js, which opens every answer for printing.
        let print = std::fs::read_to_string(dest.join("print.html")).unwrap();
        assert!(
            print.contains("src=\"web/kubelab"),
            "{lang}: print.html does not load kubelab.js"
        );
        let toc = std::fs::read_to_string(dest.join("toc.html")).unwrap();
        let numbers = html::toc_numbers(&toc);
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
            // The sidebar numbers the chapter as the lesson is numbered.
            let id = &lesson.front.id;
            let href = rel
                .with_extension("html")
                .to_string_lossy()
                .replace('\\', "/");
            let shown = numbers
                .iter()
                .find(|(h, _)| *h == href)
                .map(|(_, n)| n.as_str());
            assert_eq!(
                shown,
                html::lesson_number(id).as_deref(),
                "{lang}: sidebar number of {href} is not lesson {id}'s"
            );
            // Banner and summary under the title; the page loads kubelab's
            // styles and script.
            let banner = page.find("<div class=\"kubelab-banner\" data-pagefind-ignore=\"\">");
            assert!(
                banner.is_some() && page.contains(&format!("<code>kubelab open {id}</code>")),
                "{where_}: no web-edition banner with `kubelab open {id}`"
            );
            if let Some(summary) = &lesson.front.summary {
                let f = fragment(summary);
                let at = page.find("<p class=\"kubelab-summary\">");
                assert!(
                    at.is_some_and(|a| page[a..].contains(&f) && a < banner.unwrap()),
                    "{where_}: summary {f:?} not under the title"
                );
            }
            for asset in ["href=\"web/kubelab", "src=\"web/kubelab"] {
                assert!(
                    html.contains(asset),
                    "{where_}: kubelab's web assets not linked ({asset})"
                );
            }
            // What a reader sees before opening anything: no answer, no
            // explanation, no hint, no check script.
            let visible = html::without_details(page);
            // The variables only a host check gets; those a learner's
            // shell has (KUBELAB_NODE_DIR, KUBELAB_NAMESPACE,
            // KUBELAB_WORLD_SHARED) appear in run blocks by design.
            for only_checks in [
                "\"$KUBELAB\"",
                "KUBELAB_PID",
                "KUBELAB_CGROUP",
                "KUBELAB_UPPER",
                "KUBELAB_SANDBOX",
                "KUBELAB_LESSON",
            ] {
                assert!(
                    !visible.contains(only_checks),
                    "{where_}: a check script ({only_checks}) is visible"
                );
            }
            if lesson
                .doc
                .checks()
                .iter()
                .any(|c| c.code.contains("KUBELAB"))
            {
                scripts_hidden += 1;
            }
            for q in lesson.doc.quizzes() {
                if let Some(explain) = q.explain.as_deref().filter(|e| !e.trim().is_empty()) {
                    let f = fragment(explain);
                    assert!(page.contains(&f), "{where_}: explanation {f:?} missing");
                    assert!(
                        !visible.contains(&f),
                        "{where_}: quiz explanation {f:?} outside a collapsed element"
                    );
                }
            }
            for c in lesson.doc.checks() {
                if let Some(title) = &c.title {
                    let f = fragment(title);
                    assert!(
                        visible.contains(&f),
                        "{where_}: check title {f:?} not shown"
                    );
                }
            }
            let with_hint = lesson
                .doc
                .checks()
                .iter()
                .filter(|c| c.hint.is_some())
                .count();
            hints += with_hint;
            assert_eq!(
                page.matches("<details class=\"kubelab-hint\" data-pagefind-ignore=\"\">")
                    .count(),
                with_hint,
                "{where_}: every hint collapsed"
            );
            // The run label is a label, not a control.
            for label in page.split("<p class=\"kubelab-run-label\">").skip(1) {
                let label = &label[..label.find("</p>").unwrap_or(label.len())];
                assert!(
                    !label.contains("<a") && !label.contains("<button"),
                    "{where_}: run label looks clickable: {label}"
                );
            }
            if lang == Lang::Zh {
                // Generated labels use full-width punctuation.
                for ascii in [
                    "提示:",
                    "答案:",
                    "检查:",
                    "(沙箱",
                    "(在宿主机",
                    "小测验:",
                    "小测验\\:",
                ] {
                    assert!(!page.contains(ascii), "{where_}: `{ascii}` in a zh label");
                }
                if lesson.doc.checks().iter().any(|c| c.title.is_some()) {
                    assert!(
                        page.contains("kubelab 会检查：</strong>"),
                        "{where_}: zh check label"
                    );
                }
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
                    page.contains("<details class=\"kubelab-quiz-answer\" data-answer="),
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
                    page.contains("<details class=\"kubelab-solution\" data-pagefind-ignore=\"\">"),
                    "{where_}: solution not collapsed"
                );
            }
        }
        if let Some(search) = &search {
            search_checks(search, &dest, lang, &course);
        }
    }
    web_assets_agree(root);
    eprintln!("web book: {lessons} lesson pages checked ({quizzes} with quizzes, {checks} with checks, {solutions} with solutions, {hints} hints collapsed, {scripts_hidden} with $KUBELAB check scripts kept off the page)");
    assert!(
        scripts_hidden > 0 && hints > 0,
        "no check script using $KUBELAB or no hint in the books: the checks above proved nothing"
    );
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

/// Pagefind over the built book: a Chinese query finds lesson 05, and no
/// answer, explanation, hint, solution or banner is in the index.
fn search_checks(
    search: &web_book::search::Search,
    dest: &Path,
    lang: Lang,
    course: &kubelab::course::LoadedCourse,
) {
    search.index(dest);
    let all = search.query(dest, "*");
    let book = course.book(lang).unwrap();
    let pages = book
        .parts
        .iter()
        .flat_map(|p| &p.chapters)
        .filter(|c| c.path.is_some() && c.id.is_some())
        .count();
    assert_eq!(
        all.len(),
        pages,
        "{lang}: indexed {:?}",
        all.iter().map(|h| &h.url).collect::<Vec<_>>()
    );
    if lang == Lang::Zh {
        // mdBook's index found nothing for these: Chinese is not segmented.
        for term in ["进程", "僵尸"] {
            let hits = search.query(dest, term);
            assert!(
                hits.iter().any(|h| h.url == "/05-process.html"),
                "zh search {term:?} does not find lesson 05: {:?}",
                hits.iter().map(|h| &h.url).collect::<Vec<_>>()
            );
        }
    }
    let banner_lead = kubelab::commands::mdbook::Labels::for_language(lang.code()).banner_lead;
    for hit in &all {
        for label in ["Answer: ", "答案：", banner_lead] {
            assert!(
                !hit.content.contains(label),
                "{lang} {}: `{label}` in the search index",
                hit.url
            );
        }
        let Some(lesson) = course.lesson(
            lang,
            hit.url.trim_start_matches('/').trim_end_matches(".html"),
        ) else {
            continue;
        };
        for q in lesson.doc.quizzes() {
            if let Some(explain) = q.explain.as_deref().filter(|e| !e.trim().is_empty()) {
                let f = fragment(explain);
                assert!(
                    !hit.content.contains(&f),
                    "{lang} {}: quiz explanation {f:?} in the search index",
                    hit.url
                );
            }
        }
    }
    // An answer word that appears nowhere but in an explanation is not found.
    if lang == Lang::En {
        for hit in search.query(dest, "acquisition") {
            assert!(
                !hit.excerpt.contains("Answer")
                    && !hit.excerpt.to_lowercase().contains("acquisition"),
                "en search previews an answer: {}",
                hit.excerpt
            );
        }
    }
}

/// Both books carry the same web/kubelab.css and kubelab.js (mdBook copies
/// only files inside a book); the CSS gives `pre` a CJK monospace font first
/// and expands collapsed parts for print.
fn web_assets_agree(root: &Path) {
    for file in ["kubelab.css", "kubelab.js"] {
        let zh = std::fs::read(root.join("lessons/zh/web").join(file)).unwrap();
        let en = std::fs::read(root.join("lessons/en/web").join(file)).unwrap();
        assert!(
            zh == en,
            "lessons/zh/web/{file} and lessons/en/web/{file} differ; keep them the same"
        );
    }
    let css = std::fs::read_to_string(root.join("lessons/zh/web/kubelab.css")).unwrap();
    let pre = &css[css.find("pre, pre > code").expect("a `pre` rule")..];
    let pre = pre[..pre.find('}').unwrap()]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // A CJK monospace for Latin and CJK, the narrow face for box drawing,
    // and Chrome's CJK spacing adjustments off (see the CSS comment).
    for want in [
        "\"kubelab-narrow\", \"Noto Sans Mono CJK SC\"",
        "text-spacing-trim: space-all",
        "text-autospace: no-autospace",
    ] {
        assert!(pre.contains(want), "the `pre` rule lacks {want:?}:\n{pre}");
    }
    assert!(
        css.contains("font-family: \"kubelab-narrow\"")
            && css.contains("unicode-range: U+00B7, U+2010-2027, U+2190-21FF, U+2500-259F"),
        "the narrow box-drawing face is missing"
    );
    let print = &css[css.find("@media print").expect("a print rule")..];
    assert!(
        print.contains("details"),
        "print rule does not expand <details>"
    );
}
