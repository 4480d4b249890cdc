//! The live lab against real sandboxes: inspector samplers, the lab behind
//! the reader's pane hook (run blocks, checks, reset, trust) and cleanup.

mod common;

use common::{engine_or_skip, kubelab, labs_dir, wait_until};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubelab::app::PaneHost;
use kubelab::course::model::{Lang, Lesson};
use kubelab::lab::backend::LabSandbox;
use kubelab::lab::engine::EngineFactory;
use kubelab::lab::host::LabHost;
use kubelab::lab::trust::TrustState;
use kubelab::panes::inspect::model::{Inspection, Shown, UpperKind};
use kubelab::panes::inspect::sampler::Sampler;
use kubelab::panes::kind::PaneKind;
use kubelab::render::CheckStatus;
use kubelab_sandbox::spec::Spec;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn data<T: Clone>(s: &Sampler, pick: impl Fn(&Inspection) -> &Shown<T>) -> Option<T> {
    match pick(&s.data()) {
        Shown::Data(d) => Some(d.clone()),
        _ => None,
    }
}

#[test]
fn samplers_show_a_live_sandbox() {
    let Some(f) = engine_or_skip() else { return };
    let spec: Spec =
        toml::from_str("hostname = \"insp\"\n[limits]\nmemory = \"64M\"\npids = 64").unwrap();
    let sb = f.spawn("main", &spec, None).unwrap();
    let all = [
        PaneKind::Namespaces,
        PaneKind::Processes,
        PaneKind::Cgroup,
        PaneKind::Filesystem,
        PaneKind::Network,
    ];
    let s = Sampler::start(sb.observer(), &all, Arc::new(|| {}));

    let ns = wait_until("namespaces", 20, || data(&s, |i| &i.namespaces));
    for kind in ["pid", "uts", "mnt", "net", "user"] {
        let row = ns.iter().find(|r| r.kind == kind).unwrap();
        assert_eq!(row.isolated(), Some(true), "{row:?}");
    }

    let procs = wait_until("processes", 20, || data(&s, |i| &i.processes));
    let init = procs
        .iter()
        .find(|p| p.ns_pid == Some(1))
        .expect("PID 1 listed");
    assert_eq!(init.host_pid, sb.pid());
    assert_ne!(init.host_pid, 1);

    // cgroup limits as set, or one line saying why there is no cgroup.
    match wait_until("cgroup", 20, || match &s.data().cgroup {
        Shown::Waiting => None,
        other => Some(other.clone()),
    }) {
        Shown::Data(v) => {
            assert_eq!(v.stats.memory_max, Some(64 << 20));
            assert_eq!(v.stats.pids_max, Some(64));
            assert!(v.stats.pids_current >= 1);
        }
        Shown::Unavailable(why) => {
            assert!(why.starts_with("no cgroup"), "{why}");
            eprintln!("SKIP (cgroup part): {why}");
        }
        Shown::Waiting => unreachable!(),
    }

    // Copy-on-write: a new file and a deleted lower file show in the upper dir.
    let out = sb
        .exec_script(
            "echo hi > /root/fresh && rm -f /etc/os-release; echo done",
            Duration::from_secs(10),
        )
        .unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    let fs = wait_until("upper dir listing", 20, || {
        let fs = data(&s, |i| &i.filesystem)?;
        let up = fs.upper.as_ref().ok()?;
        up.iter().any(|e| e.path == "/root/fresh").then_some(fs)
    });
    assert!(
        fs.mounts
            .iter()
            .any(|(t, ty, _)| t == "/proc" && ty == "proc"),
        "{:?}",
        fs.mounts
    );
    let up = fs.upper.unwrap();
    assert_eq!(
        up.iter().find(|e| e.path == "/root/fresh").unwrap().kind,
        UpperKind::File
    );
    if let Some(w) = up.iter().find(|e| e.path == "/etc/os-release") {
        assert_eq!(w.kind, UpperKind::Whiteout);
    }

    let net = wait_until("network", 20, || data(&s, |i| &i.network));
    assert!(net.links.rows.iter().any(|l| l.name == "lo"), "{net:?}");
}

/// A busy-loop check inside the sandbox ends by its CPU limit (SIGXCPU,
/// exit 152), not by the wall-clock timeout.
#[test]
fn a_busy_loop_sandbox_check_is_stopped_by_its_cpu_limit() {
    let Some(f) = engine_or_skip() else { return };
    let sb = f.spawn("main", &Spec::default(), None).unwrap();
    let out = sb
        .exec_script("while :; do :; done", Duration::from_secs(300))
        .unwrap();
    assert!(!out.timed_out, "{out:?}");
    assert_eq!(
        out.code,
        128 + rustix::process::Signal::XCPU.as_raw(),
        "{out:?}"
    );
}

#[test]
fn an_oom_kill_shows_an_event_line() {
    let Some(f) = engine_or_skip() else { return };
    let spec: Spec = toml::from_str("[limits]\nmemory = \"32M\"").unwrap();
    let sb = f.spawn("main", &spec, None).unwrap();
    let s = Sampler::start(sb.observer(), &[PaneKind::Cgroup], Arc::new(|| {}));
    if let Shown::Unavailable(why) = wait_until("cgroup", 20, || match &s.data().cgroup {
        Shown::Waiting => None,
        other => Some(other.clone()),
    }) {
        eprintln!("SKIP: {why}");
        return;
    }
    // A hog that grows slowly enough for a sample to see it before the kill.
    let _ = sb.exec_script(
        "sh -c 'x=a; while :; do x=$x$x$x$x; sleep 0.3; done' & wait; exit 0",
        Duration::from_secs(30),
    );
    let v = wait_until("OOM event", 30, || {
        data(&s, |i| &i.cgroup).filter(|v| !v.events.is_empty())
    });
    assert!(v.stats.oom_kills >= 1);
    let line = v
        .events
        .back()
        .unwrap()
        .line(kubelab::panes::text::text(Lang::En));
    assert!(line.starts_with("OOM: pid "), "{line}");
    assert!(line.ends_with("killed at 32 MiB"), "{line}");
}

fn fixture_lesson(id: &str) -> Lesson {
    let dir = labs_dir();
    let course = kubelab::course::load(&dir).unwrap();
    course.lesson(Lang::En, id).unwrap().clone()
}

fn host(f: EngineFactory, trust: TrustState) -> LabHost {
    LabHost::new(Arc::new(f), kubelab(), trust)
}

/// The lesson's first ```` ```sh run ```` block.
fn first_run_block(lesson: &Lesson) -> kubelab::doc::ir::RunBlock {
    lesson
        .doc
        .interactives()
        .into_iter()
        .find_map(|i| match i {
            kubelab::doc::ir::Interactive::Run(r) => Some(r.clone()),
            _ => None,
        })
        .expect("the fixture lesson has a run block")
}

fn check_status(h: &LabHost, id: &str) -> Option<CheckStatus> {
    h.check_statuses()?.get(id).cloned()
}

fn draw(h: &LabHost, w: u16, hgt: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, hgt)).unwrap();
    t.draw(|f| h.draw(f, f.area(), true)).unwrap();
    t.backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect()
}

#[test]
fn run_blocks_checks_and_reset_through_the_pane_hook() {
    let Some(f) = engine_or_skip() else { return };
    let lesson = fixture_lesson("solvable");
    let mut h = host(f, TrustState::Builtin);
    h.lesson_opened(Some(&lesson));
    // The shell comes up; the first check fails with its reason.
    wait_until("prompt", 30, || {
        h.update();
        let lab = h.lab_mut()?;
        lab.main_shell()?
            .screen_text()
            .contains("root@fixture")
            .then_some(())
    });
    let pid1 = h.lab().unwrap().cells["main"].get().unwrap().pid();
    wait_until("first check run", 30, || {
        h.update();
        matches!(check_status(&h, "made-file"), Some(CheckStatus::Fail(Some(ref r))) if r == "/root/made does not say hello yet").then_some(())
    });
    // Enter on a run block types it into the shell; the check turns ✓.
    let run = first_run_block(&lesson);
    h.run_block(&run).unwrap();
    wait_until("check passes after the run block", 30, || {
        h.update();
        (check_status(&h, "made-file") == Some(CheckStatus::Pass)).then_some(())
    });
    let screen = draw(&h, 100, 40);
    assert!(screen.contains("echo hello > /root/made"), "{screen}");

    // Keys go to the shell; F6 hands focus back.
    assert!(h.key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE)));
    assert!(!h.key(KeyEvent::new(KeyCode::F(6), KeyModifiers::NONE)));

    // R: a fresh sandbox, so the check fails again.
    h.reset().unwrap();
    wait_until("fresh sandbox", 30, || {
        h.update();
        let sb = h.lab()?.cells["main"].get()?;
        (sb.pid() != pid1).then_some(())
    });
    wait_until("check fails again", 30, || {
        h.update();
        matches!(check_status(&h, "made-file"), Some(CheckStatus::Fail(_))).then_some(())
    });
    // The old sandbox is gone.
    wait_until("old sandbox gone", 30, || {
        (!Path::new(&format!("/proc/{pid1}")).exists()).then_some(())
    });

    // Leaving the lesson stops its sandbox.
    let pid2 = h.lab().unwrap().cells["main"].get().unwrap().pid();
    h.lesson_opened(None);
    assert!(h.lab().is_none());
    wait_until("sandbox stopped on leave", 30, || {
        (!Path::new(&format!("/proc/{pid2}")).exists()).then_some(())
    });
}

#[test]
fn another_course_asks_before_running_anything() {
    let Some(f) = engine_or_skip() else { return };
    let lesson = fixture_lesson("presolved");
    let mut h = host(f, TrustState::Ask);
    h.lesson_opened(Some(&lesson));
    assert!(
        h.lab().is_none(),
        "nothing may start before the learner agrees"
    );
    let screen = draw(&h, 100, 30);
    assert!(
        screen.contains("Its sandboxes will be allowed to:"),
        "{screen}"
    );
    assert!(
        screen.contains("own namespaces: pid uts ipc mnt net user cgroup"),
        "{screen}"
    );
    // Any key but y/n keeps asking; y starts the lab.
    assert!(h.key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
    assert!(h.lab().is_none());
    assert!(h.key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)));
    assert!(h.lab().is_some());
    // Asked once: the next lesson of the course starts right away.
    h.lesson_opened(Some(&fixture_lesson("unsolvable")));
    assert!(h.lab().is_some());
    h.shutdown();
}

#[test]
fn the_shell_exiting_ends_the_sandbox_and_enter_starts_a_fresh_one() {
    let Some(f) = engine_or_skip() else { return };
    let lesson = fixture_lesson("unsolvable");
    let mut h = host(f, TrustState::Builtin);
    h.lesson_opened(Some(&lesson));
    wait_until("prompt", 30, || {
        h.update();
        h.lab_mut()?
            .main_shell()?
            .screen_text()
            .contains("root@kubelab")
            .then_some(())
    });
    let pid1 = h.lab().unwrap().cells["main"].get().unwrap().pid();
    h.lab_mut()
        .unwrap()
        .main_shell()
        .unwrap()
        .type_text("exit 3");
    wait_until("exit code", 30, || {
        h.update();
        (h.lab_mut()?.main_shell()?.exit_code() == Some(3)).then_some(())
    });
    let screen = draw(&h, 100, 30);
    assert!(
        screen.contains("exited (code 3) — press Enter to restart"),
        "{screen}"
    );
    wait_until("sandbox gone", 30, || {
        (!Path::new(&format!("/proc/{pid1}")).exists()).then_some(())
    });
    assert!(h.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    wait_until("a fresh prompt", 30, || {
        h.update();
        let lab = h.lab_mut()?;
        let up = lab.main_shell()?.screen_text().contains("root@kubelab");
        let pid = lab.cells["main"].get()?.pid();
        (up && pid != pid1).then_some(())
    });
    h.shutdown();
}

#[test]
fn only_the_checks_of_the_visible_step_re_run() {
    let Some(f) = engine_or_skip() else { return };
    let lesson = fixture_lesson("solvable");
    let step2 = lesson
        .doc
        .steps()
        .iter()
        .map(|&(i, _)| lesson.doc.blocks[i].line())
        .nth(1)
        .unwrap();
    let mut h = host(f, TrustState::Builtin);
    h.lesson_opened(Some(&lesson));
    wait_until("first check run", 30, || {
        h.update();
        matches!(check_status(&h, "made-file"), Some(CheckStatus::Fail(_))).then_some(())
    });
    // Only step 2 on screen: step 1's check keeps its last result even
    // though its task gets done.
    h.visible_lines(step2, step2 + 20);
    let only: std::collections::HashSet<String> = ["host-sees-hostname".to_string()].into();
    assert_eq!(h.lab().unwrap().visible_checks(), Some(only));
    let run = first_run_block(&lesson);
    h.run_block(&run).unwrap();
    let sb = h.lab().unwrap().cells["main"].get().unwrap();
    wait_until("the file is written", 30, || {
        let out = sb
            .exec_script("cat /root/made", Duration::from_secs(5))
            .ok()?;
        (out.stdout.trim() == "hello").then_some(())
    });
    let until = Instant::now() + kubelab::lab::live::RECHECK * 2;
    while Instant::now() < until {
        h.update();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        matches!(check_status(&h, "made-file"), Some(CheckStatus::Fail(_))),
        "an off-screen check re-ran: {:?}",
        check_status(&h, "made-file")
    );
    assert!(check_status(&h, "host-sees-hostname").is_some());
    // Scrolling back to step 1 re-runs its check at once.
    h.visible_lines(1, step2 - 1);
    wait_until("step 1's check passes once visible", 10, || {
        h.update();
        (check_status(&h, "made-file") == Some(CheckStatus::Pass)).then_some(())
    });
    h.shutdown();
}

/// The screen without spaces: wide (CJK) characters take two cells.
fn squeezed(screen: &str) -> String {
    screen.chars().filter(|c| *c != ' ').collect()
}

#[test]
fn pane_text_follows_the_ui_language() {
    let Some(f) = engine_or_skip() else { return };
    let lesson = fixture_lesson("unsolvable");
    let mut h = host(f, TrustState::Ask);
    h.set_lang(Lang::Zh);
    h.lesson_opened(Some(&lesson));
    let screen = squeezed(&draw(&h, 100, 30));
    assert!(screen.contains("运行本课的沙箱？"), "{screen}");
    assert!(screen.contains("它的沙箱将被允许："), "{screen}");
    assert!(screen.contains("独立的命名空间：pid"), "{screen}");
    assert!(h.key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)));
    wait_until("prompt", 30, || {
        h.update();
        h.lab_mut()?
            .main_shell()?
            .screen_text()
            .contains("root@kubelab")
            .then_some(())
    });
    let screen = squeezed(&draw(&h, 100, 40));
    assert!(screen.contains("终端·main"), "{screen}");
    h.lab_mut()
        .unwrap()
        .main_shell()
        .unwrap()
        .type_text("exit 3");
    wait_until("exit code", 30, || {
        h.update();
        (h.lab_mut()?.main_shell()?.exit_code() == Some(3)).then_some(())
    });
    let screen = squeezed(&draw(&h, 100, 40));
    assert!(
        screen.contains("已退出（退出码3）—按Enter重新启动"),
        "{screen}"
    );
    h.shutdown();
}

#[test]
fn the_shell_killed_by_oom_still_shows_the_event_and_the_exit() {
    let Some(f) = engine_or_skip() else { return };
    if std::fs::File::open("/dev/kmsg").is_err() {
        eprintln!("SKIP: /dev/kmsg is not readable (the kernel log names the victim)");
        return;
    }
    let lesson = fixture_lesson("solvable"); // 64M limit, cgroup pane
    let mut h = host(f, TrustState::Builtin);
    h.lesson_opened(Some(&lesson));
    wait_until("prompt", 30, || {
        h.update();
        h.lab_mut()?
            .main_shell()?
            .screen_text()
            .contains("root@fixture")
            .then_some(())
    });
    let cell = h.lab().unwrap().cells["main"].clone();
    if let Some(Shown::Unavailable(why)) = cell.sampler().as_ref().map(|s| s.data().cgroup.clone())
    {
        eprintln!("SKIP: {why}");
        h.shutdown();
        return;
    }
    // Show the cgroup pane (namespaces → processes → cgroup).
    for _ in 0..2 {
        assert!(h.key(KeyEvent::new(KeyCode::F(7), KeyModifiers::NONE)));
    }
    // bash itself grows until the OOM killer takes it: the sandbox ends.
    h.lab_mut()
        .unwrap()
        .main_shell()
        .unwrap()
        .type_text("x=a; while :; do x=$x$x; done");
    wait_until("the shell is killed", 60, || {
        h.update();
        (h.lab_mut()?.main_shell()?.exit_code() == Some(137)).then_some(())
    });
    // The cgroup pane's event line can come a sample before the sampler
    // marks the sandbox ended (which the shell's reason line needs): wait
    // for both.
    let screen = wait_until("OOM line and the reason the shell ended", 10, || {
        h.update();
        let s = draw(&h, 100, 40);
        (s.contains("killed at 64 MiB") && s.contains("OOM killer ended the sandbox")).then_some(s)
    });
    assert!(
        screen.contains("exited (code 137) — press Enter to restart"),
        "{screen}"
    );
    // The screen is one row after another, no newlines: cut at the border.
    let i = screen.find("OOM: pid ").expect("an OOM event line");
    let line = screen[i..].split('│').next().unwrap().trim();
    assert!(line.contains("(bash) killed at 64 MiB"), "{line}");
    assert!(
        screen.contains("the kernel's OOM killer ended the sandbox — OOM: pid"),
        "{screen}"
    );
    h.shutdown();
}

#[test]
fn the_trust_answer_is_remembered_for_the_course_folder() {
    let Some(f) = engine_or_skip() else { return };
    let data = tempfile::tempdir().unwrap();
    let lesson = fixture_lesson("unsolvable");
    let course = labs_dir();
    let store = || kubelab::lab::trust::TrustStore::new(data.path(), &course);
    let mut h = host(f, TrustState::Ask);
    h.set_trust_store(store());
    h.lesson_opened(Some(&lesson));
    assert!(h.lab().is_none(), "asked the first time");
    assert!(h.key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)));
    assert!(h.lab().is_some());
    h.shutdown();
    assert!(store().is_trusted());

    // The next launch (a new host) does not ask again.
    let f = EngineFactory::with_helper(kubelab());
    let mut h = host(f, TrustState::Ask);
    h.set_trust_store(store());
    h.lesson_opened(Some(&lesson));
    assert!(h.lab().is_some(), "a remembered course starts right away");
    h.shutdown();
}

/// A two-track lesson in the reader without a cluster: the node track runs
/// (its check fails with its own reason), the cluster track's checks show
/// as skipped with the reason — never as failed — and are not recorded.
#[test]
fn without_a_cluster_the_cluster_tracks_checks_are_skipped_not_failed() {
    let Some(f) = engine_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = "+++\nid = \"two-live\"\ntitle = \"T\"\npanes = [\"shell\", \"shell@k8s\"]\n\
        [cluster]\nsandbox = \"k8s\"\n[sandboxes.main]\n[sandboxes.k8s]\nrootfs = \"host\"\n+++\n# T\n\n\
        ## Node track\n\n```sh check id=n\n# hint: h\necho node not yet; exit 1\n```\n\n\
        ## Cluster track\n\n```sh check id=c sandbox=k8s\n# hint: h\nkubectl get cm x\n```\n\n\
        ```toml check id=k kind=cluster\n# hint: h\nobject = \"configmap/x\"\nexists = true\n```\n";
    let path = dir.path().join("two-live.md");
    std::fs::write(&path, text).unwrap();
    let lesson = kubelab::course::lesson::parse_text(text, &path, Lang::En)
        .lesson
        .unwrap();
    if kubelab::cluster::lab::answers(lesson.front.cluster.as_ref().unwrap()).is_ok() {
        eprintln!("SKIP: a cluster answers here; this test is about a machine without one");
        return;
    }
    let mut h = host(f, TrustState::Builtin);
    h.lesson_opened(Some(&lesson));
    wait_until("node check fails with its reason", 30, || {
        h.update();
        matches!(check_status(&h, "n"), Some(CheckStatus::Fail(Some(ref r))) if r == "node not yet")
            .then_some(())
    });
    for id in ["c", "k"] {
        wait_until("cluster check skipped", 30, || {
            h.update();
            match check_status(&h, id) {
                Some(CheckStatus::Skipped(why)) => {
                    assert!(why.contains("cluster"), "{id}: {why}");
                    Some(())
                }
                Some(CheckStatus::Fail(r)) => panic!("{id} failed: {r:?}"),
                _ => None,
            }
        });
    }
    h.lesson_opened(None);
}
