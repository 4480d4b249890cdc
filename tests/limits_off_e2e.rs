//! Lesson 06 (cgroups) where limits are truly unavailable: a learner
//! (uid 65534) on a host whose cgroups cannot be delegated to them (cgroup
//! v1 / hybrid, or v2 without delegation), in a real terminal at 80×24 in
//! Chinese. The lesson still teaches: the cgroup pane shows live usage and
//! why limits are off, the checks that need limits are skipped (the lesson
//! can be completed), and the memory hog is never run.

mod learner_common;
use learner_common::*;

const PROMPT: &str = "root@lab:~#";
/// Shown under "why" by the cgroup pane of a sandbox without limits.
const USAGE_HEAD: &str = "沙箱里各进程的用量（没有上限）";

/// A learner in lesson 06 whose sandbox came up without limits, with the
/// cgroup pane in front; `None` (after a SKIP line) where that cannot be
/// set up: not root (no other uid to drop to), no sandbox, or the learner
/// does get limits here.
fn in_06_without_limits(name: &str) -> Option<Learner> {
    if !is_root() {
        eprintln!("SKIP: needs root to run the learner as uid {LEARNER_UID}");
        return None;
    }
    let l = Learner::new(name)?;
    if !l.can_sandbox() {
        return None;
    }
    l.start(80, 24, "--lang zh open 06-isolation-limits");
    l.wait_for(PROMPT);
    // The shell is in front; F7 brings the inspectors (namespaces, cgroup).
    let s = l.wait("the cgroup pane", |s| {
        if !s.contains(USAGE_HEAD) && !s.contains("内存 ") {
            l.keys(&["F7"]);
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        s.contains(USAGE_HEAD) || s.contains("64.0 MiB")
    });
    if !s.contains(USAGE_HEAD) {
        eprintln!("SKIP: uid {LEARNER_UID} gets cgroup limits on this host:\n{s}");
        return None;
    }
    Some(l)
}

/// The lines of the bottom pane (the inspector or shell below the lesson).
fn bottom_pane(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains(" · F7 "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_cgroup_pane_shows_live_usage_and_why_limits_are_off_in_chinese() {
    let Some(l) = in_06_without_limits("pane") else {
        return;
    };
    let s = l.screen();
    let pane = bottom_pane(&s);
    // Why, translated, with the way to turn limits on.
    assert!(
        pane.contains("即可开启限制") || pane.contains("kubelab doctor"),
        "{pane}"
    );
    // No raw English from the engine.
    for english in ["Permission denied", "not writable", "no cgroup", "delegat"] {
        assert!(!pane.contains(english), "English `{english}` in:\n{pane}");
    }
    // Usage it can read: memory of its processes, CPU, tasks (PID 1 and bash
    // at least).
    assert!(pane.contains("内存 ") && pane.contains("/ 不限"), "{pane}");
    let tasks: u64 = pane
        .lines()
        .find_map(|l| l.split("进程数 ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no task count in:\n{pane}"));
    assert!(tasks >= 2, "{pane}");
    // Live: a busy loop in the sandbox shows up (about one core when the
    // machine is idle; the test machine is shared, so at least 0.2).
    // (Tab focuses the inspector on show; F7 there brings the shell.)
    l.keys(&["Tab"]);
    l.wait("the shell focused", |s| {
        if s.contains("F6 返回课文") {
            return true;
        }
        l.keys(&["F7"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
        false
    });
    l.type_text("timeout 60 sh -c 'while :; do :; done' &");
    l.keys(&["Enter"]);
    l.keys(&["F6"]);
    l.wait_for("? 帮助");
    let busy = l.wait("the loop's CPU in the pane", |s| {
        let pane = bottom_pane(s);
        if !pane.contains(USAGE_HEAD) {
            l.keys(&["F7"]);
            std::thread::sleep(std::time::Duration::from_millis(300));
            return false;
        }
        pane.lines()
            .find_map(|l| l.split("CPU ").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(|cores| cores >= 0.2)
    });
    assert!(busy.contains("/ 不限 核"), "{busy}");
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

/// Presses `]` until the focused block (its lines marked `▌` in the
/// gutter) shows `text`, at most `max` times.
fn focus_block(l: &Learner, text: &str, max: usize) -> String {
    for _ in 0..max {
        l.keys(&["]"]);
        let s = l.wait_quiet();
        if s.lines().any(|x| x.contains('▌') && x.contains(text)) {
            return s;
        }
    }
    panic!("`{text}` never came on screen:\n{}", l.screen());
}

#[test]
fn the_memory_hog_is_refused_and_the_limits_checks_are_skipped_so_06_can_be_completed() {
    let Some(l) = in_06_without_limits("hog") else {
        return;
    };
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
    l.kill_session();
    // The learner did everything this machine allows: the namespace checks
    // and the quizzes (saved progress, as an earlier session leaves it).
    let progress = l.data_dir.join("progress.json");
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&progress).unwrap()).unwrap();
    let lesson = &mut p["lessons"]["06-isolation-limits"];
    for c in ["uts-hostname", "private-mount", "time-offset"] {
        lesson["checks"][c] = serde_json::json!({ "completed_at": 1_700_000_000u64 });
    }
    for (q, a) in [("q-meminfo", 0), ("q-cpu-quota", 0), ("q-oom-scope", 0)] {
        lesson["quizzes"][q] = serde_json::json!({
            "answer": a, "correct": false, "answered_at": 1_700_000_000u64
        });
    }
    std::fs::write(&progress, p.to_string()).unwrap();
    let list = || {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(l.command("list"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|x| x.starts_with("06-isolation-limits\t"))
            .unwrap_or_else(|| panic!("no 06 in `kubelab list`:\n{text}"))
            .to_string()
    };
    assert!(list().contains("\tstarted\t6/9\t"), "{}", list());

    l.start(80, 24, "--lang zh open 06-isolation-limits");
    l.wait_for(PROMPT);
    // Step 3's check: not available, with the reason, and no hint that
    // sends the learner to run the loop again.
    let s = focus_block(&l, "CPU 配额起作用了", 20);
    let s = if s.contains("本机无法完成") {
        s
    } else {
        l.wait_for("本机无法完成")
    };
    assert!(!s.contains("✗ 未完成"), "{s}");
    l.keys(&["Enter"]);
    let s = l.wait_for("这一项需要 cgroup 限制，本机没有：已记为跳过");
    assert!(!s.contains("提示："), "a hint for what cannot work:\n{s}");
    // Step 4's memory hog: Enter refuses it, with the reason.
    focus_block(&l, "head -c ${heap_kb}K", 6);
    l.keys(&["Enter"]);
    let s = l.wait_for("没有运行：它需要 cgroup 限制");
    assert!(s.contains("? 帮助") || s.contains("没有运行"), "{s}");
    // Never typed into the shell: no echo of its first line there.
    l.keys(&["Tab"]);
    let s = l.wait_for("F6 返回课文");
    assert!(!bottom_pane(&s).contains("heap_kb"), "{s}");
    l.keys(&["F6"]);
    l.wait_for("? 帮助");
    // On through steps 4 and 5: their checks are skipped too.
    focus_block(&l, "pids.max 至少拦下过一次 fork", 12);
    l.wait_for("本机无法完成");
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
    // Skipped, not missing: the lesson is complete.
    let line = list();
    assert!(line.contains("\tdone\t9/9\t"), "{line}");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(l.command("--lang en progress"))
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("check oom-killed\tnot available on this machine, skipped"),
        "{shown}"
    );
    let saved = std::fs::read_to_string(&progress).unwrap();
    for c in ["cpu-throttled", "oom-killed", "pids-max-hit"] {
        assert!(
            saved.contains(&format!("\"{c}\"")),
            "{c} not skipped:\n{saved}"
        );
    }
}
