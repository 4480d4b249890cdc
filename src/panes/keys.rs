//! Turning crossterm key events into the bytes a terminal program expects
//! (xterm conventions), honouring the program's cursor-key mode.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The key that always takes focus back from a shell pane to the lesson.
/// F6 because no shell, pager or editor the course uses needs it.
pub const RELEASE_KEY: KeyCode = KeyCode::F(6);

/// True for the key that leaves the shell pane.
pub fn is_release(key: &KeyEvent) -> bool {
    key.code == RELEASE_KEY
}

/// Bytes for a key press; `None` for keys a terminal does not send
/// (releases, bare modifiers, media keys).
pub fn encode(key: &KeyEvent, app_cursor: bool) -> Option<Vec<u8>> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // xterm modifier parameter: 1 + shift + 2*alt + 4*ctrl.
    let m = 1 + u8::from(shift) + 2 * u8::from(alt) + 4 * u8::from(ctrl);

    let mut out: Vec<u8> = match key.code {
        KeyCode::Char(c) => {
            let mut bytes = if ctrl { ctrl_char(c) } else { None }
                .map(|b| vec![b])
                .unwrap_or_else(|| c.to_string().into_bytes());
            if alt {
                bytes.insert(0, 0x1b);
            }
            return Some(bytes);
        }
        KeyCode::Enter => b"\r".to_vec(),
        KeyCode::Tab => b"\t".to_vec(),
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace => {
            if ctrl {
                vec![0x08]
            } else {
                vec![0x7f]
            }
        }
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => cursor(b'A', m, app_cursor),
        KeyCode::Down => cursor(b'B', m, app_cursor),
        KeyCode::Right => cursor(b'C', m, app_cursor),
        KeyCode::Left => cursor(b'D', m, app_cursor),
        KeyCode::Home => cursor(b'H', m, app_cursor),
        KeyCode::End => cursor(b'F', m, app_cursor),
        KeyCode::Insert => tilde(2, m),
        KeyCode::Delete => tilde(3, m),
        KeyCode::PageUp => tilde(5, m),
        KeyCode::PageDown => tilde(6, m),
        KeyCode::F(n @ 1..=4) => {
            let c = b"PQRS"[usize::from(n - 1)];
            if m == 1 {
                vec![0x1b, b'O', c]
            } else {
                format!("\x1b[1;{m}{}", c as char).into_bytes()
            }
        }
        KeyCode::F(n @ 5..=12) => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            tilde(code, m)
        }
        _ => return None,
    };
    if alt && matches!(key.code, KeyCode::Enter | KeyCode::Backspace | KeyCode::Esc) {
        out.insert(0, 0x1b);
    }
    Some(out)
}

fn ctrl_char(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        '@' | ' ' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '7' | '-' => Some(0x1f),
        '?' | '8' => Some(0x7f),
        _ => None,
    }
}

fn cursor(c: u8, m: u8, app_cursor: bool) -> Vec<u8> {
    if m > 1 {
        format!("\x1b[1;{m}{}", c as char).into_bytes()
    } else if app_cursor {
        vec![0x1b, b'O', c]
    } else {
        vec![0x1b, b'[', c]
    }
}

fn tilde(code: u8, m: u8) -> Vec<u8> {
    if m > 1 {
        format!("\x1b[{code};{m}~").into_bytes()
    } else {
        format!("\x1b[{code}~").into_bytes()
    }
}

/// Text typed as if the learner entered it: newlines become Enter (CR).
pub fn typed(text: &str) -> Vec<u8> {
    text.replace("\r\n", "\n").replace('\n', "\r").into_bytes()
}

/// An OSC 52 escape that asks the outer terminal to put `text` on the
/// clipboard (works over SSH; tmux needs `set -g set-clipboard on`).
/// `text` is course content: its control characters are put on the
/// clipboard escaped (`^[`), so pasting it into a terminal runs no escape.
pub fn osc52_copy(text: &str) -> String {
    use crossterm::Command;
    let text = crate::sanitize::text(text);
    let mut out = String::new();
    // crossterm's OSC 52: the base64 and the ST terminator.
    crossterm::clipboard::CopyToClipboard::to_clipboard_from(text.as_bytes())
        .write_ansi(&mut out)
        .expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn control_and_cursor_keys_follow_xterm() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            encode(&k(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(vec![3])
        );
        assert_eq!(
            encode(&k(KeyCode::Char('x'), KeyModifiers::ALT), false),
            Some(b"\x1bx".to_vec())
        );
        assert_eq!(
            encode(&k(KeyCode::Up, none), false),
            Some(b"\x1b[A".to_vec())
        );
        assert_eq!(
            encode(&k(KeyCode::Up, none), true),
            Some(b"\x1bOA".to_vec())
        );
        assert_eq!(
            encode(&k(KeyCode::Right, KeyModifiers::CONTROL), true),
            Some(b"\x1b[1;5C".to_vec())
        );
        assert_eq!(
            encode(&k(KeyCode::F(5), none), false),
            Some(b"\x1b[15~".to_vec())
        );
        assert_eq!(
            encode(&k(KeyCode::Char('中'), none), false),
            Some("中".as_bytes().to_vec())
        );
        assert!(is_release(&k(KeyCode::F(6), none)));
    }

    #[test]
    fn osc52_puts_escaped_text_on_the_clipboard() {
        assert_eq!(osc52_copy("hi"), "\x1b]52;c;aGk=\x1b\\");
        // Controls in the copied text never reach the clipboard raw: what is
        // sent is the text with its controls made visible.
        let nasty = "a\x1b]52;c;aGk=\x07\x1b[2J\u{9b}\rz\n\tb";
        let sent = osc52_copy(nasty);
        assert_eq!(sent, osc52_copy("a^[]52;c;aGk=^G^[[2J\\u{9b}^Mz\n\tb"));
        let payload = &sent["\x1b]52;c;".len()..sent.len() - 2];
        assert!(
            payload
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
            "{sent:?}"
        );
    }
}
