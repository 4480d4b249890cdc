//! Lesson IR → styled terminal lines for one width.
//!
//! The result is pure data ([`Rendered`]): lines plus, for each line, the
//! source line of the block it came from (search hits, saved positions) and
//! the line ranges of interactive blocks (focus, mouse, "run this block").
//! The app caches one `Rendered` per (lesson, width, block state).

pub mod highlight;
pub mod inline;
mod interactive;
mod mermaid;
mod table;
pub mod theme;

use crate::doc::ir::{Block, Doc, Interactive, ListItem};
use crate::i18n::Strings;
use crate::wrap::{self, Piece};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Status of a check, filled in by whoever runs checks (the panes side).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CheckStatus {
    #[default]
    Pending,
    Pass,
    /// Failed, with the first line of the script's output as the reason.
    Fail(Option<String>),
    /// Cannot pass on this machine (a `needs=limits` check of a sandbox
    /// without cgroup limits): skipped. The engine's note on why.
    Unavailable(String),
    /// A two-track lesson's cluster-track check while its sandbox cannot
    /// start (no cluster): skipped with the reason, not recorded.
    Skipped(String),
}

/// Learner-controlled state of a lesson's interactive blocks; part of the
/// render cache key (see [`BlockStates::generation`]).
#[derive(Debug, Clone, Default)]
pub struct BlockStates {
    /// Interactive block indices whose solution is revealed.
    pub revealed: HashSet<usize>,
    /// Check ids whose hint is shown.
    pub hints: HashSet<String>,
    /// Quiz id → chosen answer (0-based).
    pub quiz: HashMap<String, usize>,
    /// Check id → status.
    pub checks: HashMap<String, CheckStatus>,
    /// Check id → when it passed in an earlier session (saved progress): a
    /// check that fails now in a fresh sandbox still reads as done.
    pub done_earlier: HashMap<String, u64>,
    /// Bumped on every change so cached renders are invalidated.
    pub generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractiveKind {
    Run,
    Check,
    Solution,
    Quiz,
}

impl InteractiveKind {
    pub fn of(i: &Interactive) -> Self {
        match i {
            Interactive::Run(_) => InteractiveKind::Run,
            Interactive::Check(_) => InteractiveKind::Check,
            Interactive::Solution(_) => InteractiveKind::Solution,
            Interactive::Quiz(_) => InteractiveKind::Quiz,
        }
    }
}

/// Where an interactive block landed in the rendered lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRange {
    /// Index in document order (see [`interactive_blocks`]).
    pub index: usize,
    pub kind: InteractiveKind,
    pub lines: Range<usize>,
    pub source_line: u32,
}

/// Screen cells of link text: `cols` of rendered line `line` belong to
/// link `link` (an index into [`Rendered::urls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpan {
    pub line: usize,
    pub cols: Range<u16>,
    pub link: usize,
}

/// A lesson laid out for one width.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub width: u16,
    pub lines: Vec<Line<'static>>,
    /// Source line of the block each rendered line belongs to.
    pub src_lines: Vec<u32>,
    pub blocks: Vec<BlockRange>,
    /// Link targets as the course wrote them, numbered from 1 on screen.
    pub urls: Vec<String>,
    /// Where link text (and each URL in the references) is on screen.
    pub link_spans: Vec<LinkSpan>,
    /// Rendered line of each link's entry in the references list.
    pub ref_lines: Vec<usize>,
    /// Where each drawn picture's half blocks are: a graphics protocol
    /// covers them in pixels (src/app/graphics.rs).
    pub pictures: Vec<PicturePlace>,
}

/// A picture laid out as half blocks: from rendered line `line`, `col`
/// columns in, `cols × rows` cells.
#[derive(Debug, Clone)]
pub struct PicturePlace {
    pub line: usize,
    pub col: u16,
    pub cols: u16,
    pub rows: u16,
    pub picture: std::sync::Arc<crate::picture::Picture>,
}

impl Rendered {
    /// First rendered line of the last block starting at or before
    /// `source_line` (0 when there is none).
    pub fn line_for_source(&self, source_line: u32) -> usize {
        let best = self
            .src_lines
            .iter()
            .copied()
            .filter(|&s| s <= source_line)
            .max();
        best.and_then(|b| self.src_lines.iter().position(|&s| s == b))
            .unwrap_or(0)
    }

    /// The interactive block shown on rendered line `line`.
    pub fn block_at(&self, line: usize) -> Option<&BlockRange> {
        self.blocks.iter().find(|b| b.lines.contains(&line))
    }
}

/// The document's interactive blocks in document order (nested ones too);
/// [`BlockRange::index`] indexes this list.
pub fn interactive_blocks(doc: &Doc) -> Vec<&Interactive> {
    doc.interactives()
}

/// Every code block of `doc` that gets highlighted, as `(lang, code)`.
pub fn code_blocks(doc: &Doc) -> Vec<(&str, &str)> {
    fn walk<'a>(blocks: &'a [Block], out: &mut Vec<(&'a str, &'a str)>) {
        for b in blocks {
            match b {
                Block::Code {
                    lang: Some(l),
                    code,
                    ..
                } => out.push((l, code)),
                Block::Quote { blocks, .. } => walk(blocks, out),
                Block::List { items, .. } => items.iter().for_each(|i| walk(&i.blocks, out)),
                Block::Interactive(Interactive::Run(r)) => out.push((&r.lang, &r.code)),
                Block::Interactive(Interactive::Solution(r)) => out.push((&r.lang, &r.code)),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.blocks, &mut out);
    out
}

/// Plain text of a block, for search.
pub fn block_text(b: &Block) -> String {
    match b {
        Block::Heading { text, .. } | Block::Paragraph { text, .. } => inline::plain(text),
        Block::Code { code, .. } | Block::Html { text: code, .. } => code.clone(),
        Block::List { items, .. } => items
            .iter()
            .flat_map(|i| i.blocks.iter().map(block_text))
            .collect::<Vec<_>>()
            .join(" "),
        Block::Quote { blocks, .. } => blocks.iter().map(block_text).collect::<Vec<_>>().join(" "),
        Block::Table { header, rows, .. } => header
            .iter()
            .chain(rows.iter().flatten())
            .map(|c| inline::plain(c))
            .collect::<Vec<_>>()
            .join(" "),
        Block::Rule { .. } => String::new(),
        Block::Interactive(i) => match i {
            Interactive::Run(r) => r.code.clone(),
            Interactive::Check(c) => c.title.clone().unwrap_or_default(),
            Interactive::Solution(_) => String::new(),
            Interactive::Quiz(q) => format!("{} {}", q.question, q.choices.join(" ")),
        },
    }
}

/// Where a lesson's pictures are drawn from: the lesson file (pictures
/// are relative to it) and the course folder they must stay inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pictures {
    pub lesson: std::path::PathBuf,
    pub root: std::path::PathBuf,
}

/// Most rows a picture takes: it should leave room for the text around it.
const PICTURE_ROWS: usize = 16;

/// Lays out `doc` for `width` columns, pictures as their alt text.
pub fn render_doc(doc: &Doc, width: u16, states: &BlockStates, strings: &Strings) -> Rendered {
    render_doc_with(doc, width, states, strings, None)
}

/// [`render_doc`], drawing a paragraph that is only a picture with half
/// blocks above its alt text when `pictures` is given (see
/// [`crate::picture`]).
pub fn render_doc_with(
    doc: &Doc,
    width: u16,
    states: &BlockStates,
    strings: &Strings,
    pictures: Option<&Pictures>,
) -> Rendered {
    let w = usize::from(width).max(8);
    let mut out = Out::new(0);
    out.pictures = pictures.cloned().map(std::sync::Arc::new);
    let mut links: Vec<String> = Vec::new();
    let mut ref_lines = Vec::new();
    // The references of a `##` section follow it (and the text before the
    // first `##`), so URLs are printed whole, out of the prose's way.
    let mut unlisted = 0;
    for (n, b) in doc.blocks.iter().enumerate() {
        // Raw HTML with nothing to show (`</details>`) takes no room.
        if let Block::Html { text, .. } = b {
            if crate::doc::html::items(text).is_empty() {
                continue;
            }
        }
        if matches!(b, Block::Heading { level: 1 | 2, .. }) && unlisted < links.len() {
            out.push(Line::default());
            out.references(&links, unlisted, w, &mut ref_lines);
            unlisted = links.len();
        }
        if n > 0 {
            out.push(Line::default());
        }
        out.block(b, w, states, strings, &mut links);
    }
    if unlisted < links.len() {
        out.push(Line::default());
        out.references(&links, unlisted, w, &mut ref_lines);
    }
    Rendered {
        width,
        lines: out.lines,
        src_lines: out.src_lines,
        blocks: out.blocks,
        urls: links,
        link_spans: out.links,
        ref_lines,
        pictures: out.placed,
    }
}

/// Accumulates lines; nested containers render into a child `Out` and
/// [`Out::append`] it with a prefix.
struct Out {
    lines: Vec<Line<'static>>,
    src_lines: Vec<u32>,
    blocks: Vec<BlockRange>,
    links: Vec<LinkSpan>,
    src: u32,
    next_interactive: usize,
    pictures: Option<std::sync::Arc<Pictures>>,
    placed: Vec<PicturePlace>,
}

impl Out {
    fn new(next_interactive: usize) -> Self {
        Out {
            lines: Vec::new(),
            src_lines: Vec::new(),
            blocks: Vec::new(),
            links: Vec::new(),
            src: 0,
            next_interactive,
            pictures: None,
            placed: Vec::new(),
        }
    }

    /// An `Out` for a container's contents (list item, quote).
    fn child(&self) -> Self {
        Out {
            pictures: self.pictures.clone(),
            ..Out::new(self.next_interactive)
        }
    }

    /// A paragraph that is a lone picture, drawn when pictures are on and
    /// it loads; else nothing is pushed (the alt text follows either way).
    /// A picture that cannot be drawn says why, under its alt text.
    fn picture(&mut self, text: &[crate::doc::ir::Inline], w: usize) -> Option<String> {
        use crate::doc::ir::Inline;
        let pics = self.pictures.clone()?;
        let mut images = text.iter().filter(|i| match i {
            Inline::Text(t) => !t.trim().is_empty(),
            Inline::SoftBreak | Inline::HardBreak => false,
            _ => true,
        });
        let (Some(Inline::Image { url, .. }), None) = (images.next(), images.next()) else {
            return None;
        };
        match crate::picture::load(url, &pics.lesson, &pics.root) {
            Ok(p) => {
                let cells = crate::picture::half_blocks(&p, w, PICTURE_ROWS);
                let cols = cells.first().map_or(0, |l| l.width());
                self.placed.push(PicturePlace {
                    line: self.lines.len(),
                    col: 0,
                    cols: u16::try_from(cols).unwrap_or(u16::MAX),
                    rows: u16::try_from(cells.len()).unwrap_or(u16::MAX),
                    picture: p,
                });
                for l in cells.iter() {
                    self.push(l.clone());
                }
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }

    fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
        self.src_lines.push(self.src);
    }

    fn push_wrapped(&mut self, pieces: &[Piece], width: usize) {
        for l in wrap::wrap(pieces, width) {
            self.push_pieces(l);
        }
    }

    /// Pushes one wrapped line, noting where link text landed.
    fn push_pieces(&mut self, pieces: Vec<Piece>) {
        let mut col = 0u16;
        for p in &pieces {
            let w = u16::try_from(wrap::width(&p.text)).unwrap_or(u16::MAX);
            if let Some(link) = p.link {
                self.links.push(LinkSpan {
                    line: self.lines.len(),
                    cols: col..col.saturating_add(w),
                    link,
                });
            }
            col = col.saturating_add(w);
        }
        self.push(wrap::to_line(pieces));
    }

    /// The numbered references for `links[from..]`: `[n] URL` on one line
    /// when it fits, else the URL on lines of its own, cut only when it is
    /// wider than the whole column.
    fn references(&mut self, links: &[String], from: usize, w: usize, ref_lines: &mut Vec<usize>) {
        for (i, url) in links.iter().enumerate().skip(from) {
            ref_lines.push(self.lines.len());
            let label = Piece::new(format!("  [{}] ", i + 1), theme::DIM);
            let url = Piece::linked(url.clone(), theme::LINK, i);
            let (lw, uw) = (wrap::width(&label.text), wrap::width(&url.text));
            if lw + uw <= w || uw > w {
                // One line, or too long for any line: cut where it must be.
                for l in wrap::hard_wrap(&[label, url], w) {
                    self.push_pieces(l);
                }
            } else {
                let number = label.text.trim_end().to_string();
                self.push_pieces(vec![Piece::new(number, theme::DIM)]);
                self.push_pieces(vec![url]);
            }
        }
    }

    /// Appends `child`, prefixing its first line with `first` and the rest
    /// with `rest` (both the same display width).
    fn append(&mut self, child: Out, first: &[Span<'static>], rest: &[Span<'static>]) {
        let base = self.lines.len();
        for mut b in child.blocks {
            b.lines = b.lines.start + base..b.lines.end + base;
            self.blocks.push(b);
        }
        let indent = first.iter().map(|s| wrap::width(&s.content)).sum::<usize>();
        let indent = u16::try_from(indent).unwrap_or(u16::MAX);
        for mut l in child.links {
            l.line += base;
            l.cols = l.cols.start.saturating_add(indent)..l.cols.end.saturating_add(indent);
            self.links.push(l);
        }
        for mut p in child.placed {
            p.line += base;
            p.col = p.col.saturating_add(indent);
            self.placed.push(p);
        }
        for (i, (line, src)) in child.lines.into_iter().zip(child.src_lines).enumerate() {
            let mut spans: Vec<Span<'static>> = if i == 0 {
                first.to_vec()
            } else {
                rest.to_vec()
            };
            spans.extend(line.spans);
            self.lines.push(Line::from(spans));
            self.src_lines.push(src);
        }
        self.next_interactive = child.next_interactive;
    }

    fn block(
        &mut self,
        b: &Block,
        w: usize,
        st: &BlockStates,
        s: &Strings,
        links: &mut Vec<String>,
    ) {
        self.src = b.line();
        match b {
            Block::Heading { level, text, .. } => {
                let style = match level {
                    1 => theme::H1,
                    2 => theme::H2,
                    _ => theme::H3,
                };
                let mut pieces = inline::pieces(text, style, links);
                if *level >= 3 {
                    pieces.insert(
                        0,
                        Piece::new("#".repeat(usize::from(*level)) + " ", theme::DIM),
                    );
                } else if *level == 2 {
                    pieces.insert(0, Piece::new("▍", style));
                }
                self.push_wrapped(&pieces, w);
                if *level == 1 {
                    self.push(Line::styled("━".repeat(w), theme::H1));
                }
            }
            Block::Paragraph { text, .. } => {
                let why_not = self.picture(text, w);
                let pieces = inline::pieces(text, Style::new(), links);
                for seg in inline::split_hard_breaks(pieces) {
                    self.push_wrapped(&seg, w);
                }
                if let Some(why) = why_not {
                    // Course text in the message (a file name): sanitized.
                    let why = crate::sanitize::text(&why).into_owned();
                    self.push_wrapped(&[Piece::new(format!("  ({why})"), theme::DIM)], w);
                }
            }
            Block::Code { lang, code, .. } => {
                if let Some(l) = lang.as_deref().filter(|l| !l.is_empty()) {
                    self.push(Line::styled(format!("╭ {l}"), theme::CODE_BAR));
                }
                // A flowchart that fits is drawn; any other Mermaid is source.
                let diagram = (lang.as_deref() == Some("mermaid"))
                    .then(|| mermaid::render(code, w.saturating_sub(2)))
                    .flatten();
                if let Some(lines) = diagram {
                    for l in lines {
                        self.push(Line::from(vec![
                            Span::styled("│ ", theme::CODE_BAR),
                            Span::styled(l, theme::CODE_TEXT),
                        ]));
                    }
                    return;
                }
                self.code(
                    code,
                    lang.as_deref().unwrap_or(""),
                    w,
                    theme::CODE_BAR,
                    "│ ",
                );
            }
            Block::List { ordered, items, .. } => self.list(*ordered, items, w, st, s, links),
            Block::Quote { alert, blocks, .. } => {
                let (bar_style, title) = match alert {
                    Some(a) => {
                        let (style, icon, name) = theme::alert(*a, s);
                        (style, Some(format!("{icon} {name}")))
                    }
                    None => (theme::DIM, None),
                };
                let mut child = self.child();
                child.src = b.line();
                if let Some(t) = title {
                    child.push(Line::styled(
                        t,
                        bar_style.add_modifier(ratatui::style::Modifier::BOLD),
                    ));
                }
                for (i, inner) in blocks.iter().enumerate() {
                    if i > 0 {
                        child.push(Line::default());
                    }
                    child.block(inner, w.saturating_sub(2).max(4), st, s, links);
                }
                let bar = [Span::styled("▌ ", bar_style)];
                self.append(child, &bar, &bar);
            }
            Block::Table {
                align,
                header,
                rows,
                ..
            } => {
                for l in table::render(align, header, rows, w, links) {
                    self.push_pieces(l);
                }
            }
            Block::Rule { .. } => self.push(Line::styled("─".repeat(w), theme::DIM)),
            Block::Html { text, .. } => {
                use crate::doc::html::HtmlItem;
                for item in crate::doc::html::items(text) {
                    match item {
                        HtmlItem::Line(t) => self.push_wrapped(&[Piece::new(t, Style::new())], w),
                        HtmlItem::Summary(t) => self.push_wrapped(
                            &[Piece::new("▸ ", theme::DIM), Piece::new(t, theme::TITLE)],
                            w,
                        ),
                        HtmlItem::Table(rows) => {
                            let cells = |r: &[String]| -> Vec<Vec<crate::doc::ir::Inline>> {
                                r.iter()
                                    .map(|c| vec![crate::doc::ir::Inline::Text(c.clone())])
                                    .collect()
                            };
                            let body: Vec<_> = rows[1..].iter().map(|r| cells(r)).collect();
                            for l in table::render(&[], &cells(&rows[0]), &body, w, links) {
                                self.push_pieces(l);
                            }
                        }
                    }
                }
            }
            Block::Interactive(i) => {
                let index = self.next_interactive;
                self.next_interactive += 1;
                let start = self.lines.len();
                interactive::render(self, i, index, w, st, s);
                self.blocks.push(BlockRange {
                    index,
                    kind: InteractiveKind::of(i),
                    lines: start..self.lines.len(),
                    source_line: i.line(),
                });
            }
        }
    }

    fn list(
        &mut self,
        ordered: Option<u64>,
        items: &[ListItem],
        w: usize,
        st: &BlockStates,
        s: &Strings,
        links: &mut Vec<String>,
    ) {
        let markers: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, it)| match (it.task, ordered) {
                (Some(true), _) => "☑ ".to_string(),
                (Some(false), _) => "☐ ".to_string(),
                (None, Some(start)) => format!("{}. ", start + i as u64),
                (None, None) => "• ".to_string(),
            })
            .collect();
        let mw = markers.iter().map(|m| wrap::width(m)).max().unwrap_or(2);
        for (n, (it, marker)) in items.iter().zip(markers).enumerate() {
            let mut child = self.child();
            child.src = it.blocks.first().map_or(self.src, Block::line);
            for (i, inner) in it.blocks.iter().enumerate() {
                if i > 0 && !matches!(inner, Block::List { .. }) {
                    child.push(Line::default());
                }
                child.block(inner, w.saturating_sub(mw).max(4), st, s, links);
            }
            if child.lines.is_empty() {
                child.push(Line::default());
            }
            // A block that ends an item (code, table, quote) would otherwise
            // run straight into the next bullet.
            if n + 1 < items.len()
                && it.blocks.last().is_some_and(|b| {
                    matches!(
                        b,
                        Block::Code { .. }
                            | Block::Interactive(_)
                            | Block::Table { .. }
                            | Block::Quote { .. }
                    )
                })
            {
                child.push(Line::default());
            }
            let pad = " ".repeat(mw - wrap::width(&marker));
            let style = if it.task == Some(true) {
                theme::PASS
            } else {
                theme::DIM
            };
            let first = [Span::raw(pad), Span::styled(marker, style)];
            let rest = [Span::raw(" ".repeat(mw))];
            self.append(child, &first, &rest);
        }
    }

    /// A code block: optional language label, then each line behind a bar.
    fn code(&mut self, code: &str, lang: &str, w: usize, bar: Style, bar_text: &'static str) {
        let inner = w.saturating_sub(wrap::width(bar_text)).max(4);
        let hl = highlight::cached(code, lang);
        // Course text: controls shown as `^[`, never sent to the terminal.
        // Escaped after highlighting, so the cache key stays the raw code.
        let safe = |t: &str| crate::sanitize::text(t).into_owned();
        let lines: Vec<Vec<Piece>> = match &hl {
            Some(h) => h
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|p| Piece::new(safe(&p.text), p.style))
                        .collect()
                })
                .collect(),
            None => code
                .lines()
                .map(|l| vec![Piece::new(safe(&l.replace('\t', "    ")), theme::CODE_TEXT)])
                .collect(),
        };
        // Every block wraps, `text` diagrams too (nothing may be cut off):
        // at the last space that fits, "↪" on continuation lines.
        for l in &lines {
            let parts = wrap::code_wrap(l, inner, inner.saturating_sub(2));
            for (k, part) in parts.into_iter().enumerate() {
                let mut spans = vec![Span::styled(bar_text, bar)];
                if k > 0 {
                    spans.push(Span::styled("↪ ", theme::CODE_CUT));
                }
                spans.extend(part.into_iter().map(|p| Span::styled(p.text, p.style)));
                self.push(Line::from(spans));
            }
        }
    }
}

#[cfg(test)]
mod tests;
