//! Behaviour of the reader on `TestBackend`: keys, mouse, search, resize,
//! interactive blocks and the panes extension point.

mod tui_common;
use crossterm::event::{KeyCode, MouseEventKind};
use kubelab::app::library::Content;
use kubelab::app::{build_app, update, Action, App, AppOptions, Focus, Overlay, PaneHost};
use kubelab::course::model::Lang;
use kubelab::doc::ir::RunBlock;
use std::sync::{Arc, Mutex};
use tui_common::*;

fn current_id(a: &App) -> Option<&str> {
    a.lib.entries[a.current].id.as_deref()
}

#[test]
fn scrolling_keys() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "jjj");
    assert_eq!(a.scroll, 3);
    keys(&mut a, "k");
    assert_eq!(a.scroll, 2);
    key(&mut a, KeyCode::PageDown);
    assert!(a.scroll > 10, "page down moves a page: {}", a.scroll);
    keys(&mut a, "G");
    let total = a.rendered().unwrap().lines.len();
    assert_eq!(a.scroll, total - a.page_height());
    keys(&mut a, "jjj");
    assert_eq!(a.scroll, total - a.page_height(), "clamped at the end");
    keys(&mut a, "g");
    assert_eq!(a.scroll, 0);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::End);
    key(&mut a, KeyCode::Home);
    assert_eq!(a.scroll, 0);
    keys(&mut a, "kkk");
    assert_eq!(a.scroll, 0, "clamped at the top");
}

#[test]
fn next_and_previous_lesson_skip_drafts() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    assert_eq!(current_id(&a), Some("intro"));
    keys(&mut a, "n");
    assert_eq!(current_id(&a), Some("isolation"));
    assert!(a.fallback(), "isolation exists only in English");
    keys(&mut a, "n");
    assert!(matches!(
        a.lib.entries[a.current].content,
        Content::Error(_)
    ));
    keys(&mut a, "n");
    assert!(
        matches!(a.lib.entries[a.current].content, Content::Error(_)),
        "last entry is a draft: stay"
    );
    keys(&mut a, "ppp");
    assert_eq!(current_id(&a), Some("intro"));
}

#[test]
fn outline_focus_and_enter() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Outline);
    keys(&mut a, "j");
    key(&mut a, KeyCode::Enter);
    assert_eq!(current_id(&a), Some("isolation"));
    assert_eq!(a.focus, Focus::Lesson);
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Focus::Outline);
    keys(&mut a, "G");
    key(&mut a, KeyCode::Enter);
    assert!(matches!(a.lib.entries[a.current].content, Content::Draft));
    assert!(screen_has(&a, "这一章还在写作中"));
}

#[test]
fn reading_position_is_kept_per_lesson() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "jjjjjjjjjj");
    let top = a.top_source_line();
    keys(&mut a, "np");
    assert_eq!(a.top_source_line(), top);
}

#[test]
fn search_jumps_to_the_hit() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "/第一个进程");
    let Overlay::Search(s) = &a.overlay else {
        panic!("search open")
    };
    assert_eq!(s.hits.len(), 1, "{:?}", s.hits);
    let line = s.hits[0].line;
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.overlay, Overlay::None);
    let target = a.rendered().unwrap().line_for_source(line);
    assert!((a.scroll..a.scroll + a.page_height()).contains(&target));
    assert!(screen_has(&a, "第一个进程的 PID 是多少"));
    assert!(a.search_target.is_some());
    assert!(screen_has(&a, "›"), "the hit is marked in the gutter");

    // Across lessons, with arrows, and in the other language's lesson.
    keys(&mut a, "g/hostname");
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Enter);
    assert_eq!(current_id(&a), Some("isolation"));

    keys(&mut a, "/zzzz-nothing");
    assert!(screen_has(&a, "没有匹配的结果"));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn help_overlay_lists_every_key_and_closes() {
    let mut a = app(120, 40, Lang::En, Lang::En);
    keys(&mut a, "?");
    let screen = draw(&a);
    for (k, d) in a.strings.keys {
        assert!(screen.contains(k) && screen.contains(d), "help lists {k}");
    }
    keys(&mut a, "?");
    assert_eq!(a.overlay, Overlay::None);
    keys(&mut a, "?");
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.overlay, Overlay::None);
}

#[test]
fn quit_keys() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "q");
    assert!(a.quit);
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    ctrl(&mut a, 'c');
    assert!(a.quit);
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    ctrl(&mut a, 'z');
    assert!(a.suspend && !a.quit);
}

#[test]
fn mouse_wheel_and_clicks() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    let lay = a.layout();
    let (lx, ly) = (lay.lesson_text.x + 3, lay.lesson_text.y + 2);
    mouse(&mut a, MouseEventKind::ScrollDown, lx, ly);
    assert_eq!(a.scroll, 3);
    mouse(&mut a, MouseEventKind::ScrollUp, lx, ly);
    assert_eq!(a.scroll, 0);
    // Outline rows: "第一部分", intro, isolation, ...
    click(&mut a, lay.outline.x + 3, lay.outline.y + 3);
    assert_eq!(current_id(&a), Some("isolation"));
    click(&mut a, lay.outline.x + 3, lay.outline.y + 1);
    assert_eq!(
        current_id(&a),
        Some("isolation"),
        "module title rows do nothing"
    );
    click(&mut a, lay.outline.x + 3, lay.outline.y + 2);
    assert_eq!(current_id(&a), Some("intro"));

    // Click a run block: focus it; click again: activate (no panes: message).
    let b = a.rendered().unwrap().blocks[0].clone();
    update::update(&mut a, Action::Scroll(b.lines.start as isize));
    let row = lay.lesson_text.y + (b.lines.start - a.scroll) as u16;
    click(&mut a, lx, row);
    assert_eq!(a.block_focus, Some(b.index));
    click(&mut a, lx, row);
    assert_eq!(a.message.as_deref(), Some(a.strings.run_unavailable));
}

#[test]
fn solution_reveal_and_quiz_answer_are_remembered() {
    let mut a = app(120, 40, Lang::Zh, Lang::Zh);
    assert!(!screen_has(&a, "◇ 参考答案  已隐藏") || screen_has(&a, "已隐藏"));
    keys(&mut a, "G]]]");
    assert!(screen_has(&a, "已隐藏"));
    key(&mut a, KeyCode::Enter);
    assert!(!screen_has(&a, "已隐藏"));
    keys(&mut a, "]b");
    assert!(screen_has(&a, "✓ 回答正确"));
    assert!(screen_has(&a, "新 namespace 里的第一个进程总是 1 号进程"));
    // Leave and come back: the answer is still there and the outline shows
    // progress (1 of 2 items: the quiz, not the check).
    keys(&mut a, "np");
    assert!(screen_has(&a, "✓ 回答正确"));
    assert!(screen_has(&a, "◐  容器与进程"));
}

#[test]
fn resize_keeps_the_reading_position_and_never_panics() {
    let mut a = app(120, 40, Lang::Zh, Lang::Zh);
    keys(&mut a, "jjjjjjjjjjjj");
    let top = a.top_source_line();
    resize(&mut a, 80, 24);
    assert_eq!(a.top_source_line(), top);
    resize(&mut a, 120, 40);
    assert_eq!(a.top_source_line(), top);
    for w in (1..=130).step_by(3) {
        for h in [1, 2, 5, 8, 10, 24, 41] {
            resize(&mut a, w, h);
            let s = draw(&a);
            if (10..40).contains(&w) && h >= 3 {
                assert!(s.contains("终端太窄"), "{w}x{h}");
            }
            keys(&mut a, "jG/n");
            key(&mut a, KeyCode::Esc);
            keys(&mut a, "?");
            draw(&a);
            keys(&mut a, "?");
        }
    }
}

#[test]
fn narrow_terminal_shows_the_focused_side() {
    let mut a = app(50, 20, Lang::Zh, Lang::Zh);
    assert!(screen_has(&a, "容器其实是"));
    key(&mut a, KeyCode::Tab);
    let s = draw(&a);
    assert!(s.contains("目录") && !s.contains("容器其实是"), "{s}");
}

#[test]
fn english_ui_and_lessons() {
    let a = app(80, 24, Lang::En, Lang::En);
    let s = draw(&a);
    assert!(s.contains("Containers and processes") && s.contains("? help"));
    let mut a = app(80, 24, Lang::En, Lang::En);
    keys(&mut a, "n");
    assert_eq!(current_id(&a), Some("isolation"));
    assert!(!a.fallback());
}

/// A stand-in for the live panes, recording what the reader asks of it.
#[derive(Default, Clone)]
struct FakePanes(Arc<Mutex<Vec<String>>>);

impl PaneHost for FakePanes {
    fn lesson_opened(&mut self, lesson: Option<&kubelab::course::model::Lesson>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("open {:?}", lesson.map(|l| l.front.id.clone())));
    }
    fn run_block(&mut self, block: &RunBlock) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push(format!("run {}", block.code.trim()));
        Ok(())
    }
    fn key(&mut self, key: crossterm::event::KeyEvent) -> bool {
        self.0.lock().unwrap().push(format!("key {:?}", key.code));
        key.code != KeyCode::F(6)
    }
    fn help_keys(&self, _lang: Lang) -> Vec<(String, String)> {
        vec![("F6".into(), "leave the fake panes".into())]
    }
    fn draw(&self, frame: &mut ratatui::Frame, area: ratatui::layout::Rect, focused: bool) {
        let text = if focused {
            "FAKE PANES (focused)"
        } else {
            "FAKE PANES"
        };
        frame.render_widget(ratatui::widgets::Paragraph::new(text), area);
    }
}

#[test]
fn panes_extension_point() {
    let fake = FakePanes::default();
    let mut a = app(120, 40, Lang::Zh, Lang::Zh);
    a.panes = Box::new(fake.clone());
    update::update(&mut a, Action::NextLesson);
    assert_eq!(current_id(&a), Some("isolation"));
    assert!(a.layout().panes.is_some());
    assert!(screen_has(&a, "FAKE PANES"));
    // Enter on the run block runs it and moves focus into the panes.
    keys(&mut a, "]");
    key(&mut a, KeyCode::Enter);
    assert_eq!(a.focus, Focus::Panes);
    assert!(screen_has(&a, "FAKE PANES (focused)"));
    // Keys go to the panes (even q) until the panes give focus back.
    keys(&mut a, "q");
    assert!(!a.quit);
    key(&mut a, KeyCode::F(6));
    assert_eq!(a.focus, Focus::Lesson);
    // Tab cycles outline → lesson → panes; in the panes Tab belongs to them.
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Panes);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.focus, Focus::Panes);
    key(&mut a, KeyCode::F(6));
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Focus::Outline);
    // The panes add their keys to the help overlay.
    keys(&mut a, "?");
    assert!(screen_has(&a, "leave the fake panes"));
    keys(&mut a, "?");
    // A lesson without panes has no pane area and focus leaves it.
    keys(&mut a, "p");
    assert!(a.layout().panes.is_none());
    let log = fake.0.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            "open Some(\"isolation\")",
            "run hostname",
            "key Char('q')",
            "key F(6)",
            "key Tab",
            "key F(6)",
            "open Some(\"intro\")",
        ]
    );
}

#[test]
fn reopens_at_the_saved_position_and_remembers_answers() {
    let dir = tempfile::tempdir().unwrap();
    let opts = |progress| AppOptions {
        progress,
        ..AppOptions::reader(fixture(), Lang::Zh)
    };
    let open_store = || {
        kubelab::progress::Store::open(dir.path(), "test")
            .unwrap()
            .store
    };
    let mut a = build_app(&opts(Some(open_store())), (80, 24)).unwrap();
    keys(&mut a, "G]]]]b");
    keys(&mut a, "gjjjjjjj");
    let top = a.top_source_line();
    assert!(top > 0);
    update::save_position(&mut a);
    let mut store = open_store();
    store.progress = a.progress.clone();
    store.save().unwrap();

    let b = build_app(&opts(Some(open_store())), (100, 24)).unwrap();
    assert_eq!(b.current, a.current);
    assert_eq!(b.top_source_line(), top, "same source line, other width");
    assert_eq!(b.states[b.current].quiz.get("q-pid"), Some(&1));
    assert!(screen_has(&b, "◐  容器与进程"));
}

#[test]
fn clicking_a_search_result_jumps_there() {
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "/hostname");
    let (_, results) = kubelab::app::layout::search_box(&a.layout());
    click(&mut a, results.x + 2, results.y);
    assert_eq!(a.overlay, Overlay::None);
    assert_eq!(current_id(&a), Some("isolation"));
    // A click outside the results does nothing.
    keys(&mut a, "/hostname");
    click(&mut a, 0, 0);
    assert!(matches!(a.overlay, Overlay::Search(_)));
}

/// Panes that bring many keys of their own.
struct ManyKeys;

impl PaneHost for ManyKeys {
    fn help_keys(&self, _lang: Lang) -> Vec<(String, String)> {
        (0..12)
            .map(|i| (format!("F{}", i + 1), format!("pane action {i}")))
            .collect()
    }
}

#[test]
fn help_lists_every_key_even_when_it_is_long() {
    let mut a = app(120, 24, Lang::En, Lang::En);
    a.panes = Box::new(ManyKeys);
    keys(&mut a, "?");
    let screen = draw(&a);
    for (k, d) in a.strings.keys {
        // Long descriptions wrap inside their column.
        assert!(screen.contains(k), "help lists {k}:\n{screen}");
        for word in d.split_whitespace() {
            assert!(
                screen.contains(word),
                "help shows {word:?} of {k}:\n{screen}"
            );
        }
    }
    for i in 0..12 {
        assert!(screen.contains(&format!("pane action {i}")), "{screen}");
    }
}

#[test]
fn a_block_that_grows_stays_in_view() {
    // A quiz whose question is the last thing on screen: answering it adds
    // the verdict and explanation below the fold; the view must follow.
    let mut a = app(80, 24, Lang::Zh, Lang::Zh);
    keys(&mut a, "G");
    let quiz = a
        .rendered()
        .unwrap()
        .blocks
        .iter()
        .rev()
        .find(|b| b.kind == kubelab::render::InteractiveKind::Quiz)
        .cloned()
        .expect("fixture has a quiz");
    let h = a.page_height();
    a.scroll = quiz.lines.end.saturating_sub(h);
    update::update(&mut a, Action::FocusBlockIndex(quiz.index));
    keys(&mut a, "b");
    let grown = a
        .rendered()
        .unwrap()
        .blocks
        .iter()
        .find(|b| b.index == quiz.index)
        .cloned()
        .unwrap();
    assert!(grown.lines.end > quiz.lines.end, "the quiz grew");
    assert!(
        grown.lines.end <= a.scroll + h && grown.lines.start >= a.scroll,
        "block {:?} not fully in view at scroll {} (height {h})",
        grown.lines,
        a.scroll
    );
    assert!(screen_has(&a, "新 namespace 里的第一个进程总是 1 号进程"));
}

/// Panes asking a question (like the trust dialog) until answered.
#[derive(Default, Clone)]
struct AskingPanes(Arc<Mutex<(bool, Vec<String>)>>);

impl PaneHost for AskingPanes {
    fn key(&mut self, key: crossterm::event::KeyEvent) -> bool {
        let mut s = self.0.lock().unwrap();
        s.1.push(format!("key {:?}", key.code));
        if matches!(key.code, KeyCode::Char('y')) {
            s.0 = false;
        }
        true
    }
    fn modal(&self) -> bool {
        self.0.lock().unwrap().0
    }
}

#[test]
fn f7_and_dialog_answers_reach_the_panes_from_any_focus() {
    let panes = AskingPanes::default();
    panes.0.lock().unwrap().0 = true;
    let mut a = app(120, 40, Lang::Zh, Lang::Zh);
    a.panes = Box::new(panes.clone());
    update::update(&mut a, Action::NextLesson);
    assert_eq!(current_id(&a), Some("isolation"));
    assert_eq!(a.focus, Focus::Lesson);
    // While the question shows, n is its answer, not "next lesson".
    keys(&mut a, "n");
    assert_eq!(current_id(&a), Some("isolation"));
    key(&mut a, KeyCode::BackTab);
    assert_eq!(a.focus, Focus::Outline);
    keys(&mut a, "y");
    // Answered: keys are the reader's again; F7 still goes to the panes.
    key(&mut a, KeyCode::F(7));
    assert_eq!(a.focus, Focus::Outline);
    keys(&mut a, "j");
    let log = panes.0.lock().unwrap().1.clone();
    assert_eq!(log, vec!["key Char('n')", "key Char('y')", "key F(7)"]);
}

#[test]
fn help_scrolls_at_small_sizes_and_always_shows_how_to_quit() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(60, 20, lang, lang);
        keys(&mut a, "?");
        let first = draw(&a);
        let quit = if lang == Lang::Zh {
            "q 退出"
        } else {
            "q quit"
        };
        assert!(first.contains(quit), "{first}");
        let (last_key, last_desc) = *a.strings.keys.last().unwrap();
        assert!(
            !first.contains(last_key),
            "60×20 cannot show every key:\n{first}"
        );
        // Scroll to the end: the last key shows, the footer still names quit.
        keys(&mut a, "G");
        assert!(a.help_scroll > 0);
        let end = draw(&a);
        assert!(end.contains(last_key) && end.contains(last_desc), "{end}");
        assert!(end.contains(quit), "{end}");
        // j past the end stays clamped; k goes back up.
        let s = a.help_scroll;
        keys(&mut a, "j");
        assert_eq!(a.help_scroll, s);
        keys(&mut a, "k");
        assert_eq!(a.help_scroll, s - 1);
        assert_eq!(a.overlay, Overlay::Help, "j/k do not close it");
        keys(&mut a, "q");
        assert!(a.quit);
    }
}
