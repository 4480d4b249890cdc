//! Markdown (CommonMark + GFM) → [`Doc`], with interactive fences.
//!
//! pulldown-cmark does the Markdown; this module turns its event stream into
//! kubelab's IR, gives every block the line it starts on in the lesson file,
//! and reads the interactive markers (`sh run`, `sh check id=..`,
//! `sh solution`, `toml quiz`) from the *opening* fence's info string.
//!
//! Problems never abort parsing: they come back as [`Diagnostic`]s beside a
//! best-effort document, so `kubelab lint` can report all of them at once.
//! A block with an error is kept as a plain code block.

mod comments;
mod limits;

pub use comments::check_comments;

pub use limits::{
    MAX_BLOCK_NESTING, MAX_CHECKS_PER_LESSON, MAX_CODE_BLOCKS_PER_LESSON, MAX_INLINE_NESTING,
};

use super::fence::{self, FenceInfo, Kind};
use super::ir::*;
use crate::diagnostic::{Diagnostic, LineIndex};
use limits::{is_container, is_container_end};
use pulldown_cmark::{BlockQuoteKind, CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;
use std::path::Path;

/// A parsed body and what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub doc: Doc,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Markdown extensions kubelab lessons use.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM
}

/// Parses a lesson body. `first_line` is the 1-based line of the file where
/// `body` starts (after the front matter), so block lines are file lines;
/// `path` is only used to label diagnostics.
pub fn parse_body(body: &str, first_line: u32, path: &Path) -> Parsed {
    parse_body_mapped(body, first_line, path, &[])
}

/// [`parse_body`] of a body whose `{{#include}}` directives were expanded:
/// `line_map[i]` is the body line (1-based) that line `i + 1` of `body`
/// came from, so blocks and diagnostics keep the lesson file's lines.
pub fn parse_body_mapped(body: &str, first_line: u32, path: &Path, line_map: &[u32]) -> Parsed {
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(body, options())
        .into_offset_iter()
        .collect();
    let mut b = Builder {
        src: body,
        lines: LineIndex::new(body),
        line_offset: first_line.saturating_sub(1),
        line_map,
        path,
        events,
        pos: 0,
        diagnostics: Vec::new(),
        depth: 0,
        inline_depth: 0,
        warned_depth: false,
        warned_inline_depth: false,
        code_blocks: 0,
        checks: 0,
    };
    let blocks = b.blocks(None);
    Parsed {
        doc: Doc { blocks },
        diagnostics: b.diagnostics,
    }
}

struct Builder<'s, 'p> {
    src: &'s str,
    lines: LineIndex,
    line_offset: u32,
    /// See [`parse_body_mapped`]; empty when nothing was included.
    line_map: &'p [u32],
    path: &'p Path,
    events: Vec<(Event<'s>, Range<usize>)>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// Block containers around the current position.
    depth: usize,
    /// Inline markup around the current position.
    inline_depth: usize,
    warned_depth: bool,
    warned_inline_depth: bool,
    /// Counted against [`MAX_CODE_BLOCKS_PER_LESSON`] and [`MAX_CHECKS_PER_LESSON`].
    code_blocks: usize,
    checks: usize,
}

fn is_inline_event(e: &Event<'_>) -> bool {
    match e {
        Event::Text(_)
        | Event::Code(_)
        | Event::InlineHtml(_)
        | Event::SoftBreak
        | Event::HardBreak
        | Event::FootnoteReference(_)
        | Event::InlineMath(_) => true,
        Event::Start(t) => matches!(
            t,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        ),
        _ => false,
    }
}

impl<'s> Builder<'s, '_> {
    /// File line of a body byte offset.
    fn line(&self, offset: usize) -> u32 {
        self.map_line(self.lines.line(offset)) + self.line_offset
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let (l, c) = self.lines.line_col(self.src, offset);
        (self.map_line(l) + self.line_offset, c)
    }

    fn map_line(&self, l: u32) -> u32 {
        self.line_map
            .get(l.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(l)
    }

    fn error(&mut self, line: u32, col: u32, message: String) {
        self.diagnostics
            .push(Diagnostic::error(self.path, line, col, message));
    }

    fn warning(&mut self, line: u32, col: u32, message: String) {
        self.diagnostics
            .push(Diagnostic::warning(self.path, line, col, message));
    }

    fn next(&mut self) -> Option<(Event<'s>, Range<usize>)> {
        let e = self.events.get(self.pos).cloned();
        self.pos += 1;
        e
    }

    fn peek(&self) -> Option<&Event<'s>> {
        self.events.get(self.pos).map(|(e, _)| e)
    }

    /// Blocks until the `end` tag (consumed) or the end of input.
    ///
    /// At [`MAX_BLOCK_NESTING`] nested containers are not descended into:
    /// their start and end events are skipped (counted in `flat`, so their
    /// ends are not taken for `end`) and their content lands in `out`.
    fn blocks(&mut self, end: Option<TagEnd>) -> Vec<Block> {
        let mut out = Vec::new();
        let mut flat = 0usize;
        while let Some(ev) = self.peek() {
            if is_inline_event(ev) {
                // Tight list items hold inline content without a paragraph.
                let start = self.events[self.pos].1.start;
                let text = self.inlines(None);
                out.push(Block::Paragraph {
                    text,
                    line: self.line(start),
                });
                continue;
            }
            let Some((ev, range)) = self.next() else {
                break;
            };
            match ev {
                Event::End(e) if flat > 0 && is_container_end(&e) => flat -= 1,
                Event::End(e) if Some(e) == end => break,
                Event::End(_) => {}
                Event::Start(tag) if self.depth >= MAX_BLOCK_NESTING && is_container(&tag) => {
                    if !self.warned_depth {
                        self.warned_depth = true;
                        let (line, col) = self.line_col(range.start);
                        self.warning(
                            line,
                            col,
                            format!(
                                "block quotes and lists are nested more than {MAX_BLOCK_NESTING} levels deep here; deeper levels are shown flat — nest less"
                            ),
                        );
                    }
                    flat += 1;
                }
                Event::Start(tag) => {
                    if let Some(block) = self.block(tag, range) {
                        out.push(block);
                    }
                }
                Event::Rule => out.push(Block::Rule {
                    line: self.line(range.start),
                }),
                Event::Html(html) => out.push(Block::Html {
                    text: html.to_string(),
                    line: self.line(range.start),
                }),
                Event::DisplayMath(m) => out.push(Block::Code {
                    lang: Some("math".into()),
                    code: m.to_string(),
                    line: self.line(range.start),
                }),
                // Task markers are read by `item`; nothing else is expected here.
                _ => {}
            }
        }
        out
    }

    fn block(&mut self, tag: Tag<'s>, range: Range<usize>) -> Option<Block> {
        let line = self.line(range.start);
        Some(match tag {
            Tag::Paragraph => Block::Paragraph {
                text: self.inlines(Some(TagEnd::Paragraph)),
                line,
            },
            Tag::Heading { level, .. } => Block::Heading {
                level: level as u8,
                text: self.inlines(Some(TagEnd::Heading(level))),
                line,
            },
            Tag::BlockQuote(kind) => {
                self.depth += 1;
                let blocks = self.blocks(Some(TagEnd::BlockQuote(kind)));
                self.depth -= 1;
                Block::Quote {
                    alert: kind.map(alert),
                    blocks,
                    line,
                }
            }
            Tag::List(start) => {
                self.depth += 1;
                let mut items = Vec::new();
                while let Some((ev, _)) = self.next() {
                    match ev {
                        Event::Start(Tag::Item) => items.push(self.item()),
                        Event::End(TagEnd::List(_)) => break,
                        _ => {}
                    }
                }
                self.depth -= 1;
                Block::List {
                    ordered: start,
                    items,
                    line,
                }
            }
            Tag::Table(align) => self.table(align, line),
            Tag::CodeBlock(kind) => {
                self.code_blocks += 1;
                if self.code_blocks == MAX_CODE_BLOCKS_PER_LESSON + 1 {
                    self.error(
                        line,
                        1,
                        format!(
                            "this lesson has more than {MAX_CODE_BLOCKS_PER_LESSON} code blocks (this is one too many); split it into several lessons"
                        ),
                    );
                }
                let mut code = String::new();
                while let Some((ev, _)) = self.next() {
                    match ev {
                        Event::Text(t) => code.push_str(&t),
                        Event::End(TagEnd::CodeBlock) => break,
                        _ => {}
                    }
                }
                match kind {
                    CodeBlockKind::Indented => Block::Code {
                        lang: None,
                        code,
                        line,
                    },
                    CodeBlockKind::Fenced(info) => self.fenced(&info, code, range),
                }
            }
            Tag::HtmlBlock => {
                let mut text = String::new();
                while let Some((ev, _)) = self.next() {
                    match ev {
                        Event::Html(t) | Event::Text(t) => text.push_str(&t),
                        Event::End(TagEnd::HtmlBlock) => break,
                        _ => {}
                    }
                }
                // Comments are notes for authors, not for learners.
                let t = text.trim();
                if t.starts_with("<!--") && t.ends_with("-->") {
                    return None;
                }
                Block::Html { text, line }
            }
            other => {
                // Tags not enabled in `options()`; skip their content safely.
                let end = other.to_end();
                self.depth += 1;
                let blocks = self.blocks(Some(end));
                self.depth -= 1;
                return blocks.into_iter().next();
            }
        })
    }

    fn item(&mut self) -> ListItem {
        let mut task = None;
        if let Some(Event::TaskListMarker(done)) = self.peek() {
            task = Some(*done);
            self.pos += 1;
        }
        ListItem {
            task,
            blocks: self.blocks(Some(TagEnd::Item)),
        }
    }

    fn table(&mut self, align: Vec<pulldown_cmark::Alignment>, line: u32) -> Block {
        use pulldown_cmark::Alignment as A;
        let align = align
            .into_iter()
            .map(|a| match a {
                A::None => Align::None,
                A::Left => Align::Left,
                A::Center => Align::Center,
                A::Right => Align::Right,
            })
            .collect();
        let mut header = Vec::new();
        let mut rows: Vec<Vec<Vec<Inline>>> = Vec::new();
        let mut in_head = false;
        while let Some((ev, _)) = self.next() {
            match ev {
                Event::Start(Tag::TableHead) => in_head = true,
                Event::End(TagEnd::TableHead) => in_head = false,
                Event::Start(Tag::TableRow) => rows.push(Vec::new()),
                Event::Start(Tag::TableCell) => {
                    let cell = self.inlines(Some(TagEnd::TableCell));
                    if in_head {
                        header.push(cell);
                    } else if let Some(row) = rows.last_mut() {
                        row.push(cell);
                    }
                }
                Event::End(TagEnd::Table) => break,
                _ => {}
            }
        }
        Block::Table {
            align,
            header,
            rows,
            line,
        }
    }

    /// Inline content until `end` (consumed); with `None`, until the next
    /// event that is not inline (not consumed).
    ///
    /// At [`MAX_INLINE_NESTING`] nested markup is not descended into: its
    /// start and end events are skipped (counted in `flat`) and its content
    /// joins `out` as plain inline content.
    fn inlines(&mut self, end: Option<TagEnd>) -> Vec<Inline> {
        let mut out: Vec<Inline> = Vec::new();
        let mut flat = 0usize;
        loop {
            match (end, self.peek()) {
                (_, None) => break,
                (None, Some(e)) if flat == 0 && !is_inline_event(e) => break,
                _ => {}
            }
            let Some((ev, range)) = self.next() else {
                break;
            };
            match ev {
                // Events nest properly: while `flat` is open, an end is its.
                Event::End(_) if flat > 0 => flat -= 1,
                Event::End(e) if Some(e) == end => break,
                Event::Start(_) if self.inline_depth >= MAX_INLINE_NESTING => {
                    if !self.warned_inline_depth {
                        self.warned_inline_depth = true;
                        let (line, col) = self.line_col(range.start);
                        self.warning(
                            line,
                            col,
                            format!(
                                "emphasis and links are nested more than {MAX_INLINE_NESTING} levels deep here; deeper levels are shown as plain text — nest less"
                            ),
                        );
                    }
                    flat += 1;
                }
                Event::Text(t) => push_text(&mut out, &t),
                Event::Code(c) => out.push(Inline::Code(c.to_string())),
                Event::InlineMath(m) => out.push(Inline::Code(m.to_string())),
                Event::SoftBreak => out.push(Inline::SoftBreak),
                Event::HardBreak => out.push(Inline::HardBreak),
                Event::InlineHtml(h) => {
                    let tag = h.trim().to_ascii_lowercase();
                    if matches!(tag.as_str(), "<br>" | "<br/>" | "<br />") {
                        out.push(Inline::HardBreak);
                    } else if tag.starts_with("<img") {
                        // An image keeps its alt text and source.
                        let attrs = h.trim().get(4..).unwrap_or("");
                        out.push(Inline::Image {
                            alt: super::html::attr(attrs, "alt").unwrap_or_default(),
                            url: super::html::attr(attrs, "src").unwrap_or_default(),
                        });
                    } else if tag.starts_with("<!") && !tag.starts_with("<!--") {
                        push_text(&mut out, &h);
                    }
                    // Other tags are dropped; the text between them comes
                    // as text events.
                }
                Event::FootnoteReference(r) => push_text(&mut out, &format!("[^{r}]")),
                Event::Start(tag) => {
                    self.inline_depth += 1;
                    self.inline_start(tag, &mut out);
                    self.inline_depth -= 1;
                }
                // An unexpected end (malformed nesting): stop here.
                Event::End(_) => break,
                _ => {}
            }
        }
        out
    }

    /// One nested inline element whose start tag was just consumed.
    fn inline_start(&mut self, tag: Tag<'s>, out: &mut Vec<Inline>) {
        match tag {
            Tag::Emphasis => out.push(Inline::Emph(self.inlines(Some(TagEnd::Emphasis)))),
            Tag::Strong => out.push(Inline::Strong(self.inlines(Some(TagEnd::Strong)))),
            Tag::Strikethrough => {
                out.push(Inline::Strike(self.inlines(Some(TagEnd::Strikethrough))))
            }
            Tag::Link { dest_url, .. } => {
                let text = self.inlines(Some(TagEnd::Link));
                out.push(Inline::Link {
                    text,
                    url: dest_url.to_string(),
                })
            }
            Tag::Image { dest_url, .. } => {
                let alt = plain_text(&self.inlines(Some(TagEnd::Image)));
                out.push(Inline::Image {
                    alt,
                    url: dest_url.to_string(),
                })
            }
            other => {
                let inner = self.inlines(Some(other.to_end()));
                out.extend(inner);
            }
        }
    }

    fn fenced(&mut self, info: &str, code: String, range: Range<usize>) -> Block {
        let line = self.line(range.start);
        let raw = &self.src[range.clone()];
        // Column of the info string on the opening line, for diagnostics.
        let first = raw.lines().next().unwrap_or("");
        let fence_pos = first.find(['`', '~']).unwrap_or(0);
        let fence_char = if first[fence_pos..].starts_with('~') {
            '~'
        } else {
            '`'
        };
        // Fence characters are ASCII: this count is also a byte length.
        let fence_len = first[fence_pos..]
            .chars()
            .take_while(|&c| c == fence_char)
            .count();
        let info_offset = range.start + fence_pos + fence_len;
        let (_, info_col) = self.line_col(info_offset);
        let info_col = info_col
            + (first[fence_pos + fence_len..].len()
                - first[fence_pos + fence_len..].trim_start().len()) as u32;

        if !is_closed(raw, fence_char, fence_len) {
            self.error(
                line,
                (fence_pos + 1) as u32,
                format!(
                    "the code fence \"{}\" opened on line {line} is never closed: everything after it became code; add a closing `{}` line",
                    crate::sanitize::escape_controls(first.trim(), 80),
                    fence_char.to_string().repeat(fence_len)
                ),
            );
        }

        let parsed = match fence::parse_info(info) {
            Ok(p) => p,
            Err(e) => {
                self.error(line, info_col + e.offset as u32, e.message);
                return plain(info, code, line);
            }
        };
        for w in &parsed.warnings {
            self.warning(line, info_col + w.offset as u32, w.message.clone());
        }
        let FenceInfo {
            lang, kind, attrs, ..
        } = parsed;
        let Some(kind) = kind else {
            return Block::Code {
                lang: (!lang.is_empty()).then_some(lang),
                code,
                line,
            };
        };
        match fence::check_attrs(kind, &lang, &attrs) {
            Ok(()) => {}
            Err(errs) => {
                for e in errs {
                    self.error(line, info_col + e.offset as u32, e.message);
                }
                return plain(info, code, line);
            }
        }
        let attr = |k: &str| attrs.iter().find(|a| a.key == k).map(|a| a.value.clone());
        let sandbox = attr("sandbox");
        let node = attr("node");
        let needs_limits = attr("needs").is_some_and(|v| v == fence::NEEDS_LIMITS);
        match kind {
            Kind::Run => Block::Interactive(Interactive::Run(RunBlock {
                lang,
                code,
                sandbox,
                node,
                needs_limits,
                line,
            })),
            Kind::Solution => Block::Interactive(Interactive::Solution(SolutionBlock {
                lang,
                code,
                sandbox,
                node,
                needs_limits,
                line,
            })),
            Kind::Check => {
                self.checks += 1;
                if self.checks == MAX_CHECKS_PER_LESSON + 1 {
                    self.error(
                        line,
                        1,
                        format!(
                            "this lesson has more than {MAX_CHECKS_PER_LESSON} checks (this is one too many); split it into several lessons"
                        ),
                    );
                }
                let (title, hint) = check_comments(&code);
                let on = match (attr("kind").as_deref(), attr("on").as_deref()) {
                    (Some(_), _) => CheckSide::Cluster,
                    (None, Some("host")) => CheckSide::Host,
                    _ => CheckSide::Sandbox,
                };
                if on == CheckSide::Cluster {
                    if let Err(e) = super::cluster_check::parse(&code) {
                        self.error(line, info_col, e);
                        return plain(info, code, line);
                    }
                }
                Block::Interactive(Interactive::Check(CheckBlock {
                    id: attr("id").unwrap_or_default(),
                    lang,
                    code,
                    on,
                    sandbox,
                    node,
                    needs_limits,
                    title,
                    hint,
                    line,
                }))
            }
            Kind::Quiz => match super::quiz::parse(&code, line) {
                Ok(q) => Block::Interactive(Interactive::Quiz(q)),
                Err(e) => {
                    self.error(e.line, e.col, e.message);
                    plain(info, code, line)
                }
            },
        }
    }
}

fn plain(info: &str, code: String, line: u32) -> Block {
    let lang = info.split_whitespace().next().unwrap_or("");
    Block::Code {
        lang: (!lang.is_empty()).then(|| lang.to_string()),
        code,
        line,
    }
}

/// Whether the fenced block's source ends with a closing fence.
fn is_closed(raw: &str, fence_char: char, fence_len: usize) -> bool {
    let mut lines = raw.lines();
    lines.next(); // the opening fence
    let Some(last) = lines.rfind(|l| !l.trim().is_empty()) else {
        return false;
    };
    // Strip container prefixes (block quote markers, indentation).
    let t = last.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
    let n = t.chars().take_while(|&c| c == fence_char).count();
    n >= fence_len && t[n * fence_char.len_utf8()..].trim().is_empty()
}

fn alert(kind: BlockQuoteKind) -> Alert {
    match kind {
        BlockQuoteKind::Note => Alert::Note,
        BlockQuoteKind::Tip => Alert::Tip,
        BlockQuoteKind::Important => Alert::Important,
        BlockQuoteKind::Warning => Alert::Warning,
        BlockQuoteKind::Caution => Alert::Caution,
    }
}

/// Appends text, merging with a preceding text run (pulldown-cmark splits
/// text at every potential markup character).
fn push_text(out: &mut Vec<Inline>, t: &str) {
    if let Some(Inline::Text(prev)) = out.last_mut() {
        prev.push_str(t);
    } else {
        out.push(Inline::Text(t.to_string()));
    }
}

#[cfg(test)]
mod tests;
