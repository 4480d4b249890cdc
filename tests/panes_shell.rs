//! The shell pane against a real `/bin/sh` in a real PTY: typed input, screen
//! text, resize, full-screen programs, exit/restart and a flood.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kubelab::panes::pty::{self, PtySize};
use kubelab::panes::shell::{KeyOutcome, ShellPane, Spawner};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn host_shell() -> Spawner {
    Arc::new(|size: PtySize| {
        pty::spawn_host("/bin/sh", &[], &[("PS1", "lab$ "), ("ENV", "")], size)
    })
}

fn pane() -> ShellPane {
    let mut p = ShellPane::new("shell", host_shell(), Arc::new(|| {}));
    p.resize_to(Rect::new(0, 0, 82, 26));
    p.start();
    p
}

/// Polls the pane (as the UI loop would) until `pred` holds on the screen.
fn wait_for(p: &mut ShellPane, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        p.poll();
        let text = p.screen_text();
        if pred(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn type_keys(p: &mut ShellPane, s: &str) {
    for c in s.chars() {
        let k = if c == '\n' {
            key(KeyCode::Enter)
        } else {
            key(KeyCode::Char(c))
        };
        assert_eq!(p.handle_key(&k), KeyOutcome::Consumed);
    }
}

#[test]
fn typed_keys_reach_the_shell_and_output_is_on_screen() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    type_keys(&mut p, "echo $((40+2))-ok\n");
    wait_for(&mut p, "echo output", |t| t.contains("42-ok"));
    // The release key never reaches the shell.
    assert_eq!(p.handle_key(&key(KeyCode::F(6))), KeyOutcome::Release);
}

#[test]
fn resize_reaches_the_program_and_the_parser() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.resize_to(Rect::new(0, 0, 52, 19)); // inner 17 rows × 50 cols
    p.type_text("stty size");
    wait_for(&mut p, "stty size", |t| t.contains("17 50"));
    assert_eq!(p.session().unwrap().parser().screen().size(), (17, 50));
    // Absurd sizes are clamped, never passed through.
    p.resize_to(Rect::new(0, 0, 3, 2));
    let s = p.session().unwrap().size();
    assert_eq!((s.rows, s.cols), (pty::MIN_ROWS, pty::MIN_COLS));
}

#[test]
fn full_screen_program_uses_the_alternate_screen_and_returns() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("seq 1 500 | less");
    wait_for(&mut p, "less", |t| t.lines().any(|l| l.trim() == "20"));
    assert!(p.session().unwrap().parser().screen().alternate_screen());
    type_keys(&mut p, "q");
    p.type_text("echo back-$((1+1))");
    wait_for(&mut p, "shell after less", |t| t.contains("back-2"));
    assert!(!p.session().unwrap().parser().screen().alternate_screen());
}

#[test]
fn exit_shows_the_code_and_enter_restarts() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("exit 7");
    let deadline = Instant::now() + Duration::from_secs(30);
    while p.exit_code().is_none() {
        p.poll();
        assert!(Instant::now() < deadline, "shell did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(p.exit_code(), Some(7));
    let mut buf = Buffer::empty(Rect::new(0, 0, 82, 26));
    p.render(buf.area, &mut buf, true);
    let drawn: String = buf.content().iter().map(|c| c.symbol()).collect();
    assert!(
        drawn.contains("exited (code 7) — press Enter to restart"),
        "{drawn}"
    );
    p.handle_key(&key(KeyCode::Enter));
    wait_for(&mut p, "new prompt", |t| t.contains("lab$"));
    assert_eq!(p.exit_code(), None);
}

#[test]
fn scrollback_shows_older_lines() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("seq 1 200");
    // The last number on a line of its own, then the next prompt.
    wait_for(&mut p, "seq", |t| {
        let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        lines.len() >= 2 && lines[lines.len() - 2] == "200" && lines[lines.len() - 1] == "lab$"
    });
    let shift = KeyModifiers::SHIFT;
    let before = p.screen_text();
    assert!(!before.lines().any(|l| l.trim() == "160"), "{before}");
    for _ in 0..2 {
        p.handle_key(&KeyEvent::new(KeyCode::PageUp, shift));
    }
    assert_eq!(p.scroll_offset(), 24);
    let text = p.screen_text();
    assert!(text.lines().any(|l| l.trim() == "160"), "{text}");
    assert!(!text.lines().any(|l| l.trim() == "200"), "{text}");
}

#[test]
fn a_flood_does_not_stop_the_ui_from_drawing_and_handling_keys() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("yes | head -c 50000000; echo flood-done-$((6*7))");
    let mut buf = Buffer::empty(Rect::new(0, 0, 82, 26));
    let mut frames_during_flood = 0;
    let mut key_handled_during_flood = false;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        p.poll();
        p.render(buf.area, &mut buf, true);
        let flowing = p.session().unwrap().bytes_read() > 1_000_000;
        let done = p.screen_text().contains("flood-done-42");
        if flowing && !done {
            frames_during_flood += 1;
            if !key_handled_during_flood {
                // A key is handled while the flood is running: scroll up.
                p.handle_key(&KeyEvent::new(KeyCode::PageUp, KeyModifiers::SHIFT));
                key_handled_during_flood = p.scroll_offset() > 0;
                p.handle_key(&key(KeyCode::Char('x')));
            }
        }
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "flood never finished");
        std::thread::sleep(Duration::from_millis(16));
    }
    assert!(
        frames_during_flood > 0,
        "no frame was drawn while the flood ran"
    );
    assert!(
        key_handled_during_flood,
        "no key was handled while the flood ran"
    );
    assert!(p.session().unwrap().bytes_read() >= 50_000_000);
}

#[test]
fn a_shell_started_for_a_stopped_pane_is_killed_and_reaped() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let (go, wait_go) = std::sync::mpsc::channel::<()>();
    let wait_go = std::sync::Mutex::new(wait_go);
    let script = format!(
        "trap '' HUP; echo $$ > {}; exec sleep 300",
        pid_file.display()
    );
    let file = pid_file.clone();
    let spawner: Spawner = Arc::new(move |size: PtySize| {
        // The pane is stopped while its program is still starting.
        let _ = wait_go.lock().unwrap().recv();
        let spawned = pty::spawn_host("/bin/sh", &["-c", &script], &[], size)?;
        // Up and running (its pid written) before the pane could pick it up.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !file.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(spawned)
    });
    let mut p = ShellPane::new("shell", spawner, Arc::new(|| {}));
    p.start();
    p.stop();
    go.send(()).unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the program never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Gone from /proc: killed, and reaped (a zombie would still be listed).
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    while proc_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let leaked = proc_dir.exists();
    if leaked {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(!leaked, "pid {pid} outlived its stopped pane");
}

#[test]
fn random_bytes_from_the_program_do_not_break_the_pane() {
    // Fixed pseudo-random bytes (a failure reproduces), dense in escapes.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("noise");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..1_000_000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 7 == 0 {
                0x1b
            } else {
                (x >> 24) as u8
            }
        })
        .collect();
    std::fs::write(&file, noise).unwrap();
    let script = format!("cat {}; exit 3", file.display());
    let spawner: Spawner =
        Arc::new(move |size: PtySize| pty::spawn_host("/bin/sh", &["-c", &script], &[], size));
    let mut p = ShellPane::new("shell", spawner, Arc::new(|| {}));
    p.resize_to(Rect::new(0, 0, 82, 26));
    p.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while p.exit_code().is_none() {
        p.poll();
        // Draw and resize meanwhile, as the UI would.
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 20));
        p.render(buf.area, &mut buf, true);
        assert!(Instant::now() < deadline, "the pane never saw the exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(p.exit_code(), Some(3));
}

#[test]
fn output_after_a_resize_while_drawing_wakes_the_ui() {
    // The UI polls a pane only when woken. Drawing resizes the PTY; output
    // that arrives after that resize must still send a wake-up, or the
    // prompt stays invisible until the next key (blank shell on launch).
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(tx);
    let notify = Arc::new(move || {
        let _ = tx.lock().unwrap().send(());
    });
    let mut p = ShellPane::new("shell", host_shell(), notify);
    p.resize_to(Rect::new(0, 0, 82, 26));
    p.start();
    let woken_until = |p: &mut ShellPane, what: &str, pred: &dyn Fn(&str) -> bool| loop {
        if rx.recv_timeout(Duration::from_secs(20)).is_err() {
            panic!(
                "no wake-up while waiting for {what}; screen:\n{}",
                p.screen_text()
            );
        }
        p.poll();
        if pred(&p.screen_text()) {
            return;
        }
    };
    woken_until(&mut p, "prompt", &|t| t.contains("lab$"));
    // Draw at another size, as the first frame after a layout change does.
    let area = Rect::new(0, 0, 60, 20);
    p.render(area, &mut Buffer::empty(area), false);
    p.type_text("echo woke-$((40+2))");
    woken_until(&mut p, "the command's output", &|t| t.contains("woke-42"));
}

#[test]
fn shrinking_the_pane_keeps_the_cursor_line_and_moves_the_rest_to_scrollback() {
    let mut p = pane(); // inner 24 rows
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("i=1; while [ $i -le 30 ]; do echo row-$i; i=$((i+1)); done; echo end-$((6*7))");
    wait_for(&mut p, "the rows", |t| t.contains("end-42"));
    // Inner 8 rows: the last output and the prompt stay on screen…
    p.resize_to(Rect::new(0, 0, 82, 10));
    let text = p.screen_text();
    assert!(text.contains("end-42"), "{text}");
    assert!(!text.contains("row-20\n"), "{text}");
    // …and the lines above went to the scrollback.
    p.scroll_by(12);
    let text = p.screen_text();
    assert!(text.contains("row-20"), "scrollback:\n{text}");
}

/// A run block's lines go in one at a time: the first reads its standard
/// input for a moment (as `runc exec` does); typed all at once, it would
/// have read the second line, which then never ran.
#[test]
fn a_run_block_types_each_line_once_the_one_before_has_finished() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("bash -c 'read -t 0.5 x; echo \"read:[$x]\"'\necho second-$((1+1))");
    assert!(p.typing(), "the second line waits for the first");
    let t = wait_for(&mut p, "the second line's output", |t| {
        t.contains("second-2") || t.contains("read:[echo")
    });
    assert!(
        t.contains("read:[]"),
        "the first line read the second:\n{t}"
    );
    assert!(!p.typing());
}

/// A key from the learner drops what a run block has not typed yet.
#[test]
fn the_learner_typing_stops_a_run_block() {
    let mut p = pane();
    wait_for(&mut p, "prompt", |t| t.contains("lab$"));
    p.type_text("sleep 1\necho never-$((2+2))");
    type_keys(&mut p, "\n");
    assert!(!p.typing());
    type_keys(&mut p, "echo after-$((3+3))\n");
    wait_for(&mut p, "the learner's command", |t| t.contains("after-6"));
    std::thread::sleep(Duration::from_millis(1500));
    p.poll();
    assert!(!p.screen_text().contains("never-4"), "{}", p.screen_text());
}
