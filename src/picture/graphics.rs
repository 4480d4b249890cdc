//! Pictures through a terminal's graphics protocol: the escape sequences
//! that put a [`Picture`] on screen in pixels, over the half-block cells the
//! reader laid out for it (those stay the fallback and reserve the room).
//!
//! - **kitty** (kitty, Ghostty): the PNG is sent once per picture
//!   (`a=t`, `f=100`, base64 in ≤ 4096-byte chunks, `m=1` on all but the
//!   last) and then *placed* by id at the cursor, scaled by the terminal to
//!   `c` columns × `r` rows. Placements live on a layer of their own, so
//!   moving or removing one never touches the text (`a=d,d=a`).
//! - **iTerm2** (iTerm2, WezTerm): `OSC 1337 ; File=inline=1;…` with the
//!   PNG, sized in cells; the picture replaces the cells it covers.
//! - **sixel** (foot, mlterm, xterm -ti vt340, Windows Terminal): six-pixel
//!   bands in a 216-colour palette, sized in pixels from the cell size the
//!   tty reports; it replaces the cells it covers too.
//!
//! Every reply is suppressed (`q=2`): an answer would arrive as key presses.

use super::{box_average, Picture};
use base64::Engine;
use std::fmt::Write as _;

/// The graphics protocols kubelab speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Kitty,
    Iterm2,
    Sixel,
}

/// Base64 bytes per kitty escape, as the protocol asks.
const KITTY_CHUNK: usize = 4096;

/// The kept pixels of `pic` as a PNG (8-bit RGB), what kitty and iTerm2 take.
pub fn png_bytes(pic: &Picture) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, pic.kept_w, pic.kept_h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let data: Vec<u8> = pic.rgb.iter().flatten().copied().collect();
    // Writing to a Vec fails only on a size mismatch, which kept_w × kept_h
    // rules out; an empty result then just draws nothing.
    if let Ok(mut w) = enc.write_header() {
        let _ = w.write_image_data(&data);
    }
    out
}

/// A kitty image id for `pic`: non-zero, 32 bits.
pub fn kitty_id(pic: &Picture) -> u32 {
    (pic.id % u64::from(u32::MAX)) as u32 + 1
}

/// Sends the PNG to the terminal under `id`, without showing it.
pub fn kitty_transmit(id: u32, png: &[u8]) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(KITTY_CHUNK).collect();
    let mut out = String::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        // Base64 is ASCII: the chunk is valid UTF-8.
        let chunk = std::str::from_utf8(chunk).unwrap_or_default();
        if i == 0 {
            let _ = write!(out, "\x1b_Ga=t,f=100,t=d,i={id},q=2,m={more};{chunk}\x1b\\");
        } else {
            let _ = write!(out, "\x1b_Gm={more};{chunk}\x1b\\");
        }
    }
    out
}

/// Shows image `id` at the cursor over `cols × rows` cells (placement 1 of
/// that image: placing it again moves it), leaving the cursor where it was.
pub fn kitty_place(id: u32, cols: u16, rows: u16) -> String {
    format!("\x1b_Ga=p,i={id},p=1,c={cols},r={rows},C=1,q=2\x1b\\")
}

/// Removes every placement from the screen; the images stay stored.
pub const KITTY_HIDE_ALL: &str = "\x1b_Ga=d,d=a,q=2\x1b\\";

/// Removes every placement and frees the stored images (on exit).
pub const KITTY_FORGET_ALL: &str = "\x1b_Ga=d,d=A,q=2\x1b\\";

/// The PNG inline at the cursor, `cols × rows` cells, aspect kept.
pub fn iterm2(png: &[u8], cols: u16, rows: u16) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    format!(
        "\x1b]1337;File=inline=1;size={};width={cols};height={rows};preserveAspectRatio=1;doNotMoveCursor=1:{data}\x07",
        png.len()
    )
}

/// The picture as sixel, fitted into `width × height` pixels (aspect kept,
/// never enlarged past the box) — the cells' pixel size times the cells.
pub fn sixel(pic: &Picture, width: u32, height: u32) -> String {
    let (w, h) = (f64::from(pic.width), f64::from(pic.height));
    let scale = (f64::from(width) / w).min(f64::from(height) / h);
    let tw = ((w * scale).floor() as u32).clamp(1, width.max(1));
    let th = ((h * scale).floor() as u32).clamp(1, height.max(1));
    let px = box_average(pic.kept_w, pic.kept_h, tw, th, |x, y| {
        let [r, g, b] = pic.rgb[(y * pic.kept_w + x) as usize];
        [r.into(), g.into(), b.into(), 255]
    });
    encode_sixel(&px, tw, th)
}

/// Index in the 6×6×6 colour cube nearest to `c`.
fn cube_index([r, g, b]: [u8; 3]) -> u8 {
    // 0..=255 onto 0..=5, rounding.
    let q = |v: u8| (u16::from(v) * 5 + 127) / 255;
    (q(r) * 36 + q(g) * 6 + q(b)) as u8
}

/// Sixel for `w × h` RGB pixels: raster attributes (1:1 pixels), the colour
/// registers used, then one band of six rows after another, each colour of
/// a band as a run-length-encoded row of sixel characters.
fn encode_sixel(px: &[[u8; 3]], w: u32, h: u32) -> String {
    let idx: Vec<u8> = px.iter().map(|&c| cube_index(c)).collect();
    let mut used = [false; 216];
    for &i in &idx {
        used[usize::from(i)] = true;
    }
    // P2 = 1: pixels no colour was given to keep what was there.
    let mut out = format!("\x1bP0;1;0q\"1;1;{w};{h}");
    for (i, _) in used.iter().enumerate().filter(|(_, u)| **u) {
        let pct = |v: usize| v * 100 / 5;
        let _ = write!(
            out,
            "#{i};2;{};{};{}",
            pct(i / 36),
            pct(i / 6 % 6),
            pct(i % 6)
        );
    }
    let (w, h) = (w as usize, h as usize);
    for band in (0..h).step_by(6) {
        let mut first = true;
        for colour in 0..216u8 {
            // The six-pixel column bits of this colour across the band.
            let mut bits: Vec<u8> = (0..w)
                .map(|x| {
                    (0..6)
                        .filter(|dy| band + dy < h && idx[(band + dy) * w + x] == colour)
                        .fold(0u8, |acc, dy| acc | (1 << dy))
                })
                .collect();
            // Nothing to draw after the last set column.
            while bits.last() == Some(&0) {
                bits.pop();
            }
            if bits.is_empty() {
                continue;
            }
            if !first {
                out.push('$'); // back to the band's start, next colour
            }
            first = false;
            let _ = write!(out, "#{colour}");
            run_length(&bits, &mut out);
        }
        out.push('-'); // next band
    }
    out.push_str("\x1b\\");
    out
}

/// Sixel characters for `bits` (`?` + bits), runs of 4+ as `!n`.
fn run_length(bits: &[u8], out: &mut String) {
    let mut i = 0;
    while i < bits.len() {
        let b = bits[i];
        let n = bits[i..].iter().take_while(|&&x| x == b).count();
        let ch = char::from(b'?' + b);
        if n >= 4 {
            let _ = write!(out, "!{n}{ch}");
        } else {
            out.extend(std::iter::repeat_n(ch, n));
        }
        i += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn picture(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Picture {
        let rgb = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Picture {
            width: w,
            height: h,
            id: super::super::NEXT_ID.fetch_add(1, Ordering::Relaxed),
            kept_w: w,
            kept_h: h,
            rgb,
        }
    }

    fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
        d.set_transformations(png::Transformations::normalize_to_color8());
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn png_round_trips_the_kept_pixels() {
        let pic = picture(3, 2, |x, y| [x as u8 * 80, y as u8 * 200, 7]);
        let (w, h, data) = decode_png(&png_bytes(&pic));
        assert_eq!((w, h), (3, 2));
        assert_eq!(data, pic.rgb.iter().flatten().copied().collect::<Vec<_>>());
    }

    #[test]
    fn kitty_chunks_reassemble_to_the_png_and_only_the_first_has_keys() {
        // Noise, so the PNG does not compress below one chunk.
        let noise = |x: u32, y: u32| (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
        let pic = picture(97, 61, |x, y| [noise(x, y), noise(y, x), noise(x + y, x)]);
        let png = png_bytes(&pic);
        let seq = kitty_transmit(42, &png);
        let cmds: Vec<&str> = seq
            .split("\x1b\\")
            .filter(|s| !s.is_empty())
            .map(|s| s.strip_prefix("\x1b_G").expect("an APC graphics command"))
            .collect();
        assert!(cmds.len() > 1, "a big enough PNG takes several chunks");
        let mut data = String::new();
        for (i, c) in cmds.iter().enumerate() {
            let (keys, payload) = c.split_once(';').unwrap();
            assert!(payload.len() <= KITTY_CHUNK);
            let last = i + 1 == cmds.len();
            if i == 0 {
                assert!(keys.starts_with("a=t,f=100,t=d,i=42,q=2,"), "{keys}");
            } else {
                assert!(!keys.contains("i="), "continuations carry only m: {keys}");
            }
            assert!(keys.ends_with(if last { "m=0" } else { "m=1" }), "{keys}");
            if !last {
                assert_eq!(payload.len() % 4, 0);
            }
            data.push_str(payload);
        }
        let back = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(back, png);
        assert_eq!(
            kitty_place(42, 30, 8),
            "\x1b_Ga=p,i=42,p=1,c=30,r=8,C=1,q=2\x1b\\"
        );
    }

    #[test]
    fn kitty_ids_are_never_zero() {
        let pic = picture(1, 1, |_, _| [0, 0, 0]);
        assert_ne!(kitty_id(&pic), 0);
    }

    #[test]
    fn iterm2_carries_the_png_and_its_size_in_cells() {
        let pic = picture(5, 4, |x, _| [x as u8, 0, 0]);
        let png = png_bytes(&pic);
        let seq = iterm2(&png, 20, 6);
        let body = seq
            .strip_prefix("\x1b]1337;File=")
            .and_then(|s| s.strip_suffix('\x07'))
            .unwrap();
        let (args, data) = body.split_once(':').unwrap();
        assert!(args.contains("inline=1"));
        assert!(args.contains(&format!("size={}", png.len())));
        assert!(args.contains("width=20;height=6"));
        let back = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(back, png);
    }

    #[test]
    fn sixel_bands_hold_every_pixel_once() {
        // 5 × 8: two bands (6 + 2 rows); left column red, the rest white.
        let pic = picture(
            5,
            8,
            |x, _| if x == 0 { [255, 0, 0] } else { [255, 255, 255] },
        );
        let s = sixel(&pic, 5, 8);
        let body = s.strip_prefix("\x1bP0;1;0q\"1;1;5;8").unwrap();
        let body = body.strip_suffix("\x1b\\").unwrap();
        let red = cube_index([255, 0, 0]);
        let white = cube_index([255, 255, 255]);
        assert!(body.contains(&format!("#{red};2;100;0;0")));
        assert!(body.contains(&format!("#{white};2;100;100;100")));
        assert_eq!(s.matches('-').count(), 2, "two bands");
        // First band: all six rows set (`~` = `?` + 63); the red column,
        // then back (`$`) for the 4 white ones after an empty one (`?`),
        // run-length encoded; nothing after a colour's last column.
        // Second band: two rows (bits 0 and 1: `?` + 3 = `B`).
        let bands = format!("#{red}~$#{white}?!4~-#{red}B$#{white}?!4B-");
        assert!(body.ends_with(&bands), "{body}");
    }

    #[test]
    fn sixel_is_fitted_into_the_box_keeping_the_aspect() {
        let pic = picture(100, 50, |_, _| [0, 0, 0]);
        assert!(sixel(&pic, 40, 40).starts_with("\x1bP0;1;0q\"1;1;40;20"));
    }

    /// The reference decoder (libsixel's `sixel2png`) reads what we write
    /// back to the same picture, give or take the palette.
    #[test]
    fn libsixel_decodes_our_sixel() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let probe = std::process::Command::new("sixel2png")
            .arg("--version")
            .output();
        if probe.is_err() {
            eprintln!("SKIP: sixel2png (Debian libsixel-bin) is not installed");
            return;
        }
        let pic = picture(40, 13, |x, y| {
            if (x / 10 + y / 5) % 2 == 0 {
                [0, 0, 255]
            } else {
                [255, 255, 0]
            }
        });
        let six = dir.path().join("p.six");
        let out = dir.path().join("p.png");
        std::fs::write(&six, sixel(&pic, 40, 13)).unwrap();
        let st = std::process::Command::new("sixel2png")
            .arg("-i")
            .arg(&six)
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        let (w, h, data) = decode_png(&std::fs::read(&out).unwrap());
        assert_eq!((w, h), (40, 13));
        let channels = data.len() / (40 * 13);
        for y in 0..13 {
            for x in 0..40 {
                let i = (y * 40 + x) as usize * channels;
                let want = pic.rgb[(y * 40 + x) as usize];
                assert_eq!(&data[i..i + 3], &want[..], "pixel {x},{y}");
            }
        }
    }
}
