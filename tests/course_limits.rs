//! Documented size limits (lessons/README.md, "Limits"): going over each one
//! is an error naming the file and the limit, never a stall or a huge
//! allocation.

use kubelab::course::{self, limits};
use std::path::Path;

/// A one-book course with `summary` and lessons given as (file, text).
fn course(summary: &str, lessons: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("en/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        dir.path().join("en/book.toml"),
        "[book]\ntitle = \"Limits\"\nlanguage = \"en\"\n",
    )
    .unwrap();
    std::fs::write(src.join("SUMMARY.md"), summary).unwrap();
    for (name, text) in lessons {
        std::fs::write(src.join(name), text).unwrap();
    }
    dir
}

fn lesson(id: &str, body: &str) -> String {
    format!("+++\nid = \"{id}\"\ntitle = \"T\"\n[sandboxes.main]\nrootfs = \"host\"\n+++\n# T\n\n{body}")
}

/// Every diagnostic of the course as `file:line: message` lines.
fn diagnostics(dir: &Path) -> String {
    let c = course::load(dir).unwrap();
    c.diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.path.display(), d.line, d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_oversized_summary_is_refused_without_reading_it_all() {
    let big = format!(
        "# Summary\n\n{}",
        "- [x]()\n".repeat(limits::MAX_SUMMARY_BYTES as usize / 8 + 1)
    );
    let c = course(&big, &[]);
    let summary = c.path().join("en/src/SUMMARY.md");
    let Err(err) = course::load(c.path()) else {
        panic!("no book loads");
    };
    assert!(
        err.message.contains(&summary.display().to_string())
            && err.message.contains("limit is 256 KiB"),
        "{}",
        err.message
    );
}

#[test]
fn too_many_chapters_is_an_error_at_the_first_one_over() {
    let n = limits::MAX_CHAPTERS_PER_BOOK;
    let summary = format!("# Summary\n\n{}", "- [Draft]()\n".repeat(n + 5));
    let c = course(&summary, &[]);
    let d = diagnostics(c.path());
    let at = format!("SUMMARY.md:{}: a book may list at most {n} chapters", n + 3);
    assert!(d.contains(&at), "{d}");
    let loaded = course::load(c.path()).unwrap();
    let chapters: usize = loaded.course.books[0]
        .parts
        .iter()
        .map(|p| p.chapters.len())
        .sum();
    assert_eq!(chapters, n);
}

#[test]
fn oversized_front_matter_and_book_toml_are_errors() {
    let pad = format!("# {}\n", "x".repeat(limits::MAX_FRONT_MATTER_BYTES));
    let text = format!("+++\nid = \"00-a\"\ntitle = \"T\"\n{pad}+++\n# T\n");
    let c = course("# Summary\n\n- [A](00-a.md)\n", &[("00-a.md", text)]);
    let d = diagnostics(c.path());
    assert!(d.contains("00-a.md:2: the front matter is"), "{d}");
    assert!(d.contains("the limit is 16 KiB"), "{d}");

    std::fs::write(
        c.path().join("en/book.toml"),
        format!(
            "[book]\ntitle = \"T\"\n# {}\n",
            "x".repeat(limits::MAX_BOOK_TOML_BYTES as usize)
        ),
    )
    .unwrap();
    let d = diagnostics(c.path());
    assert!(
        d.contains("book.toml:0: book.toml is larger than") && d.contains("limit is 64 KiB"),
        "{d}"
    );
}

#[test]
fn too_many_checks_or_code_blocks_in_a_lesson_is_an_error_with_its_line() {
    let n = limits::MAX_CHECKS_PER_LESSON;
    let checks: String = (0..=n)
        .map(|i| format!("```sh check id=c{i}\n# hint: h\ntrue\n```\n\n"))
        .collect();
    let c = course(
        "# Summary\n\n- [A](00-a.md)\n",
        &[("00-a.md", lesson("00-a", &checks))],
    );
    let d = diagnostics(c.path());
    // Body starts on line 9; each check takes 5 lines.
    let line = 9 + 5 * n;
    assert!(
        d.contains(&format!(
            "00-a.md:{line}: this lesson has more than {n} checks"
        )),
        "{d}"
    );

    let n = limits::MAX_CODE_BLOCKS_PER_LESSON;
    let blocks = "```\nx\n```\n".repeat(n + 1);
    let c = course(
        "# Summary\n\n- [A](00-a.md)\n",
        &[("00-a.md", lesson("00-a", &blocks))],
    );
    let d = diagnostics(c.path());
    let line = 9 + 3 * n;
    assert!(
        d.contains(&format!(
            "00-a.md:{line}: this lesson has more than {n} code blocks"
        )),
        "{d}"
    );
}

#[test]
fn the_mdbook_preprocessor_refuses_an_oversized_chapter() {
    let big = "x".repeat(limits::MAX_LESSON_BYTES as usize + 1);
    let labels = kubelab::commands::mdbook::Labels::EN;
    let e = kubelab::commands::mdbook::convert_chapter(&big, "big.md", &labels).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("big.md: ") && msg.contains("under 2 MiB"),
        "{msg}"
    );
}

#[test]
fn an_oversized_export_is_skipped_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.json");
    let f = std::fs::File::create(&p).unwrap();
    // Sparse: the size without the disk use.
    f.set_len(kubelab::classroom::report::MAX_EXPORT_BYTES * 4)
        .unwrap();
    let e = kubelab::classroom::report::read_export(&p).unwrap_err();
    assert!(e.contains("larger than 4 MiB"), "{e}");
}
