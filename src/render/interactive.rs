//! How run blocks, checks, solutions and quizzes look.
//!
//! Each has a coloured header naming what it is and what key acts on it, so
//! a learner can tell at a glance which blocks do something.

use super::{inline, theme, BlockStates, CheckStatus, Out};
use crate::doc::ir::Interactive;
use crate::i18n::Strings;
use crate::wrap::Piece;
use ratatui::style::Modifier;
use ratatui::text::Line;

pub(super) fn render(
    out: &mut Out,
    i: &Interactive,
    index: usize,
    w: usize,
    st: &BlockStates,
    s: &Strings,
) {
    match i {
        Interactive::Run(r) => {
            let mut head = vec![Piece::new(
                s.run_label,
                theme::RUN.add_modifier(Modifier::BOLD),
            )];
            // Its sandbox or (a world lesson) node: where Enter sends it.
            if let Some(sb) = r.target() {
                head.push(Piece::new(format!(" @{sb}"), theme::RUN));
            }
            head.push(Piece::new(format!("  {}", s.run_hint), theme::DIM));
            out.push_wrapped(&head, w);
            out.code(&r.code, &r.lang, w, theme::RUN, "┃ ");
        }
        Interactive::Check(c) => {
            let status = st.checks.get(&c.id).cloned().unwrap_or_default();
            // Passed in an earlier session but not (yet) in this sandbox.
            let earlier = match (&status, st.done_earlier.get(&c.id)) {
                (CheckStatus::Pass, _) | (_, None) => None,
                (_, Some(at)) => Some(*at),
            };
            let (mark, style) = match (&status, earlier) {
                (_, Some(at)) => {
                    let (_, mo, d, h, mi, _) = crate::progress::time::civil(at);
                    let date = format!("{mo:02}-{d:02} {h:02}:{mi:02}");
                    (s.check_done_earlier.replace("{date}", &date), theme::DIM)
                }
                (CheckStatus::Pending, _) => (s.check_pending.to_string(), theme::DIM),
                (CheckStatus::Pass, _) => (s.check_pass.to_string(), theme::PASS),
                (CheckStatus::Fail(_), _) => (s.check_fail.to_string(), theme::FAIL),
                (CheckStatus::Unavailable(_), _) => (s.check_unavailable.to_string(), theme::DIM),
                (CheckStatus::Skipped(_), _) => (s.check_track_skipped.to_string(), theme::DIM),
            };
            let title = crate::sanitize::line(c.title.as_deref().unwrap_or(&c.id)).into_owned();
            let head = [
                Piece::new(
                    format!("◆ {} · ", s.check_label),
                    theme::CHECK.add_modifier(Modifier::BOLD),
                ),
                Piece::new(title, theme::CHECK),
                Piece::new("  ", theme::DIM),
                Piece::new(mark, style),
            ];
            out.push_wrapped(&head, w);
            if earlier.is_some() {
                if matches!(status, CheckStatus::Fail(_)) {
                    out.push_wrapped(
                        &[Piece::new(
                            format!("  {}", s.check_sandbox_fresh),
                            theme::DIM,
                        )],
                        w,
                    );
                }
            } else if let CheckStatus::Fail(Some(reason)) = &status {
                out.push_wrapped(&[Piece::new(format!("  {reason}"), theme::FAIL)], w);
            } else if let CheckStatus::Skipped(why) = &status {
                // The sandbox's start error: from the cluster and the host.
                let why = crate::sanitize::line(why);
                out.push_wrapped(&[Piece::new(format!("  {why}"), theme::DIM)], w);
            }
            let unavailable = matches!(status, CheckStatus::Unavailable(_));
            if let (CheckStatus::Unavailable(note), None) = (&status, earlier) {
                let why = crate::limits_off::Why::of(note).sentence(s.lang);
                out.push_wrapped(&[Piece::new(format!("  {why}"), theme::DIM)], w);
            }
            // The hint says how to make the check pass: not here, where it
            // cannot (it would send the learner to redo what cannot work).
            if let Some(h) = c
                .hint
                .as_ref()
                .filter(|_| st.hints.contains(&c.id) && !unavailable)
            {
                out.push_wrapped(
                    &[Piece::new(
                        format!("  {}{}", s.hint_label, crate::sanitize::text(h)),
                        theme::DIM,
                    )],
                    w,
                );
            }
        }
        Interactive::Solution(sol) => {
            let open = st.revealed.contains(&index);
            let head = [
                Piece::new(
                    format!("◇ {}", s.solution_label),
                    theme::SOLUTION.add_modifier(Modifier::BOLD),
                ),
                Piece::new(
                    if open {
                        String::new()
                    } else {
                        format!("  {}", s.solution_hidden)
                    },
                    theme::DIM,
                ),
            ];
            out.push_wrapped(&head, w);
            if open {
                out.code(&sol.code, &sol.lang, w, theme::SOLUTION, "┃ ");
            }
        }
        Interactive::Quiz(q) => {
            let chosen = st.quiz.get(&q.id).copied();
            let mut head = vec![Piece::new(
                format!("? {}", s.quiz_label),
                theme::QUIZ.add_modifier(Modifier::BOLD),
            )];
            if chosen.is_none() {
                let n = q.choices.len().min(crate::doc::quiz::MAX_CHOICES);
                let keys: Vec<String> = (0..n)
                    .map(|k| ((b'a' + k as u8) as char).to_string())
                    .collect();
                head.push(Piece::new(
                    format!("  {}", s.quiz_hint.replace("{keys}", &keys.join("/"))),
                    theme::DIM,
                ));
            }
            out.push_wrapped(&head, w);
            out.push_wrapped(&inline::code_spans(&q.question, theme::TITLE), w);
            for (n, choice) in q.choices.iter().enumerate() {
                let letter = (b'a' + n as u8) as char;
                let (mark, style) = match chosen {
                    Some(c) if n == q.answer && c == n => ("✓", theme::PASS),
                    Some(c) if c == n => ("✗", theme::FAIL),
                    Some(_) if n == q.answer => ("→", theme::PASS),
                    _ => (" ", theme::CODE_TEXT),
                };
                let label = format!("{mark} {letter}) ");
                // Hanging indent under the choice text.
                let lines = crate::wrap::wrap(
                    &inline::code_spans(choice, style),
                    w.saturating_sub(5).max(4),
                );
                for (k, l) in lines.into_iter().enumerate() {
                    let mut spans = vec![if k == 0 {
                        ratatui::text::Span::styled(label.clone(), style)
                    } else {
                        ratatui::text::Span::raw("     ")
                    }];
                    spans.extend(
                        l.into_iter()
                            .map(|p| ratatui::text::Span::styled(p.text, p.style)),
                    );
                    out.push(Line::from(spans));
                }
            }
            if let Some(c) = chosen {
                let verdict = if c == q.answer {
                    Piece::new(s.quiz_correct, theme::PASS)
                } else {
                    Piece::new(
                        format!("{} {})", s.quiz_wrong, (b'a' + q.answer as u8) as char),
                        theme::FAIL,
                    )
                };
                out.push_wrapped(&[verdict], w);
                if let Some(e) = &q.explain {
                    out.push_wrapped(&inline::code_spans(e, theme::DIM), w);
                }
            }
        }
    }
}
