//! Untrusted text on its way to a terminal or the clipboard.
//!
//! Course files, progress exports, a learner's `--name` and check output can
//! all carry control characters: `ESC ] 52` writes the clipboard, `ESC [ 2J`
//! clears the screen, `\r` overwrites what was printed, C1 `\u{9b}` is a
//! one-byte CSI. Everything kubelab prints or copies from such a source goes
//! through here: controls become visible (`^[`, `^M`, `\u{9b}`) instead of
//! acting, and program output has its escape sequences removed the way a
//! terminal would interpret them.

use std::borrow::Cow;

/// Whether `c` is a C0 or C1 control or DEL (`char::is_control`).
fn is_control(c: char) -> bool {
    c.is_control()
}

/// One line: a title, an id, a name, a TSV/CSV field. Every control,
/// newline and tab included, is shown escaped.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Running text of several lines: newlines and tabs stay (a `\r\n` line end
/// is a newline), every other control is shown escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_layout: bool) -> Cow<'_, str> {
    let keep = |c: char| keep_layout && (c == '\n' || c == '\t');
    if !s.chars().any(|c| is_control(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if keep_layout && c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if !is_control(c) || keep(c) {
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// Caret notation for C0 and DEL (`^[`, `^M`, `^?`), `\u{..}` for C1.
fn push_visible(out: &mut String, c: char) {
    match c as u32 {
        n @ 0..=0x1f => {
            out.push('^');
            out.push(char::from(n as u8 + 0x40));
        }
        0x7f => out.push_str("^?"),
        n => out.push_str(&format!("\\u{{{n:x}}}")),
    }
}

/// Serialized JSON with DEL and C1 controls written as `\u00XX` escapes
/// (serde_json escapes only C0): the same JSON value, safe to print.
/// Outside strings JSON has only ASCII, so every such character is inside a
/// string where the escape means the same character.
pub fn json(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The first control character of `s` as (1-based line, 1-based column,
/// visible form), ignoring newlines and tabs when `allow_layout` is set.
pub fn first_control(s: &str, allow_layout: bool) -> Option<(u32, u32, String)> {
    let mut line = 1u32;
    let mut col = 1u32;
    for c in s.chars() {
        if c == '\n' && allow_layout {
            line += 1;
            col = 1;
            continue;
        }
        if is_control(c) && !(allow_layout && c == '\t') {
            let mut v = String::new();
            push_visible(&mut v, c);
            return Some((line, col, v));
        }
        col += 1;
    }
    None
}

/// Characters of one output line fed to the terminal emulator: enough for
/// any reason kubelab shows (200 characters), bounded whatever the script
/// printed.
const OUTPUT_LINE_CHARS: usize = 2048;

/// What a terminal would show for one line of program output: escape
/// sequences (colours, cursor moves, OSC) are interpreted by a terminal
/// emulator and dropped, `\r` overwrites as on screen, and any control left
/// is escaped. Trailing blanks are trimmed.
pub fn terminal_line(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|&c| c != '\n')
        .take(OUTPUT_LINE_CHARS)
        .collect();
    // Two columns per character fit even wide ones on the single row.
    let cols = (OUTPUT_LINE_CHARS * 2 + 8) as u16;
    let mut vt = vt100::Parser::new(1, cols, 0);
    vt.process(s.as_bytes());
    let shown = vt.screen().contents();
    line(shown.trim_end()).into_owned()
}

/// Course text for the terminal: control characters (ESC, CR, …) shown
/// as `\u{1b}` instead of acting on the terminal, cut to `max` characters.
pub fn escape_controls(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Cut what a server or a file says to one printable line: it is shown in a
/// terminal and must not carry control sequences.
pub fn one_line(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attack strings every surface is tested with.
    pub const NASTY: &str = "a\u{1b}]52;c;aGk=\u{7}b\u{1b}[2Jc\u{9b}31md\re\0f\u{7f}";

    fn no_controls(s: &str, allow_layout: bool) -> bool {
        first_control(s, allow_layout).is_none()
    }

    #[test]
    fn line_escapes_every_control_visibly() {
        let out = line(NASTY);
        assert!(no_controls(&out, false), "{out:?}");
        assert_eq!(out, "a^[]52;c;aGk=^Gb^[[2Jc\\u{9b}31md^Me^@f^?");
        assert_eq!(line("x\ty\nz"), "x^Iy^Jz");
        assert!(matches!(line("plain 中文"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_c1_and_del_and_stays_the_same_value() {
        let v = serde_json::json!({"name": NASTY, "x": [1, "\t"]});
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let safe = json(&pretty);
        assert!(no_controls(&safe, true), "{safe:?}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn text_keeps_newlines_and_tabs() {
        assert_eq!(text("a\tb\nc\u{1b}[0m"), "a\tb\nc^[[0m");
        assert_eq!(text("a\r\nb\rc"), "a\nb^Mc");
        assert!(no_controls(&text(NASTY), true));
    }

    #[test]
    fn first_control_gives_line_and_column() {
        assert_eq!(
            first_control("ok\nab\0c", true),
            Some((2, 3, "^@".to_string()))
        );
        assert_eq!(first_control("a\tb\nc", true), None);
        assert_eq!(first_control("a\tb", false), Some((1, 2, "^I".to_string())));
    }

    #[test]
    fn terminal_line_drops_escape_sequences_like_a_terminal() {
        assert_eq!(terminal_line("\u{1b}[31mnot done\u{1b}[0m"), "not done");
        assert_eq!(terminal_line("\u{1b}]52;c;aGk=\u{7}clip"), "clip");
        assert_eq!(terminal_line("xxxxx\rab"), "abxxx");
        assert_eq!(terminal_line("\u{1b}[2Jcleared"), "cleared");
        let out = terminal_line(NASTY);
        assert!(no_controls(&out, false), "{out:?}");
        let long = "y".repeat(100_000);
        assert_eq!(terminal_line(&long).len(), OUTPUT_LINE_CHARS);
    }
}
