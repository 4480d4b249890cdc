//! Pictures in lessons (`![alt](../assets/diagram.png)`), drawn in the
//! terminal with half blocks: each cell is `▀` with the upper pixel as
//! foreground and the lower one as background, so a cell holds two square
//! pixels. Works in every colour terminal, needs no query of the terminal
//! (which could hang it), and scrolls like text.
//!
//! A picture comes from the course, so it is hostile:
//! - only a relative path, resolved beside the lesson and confined to the
//!   course folder (`..` or a symlink leading out is refused, see
//!   [`files::confine`]); remote URLs are never fetched;
//! - a regular file of at most [`MAX_FILE_BYTES`], read without blocking;
//! - PNG only, its header's width × height checked against [`MAX_SIDE`] and
//!   [`MAX_PIXELS`] before a byte of pixel data is decoded, and the
//!   decoder's own allocation limit set (no decompression bomb);
//! - decoded once per file (errors too) and shrunk to [`KEEP_SIDE`] pixels,
//!   the cell rendering cached per picture and size, so scrolling never
//!   decodes.
//!
//! Where the terminal speaks a graphics protocol (kitty, iTerm2, sixel —
//! [`graphics`]), the picture is also sent in pixels over those cells once
//! it is wholly on screen; the half blocks stay the fallback and hold its
//! place. The protocol is chosen from the environment, never by querying
//! the terminal, and `KUBELAB_PICTURES` overrides the choice.
//!
//! SVG is not rasterised: a renderer (resvg) would bring a font stack and
//! dozens of crates for what the alt text and path already say.

pub mod graphics;

use crate::course::files::{self, FileError};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Biggest picture file read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Widest or tallest picture decoded, in pixels.
pub const MAX_SIDE: u32 = 8192;
/// Most pixels decoded (32 MiB of RGBA while decoding).
pub const MAX_PIXELS: u64 = 8 * 1024 * 1024;
/// What the decoder may allocate besides the image buffer (rows, chunks).
const DECODER_BYTES: usize = 40 * 1024 * 1024;
/// Entries per cache before it starts over.
const CACHE_ENTRIES: usize = 512;
/// Kept pixels per side after decoding: far more than a terminal shows.
const KEEP_SIDE: u32 = 640;

/// How pictures are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// The alt text with its path in the references list: tests, pipes,
    /// `TERM=dumb`/`linux`, `NO_COLOR`.
    #[default]
    AltText,
    /// Half-block cells in 24-bit colour.
    HalfBlocks,
    /// Half blocks, covered by the picture in pixels through a graphics
    /// protocol when it is wholly on screen.
    Graphics(graphics::Protocol),
}

/// Overrides the choice: `kitty`, `iterm2`, `sixel`, `blocks` or `off`.
pub const PICTURES_ENV: &str = "KUBELAB_PICTURES";

/// The terminal's identity, as its environment tells it.
#[derive(Debug, Default, Clone)]
pub struct TermEnv {
    pub term: String,
    pub term_program: String,
    /// `LC_TERMINAL` (iTerm2 sets it, and ssh passes `LC_*` on).
    pub lc_terminal: String,
    pub kitty_window: bool,
    /// Inside tmux or screen, which pass no graphics through by default.
    pub multiplexer: bool,
    pub no_color: bool,
    /// [`PICTURES_ENV`].
    pub choice: String,
}

impl TermEnv {
    pub fn from_env() -> TermEnv {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        TermEnv {
            term: var("TERM"),
            term_program: var("TERM_PROGRAM"),
            lc_terminal: var("LC_TERMINAL"),
            kitty_window: std::env::var_os("KITTY_WINDOW_ID").is_some(),
            multiplexer: std::env::var_os("TMUX").is_some() || std::env::var_os("STY").is_some(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            choice: var(PICTURES_ENV),
        }
    }
}

impl Mode {
    /// The mode for the terminal kubelab runs in (never queries it).
    pub fn from_env() -> Mode {
        Mode::for_env(&TermEnv::from_env())
    }

    /// Half blocks need 24-bit colour: not on the Linux console, a dumb or
    /// unknown terminal, or where the learner asked for no colour.
    pub fn for_terminal(term: &str, no_color: bool) -> Mode {
        if no_color || matches!(term, "" | "dumb" | "linux") {
            Mode::AltText
        } else {
            Mode::HalfBlocks
        }
    }

    /// [`Mode::for_terminal`], upgraded to a graphics protocol for the
    /// terminals known to speak one — only outside tmux/screen, whose
    /// passthrough is off by default and would print the escapes as junk.
    pub fn for_env(env: &TermEnv) -> Mode {
        use graphics::Protocol::*;
        match env.choice.as_str() {
            "off" => return Mode::AltText,
            "blocks" => return Mode::HalfBlocks,
            "kitty" => return Mode::Graphics(Kitty),
            "iterm2" => return Mode::Graphics(Iterm2),
            "sixel" => return Mode::Graphics(Sixel),
            _ => {}
        }
        let base = Mode::for_terminal(&env.term, env.no_color);
        if base == Mode::AltText || env.multiplexer {
            return base;
        }
        let term = env.term.as_str();
        let program = env.term_program.as_str();
        if env.kitty_window
            || term == "xterm-kitty"
            || term == "xterm-ghostty"
            || program == "ghostty"
        {
            Mode::Graphics(Kitty)
        } else if program == "iTerm.app" || program == "WezTerm" || env.lc_terminal == "iTerm2" {
            Mode::Graphics(Iterm2)
        } else if term.starts_with("foot")
            || term.starts_with("mlterm")
            || term.starts_with("contour")
        {
            Mode::Graphics(Sixel)
        } else {
            base
        }
    }

    /// Whether pictures are laid out as cells (else as alt text only).
    pub fn draws_pictures(self) -> bool {
        self != Mode::AltText
    }
}

/// Why a picture is not drawn; the alt text is shown instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PictureError {
    /// `http:`, `//host`, `data:` …: never fetched.
    Remote,
    /// `/etc/…`: a course names its files relative to the lesson.
    Absolute,
    /// The path, or a symlink on it, leads out of the course folder.
    Outside,
    /// Missing, not a regular file, too big, unreadable.
    File(String),
    /// Not a PNG (what it looks like instead).
    Format(&'static str),
    /// The header's width and height: too many pixels to decode.
    TooManyPixels(u32, u32),
    /// A broken or truncated PNG.
    Decode(String),
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PictureError::Remote => f.write_str("a remote picture, not fetched"),
            PictureError::Absolute => {
                f.write_str("an absolute path; use one relative to the lesson")
            }
            PictureError::Outside => f.write_str("leads outside the course folder"),
            PictureError::File(e) => f.write_str(e),
            PictureError::Format(kind) => write!(f, "{kind}, not PNG; only PNG is drawn"),
            PictureError::TooManyPixels(w, h) => write!(
                f,
                "{w}×{h} pixels, more than {MAX_SIDE} a side or {} Mpx in all",
                MAX_PIXELS / (1024 * 1024)
            ),
            PictureError::Decode(e) => write!(f, "not a valid PNG ({e})"),
        }
    }
}

impl std::error::Error for PictureError {}

/// A decoded picture, shrunk to at most [`KEEP_SIDE`] a side, transparent
/// parts laid on white (diagrams are drawn for paper).
#[derive(Debug)]
pub struct Picture {
    /// Size of the file's image, in pixels.
    pub width: u32,
    pub height: u32,
    /// Unique per decoded file: the cell cache's key.
    id: u64,
    kept_w: u32,
    kept_h: u32,
    /// `kept_w × kept_h` RGB pixels, row by row.
    rgb: Vec<[u8; 3]>,
}

type Decoded = Result<Arc<Picture>, PictureError>;

/// A file as last seen: canonical path, size, modification time.
type FileKey = (PathBuf, u64, Option<std::time::SystemTime>);
type DecodedCache = Mutex<HashMap<FileKey, Decoded>>;

/// Decoded files (errors too), by [`FileKey`].
fn decoded() -> &'static DecodedCache {
    static CACHE: OnceLock<DecodedCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Cell renderings by picture id, columns and rows.
type Cells = Arc<Vec<Line<'static>>>;
type CellCache = Mutex<HashMap<(u64, usize, usize), Cells>>;
fn cells() -> &'static CellCache {
    static CACHE: OnceLock<CellCache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether `url` names something not on this disk (never fetched).
pub fn is_remote(url: &str) -> bool {
    let url = url.trim();
    if url.starts_with("//") {
        return true;
    }
    // A scheme: letters, digits, `+-.`, then `:` (`C:` drive letters do
    // not occur on the Unix systems kubelab runs on).
    match url.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// The picture `url` of the lesson at `lesson`, confined to `root` (the
/// course folder). Decoded once; later calls get the cached result.
pub fn load(url: &str, lesson: &Path, root: &Path) -> Decoded {
    let url = url.trim();
    if is_remote(url) {
        return Err(PictureError::Remote);
    }
    // `diagram.png#dark` / `?v=2`: the file is before them.
    let file = url.split(['#', '?']).next().unwrap_or("");
    if file.is_empty() {
        return Err(PictureError::File("no file named".into()));
    }
    if Path::new(file).is_absolute() {
        return Err(PictureError::Absolute);
    }
    let dir = lesson.parent().unwrap_or(Path::new("."));
    let real = match files::confine(&dir.join(file), root) {
        Ok(p) => p,
        Err(FileError::Outside(_)) => return Err(PictureError::Outside),
        Err(e) => return Err(PictureError::File(format!("{file} {e}"))),
    };
    let meta = std::fs::metadata(&real).ok();
    let key = (
        real.clone(),
        meta.as_ref().map_or(0, |m| m.len()),
        meta.and_then(|m| m.modified().ok()),
    );
    if let Some(hit) = decoded()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return hit.clone();
    }
    let result = files::read_regular(&real, MAX_FILE_BYTES)
        .map_err(|e| PictureError::File(format!("{file} {e}")))
        .and_then(|bytes| decode(&bytes))
        .map(Arc::new);
    let mut cache = decoded().lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a course has a few hundred pictures at most.
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(key, result.clone());
    result
}

/// Ids of decoded pictures.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// What a non-PNG file looks like, for the message.
fn sniff(bytes: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if bytes.starts_with(b"\xff\xd8\xff") {
        "JPEG"
    } else if bytes.starts_with(b"GIF8") {
        "GIF"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "WebP"
    } else if head.contains("<svg") {
        "SVG"
    } else {
        "not a picture kubelab knows"
    }
}

/// Decodes a PNG after checking its header's dimensions.
fn decode(bytes: &[u8]) -> Result<Picture, PictureError> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(PictureError::Format(sniff(bytes)));
    }
    let limits = png::Limits {
        bytes: DECODER_BYTES,
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let bad = |e: png::DecodingError| PictureError::Decode(e.to_string());
    let (w, h) = {
        let info = decoder.read_header_info().map_err(bad)?;
        (info.width, info.height)
    };
    // Before any pixel data is read: the header alone decides.
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS
    {
        return Err(PictureError::TooManyPixels(w, h));
    }
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or(PictureError::TooManyPixels(w, h))?;
    let mut buf = vec![0u8; size];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(PictureError::Decode("palette not expanded".into())),
    };
    if frame.bit_depth != png::BitDepth::Eight {
        return Err(PictureError::Decode(
            "bit depth not 8 after expansion".into(),
        ));
    }
    let stride = frame.line_size;
    let (fw, fh) = (frame.width, frame.height);
    // RGBA of pixel (x, y), straight from the buffer.
    let at = |x: u32, y: u32| -> [u32; 4] {
        let i = y as usize * stride + x as usize * channels;
        let p = &buf[i..i + channels];
        match channels {
            1 => [p[0].into(), p[0].into(), p[0].into(), 255],
            2 => [p[0].into(), p[0].into(), p[0].into(), p[1].into()],
            3 => [p[0].into(), p[1].into(), p[2].into(), 255],
            _ => [p[0].into(), p[1].into(), p[2].into(), p[3].into()],
        }
    };
    let scale = (f64::from(KEEP_SIDE) / f64::from(fw.max(fh))).min(1.0);
    let kept_w = ((f64::from(fw) * scale).round() as u32).max(1);
    let kept_h = ((f64::from(fh) * scale).round() as u32).max(1);
    let rgb = box_average(fw, fh, kept_w, kept_h, at);
    Ok(Picture {
        width: w,
        height: h,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        kept_w,
        kept_h,
        rgb,
    })
}

/// Shrinks a `sw × sh` image (pixels from `px`, RGBA) to `tw × th` RGB,
/// each target pixel the average of the source pixels it covers, laid on
/// white by their alpha.
fn box_average(
    sw: u32,
    sh: u32,
    tw: u32,
    th: u32,
    px: impl Fn(u32, u32) -> [u32; 4],
) -> Vec<[u8; 3]> {
    let mut out = Vec::with_capacity(tw as usize * th as usize);
    let span = |t: u32, tn: u32, sn: u32| {
        let a = (u64::from(t) * u64::from(sn) / u64::from(tn)) as u32;
        let b = ((u64::from(t) + 1) * u64::from(sn)).div_ceil(u64::from(tn)) as u32;
        a..b.max(a + 1).min(sn)
    };
    for ty in 0..th {
        let ys = span(ty, th, sh);
        for tx in 0..tw {
            let xs = span(tx, tw, sw);
            let (mut sum, mut n) = ([0u64; 3], 0u64);
            for y in ys.clone() {
                for x in xs.clone() {
                    let [r, g, b, a] = px(x, y);
                    // Over white: c·a + 255·(255 − a), in units of 255.
                    for (s, c) in sum.iter_mut().zip([r, g, b]) {
                        *s += u64::from(c * a + 255 * (255 - a));
                    }
                    n += 1;
                }
            }
            let n = (n * 255).max(1);
            out.push(sum.map(|s| (s / n) as u8));
        }
    }
    out
}

/// The picture as half-block lines at most `max_cols` wide and `max_rows`
/// high (aspect kept, never enlarged). Cached per picture and size.
pub fn half_blocks(pic: &Picture, max_cols: usize, max_rows: usize) -> Cells {
    let key = (pic.id, max_cols, max_rows);
    if let Some(hit) = cells().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let lines = Arc::new(draw(pic, max_cols.max(1), max_rows.max(1)));
    let mut cache = cells().lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(key, lines.clone());
    lines
}

fn draw(pic: &Picture, max_cols: usize, max_rows: usize) -> Vec<Line<'static>> {
    // Pixels of the original size fit into max_cols × 2·max_rows.
    let (w, h) = (f64::from(pic.width), f64::from(pic.height));
    let scale = (max_cols as f64 / w)
        .min(2.0 * max_rows as f64 / h)
        .min(1.0);
    let tw = ((w * scale).round() as u32).clamp(1, max_cols as u32);
    let th = ((h * scale).round() as u32).clamp(1, 2 * max_rows as u32);
    let px = box_average(pic.kept_w, pic.kept_h, tw, th, |x, y| {
        let [r, g, b] = pic.rgb[(y * pic.kept_w + x) as usize];
        [r.into(), g.into(), b.into(), 255]
    });
    let rgb = |[r, g, b]: [u8; 3]| Color::Rgb(r, g, b);
    (0..th.div_ceil(2))
        .map(|row| {
            let spans = (0..tw)
                .map(|x| {
                    let top = px[(2 * row * tw + x) as usize];
                    let style = Style::new().fg(rgb(top));
                    let style = match px.get(((2 * row + 1) * tw + x) as usize) {
                        Some(&bottom) if 2 * row + 1 < th => style.bg(rgb(bottom)),
                        _ => style,
                    };
                    Span::styled("▀", style)
                })
                .collect::<Vec<_>>();
            Line::from(spans)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_blocks_only_where_colour_works() {
        assert_eq!(
            Mode::for_terminal("xterm-256color", false),
            Mode::HalfBlocks
        );
        assert_eq!(Mode::for_terminal("tmux-256color", false), Mode::HalfBlocks);
        assert_eq!(Mode::for_terminal("xterm-256color", true), Mode::AltText);
        for t in ["", "dumb", "linux"] {
            assert_eq!(Mode::for_terminal(t, false), Mode::AltText, "{t}");
        }
    }

    #[test]
    fn graphics_only_where_the_terminal_is_known_to_speak_them() {
        use graphics::Protocol::*;
        let env = |term: &str, program: &str| TermEnv {
            term: term.into(),
            term_program: program.into(),
            ..TermEnv::default()
        };
        assert_eq!(
            Mode::for_env(&env("xterm-kitty", "")),
            Mode::Graphics(Kitty)
        );
        assert_eq!(
            Mode::for_env(&env("xterm-256color", "ghostty")),
            Mode::Graphics(Kitty)
        );
        assert_eq!(
            Mode::for_env(&env("xterm-256color", "iTerm.app")),
            Mode::Graphics(Iterm2)
        );
        assert_eq!(
            Mode::for_env(&env("xterm-256color", "WezTerm")),
            Mode::Graphics(Iterm2)
        );
        assert_eq!(Mode::for_env(&env("foot", "")), Mode::Graphics(Sixel));
        assert_eq!(Mode::for_env(&env("xterm-256color", "")), Mode::HalfBlocks);
        // tmux/screen pass no graphics through by default; NO_COLOR wins.
        let mut in_tmux = env("xterm-kitty", "");
        in_tmux.multiplexer = true;
        assert_eq!(Mode::for_env(&in_tmux), Mode::HalfBlocks);
        let mut no_color = env("xterm-kitty", "");
        no_color.no_color = true;
        assert_eq!(Mode::for_env(&no_color), Mode::AltText);
        // The learner's choice overrides the guess, either way.
        let mut chosen = env("xterm-256color", "");
        chosen.choice = "sixel".into();
        assert_eq!(Mode::for_env(&chosen), Mode::Graphics(Sixel));
        chosen.choice = "off".into();
        assert_eq!(Mode::for_env(&chosen), Mode::AltText);
        let mut blocks = env("xterm-kitty", "");
        blocks.choice = "blocks".into();
        assert_eq!(Mode::for_env(&blocks), Mode::HalfBlocks);
    }

    #[test]
    fn remote_urls_are_recognised() {
        for u in [
            "https://a/b.png",
            "HTTP://a",
            "//a/b",
            "data:image/png;base64,x",
            "file:///x",
        ] {
            assert!(is_remote(u), "{u}");
        }
        for u in ["a.png", "../assets/a.png", "./a:b.png", "a b.png"] {
            assert!(!is_remote(u), "{u}");
        }
    }

    #[test]
    fn box_average_lays_transparency_on_white() {
        // 2×1: opaque black and fully transparent; one target pixel.
        let px = |x: u32, _y: u32| if x == 0 { [0, 0, 0, 255] } else { [0, 0, 0, 0] };
        assert_eq!(box_average(2, 1, 1, 1, px), vec![[127, 127, 127]]);
        assert_eq!(
            box_average(2, 1, 2, 1, px),
            vec![[0, 0, 0], [255, 255, 255]]
        );
    }
}
