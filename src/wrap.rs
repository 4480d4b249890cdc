//! Display-width line wrapping for styled text, CJK aware.
//!
//! Rules (see docs/ARCHITECTURE.md, pattern 9):
//! - all widths are terminal display columns (a CJK character is 2);
//! - a line may break at whitespace (the whitespace is dropped) and between
//!   any two CJK characters, or between CJK and Latin text;
//! - a wide character is never split; a word longer than the line is cut at
//!   grapheme boundaries;
//! - kinsoku: closing punctuation such as `，。、：；！？）」』` never starts a line
//!   and opening punctuation such as `（「『` never ends one — the glyph travels
//!   with its neighbour instead.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// A run of text with one style: the input and output unit of [`wrap`].
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub style: Style,
    /// The link this text belongs to (an index into the lesson's link
    /// list); kept through wrapping so the screen can make it clickable.
    pub link: Option<usize>,
}

impl Piece {
    pub fn new(text: impl Into<String>, style: Style) -> Self {
        Piece {
            text: text.into(),
            style,
            link: None,
        }
    }

    /// Text of link number `link` (0-based).
    pub fn linked(text: impl Into<String>, style: Style, link: usize) -> Self {
        Piece {
            link: Some(link),
            ..Piece::new(text, style)
        }
    }
}

/// Characters that must not begin a line.
const NO_START: &str = "，。、：；！？）」』》〉】〕”’…‥・ー々〆ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ,.;:!?)]}％";
/// Characters that must not end a line.
const NO_END: &str = "（「『《〈【〔“‘([{";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    Cjk,
    Word,
}

/// True for characters that may be broken around like CJK ideographs.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F       // Hangul Jamo
        | 0x2E80..=0x303F     // CJK radicals, punctuation
        | 0x3040..=0x30FF     // kana
        | 0x3100..=0x31FF
        | 0x3200..=0x4DBF
        | 0x4E00..=0x9FFF     // unified ideographs
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60     // fullwidth forms
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

struct Glyph<'a> {
    text: &'a str,
    piece: usize,
    width: usize,
    class: Class,
    first: char,
}

fn classify(g: &str) -> (Class, char) {
    let c = g.chars().next().unwrap_or(' ');
    let class = if c == ' ' || c == '\t' || c == '\u{3000}' {
        Class::Space
    } else if is_cjk(c) || UnicodeWidthStr::width(g) >= 2 {
        Class::Cjk
    } else {
        Class::Word
    };
    (class, c)
}

/// May a line break fall between `a` and `b` (both non-space)?
fn can_break(a: &Glyph, b: &Glyph) -> bool {
    if NO_START.contains(b.first) || NO_END.contains(a.first) {
        return false;
    }
    a.class == Class::Cjk || b.class == Class::Cjk
}

/// If a run of spaces starts at `i` and is followed by a glyph that may not
/// start a line, the index of that glyph.
fn space_before_no_start(glyphs: &[Glyph], i: usize) -> Option<usize> {
    let mut j = i;
    while j < glyphs.len() && glyphs[j].class == Class::Space {
        j += 1;
    }
    (j > i && j < glyphs.len() && NO_START.contains(glyphs[j].first)).then_some(j)
}

/// Display width of a string in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

fn glyphs(pieces: &[Piece]) -> Vec<Glyph<'_>> {
    pieces
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.text.graphemes(true).map(move |g| {
                let (class, first) = classify(g);
                let w = if g == "\t" {
                    1
                } else {
                    UnicodeWidthStr::width(g)
                };
                Glyph {
                    text: g,
                    piece: i,
                    width: w,
                    class,
                    first,
                }
            })
        })
        .collect()
}

/// End (exclusive) of the unbreakable cluster starting at non-space glyph
/// `start`: [`wrap`] never breaks inside it unless it is wider than a line.
fn cluster_end(glyphs: &[Glyph], start: usize) -> usize {
    let mut i = start + 1;
    loop {
        if i < glyphs.len()
            && glyphs[i].class != Class::Space
            && !can_break(&glyphs[i - 1], &glyphs[i])
        {
            i += 1;
        } else if let Some(end) = space_before_no_start(glyphs, i) {
            // "word ，next": the space is not a break opportunity, or
            // the next line would start with the closing punctuation.
            i = end + 1;
        } else {
            return i;
        }
    }
}

/// Width of the widest run [`wrap`] cannot break (a Latin word with its
/// punctuation; a CJK character with its kinsoku neighbours): the narrowest
/// width at which nothing is cut mid-word.
pub fn min_width(pieces: &[Piece]) -> usize {
    let g = glyphs(pieces);
    let mut i = 0;
    let mut widest = 0;
    while i < g.len() {
        if g[i].class == Class::Space {
            i += 1;
            continue;
        }
        let end = cluster_end(&g, i);
        widest = widest.max(g[i..end].iter().map(|x| x.width).sum());
        i = end;
    }
    widest
}

/// Wraps styled pieces into lines of at most `width` columns (a single glyph
/// wider than `width` still gets a line of its own). Never returns zero lines.
pub fn wrap(pieces: &[Piece], width: usize) -> Vec<Vec<Piece>> {
    let width = width.max(1);
    if let Some(line) = fits_as_is(pieces, width) {
        return vec![line];
    }
    wrap_glyphs(pieces, width)
}

/// [`wrap`] glyph by glyph.
fn wrap_glyphs(pieces: &[Piece], width: usize) -> Vec<Vec<Piece>> {
    let glyphs = glyphs(pieces);

    let mut out = LineBuilder::new(pieces);
    let mut i = 0;
    while i < glyphs.len() {
        if glyphs[i].class == Class::Space {
            let start = i;
            while i < glyphs.len() && glyphs[i].class == Class::Space {
                i += 1;
            }
            out.pending_space = Some(start..i);
            continue;
        }
        // A cluster: glyphs with no break opportunity between them.
        let start = i;
        i = cluster_end(&glyphs, start);
        let cluster = &glyphs[start..i];
        let cw: usize = cluster.iter().map(|g| g.width).sum();
        let sw: usize = out
            .pending_space
            .clone()
            .map_or(0, |r| glyphs[r].iter().map(|g| g.width).sum());
        let space = out.pending_space.take();
        if out.width + sw + cw <= width {
            if out.width > 0 {
                if let Some(r) = space {
                    out.push_all(&glyphs[r]);
                }
            }
            out.push_all(cluster);
        } else if cw <= width {
            out.newline();
            out.push_all(cluster);
        } else {
            // Longer than a whole line: cut at grapheme boundaries.
            if out.width > 0 && out.width + sw + 1 < width {
                if let Some(r) = space {
                    out.push_all(&glyphs[r]);
                }
            } else if out.width > 0 {
                out.newline();
            }
            for (k, g) in cluster.iter().enumerate() {
                // Keep the no-start glyphs that follow (all of "）。")
                // with this one; a no-start glyph itself never opens a
                // line (the glyph before it made room).
                let next_w: usize = cluster[k + 1..]
                    .iter()
                    .take_while(|n| NO_START.contains(n.first))
                    .map(|n| n.width)
                    .sum();
                let glued = k > 0 && NO_START.contains(g.first);
                if !glued && out.width + g.width + next_w > width && out.width > 0 {
                    out.newline();
                }
                out.push(g);
            }
        }
    }
    out.finish()
}

/// Whether a break or space could be dropped or changed by [`wrap`].
fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{3000}'
}

/// The one line [`wrap`] would make of `pieces` when they fit in `width`
/// and it would change nothing (no space to drop at either end, no tab to
/// turn into a space): most paragraphs' last lines, most table cells and
/// most lines of code, without splitting them into graphemes.
fn fits_as_is(pieces: &[Piece], width: usize) -> Option<Vec<Piece>> {
    let mut total = 0;
    for p in pieces {
        total += UnicodeWidthStr::width(p.text.as_str());
        if total > width || p.text.contains('\t') {
            return None;
        }
    }
    let mut texts = pieces
        .iter()
        .map(|p| p.text.as_str())
        .filter(|t| !t.is_empty());
    let first = texts.next()?;
    let last = texts.next_back().unwrap_or(first);
    if first.starts_with(is_space) || last.ends_with(is_space) {
        return None;
    }
    Some(
        pieces
            .iter()
            .filter(|p| !p.text.is_empty())
            .cloned()
            .collect(),
    )
}

struct LineBuilder<'p> {
    pieces: &'p [Piece],
    lines: Vec<Vec<Piece>>,
    cur: Vec<Piece>,
    cur_piece: Option<usize>,
    width: usize,
    pending_space: Option<std::ops::Range<usize>>,
}

impl<'p> LineBuilder<'p> {
    fn new(pieces: &'p [Piece]) -> Self {
        LineBuilder {
            pieces,
            lines: Vec::new(),
            cur: Vec::new(),
            cur_piece: None,
            width: 0,
            pending_space: None,
        }
    }
    fn push(&mut self, g: &Glyph) {
        let text = if g.text == "\t" { " " } else { g.text };
        if self.cur_piece == Some(g.piece) {
            if let Some(last) = self.cur.last_mut() {
                last.text.push_str(text);
            }
        } else {
            let src = &self.pieces[g.piece];
            self.cur.push(Piece {
                link: src.link,
                ..Piece::new(text, src.style)
            });
            self.cur_piece = Some(g.piece);
        }
        self.width += g.width;
    }
    fn push_all(&mut self, gs: &[Glyph]) {
        for g in gs {
            self.push(g);
        }
    }
    fn newline(&mut self) {
        self.lines.push(std::mem::take(&mut self.cur));
        self.cur_piece = None;
        self.width = 0;
    }
    fn finish(mut self) -> Vec<Vec<Piece>> {
        if !self.cur.is_empty() || self.lines.is_empty() {
            self.lines.push(self.cur);
        }
        self.lines
    }
}

/// Cuts styled pieces into lines of at most `width` columns at any grapheme,
/// keeping every character (spaces included): for code, where a reflowed
/// line would change meaning. Wide characters are never split.
pub fn hard_wrap(pieces: &[Piece], width: usize) -> Vec<Vec<Piece>> {
    let width = width.max(2);
    let mut out = LineBuilder::new(pieces);
    for (i, p) in pieces.iter().enumerate() {
        for g in p.text.graphemes(true) {
            let (class, first) = classify(g);
            let w = UnicodeWidthStr::width(g);
            if out.width + w > width && out.width > 0 {
                out.newline();
            }
            out.push(&Glyph {
                text: g,
                piece: i,
                width: w,
                class,
                first,
            });
        }
    }
    out.finish()
}

/// Wraps one line of code for display: like [`hard_wrap`] (every character
/// kept), but a break falls after the last space that fits when there is one
/// in the second half of the line, so tokens such as `3600` are not split.
/// The first line gets `first` columns, continuation lines `rest`.
pub fn code_wrap(pieces: &[Piece], first: usize, rest: usize) -> Vec<Vec<Piece>> {
    // Most code lines fit: kept whole, spaces and all.
    let total: usize = pieces
        .iter()
        .map(|p| UnicodeWidthStr::width(p.text.as_str()))
        .sum();
    if total <= first.max(2) && !pieces.iter().any(|p| p.text.contains('\t')) {
        let line: Vec<Piece> = pieces
            .iter()
            .filter(|p| !p.text.is_empty())
            .cloned()
            .collect();
        return vec![line];
    }
    code_wrap_glyphs(pieces, first, rest)
}

/// [`code_wrap`] glyph by glyph.
fn code_wrap_glyphs(pieces: &[Piece], first: usize, rest: usize) -> Vec<Vec<Piece>> {
    let glyphs: Vec<Glyph> = pieces
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.text.graphemes(true).map(move |g| {
                let (class, first) = classify(g);
                Glyph {
                    text: g,
                    piece: i,
                    width: UnicodeWidthStr::width(g),
                    class,
                    first,
                }
            })
        })
        .collect();
    let mut out = LineBuilder::new(pieces);
    let mut start = 0;
    let mut limit = first.max(2);
    while start < glyphs.len() {
        // The longest run of glyphs from `start` that fits `limit`.
        let mut end = start;
        let mut w = 0;
        while end < glyphs.len() && (w + glyphs[end].width <= limit || end == start) {
            w += glyphs[end].width;
            end += 1;
        }
        if end < glyphs.len() {
            // Prefer to break after the last space that fits, so no token
            // is split when a space earlier in the line would do; spaces of
            // the leading indentation do not count (an empty line helps nobody).
            // Without a space (a URL, a path), after the last `/` in the
            // second half of the run.
            let mut best = None;
            let mut slash = None;
            let mut seen_text = false;
            let mut cols = 0;
            for (k, g) in glyphs[start..end].iter().enumerate() {
                cols += g.width;
                if g.class != Class::Space {
                    seen_text = true;
                    if g.text == "/" && cols * 2 > limit && start + k + 1 < end {
                        slash = Some(start + k + 1);
                    }
                } else if seen_text {
                    best = Some(start + k + 1);
                }
            }
            let best = best.or(slash);
            if let Some(b) = best {
                end = b;
            } else {
                // Kinsoku in comments and strings: "，" does not start the
                // continuation line, "（" does not end this one.
                while end > start + 1
                    && (NO_START.contains(glyphs[end].first)
                        || NO_END.contains(glyphs[end - 1].first))
                {
                    end -= 1;
                }
            }
        }
        if start > 0 {
            out.newline();
        }
        out.push_all(&glyphs[start..end]);
        start = end;
        limit = rest.max(2);
    }
    out.finish()
}

/// Cuts styled pieces at `width` columns; the line ends with `marker` (one
/// column, styled `marker_style`) when something was cut. For diagrams,
/// which are unreadable once wrapped.
pub fn clip(pieces: &[Piece], width: usize, marker: Piece) -> Vec<Piece> {
    let total: usize = pieces
        .iter()
        .map(|p| UnicodeWidthStr::width(p.text.as_str()))
        .sum();
    if total <= width {
        return pieces.to_vec();
    }
    let room = width.saturating_sub(1);
    let mut out = Vec::new();
    let mut w = 0;
    'outer: for p in pieces {
        let mut text = String::new();
        for g in p.text.graphemes(true) {
            let gw = UnicodeWidthStr::width(g);
            if w + gw > room {
                if !text.is_empty() {
                    out.push(Piece::new(text, p.style));
                }
                break 'outer;
            }
            text.push_str(g);
            w += gw;
        }
        out.push(Piece::new(text, p.style));
    }
    // A wide glyph that did not fit leaves a gap: pad so the marker sits at the edge.
    if w < room {
        out.push(Piece::new(" ".repeat(room - w), Style::default()));
    }
    out.push(marker);
    out
}

/// Converts wrapped pieces into a ratatui line.
pub fn to_line(pieces: Vec<Piece>) -> Line<'static> {
    Line::from(
        pieces
            .into_iter()
            .map(|p| Span::styled(p.text, p.style))
            .collect::<Vec<_>>(),
    )
}

/// Wraps plain text; convenient for UI strings and tests.
pub fn wrap_str(text: &str, width: usize) -> Vec<String> {
    wrap(&[Piece::new(text, Style::default())], width)
        .into_iter()
        .map(|l| l.into_iter().map(|p| p.text).collect())
        .collect()
}

/// Cuts `s` to at most `max` columns, adding `…` when it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for g in s.graphemes(true) {
        let gw = width(g);
        if w + gw + 1 > max {
            break;
        }
        out.push_str(g);
        w += gw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths_ok(lines: &[String], max: usize) {
        for l in lines {
            assert!(width(l) <= max, "line {l:?} is {} > {max}", width(l));
        }
    }

    #[test]
    fn chinese_without_spaces_wraps_between_characters() {
        let text = "容器其实是一种特殊的进程它的边界由命名空间和控制组共同划定";
        let lines = wrap_str(text, 10);
        widths_ok(&lines, 10);
        assert_eq!(lines[0], "容器其实是");
        assert_eq!(lines.concat(), text);
        assert!(lines.len() >= 6);
    }

    #[test]
    fn wide_characters_never_split_at_odd_width() {
        let text = "命名空间隔离了进程的视图";
        for w in 2..=13 {
            let lines = wrap_str(text, w);
            widths_ok(&lines, w);
            assert_eq!(lines.concat(), text, "width {w}");
            for l in &lines {
                assert!(!l.contains('\u{FFFD}'));
            }
        }
        // Odd width: the last column stays empty instead of splitting a glyph.
        let lines = wrap_str(text, 5);
        assert_eq!(lines[0], "命名");
        assert_eq!(width(&lines[0]), 4);
    }

    #[test]
    fn kinsoku_punctuation_never_starts_a_line() {
        let text = "进程看到的是一个假的世界，而宿主机看到的是真相。容器（也就是进程）「隔离」之后：还能通信吗？可以！";
        for w in 4..=30 {
            let lines = wrap_str(text, w);
            widths_ok(&lines, w);
            assert_eq!(lines.concat(), text, "width {w}");
            for l in lines.iter().skip(1) {
                let first = l.chars().next().unwrap();
                assert!(
                    !"，。、：；！？）」』".contains(first),
                    "width {w}: line starts with {first:?}: {lines:?}"
                );
            }
            for l in &lines {
                let last = l.chars().last().unwrap();
                assert!(
                    !"（「『".contains(last),
                    "width {w}: line ends with {last:?}"
                );
            }
        }
    }

    #[test]
    fn closing_punctuation_after_a_cut_word_stays_with_it() {
        // A path longer than the line is cut; "）。" after it must not
        // open a line at any width (both glyphs, not only the first).
        let text = "（`include/linux/proc_ns.h`）。这个";
        for w in 6..=40 {
            let lines = wrap_str(text, w);
            widths_ok(&lines, w);
            assert_eq!(lines.concat(), text, "width {w}");
            for l in lines.iter().skip(1) {
                let first = l.chars().next().unwrap();
                assert!(!"）。".contains(first), "width {w}: {lines:?}");
            }
        }
    }

    #[test]
    fn kinsoku_pushes_previous_character_down() {
        // "界，" must travel together: "一个假的世界" would fit 12 columns,
        // but the comma may not start the next line.
        let lines = wrap_str("一个假的世界，真相", 12);
        assert_eq!(lines, vec!["一个假的世", "界，真相"]);
    }

    #[test]
    fn english_wraps_at_spaces_and_drops_them() {
        let lines = wrap_str("the quick brown fox jumps over", 10);
        assert_eq!(lines, vec!["the quick", "brown fox", "jumps over"]);
    }

    #[test]
    fn long_word_is_cut() {
        let lines = wrap_str("https://example.com/very/long/path", 10);
        widths_ok(&lines, 10);
        assert_eq!(lines.concat(), "https://example.com/very/long/path");
    }

    #[test]
    fn mixed_chinese_english_and_code() {
        let pieces = vec![
            Piece::new("使用", Style::default()),
            Piece::new("unshare --pid", Style::default().bold()),
            Piece::new("命令创建新的PID namespace，然后运行", Style::default()),
            Piece::new("ps", Style::default().italic()),
            Piece::new("查看。", Style::default()),
        ];
        for w in 6..40 {
            let lines = wrap(&pieces, w);
            let texts: Vec<String> = lines
                .iter()
                .map(|l| l.iter().map(|p| p.text.as_str()).collect())
                .collect();
            widths_ok(&texts, w);
            let all: String = texts.concat();
            // Only whitespace at break points may disappear.
            let orig: String = pieces.iter().map(|p| p.text.as_str()).collect();
            assert_eq!(all.replace(' ', ""), orig.replace(' ', ""), "width {w}");
            for t in &texts {
                // Latin words are not split when they fit on a line.
                assert!(!t.ends_with("unsh") && !t.starts_with("are"), "{texts:?}");
                assert!(!t.starts_with('，') && !t.starts_with('。'));
            }
        }
        let lines = wrap(&pieces, 14);
        let first: String = lines[0].iter().map(|p| p.text.as_str()).collect();
        assert_eq!(first, "使用unshare");
        // Styles survive the wrap.
        assert_eq!(lines[0][1].style, Style::default().bold());
    }

    #[test]
    fn latin_word_followed_by_fullwidth_comma_stays_together() {
        let lines = wrap_str("这是namespace，那是cgroup", 13);
        widths_ok(&lines, 13);
        assert_eq!(lines[0], "这是");
        assert!(lines[1].starts_with("namespace，"));
    }

    #[test]
    fn space_before_closing_punctuation_is_not_a_break() {
        let text = "运行 sleep 3600 & ，--fork 不能少";
        for w in 4..=40 {
            let lines = wrap_str(text, w);
            for l in lines.iter().skip(1) {
                assert!(!l.starts_with('，'), "width {w}: {lines:?}");
            }
        }
        // The break that used to fall before "，" now falls at the space before "&".
        assert_eq!(wrap_str(text, 17)[0], "运行 sleep 3600");
    }

    #[test]
    fn empty_and_tiny() {
        assert_eq!(wrap_str("", 10), vec![String::new()]);
        let lines = wrap_str("中文", 1);
        assert_eq!(lines, vec!["中", "文"]);
    }

    #[test]
    fn hard_wrap_keeps_spaces_and_wide_chars() {
        let p = [Piece::new("echo  你好世界 done", Style::default())];
        let lines: Vec<String> = hard_wrap(&p, 7)
            .into_iter()
            .map(|l| l.into_iter().map(|p| p.text).collect())
            .collect();
        assert_eq!(lines, vec!["echo  ", "你好世", "界 done"]);
    }

    fn texts(lines: Vec<Vec<Piece>>) -> Vec<String> {
        lines
            .into_iter()
            .map(|l| l.into_iter().map(|p| p.text).collect())
            .collect()
    }

    #[test]
    fn code_wrap_breaks_at_a_space_and_keeps_every_character() {
        let code = "unshare --pid --fork --mount-proc sleep 3600 &";
        let p = [Piece::new(code, Style::default())];
        let lines = texts(code_wrap(&p, 43, 41));
        assert_eq!(
            lines,
            vec!["unshare --pid --fork --mount-proc sleep ", "3600 &"]
        );
        assert_eq!(lines.concat(), code);
        // No space in the second half: cut at the column.
        let lines = texts(code_wrap(
            &[Piece::new("abcdefghij", Style::default())],
            4,
            3,
        ));
        assert_eq!(lines, vec!["abcd", "efg", "hij"]);
        for w in 4..50 {
            let lines = texts(code_wrap(&p, w, w - 2));
            assert_eq!(lines.concat(), code, "width {w}");
            assert!(width(&lines[0]) <= w);
            assert!(lines[1..].iter().all(|l| width(l) <= w - 2));
        }
    }

    #[test]
    fn code_wrap_keeps_closing_punctuation_on_its_line() {
        let p = [Piece::new(
            "# 这一行是注释，说明（为什么）要这样做",
            Style::default(),
        )];
        for w in 6..30 {
            let lines = texts(code_wrap(&p, w, w));
            assert_eq!(lines.concat(), p[0].text, "width {w}");
            for l in &lines[1..] {
                assert!(!l.starts_with(['，', '）']), "width {w}: {lines:?}");
            }
            for l in &lines {
                assert!(width(l) <= w && !l.ends_with('（'), "width {w}: {lines:?}");
            }
        }
    }

    #[test]
    fn clip_marks_the_cut() {
        let m = Piece::new("›", Style::default());
        let p = [Piece::new("┌──────┐ 容器", Style::default())];
        let t: String = clip(&p, 6, m.clone()).into_iter().map(|p| p.text).collect();
        assert_eq!(t, "┌────›");
        let t: String = clip(&p, 11, m.clone())
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(t, "┌──────┐  ›");
        assert_eq!(width(&t), 11);
        let t: String = clip(&p, 13, m).into_iter().map(|p| p.text).collect();
        assert_eq!(t, "┌──────┐ 容器");
    }

    #[test]
    fn truncate_by_width() {
        assert_eq!(truncate("容器与进程", 7), "容器与…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn fast_paths_give_what_glyph_by_glyph_wrapping_gives() {
        let s = Style::new();
        let b = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let cases: Vec<Vec<Piece>> = vec![
            vec![Piece::new("hello world", s)],
            vec![
                Piece::new("容器其实是", s),
                Piece::new("进程", b),
                Piece::new("。", s),
            ],
            vec![Piece::new("", s), Piece::new("a  b", b), Piece::new("", s)],
            vec![Piece::new(" lead", s)],
            vec![Piece::new("trail ", s)],
            vec![Piece::new("tab\there", s)],
            vec![Piece::new("\u{3000}全角空格", s)],
            vec![Piece::linked("link", b, 3), Piece::linked("[4]", s, 3)],
            vec![Piece::new("  indented: code", s), Piece::new("  ", b)],
            vec![],
            vec![Piece::new("", s)],
        ];
        for pieces in &cases {
            for w in [1, 4, 10, 40, 80] {
                assert_eq!(
                    wrap(pieces, w),
                    wrap_glyphs(pieces, w.max(1)),
                    "wrap {pieces:?} at {w}"
                );
                assert_eq!(
                    code_wrap(pieces, w, w.saturating_sub(2)),
                    code_wrap_glyphs(pieces, w, w.saturating_sub(2)),
                    "code_wrap {pieces:?} at {w}"
                );
            }
        }
    }
}
