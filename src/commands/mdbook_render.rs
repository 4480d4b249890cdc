//! What `kubelab mdbook` puts on a web-book page in place of kubelab's
//! interactive parts: run blocks as labelled commands, checks as "what
//! kubelab verifies" in words (the script and its hint stay out of sight;
//! the hint is collapsed like a solution), quizzes answerable on the page
//! (lessons/*/web/kubelab.js) with the answer collapsed, plus a banner per
//! lesson saying this is the read-only web edition and how to open the
//! lesson in kubelab, and the lesson's front-matter `summary`.
//!
//! Elements that would give an answer away carry `data-pagefind-ignore`, so
//! the search index (Pagefind, run by scripts/build-web-book.sh) never
//! holds them.

use crate::course::front;
use crate::course::model::FrontMatter;
use crate::doc::ir::{CheckBlock, CheckSide, Interactive, Quiz, RunBlock, SolutionBlock};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// UI words of the web book, in the book's language. Punctuation is part of
/// the words: full-width in Chinese (`提示：`), ASCII in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    pub run: &'static str,
    pub sandbox: &'static str,
    /// A world lesson's node (`node=`).
    pub node: &'static str,
    /// Before a check's title: what kubelab verifies.
    pub verify: &'static str,
    /// A check without a `# title:` line.
    pub verify_untitled: &'static str,
    pub on_host: &'static str,
    pub hint: &'static str,
    pub solution: &'static str,
    pub show_answer: &'static str,
    pub answer: &'static str,
    /// `(`…`)` around a side note: `（`…`）` in Chinese.
    pub open: &'static str,
    pub close: &'static str,
    /// After the answer letter.
    pub answer_end: &'static str,
    /// Between a bold label and the text after it: a space in English,
    /// nothing after Chinese full-width punctuation.
    pub sep: &'static str,
    /// The banner's bold lead, then its text around `kubelab open ID`.
    pub banner_lead: &'static str,
    pub banner_before: &'static str,
    pub banner_after: &'static str,
}

impl Labels {
    pub const EN: Labels = Labels {
        run: "Run in kubelab",
        sandbox: "sandbox",
        node: "node",
        verify: "kubelab checks:",
        verify_untitled: "kubelab checks this step for you.",
        on_host: "on the host",
        hint: "Hint",
        solution: "Solution",
        show_answer: "Show the answer",
        answer: "Answer: ",
        open: " (",
        close: ")",
        answer_end: ".",
        sep: " ",
        banner_lead: "Web edition, read-only.",
        banner_before: "You can read the whole lesson here. Its commands, checks and labs run in \
                        kubelab, a terminal app that puts a real sandbox next to the text. \
                        Install kubelab (see the project README), then run ",
        banner_after: " to open this lesson there.",
    };
    pub const ZH: Labels = Labels {
        run: "在 kubelab 中运行",
        sandbox: "沙箱",
        node: "节点",
        verify: "kubelab 会检查：",
        verify_untitled: "kubelab 会替你检查这一步。",
        on_host: "在宿主机上",
        hint: "提示",
        solution: "参考答案",
        show_answer: "查看答案",
        answer: "答案：",
        open: "（",
        close: "）",
        answer_end: "。",
        sep: "",
        banner_lead: "网页版（只读）。",
        banner_before: "这里可以读完整篇课文；文中的命令、检查和实验要在 kubelab 里做，\
                        它是一个终端应用，课文旁边就是一个真实的沙箱。安装 kubelab（见项目 README）后，运行 ",
        banner_after: " 打开本课。",
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

/// Markdown/HTML for one interactive block; ends without a newline.
pub fn render_interactive(block: &Interactive, labels: &Labels) -> String {
    match block {
        Interactive::Run(b) => render_run(b, labels),
        Interactive::Check(b) => render_check(b, labels),
        Interactive::Solution(b) => render_solution(b, labels),
        Interactive::Quiz(q) => render_quiz(q, labels),
    }
}

/// The label is a `<span>` styled as a tag, not a link or button: nothing
/// on the web page runs the command.
fn render_run(b: &RunBlock, l: &Labels) -> String {
    let mut label = format!("<span class=\"kubelab-tag\">{}</span>", html_escape(l.run));
    let (word, name) = match (&b.node, &b.sandbox) {
        (Some(n), _) => (l.node, Some(n)),
        (None, s) => (l.sandbox, s.as_ref()),
    };
    if let Some(s) = name {
        let _ = write!(label, "{}{} {}{}", l.open, word, html_escape(s), l.close);
    }
    format!(
        "<p class=\"kubelab-run-label\">{label}</p>\n\n{}",
        code_fence(&b.lang, &b.code)
    )
}

/// A check in words: its title (what kubelab verifies) and where, with the
/// hint collapsed. The script is not shown: it runs against kubelab's live
/// sandbox (`$KUBELAB`, `$KUBELAB_PID`), which a web reader does not have.
fn render_check(b: &CheckBlock, l: &Labels) -> String {
    let mut out = String::from("<div class=\"kubelab-check\">\n\n");
    match b.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // <strong>, not **: after a full-width colon, a closing ** directly
        // followed by a CJK character is not a closing delimiter.
        Some(title) => {
            let _ = write!(
                out,
                "<strong>{}</strong>{}{}",
                html_escape(l.verify),
                l.sep,
                md_prose(title)
            );
        }
        None => {
            let _ = write!(out, "<strong>{}</strong>", html_escape(l.verify_untitled));
        }
    }
    let side = if b.on == CheckSide::Host {
        Some(l.on_host.to_owned())
    } else {
        b.sandbox.as_ref().map(|s| format!("{} {}", l.sandbox, s))
    };
    if let Some(side) = side {
        let _ = write!(out, "{}{}{}", l.open, md_text(&side), l.close);
    }
    out.push_str("\n\n");
    if let Some(hint) = b.hint.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        let _ = write!(
            out,
            "<details class=\"kubelab-hint\" data-pagefind-ignore>\n<summary>{}</summary>\n\n{}\n\n</details>\n\n",
            html_escape(l.hint),
            md_hint(hint)
        );
    }
    out.push_str("</div>");
    out
}

fn render_solution(b: &SolutionBlock, l: &Labels) -> String {
    format!(
        "<details class=\"kubelab-solution\" data-pagefind-ignore>\n<summary>{}</summary>\n\n{}\n\n</details>",
        html_escape(l.solution),
        code_fence(&b.lang, &b.code)
    )
}

/// The question and its choices (kubelab.js makes the choices answerable),
/// then the answer and explanation collapsed. No "Quiz:" label: the lessons
/// put their quizzes under a "Quiz" heading, and the box is styled.
fn render_quiz(q: &Quiz, l: &Labels) -> String {
    let mut out = String::from("<div class=\"kubelab-quiz\">\n\n");
    let _ = write!(out, "**{}**\n\n", md_prose(q.question.trim()));
    for (i, choice) in q.choices.iter().enumerate() {
        let _ = writeln!(out, "- **{}.** {}", letter(i), md_prose(choice));
    }
    let _ = write!(
        out,
        "\n<details class=\"kubelab-quiz-answer\" data-answer=\"{}\" data-pagefind-ignore>\n<summary>{}</summary>\n\n",
        letter(q.answer),
        html_escape(l.show_answer)
    );
    let _ = write!(
        out,
        "<strong>{}{}{}</strong>",
        html_escape(l.answer),
        letter(q.answer),
        html_escape(l.answer_end)
    );
    if let Some(choice) = q.choices.get(q.answer) {
        let _ = write!(out, "{}{}", l.sep, md_prose(choice));
    }
    if let Some(explain) = q
        .explain
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let _ = write!(out, "\n\n{}", md_prose(explain));
    }
    out.push_str("\n\n</details>\n\n</div>");
    out
}

/// The lesson's summary under its title, then the web-edition banner.
/// `body` is the converted chapter; `id` and `summary` come from the
/// lesson's front matter. Inserted after the first `# ` heading line (the
/// lesson title), or at the top when there is none.
pub fn decorate_lesson(body: &str, id: &str, summary: Option<&str>, l: &Labels) -> String {
    let mut extra = String::from("\n");
    if let Some(s) = summary.map(str::trim).filter(|s| !s.is_empty()) {
        let _ = write!(
            extra,
            "<p class=\"kubelab-summary\">{}</p>\n\n",
            html_escape(s)
        );
    }
    let _ = write!(
        extra,
        "<div class=\"kubelab-banner\" data-pagefind-ignore>\n<p><strong>{}</strong> {}<code>kubelab open {}</code>{}</p>\n</div>\n\n",
        html_escape(l.banner_lead),
        html_escape(l.banner_before),
        html_escape(id),
        html_escape(l.banner_after)
    );
    let mut pos = 0;
    for line in body.split_inclusive('\n') {
        if line.starts_with("```") || line.starts_with("~~~") {
            break;
        }
        pos += line.len();
        if line.starts_with("# ") {
            let mut out = String::with_capacity(body.len() + extra.len() + 1);
            out.push_str(&body[..pos]);
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&extra);
            out.push_str(&body[pos..]);
            return out;
        }
    }
    let mut out = extra.trim_start().to_owned();
    out.push_str(body);
    out
}

/// The front matter of a lesson chapter, `None` for a chapter without one
/// (a plain page). Errors name the file and line.
/// A page with YAML front matter (`---`, brought in from Hugo/Jekyll) is a
/// lesson too, as in the reader: its id is the file name unless it sets
/// one, its `description` the summary.
pub fn lesson_front(content: &str, source: &str) -> Result<Option<FrontMatter>, String> {
    let path = Path::new(source);
    let split = front::split(content, path).map_err(|d| d.to_string())?;
    match split.format {
        front::Format::None => Ok(None),
        front::Format::Toml => front::parse(split.front, split.front_line, path)
            .map(Some)
            .map_err(|d| d.to_string()),
        front::Format::Yaml => front::lesson_front(&split, path)
            .map(Some)
            .map_err(|d| d.to_string()),
    }
}

/// Numbers the chapters as the lessons are numbered: a chapter whose file
/// starts with digits (`05-process.md`) gets that number, any other (drafts
/// without a file) the one after its predecessor. mdBook numbers from 1 in
/// SUMMARY order, which put lesson 05 at "6.". Sub-chapters keep their
/// place under the renumbered parent; a book with no numbered file names is
/// left as mdBook numbered it.
pub fn number_chapters(items: &mut [Value]) {
    let file_number = |item: &Value| {
        let chapter = item.get("Chapter")?;
        chapter
            .get("source_path")
            .or_else(|| chapter.get("path"))
            .and_then(Value::as_str)
            .and_then(leading_number)
    };
    // A book whose files carry no numbers keeps mdBook's numbering.
    if !items.iter().any(|i| file_number(i).is_some()) {
        return;
    }
    let mut next: u64 = 0;
    for item in items.iter_mut() {
        let file_number = file_number(item);
        let Some(chapter) = item.get_mut("Chapter").and_then(Value::as_object_mut) else {
            continue;
        };
        // Prefix/suffix chapters are unnumbered in mdBook and stay so.
        if chapter.get("number").is_none_or(Value::is_null) {
            continue;
        }
        // A lesson file without a number (`extra-2019.md`, the outline's
        // specials) is unnumbered, as `kubelab list` shows it; a draft (no
        // file) takes the number after its predecessor.
        let has_file = ["source_path", "path"]
            .iter()
            .any(|k| chapter.get(*k).is_some_and(|v| !v.is_null()));
        if file_number.is_none() && has_file {
            chapter.insert("number".into(), Value::Null);
            continue;
        }
        let n = file_number.unwrap_or(next);
        next = n.saturating_add(1);
        chapter.insert("number".into(), Value::from(vec![n]));
        if let Some(Value::Array(subs)) = chapter.get_mut("sub_items") {
            renumber_parent(subs, n);
        }
    }
}

fn renumber_parent(items: &mut [Value], n: u64) {
    for item in items {
        let Some(chapter) = item.get_mut("Chapter").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(Value::Array(parts)) = chapter.get_mut("number") {
            if let Some(first) = parts.first_mut() {
                *first = Value::from(n);
            }
        }
        if let Some(Value::Array(subs)) = chapter.get_mut("sub_items") {
            renumber_parent(subs, n);
        }
    }
}

/// `05-process.md` → 5; `sub/12-x.md` → 12; `intro.md` → None.
fn leading_number(path: &str) -> Option<u64> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let digits: String = file.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits.parse().ok()
}

fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn code_fence(lang: &str, code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let code = code.strip_suffix('\n').unwrap_or(code);
    format!("{fence}{lang}\n{code}\n{fence}")
}

/// Text from a script comment or a quiz string, placed in Markdown: shown
/// literally (every ASCII punctuation mark backslash-escaped, so `--fork`
/// stays two hyphens and `*` stays a star), except `` `code` `` spans, which
/// authors use for commands and which stay code.
pub fn md_text(s: &str) -> String {
    escape_md(s, |_| true)
}

/// Like [`md_text`], but quotes are left for mdBook's smart punctuation, so
/// they curl like the lesson's own prose around them.
pub fn md_prose(s: &str) -> String {
    escape_md(s, |c| c != '"' && c != '\'')
}

/// A hint: prose, with the shell commands in it (if the author did not
/// mark them with backticks) set in code font, see [`command_spans`].
fn md_hint(s: &str) -> String {
    if s.contains('`') {
        return md_prose(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut pos = 0;
    for (start, end) in command_spans(s) {
        out.push_str(&md_prose(&s[pos..start]));
        out.push('`');
        out.push_str(&s[start..end]);
        out.push('`');
        pos = end;
    }
    out.push_str(&md_prose(&s[pos..]));
    out
}

/// Where the shell commands in a hint are (byte ranges). Hints mix prose
/// and commands: "CMD", "run CMD", "prose: CMD", "CMD then CMD", "prose,
/// then run CMD (note)", or in Chinese "运行 CMD，再 CMD". The hint is cut
/// into clauses (see [`clauses`]); each holds at most one command, from the
/// end of a lead-in ("run ", ": "...) or the clause's start to its end, less
/// a trailing "(note)" or "in the sandbox", when that text looks like a
/// command (see [`looks_like_command`]).
fn command_spans(s: &str) -> Vec<(usize, usize)> {
    const LEADS: [&str; 8] = [
        ": ",
        "then run ",
        "then start ",
        "then ",
        "Run ",
        "run ",
        "start it with ",
        "with ",
    ];
    const TAILS: [&str; 2] = [" in the sandbox", " in the shell"];
    let mut spans = Vec::new();
    for (clause_start, clause_end) in clauses(s) {
        let clause = &s[clause_start..clause_end];
        let mut end = clause.trim_end().len();
        if clause[..end].ends_with(')') {
            if let Some(i) = clause.rfind(" (") {
                end = i;
            }
        }
        for tail in TAILS {
            if clause[..end].ends_with(tail) {
                end -= tail.len();
            }
        }
        // After a lead-in first (the longest where two start at one place),
        // the whole clause last.
        let mut leads: Vec<(usize, usize)> = LEADS
            .iter()
            .filter_map(|lead| clause.find(lead).map(|i| (i, lead.len())))
            .collect();
        leads.sort_unstable_by_key(|&(i, len)| (i, std::cmp::Reverse(len)));
        leads.dedup_by_key(|&mut (i, _)| i);
        let mut starts: Vec<usize> = leads.into_iter().map(|(i, len)| i + len).collect();
        starts.push(0);
        let found = starts.into_iter().filter(|&st| st < end).find_map(|st| {
            let text = &clause[st..end];
            let lead = text.len() - text.trim_start().len();
            let cmd = text.trim();
            let at = clause_start + st + lead;
            looks_like_command(cmd).then_some((at, at + cmd.len()))
        });
        spans.extend(found);
    }
    spans
}

/// Splits a hint into clauses (byte ranges) at any non-ASCII character
/// (Chinese text around commands) and at ", ", "; ", " then " and " with ",
/// except
/// inside quotes. A `'` opens a quote only at the start of a word, so an
/// apostrophe ("sandbox's") does not.
fn clauses(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut skip_to = 0;
    for (i, c) in s.char_indices() {
        if i < skip_to {
            prev = c;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '\'' || c == '"') && (prev.is_whitespace() || "=(".contains(prev)) => {
                quote = Some(c);
            }
            None if !c.is_ascii() => {
                out.push((start, i));
                start = i + c.len_utf8();
            }
            None => {
                if let Some(sep) = [", ", "; ", " then ", " with "]
                    .iter()
                    .find(|sep| s[i..].starts_with(**sep))
                {
                    out.push((start, i));
                    start = i + sep.len();
                    skip_to = start;
                }
            }
        }
        prev = c;
    }
    out.push((start, s.len()));
    out.retain(|(a, b)| a < b);
    out
}

/// A command starts with a lowercase program-like word, holds shell syntax
/// (an option, a path, a redirection, `$`, `=`) and, outside quotes, none of
/// the little English words a sentence has ("copy busybox into /tmp/x").
fn looks_like_command(cmd: &str) -> bool {
    const ENGLISH: [&str; 9] = ["the", "a", "an", "and", "into", "as", "of", "to", "needs"];
    let unquoted = without_quotes(cmd);
    let mut words = unquoted.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let programish = first.starts_with(|c: char| c.is_ascii_lowercase() || c == '/')
        && first
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_./".contains(c));
    let english = words.any(|w| ENGLISH.contains(&w));
    let shellish = cmd.split_whitespace().skip(1).any(|w| {
        w.starts_with('-')
            || w.contains(['/', '$', '='])
            || [">", ">>", "<", "|", "&", "&&", ";"].contains(&w)
    });
    programish && shellish && !english
}

/// `cmd` without its quoted parts (from a `'` or `"` at the start of a word
/// to its match).
fn without_quotes(cmd: &str) -> String {
    let mut out = String::with_capacity(cmd.len());
    let mut quote = None;
    let mut prev = ' ';
    for c in cmd.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '\'' || c == '"') && (prev.is_whitespace() || "=(".contains(prev)) => {
                quote = Some(c);
            }
            None => out.push(c),
        }
        prev = c;
    }
    out
}

fn escape_md(s: &str, escape: impl Fn(char) -> bool) -> String {
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
        if c.is_ascii_punctuation() && escape(c) {
            out.push('\\');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests;
