//! `kubelab new` on a copy of the shipped course: the scaffold lands in the
//! right SUMMARY slot of both books and the course still passes
//! `kubelab lint` with nothing said about the new lesson.

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "book" {
                copy_dir(&e.path(), &dest);
            }
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn kubelab(args: &[&str], course: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(args)
        .arg("--course")
        .arg(course)
        .env_remove("KUBELAB_COURSE")
        .env_remove("KUBELAB_LOCK")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn scaffold_passes_lint_and_fills_the_outline_slot() {
    let tmp = tempfile::tempdir().unwrap();
    let course = tmp.path().join("course");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"),
        &course.join("lessons"),
    );

    // Every outline entry of the shipped course is a lesson now: free one
    // slot in both books, as an author does before writing a lesson anew
    // (its entry back to a draft `[Title]()`, its files gone).
    for lang in ["en", "zh"] {
        let summary = course.join(format!("lessons/{lang}/src/SUMMARY.md"));
        let text = std::fs::read_to_string(&summary).unwrap();
        let line = text
            .lines()
            .filter(|l| l.starts_with("- ["))
            .nth(19)
            .expect("the outline has a 20th entry")
            .to_owned();
        let (title, link) = line.split_once("](").expect("an entry is [Title](file)");
        let file = link.trim_end_matches(')');
        if !file.is_empty() {
            std::fs::remove_file(course.join(format!("lessons/{lang}/src/{file}"))).unwrap();
        }
        std::fs::write(&summary, text.replacen(&line, &format!("{title}]()"), 1)).unwrap();
    }

    // The shipped course lints clean in CI; while lessons are being written it
    // may not, so compare with its state before `kubelab new`.
    let (lint_before, out_before, _) = kubelab(&["lint"], &course);
    let errors = |out: &str| out.lines().filter(|l| l.contains(": error: ")).count();

    // The first outline slot that is a draft in both books (entry N of the
    // SUMMARY is lesson NN, as in the course outline).
    let entries = |lang: &str| -> Vec<String> {
        std::fs::read_to_string(course.join(format!("lessons/{lang}/src/SUMMARY.md")))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("- ["))
            .map(str::to_owned)
            .collect()
    };
    let (en, zh) = (entries("en"), entries("zh"));
    let slot = (0..en.len().min(zh.len()).min(57))
        .find(|&i| en[i].ends_with("]()") && zh[i].ends_with("]()"))
        .expect("no draft slot left in the outline");
    let id = format!("{slot:02}-scaffold");
    let title = |line: &str| line["- [".len()..line.len() - "]()".len()].to_owned();
    let (en_title, zh_title) = (title(&en[slot]), title(&zh[slot]));

    let en_summary = course.join("lessons/en/src/SUMMARY.md");
    let before = std::fs::read_to_string(&en_summary).unwrap();
    // One command creates both languages; zh is titled from its own outline.
    let (code, out, err) = kubelab(&["new", &id, "--title", &en_title, "--lang", "en"], &course);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("filled in the draft entry").count(), 2, "{out}");

    let after = std::fs::read_to_string(&en_summary).unwrap();
    assert!(
        after.contains(&format!("- [{en_title}]({id}.md)")),
        "{after}"
    );
    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "a draft was replaced, not added"
    );
    assert_eq!(
        entries("en")[slot],
        format!("- [{en_title}]({id}.md)"),
        "not in slot {slot}"
    );
    assert_eq!(
        entries("zh")[slot],
        format!("- [{zh_title}]({id}.md)"),
        "not in slot {slot}"
    );

    // A lesson of the class's own, in a new module.
    let (code, out, err) = kubelab(
        &[
            "new",
            "class-extra",
            "--title",
            "Our lab",
            "--part",
            "Class extras",
            "--lang",
            "zh",
        ],
        &course,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("new module").count(), 2, "{out}");

    // Lint: clean (no new errors), and not a word about the new lessons.
    let (code, out, err) = kubelab(&["lint"], &course);
    if lint_before == 0 {
        assert_eq!(code, 0, "lint failed after kubelab new:\n{out}{err}");
    } else {
        eprintln!(
            "note: the shipped course has lint errors of its own; checking for new ones only"
        );
        assert!(
            errors(&out) <= errors(&out_before),
            "kubelab new added lint errors:\n{out}"
        );
    }
    for name in [format!("{id}.md"), "class-extra.md".to_owned()] {
        assert!(
            !out.contains(&name) && !err.contains(&name),
            "lint mentions {name}:\n{out}{err}"
        );
    }

    // The scaffold loads with one block of each kind.
    let loaded = kubelab::course::load(&course).unwrap();
    let lesson = loaded
        .lesson(kubelab::course::model::Lang::En, &id)
        .unwrap();
    assert_eq!(lesson.front.title, en_title);
    let zh_lesson = loaded
        .lesson(kubelab::course::model::Lang::Zh, &id)
        .unwrap();
    assert_eq!(zh_lesson.front.title, zh_title);
    assert_eq!(lesson.doc.interactives().len(), 4);
    assert_eq!(
        lesson.doc.checks()[0]
            .hint
            .as_deref()
            .map(|h| h.contains("/tmp/hello.txt")),
        Some(true)
    );

    // The scaffold's lab is real: the check fails fresh and passes after the
    // solution (kubelab test runs real sandboxes; hosts that cannot are skipped).
    let (code, out, err) = kubelab(&["test", &id], &course);
    if out.contains("0 passed, 0 failed, 2 skipped") {
        eprintln!("SKIP: kubelab test cannot run sandboxes here:\n{out}{err}");
    } else {
        assert_eq!(code, 0, "kubelab test {id}:\n{out}{err}");
        assert!(out.contains("2 passed, 0 failed"), "{out}{err}");
    }

    // Never overwrites.
    let file = course.join(format!("lessons/en/src/{id}.md"));
    std::fs::write(&file, "my work").unwrap();
    let (code, _, err) = kubelab(&["new", &id, "--title", "again", "--lang", "en"], &course);
    assert_eq!(code, 1);
    let (code, _, _) = kubelab(
        &["new", &id, "--title", "again", "--lang", "zh", "--single"],
        &course,
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "my work");
}

#[test]
fn new_course_in_an_empty_or_missing_folder_passes_lint_and_test() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (dir, lang) in [(tmp.path().join("not-yet/course"), "en"), (empty, "zh")] {
        let (code, out, err) = kubelab(&["new", "--lang", lang], &dir);
        assert_eq!(code, 0, "{out}{err}");
        // The hint names the course just made, not the built-in one.
        let flag = format!("--course {}", dir.display());
        assert!(out.contains(&format!("`kubelab {flag} lint`")), "{out}");
        assert!(
            out.contains(&format!("created a new course in {}", dir.display())),
            "{out}"
        );
        for book in ["zh", "en"] {
            assert!(
                dir.join(book).join("src/01-first-lab.md").is_file(),
                "{out}"
            );
        }
        let (code, out, err) = kubelab(&["lint"], &dir);
        assert_eq!(code, 0, "lint of the new course:\n{out}{err}");
        assert!(
            format!("{out}{err}").contains("0 errors, 0 warnings"),
            "{out}{err}"
        );
        let (code, out, err) = kubelab(&["test"], &dir);
        if out.contains("0 passed, 0 failed, 2 skipped") {
            eprintln!("SKIP: kubelab test cannot run sandboxes here:\n{out}{err}");
        } else {
            assert_eq!(code, 0, "kubelab test of the new course:\n{out}{err}");
            assert!(out.contains("2 passed, 0 failed"), "{out}{err}");
        }
    }
    // A folder with other things in it is not made a course.
    let busy = tmp.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let (code, _, err) = kubelab(&["new"], &busy);
    assert_ne!(code, 0);
    assert!(err.contains("--title"), "{err}");
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
}
