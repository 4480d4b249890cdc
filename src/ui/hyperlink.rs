//! OSC 8 hyperlinks over link text already drawn into the buffer.
//!
//! ratatui has no notion of links and measures a cell's width from its
//! symbol, so an escape sequence in a symbol would confuse its diffing. Each
//! run of same-styled link cells becomes one cell holding
//! `OSC 8 ; ; URL ST text OSC 8 ; ; ST` with [`CellDiffOption::ForcedWidth`]
//! set to the run's display width: the diff then skips the cells the text
//! covers, exactly as for a wide character. Style changes start a new run,
//! so colours survive.
//!
//! The URL comes from the course (hostile): only http(s) and mailto targets
//! are linked, every byte outside printable ASCII is percent-encoded (no
//! control character can end the sequence early or smuggle another one),
//! and overlong targets are not linked at all.

use crate::render::Rendered;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use std::fmt::Write;
use std::num::NonZeroU16;

/// Longest target emitted; terminals cap theirs too (VTE: 2083 bytes).
const MAX_URL: usize = 2048;
const ST: &str = "\x1b\\";

/// The OSC 8 target for a course URL, or `None` when it must not be one.
pub fn target(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:"))
    {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if (0x21..=0x7e).contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    (out.len() <= MAX_URL).then_some(out)
}

/// Wraps the cells of `r`'s link spans on screen (lesson lines from
/// `scroll`, drawn at `area`) in OSC 8 hyperlinks.
pub fn apply(buf: &mut Buffer, area: Rect, r: &Rendered, scroll: usize) {
    let bottom = scroll + usize::from(area.height);
    for span in &r.link_spans {
        if span.line < scroll || span.line >= bottom {
            continue;
        }
        let Some(url) = r.urls.get(span.link).and_then(|u| target(u)) else {
            continue;
        };
        let y = area.y + (span.line - scroll) as u16;
        let start = area.x.saturating_add(span.cols.start);
        let end = area.x.saturating_add(span.cols.end).min(area.right());
        link_cells(buf, y, start..end, &url);
    }
}

fn link_cells(buf: &mut Buffer, y: u16, cols: std::ops::Range<u16>, url: &str) {
    let mut x = cols.start;
    while x < cols.end {
        // One run: cells of the same style, whole wide characters only.
        let run_start = x;
        let style = buf[(x, y)].style();
        let mut text = String::new();
        while x < cols.end && buf[(x, y)].style() == style {
            let sym = buf[(x, y)].symbol();
            let w = (unicode_width::UnicodeWidthStr::width(sym) as u16).max(1);
            if x + w > cols.end {
                break;
            }
            text.push_str(sym);
            x += w;
        }
        if x == run_start {
            x += 1;
            continue;
        }
        let Some(width) = NonZeroU16::new(x - run_start) else {
            continue;
        };
        let cell = &mut buf[(run_start, y)];
        cell.set_symbol(&format!("\x1b]8;;{url}{ST}{text}\x1b]8;;{ST}"));
        cell.set_diff_option(CellDiffOption::ForcedWidth(width));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_become_targets() {
        assert_eq!(
            target("https://k8s.io/docs/").as_deref(),
            Some("https://k8s.io/docs/")
        );
        assert!(target("mailto:a@b.c").is_some());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "assets/x.png",
            "",
        ] {
            assert_eq!(target(bad), None, "{bad}");
        }
        assert_eq!(target(&format!("https://a/{}", "x".repeat(MAX_URL))), None);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        // An ST/BEL inside the URL would end the OSC early and let the rest
        // be read as new escape sequences (here: clear screen, a title).
        let hostile = "https://a.example/x\x1b\\\x1b[2J\x07\x1b]0;pwned\x07\u{9c}é y";
        let t = target(hostile).unwrap();
        assert!(t.chars().all(|c| c.is_ascii_graphic()), "{t:?}");
        assert_eq!(
            t,
            "https://a.example/x%1B\\%1B[2J%07%1B]0;pwned%07%C2%9C%C3%A9%20y"
        );
    }

    #[test]
    fn a_run_becomes_one_cell_of_forced_width() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        buf.set_string(0, 0, "ab容器cd", ratatui::style::Style::new());
        link_cells(&mut buf, 0, 1..7, "https://x");
        assert_eq!(
            buf[(1, 0)].symbol(),
            "\x1b]8;;https://x\x1b\\b容器c\x1b]8;;\x1b\\"
        );
        assert_eq!(
            buf[(1, 0)].diff_option,
            CellDiffOption::ForcedWidth(NonZeroU16::new(6).unwrap())
        );
        assert_eq!(buf[(0, 0)].symbol(), "a");
        assert_eq!(buf[(7, 0)].symbol(), "d");
    }
}
