//! Drawing the lab's panes: the shell and the inspector on show, split
//! or one at a time, with the pane focus shown on the one that has it.

use super::*;

impl LabHost {
    pub(super) fn draw_lab(
        &self,
        lab: &LiveLab,
        area: Rect,
        buf: &mut ratatui::buffer::Buffer,
        focused: bool,
    ) {
        let t = self.text;
        let mut area = area;
        if !lab.errors.is_empty() {
            let h = (lab.errors.len() as u16).min(area.height / 2);
            let [top, rest] =
                Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(area);
            Paragraph::new(
                lab.errors
                    .iter()
                    .map(|e| Line::raw(e.clone()))
                    .collect::<Vec<_>>(),
            )
            .style(Style::default().fg(Color::Red))
            .render(top, buf);
            area = rest;
        }
        let shell = lab.shown_shell().and_then(|n| lab.shells.get(n));
        let inspectors = lab.inspectors();
        let (shell_area, insp_area) = split(
            area,
            shell.is_some(),
            !inspectors.is_empty(),
            self.cramped_shell,
        );
        self.cramped.set(
            shell.is_some()
                && !inspectors.is_empty()
                && (shell_area.is_none() || insp_area.is_none()),
        );
        if let (Some(s), Some(r)) = (shell, shell_area) {
            s.render(r, buf, focused);
            if let Some((code, why)) = s
                .exit_code()
                .and_then(|code| oom_ended(lab, t).map(|why| (code, why)))
            {
                // Above the exit note (which wraps to the pane's inner width):
                // why the shell is gone.
                let note = crate::panes::text::fill(t.exited, &[("code", &code)]);
                let note_rows =
                    crate::wrap::wrap_str(&note, r.width.saturating_sub(2) as usize).len() as u16;
                let row = r.y + r.height.saturating_sub(2 + note_rows);
                if r.height >= 3 + note_rows && r.width > 2 {
                    let area = Rect::new(r.x + 1, row, r.width - 2, 1);
                    Line::styled(why, Style::default().fg(Color::Red)).render(area, buf);
                }
            }
        }
        // The Pod pane samples only while drawn (a hidden pane costs nothing).
        if let Some(p) = &lab.pods {
            let on_show = inspectors
                .get(lab.inspector % inspectors.len().max(1))
                .map(|p| p.kind);
            p.set_shown(insp_area.is_some() && on_show == Some(PaneKind::Pods));
        }
        let Some(r) = insp_area else {
            // Cramped: only the shell fits; say how to see the inspectors.
            // F7 shows the inspector the step chose (or the learner left).
            let next = inspectors.get(lab.inspector).or(inspectors.first());
            if let (Some(sa), Some(next)) = (shell_area, next) {
                let hint = format!(" F7 ▸ {} ", t.kind(next.kind));
                // Display columns, not chars: the Chinese label is twice as wide.
                let w = unicode_width::UnicodeWidthStr::width(hint.as_str()) as u16;
                if sa.width > w + 20 {
                    buf.set_string(
                        sa.x + sa.width - w - 1,
                        sa.y,
                        hint,
                        Style::default().fg(Color::DarkGray),
                    );
                }
            }
            return;
        };
        let idx = lab.inspector % inspectors.len();
        let pane = inspectors[idx];
        let tabs: Vec<String> = inspectors
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // `network@node1`: which sandbox or world node it shows.
                let kind = match &p.sandbox {
                    Some(n) => format!("{}@{n}", t.kind(p.kind)),
                    None => t.kind(p.kind).to_string(),
                };
                if i == idx {
                    format!("[{kind}]")
                } else {
                    kind
                }
            })
            .collect();
        let title = inspector_title(&tabs, idx, r.width);
        let name = pane
            .sandbox
            .clone()
            .or_else(|| lab.lesson.front.default_sandbox().map(str::to_string))
            .unwrap_or_default();
        if pane.kind == PaneKind::Pods {
            let lang = t.lang;
            self.page_rows.set(r.height.saturating_sub(2).max(1));
            match &lab.pods {
                Some(p) => p.render(&title, r, buf, focused && shell_area.is_none(), lang),
                None => one_pane_line(r, buf, &title, t.starting),
            }
            return;
        }
        if pane.kind == PaneKind::Objects {
            let lang = if std::ptr::eq(t, crate::panes::text::text(Lang::Zh)) {
                Lang::Zh
            } else {
                Lang::En
            };
            match &lab.objects {
                Some(o) => {
                    // Scrolls as the other inspectors do (F7, then j/k).
                    self.page_rows.set(r.height.saturating_sub(2).max(1));
                    let focused = focused && shell_area.is_none();
                    let used = o.render(&title, r, buf, focused, lang, self.inspector_scroll.get());
                    self.inspector_scroll.set(used);
                }
                None => one_pane_line(
                    r,
                    buf,
                    &title,
                    crate::cluster::text::text(lang).needs_cluster_table,
                ),
            }
            return;
        }
        let Some(cell) = lab.cells.get(&name) else {
            let msg = fill(t.no_sandbox_named, &[("name", &name)]);
            return one_pane_line(r, buf, &title, &msg);
        };
        if let Some(status) = cell.status(t) {
            return one_pane_line(r, buf, &title, &status);
        }
        self.page_rows.set(r.height.saturating_sub(2).max(1));
        // Alone on show, the inspector is what the pane focus means.
        let focused = focused && shell_area.is_none();
        match cell.sampler().as_ref() {
            Some(s) => {
                let used = inspect_render::render_scrolled(
                    pane.kind,
                    &s.data(),
                    &title,
                    r,
                    buf,
                    focused,
                    t,
                    self.inspector_scroll.get(),
                );
                self.inspector_scroll.set(used);
            }
            None => one_pane_line(r, buf, &title, t.starting),
        }
    }
}

/// The inspector pane's title: every tab, the one on show in brackets, and
/// the key. Where that is too wide for the border (`width` columns), the
/// key is left out, then the tabs before the one on show (marked `…`), so
/// the pane shown is always named.
fn inspector_title(tabs: &[String], idx: usize, width: u16) -> String {
    use unicode_width::UnicodeWidthStr;
    // The border's corners and the spaces around the title.
    let room = usize::from(width).saturating_sub(4);
    let fits = |s: &String| s.width() <= room;
    let all = tabs.join(" ");
    for candidate in [format!("{all} · F7"), all] {
        if fits(&candidate) {
            return candidate;
        }
    }
    let mut title = if idx > 0 { "…" } else { "" }.to_string() + &tabs[idx];
    for tab in &tabs[idx + 1..] {
        let longer = format!("{title} {tab}");
        if !fits(&format!("{longer}…")) {
            title.push('…');
            break;
        }
        title = longer;
    }
    title
}

/// "the OOM killer ended the sandbox: OOM: pid 1 (bash) killed at 64 MiB"
/// when the lab's default sandbox ended with an OOM kill.
fn oom_ended(lab: &LiveLab, t: &'static PaneText) -> Option<String> {
    let name = lab.lesson.front.default_sandbox()?;
    let cell = lab.cells.get(name)?;
    let sampler = cell.sampler();
    let data = sampler.as_ref()?.data();
    match &data.cgroup {
        crate::panes::inspect::model::Shown::Data(v) if v.ended.is_some() => {
            let ev = v.events.back()?;
            Some(fill(t.oom_ended, &[("event", &ev.line(t))]))
        }
        _ => None,
    }
}

pub(super) fn one_pane_line(
    area: Rect,
    buf: &mut ratatui::buffer::Buffer,
    title: &str,
    text: &str,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(Color::DarkGray))
        .title(format!(" {title} "));
    let inner = block.inner(area);
    block.render(area, buf);
    Line::styled(text.to_string(), Style::default().fg(Color::DarkGray)).render(inner, buf);
}
