//! Pictures from a course are hostile input (issue 26): a lesson's image is
//! read only from inside the course folder, only up to a size, and its
//! header is checked before a byte of pixels is decoded. Remote images are
//! never fetched.

mod tui_common;
use kubelab::app::{build_app, App, AppOptions};
use kubelab::course::model::Lang;
use kubelab::picture::{self, PictureError};
use std::path::PathBuf;
use tui_common::draw;

/// A PNG of `w`×`h` pixels, a diagonal gradient.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().unwrap();
    let data: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128]
        })
        .collect();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid small PNG whose header claims `w`×`h` (CRC fixed up): a
/// decoder trusting it would allocate w×h×4 bytes.
fn lying_header(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png(4, 4);
    // 8-byte signature, 4 length, "IHDR" at 12..16, data 16..29, CRC 29..33.
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A course folder with one lesson at `course/zh/src/l.md`.
struct Course {
    _tmp: tempfile::TempDir,
    outside: PathBuf,
    root: PathBuf,
    lesson: PathBuf,
}

fn course() -> Course {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("course");
    let src = root.join("zh/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(root.join("zh/assets")).unwrap();
    let lesson = src.join("l.md");
    std::fs::write(&lesson, "# L\n").unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.png"), png(8, 8)).unwrap();
    Course {
        _tmp: tmp,
        outside,
        root,
        lesson,
    }
}

fn load(c: &Course, url: &str) -> Result<(), PictureError> {
    picture::load(url, &c.lesson, &c.root).map(|_| ())
}

#[test]
fn a_picture_inside_the_course_loads() {
    let c = course();
    std::fs::write(c.root.join("zh/assets/d.png"), png(40, 20)).unwrap();
    std::fs::write(c.root.join("zh/src/here.png"), png(3, 3)).unwrap();
    let p = picture::load("../assets/d.png", &c.lesson, &c.root).unwrap();
    assert_eq!((p.width, p.height), (40, 20));
    assert!(picture::load("here.png", &c.lesson, &c.root).is_ok());
    assert!(picture::load("./here.png", &c.lesson, &c.root).is_ok());
}

#[test]
fn a_path_out_of_the_course_is_refused() {
    let c = course();
    let e = load(&c, "../../../outside/secret.png").unwrap_err();
    assert!(matches!(e, PictureError::Outside), "{e}");
    let abs = c.outside.join("secret.png");
    let e = load(&c, abs.to_str().unwrap()).unwrap_err();
    assert!(matches!(e, PictureError::Absolute), "{e}");
    let e = load(&c, "file:///etc/passwd").unwrap_err();
    assert!(matches!(e, PictureError::Remote), "{e}");
}

#[test]
fn a_symlink_out_of_the_course_is_refused() {
    let c = course();
    let link = c.root.join("zh/assets/link.png");
    std::os::unix::fs::symlink(c.outside.join("secret.png"), &link).unwrap();
    let e = load(&c, "../assets/link.png").unwrap_err();
    assert!(matches!(e, PictureError::Outside), "{e}");
    // A folder symlinked out, too.
    std::os::unix::fs::symlink(&c.outside, c.root.join("zh/assets/out")).unwrap();
    let e = load(&c, "../assets/out/secret.png").unwrap_err();
    assert!(matches!(e, PictureError::Outside), "{e}");
}

#[test]
fn remote_pictures_are_never_fetched() {
    let c = course();
    for url in [
        "https://example.invalid/a.png",
        "http://127.0.0.1:1/a.png",
        "//example.invalid/a.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ] {
        let e = load(&c, url).unwrap_err();
        assert!(matches!(e, PictureError::Remote), "{url}: {e}");
    }
}

#[test]
fn a_huge_dimensions_header_is_refused_before_decoding() {
    let c = course();
    let path = c.root.join("zh/assets/bomb.png");
    std::fs::write(&path, lying_header(100_000, 100_000)).unwrap();
    let e = load(&c, "../assets/bomb.png").unwrap_err();
    assert!(
        matches!(e, PictureError::TooManyPixels(100_000, 100_000)),
        "{e}"
    );
    // Within each side's bound but too many pixels in all.
    std::fs::write(&path, lying_header(8000, 8000)).unwrap();
    let e = load(&c, "../assets/bomb.png").unwrap_err();
    assert!(matches!(e, PictureError::TooManyPixels(8000, 8000)), "{e}");
}

#[test]
fn a_big_file_is_refused_unread() {
    let c = course();
    let path = c.root.join("zh/assets/big.png");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: no disk used.
    f.set_len(picture::MAX_FILE_BYTES + 1).unwrap();
    let e = load(&c, "../assets/big.png").unwrap_err();
    assert!(matches!(e, PictureError::File(_)), "{e}");
    assert!(e.to_string().contains("too big"), "{e}");
}

#[test]
fn truncated_and_corrupt_pngs_are_errors_not_panics() {
    let c = course();
    let good = png(64, 64);
    let path = c.root.join("zh/assets/bad.png");
    for cut in [0, 7, 20, 40, good.len() / 2, good.len() - 13] {
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(load(&c, "../assets/bad.png").is_err(), "cut at {cut}");
    }
    let mut corrupt = good.clone();
    let n = corrupt.len();
    for b in &mut corrupt[60..n - 20] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &corrupt).unwrap();
    assert!(load(&c, "../assets/bad.png").is_err());
    // Not a PNG at all: an SVG, a text file.
    std::fs::write(&path, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let e = load(&c, "../assets/bad.png").unwrap_err();
    assert!(matches!(e, PictureError::Format(_)), "{e}");
}

#[test]
fn a_missing_or_special_file_is_an_error() {
    let c = course();
    assert!(matches!(
        load(&c, "nothing.png").unwrap_err(),
        PictureError::File(_)
    ));
    let ok = std::process::Command::new("mkfifo")
        .arg(c.root.join("zh/src/fifo.png"))
        .status()
        .unwrap();
    assert!(ok.success());
    // A FIFO would block a plain read forever.
    assert!(matches!(
        load(&c, "fifo.png").unwrap_err(),
        PictureError::File(_)
    ));
}

#[test]
fn half_blocks_fit_the_width_and_keep_the_colours() {
    let c = course();
    std::fs::write(c.root.join("zh/assets/d.png"), png(200, 100)).unwrap();
    let p = picture::load("../assets/d.png", &c.lesson, &c.root).unwrap();
    let lines = picture::half_blocks(&p, 60, 20);
    assert!(!lines.is_empty() && lines.len() <= 20);
    for l in lines.iter() {
        let w: usize = l.spans.iter().map(|s| s.width()).sum();
        assert!(w <= 60, "{w}");
    }
    // 200×100 at 60 columns: 60×30 pixels, 15 rows of two.
    assert_eq!(lines.len(), 15);
    assert_eq!(lines[0].spans.len(), 60);
    // Top-left is dark red-ish (x≈0, y≈0), bottom-right bright.
    let first = lines[0].spans[0].style;
    let last = lines[14].spans[59].style;
    let rgb = |c: Option<ratatui::style::Color>| match c {
        Some(ratatui::style::Color::Rgb(r, g, b)) => (r, g, b),
        other => panic!("{other:?}"),
    };
    let (r0, g0, _) = rgb(first.fg);
    let (r1, g1, _) = rgb(last.bg);
    assert!(r0 < 20 && g0 < 20, "{r0} {g0}");
    assert!(r1 > 230 && g1 > 230, "{r1} {g1}");
    // The same picture at the same size comes from the cache.
    let again = picture::half_blocks(&p, 60, 20);
    assert!(std::sync::Arc::ptr_eq(&lines, &again));
}

/// The reader at 80×24 on `tests/fixtures/picture_course` (a lesson with a
/// diagram in `assets/` and a remote picture), pictures shown `mode`.
fn reader(mode: picture::Mode) -> App {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/picture_course");
    let opts = AppOptions {
        open: Some("arch".into()),
        ..AppOptions::reader(dir, Lang::Zh)
    };
    let mut a = build_app(&opts, (80, 24)).expect("fixture course loads");
    a.pictures = mode;
    a.prepare();
    a
}

#[test]
fn a_lesson_picture_in_half_blocks() {
    let a = reader(picture::Mode::HalfBlocks);
    let screen = draw(&a);
    // The 96×48 diagram at the text's width: whole rows of half blocks,
    // then its alt text; the remote one is named, not fetched.
    assert!(screen.contains("▀▀▀▀▀▀▀▀▀▀"), "{screen}");
    assert!(screen.contains("控制平面与两个节点"), "{screen}");
    insta::assert_snapshot!("picture_half_blocks_80x24", screen);
    // The remote picture further down: its alt text and why it is not drawn.
    let mut a = a;
    tui_common::keys(&mut a, "G");
    let screen = draw(&a);
    assert!(screen.contains("[▣ 官方架构图]"), "{screen}");
    assert!(
        screen.contains("(a remote picture, not fetched)"),
        "{screen}"
    );
    assert!(
        screen.contains("https://kubernetes.io/images/docs/"),
        "{screen}"
    );
}

#[test]
fn a_lesson_picture_as_alt_text() {
    let a = reader(picture::Mode::AltText);
    let screen = draw(&a);
    assert!(!screen.contains('▀'), "{screen}");
    assert!(screen.contains("控制平面与两个节点"), "{screen}");
    insta::assert_snapshot!("picture_alt_text_80x24", screen);
}

/// Where the first `▀` of the screen is: the picture's top-left cell.
fn first_half_block(screen: &str) -> (usize, usize) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(x) = line.chars().position(|c| c == '▀') {
            return (x, y);
        }
    }
    panic!("no half blocks on screen:\n{screen}");
}

#[test]
fn a_kitty_terminal_gets_the_picture_in_pixels_over_its_cells() {
    use kubelab::app::graphics::Graphics;
    use kubelab::picture::graphics::Protocol;
    let mut a = reader(picture::Mode::Graphics(Protocol::Kitty));
    // The cells are the half blocks, as without the protocol (they are the
    // fallback and hold the picture's place).
    let screen = draw(&a);
    assert_eq!(screen, draw(&reader(picture::Mode::HalfBlocks)));
    let (x, y) = first_half_block(&screen);

    let mut g = Graphics::default();
    let mut out = Vec::new();
    g.present(&a, &mut out, true).unwrap();
    let sent = String::from_utf8(out).unwrap();
    // Sent once (PNG, id), then placed at the picture's first cell.
    assert!(sent.starts_with("\x1b7\x1b_Ga=d,d=a,q=2\x1b\\"), "{sent:?}");
    assert!(sent.contains("\x1b_Ga=t,f=100,t=d,i="), "{sent:?}");
    let at = format!("\x1b[{};{}H\x1b_Ga=p,i=", y + 1, x + 1);
    assert!(sent.contains(&at), "placed at {x},{y}: {sent:?}");
    assert!(sent.ends_with("\x1b8"), "the cursor is put back: {sent:?}");

    // Nothing changed: nothing is written.
    let mut out = Vec::new();
    g.present(&a, &mut out, false).unwrap();
    assert!(out.is_empty(), "{:?}", String::from_utf8_lossy(&out));

    // Help over the lesson: the picture goes (kitty draws above the text).
    tui_common::keys(&mut a, "?");
    let mut out = Vec::new();
    g.present(&a, &mut out, false).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\x1b7\x1b_Ga=d,d=a,q=2\x1b\\\x1b8"
    );
    // Back: placed again, not sent again.
    tui_common::keys(&mut a, "?");
    let mut out = Vec::new();
    g.present(&a, &mut out, false).unwrap();
    let sent = String::from_utf8(out).unwrap();
    assert!(sent.contains(&at), "{sent:?}");
    assert!(!sent.contains("a=t"), "the PNG is not sent twice: {sent:?}");

    // Scrolled so the picture is cut by the top edge: half blocks only.
    tui_common::keys(&mut a, "G");
    let mut out = Vec::new();
    g.present(&a, &mut out, false).unwrap();
    let sent = String::from_utf8(out).unwrap();
    assert!(!sent.contains("a=p"), "{sent:?}");
    // Leaving frees the images.
    let mut out = Vec::new();
    g.forget(&a, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "\x1b_Ga=d,d=A,q=2\x1b\\");
}

#[test]
fn iterm2_pictures_ask_for_a_full_redraw_when_they_move() {
    use kubelab::app::graphics::Graphics;
    use kubelab::picture::graphics::Protocol;
    let mut a = reader(picture::Mode::Graphics(Protocol::Iterm2));
    let mut g = Graphics::default();
    assert!(!g.needs_full_redraw(&a), "nothing of ours on screen yet");
    let mut out = Vec::new();
    g.present(&a, &mut out, true).unwrap();
    let sent = String::from_utf8(out).unwrap();
    assert!(sent.contains("\x1b]1337;File=inline=1;"), "{sent:?}");
    assert!(!g.needs_full_redraw(&a), "unchanged");
    // The picture goes: its pixels replaced cells ratatui thinks it drew.
    tui_common::keys(&mut a, "G");
    assert!(g.needs_full_redraw(&a));
}
