//! Inline Markdown (emphasis, code, links, breaks) → styled pieces.

use super::theme;
use crate::doc::ir::Inline;
use crate::wrap::{is_cjk, Piece};
use ratatui::style::{Modifier, Style};

/// Marker text for a hard line break inside a paragraph.
pub const HARD_BREAK: &str = "\n";
const SOFT_BREAK: &str = "\u{1}";

/// Flattens inlines into styled pieces. Link targets are appended to `links`
/// and the link text is followed by its number, so the URL can be found in
/// the link list printed under the block.
pub fn pieces(inlines: &[Inline], base: Style, links: &mut Vec<String>) -> Vec<Piece> {
    let mut out = Vec::new();
    flatten(inlines, base, links, &mut out);
    resolve_soft_breaks(out)
}

/// Pieces of a plain string that may contain `` `code` `` spans (quiz
/// questions and choices are TOML strings, not Markdown).
pub fn code_spans(text: &str, base: Style) -> Vec<Piece> {
    let text = &*crate::sanitize::text(text);
    if text.matches('`').count() < 2 {
        return vec![Piece::new(text, base)];
    }
    let parts: Vec<&str> = text.split('`').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| {
            // An unpaired trailing backtick stays literal.
            if i % 2 == 1 && !(i == last && last % 2 == 1) {
                Piece::new(*p, base.patch(theme::INLINE_CODE))
            } else if i == last && last % 2 == 1 {
                Piece::new(format!("`{p}"), base)
            } else {
                Piece::new(*p, base)
            }
        })
        .collect()
}

/// Plain text of inlines (for search and titles).
pub fn plain(inlines: &[Inline]) -> String {
    let mut s = String::new();
    for i in inlines {
        match i {
            Inline::Text(t) | Inline::Code(t) => s.push_str(t),
            Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => s.push_str(&plain(c)),
            Inline::Link { text, .. } => s.push_str(&plain(text)),
            Inline::Image { alt, .. } => s.push_str(alt),
            Inline::SoftBreak | Inline::HardBreak => s.push(' '),
        }
    }
    s
}

fn flatten(inlines: &[Inline], base: Style, links: &mut Vec<String>, out: &mut Vec<Piece>) {
    for i in inlines {
        match i {
            // Course text: controls shown as `^[` (ratatui would drop ESC
            // silently and leave `[2J` behind).
            Inline::Text(t) => out.push(Piece::new(crate::sanitize::text(t), base)),
            Inline::Code(t) => out.push(Piece::new(
                crate::sanitize::text(t),
                base.patch(theme::INLINE_CODE),
            )),
            Inline::Emph(c) => flatten(c, base.add_modifier(Modifier::ITALIC), links, out),
            Inline::Strong(c) => flatten(c, base.add_modifier(Modifier::BOLD), links, out),
            Inline::Strike(c) => flatten(c, base.add_modifier(Modifier::CROSSED_OUT), links, out),
            // Every link gets a number in the references list (where its URL
            // is shown whole) and its text carries the link for OSC 8.
            Inline::Link { text, url } => {
                let idx = links.len();
                links.push(url.clone());
                let start = out.len();
                flatten(text, base.patch(theme::LINK), links, out);
                for p in &mut out[start..] {
                    p.link.get_or_insert(idx);
                }
                out.push(Piece::linked(format!("[{}]", idx + 1), theme::DIM, idx));
            }
            Inline::Image { alt, url } => {
                let idx = links.len();
                links.push(url.clone());
                out.push(Piece::linked(
                    format!("[▣ {alt}]"),
                    base.patch(theme::LINK),
                    idx,
                ));
                out.push(Piece::linked(format!("[{}]", idx + 1), theme::DIM, idx));
            }
            Inline::SoftBreak => out.push(Piece::new(SOFT_BREAK, base)),
            Inline::HardBreak => out.push(Piece::new(HARD_BREAK, base)),
        }
    }
}

/// A source line break is a space between Latin words but nothing between
/// CJK characters (a space in the middle of Chinese text is a typo).
fn resolve_soft_breaks(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for i in 0..pieces.len() {
        if pieces[i].text != SOFT_BREAK {
            out.push(pieces[i].clone());
            continue;
        }
        let before = out.iter().rev().find_map(|p| p.text.chars().last());
        let after = pieces[i + 1..].iter().find_map(|p| p.text.chars().next());
        // Chinese joins lines without a space, but the lessons space Latin
        // words inside Chinese ("新的 mount namespace"): drop the break only
        // between two CJK characters or next to CJK punctuation.
        let joined = (before.is_some_and(is_cjk) && after.is_some_and(is_cjk))
            || before.is_some_and(is_cjk_punct)
            || after.is_some_and(is_cjk_punct);
        if !joined {
            out.push(Piece::new(" ", pieces[i].style));
        }
    }
    out
}

/// Full-width punctuation (CJK symbols block, full-width forms that are not
/// letters or digits).
fn is_cjk_punct(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303F}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF01}'..='\u{FF0F}'
        | '\u{FF1A}'..='\u{FF20}'
        | '\u{FF3B}'..='\u{FF40}'
        | '\u{FF5B}'..='\u{FF65}')
}

/// Splits pieces at hard breaks into separate logical lines.
pub fn split_hard_breaks(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    let mut lines = vec![Vec::new()];
    for p in pieces {
        if p.text == HARD_BREAK {
            lines.push(Vec::new());
        } else if let Some(l) = lines.last_mut() {
            l.push(p);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_break_is_space_in_english_and_nothing_in_chinese() {
        let mut links = vec![];
        let p = pieces(
            &[
                Inline::Text("hello".into()),
                Inline::SoftBreak,
                Inline::Text("world 你好".into()),
                Inline::SoftBreak,
                Inline::Text("世界".into()),
            ],
            Style::default(),
            &mut links,
        );
        let s: String = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(s, "hello world 你好世界");
    }

    #[test]
    fn soft_break_between_chinese_and_latin_keeps_a_space() {
        let mut links = vec![];
        let p = pieces(
            &[
                Inline::Text("新的".into()),
                Inline::SoftBreak,
                Inline::Text("mount namespace".into()),
                Inline::SoftBreak,
                Inline::Text("里，".into()),
                Inline::SoftBreak,
                Inline::Code("init".into()),
                Inline::SoftBreak,
                Inline::Text("进程".into()),
                Inline::SoftBreak,
                Inline::Text("（括号）".into()),
            ],
            Style::default(),
            &mut links,
        );
        let s: String = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(s, "新的 mount namespace 里，init 进程（括号）");
    }

    #[test]
    fn backticks_in_plain_strings_become_code() {
        let p = code_spans("run `ps` now", Style::default());
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].text, "ps");
        assert_eq!(p[1].style, theme::INLINE_CODE);
        let p = code_spans("a `b` c `d", Style::default());
        let s: String = p.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(s, "a b c `d");
        assert_eq!(code_spans("no code", Style::default()).len(), 1);
    }

    #[test]
    fn links_are_numbered() {
        let mut links = vec![];
        let p = pieces(
            &[Inline::Link {
                text: vec![Inline::Text("docs".into())],
                url: "https://k8s.io".into(),
            }],
            Style::default(),
            &mut links,
        );
        assert_eq!(links, vec!["https://k8s.io"]);
        assert_eq!(p[1].text, "[1]");
    }
}
