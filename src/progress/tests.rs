use super::store::data_dir_for_test;
use super::*;
use std::ffi::OsString;
use std::path::Path;

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn round_trip_and_atomic_save_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/kubelab");
    let mut s = Store::open(&data, "builtin").unwrap().store;
    assert_eq!(s.progress, Progress::default());
    s.progress.set_position("05-process", 42);
    assert!(s.progress.complete_check_at("05-process", "pid-ns", 100));
    assert!(!s.progress.complete_check_at("05-process", "pid-ns", 200));
    s.progress.answer_quiz("05-process", "q1", 1, true);
    s.save().unwrap();
    assert_eq!(files(&data), vec!["progress.json"]);

    let again = Store::open(&data, "builtin").unwrap();
    assert!(again.notice.is_none());
    let p = again.store.progress;
    assert_eq!(p, s.progress);
    assert_eq!(
        p.check_done("05-process", "pid-ns").unwrap().completed_at,
        100
    );
    assert_eq!(p.position.as_ref().unwrap().line, 42);
    assert_eq!(p.quiz_answer("05-process", "q1").unwrap().answer, 1);

    // Saving over an existing file replaces it (rename), still no leftovers.
    s.progress.set_position("06-x", 1);
    s.save().unwrap();
    assert_eq!(files(&data), vec!["progress.json"]);
    let text = std::fs::read_to_string(data.join("progress.json")).unwrap();
    assert!(text.contains("\"version\": 1"), "{text}");
}

#[test]
fn corrupt_file_is_moved_aside_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("progress.json"), "{ not json").unwrap();
    let o = Store::open(dir.path(), "builtin").unwrap();
    let n = o.notice.expect("a notice");
    assert!(n
        .to
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("progress.json.corrupt-"));
    assert_eq!(std::fs::read_to_string(&n.to).unwrap(), "{ not json");
    assert!(n.to_string().contains("moved to"));
    assert_eq!(o.store.progress, Progress::default());
    o.store.save().unwrap();
    assert_eq!(files(dir.path()).len(), 2);

    // Valid JSON of the wrong shape is corrupt too, and a second one gets
    // its own name.
    std::fs::write(
        dir.path().join("progress.json"),
        r#"{"version":1,"lessons":7}"#,
    )
    .unwrap();
    let o = Store::open(dir.path(), "builtin").unwrap();
    assert!(o.notice.is_some());
    std::fs::write(dir.path().join("progress.json"), r#"{"lessons":{}}"#).unwrap();
    let o = Store::open(dir.path(), "builtin").unwrap();
    assert!(o.notice.unwrap().reason.contains("no version"));
    assert_eq!(files(dir.path()).len(), 3, "{:?}", files(dir.path()));
}

#[test]
fn future_version_is_moved_aside_with_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let future = r#"{"version": 9, "whatever": true}"#;
    std::fs::write(dir.path().join("progress.json"), future).unwrap();
    let o = Store::open(dir.path(), "builtin").unwrap();
    let n = o.notice.unwrap();
    assert!(n.reason.contains("newer kubelab"), "{}", n.reason);
    assert!(n.to.to_string_lossy().contains("progress.json.v9-"));
    assert_eq!(std::fs::read_to_string(&n.to).unwrap(), future);
    assert!(!dir.path().join("progress.json").exists());
}

#[test]
fn unreadable_file_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: reading fails with an I/O error.
    std::fs::create_dir(dir.path().join("progress.json")).unwrap();
    assert!(Store::open(dir.path(), "builtin").is_err());
    assert!(dir.path().join("progress.json").is_dir());
}

#[test]
fn other_courses_get_their_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let course = dir.path().join("my course");
    std::fs::create_dir(&course).unwrap();
    let key = course_key(&course, false);
    assert!(key.starts_with("my_course-"), "{key}");
    assert_eq!(key.len(), "my_course-".len() + 8);
    assert_eq!(key, course_key(&course, false));
    assert_eq!(course_key(&course, true), "builtin");
    let s = Store::open(dir.path(), &key).unwrap().store;
    assert!(s.path().ends_with(format!("progress-{key}.json")));
}

#[test]
fn data_dir_precedence() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    };
    let flag = Path::new("/flag");
    assert_eq!(
        data_dir_for_test(Some(flag), env(&[("XDG_DATA_HOME", "/x")])).unwrap(),
        Path::new("/flag")
    );
    assert_eq!(
        data_dir_for_test(None, env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")])).unwrap(),
        Path::new("/x/kubelab")
    );
    assert_eq!(
        data_dir_for_test(None, env(&[("XDG_DATA_HOME", "rel"), ("HOME", "/h")])).unwrap(),
        Path::new("/h/.local/share/kubelab")
    );
    assert!(data_dir_for_test(None, env(&[])).is_err());
}

#[test]
fn reset_and_status() {
    let mut p = Progress::default();
    p.set_position("a", 3);
    p.complete_check_at("a", "c1", 1);
    assert!(p.reset_lesson("a"));
    assert!(p.position.is_none());
    assert!(!p.reset_lesson("a"));

    let s = LessonStatus {
        visited: true,
        checks_done: 1,
        checks_skipped: 0,
        checks_total: 2,
        quizzes_answered: 1,
        quizzes_total: 1,
        tracks: None,
    };
    assert_eq!(s.items(), (2, 3));
    assert_eq!(s.word(), "started");
    assert_eq!(LessonStatus::default().word(), "new");
    assert_eq!(
        LessonStatus {
            visited: true,
            ..Default::default()
        }
        .word(),
        "read"
    );
    assert_eq!(
        LessonStatus {
            checks_done: 2,
            checks_total: 2,
            ..Default::default()
        }
        .word(),
        "done"
    );
}

#[test]
fn unreadable_file_error_names_the_cause_once() {
    // A directory where the file should be: reading fails for root too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("progress.json")).unwrap();
    let err = match Store::open(dir.path(), "builtin") {
        Err(e) => e,
        Ok(_) => panic!("a directory is not a progress file"),
    };
    // 21 = EISDIR on Linux.
    let cause = std::io::Error::from_raw_os_error(21).to_string();
    let shown = format!("{:#}", anyhow::Error::from(err));
    assert!(shown.contains("progress.json: cannot read: "), "{shown}");
    assert_eq!(shown.matches(&cause).count(), 1, "cause repeated: {shown}");
}

#[test]
fn quiz_answers_keep_the_first_answer_and_count_attempts() {
    let mut p = Progress::default();
    p.answer_quiz("l", "q", 2, false);
    let a = p.quiz_answer("l", "q").unwrap();
    assert_eq!((a.answer, a.first_answer, a.attempts), (2, Some(2), 1));
    p.answer_quiz("l", "q", 0, true);
    let a = p.quiz_answer("l", "q").unwrap();
    assert_eq!(
        (a.answer, a.first_answer, a.attempts, a.correct),
        (0, Some(2), 2, true)
    );
    // A record from before these were kept: the first answer stays unknown,
    // and its one earlier answer counts.
    let old: QuizAnswer =
        serde_json::from_str(r#"{"answer":1,"correct":false,"answered_at":5}"#).unwrap();
    p.lessons
        .get_mut("l")
        .unwrap()
        .quizzes
        .insert("old".into(), old);
    p.answer_quiz("l", "old", 0, true);
    let a = p.quiz_answer("l", "old").unwrap();
    assert_eq!((a.first_answer, a.attempts), (None, 2));
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// On a shared classroom machine no other account may read a learner's
/// answers: the data directory is 0700 and every file in it 0600, and a
/// directory or file left looser by an older kubelab is tightened on save.
#[test]
fn progress_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("share/kubelab");
    let mut s = Store::open(&data, "builtin").unwrap().store;
    s.progress.set_position("05-process", 1);
    s.save().unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("progress.json")), 0o600);
    let backup = s.backup().unwrap().unwrap();
    assert_eq!(mode(&backup), 0o600);

    // As an older kubelab left them: 0755 and 0644.
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    set(&data, 0o755);
    set(&data.join("progress.json"), 0o644);
    s.progress.set_position("05-process", 2);
    s.save().unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("progress.json")), 0o600);

    // A corrupt file moved aside keeps nobody else's eyes on it either.
    set(&data.join("progress.json"), 0o644);
    std::fs::write(data.join("progress.json"), "{").unwrap();
    let opened = Store::open(&data, "builtin").unwrap();
    let aside = opened.notice.expect("moved aside").to;
    assert_eq!(mode(&aside), 0o600);
}

#[test]
fn a_check_skipped_on_this_machine_counts_toward_completion_not_as_missing() {
    let text = "+++\nid = \"l\"\n[sandboxes.main]\n+++\n# L\n\n\
                ```sh check id=a\ntrue\n```\n\n```sh check id=b needs=limits\ntrue\n```\n";
    let lesson =
        crate::course::lesson::parse_text(text, Path::new("l.md"), crate::course::model::Lang::En)
            .lesson
            .expect("the lesson parses");
    let mut p = Progress::default();
    p.complete_check_at("l", "a", 1);
    assert_eq!(p.status(&lesson).word(), "started");
    assert!(p.skip_check("l", "b"));
    assert!(!p.skip_check("l", "b"), "recorded once");
    let st = p.status(&lesson);
    assert_eq!((st.checks_done, st.checks_skipped), (1, 1));
    assert_eq!(st.items(), (2, 2));
    assert_eq!(st.word(), "done");
    // Passing later (with limits) makes it done; it is not counted twice.
    p.complete_check_at("l", "b", 2);
    let st = p.status(&lesson);
    assert_eq!((st.checks_done, st.checks_skipped), (2, 0));
    // A done check is never marked skipped afterwards.
    assert!(!p.skip_check("l", "a"));
    // Saved and read back.
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"skipped\""), "{json}");
    let back: Progress = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

/// A two-track lesson is done with either track; which one shows.
#[test]
fn either_track_completes_a_two_track_lesson() {
    let text = "+++\nid = \"tt\"\n[cluster]\nsandbox = \"k8s\"\n[sandboxes.main]\n[sandboxes.k8s]\n+++\n# T\n\n\
        ```sh check id=n1\ntrue\n```\n\n```sh check id=n2\ntrue\n```\n\n\
        ```sh check id=c1 sandbox=k8s\ntrue\n```\n\n```toml check id=c2 kind=cluster\nobject = \"pod/x\"\nexists = true\n```\n\n\
        ```toml quiz\nid = \"q\"\nquestion = \"?\"\nchoices = [\"a\", \"b\"]\nanswer = \"A\"\n```\n";
    let l = crate::course::lesson::parse_text(
        text,
        std::path::Path::new("tt.md"),
        crate::course::model::Lang::En,
    )
    .lesson
    .unwrap();
    let mut p = Progress::default();
    p.answer_quiz("tt", "q", 0, true);
    p.complete_check_at("tt", "n1", 1);
    p.complete_check_at("tt", "c1", 1);
    let s = p.status(&l);
    assert_eq!(
        s.items(),
        (2, 3),
        "half of each track: the node track counts"
    );
    assert_eq!(s.word(), "started");
    assert_eq!(s.tracks_done(), None);
    p.complete_check_at("tt", "c2", 2);
    let s = p.status(&l);
    assert_eq!((s.items(), s.word()), ((3, 3), "done"));
    assert_eq!(s.tracks_done(), Some("cluster"));
    p.complete_check_at("tt", "n2", 3);
    assert_eq!(p.status(&l).tracks_done(), Some("both"));
}
