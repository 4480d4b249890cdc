//! A learner's walk through a lab lesson in a real terminal (tmux, 80×24,
//! Chinese, as an ordinary user): the bugs found by doing exactly that.

mod learner_common;
use learner_common::*;
use std::time::{Duration, Instant};

const PROMPT: &str = "root@lab:~#";

/// A learner (uid 65534) in lesson 05 at 80×24 in Chinese, its shell
/// focused; `None` (having said why) where sandboxes can't run.
fn in_the_05_shell(name: &str) -> Option<Learner> {
    let l = Learner::new(name)?;
    if !l.can_sandbox() {
        return None;
    }
    l.start(80, 24, "--lang zh open 05-process");
    l.wait_for(PROMPT);
    l.keys(&["Tab"]);
    l.wait_for("F6 返回课文");
    Some(l)
}

#[test]
fn the_shell_prompt_shows_on_every_launch_without_a_key() {
    let Some(l) = Learner::new("prompt") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    // The namespaces pane of 00-opening never ticks: nothing but the
    // shell's own output can wake the UI to draw the prompt.
    for launch in 1..=20 {
        let (w, h, lang) = if launch % 2 == 0 {
            (120, 40, "en")
        } else {
            (80, 24, "zh")
        };
        l.start(w, h, &format!("--lang {lang} open 00-opening"));
        l.wait(&format!("the prompt (launch {launch}, {w}×{h})"), |s| {
            s.contains(PROMPT)
        });
        l.keys(&["q"]);
        l.wait_for("KUBELAB_EXIT=0");
        l.kill_session();
    }
}

#[test]
fn keys_go_only_to_the_pane_on_show_and_the_inspector_scrolls() {
    let Some(l) = Learner::new("hidden") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    // 80×24: one pane at a time below the lesson; F7 switches.
    l.start(80, 24, "--lang zh open 05-process");
    l.wait_for(PROMPT);
    l.keys(&["Tab"]);
    l.wait_for("F6 返回课文");
    l.type_text("for i in $(seq 12); do sleep 600 & done; echo STARTED-$((6*7))");
    l.keys(&["Enter"]);
    l.wait_for("STARTED-42");
    l.keys(&["F7"]);
    let s = l.wait("the processes pane with every sleep", |s| {
        s.contains("[进程]") && s.matches("sleep 600").count() >= 5
    });
    assert!(!s.contains(PROMPT), "the shell is hidden:\n{s}");
    // The inspector in front has the focus, and shows it (a cyan border).
    let colored = l.tmux(&["capture-pane", "-e", "-p", "-t", &l.name]);
    let colored = String::from_utf8_lossy(&colored.stdout);
    let title = colored
        .lines()
        .find(|line| line.contains("[进程]"))
        .expect("title row");
    // tmux writes cyan as colour 6 of 256.
    assert!(
        title.contains("\x1b[38;5;6m┌ [进程]") || title.contains("\x1b[36m┌ [进程]"),
        "focused inspector border is cyan: {title:?}"
    );
    // Typing while the inspector is in front reaches nothing.
    l.type_text("echo HIDDEN-$((6*7))");
    l.keys(&["Enter"]);
    // j scrolls the inspector (its title says by how much); G to its end.
    // (The typed text's spaces paged it down: g first.)
    l.keys(&["g"]);
    l.wait("the top of the list", |s| {
        s.contains("kubelab-init") && !s.contains("↓")
    });
    l.keys(&["j"]);
    l.wait_for("↓1");
    l.keys(&["G"]);
    let end = l.wait("the end of the process list", |s| {
        !s.contains("kubelab-init") && s.contains("sleep 600")
    });
    assert!(end.contains("宿主PID"), "column heads stay:\n{end}");
    l.keys(&["g"]);
    l.wait_for("kubelab-init");
    // F7 past the last inspector brings the shell back, focused.
    l.keys(&["F7"]);
    l.wait_for(PROMPT);
    l.type_text("echo VISIBLE-$((6*7))");
    l.keys(&["Enter"]);
    let s = l.wait_for("VISIBLE-42");
    assert!(!s.contains("HIDDEN"), "keys reached the hidden shell:\n{s}");
    l.keys(&["F6"]);
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn kubelab_and_its_sandbox_end_when_the_terminal_goes_away() {
    let Some(l) = Learner::new("hangup") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    // `setsid`: kubelab is not in the terminal's session, so no SIGHUP
    // reaches it (as under `su` or a wrapper that does not forward it);
    // only the dead terminal itself says it is gone.
    let cmd = format!("setsid -w {}", l.command("--lang zh open 05-process"));
    l.new_session(80, 24, &["sh", "-c", &cmd]);
    l.wait_for(PROMPT);
    let app = l.app_pid().expect("kubelab runs");
    let sandbox = descendants(app);
    assert!(!sandbox.is_empty(), "the sandbox's processes");
    // Killed while idle (not mid-frame: a frame drawn on the dead terminal
    // fails and ends kubelab by another way).
    l.wait_quiet();
    l.kill_session();
    let deadline = Instant::now() + WAIT;
    loop {
        let left: Vec<u32> = std::iter::once(app)
            .chain(sandbox.iter().copied())
            .filter(|&p| alive(p))
            .collect();
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            // Leave nothing behind, then fail.
            for p in &left {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &p.to_string()])
                    .status();
            }
            panic!("still running {WAIT:?} after the terminal went away: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kill_9_of_the_reader_gives_the_shell_a_usable_terminal_back() {
    let Some(l) = Learner::new("kill9") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    l.new_session(
        80,
        24,
        &["env", "PS1=$ ", "bash", "--norc", "--noprofile", "-i"],
    );
    l.wait("bash's prompt", |s| last_line(s).trim() == "$");
    l.type_text(&l.command("--lang zh open 05-process"));
    l.keys(&["Enter"]);
    l.wait_for(PROMPT);
    assert_eq!(l.var("alternate_on"), "1");
    assert_eq!(l.var("mouse_any_flag"), "1");
    let app = l.app_pid().expect("kubelab runs");
    let guard = children(app)
        .into_iter()
        .find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == b"__tty-guard"))
        })
        .expect("the terminal guard runs beside kubelab");
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &app.to_string()])
        .status()
        .unwrap()
        .success());
    l.wait("the terminal restored", |_| {
        l.var("alternate_on") == "0"
            && l.var("mouse_any_flag") == "0"
            && l.var("cursor_flag") == "1"
    });
    // Its work done, the guard is gone too.
    l.wait("the guard to exit", |_| !alive(guard));
    // A fresh prompt, and what is typed shows as it is typed (echo on).
    l.keys(&["Enter"]);
    l.wait("bash's prompt", |s| last_line(s).trim() == "$");
    l.type_text("echo typed-$((6*7))");
    l.wait_for("$ echo typed-$((6*7))");
    l.keys(&["Enter"]);
    l.wait_for("typed-42");
}

#[test]
fn the_sandbox_shell_speaks_utf_8() {
    let Some(l) = in_the_05_shell("locale") else {
        return;
    };
    // Under POSIX, ls would print '/tmp/'$'\345\256\271…'.
    l.type_text("touch /tmp/容器.txt; printf 'LS:'; ls /tmp/*.txt; echo \"L=$LANG\"");
    l.keys(&["Enter"]);
    let s = l.wait_for("L=C.UTF-8");
    assert!(s.contains("LS:/tmp/容器.txt"), "ls shows the name:\n{s}");
    l.keys(&["F6"]);
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn after_a_run_block_the_status_bar_shows_the_way_back_to_the_lesson() {
    let Some(l) = Learner::new("back") else {
        return;
    };
    if !l.can_sandbox() {
        return;
    }
    l.start(80, 24, "--lang zh open 05-process");
    l.wait_for(PROMPT);
    assert!(l.screen().contains("? 帮助"));
    // Run the first block: focus moves to the shell, and the status bar
    // stops listing keys that now go to bash.
    l.keys(&["]"]);
    l.keys(&["Enter"]);
    let s = l.wait_for("按键发往终端 · F6 回到课文");
    assert!(!s.contains("q 退出"), "q goes to the shell now:\n{s}");
    // An inspector in front: its own keys.
    l.keys(&["F7"]);
    l.wait_for("j/k 滚动 · Esc 或 F6 回到课文");
    l.keys(&["F7"]);
    l.wait_for("按键发往终端");
    // F6: back in the lesson, whose keys work again (`]` to the next block).
    l.keys(&["F6"]);
    l.wait_for("? 帮助 · / 搜索 · q 退出");
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn an_unwritable_data_dir_is_announced_at_start_up() {
    use std::os::unix::fs::PermissionsExt;
    let Some(l) = Learner::new("rodata") else {
        return;
    };
    std::fs::set_permissions(&l.data_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    l.start(80, 24, "--lang zh open 05-process");
    // Before any key, in the status bar, with the way out.
    l.wait_for("进度不会保存：数据目录无法写入，请退出后用 --data-dir");
    l.keys(&["q"]);
    // Nothing is lost that the learner was not told about: a normal exit.
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn reset_asks_first_and_only_y_resets() {
    let Some(l) = in_the_05_shell("reset") else {
        return;
    };
    l.type_text("touch /root/kept; echo MADE-$((6*7))");
    l.keys(&["Enter"]);
    l.wait_for("MADE-42");
    l.keys(&["F6"]);
    l.wait_for("? 帮助");
    // R asks; n keeps the sandbox (and its file).
    l.keys(&["R"]);
    l.wait_for("重置沙箱？");
    l.keys(&["n"]);
    l.wait_for("沙箱未重置");
    l.keys(&["Tab"]);
    l.wait_for("F6 返回课文");
    l.type_text("ls /root/kept && echo STILL-$((6*7))");
    l.keys(&["Enter"]);
    l.wait_for("STILL-42");
    l.keys(&["F6"]);
    l.wait_for("? 帮助");
    // R, y: a fresh sandbox, without the file.
    l.keys(&["R"]);
    l.wait_for("重置沙箱？");
    l.keys(&["y"]);
    l.wait("a fresh shell", |s| {
        s.contains(PROMPT) && !s.contains("STILL-42")
    });
    l.keys(&["Tab"]);
    l.wait_for("F6 返回课文");
    l.type_text("ls /root/kept || echo GONE-$((6*7))");
    l.keys(&["Enter"]);
    l.wait_for("GONE-42");
    l.keys(&["F6"]);
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn the_outline_at_80_columns_tells_lessons_apart() {
    let Some(l) = Learner::new("outline") else {
        return;
    };
    l.start(80, 24, "--lang zh open 01-whale-debut");
    let s = l.wait_for("容器技术概念入门篇");
    // Outline rows: the text between the first pair of borders.
    let rows: Vec<String> = s
        .lines()
        .filter_map(|line| line.split('│').nth(1))
        .map(|c| {
            c.trim_start_matches(['◐', '✓', '•', ' '])
                .trim()
                .to_string()
        })
        .filter(|c| !c.is_empty())
        .collect();
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            assert_ne!(a, b, "two outline rows read the same:\n{s}");
        }
    }
    assert!(
        s.contains("（一）：从进"),
        "the distinct part is shown:\n{s}"
    );
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn the_namespaces_pane_lists_time_too() {
    let Some(l) = Learner::new("timens") else {
        return;
    };
    if !l.can_sandbox() || !std::path::Path::new("/proc/self/ns/time").exists() {
        eprintln!("SKIP: no sandbox or no time namespaces on this kernel");
        return;
    }
    l.start(80, 24, "--lang zh open 00-opening");
    l.wait_for(PROMPT);
    l.keys(&["Tab"]);
    l.keys(&["F7"]);
    l.wait_for("[命名空间]");
    l.keys(&["G"]);
    let s = l.wait("the time row", |s| s.lines().any(|r| r.contains("│time ")));
    let row = s.lines().find(|r| r.contains("│time ")).unwrap();
    assert!(
        row.contains("共享"),
        "sandboxes share the host's clock: {row}"
    );
    l.keys(&["F6"]);
    l.keys(&["q"]);
    l.wait_for("KUBELAB_EXIT=0");
}

#[test]
fn a_dumb_terminal_gets_a_clear_refusal_not_escape_sequences() {
    let Some(l) = Learner::new("dumb") else {
        return;
    };
    let cmd = l
        .command("--lang zh open 01-whale-debut")
        .replace("TERM=xterm-256color", "TERM=dumb");
    l.new_session(
        80,
        24,
        &[
            "sh",
            "-c",
            &format!("{cmd}; echo KUBELAB_EXIT=$?; exec sleep 600"),
        ],
    );
    let s = l.wait_for("KUBELAB_EXIT=2");
    assert!(s.contains("TERM=dumb") && s.contains("kubelab list"), "{s}");
    assert_eq!(l.var("alternate_on"), "0", "never drew the TUI");
}
