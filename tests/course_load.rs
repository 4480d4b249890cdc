//! The course loader on fixture courses: good, broken in every way the
//! reader must survive, and generated ones (5 MB lesson).

use kubelab::course::{self, model::Lang, EntryState, Slot};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/courses")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[test]
fn good_course_loads_both_books() {
    let c = course::load(&fixture("good")).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
    assert_eq!(c.course.books.len(), 2);
    let zh = c.book(Lang::Zh).unwrap();
    assert_eq!(zh.title, "测试课程");
    assert_eq!(zh.parts.len(), 2);
    assert_eq!(zh.parts[0].title.as_deref(), Some("第一模块"));
    assert_eq!(c.lessons.len(), 4);
    let l = c.lesson(Lang::En, "01-pid").unwrap();
    assert_eq!(l.front.title, "Processes");
    assert_eq!(l.doc.checks()[0].id, "pid-ns");
    assert_eq!(l.doc.checks()[0].line, 20);
    assert_eq!(c.slot(Lang::Zh, 1, 0), Some(Slot::Draft));
    assert_eq!(c.lesson_ids(), vec!["00-intro", "01-pid"]);

    let o = c.outline(Lang::Zh);
    let states: Vec<_> = o.entries().map(|e| (e.title.as_str(), e.state)).collect();
    assert!(matches!(
        states[0],
        (
            "开始",
            EntryState::Lesson {
                lang: Lang::Zh,
                fallback: false,
                ..
            }
        )
    ));
    assert_eq!(states[2], ("未写", EntryState::Draft));
    assert_eq!(o.find("01-pid").unwrap().summary_line, 6);

    let p = c.book(Lang::Zh).unwrap().dir.join("src/01-pid.md");
    assert!(matches!(c.lesson_at(&p), Some(Ok(l)) if l.front.id == "01-pid"));
}

#[test]
fn search_finds_text_with_file_lines() {
    let c = course::load(&fixture("good")).unwrap();
    let idx = c.search_index(Lang::Zh);
    assert_eq!(idx.len(), 2);
    let hits = idx.find("特殊", 10);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].lesson_id.as_str(), hits[0].line), ("00-intro", 7));
    let hits = idx.find("UNSHARE", 10);
    assert!(hits.iter().all(|h| h.lesson_id == "01-pid"));
    assert!(hits.iter().any(|h| h.line == 17), "{hits:?}");
    assert!(idx.find("  ", 10).is_empty());
    assert_eq!(idx.find("e", 3).len(), 3);
}

#[test]
fn broken_course_still_loads_the_rest() {
    let c = course::load(&fixture("broken")).unwrap();
    assert!(c.lesson(Lang::Zh, "00-good").is_some());
    let errs: Vec<String> = c.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 4, "{errs:#?}");
    // broken front matter: the unknown field, with its line
    assert!(errs[0].ends_with("01-bad-front.md:4:1: front matter: unknown field `colour`, expected one of `schema`, `id`, `title`, `summary`, `sandboxes`, `panes`, `requires`")
        || (errs[0].contains("01-bad-front.md:4:1:") && errs[0].contains("colour")), "{}", errs[0]);
    // missing SUMMARY target: points at the SUMMARY line
    assert!(
        errs[1].contains("SUMMARY.md:7:1:") && errs[1].contains("02-missing.md"),
        "{}",
        errs[1]
    );
    // invalid UTF-8: line 5, after "caf"
    assert!(
        errs[2].contains("03-latin1.md:5:6:") && errs[2].contains("UTF-8"),
        "{}",
        errs[2]
    );
    // unknown fence attribute
    assert!(
        errs[3].contains("04-bad-attr.md:7:11:") && errs[3].contains("speed"),
        "{}",
        errs[3]
    );

    let o = c.outline(Lang::Zh);
    let states: Vec<_> = o.entries().map(|e| e.state).collect();
    assert!(matches!(states[1], EntryState::Error { index: 0 }));
    assert!(matches!(states[2], EntryState::Error { index: 1 }));
    // zh draft at the position of the English-only lesson falls back to it
    assert!(
        matches!(
            states[5],
            EntryState::Lesson {
                lang: Lang::En,
                fallback: true,
                ..
            }
        ),
        "{states:?}"
    );
    assert_eq!(
        o.entries().nth(5).unwrap().id.as_deref(),
        Some("05-en-only")
    );
    assert_eq!(
        c.lesson_or_fallback(Lang::Zh, "05-en-only")
            .map(|(l, f)| (l.lang, f)),
        Some((Lang::En, true))
    );
}

#[test]
fn five_megabyte_lesson_is_refused_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("good"), dir.path());
    let src = dir.path().join("lessons/en/src");
    let mut big = String::from("+++\nid = \"02-big\"\ntitle = \"Big\"\n+++\n");
    while big.len() < 5 * 1024 * 1024 {
        big.push_str("A paragraph that repeats. 一段重复的文字。\n\n");
    }
    std::fs::write(src.join("02-big.md"), big).unwrap();
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    std::fs::write(
        src.join("SUMMARY.md"),
        summary.replace("- [Unwritten]()", "- [Big](02-big.md)"),
    )
    .unwrap();
    // Refused by its size before parsing: the error names the size limit.
    let c = course::load(dir.path()).unwrap();
    assert_eq!(c.errors.len(), 1);
    let e = &c.errors[0];
    assert!(e.path.ends_with("02-big.md"));
    assert!(e.message.contains("MiB"), "{}", e.message);
    assert_eq!(c.lessons.len(), 4);
}

#[test]
fn missing_course_and_one_language_course() {
    let dir = tempfile::tempdir().unwrap();
    let e = course::load(dir.path()).unwrap_err();
    assert!(e.to_string().contains("no course here"), "{e}");

    copy_dir(&fixture("good/lessons/en"), &dir.path().join("en"));
    let c = course::load(dir.path()).unwrap();
    assert_eq!(c.course.books.len(), 1);
    // Asking for Chinese shows the English book, flagged as fallback.
    let o = c.outline(Lang::Zh);
    assert_eq!(o.lang, Lang::En);
    assert!(matches!(
        o.entries().next().unwrap().state,
        EntryState::Lesson { fallback: true, .. }
    ));
}

#[test]
fn missing_summary_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("good"), dir.path());
    std::fs::remove_file(dir.path().join("lessons/zh/src/SUMMARY.md")).unwrap();
    let c = course::load(dir.path()).unwrap();
    assert_eq!(c.course.books.len(), 1);
    assert!(c.errors[0].message.contains("SUMMARY.md"), "{:?}", c.errors);
}

#[test]
fn a_single_book_directory_is_a_course() {
    let c = course::load(&fixture("good/lessons/en")).unwrap();
    assert_eq!(c.course.books.len(), 1);
    assert_eq!(c.course.books[0].lang, Lang::En);
    assert_eq!(c.lessons.len(), 2);
}
