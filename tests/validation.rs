//! Input validation: control characters in lesson files and SUMMARY.md are
//! lint errors with file:line:col, and `kubelab new` refuses a title, module
//! or id that would break SUMMARY.md.

use std::path::Path;
use std::process::{Command, Output};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn course(root: &Path, lesson: &str) {
    write(
        root,
        "en/book.toml",
        "[book]\ntitle = \"V\"\nlanguage = \"en\"\n",
    );
    write(root, "en/src/SUMMARY.md", "# Summary\n\n- [A](00-a.md)\n");
    write(root, "en/src/00-a.md", lesson);
}

fn kubelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(args)
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("KUBELAB_LOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

const LESSON: &str = "+++\nid = \"00-a\"\ntitle = \"A\"\n[sandboxes.main]\nrootfs = \"host\"\n+++\n# A\n\n```sh check id=c\n# hint: h\ntest -e /tmp/x\u{0}y\n```\n\nText\u{1b}[2J here.\r\nCRLF and\ttabs are fine.\r\n";

#[test]
fn nul_and_other_controls_in_a_lesson_are_lint_errors_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), LESSON);
    let o = kubelab(&["lint", dir.path().to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let file = dir.path().join("en/src/00-a.md");
    for want in [
        format!("{}:11:15: error: control character ^@", file.display()),
        format!("{}:14:5: error: control character ^[", file.display()),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
    // Exactly those two: the CRLF ends and the tab are not errors.
    assert_eq!(out.matches("control character").count(), 2, "{out}");
}

#[test]
fn controls_in_summary_are_lint_errors() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), &LESSON.replace(['\u{0}', '\u{1b}'], ""));
    write(
        dir.path(),
        "en/src/SUMMARY.md",
        "# Summary\n\n- [A\u{1b}]52;c;aGk=\u{7}](00-a.md)\n",
    );
    let o = kubelab(&["lint", dir.path().to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    let want = format!(
        "{}:3:5: error: control character ^[",
        dir.path().join("en/src/SUMMARY.md").display()
    );
    assert!(out.contains(&want), "missing {want:?} in:\n{out}");
}

#[test]
fn new_refuses_titles_modules_and_ids_that_break_the_outline() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path(), &LESSON.replace(['\u{0}', '\u{1b}'], ""));
    let summary = dir.path().join("en/src/SUMMARY.md");
    let before = std::fs::read_to_string(&summary).unwrap();
    let c = dir.path().to_str().unwrap();
    let long_id = format!("01-{}", "a".repeat(80));
    let long_title = "t".repeat(300);
    for (args, want) in [
        (
            vec!["new", "01-b", "--title", "Two\nlines"],
            "--title: has a line break (^J) at character 4",
        ),
        (
            vec!["new", "01-b", "--title", "Bad\u{1b}]52;c;aGk=\u{7}"],
            "--title: has a control character (^[) at character 4",
        ),
        (
            vec!["new", "01-b", "--title", "Ok", "--part", "M\r\n# Injected"],
            "--part: has a line break (^M) at character 2",
        ),
        (
            vec!["new", "01-b", "--title", &long_title],
            "--title: is 300 characters long; keep it under 200",
        ),
        (vec!["new", &long_id, "--title", "Ok"], "at most 64"),
    ] {
        let mut full = vec!["--course", c, "--lang", "en"];
        full.extend(args.iter().copied());
        full.push("--single");
        let o = kubelab(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
        assert_eq!(std::fs::read_to_string(&summary).unwrap(), before);
        assert!(!dir.path().join("en/src/01-b.md").exists());
    }
}
