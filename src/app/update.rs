//! `update(app, action)`: the only place that changes [`App`] state.

use super::action::Action;
use super::library::Content;
use super::state::{App, Focus, Overlay, SearchState};
use crate::doc::ir::Interactive;

/// Most search hits listed.
pub const SEARCH_LIMIT: usize = 200;

pub fn update(app: &mut App, action: Action) {
    if !matches!(action, Action::Redraw | Action::Resize(..)) {
        app.message = None;
        app.search_target = None;
        if !matches!(action, Action::NextLink(_)) {
            app.link_focus = None;
        }
    }
    match action {
        Action::Quit => app.quit = true,
        Action::Suspend => app.suspend = true,
        Action::HelpScroll(d) => {
            let max = super::help::help_max_scroll(app);
            app.help_scroll = (app.help_scroll as isize + d).clamp(0, max as isize) as usize;
        }
        Action::ToggleHelp => {
            app.help_scroll = 0;
            app.overlay = match app.overlay {
                Overlay::Help => Overlay::None,
                _ => Overlay::Help,
            }
        }
        Action::OpenSearch => app.overlay = Overlay::Search(SearchState::default()),
        Action::CloseOverlay => app.overlay = Overlay::None,
        Action::SearchInput(c) => with_search(app, |s| s.query.push(c)),
        Action::SearchBackspace => with_search(app, |s| {
            s.query.pop();
        }),
        Action::SearchMove(d) => {
            if let Overlay::Search(s) = &mut app.overlay {
                let n = s.hits.len();
                if n > 0 {
                    s.selected = (s.selected as isize + d).clamp(0, n as isize - 1) as usize;
                }
            }
        }
        Action::SearchJump(pick) => {
            if let Overlay::Search(s) = &app.overlay {
                if let Some(hit) = s.hits.get(pick.unwrap_or(s.selected)).cloned() {
                    app.overlay = Overlay::None;
                    open(app, hit.entry);
                    // A locked hit opened the last open lesson instead.
                    if let Some(r) = app.rendered().filter(|_| app.current == hit.entry) {
                        let line = r.line_for_source(hit.line);
                        let target = r.src_lines.get(line).copied();
                        app.scroll = line;
                        app.search_target = target;
                    }
                    app.focus = Focus::Lesson;
                }
            }
        }
        Action::FocusNext | Action::FocusPrev => {
            let mut order = vec![Focus::Outline, Focus::Lesson];
            if app.has_panes() && app.panes.available() {
                order.push(Focus::Panes);
            }
            let i = order.iter().position(|f| *f == app.focus).unwrap_or(1);
            let n = order.len();
            let next = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            app.focus = order[next];
            if app.focus == Focus::Outline {
                app.cursor = app.current;
            }
        }
        Action::SetFocus(f) => app.focus = f,
        Action::OutlineMove(d) => {
            let n = app.lib.entries.len();
            if n > 0 {
                app.cursor = (app.cursor as isize + d).clamp(0, n as isize - 1) as usize;
            }
        }
        Action::OutlineTo(i) => {
            if i < app.lib.entries.len() {
                app.cursor = i;
            }
        }
        Action::OpenSelected => {
            open(app, app.cursor);
            app.focus = Focus::Lesson;
        }
        Action::OpenEntry(i) => {
            open(app, i);
            app.focus = Focus::Lesson;
        }
        Action::NextLesson => step_lesson(app, 1),
        Action::PrevLesson => step_lesson(app, -1),
        Action::Scroll(d) => scroll_by(app, d),
        Action::Page(d) => {
            let page = app.page_height().saturating_sub(2).max(1) as isize;
            scroll_by(app, d * page);
        }
        Action::ScrollTop => app.scroll = 0,
        Action::NextLink(d) => next_link(app, d),
        Action::ToggleOutline => {
            app.outline_hidden = !app.outline_hidden;
            if app.focus == Focus::Outline {
                app.focus = Focus::Lesson;
            }
        }
        Action::ScrollBottom => app.scroll = usize::MAX,
        Action::FocusBlock(d) => focus_block(app, d),
        Action::FocusBlockIndex(i) => app.block_focus = Some(i),
        Action::Activate => {
            activate(app);
            keep_focus_in_view(app);
        }
        Action::Answer(choice) => {
            answer(app, choice);
            keep_focus_in_view(app);
        }
        Action::PaneScroll(lines) => app.panes.scroll(lines),
        Action::ResetLab => {
            // Everything done in the sandbox is lost: ask first.
            app.confirm_reset = true;
            app.message = Some(app.strings.reset_confirm.to_string());
        }
        Action::ResetAnswer(yes) => {
            app.confirm_reset = false;
            app.message = Some(match yes {
                false => app.strings.reset_kept.to_string(),
                true => match app.panes.reset() {
                    Err(e) if e.is_empty() => app.strings.run_unavailable.to_string(),
                    Ok(m) | Err(m) => m,
                },
            })
        }
        Action::CopyBlock => {
            if let Some((_, Interactive::Run(run))) = focused(app) {
                app.message = Some(match app.panes.copy(&run.code) {
                    Err(e) if e.is_empty() => app.strings.run_unavailable.to_string(),
                    Ok(m) | Err(m) => m,
                });
            }
        }
        Action::PaneKey(k) => {
            // F7 and dialog answers may come from any focus: only the
            // pane area hands focus back.
            if !app.panes.key(k) && app.focus == Focus::Panes {
                app.focus = Focus::Lesson;
            }
        }
        Action::Resize(w, h) => app.size = (w, h),
        Action::Redraw => {}
        Action::Reload(r) => super::preview::apply(app, r),
        Action::PreviewToggle => super::preview::toggle_last_good(app),
    }
    if app.focus == Focus::Panes && !app.has_panes() {
        app.focus = Focus::Lesson;
    }
    app.prepare();
}

fn with_search(app: &mut App, f: impl FnOnce(&mut SearchState)) {
    let Overlay::Search(s) = &mut app.overlay else {
        return;
    };
    f(s);
    let query = s.query.clone();
    // Lessons beyond a classroom lock are not searched: a hit's snippet
    // would show what the instructor has not opened yet.
    let mut hits = app.lib.search(&query, usize::MAX);
    hits.retain(|h| !app.is_locked(h.entry));
    hits.truncate(SEARCH_LIMIT);
    if let Overlay::Search(s) = &mut app.overlay {
        s.hits = hits;
        s.selected = 0;
    }
}

/// Where a request to open entry `i` may go under `--lock`: `i` itself, the
/// last open lesson instead (with a message), or nowhere (`None`: already
/// there). Every way of opening a lesson (n/p, outline Enter and clicks,
/// search jumps, `kubelab open <id>`, the saved position) comes through here.
fn gate(app: &mut App, i: usize) -> Option<usize> {
    let Some(j) = app.last_open_index().filter(|j| i > *j) else {
        return Some(i);
    };
    let title = app.lib.entries.get(i).map_or("", |e| e.title.as_str());
    let open = app.lib.entries[j].title.as_str();
    app.message = Some(crate::lock::locked_message(app.ui_lang, title, open));
    (app.current != j).then_some(j)
}

/// Shows entry `i`, saving the position in the one being left.
pub fn open(app: &mut App, i: usize) {
    // `--lock`: lessons after the lock stop at the last open one.
    let Some(i) = gate(app, i) else {
        return;
    };
    if i >= app.lib.entries.len() {
        return;
    }
    if app.shown && i == app.current {
        // Already on screen: keep the place.
        return;
    }
    if app.shown {
        save_position(app);
    }
    app.shown = true;
    app.current = i;
    app.cursor = i;
    app.scroll = 0;
    app.block_focus = None;
    app.prepare();
    let id = app.lib.entries[i].id.clone();
    let saved = id
        .as_ref()
        .and_then(|id| app.progress.lessons.get(id))
        .map(|l| l.line);
    if let (Some(line), Some(r)) = (saved, app.rendered()) {
        app.scroll = r.line_for_source(line);
    }
    save_position(app);
    notify_panes(app);
}

/// Tells the panes which lesson is shown.
pub fn notify_panes(app: &mut App) {
    let lesson = match &app.lib.entries.get(app.current).map(|e| &e.content) {
        Some(Content::Lesson(l)) => Some(l.clone()),
        _ => None,
    };
    app.panes.lesson_opened(lesson.as_deref());
}

/// Records the reading position of the current lesson in progress.
pub fn save_position(app: &mut App) {
    if let Some(id) = app.lib.entries.get(app.current).and_then(|e| e.id.clone()) {
        if matches!(app.lib.entries[app.current].content, Content::Lesson(_)) {
            let line = app.top_source_line();
            let pos = app.progress.position.as_ref();
            if pos.is_none_or(|p| p.lesson != id || p.line != line) {
                app.progress.set_position(&id, line);
                app.progress_dirty = true;
            }
        }
    }
}

/// Next/previous entry that is not a draft.
fn step_lesson(app: &mut App, d: isize) {
    let mut i = app.current as isize;
    loop {
        i += d;
        let Some(e) = usize::try_from(i).ok().and_then(|u| app.lib.entries.get(u)) else {
            return;
        };
        if !matches!(e.content, Content::Draft) {
            open(app, i as usize);
            return;
        }
    }
}

fn scroll_by(app: &mut App, d: isize) {
    app.scroll = (app.scroll as isize + d).max(0) as usize;
}

fn focus_block(app: &mut App, d: isize) {
    let Some(r) = app.rendered() else { return };
    if r.blocks.is_empty() {
        return;
    }
    let top = app.scroll;
    let bottom = top + app.page_height();
    let visible = |b: &crate::render::BlockRange| b.lines.start < bottom && b.lines.end > top;
    let next = match app
        .block_focus
        .filter(|f| r.blocks.iter().any(|b| b.index == *f && visible(b)))
    {
        // Continue from the focused block if it is on screen...
        Some(f) => {
            let pos = r.blocks.iter().position(|b| b.index == f).unwrap_or(0) as isize + d;
            r.blocks
                .get(pos.clamp(0, r.blocks.len() as isize - 1) as usize)
        }
        // ...else start from what is on screen.
        None if d > 0 => r.blocks.iter().find(|b| b.lines.end > top),
        None => r.blocks.iter().rev().find(|b| b.lines.start < bottom),
    };
    if let Some(b) = next.cloned() {
        app.block_focus = Some(b.index);
        // Bring it into view.
        let h = app.page_height();
        if b.lines.start < app.scroll {
            app.scroll = b.lines.start;
        } else if b.lines.end > app.scroll + h {
            app.scroll = b.lines.end.saturating_sub(h).min(b.lines.start);
        }
    }
}

/// After the focused block grew (hint, solution, quiz verdict), scrolls so
/// its end — and that of a solution the check revealed — is on screen,
/// without moving its start above the top.
fn keep_focus_in_view(app: &mut App) {
    let Some(idx) = app.block_focus else { return };
    let solution = next_solution(app, idx).filter(|s| app.states[app.current].revealed.contains(s));
    app.prepare();
    let Some(r) = app.rendered() else { return };
    let Some(b) = r.blocks.iter().find(|b| b.index == idx) else {
        return;
    };
    let start = b.lines.start;
    let mut end = b.lines.end;
    if let Some(sb) = solution.and_then(|s| r.blocks.iter().find(|b| b.index == s)) {
        end = end.max(sb.lines.end);
    }
    let h = app.page_height();
    if end > app.scroll + h {
        app.scroll = end.saturating_sub(h).min(start);
    }
}

fn focused(app: &App) -> Option<(usize, Interactive)> {
    let idx = app.block_focus?;
    let Content::Lesson(l) = &app.lib.entries.get(app.current)?.content else {
        return None;
    };
    l.doc.interactives().get(idx).map(|i| (idx, (*i).clone()))
}

/// The first solution block after interactive block `idx` in the same `##`
/// section (the answer a check's second Enter reveals).
fn next_solution(app: &App, idx: usize) -> Option<usize> {
    let Content::Lesson(l) = &app.lib.entries.get(app.current)?.content else {
        return None;
    };
    let mut k = 0usize;
    let mut seen = false;
    for b in &l.doc.blocks {
        if matches!(b, crate::doc::ir::Block::Heading { level: 2, .. }) && seen {
            return None;
        }
        let mut found = None;
        crate::doc::ir::walk(std::slice::from_ref(b), &mut |x| {
            if let crate::doc::ir::Block::Interactive(i) = x {
                if k == idx {
                    seen = true;
                } else if seen && found.is_none() && matches!(i, Interactive::Solution(_)) {
                    found = Some(k);
                }
                k += 1;
            }
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

fn activate(app: &mut App) {
    let Some((idx, block)) = focused(app) else {
        return;
    };
    let solution = next_solution(app, idx);
    let st = &mut app.states[app.current];
    match block {
        Interactive::Run(run) => match app.panes.run_block(&run) {
            Ok(()) => {
                if app.has_panes() {
                    app.focus = Focus::Panes;
                }
            }
            Err(e) if e.is_empty() => app.message = Some(app.strings.run_unavailable.to_string()),
            Err(e) => app.message = Some(e),
        },
        Interactive::Solution(_) => {
            if !st.revealed.remove(&idx) {
                st.revealed.insert(idx);
            }
            st.generation += 1;
        }
        // Not doable here: say so, rather than a hint to redo what cannot work.
        Interactive::Check(c)
            if matches!(
                st.checks.get(&c.id),
                Some(crate::render::CheckStatus::Unavailable(_))
            ) =>
        {
            app.message = Some(app.strings.check_unavailable_enter.to_string());
        }
        // First press: the hint; second: also the step's solution; third: hide.
        Interactive::Check(c) => {
            if !st.hints.contains(&c.id) {
                st.hints.insert(c.id.clone());
            } else if let Some(s) = solution.filter(|s| !st.revealed.contains(s)) {
                st.revealed.insert(s);
            } else {
                st.hints.remove(&c.id);
                if let Some(s) = solution {
                    st.revealed.remove(&s);
                }
            }
            st.generation += 1;
        }
        // Quizzes are answered with a–d.
        Interactive::Quiz(_) => {}
    }
}

fn answer(app: &mut App, choice: usize) {
    let Some((_, Interactive::Quiz(q))) = focused(app) else {
        return;
    };
    if choice < q.choices.len() {
        let st = &mut app.states[app.current];
        st.quiz.insert(q.id.clone(), choice);
        st.generation += 1;
        if let Some(id) = app.lib.entries[app.current].id.clone() {
            app.progress
                .answer_quiz(&id, &q.id, choice, choice == q.answer);
            app.progress_dirty = true;
        }
    }
}

/// `o`/`O`: the next/previous link (the first one below the top of the view
/// when none is selected yet), with its reference line brought into view
/// and its whole URL in the status line.
fn next_link(app: &mut App, d: isize) {
    let Some(r) = app.rendered() else { return };
    let n = r.urls.len();
    if n == 0 {
        app.message = Some(app.strings.no_links.to_string());
        return;
    }
    let i = match app.link_focus {
        Some(i) if i < n => (i as isize + d).rem_euclid(n as isize) as usize,
        _ if d >= 0 => r
            .ref_lines
            .iter()
            .position(|&l| l >= app.scroll)
            .unwrap_or(0),
        _ => n - 1,
    };
    let line = r.ref_lines.get(i).copied().unwrap_or(0);
    // The course wrote the URL: no control character reaches the terminal.
    let url: String = r.urls[i].chars().filter(|c| !c.is_control()).collect();
    let h = app.page_height();
    if line < app.scroll || line >= app.scroll + h {
        app.scroll = line.saturating_sub(h / 2);
    }
    app.link_focus = Some(i);
    app.message = Some(format!("[{}/{n}] {url}", i + 1));
}
