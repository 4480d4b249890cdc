//! Hostile Markdown: deeply nested input must never crash an entry point.
//!
//! Every input is generated here. Each command runs the real binary in a
//! child process, so a stack overflow (an abort) is reported as a failed
//! test, not as a crash of the test harness.

use kubelab::course::model::Lang;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The nested inputs every entry point must survive, as (name, body).
fn nasty_bodies() -> Vec<(&'static str, String)> {
    vec![
        ("quotes", format!("{}x\n", "> ".repeat(10_000))),
        ("lists", format!("{}x\n", "- ".repeat(10_000))),
        ("ordered", format!("{}x\n", "1. ".repeat(5_000))),
        (
            "emphasis",
            format!("{}x{}\n", "*".repeat(10_000), "*".repeat(10_000)),
        ),
        (
            "strong-strike",
            format!("{}x{}\n", "**~~".repeat(3_000), "~~**".repeat(3_000)),
        ),
        (
            "links",
            format!("{}x{}\n", "[".repeat(10_000), "](u)".repeat(10_000)),
        ),
        (
            "images",
            format!("{}x{}\n", "![".repeat(5_000), "](u)".repeat(5_000)),
        ),
        ("quoted-lists", format!("{}x\n", "> - ".repeat(5_000))),
        (
            "check-deep-inside",
            format!(
                "{}\n```sh check id=deep\n# title: deep\ntrue\n```\n",
                "> ".repeat(10_000)
            ),
        ),
    ]
}

/// A one-book course whose only lesson is `00-deep.md` with `body`.
fn course_with(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("en/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        dir.path().join("en/book.toml"),
        "[book]\ntitle = \"Deep\"\nlanguage = \"en\"\n",
    )
    .unwrap();
    std::fs::write(
        src.join("SUMMARY.md"),
        "# Summary\n\n- [Deep](00-deep.md)\n",
    )
    .unwrap();
    std::fs::write(
        src.join("00-deep.md"),
        format!("+++\nid = \"00-deep\"\ntitle = \"Deep\"\n+++\n# Deep\n\n{body}"),
    )
    .unwrap();
    dir
}

fn kubelab(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KUBELAB_COURSE")
        .env("LANG", "en_US.UTF-8")
        .env("XDG_DATA_HOME", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubelab");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait kubelab")
}

/// Fails with the command, the signal/exit code and stderr when the child
/// was killed by a signal (an abort on stack overflow) or said it overflowed.
fn assert_survived(name: &str, what: &str, o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code().is_some() && !err.contains("overflowed its stack"),
        "{what} on the `{name}` lesson crashed ({:?}):\n{err}",
        o.status
    );
}

fn lesson_path(course: &Path) -> PathBuf {
    course.join("en/src/00-deep.md")
}

#[test]
fn lint_survives_and_warns_about_depth() {
    for (name, body) in nasty_bodies() {
        let c = course_with(&body);
        let data = tempfile::tempdir().unwrap();
        let o = kubelab(data.path(), &["lint", c.path().to_str().unwrap()], None);
        assert_survived(name, "kubelab lint", &o);
        if name == "quotes" || name == "lists" {
            let out = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            let path = lesson_path(c.path());
            let expect = format!("{}:7:", path.display());
            assert!(
                out.contains(&expect) && out.contains("nested"),
                "lint must warn at {expect} about nesting:\n{out}"
            );
        }
    }
}

#[test]
fn list_and_progress_export_survive() {
    for (name, body) in nasty_bodies() {
        let c = course_with(&body);
        let data = tempfile::tempdir().unwrap();
        let course = c.path().to_str().unwrap();
        let o = kubelab(data.path(), &["--course", course, "list"], None);
        assert_survived(name, "kubelab list", &o);
        assert!(o.status.success(), "{name}: {o:?}");
        let o = kubelab(
            data.path(),
            &["--course", course, "progress", "export", "--name", "a"],
            None,
        );
        assert_survived(name, "kubelab progress export", &o);
    }
}

#[test]
fn mdbook_preprocessor_survives() {
    for (name, body) in nasty_bodies() {
        let data = tempfile::tempdir().unwrap();
        let input = serde_json::json!([
            {"root": ".", "config": {"book": {"language": "en"}, "preprocessor": {"kubelab": {"before": ["links"]}}}, "renderer": "html", "mdbook_version": "0.4.40"},
            {"items": [{"Chapter": {
                "name": "Deep", "content": format!("# Deep\n\n{body}"),
                "number": null, "sub_items": [], "path": "00-deep.md",
                "source_path": "00-deep.md", "parent_names": []
            }}]}
        ]);
        let o = kubelab(data.path(), &["mdbook"], Some(&input.to_string()));
        assert_survived(name, "kubelab mdbook", &o);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The reader's path: load the lesson, lay it out at several widths. Runs on
/// a thread with a small, known stack (256 KiB), so a recursion on input
/// depth fails here deterministically rather than depending on the
/// harness's stack size.
#[test]
fn reader_layout_survives_on_a_small_stack() {
    for (name, body) in nasty_bodies() {
        let c = course_with(&body);
        let path = lesson_path(c.path());
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let load = kubelab::course::lesson::load_file(&path, Lang::En);
                let lesson = load.lesson.expect("the lesson loads");
                let strings = kubelab::i18n::strings(Lang::En);
                let states = kubelab::render::BlockStates::default();
                let mut lines = 0;
                for width in [8u16, 40, 120] {
                    let r = kubelab::render::render_doc(&lesson.doc, width, &states, strings);
                    lines += r.lines.len();
                }
                let _ = lesson.doc.search_lines();
                let _ = kubelab::render::code_blocks(&lesson.doc);
                lines
            })
            .unwrap()
            .join();
        assert!(r.is_ok(), "{name}: laying out the lesson panicked");
    }
}

/// TOML recursion is bounded by the toml crate; a front matter of nested
/// arrays, inline tables or dotted keys is an error with the file, not a crash.
#[test]
fn deeply_nested_front_matter_is_an_error_not_a_crash() {
    let n = 20_000;
    for (name, toml) in [
        ("arrays", format!("x = {}{}", "[".repeat(n), "]".repeat(n))),
        (
            "tables",
            format!("x = {}1{}", "{a=".repeat(n), "}".repeat(n)),
        ),
        ("dotted", format!("{} = 1", vec!["a"; n].join("."))),
        ("headers", format!("[{}]", vec!["a"; n].join("."))),
    ] {
        let c = course_with("");
        let path = lesson_path(c.path());
        std::fs::write(
            &path,
            format!("+++\nid = \"00-deep\"\ntitle = \"Deep\"\n{toml}\n+++\n# Deep\n"),
        )
        .unwrap();
        let data = tempfile::tempdir().unwrap();
        let o = kubelab(data.path(), &["lint", c.path().to_str().unwrap()], None);
        assert_survived(name, "kubelab lint", &o);
        let out =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(
            out.contains(&format!("{}:", path.display())) && out.contains("error"),
            "{name}: {out}"
        );
    }
}
