//! `kubelab mdbook`: kubelab as an mdBook preprocessor, so the same lessons
//! build into a web book.
//!
//! Protocol (mdBook's, for command preprocessors): mdBook first runs
//! `kubelab mdbook supports <renderer>` (exit 0 = supported), then
//! `kubelab mdbook` with the JSON array `[context, book]` on stdin, and
//! reads the (modified) book JSON from stdout. The JSON is handled as
//! `serde_json::Value` so every field kubelab does not touch passes through
//! unchanged, whatever the mdBook version adds.
//!
//! Per chapter: the front matter (`+++` TOML, or `---` YAML from Hugo/Jekyll)
//! is stripped and each interactive
//! fence is replaced by plain Markdown/HTML that mdBook renders without
//! kubelab (see `mdbook_render`): run blocks as copyable commands, checks
//! as "what kubelab verifies" in words, hints, solutions and quiz answers
//! collapsed in `<details>`; a lesson gets its summary and a web-edition
//! banner under its title. Everything else in the chapter is left byte for
//! byte as written. Chapters are numbered as the lessons are (`05-…` is 5).

use super::mdbook_error::err;
pub use super::mdbook_error::MdbookError;
pub use super::mdbook_render::Labels;
use super::mdbook_render::{decorate_lesson, lesson_front, number_chapters, render_interactive};
use crate::course::front;
use crate::doc::ir::Interactive;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::Path;

/// Act as mdBook's preprocessor (book.toml: `[preprocessor.kubelab]`
/// `command = "kubelab mdbook"`). Reads `[context, book]` JSON on stdin and
/// writes the book on stdout; run by `mdbook build`, not by hand.
#[derive(Debug, Clone, clap::Args)]
pub struct MdbookArgs {
    #[command(subcommand)]
    pub command: Option<MdbookCommand>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum MdbookCommand {
    /// Exit 0 if the renderer is supported (html), 1 otherwise.
    Supports { renderer: String },
}

/// `kubelab mdbook`.
pub fn run_command(args: MdbookArgs) -> anyhow::Result<i32> {
    match args.command {
        Some(MdbookCommand::Supports { renderer }) => Ok(if supports(&renderer) { 0 } else { 1 }),
        None => {
            run(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(0)
        }
    }
}

/// Renderers the output is meant for; others get the raw lesson.
pub fn supports(renderer: &str) -> bool {
    renderer == "html"
}

/// Reads `[context, book]` from `input`, writes the book to `output`.
pub fn run(mut input: impl Read, mut output: impl Write) -> Result<(), MdbookError> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|e| err(format!("kubelab mdbook: reading stdin: {e}")))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "kubelab mdbook: stdin is not mdBook's preprocessor JSON ({e}); \
             this command is run by `mdbook build`, see lessons/README.md"
        ))
    })?;
    let book = preprocess(json)?;
    serde_json::to_writer(&mut output, &book)
        .map_err(|e| err(format!("kubelab mdbook: writing stdout: {e}")))?;
    output
        .flush()
        .map_err(|e| err(format!("kubelab mdbook: writing stdout: {e}")))
}

/// Takes the `[context, book]` array, returns the converted book.
pub fn preprocess(input: Value) -> Result<Value, MdbookError> {
    let Value::Array(mut pair) = input else {
        return Err(err("kubelab mdbook: expected a JSON array [context, book]"));
    };
    if pair.len() != 2 {
        return Err(err(format!(
            "kubelab mdbook: expected [context, book], got an array of {}",
            pair.len()
        )));
    }
    let mut book = pair.pop().unwrap_or_default();
    let context = pair.pop().unwrap_or_default();
    let labels = Labels::for_language(
        context
            .pointer("/config/book/language")
            .and_then(Value::as_str)
            .unwrap_or("en"),
    );
    // mdBook 0.5 calls the top-level list `items`; 0.4 called it `sections`.
    let items = book.as_object_mut().and_then(|obj| {
        let key = if obj.contains_key("items") {
            "items"
        } else {
            "sections"
        };
        obj.get_mut(key)
    });
    let Some(Value::Array(items)) = items else {
        return Err(err(
            "kubelab mdbook: the book has no `items` (or `sections`) list; \
             is this mdBook's preprocessor JSON?",
        ));
    };
    let src_dir = super::mdbook_include::include_context(&context)?;
    for item in items.iter_mut() {
        convert_item(item, &labels, src_dir.as_deref())?;
    }
    number_chapters(items);
    Ok(book)
}

/// `{"Chapter": {...}}` is converted (and its `sub_items`); `"Separator"` and
/// `{"PartTitle": "..."}` are left alone.
fn convert_item(item: &mut Value, labels: &Labels, src: Option<&Path>) -> Result<(), MdbookError> {
    let Some(chapter) = item.get_mut("Chapter").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let source = chapter
        .get("source_path")
        .or_else(|| chapter.get("path"))
        .and_then(Value::as_str)
        .unwrap_or("<chapter>")
        .to_owned();
    if let Some(Value::String(content)) = chapter.get_mut("content") {
        if let Some(src) = src {
            *content =
                super::mdbook_include::expand_includes(content, &src.join(&source), &source)?;
        }
        *content = convert_chapter(content, &source, labels)?;
    }
    if let Some(Value::Array(subs)) = chapter.get_mut("sub_items") {
        for sub in subs {
            convert_item(sub, labels, src)?;
        }
    }
    Ok(())
}

/// Converts one chapter's Markdown. `source` names the file in errors.
pub fn convert_chapter(
    content: &str,
    source: &str,
    labels: &Labels,
) -> Result<String, MdbookError> {
    let max = crate::course::limits::MAX_LESSON_BYTES;
    if content.len() as u64 > max {
        return Err(err(format!(
            "{source}: kubelab mdbook: the chapter is {}; lessons must be under {} — split it into several lessons",
            crate::course::limits::human(content.len() as u64),
            crate::course::limits::human(max)
        )));
    }
    let (body, body_line) = split_front_matter(content, source)?;
    let blocks = interactive_by_line(body, body_line, source)?;
    let fences = interactive_fences(body);
    let mut out = String::with_capacity(body.len() + 256);
    let mut pos = 0;
    // Lines counted incrementally: fences come in order, and counting from
    // the start for each one was quadratic in the lesson size.
    let (mut counted, mut lines_before) = (0, 0u32);
    for fence in fences {
        lines_before += newlines(&body[counted..fence.range.start]);
        counted = fence.range.start;
        let line = body_line + lines_before;
        let Some(block) = blocks.get(&line) else {
            return Err(err(format!(
                "{source}:{line}: kubelab mdbook: this interactive fence was not understood \
                 by the lesson parser; run `kubelab lint {source}`"
            )));
        };
        out.push_str(&body[pos..fence.range.start]);
        let rendered = render_interactive(block, labels);
        out.push_str(&indent_continuation(&rendered, &fence.continuation));
        if body[fence.range.clone()].ends_with('\n') {
            out.push('\n');
        }
        pos = fence.range.end;
    }
    out.push_str(&body[pos..]);
    match lesson_front(content, source).map_err(err)? {
        Some(front) => {
            let out = title_heading(out, content, source);
            Ok(decorate_lesson(
                &out,
                &front.id,
                front.summary.as_deref(),
                labels,
            ))
        }
        None => Ok(out),
    }
}

/// Splits off the front matter, kubelab's `+++` TOML or the `---` YAML of
/// pages brought in from Hugo/Jekyll/VitePress (the reader accepts both, so
/// the web book must not show either as text). Returns the body and the
/// 1-based file line the body starts on.
fn split_front_matter<'a>(content: &'a str, source: &str) -> Result<(&'a str, u32), MdbookError> {
    let split = front::split(content, Path::new(source)).map_err(|d| err(d.to_string()))?;
    Ok((split.body, split.body_line))
}

/// A page with YAML front matter usually carries its title there only
/// (Hugo and Jekyll print it from the template): when the front matter has
/// a `title` and the body no `# ` heading, the title becomes one, so the web
/// page has the title the reader shows. kubelab's own lessons (TOML) are
/// left alone.
fn title_heading(body: String, content: &str, source: &str) -> String {
    let path = Path::new(source);
    let Ok(split) = front::split(content, path) else {
        return body;
    };
    if split.format != front::Format::Yaml {
        return body;
    }
    let title = crate::course::front_yaml::parse(split.front, split.front_line, path)
        .ok()
        .and_then(|y| y.title);
    let has_heading = body
        .lines()
        .take_while(|l| !l.starts_with("```") && !l.starts_with("~~~"))
        .any(|l| l.starts_with("# "));
    match title {
        Some(title) if !has_heading => format!(
            "# {}\n\n{}",
            super::mdbook_render::md_text(&title),
            body.trim_start_matches('\n')
        ),
        _ => body,
    }
}

fn newlines(text: &str) -> u32 {
    text.bytes().filter(|b| *b == b'\n').count() as u32
}

/// The interactive blocks of a lesson as kubelab's own parser sees them,
/// keyed by the 1-based file line of their opening fence. Using the real
/// parser keeps the web book and the TUI in agreement about what a fence
/// means (answer letters, `# title:`/`# hint:` lines, attributes).
fn interactive_by_line(
    body: &str,
    body_line: u32,
    source: &str,
) -> Result<HashMap<u32, Interactive>, MdbookError> {
    let parsed = crate::doc::parse::parse_body(body, body_line, std::path::Path::new(source));
    if parsed.has_errors() {
        let errors: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        return Err(err(format!(
            "kubelab mdbook: the lesson has errors (`kubelab lint` shows them too):\n{}",
            errors.join("\n")
        )));
    }
    let mut map = HashMap::new();
    collect_interactive(&parsed.doc.blocks, &mut map);
    Ok(map)
}

fn collect_interactive(blocks: &[crate::doc::ir::Block], map: &mut HashMap<u32, Interactive>) {
    use crate::doc::ir::Block;
    for block in blocks {
        match block {
            Block::Interactive(i) => {
                map.insert(i.line(), i.clone());
            }
            Block::Quote { blocks, .. } => collect_interactive(blocks, map),
            Block::List { items, .. } => {
                for item in items {
                    collect_interactive(&item.blocks, map);
                }
            }
            _ => {}
        }
    }
}

/// An interactive fence found in the chapter body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fence {
    /// Bytes of the whole fenced block, opening to closing fence.
    range: Range<usize>,
    /// What later lines of a replacement must start with to stay inside the
    /// same list item or block quote (`"   "`, `"> "`...).
    continuation: String,
}

const INTERACTIVE_KINDS: [&str; 4] = ["run", "check", "solution", "quiz"];

fn interactive_fences(body: &str) -> Vec<Fence> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_GFM);
    let mut fences = Vec::new();
    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) = event else {
            continue;
        };
        let kind = info.split_whitespace().nth(1).unwrap_or("");
        if !INTERACTIVE_KINDS.contains(&kind) {
            continue;
        }
        let line_start = body[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let continuation = body[line_start..range.start]
            .chars()
            .map(|c| if c == '>' { '>' } else { ' ' })
            .collect();
        fences.push(Fence {
            range,
            continuation,
        });
    }
    fences
}

/// Prefixes every line after the first with `continuation`.
fn indent_continuation(text: &str, continuation: &str) -> String {
    if continuation.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if line.is_empty() {
                out.push_str(continuation.trim_end());
            } else {
                out.push_str(continuation);
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_stripped_with_its_line_count() {
        let (body, line) =
            split_front_matter("+++\nid = \"x\"\ntitle = \"y\"\n+++\n# Hi\n", "f.md").unwrap();
        assert_eq!(body, "# Hi\n");
        assert_eq!(line, 5);
        let (body, line) = split_front_matter("# No front matter\n", "f.md").unwrap();
        assert_eq!((body, line), ("# No front matter\n", 1));
        let e = split_front_matter("+++\nid = 1\n", "f.md").unwrap_err();
        assert!(e.message.starts_with("f.md:1:"), "{}", e.message);
        // YAML (Hugo/Jekyll), with a BOM and CRLF too, and `...` closing it.
        let (body, line) =
            split_front_matter("---\ntitle: Pods\ntags: [a]\n---\n# Hi\n", "f.md").unwrap();
        assert_eq!((body, line), ("# Hi\n", 5));
        let (body, line) =
            split_front_matter("\u{feff}---\r\ntitle: x\r\n...\r\nText\r\n", "f.md").unwrap();
        assert_eq!((body, line), ("Text\r\n", 4));
        let e = split_front_matter("---\ntitle: x\n", "f.md").unwrap_err();
        assert!(e.message.starts_with("f.md:1:"), "{}", e.message);
    }

    #[test]
    fn yaml_front_matter_never_reaches_the_page() {
        let page = "---\ntitle: \"Pod 的生命周期\"\ndescription: 阶段与探针\nweight: 3\n---\n\nPod 有五个阶段。\n\n```sh run\nkubectl get pods\n```\n";
        let out = convert_chapter(page, "pod-lifecycle.md", &Labels::ZH).unwrap();
        for gone in ["---", "weight", "title:", "description:"] {
            assert!(!out.contains(gone), "{gone:?} left in:\n{out}");
        }
        // Its title becomes the heading, its description the summary, and
        // the id (the file name) is in the banner.
        assert!(out.starts_with("# Pod 的生命周期\n"), "{out}");
        assert!(
            out.contains("<p class=\"kubelab-summary\">阶段与探针</p>"),
            "{out}"
        );
        assert!(
            out.contains("<code>kubelab open pod-lifecycle</code>"),
            "{out}"
        );
        assert!(out.contains("Pod 有五个阶段。"), "{out}");
        assert!(out.contains("```sh\nkubectl get pods\n```"), "{out}");
        // A heading of its own is kept, no second one is added.
        let page = "---\ntitle: Front\n---\n# Own *title*\n\nText.\n";
        let out = convert_chapter(page, "p.md", &Labels::EN).unwrap();
        assert!(out.starts_with("# Own *title*\n"), "{out}");
        assert!(!out.contains("# Front"), "{out}");
        // A hostile title is Markdown-escaped (no HTML reaches the page).
        let page = "---\ntitle: \"<script>x</script>\"\n---\nText.\n";
        let out = convert_chapter(page, "p.md", &Labels::EN).unwrap();
        assert!(!out.contains("<script>"), "{out}");
        // kubelab's own TOML front matter is handled as before: no heading
        // added from it.
        let page = "+++\nid = \"p\"\ntitle = \"T\"\n+++\nText.\n";
        let out = convert_chapter(page, "p.md", &Labels::EN).unwrap();
        assert!(!out.contains("# T") && !out.contains("+++"), "{out}");
        assert!(out.contains("<code>kubelab open p</code>"), "{out}");
        // No title in the YAML: the body's own heading stays the only one.
        let page = "---\ndate: 2024-01-01\n---\n## Section\n\nText.\n";
        let out = convert_chapter(page, "p.md", &Labels::EN).unwrap();
        assert_eq!(out.matches("Section").count(), 1, "{out}");
        assert!(!out.lines().any(|l| l.starts_with("# ")), "{out}");
        assert!(!out.contains("date:"), "{out}");
    }

    #[test]
    fn fences_found_with_continuation_prefix() {
        let body = "text\n\n```sh run\nls\n```\n\n- item\n\n  ```sh solution\n  echo\n  ```\n\n> ```toml quiz\n> id = \"q\"\n> ```\n\n```sh\nplain\n```\n";
        let fences = interactive_fences(body);
        assert_eq!(fences.len(), 3);
        assert!(body[fences[0].range.clone()].starts_with("```sh run"));
        assert_eq!(fences[0].continuation, "");
        assert_eq!(fences[1].continuation, "  ");
        assert_eq!(fences[2].continuation, "> ");
    }
}
