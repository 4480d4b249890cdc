//! Shared by the test helper modules (`tests/common`, `tests/tui_common`).

/// The screen as a terminal shows it: a wide character covers the next
/// cell, whatever that cell holds.
pub fn dump(buf: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut x = 0;
        while x < buf.area.width {
            let sym = buf[(x, y)].symbol();
            out.push_str(sym);
            x += (unicode_width::UnicodeWidthStr::width(sym) as u16).max(1);
        }
        out.push('\n');
    }
    out
}
