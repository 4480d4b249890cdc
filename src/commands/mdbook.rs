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
//! Per chapter: the `+++` front matter is stripped and each interactive
//! fence is replaced by plain Markdown/HTML that mdBook renders without
//! kubelab: run blocks as copyable commands, checks as "how to verify"
//! sections, solutions and quiz answers collapsed in `<details>`.
//! Everything else in the chapter is left byte for byte as written.

use crate::doc::ir::{CheckBlock, CheckSide, Interactive, Quiz, RunBlock, SolutionBlock};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::ops::Range;

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

/// A chapter kubelab could not convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdbookError {
    pub message: String,
}

impl std::fmt::Display for MdbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MdbookError {}

fn err(message: impl Into<String>) -> MdbookError {
    MdbookError {
        message: message.into(),
    }
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
    for item in items.iter_mut() {
        convert_item(item, &labels)?;
    }
    Ok(book)
}

/// `{"Chapter": {...}}` is converted (and its `sub_items`); `"Separator"` and
/// `{"PartTitle": "..."}` are left alone.
fn convert_item(item: &mut Value, labels: &Labels) -> Result<(), MdbookError> {
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
        *content = convert_chapter(content, &source, labels)?;
    }
    if let Some(Value::Array(subs)) = chapter.get_mut("sub_items") {
        for sub in subs {
            convert_item(sub, labels)?;
        }
    }
    Ok(())
}

/// UI words of the web book, in the book's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    pub run: &'static str,
    pub sandbox: &'static str,
    pub verify: &'static str,
    pub on_host: &'static str,
    pub hint: &'static str,
    pub solution: &'static str,
    pub quiz: &'static str,
    pub show_answer: &'static str,
    pub answer: &'static str,
}

impl Labels {
    pub const EN: Labels = Labels {
        run: "▶ Run in kubelab",
        sandbox: "sandbox",
        verify: "How to verify",
        on_host: "runs on the host",
        hint: "Hint",
        solution: "Solution",
        quiz: "Quiz",
        show_answer: "Show the answer",
        answer: "Answer",
    };
    pub const ZH: Labels = Labels {
        run: "▶ 在 kubelab 中运行",
        sandbox: "沙箱",
        verify: "如何验证",
        on_host: "在宿主机上运行",
        hint: "提示",
        solution: "参考答案",
        quiz: "小测验",
        show_answer: "查看答案",
        answer: "答案",
    };

    /// `language` from book.toml: `zh`, `zh-CN`, `zh_TW`... are Chinese.
    pub fn for_language(lang: &str) -> Labels {
        if lang.trim().to_ascii_lowercase().starts_with("zh") {
            Labels::ZH
        } else {
            Labels::EN
        }
    }
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
    Ok(out)
}

/// Splits off `+++` front matter. Returns the body and the 1-based file
/// line the body starts on.
fn split_front_matter<'a>(content: &'a str, source: &str) -> Result<(&'a str, u32), MdbookError> {
    let first_end = content.find('\n').map_or(content.len(), |i| i + 1);
    if content[..first_end].trim_end() != "+++" {
        return Ok((content, 1));
    }
    let mut offset = first_end;
    // `line` is the file line of `l`; the body starts on the next one.
    for (line, l) in (2u32..).zip(content[first_end..].split_inclusive('\n')) {
        offset += l.len();
        if l.trim_end() == "+++" {
            return Ok((&content[offset..], line + 1));
        }
    }
    Err(err(format!(
        "{source}:1: front matter opened with `+++` is never closed; add a `+++` line after it"
    )))
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

/// Markdown/HTML for one interactive block; ends without a newline.
pub fn render_interactive(block: &Interactive, labels: &Labels) -> String {
    match block {
        Interactive::Run(b) => render_run(b, labels),
        Interactive::Check(b) => render_check(b, labels),
        Interactive::Solution(b) => render_solution(b, labels),
        Interactive::Quiz(q) => render_quiz(q, labels),
    }
}

fn render_run(b: &RunBlock, l: &Labels) -> String {
    let mut label = l.run.to_owned();
    if let Some(s) = &b.sandbox {
        let _ = write!(label, " ({} {})", l.sandbox, html_escape(s));
    }
    format!(
        "<p class=\"kubelab-run-label\"><small>{label}</small></p>\n\n{}",
        code_fence(&b.lang, &b.code)
    )
}

fn render_check(b: &CheckBlock, l: &Labels) -> String {
    let mut out = String::from("<div class=\"kubelab-check\">\n\n");
    let _ = write!(out, "**{}", l.verify);
    if let Some(title) = &b.title {
        let _ = write!(out, ": {}", md_text(title));
    }
    out.push_str("**");
    if b.on == CheckSide::Host {
        let _ = write!(out, " *({})*", l.on_host);
    } else if let Some(s) = &b.sandbox {
        let _ = write!(out, " *({} {})*", l.sandbox, md_text(s));
    }
    out.push_str("\n\n");
    if let Some(hint) = &b.hint {
        let _ = write!(out, "*{}:* {}\n\n", l.hint, md_text(hint));
    }
    out.push_str(&code_fence(&b.lang, &strip_title_hint(&b.code)));
    out.push_str("\n\n</div>");
    out
}

fn render_solution(b: &SolutionBlock, l: &Labels) -> String {
    format!(
        "<details class=\"kubelab-solution\">\n<summary>{}</summary>\n\n{}\n\n</details>",
        html_escape(l.solution),
        code_fence(&b.lang, &b.code)
    )
}

fn render_quiz(q: &Quiz, l: &Labels) -> String {
    let mut out = String::from("<div class=\"kubelab-quiz\">\n\n");
    let _ = write!(out, "**{}:** {}\n\n", l.quiz, md_text(q.question.trim()));
    for (i, choice) in q.choices.iter().enumerate() {
        let _ = writeln!(out, "- **{}.** {}", letter(i), md_text(choice));
    }
    let _ = write!(
        out,
        "\n<details class=\"kubelab-quiz-answer\">\n<summary>{}</summary>\n\n",
        html_escape(l.show_answer)
    );
    let _ = write!(out, "**{}: {}.**", l.answer, letter(q.answer));
    if let Some(choice) = q.choices.get(q.answer) {
        let _ = write!(out, " {}", md_text(choice));
    }
    if let Some(explain) = q
        .explain
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let _ = write!(out, "\n\n{}", md_text(explain));
    }
    out.push_str("\n\n</details>\n\n</div>");
    out
}

fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

/// A fenced code block whose fence is longer than any backtick run inside.
fn code_fence(lang: &str, code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let code = code.strip_suffix('\n').unwrap_or(code);
    format!("{fence}{lang}\n{code}\n{fence}")
}

/// The script without its leading `# title:` / `# hint:` lines, which the
/// section shows as text already.
fn strip_title_hint(code: &str) -> String {
    let mut lines = code.lines().peekable();
    let mut kept = Vec::new();
    let mut header = true;
    for line in lines.by_ref() {
        let t = line.trim_start();
        if header && (t.starts_with("# title:") || t.starts_with("# hint:")) {
            continue;
        }
        header = false;
        kept.push(line);
    }
    kept.join("\n")
}

/// Text from a script comment or a quiz string, placed in Markdown: shown
/// literally (every ASCII punctuation mark backslash-escaped, so `--fork`
/// stays two hyphens and `*` stays a star), except `` `code` `` spans, which
/// authors use for commands and which stay code.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            let run = rest.len() - rest.trim_start_matches('`').len();
            let fence = &rest[..run];
            // A code span closes with a backtick run of the same length.
            let close = rest[run..].match_indices(fence).find(|(i, _)| {
                let after = &rest[run + i + run..];
                !after.starts_with('`') && !rest[..run + i].ends_with('`')
            });
            if let Some((i, _)) = close {
                let end = run + i + run;
                out.push_str(&rest[..end]);
                rest = &rest[end..];
                continue;
            }
            out.push_str(&"\\`".repeat(run));
            rest = &rest[run..];
            continue;
        }
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_language() {
        assert_eq!(Labels::for_language("zh-CN"), Labels::ZH);
        assert_eq!(Labels::for_language("zh"), Labels::ZH);
        assert_eq!(Labels::for_language("en"), Labels::EN);
        assert_eq!(Labels::for_language(""), Labels::EN);
    }

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

    #[test]
    fn code_fence_outgrows_backticks_in_code() {
        assert_eq!(code_fence("sh", "echo hi\n"), "```sh\necho hi\n```");
        assert_eq!(code_fence("md", "````\n"), "`````md\n````\n`````");
    }

    #[test]
    fn quiz_renders_letters_and_hidden_answer() {
        let q = Quiz {
            id: "q1".into(),
            question: "Which PID does the first process see?".into(),
            choices: vec!["0".into(), "1".into(), "<host pid>".into()],
            answer: 1,
            explain: Some("It is PID 1 in its namespace.".into()),
            line: 3,
        };
        let out = render_quiz(&q, &Labels::EN);
        assert!(out.contains("**Quiz:** Which PID"), "{out}");
        assert!(
            out.contains("- **A.** 0\n- **B.** 1\n- **C.** \\<host pid\\>"),
            "{out}"
        );
        assert!(out.contains("<summary>Show the answer</summary>"), "{out}");
        assert!(out.contains("**Answer: B.** 1\n\nIt is PID 1"), "{out}");
    }

    #[test]
    fn plain_text_is_literal_but_code_spans_stay() {
        assert_eq!(md_text("a_b <x>"), "a\\_b \\<x\\>");
        assert_eq!(md_text("use `ps -ef` now"), "use `ps -ef` now");
        assert_eq!(md_text("``a ` b`` end"), "``a ` b`` end");
        assert_eq!(md_text("lone ` tick"), "lone \\` tick");
        assert_eq!(md_text("中文，`--fork` 不能少"), "中文，`--fork` 不能少");
    }

    #[test]
    fn check_strips_header_comments_into_text() {
        let b = CheckBlock {
            id: "c".into(),
            lang: "sh".into(),
            code:
                "# title: hostname changed\n# hint: use hostname NAME\ntest \"$(hostname)\" = lab\n"
                    .into(),
            on: CheckSide::Host,
            sandbox: None,
            title: Some("hostname changed".into()),
            hint: Some("use hostname NAME".into()),
            line: 1,
        };
        let out = render_check(&b, &Labels::ZH);
        assert!(
            out.contains("**如何验证: hostname changed** *(在宿主机上运行)*"),
            "{out}"
        );
        assert!(out.contains("*提示:* use hostname NAME"), "{out}");
        assert!(
            out.contains("```sh\ntest \"$(hostname)\" = lab\n```"),
            "{out}"
        );
        assert!(!out.contains("# title:"), "{out}");
    }
}
