//! Pure drawing: reads [`App`] and writes a frame; never mutates state.

pub mod hyperlink;
mod lesson;
mod outline;
pub(crate) mod overlay;

use crate::app::state::{App, Focus, Overlay};
use crate::render::theme;
use crate::wrap;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// Draws the whole app.
pub fn draw(frame: &mut Frame, app: &App) {
    let lay = app.layout();
    if lay.too_small {
        too_small(frame, app, frame.area());
        return;
    }
    if lay.outline.width > 0 {
        outline::draw(frame, app, lay.outline);
    }
    if lay.lesson.width > 0 {
        lesson::draw(frame, app, &lay);
    }
    if let Some(area) = lay.panes {
        panes(frame, app, area);
    }
    status(frame, app, lay.status);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => overlay::help(frame, app, lay.area),
        Overlay::Search(s) => overlay::search(frame, app, &lay, s),
    }
    // Last, and only with nothing drawn over the text: a hyperlink cell
    // spans its whole run, so anything covering part of it would be lost.
    let lesson_shown = matches!(
        app.lib.entries.get(app.current).map(|e| &e.content),
        Some(crate::app::library::Content::Lesson(_))
    );
    if app.hyperlinks && app.overlay == Overlay::None && lay.lesson.width > 0 && lesson_shown {
        if let Some(r) = app.rendered() {
            hyperlink::apply(frame.buffer_mut(), lay.lesson_text, r, app.scroll);
        }
    }
}

/// A bordered block, highlighted when focused.
pub(crate) fn frame_block(title: Line<'static>, focused: bool) -> Block<'static> {
    Block::bordered().title(title).border_style(if focused {
        theme::BORDER_FOCUSED
    } else {
        theme::BORDER
    })
}

fn too_small(frame: &mut Frame, app: &App, area: Rect) {
    let s = app.strings;
    let w = usize::from(area.width).max(1);
    let mut lines = vec![Line::styled(wrap::truncate(s.too_small, w), theme::ERROR)];
    for l in wrap::wrap_str(s.too_small_hint, w) {
        lines.push(Line::from(l));
    }
    lines.push(Line::from(format!("{}×{}", area.width, area.height)));
    let y = area.y + area.height.saturating_sub(lines.len() as u16) / 2;
    let r = Rect::new(
        area.x,
        y,
        area.width,
        area.height.saturating_sub(y - area.y),
    );
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), r);
}

fn panes(frame: &mut Frame, app: &App, area: Rect) {
    let focused = app.focus == Focus::Panes;
    if app.panes.available() {
        app.panes.draw(frame, area, focused);
        return;
    }
    let kinds = match app.lib.entries.get(app.current).map(|e| &e.content) {
        Some(crate::app::library::Content::Lesson(l)) => l.front.panes.join(" · "),
        _ => String::new(),
    };
    let block = frame_block(Line::from(format!(" {kinds} ")), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text: Vec<Line> = wrap::wrap_str(app.strings.run_unavailable, usize::from(inner.width))
        .into_iter()
        .map(|l| Line::styled(l, theme::DIM))
        .collect();
    frame.render_widget(Paragraph::new(text), inner);
}

fn status(frame: &mut Frame, app: &App, area: Rect) {
    let s = app.strings;
    // A message, else what is wrong with the panes' cluster (it holds
    // up the lab), else where the learner is.
    let note = app
        .message
        .is_none()
        .then(|| app.panes.status_note(app.ui_lang))
        .flatten()
        .map(|n| crate::sanitize::line(&n).into_owned());
    let left = match app.message.as_ref().or(note.as_ref()) {
        Some(m) => m.clone(),
        None => app
            .lib
            .entries
            .get(app.current)
            .map(|e| {
                let module = app.lib.modules.get(e.module).and_then(|m| m.title.clone());
                match module {
                    Some(m) => format!("{m} › {}", e.title),
                    None => e.title.clone(),
                }
            })
            .unwrap_or_else(|| s.empty_course.to_string()),
    };
    let pct = app.rendered().map(|r| {
        let h = usize::from(app.layout().lesson_text.height);
        let max = r.lines.len().saturating_sub(h);
        (app.scroll * 100)
            .checked_div(max)
            .map_or(100, |p| p.min(100))
    });
    // With a shell focused, `?`, `/` and `q` go to the shell: show the way
    // back instead of keys that would not work.
    let keys = match app.panes.focus_kind() {
        _ if app.focus != crate::app::state::Focus::Panes || !app.has_panes() => s.status_help,
        crate::app::PaneFocus::Shell => s.status_shell_focus,
        crate::app::PaneFocus::Inspector => s.status_inspector_focus,
        crate::app::PaneFocus::Other => s.status_help,
    };
    let right = match pct {
        Some(p) => format!(
            " {}  {keys} ",
            s.status_position.replace("{p}", &p.to_string())
        ),
        None => format!(" {keys} "),
    };
    let w = usize::from(area.width);
    // A message that does not fit beside the key legend takes the whole bar:
    // it says something the learner must read now.
    let urgent = app.message.is_some() || note.is_some();
    let right = if urgent && wrap::width(&left) + 1 + wrap::width(&right) > w {
        String::new()
    } else {
        right
    };
    let rw = wrap::width(&right);
    let left = wrap::truncate(&format!(" {left}"), w.saturating_sub(rw));
    let pad = w.saturating_sub(wrap::width(&left) + rw);
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::raw(wrap::truncate(&right, w)),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme::STATUS), area);
}
