//! The real binary: `list`, `lint`, `progress`, `open`, non-TTY behaviour,
//! language selection. stdout/stdin are pipes here, never a terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/courses")
        .join(name)
}

/// `kubelab ARGS` with a clean environment: English locale, data under `data`.
fn kubelab(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KUBELAB_COURSE")
        .env("LANG", "en_US.UTF-8")
        .env("XDG_DATA_HOME", data)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run kubelab")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_prints_the_outline_for_scripts() {
    let data = tempfile::tempdir().unwrap();
    let good = fixture("good");
    let o = kubelab(data.path(), &["--course", good.to_str().unwrap(), "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "# Module one\n00-intro\tnew\t-\ten\tStart\n01-pid\tnew\t0/2\ten\tProcesses\n# Module two\n-\tdraft\t-\t-\tUnwritten\n"
    );
    // Locale picks Chinese; --lang overrides it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubelab"));
    cmd.args(["--course", good.to_str().unwrap(), "list"])
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("XDG_DATA_HOME", data.path());
    let zh = cmd.output().unwrap();
    assert!(
        stdout(&zh).starts_with("# 第一模块\n00-intro\tnew\t-\tzh\t开始\n"),
        "{}",
        stdout(&zh)
    );
    let en = cmd.arg("--lang").arg("en").output().unwrap();
    assert!(stdout(&en).starts_with("# Module one\n"));
}

#[test]
fn list_shows_errors_fallbacks_and_json() {
    let data = tempfile::tempdir().unwrap();
    let broken = fixture("broken");
    let o = kubelab(
        data.path(),
        &["--course", broken.to_str().unwrap(), "--lang", "zh", "list"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[2].starts_with("01-bad-front\terror\t-\t-\t坏的前置元数据\t"),
        "{out}"
    );
    assert!(lines[2].contains("01-bad-front.md:4:1:"), "{out}");
    assert_eq!(lines[6], "05-en-only\tnew\t-\ten*\t草稿");

    let o = kubelab(
        data.path(),
        &["--course", broken.to_str().unwrap(), "list", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let entries = &v["parts"][0]["entries"];
    assert_eq!(entries[0]["id"], "00-good");
    assert_eq!(entries[0]["status"], "new");
    assert_eq!(entries[1]["status"], "draft");
}

#[test]
fn list_output_into_a_closed_pipe_is_not_an_error() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args([
            "--course",
            fixture("good").to_str().unwrap(),
            "list",
            "--json",
        ])
        .env("XDG_DATA_HOME", data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn lint_good_course_passes_with_draft_warnings() {
    let data = tempfile::tempdir().unwrap();
    let good = fixture("good");
    let o = kubelab(data.path(), &["lint", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("zh/src/SUMMARY.md:10:1: warning: `未写` is a draft"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("0 errors, 2 warnings"),
        "{}",
        stderr(&o)
    );
    let q = kubelab(data.path(), &["lint", "-q", good.to_str().unwrap()]);
    assert_eq!(stdout(&q), "");
}

#[test]
fn lint_broken_course_fails_with_positions() {
    let data = tempfile::tempdir().unwrap();
    let broken = fixture("broken");
    let o = kubelab(data.path(), &["--course", broken.to_str().unwrap(), "lint"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for want in [
        "zh/src/01-bad-front.md:4:1: error: front matter: unknown field `colour`",
        "zh/src/SUMMARY.md:7:1: error: `不存在` links to 02-missing.md, which does not exist",
        "zh/src/03-latin1.md:5:6: error: the lesson is not valid UTF-8",
        "zh/src/04-bad-attr.md:7:11: error: unknown attribute `speed` on a run block",
        "en/src/SUMMARY.md:10:1: error: lesson `05-en-only` is in the en book but not in the zh book",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // Every line is file:line:col: severity: message.
    for l in out.lines() {
        let mut parts = l.splitn(5, ':');
        let (_f, line, col, sev) = (parts.next(), parts.next(), parts.next(), parts.next());
        assert!(line.unwrap().parse::<u32>().is_ok(), "{l}");
        assert!(col.unwrap().parse::<u32>().is_ok(), "{l}");
        assert!(matches!(sev, Some(" error") | Some(" warning")), "{l}");
    }
}

#[test]
fn lint_one_file_and_one_book() {
    let data = tempfile::tempdir().unwrap();
    let f = fixture("broken/zh/src/04-bad-attr.md");
    let o = kubelab(data.path(), &["lint", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    let f = fixture("good/lessons/en/src/01-pid.md");
    let o = kubelab(data.path(), &["lint", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let book = fixture("broken/en");
    let o = kubelab(data.path(), &["lint", book.to_str().unwrap()]);
    let out = stdout(&o);
    assert!(out.lines().all(|l| l.contains("/broken/en/")), "{out}");
    assert!(out.contains("05-en-only"), "{out}");
    let o = kubelab(data.path(), &["lint", "/nonexistent/x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));
}

#[test]
fn progress_show_and_reset() {
    use kubelab::progress::{course_key, Store};
    let data = tempfile::tempdir().unwrap();
    let good = fixture("good");
    let course = good.to_str().unwrap();
    let o = kubelab(data.path(), &["--course", course, "progress"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("no lessons started yet"));

    // Progress written through the library API, as the reader does.
    let dir = data.path().join("kubelab");
    let mut s = Store::open(&dir, &course_key(&good, false)).unwrap().store;
    s.progress.set_position("01-pid", 12);
    s.progress
        .complete_check_at("01-pid", "pid-ns", 1_795_320_600);
    s.progress.set_position("00-intro", 3);
    s.save().unwrap();

    let o = kubelab(data.path(), &["--course", course, "progress"]);
    let out = stdout(&o);
    assert!(out.contains("position: 00-intro (line 3)"), "{out}");
    assert!(
        out.contains("01-pid\tstarted\tchecks 1/1\tquizzes 0/1\tProcesses"),
        "{out}"
    );
    assert!(
        out.contains("check pid-ns\tpassed 2026-11-22T04:10:00Z"),
        "{out}"
    );
    let list = stdout(&kubelab(data.path(), &["--course", course, "list"]));
    assert!(list.contains("00-intro\tread\t-"), "{list}");
    assert!(list.contains("01-pid\tstarted\t1/2"), "{list}");

    let o = kubelab(
        data.path(),
        &["--course", course, "progress", "reset", "01-pid"],
    );
    assert!(stdout(&o).contains("reset progress of 01-pid"));
    let out = stdout(&kubelab(data.path(), &["--course", course, "progress"]));
    assert!(!out.contains("01-pid"), "{out}");

    let o = kubelab(data.path(), &["--course", course, "progress", "reset"]);
    assert!(
        stdout(&o).contains("the old file is kept as"),
        "{}",
        stdout(&o)
    );
    let out = stdout(&kubelab(data.path(), &["--course", course, "progress"]));
    assert!(out.contains("no lessons started yet"), "{out}");
    let backups = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".bak-")
        })
        .count();
    assert_eq!(backups, 1);
}

#[test]
fn corrupt_progress_is_moved_aside_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("custom");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("progress.json"), b"\x00garbage").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(["--data-dir", dir.to_str().unwrap(), "progress"])
        .env_remove("KUBELAB_COURSE")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("moved to"), "{}", stderr(&o));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("progress.json.corrupt-")),
        "{names:?}"
    );
}

#[test]
fn tui_without_a_terminal_suggests_list() {
    let data = tempfile::tempdir().unwrap();
    let o = kubelab(
        data.path(),
        &["--course", fixture("good").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("kubelab list"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn open_unknown_lesson_suggests_ids() {
    let data = tempfile::tempdir().unwrap();
    let o = kubelab(
        data.path(),
        &["--course", fixture("good").to_str().unwrap(), "open", "pid"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did you mean `01-pid`?"),
        "{}",
        stderr(&o)
    );
    // A known id gets as far as the terminal check.
    let o = kubelab(
        data.path(),
        &[
            "--course",
            fixture("good").to_str().unwrap(),
            "open",
            "01-pid",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn course_from_the_environment() {
    let data = tempfile::tempdir().unwrap();
    let run = |value: &str| {
        Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .args(["--lang", "en", "list"])
            .env("KUBELAB_COURSE", value)
            .env("XDG_DATA_HOME", data.path())
            .output()
            .unwrap()
    };
    let o = run(fixture("good").to_str().unwrap());
    assert!(stdout(&o).starts_with("# Module one\n"), "{}", stderr(&o));
    // An empty value means "not set": the built-in course.
    let o = run("");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Module one"));
}

#[test]
fn missing_course_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let o = kubelab(
        data.path(),
        &["--course", data.path().to_str().unwrap(), "list"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no course here"), "{}", stderr(&o));
}

#[test]
fn help_everywhere() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["lint", "--help"],
        vec!["open", "--help"],
        vec!["progress", "--help"],
        vec!["progress", "reset", "--help"],
    ] {
        let o = kubelab(data.path(), &args);
        assert!(o.status.success(), "{args:?}");
        assert!(
            stdout(&o).contains("Usage: kubelab"),
            "{args:?}: {}",
            stdout(&o)
        );
    }
}

/// `kubelab progress | head`, `kubelab class report … | head`: a reader that
/// has gone away is not an error, and never a panic. The reader (`true`)
/// exits before kubelab starts writing, so every write hits a closed pipe.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    let data = tempfile::tempdir().unwrap();
    let good = fixture("good");
    let bin = env!("CARGO_BIN_EXE_kubelab");
    // The test's own pid, not 1: on some hosts (a microVM whose init is
    // non-dumpable) even root may not read /proc/1/ns.
    let inspect = format!("inspect --pid {} ns.pid", std::process::id());
    for cmd in [
        "progress",
        "progress export --name qa",
        "list",
        "doctor",
        inspect.as_str(),
    ] {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "(sleep 0.3; \"$0\" --course \"$1\" {cmd}; echo \"rc=$?\" >&2) | true"
            ))
            .arg(bin)
            .arg(&good)
            .env("XDG_DATA_HOME", data.path())
            .env("LANG", "en_US.UTF-8")
            .output()
            .expect("run sh");
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{cmd}: {err}");
        assert!(err.contains("rc=0"), "{cmd}: {err}");
    }
}
