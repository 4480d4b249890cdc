//! `list` and `progress` follow the reader's classroom lock, and every
//! command that takes a lesson id (or a lock id) rejects one that does not
//! exist with a "did you mean".

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn good() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/courses/good")
}

fn kubelab(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .arg("--course")
        .arg(good())
        .arg("--data-dir")
        .arg(data)
        .arg("--lang")
        .arg("en")
        .args(args)
        .env_remove("KUBELAB_LOCK")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_marks_lessons_after_the_lock() {
    let data = tempfile::tempdir().unwrap();
    let o = kubelab(data.path(), &["--lock", "00-intro", "list"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("00-intro\tnew\t"), "{}", out(&o));
    assert!(out(&o).contains("01-pid\tlocked\t"), "{}", out(&o));
    let o = kubelab(data.path(), &["--lock", "01-pid", "list"]);
    assert!(out(&o).contains("01-pid\tnew\t"), "{}", out(&o));
}

#[test]
fn a_lock_naming_no_lesson_is_an_error_everywhere() {
    let data = tempfile::tempdir().unwrap();
    for cmd in [&["list"][..], &["progress"][..]] {
        let mut args = vec!["--lock", "01-pdi"];
        args.extend_from_slice(cmd);
        let o = kubelab(data.path(), &args);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", out(&o));
        assert!(
            err(&o).contains("--lock `01-pdi`: no lesson with that id")
                && err(&o).contains("did you mean `01-pid`?"),
            "{cmd:?}: {}",
            err(&o)
        );
    }
}

#[test]
fn progress_marks_locked_lessons() {
    let data = tempfile::tempdir().unwrap();
    let key = kubelab::progress::course_key(&good(), false);
    let mut store = kubelab::progress::Store::open(data.path(), &key)
        .unwrap()
        .store;
    store.progress.set_position("01-pid", 3);
    assert!(store.progress.complete_check_at("01-pid", "pid-ns", 100));
    store.save().unwrap();
    let o = kubelab(data.path(), &["--lock", "00-intro", "progress"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("locked: after the classroom lock"),
        "{}",
        out(&o)
    );
    let o = kubelab(data.path(), &["progress"]);
    assert!(!out(&o).contains("locked"), "{}", out(&o));
}

#[test]
fn typos_and_transpositions_in_lesson_ids_get_suggestions() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["open", "01-pdi"][..],
        &["open", "10-pid"][..],
        &["progress", "reset", "01-pdi"][..],
        &["progress", "reset", "pid"][..],
    ] {
        let o = kubelab(data.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            err(&o).contains("did you mean `01-pid`?"),
            "{args:?}: {}",
            err(&o)
        );
    }
}
