//! Puts the lesson's pictures on screen in pixels after each frame, where
//! the terminal speaks a graphics protocol ([`crate::picture::graphics`]).
//!
//! Only a picture wholly inside the lesson text, with nothing drawn over
//! the lesson (help, search), is sent; the half blocks under it stay the
//! fallback. Escapes are written only when the set of placements changes:
//!
//! - kitty keeps placements on a layer above the text, so a change hides
//!   them all and places the visible ones again (each PNG is sent once);
//! - iTerm2 and sixel pictures replace the cells they cover, and ratatui
//!   redraws only cells it thinks changed, so a change asks for a full
//!   redraw first (the caller clears the terminal), then draws them anew.

use super::state::App;
use crate::app::library::Content;
use crate::picture::graphics::{self, Protocol};
use crate::picture::Mode;
use std::collections::HashSet;
use std::io::{self, Write};

/// One picture on screen: which, where, how big (cells).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placement {
    id: u32,
    x: u16,
    y: u16,
    cols: u16,
    rows: u16,
}

/// What was last put on screen.
#[derive(Default)]
pub struct Graphics {
    shown: Vec<Placement>,
    /// kitty image ids already sent.
    sent: HashSet<u32>,
    /// The terminal size of the last frame: a resize redraws every cell.
    size: (u16, u16),
}

/// The cell size in pixels, from the tty (0 when it does not say).
fn cell_pixels() -> Option<(u32, u32)> {
    let ws = crossterm::terminal::window_size().ok()?;
    if ws.width == 0 || ws.height == 0 || ws.columns == 0 || ws.rows == 0 {
        return None;
    }
    Some((
        u32::from(ws.width) / u32::from(ws.columns),
        u32::from(ws.height) / u32::from(ws.rows),
    ))
}

impl Graphics {
    fn protocol(app: &App) -> Option<Protocol> {
        match app.pictures {
            Mode::Graphics(p) => Some(p),
            _ => None,
        }
    }

    /// The pictures wholly on screen now, with their place.
    fn wanted(app: &App) -> Vec<(Placement, &crate::render::PicturePlace)> {
        let lay = app.layout();
        let lesson_shown = matches!(
            app.lib.entries.get(app.current).map(|e| &e.content),
            Some(Content::Lesson(_))
        );
        if Self::protocol(app).is_none()
            || lay.too_small
            || lay.lesson.width == 0
            || !lesson_shown
            || app.overlay != super::state::Overlay::None
        {
            return Vec::new();
        }
        let Some(r) = app.rendered() else {
            return Vec::new();
        };
        let text = lay.lesson_text;
        let (top, height) = (app.scroll, usize::from(text.height));
        r.pictures
            .iter()
            .filter(|p| p.line >= top && p.line + usize::from(p.rows) <= top + height)
            .filter(|p| p.col.saturating_add(p.cols) <= text.width && p.cols > 0 && p.rows > 0)
            .map(|p| {
                let place = Placement {
                    id: graphics::kitty_id(&p.picture),
                    x: text.x + p.col,
                    y: text.y + (p.line - top) as u16,
                    cols: p.cols,
                    rows: p.rows,
                };
                (place, p)
            })
            .collect()
    }

    /// Whether the next frame must be drawn in full (the caller clears the
    /// terminal first): iTerm2/sixel pictures are about to move or go.
    pub fn needs_full_redraw(&self, app: &App) -> bool {
        match Self::protocol(app) {
            Some(Protocol::Iterm2 | Protocol::Sixel) => {
                let now: Vec<Placement> = Self::wanted(app).into_iter().map(|(p, _)| p).collect();
                !self.shown.is_empty() && now != self.shown
            }
            _ => false,
        }
    }

    /// After a frame: sends what changed. `redrawn` says the whole screen
    /// was just drawn (cleared first), so nothing of ours is on it.
    pub fn present(&mut self, app: &App, out: &mut impl Write, redrawn: bool) -> io::Result<()> {
        let Some(protocol) = Self::protocol(app) else {
            return Ok(());
        };
        let wanted = Self::wanted(app);
        let now: Vec<Placement> = wanted.iter().map(|(p, _)| p.clone()).collect();
        let resized = std::mem::replace(&mut self.size, app.size) != app.size;
        if now == self.shown && !redrawn && !resized {
            return Ok(());
        }
        let mut buf = String::new();
        match protocol {
            Protocol::Kitty => {
                buf.push_str(graphics::KITTY_HIDE_ALL);
                for (p, place) in &wanted {
                    if self.sent.insert(p.id) {
                        buf.push_str(&graphics::kitty_transmit(
                            p.id,
                            &graphics::png_bytes(&place.picture),
                        ));
                    }
                    buf.push_str(&move_to(p));
                    buf.push_str(&graphics::kitty_place(p.id, p.cols, p.rows));
                }
            }
            Protocol::Iterm2 => {
                for (p, place) in &wanted {
                    buf.push_str(&move_to(p));
                    let png = graphics::png_bytes(&place.picture);
                    buf.push_str(&graphics::iterm2(&png, p.cols, p.rows));
                }
            }
            Protocol::Sixel => {
                // Without the cell size the pixels cannot be fitted: the
                // half blocks stay.
                if let Some((cw, ch)) = cell_pixels() {
                    for (p, place) in &wanted {
                        buf.push_str(&move_to(p));
                        buf.push_str(&graphics::sixel(
                            &place.picture,
                            u32::from(p.cols) * cw,
                            u32::from(p.rows) * ch,
                        ));
                    }
                }
            }
        }
        self.shown = now;
        if buf.is_empty() {
            return Ok(());
        }
        // ratatui puts the cursor where it wants it on the next frame; save
        // and restore it around ours so nothing else notices.
        out.write_all(b"\x1b7")?;
        out.write_all(buf.as_bytes())?;
        out.write_all(b"\x1b8")?;
        out.flush()
    }

    /// Removes our pictures (leaving, Ctrl-Z): kitty keeps them otherwise.
    pub fn forget(&mut self, app: &App, out: &mut impl Write) -> io::Result<()> {
        self.shown.clear();
        self.sent.clear();
        if Self::protocol(app) == Some(Protocol::Kitty) {
            out.write_all(graphics::KITTY_FORGET_ALL.as_bytes())?;
            out.flush()?;
        }
        Ok(())
    }
}

/// CSI row;col H for the placement's top-left cell (1-based).
fn move_to(p: &Placement) -> String {
    format!("\x1b[{};{}H", p.y + 1, p.x + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_to_is_one_based() {
        let p = Placement {
            id: 1,
            x: 0,
            y: 4,
            cols: 3,
            rows: 2,
        };
        assert_eq!(move_to(&p), "\x1b[5;1H");
    }
}
