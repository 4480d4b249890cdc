//! Control characters from a course, a progress export or a learner's name
//! never reach the terminal raw: every CLI surface is run on input carrying
//! an OSC 52 clipboard write, a screen clear, a C1 CSI and a carriage
//! return, and its output is checked byte by byte.

use std::path::Path;
use std::process::Command;

/// OSC 52 (clipboard), CSI 2J (clear), C1 CSI, CR, BEL, NUL.
const NASTY: &str = "x\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{9b}31m\ry\0";
/// The same as TOML escapes (front matter strings cannot hold raw controls).
const NASTY_TOML: &str = r"x\u001b]52;c;aGk=\u0007\u001b[2J\u009b31m\ry";

/// The first control character in `bytes` other than `\n` and `\t`, if any.
fn raw_control(bytes: &[u8]) -> Option<(usize, char)> {
    String::from_utf8_lossy(bytes)
        .char_indices()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
}

fn assert_clean(what: &str, out: &std::process::Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some((at, c)) = raw_control(bytes) {
            panic!(
                "{what}: raw control {c:?} at byte {at} of {stream}:\n{}",
                String::from_utf8_lossy(bytes).escape_debug()
            );
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A course whose module and chapter titles, lesson title, text, check
/// script and a broken lesson's error message all carry NASTY.
fn nasty_course(root: &Path) {
    // SUMMARY link titles escape brackets to keep them inside the title.
    let t = NASTY.replace('[', "\\[").replace(']', "\\]");
    write(
        root,
        "en/book.toml",
        "[book]\ntitle = \"Nasty\"\nlanguage = \"en\"\n",
    );
    write(
        root,
        "en/src/SUMMARY.md",
        &format!(
            "# Summary\n\n# Module {NASTY}\n\n- [Title {t}](00-a.md)\n- [Broken](01-b.md)\n- [Raw](02-c.md)\n- [Draft {t}]()\n"
        ),
    );
    write(
        root,
        "en/src/00-a.md",
        &format!(
            "+++\nid = \"00-a\"\ntitle = \"{NASTY_TOML}\"\n[sandboxes.main]\nrootfs = \"host\"\n+++\n# A\n\nText\n\n```sh check id=c\n# title: t\n# hint: h\ntrue\n```\n"
        ),
    );
    // Raw controls in the file: a load error (lint lists each line).
    write(
        root,
        "en/src/02-c.md",
        &format!(
            "+++\nid = \"02-c\"\ntitle = \"C\"\n[sandboxes.main]\nrootfs = \"host\"\n+++\n# C {NASTY}\n\nText {NASTY}\n\n```sh check id=c\n# title: {NASTY}\n# hint: {NASTY}\ntrue\n```\n"
        ),
    );
    // An error whose message quotes course text (an unknown attribute).
    write(
        root,
        "en/src/01-b.md",
        &format!(
            "+++\nid = \"01-b\"\ntitle = \"B\"\n[sandboxes.main]\nrootfs = \"host\"\n+++\n# B\n\n```sh check id=c bad{NASTY}=1\ntrue\n```\n"
        ),
    );
}

fn kubelab(course: &Path, data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .arg("--course")
        .arg(course)
        .arg("--data-dir")
        .arg(data)
        .arg("--lang")
        .arg("en")
        .args(args)
        .env_remove("KUBELAB_LOCK")
        .env("USER", "learner")
        .output()
        .unwrap()
}

#[test]
fn lint_list_and_progress_print_no_raw_controls() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("course");
    nasty_course(&c);
    let data = dir.path().join("data");
    for args in [
        vec!["lint", c.to_str().unwrap()],
        vec!["list"],
        vec!["list", "--json"],
        vec!["progress"],
        vec!["progress", "export"],
        vec!["progress", "export", "--format", "csv"],
    ] {
        let out = kubelab(&c, &data, &args);
        assert_clean(&args.join(" "), &out);
        assert!(
            !out.stdout.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The escapes are shown, not dropped: an author can see what is there.
    let out = kubelab(&c, &data, &["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Title x^[]52;c;aGk=^G^[[2J\\u{9b}31m^My^@"),
        "{text}"
    );
    // JSON output stays the same value: C1 written as an escape.
    let out = kubelab(&c, &data, &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["parts"][0]["entries"][0]["title"],
        format!("Title {NASTY}")
    );
}

#[test]
fn a_name_with_controls_is_refused_and_a_hostile_export_is_reported_clean() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("course");
    nasty_course(&c);
    let data = dir.path().join("data");
    // argv cannot hold NUL.
    let name = NASTY.replace('\0', "");
    let out = kubelab(&c, &data, &["progress", "export", "--name", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert_clean("export --name", &out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("control character (^[ at character 2)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An export edited by hand: the learner name and lesson id carry NASTY.
    let out = kubelab(&c, &data, &["progress", "export"]);
    assert_eq!(out.status.code(), Some(0));
    let mut e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    e["learner"] = NASTY.into();
    if let Some(l) = e["lessons"].get_mut(0) {
        l["id"] = format!("id{NASTY}").into();
    }
    let file = dir.path().join("nasty.json");
    std::fs::write(&file, e.to_string()).unwrap();
    let junk = dir.path().join(format!("junk{}.json", "\u{1b}[2J"));
    std::fs::write(&junk, format!("garbage {NASTY}")).unwrap();
    for extra in [None, Some("--csv")] {
        let mut args = vec![
            "class",
            "report",
            file.to_str().unwrap(),
            junk.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = kubelab(&c, &data, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean(&args.join(" "), &out);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("x^[]52;c;aGk=^G"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The reader's layout of lesson text, code, check titles and hints: no
/// span holds a control character (ratatui would drop ESC and print the
/// rest of the sequence; kubelab shows it as `^[` instead).
#[test]
fn the_reader_shows_controls_visibly() {
    use kubelab::course::model::Lang;
    let dir = tempfile::tempdir().unwrap();
    nasty_course(dir.path());
    let p = dir.path().join("en/src/02-c.md");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str(&format!(
        "\n`code {NASTY}`\n\n```sh run\necho {NASTY}\n```\n\n```sh\n{NASTY}\n```\n"
    ));
    std::fs::write(&p, text).unwrap();
    // The loader refuses a lesson with control characters (lint shows them
    // as errors); the layout must still be safe on its own, for any text
    // that reaches it (a lesson body parsed directly, a future source).
    let load = kubelab::course::lesson::load_file(&p, Lang::En);
    assert!(load.lesson.is_none());
    let lesson_text = std::fs::read_to_string(&p).unwrap();
    let body = lesson_text.splitn(3, "+++\n").nth(2).unwrap();
    let doc = kubelab::doc::parse_body(body, 7, &p).doc;
    let mut states = kubelab::render::BlockStates::default();
    states.hints.insert("c".into());
    let r = kubelab::render::render_doc(&doc, 100, &states, kubelab::i18n::strings(Lang::En));
    let mut all = String::new();
    for l in &r.lines {
        for s in &l.spans {
            if let Some(c) = s.content.chars().find(|c| c.is_control()) {
                panic!("control {c:?} in span {:?}", s.content);
            }
            all.push_str(&s.content);
        }
        all.push('\n');
    }
    assert!(all.contains("Text x^[]52;c;aGk=^G^[[2J"), "{all}");
    assert!(all.contains("echo x^[]52"), "{all}");
}

/// The reader's outline (module, lesson and book titles from SUMMARY.md and
/// book.toml) holds no control character.
#[test]
fn the_outline_titles_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    nasty_course(dir.path());
    let loaded = kubelab::course::load(dir.path()).unwrap();
    let lib =
        kubelab::app::library::Library::from_loaded(&loaded, kubelab::course::model::Lang::En);
    let titles: Vec<&str> = lib
        .entries
        .iter()
        .map(|e| e.title.as_str())
        .chain(lib.modules.iter().filter_map(|m| m.title.as_deref()))
        .collect();
    assert!(titles.iter().any(|t| t.contains("^[[2J")), "{titles:?}");
    for t in titles {
        assert!(!t.chars().any(char::is_control), "{t:?}");
    }
}
