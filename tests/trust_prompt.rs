//! The trust prompt of a course from elsewhere says what runs on the
//! learner's machine (checks `on=host`, writable host binds), asks for that
//! separately from the sandboxes, and asks again when the course changes.

mod common;
use common::{engine_or_skip, kubelab, wait_until};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubelab::app::PaneHost;
use kubelab::course::model::{Lang, Lesson};
use kubelab::lab::engine::EngineFactory;
use kubelab::lab::host::LabHost;
use kubelab::lab::trust::{TrustState, TrustStore};
use kubelab::render::CheckStatus;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::sync::Arc;

const HOST_LESSON: &str = r#"+++
id = "01-a"
title = "A"
panes = ["shell"]

[sandboxes.main]
mounts = [{ type = "bind", source = "/root", target = "/mnt/root", readonly = false }]
+++

# A

```sh check id=on-host on=host
# title: the host has the file
touch "$KUBELAB_MARKER_DIR/ran"
test -e /etc/hostname
```

```sh check id=inside
true
```
"#;

fn course(dir: &Path, lesson: &str) {
    common::one_lesson_course(dir, lesson);
}

fn lesson_of(dir: &Path) -> Lesson {
    let c = kubelab::course::load(dir).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    c.lesson(Lang::En, "01-a").unwrap().clone()
}

/// A host that is never started in these prompt tests: the factory is
/// only used once the learner agrees.
fn host() -> LabHost {
    LabHost::new(
        Arc::new(EngineFactory::with_helper(kubelab())),
        kubelab(),
        TrustState::Ask,
    )
}

fn draw(h: &LabHost, w: u16, hgt: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, hgt)).unwrap();
    t.draw(|f| h.draw(f, f.area(), true)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..hgt)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(h: &mut LabHost, c: KeyCode) -> bool {
    h.key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[test]
fn the_prompt_lists_host_checks_and_writable_binds_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    course(dir.path(), HOST_LESSON);
    let mut h = host();
    h.set_trust_store(TrustStore::new(data.path(), dir.path()));
    h.lesson_opened(Some(&lesson_of(dir.path())));
    assert!(h.lab().is_none());
    assert!(h.modal());
    // The pane area of an 80×24 reader (60×10 below the lesson): the answer
    // keys, the host heading and the first host check show without scrolling.
    let screen = draw(&h, 60, 10);
    assert!(screen.contains("s: sandboxes only"), "{screen}");
    assert!(screen.contains("ON YOUR MACHINE"), "{screen}");
    assert!(
        screen.contains("01-a: check on-host (line 12) runs"),
        "{screen}"
    );
    // Further down (scrolling): the command itself and the writable bind.
    let tall = draw(&h, 80, 40);
    assert!(
        tall.contains("$ touch \"$KUBELAB_MARKER_DIR/ran\""),
        "{tall}"
    );
    assert!(
        tall.contains("sandbox main CAN WRITE your /root (at /mnt/root)"),
        "{tall}"
    );
    for _ in 0..4 {
        assert!(key(&mut h, KeyCode::Down));
    }
    let scrolled = draw(&h, 60, 10);
    assert!(scrolled.contains("CAN WRITE your /root"), "{scrolled}");
    // Chinese.
    let mut zh = host();
    zh.set_lang(Lang::Zh);
    zh.set_trust_store(TrustStore::new(data.path(), dir.path()));
    zh.lesson_opened(Some(&lesson_of(dir.path())));
    let screen: String = draw(&zh, 60, 10).chars().filter(|c| *c != ' ').collect();
    assert!(screen.contains("s：只允许沙箱"), "{screen}");
    assert!(screen.contains("在你的机器上、任何沙箱之外"), "{screen}");
    // "n": what was declined and what still works; the dialog lets go.
    assert!(!key(&mut h, KeyCode::Char('n')));
    assert!(!h.modal());
    let screen = draw(&h, 80, 12);
    assert!(
        screen.contains("You declined this course's lab"),
        "{screen}"
    );
    assert!(screen.contains("quizzes still work"), "{screen}");
    assert!(h.lab().is_none());
}

#[test]
fn a_course_changed_after_the_yes_asks_again_and_shows_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // At first /root is bound read-only (same lines, so the check keeps
    // its line number).
    let first = HOST_LESSON.replace("readonly = false", "readonly = true");
    course(dir.path(), &first);
    let t = kubelab::panes::text::text(Lang::En);
    TrustStore::new(data.path(), dir.path())
        .remember(TrustState::Trusted, t)
        .unwrap();
    assert_eq!(
        TrustStore::new(data.path(), dir.path()).decision(),
        Some(TrustState::Trusted)
    );
    // Text edits need no new answer...
    course(dir.path(), &first.replace("# A\n", "# A\n\nMore words.\n"));
    assert!(TrustStore::new(data.path(), dir.path()).is_trusted());
    // ...a writable /root bind does.
    course(dir.path(), HOST_LESSON);
    let store = TrustStore::new(data.path(), dir.path());
    assert_eq!(store.decision(), None);
    let mut h = host();
    h.set_trust_store(store);
    h.lesson_opened(Some(&lesson_of(dir.path())));
    assert!(h.lab().is_none(), "a changed course must ask again");
    let screen = draw(&h, 100, 30);
    assert!(
        screen.contains("This course changed since you answered"),
        "{screen}"
    );
    assert!(
        screen.contains("+ 01-a: sandbox main CAN WRITE your /root"),
        "{screen}"
    );
    // The host check was there before: not marked new.
    assert!(!screen.contains("+ 01-a: check on-host"), "{screen}");
}

#[test]
fn sandboxes_only_runs_no_host_check() {
    let Some(f) = engine_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let marker = tempfile::tempdir().unwrap();
    // The lesson binds a scratch folder writable instead of /root.
    let lesson = HOST_LESSON
        .replace(
            "source = \"/root\"",
            &format!("source = \"{}\"", marker.path().display()),
        )
        .replace("$KUBELAB_MARKER_DIR", &marker.path().display().to_string());
    course(dir.path(), &lesson);
    let mut h = LabHost::new(Arc::new(f), kubelab(), TrustState::Ask);
    h.set_trust_store(TrustStore::new(data.path(), dir.path()));
    h.lesson_opened(Some(&lesson_of(dir.path())));
    assert!(key(&mut h, KeyCode::Char('s')));
    assert!(h.lab().is_some(), "the sandboxes start");
    let status = |h: &LabHost, id: &str| h.check_statuses()?.get(id).cloned();
    wait_until("the sandbox check passes", 60, || {
        h.update();
        (status(&h, "inside") == Some(CheckStatus::Pass)).then_some(())
    });
    assert_eq!(
        status(&h, "on-host"),
        Some(CheckStatus::Fail(Some(
            "not run: you declined host commands".into()
        )))
    );
    assert!(!marker.path().join("ran").exists(), "the host check ran");
    // The bind is read-only now: the sandbox cannot write the host folder.
    let out = h.lab().unwrap().cells["main"]
        .get()
        .unwrap()
        .exec_script(
            "touch /mnt/root/from-sandbox 2>&1; echo rc=$?",
            std::time::Duration::from_secs(10),
        )
        .unwrap();
    assert!(!out.stdout.contains("rc=0"), "{out:?}");
    assert!(!marker.path().join("from-sandbox").exists());
    h.shutdown();
    // Remembered as "sandboxes only".
    assert_eq!(
        TrustStore::new(data.path(), dir.path()).decision(),
        Some(TrustState::SandboxesOnly)
    );
}
