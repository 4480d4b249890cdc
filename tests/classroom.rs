//! Progress export (golden files for the documented schema 1) and the class
//! report over a mix of good, other-version, foreign and corrupt files.

use kubelab::classroom::export::{self, Export};
use kubelab::classroom::report;
use kubelab::commands::class::{report_text, ReportArgs};
use kubelab::commands::progress_export::{export_text, Format};
use kubelab::course::model::Lang;
use kubelab::progress::{Progress, QuizAnswer};
use std::path::{Path, PathBuf};

const LESSON_A: &str = r#"+++
id = "01-first"
title = "First steps"
+++

# First steps

## Look

```sh check id=look
# title: looked around
# hint: run ls
true
```

```sh check id=touch
# title: made a file
# hint: touch /tmp/x
test -e /tmp/x
```

```toml quiz
id = "q1"
question = "Which?"
choices = ["this", "that"]
answer = "B"
```
"#;

const LESSON_B: &str = r#"+++
id = "02-second"
title = "Second, with \"quotes\", and commas"
+++

# Second

```sh check id=only
# title: the only check
# hint: nothing to do
true
```
"#;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn course(dir: &Path) {
    write(
        dir,
        "en/book.toml",
        "[book]\ntitle = \"Fixture course\"\nlanguage = \"en\"\nsrc = \"src\"\n\n[preprocessor.kubelab]\ncommand = \"kubelab mdbook\"\ncourse-id = \"fixture-class\"\n",
    );
    write(
        dir,
        "en/src/SUMMARY.md",
        "# Summary\n\n# Module\n\n- [First steps](01-first.md)\n- [Second](02-second.md)\n- [Later]()\n",
    );
    write(dir, "en/src/01-first.md", LESSON_A);
    write(dir, "en/src/02-second.md", LESSON_B);
}

const T0: u64 = 1_795_320_600; // 2026-11-22T04:10:00Z

fn progress() -> Progress {
    let mut p = Progress::default();
    p.set_position("01-first", 10);
    p.complete_check_at("01-first", "touch", T0 + 60);
    p.complete_check_at("01-first", "look", T0);
    p.complete_check_at("02-second", "only", T0 + 120);
    p.complete_check_at("02-second", "removed-check", T0 + 130); // not in the lesson any more
    p.lessons.get_mut("01-first").unwrap().quizzes.insert(
        "q1".into(),
        // As a progress file from before first answers were kept records it.
        QuizAnswer {
            answer: 0,
            correct: false,
            answered_at: T0 + 90,
            first_answer: None,
            attempts: 0,
        },
    );
    p
}

fn export_of(dir: &Path, learner: &str, p: &Progress, format: Format) -> String {
    let loaded = kubelab::course::load(dir).unwrap();
    export_text(dir, &loaded, Lang::En, p, learner, format, T0 + 600).unwrap()
}

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it. The kubelab
/// version is replaced by `<version>` so a release bump does not break it.
fn golden(name: &str, actual: &str) {
    let actual = actual.replace(env!("CARGO_PKG_VERSION"), "<version>");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/classroom")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs from the output",
        path.display()
    );
}

#[test]
fn export_json_matches_schema_1_golden() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path());
    let json = export_of(dir.path(), "alice", &progress(), Format::Json);
    golden("export-v1.json", &json);

    // And it reads back as schema 1 with the documented meaning.
    let e: Export = serde_json::from_str(&json).unwrap();
    assert_eq!(e.schema, 1);
    assert_eq!(e.kind, "kubelab-progress");
    assert_eq!(e.course.id, "fixture-class");
    assert!(e.course.content_hash.starts_with("sha256:"));
    assert_eq!(e.lessons.len(), 2, "drafts are not lessons");
    let first = &e.lessons[0];
    assert_eq!(
        (first.checks_total, first.checks_passed.len(), first.done),
        (2, 2, true)
    );
    assert_eq!(
        first.checks_passed[0].id, "look",
        "lesson order, not completion order"
    );
    assert_eq!(first.quiz_answers[0].answer, "A");
    assert!(!first.quiz_answers[0].correct);
    assert_eq!(
        e.lessons[1].checks_passed.len(),
        1,
        "unknown check ids are not exported"
    );
}

#[test]
fn export_csv_golden() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path());
    let csv = export_of(dir.path(), "alice, the \"first\"", &progress(), Format::Csv);
    golden("export-v1.csv", &csv);
    assert!(csv.starts_with(export::CSV_HEADER));
}

#[test]
fn content_hash_follows_lesson_edits() {
    let dir = tempfile::tempdir().unwrap();
    course(dir.path());
    let p = progress();
    let a: Export = serde_json::from_str(&export_of(dir.path(), "a", &p, Format::Json)).unwrap();
    write(
        dir.path(),
        "en/src/02-second.md",
        &LESSON_B.replace("# Second", "# Second, edited"),
    );
    let b: Export = serde_json::from_str(&export_of(dir.path(), "a", &p, Format::Json)).unwrap();
    assert_ne!(a.course.content_hash, b.course.content_hash);
    assert_eq!(a.course.id, b.course.id);
}

#[test]
fn report_merges_good_flags_other_versions_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("course");
    course(&c);
    let out = dir.path().join("exports");
    std::fs::create_dir_all(&out).unwrap();

    // alice: everything of lesson 1, lesson 2 done.
    let alice = export_of(&c, "alice", &progress(), Format::Json);
    std::fs::write(out.join("alice.json"), &alice).unwrap();
    // bob: one check only, and the quiz answered right after a wrong try.
    let mut p = Progress::default();
    p.complete_check_at("01-first", "look", T0);
    let mut bob = p.clone();
    let (wrong, right) = (0, 1);
    bob.answer_quiz("01-first", "q1", wrong, false);
    bob.answer_quiz("01-first", "q1", right, true);
    std::fs::write(
        out.join("bob.json"),
        export_of(&c, "bob", &bob, Format::Json),
    )
    .unwrap();
    // carol: same course, edited content (another version).
    let mut e: Export = serde_json::from_str(&export_of(&c, "carol", &p, Format::Json)).unwrap();
    e.course.content_hash =
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into();
    std::fs::write(out.join("carol.json"), serde_json::to_string(&e).unwrap()).unwrap();
    // dave: another course altogether.
    e.learner = "dave".into();
    e.course.id = "other-course".into();
    std::fs::write(out.join("dave.json"), serde_json::to_string(&e).unwrap()).unwrap();
    // Corrupt: cut in half. Foreign: some other JSON. Future schema. Missing.
    std::fs::write(out.join("corrupt.json"), &alice[..alice.len() / 2]).unwrap();
    std::fs::write(out.join("package.json"), "{\"name\": \"not-an-export\"}").unwrap();
    std::fs::write(
        out.join("future.json"),
        alice.replace("\"schema\": 1", "\"schema\": 2"),
    )
    .unwrap();
    std::fs::write(
        out.join("wrongshape.json"),
        alice.replace("\"checks_total\": 2", "\"checks_total\": \"two\""),
    )
    .unwrap();
    let names = [
        "alice",
        "bob",
        "carol",
        "dave",
        "corrupt",
        "package",
        "future",
        "wrongshape",
        "missing",
    ];
    let files: Vec<PathBuf> = names
        .iter()
        .map(|n| out.join(format!("{n}.json")))
        .collect();

    let roster = report::build(&files, None);
    let md = report::markdown(&roster);
    assert!(
        md.starts_with("# Class report: fixture-class (sha256:"),
        "{md}"
    );
    assert!(
        md.contains("| Learner | Lessons done | 01-first | 02-second | Quizzes right | Note |"),
        "{md}"
    );
    assert!(md.contains("| alice | 2/2 | 2/2 | 1/1 | 0/1 | |"), "{md}");
    assert!(
        md.contains("| bob | 0/2 | 1/2 | 0/1 | 1/1 (0 first try) | |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| carol | 0/2 | 1/2 | 0/1 | 0/1 | ⚠ other course version (sha256:0123456789ab…"
        ),
        "{md}"
    );
    assert!(!md.contains("| dave"), "{md}");
    let skipped = |name: &str| {
        roster
            .skipped
            .iter()
            .find(|s| s.file.ends_with(format!("{name}.json")))
            .unwrap_or_else(|| panic!("{name} not skipped: {md}"))
            .reason
            .clone()
    };
    assert!(skipped("dave").contains("other-course"));
    assert!(skipped("corrupt").contains("not valid JSON"));
    assert!(skipped("package").contains("not a kubelab progress export"));
    assert!(skipped("future").contains("schema 2 is newer"));
    assert!(skipped("wrongshape").contains("corrupt export"));
    assert!(skipped("missing").contains("cannot read"));
    assert_eq!(roster.skipped.len(), 6);
    for n in [
        "dave",
        "corrupt",
        "package",
        "future",
        "wrongshape",
        "missing",
    ] {
        assert!(
            md.contains(&format!("{n}.json`: ")),
            "{n} not named in the report: {md}"
        );
    }

    // CSV form, and the command's exit code.
    let csv = report::csv(&roster);
    assert!(csv.starts_with("learner,file,lesson,checks_passed,checks_total,done,other_version\n"));
    assert!(
        csv.contains(&format!(
            "alice,{},01-first,2,2,true,false\n",
            out.join("alice.json").display()
        )),
        "{csv}"
    );
    assert!(
        csv.contains("carol,") && csv.contains(",1,2,false,true\n"),
        "{csv}"
    );
    let args = ReportArgs {
        files: files.clone(),
        csv: false,
    };
    let (text, code) = report_text(&args, None).unwrap();
    assert_eq!(code, 0);
    assert_eq!(text, md);

    // Against the course itself (--course): the same verdicts.
    let (text, _) = report_text(&args, Some(&c)).unwrap();
    assert!(
        text.contains("| carol |") && text.contains("⚠ other course version"),
        "{text}"
    );

    // Nothing usable: exit code 2, files still named.
    let args = ReportArgs {
        files: files[4..].to_vec(),
        csv: true,
    };
    let (_, code) = report_text(&args, None).unwrap();
    assert_eq!(code, 2);
}

/// The subcommands through the real binary: progress saved by the store,
/// `kubelab progress export`, then `kubelab class report`.
#[test]
fn binary_export_then_report() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("course");
    course(&c);
    let data = dir.path().join("data");
    let key = kubelab::progress::course_key(&c, false);
    let mut store = kubelab::progress::Store::open(&data, &key).unwrap().store;
    store.progress = progress();
    store.save().unwrap();

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .arg("--course")
            .arg(&c)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env_remove("KUBELAB_LOCK")
            .env("USER", "from-env")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, json, err) = run(&["--lang", "en", "progress", "export"]);
    assert_eq!(code, Some(0), "{err}");
    let e: Export = serde_json::from_str(&json).unwrap();
    assert_eq!(e.learner, "from-env", "default name is $USER");
    assert!(e.lessons[0].done);
    let (code, csv, err) = run(&["progress", "export", "--format", "csv", "--name", "Al"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,Al,fixture-class,"),
        "{csv}"
    );

    let file = dir.path().join("al.json");
    std::fs::write(&file, &json).unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "garbage").unwrap();
    let (code, md, err) = run(&[
        "class",
        "report",
        file.to_str().unwrap(),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        md.contains("| from-env | 2/2 | 2/2 | 1/1 | 0/1 | |"),
        "{md}"
    );
    assert!(
        err.contains("skipped") && err.contains("junk.json"),
        "{err}"
    );
}
