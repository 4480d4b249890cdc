//! Lessons name panes as the UI labels them, never by place: at 80×24 the
//! panes sit below the lesson, so "the shell on the right" points nowhere,
//! and the Chinese UI says 「进程」, not "processes".

use std::path::Path;

fn lesson_files(lang: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(lang)
        .join("src");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "md") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    assert!(out.len() > 5, "lessons found in {}", dir.display());
    out
}

fn offenders(lang: &str, bad: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in lesson_files(lang) {
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_lowercase();
            for b in bad {
                if lower.contains(b) {
                    found.push(format!("{path}:{}: {b:?} in {line}", n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn chinese_lessons_name_panes_by_their_chinese_labels_not_by_place() {
    let found = offenders(
        "zh",
        &[
            "右边的",
            "左边的",
            "右侧的",
            "左侧的",
            "右边是",
            "左边是",
            "processes 面板",
            "namespaces 面板",
            "filesystem 面板",
            "network 面板",
            "shell 面板",
            "processes** 面板",
            "namespaces** 面板",
            "filesystem** 面板",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn english_lessons_name_panes_without_a_place() {
    let found = offenders(
        "en",
        &[
            "on the right",
            "on the left",
            "right-hand",
            "left-hand",
            "pane below",
            "pane above",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
