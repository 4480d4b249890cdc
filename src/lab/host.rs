//! [`LabHost`]: the live panes plugged into the reader (`app::PaneHost`).
//!
//! Keys while the pane area has focus go to the shell, except F6 (back to
//! the lesson) and F7 (show the next inspector pane).

use super::exposure::CourseExposure;
use super::harness::SandboxFactory;
use super::live::LiveLab;
use super::trust::{self, TrustState, TrustStore};
use super::trust_dialog::{DialogKey, TrustDialog};
use crate::app::{EventSender, PaneHost};
use crate::course::model::Lang;
use crate::course::model::Lesson;
use crate::doc::ir::RunBlock;
use crate::panes::inspect::render as inspect_render;
use crate::panes::kind::PaneKind;
use crate::panes::session::Notify;
use crate::panes::shell::KeyOutcome;
use crate::panes::text::{fill, text, PaneText};
use crate::render::CheckStatus;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use ratatui::Frame;
use std::cell::Cell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Shows the next inspector pane.
pub const NEXT_INSPECTOR: KeyCode = KeyCode::F(7);
/// Shows the next shell of a lab with several (a world's nodes).
pub const NEXT_SHELL: KeyCode = KeyCode::F(8);

mod draw;
use draw::one_pane_line;

/// The live panes of the lesson on screen.
pub struct LabHost {
    factory: Arc<dyn SandboxFactory + Send + Sync>,
    kubelab: PathBuf,
    notify: Notify,
    lab: Option<LiveLab>,
    /// The question about the lesson shown, when its lab waits for it.
    waiting: Option<TrustDialog>,
    trust: TrustState,
    /// In a cramped pane area (one view at a time): whether the shell is on
    /// show rather than the inspector `lab.inspector`.
    cramped_shell: bool,
    /// Whether the last frame was cramped: F7 then steps through the shell
    /// too. Set while drawing (`&self`), read on the next key.
    cramped: Cell<bool>,
    /// Rows the inspector on show is scrolled down (keys while it alone is
    /// on show and focused); the drawn value, clamped to its content.
    inspector_scroll: Cell<usize>,
    /// Rows inside the inspector drawn last (a page for PgUp/PgDn).
    page_rows: Cell<u16>,
    /// Source lines the lesson view shows (the visible steps' checks run).
    lines: Option<(u32, u32)>,
    /// The source line being read (its step may choose the inspector).
    reading: Option<u32>,
    /// Pane text in the UI language.
    text: &'static PaneText,
    /// Where a "yes" to the trust question is remembered.
    trust_store: Option<TrustStore>,
    /// Labs being torn down (and the trust answer being saved) on their
    /// own threads; joined at shutdown.
    retiring: Vec<std::thread::JoinHandle<()>>,
}

impl LabHost {
    /// `trust`: [`TrustState::Builtin`] for the built-in course, else ask
    /// (or [`TrustState::Trusted`] with `--trust`).
    pub fn new(
        factory: Arc<dyn SandboxFactory + Send + Sync>,
        kubelab: PathBuf,
        trust: TrustState,
    ) -> LabHost {
        LabHost {
            factory,
            kubelab,
            notify: Arc::new(|| {}),
            lab: None,
            waiting: None,
            trust,
            cramped_shell: true,
            cramped: Cell::new(false),
            inspector_scroll: Cell::new(0),
            page_rows: Cell::new(1),
            reading: None,
            lines: None,
            text: text(Lang::En),
            trust_store: None,
            retiring: Vec::new(),
        }
    }

    /// Drops the running lab (if any) on a helper thread: tearing sandboxes
    /// down kills and waits for processes and removes cgroups, which must
    /// never stall the UI task (docs/ARCHITECTURE.md, pattern 6).
    fn retire_lab(&mut self) {
        let Some(lab) = self.lab.take() else { return };
        self.retiring.retain(|h| !h.is_finished());
        // If no thread can be spawned, the failed spawn drops the closure,
        // and the lab with it, right here (slow, but nothing leaks).
        if let Ok(h) = std::thread::Builder::new()
            .name("lab-teardown".into())
            .spawn(move || drop(lab))
        {
            self.retiring.push(h);
        }
    }

    /// Waits until every retired lab is gone (tests; [`PaneHost::shutdown`]).
    pub fn wait_retired(&mut self) {
        for h in self.retiring.drain(..) {
            let _ = h.join();
        }
    }

    /// Remember the trust answer in `store`; a course trusted before is
    /// not asked about again.
    pub fn set_trust_store(&mut self, store: TrustStore) {
        if self.trust == TrustState::Ask {
            if let Some(answer) = store.decision() {
                self.trust = answer;
            }
        }
        self.trust_store = Some(store);
    }

    /// What the prompt lists: the whole course when known, else the lesson.
    fn exposure(&self, lesson: &Lesson) -> CourseExposure {
        match &self.trust_store {
            Some(s) if !s.exposure().fingerprint.is_empty() => s.exposure().clone(),
            _ => CourseExposure::of([lesson]),
        }
    }

    /// The learner's answer to the prompt for `lesson`.
    fn answer(&mut self, answer: TrustState, lesson: Arc<Lesson>) {
        self.trust = answer;
        // Not remembered (read-only data dir): asked next time.
        // A file write (fsync'd by some filesystems): off the UI
        // task, joined at shutdown like a retiring lab.
        if let Some(store) = self.trust_store.clone() {
            let t = self.text;
            if let Ok(h) = std::thread::Builder::new()
                .name("trust-remember".into())
                .spawn(move || drop(store.remember(answer, t)))
            {
                self.retiring.push(h);
            }
        }
        self.waiting = None;
        self.start(lesson);
    }

    /// The UI language of pane text (English until set).
    pub fn set_lang(&mut self, lang: Lang) {
        self.text = text(lang);
    }

    /// Wakes the UI (what [`PaneHost::attach`] sets from the app's channel;
    /// tests and benchmarks drive the host without the app).
    pub fn set_notify(&mut self, notify: Notify) {
        self.notify = notify;
    }

    /// Whether an inspector alone fills the pane area (cramped, F7), the
    /// shell hidden behind it.
    pub fn inspector_in_front(&self) -> bool {
        self.cramped.get() && !self.cramped_shell
    }

    /// The running lab (tests and benchmarks look inside).
    pub fn lab(&self) -> Option<&LiveLab> {
        self.lab.as_ref()
    }

    pub fn lab_mut(&mut self) -> Option<&mut LiveLab> {
        self.lab.as_mut()
    }

    fn start(&mut self, lesson: Arc<Lesson>) {
        self.cramped_shell = true;
        // Sandboxes only: host folders read-only, host checks not run.
        let (lesson, declined) = if self.trust.allows_host() {
            (lesson, None)
        } else {
            (
                Arc::new(trust::sandboxes_only(&lesson)),
                Some(self.text.host_declined),
            )
        };
        let mut lab = LiveLab::start_declining_host(
            lesson,
            self.factory.clone(),
            self.kubelab.clone(),
            self.notify.clone(),
            self.text,
            declined,
        );
        if let Some((a, b)) = self.lines {
            lab.set_visible(a, b);
        }
        if let Some(line) = self.reading {
            lab.follow_step(line);
        }
        self.lab = Some(lab);
    }
}

/// Where the shell and the inspector go. Tall areas stack them, wide ones
/// put them side by side; a cramped area shows one at a time (F7 switches).
pub fn split(
    area: Rect,
    shell: bool,
    inspector: bool,
    cramped_shell: bool,
) -> (Option<Rect>, Option<Rect>) {
    match (shell, inspector) {
        (false, false) => (None, None),
        (true, false) => (Some(area), None),
        (false, true) => (None, Some(area)),
        (true, true) if area.height >= 24 => {
            let [a, b] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(area);
            (Some(a), Some(b))
        }
        (true, true) if area.width >= 100 => {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                    .areas(area);
            (Some(a), Some(b))
        }
        (true, true) if cramped_shell => (Some(area), None),
        (true, true) => (None, Some(area)),
    }
}

impl PaneHost for LabHost {
    fn attach(&mut self, events: EventSender) {
        self.notify = events.pane_notifier();
    }

    fn lesson_opened(&mut self, lesson: Option<&Lesson>) {
        let same = |a: &Lesson, b: &Lesson| a.path == b.path;
        if let (Some(l), Some(lab)) = (lesson, &self.lab) {
            if same(l, &lab.lesson) {
                return; // re-opening the lesson on screen keeps its lab
            }
        }
        self.retire_lab();
        self.waiting = None;
        let Some(l) =
            lesson.filter(|l| !l.front.lab_targets().is_empty() && !l.front.panes.is_empty())
        else {
            return;
        };
        let l = Arc::new(l.clone());
        if self.trust.allows() {
            self.start(l);
        } else {
            self.waiting = Some(TrustDialog::new(l));
        }
    }

    fn lesson_reloaded(&mut self, lesson: &Lesson) {
        match self.lab.as_mut() {
            Some(lab) if lab.lesson.path == lesson.path && lab.lesson.front == lesson.front => {
                lab.reload(Arc::new(lesson.clone()))
            }
            // New front matter (sandboxes, panes): start over.
            _ => {
                self.retire_lab();
                self.lesson_opened(Some(lesson));
            }
        }
    }

    fn visible_lines(&mut self, first: u32, last: u32) {
        if self.lines == Some((first, last)) {
            return;
        }
        self.lines = Some((first, last));
        if let Some(lab) = self.lab.as_mut() {
            lab.set_visible(first, last);
        }
    }

    fn reading_line(&mut self, line: u32) {
        if self.reading == Some(line) {
            return;
        }
        self.reading = Some(line);
        // Cramped, the shell on show stays (the learner may be typing); the
        // step's inspector is what F7 brings.
        if let Some(lab) = self.lab.as_mut() {
            lab.follow_step(line);
        }
    }

    fn run_block(&mut self, block: &RunBlock) -> Result<(), String> {
        let t = self.text;
        if self.waiting.is_some() {
            return Err(t.not_trusted_yet.into());
        }
        let Some(lab) = self.lab.as_mut() else {
            return Err(t.nothing_to_run_in.into());
        };
        if block.needs_limits {
            // A memory hog or fork bomb without limits could take the
            // learner's machine down: never typed in then. Until the sandbox
            // is up, whether it has its limits is not known yet.
            let name = super::model::sandbox_for(&lab.lesson.front, block.target());
            match name.and_then(|n| lab.cells.get(n)).and_then(|c| c.get()) {
                None => return Err(t.starting.into()),
                Some(sb) if sb.limits_off().is_some() => {
                    return Err(t.refused_without_limits.into())
                }
                Some(_) => {}
            }
        }
        let Some(shell) = lab.shell_for(block.target()) else {
            let name = block.target().unwrap_or("main");
            return Err(fill(t.no_shell_for, &[("name", &name)]));
        };
        shell.type_text(&block.code);
        lab.command_started();
        // Focus moves to the shell: it must be the pane on show.
        self.cramped_shell = true;
        Ok(())
    }

    fn key(&mut self, key: KeyEvent) -> bool {
        if crate::panes::keys::is_release(&key) {
            return false;
        }
        if let Some(lesson) = self.waiting.as_ref().map(|d| d.lesson.clone()) {
            let host_part = !self.exposure(&lesson).is_empty();
            let Some(dialog) = self.waiting.as_mut() else {
                return false;
            };
            return match dialog.key(&key, host_part) {
                DialogKey::Answer(answer) => {
                    self.answer(answer, lesson);
                    true
                }
                DialogKey::Declined => false,
                DialogKey::Kept => true,
            };
        }
        if key.code == NEXT_SHELL {
            if let Some(lab) = self.lab.as_mut() {
                if lab.next_shell() {
                    self.cramped_shell = true;
                    return true;
                }
            }
        }
        if key.code != NEXT_INSPECTOR && self.inspector_in_front() {
            // The Pod pane on show takes its own keys (select, inspect, back).
            if let Some(lab) = self.lab.as_mut() {
                let on_show = lab.inspectors().get(lab.inspector).map(|p| p.kind);
                if on_show == Some(PaneKind::Pods) {
                    if let Some(p) = lab.pods.as_mut() {
                        if p.key(&key) {
                            return true;
                        }
                    }
                }
                // The Objects pane: pick a Pod, inspect it.
                if on_show == Some(PaneKind::Objects) {
                    if let Some(o) = lab.objects.as_mut() {
                        if o.key(&key) {
                            return true;
                        }
                    }
                }
            }
        }
        if self.lab.is_some() && key.code != NEXT_INSPECTOR && self.inspector_in_front() {
            // The shell is hidden: keys never reach it. They scroll the
            // inspector; Esc gives focus back to the lesson.
            return match super::focus::inspector_key(&key, self.page_rows.get()) {
                super::focus::InspectorKey::Scroll(by) => {
                    let at = self.inspector_scroll.get() as isize + by;
                    self.inspector_scroll.set(at.max(0) as usize);
                    true
                }
                super::focus::InspectorKey::Leave => false,
                super::focus::InspectorKey::Ignore => true,
            };
        }
        let Some(lab) = self.lab.as_mut() else {
            return false;
        };
        if key.code == NEXT_INSPECTOR {
            let n = lab.inspectors().len();
            if n == 0 {
                return true;
            }
            self.inspector_scroll.set(0);
            if !self.cramped.get() {
                lab.inspector = (lab.inspector + 1) % n;
            } else if self.cramped_shell {
                // Shell → the inspector in front (the step's choice).
                self.cramped_shell = false;
            } else if lab.inspector + 1 < n {
                lab.inspector += 1;
            } else {
                // Past the last inspector: back to the shell.
                self.cramped_shell = true;
                lab.inspector = 0;
            }
            return true;
        }
        let enter = key.code == KeyCode::Enter;
        let Some(shell) = lab.main_shell() else {
            return key.code != KeyCode::Esc;
        };
        let out = shell.handle_key(&key);
        if enter {
            lab.command_started();
        }
        out == KeyOutcome::Consumed
    }

    fn draw(&self, frame: &mut Frame, area: Rect, focused: bool) {
        let buf = frame.buffer_mut();
        if let Some(dialog) = &self.waiting {
            let previous = self.trust_store.as_ref().and_then(|s| s.previously_shown());
            let exposure = self.exposure(&dialog.lesson);
            dialog.render(
                area,
                buf,
                focused,
                &exposure,
                previous.as_deref(),
                self.text,
            );
            return;
        }
        match &self.lab {
            Some(lab) => self.draw_lab(lab, area, buf, focused),
            None => one_pane_line(area, buf, self.text.panes, self.text.no_sandbox),
        }
    }

    fn update(&mut self) -> bool {
        if let Some(lab) = self.lab.as_mut() {
            lab.poll();
        }
        true
    }

    fn several_shells(&self) -> bool {
        self.lab.as_ref().is_some_and(|l| l.shells.len() > 1)
    }

    fn wants_ctrl_z(&self) -> bool {
        self.lab.as_ref().is_some_and(|l| !l.shells.is_empty()) && !self.inspector_in_front()
    }

    fn focus_kind(&self) -> crate::app::PaneFocus {
        use crate::app::PaneFocus;
        match &self.lab {
            _ if self.waiting.is_some() => PaneFocus::Other,
            Some(_) if self.inspector_in_front() => PaneFocus::Inspector,
            Some(lab) if !lab.shells.is_empty() => PaneFocus::Shell,
            _ => PaneFocus::Other,
        }
    }

    fn modal(&self) -> bool {
        self.waiting.as_ref().is_some_and(TrustDialog::modal)
    }

    fn shutdown(&mut self) {
        // The app is leaving: wait, so no sandbox outlives it.
        self.lab = None;
        self.wait_retired();
    }

    fn check_statuses(&self) -> Option<HashMap<String, CheckStatus>> {
        let lab = self.lab.as_ref()?;
        Some(
            lab.results()
                .into_iter()
                .map(|(id, r)| {
                    let st = match (r.passed, r.limits_off, r.skipped) {
                        (true, _, _) => CheckStatus::Pass,
                        (false, Some(why), _) => CheckStatus::Unavailable(why),
                        (false, None, Some(why)) => CheckStatus::Skipped(why),
                        (false, None, None) => CheckStatus::Fail(r.reason),
                    };
                    (id, st)
                })
                .collect(),
        )
    }

    fn help_keys(&self, lang: Lang) -> Vec<(String, String)> {
        // Only where an Objects or Pod pane is shown: their keys; F8 where
        // it works (several shells: a world's nodes).
        let Some(lab) = self.lab.as_ref() else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        if self.several_shells() {
            rows.push(text(lang).help_next_shell);
        }
        if lab.objects.is_some() {
            let t = crate::cluster::text::text(lang);
            rows.extend([t.help_scroll, t.help_pods]);
        }
        if lab.pods.is_some() {
            rows.push(crate::panes::pods::text::text(lang).help);
        }
        rows.into_iter()
            .map(|(k, what)| (k.to_string(), what.to_string()))
            .collect()
    }

    fn status_note(&self, lang: Lang) -> Option<String> {
        if self.waiting.is_some() {
            return None;
        }
        self.lab.as_ref()?.objects.as_ref()?.status_note(lang)
    }

    fn scroll(&mut self, lines: isize) {
        if let Some(dialog) = self.waiting.as_mut() {
            dialog.scroll_by(lines);
            return;
        }
        if self.inspector_in_front() {
            // Wheel up (positive) shows earlier rows.
            let at = self.inspector_scroll.get() as isize - lines;
            self.inspector_scroll.set(at.max(0) as usize);
            return;
        }
        if let Some(shell) = self.lab.as_mut().and_then(|l| l.main_shell()) {
            shell.scroll_by(lines);
        }
    }

    fn reset(&mut self) -> Result<String, String> {
        let Some(lesson) = self.lab.as_ref().map(|l| l.lesson.clone()) else {
            return Err(self.text.nothing_to_reset.into());
        };
        self.retire_lab();
        if lesson.front.cluster.is_some() {
            // The new sandbox's start deletes the lab's namespace first
            // (off this thread: src/cluster/lab.rs).
            crate::cluster::lab::request_reset(&lesson.front.id);
        }
        self.start(lesson);
        Ok(self.text.resetting.into())
    }

    fn copy(&mut self, text: &str) -> Result<String, String> {
        use std::io::Write;
        // OSC 52 changes nothing on screen, so it can go out between frames.
        let mut out = std::io::stdout().lock();
        out.write_all(crate::panes::keys::osc52_copy(text).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| fill(self.text.cannot_copy, &[("e", &e)]))?;
        Ok(self.text.copied.into())
    }
}

/// The live panes for the reader, as the CLI starts it: the real engine
/// (this binary is the sandbox helper), the trust rule of `ctx` and pane
/// text in the UI language `lang`.
pub fn for_reader(builtin_course: bool, trust_flag: bool, lang: Lang) -> Box<dyn PaneHost> {
    Box::new(reader_host(builtin_course, trust_flag, lang))
}

/// The live panes for `kubelab open`: as [`for_reader`], and a trust answer
/// for a `--course DIR` is remembered for that folder in the data directory.
pub fn for_course(ctx: &crate::context::Context) -> Box<dyn PaneHost> {
    let mut host = reader_host(ctx.builtin_course, ctx.trust, ctx.lang);
    if let (false, Ok(data)) = (ctx.builtin_course, ctx.data_dir()) {
        host.set_trust_store(TrustStore::new(&data, &ctx.course_dir));
    }
    Box::new(host)
}

fn reader_host(builtin_course: bool, trust_flag: bool, lang: Lang) -> LabHost {
    let kubelab = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("kubelab"));
    let trust = if builtin_course {
        TrustState::Builtin
    } else if trust_flag {
        TrustState::Trusted
    } else {
        TrustState::Ask
    };
    let mut host = LabHost::new(
        Arc::new(super::engine::EngineFactory::new()),
        kubelab,
        trust,
    );
    host.set_lang(lang);
    host
}

/// Panes a lesson shows, for the help text and tests.
pub fn pane_kinds(lesson: &Lesson) -> Vec<PaneKind> {
    lesson
        .front
        .panes
        .iter()
        .filter_map(|p| p.parse::<crate::panes::kind::PaneRef>().ok())
        .map(|p| p.kind)
        .collect()
}
