//! `src/SUMMARY.md`, mdBook's table of contents, read line by line so every
//! entry keeps its line number.
//!
//! Accepted lines (mdBook conventions):
//! - `# Summary` — the first heading, when it comes before anything else, is
//!   the summary's own title and is skipped;
//! - `# Part title` — starts a module (part);
//! - `- [Title](file.md)` / `* [Title](file.md)` (any indentation: nested
//!   entries are flattened) — a chapter;
//! - `- [Title]()` — a draft chapter, not written yet;
//! - `[Title](file.md)` without a bullet — a prefix/suffix chapter;
//! - `---` separators, blank lines and `<!-- comments -->` — ignored.

use super::model::{Chapter, Part};
use crate::diagnostic::Diagnostic;
use std::path::{Component, Path, PathBuf};

/// A parsed SUMMARY.md.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub parts: Vec<Part>,
    /// Problems with individual lines (the rest of the summary still loads).
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses SUMMARY.md text; `path` labels diagnostics.
pub fn parse(text: &str, path: &Path) -> Summary {
    let mut out = Summary::default();
    let mut seen_anything = false;
    let mut in_comment = false;
    let mut chapters = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        if let Some((_, col, c)) = crate::sanitize::first_control(raw, true) {
            // Reported, and the line still read: titles are escaped on output.
            out.diagnostics.push(Diagnostic::error(
                path,
                line_no,
                col,
                format!("control character {c} in SUMMARY.md; remove it"),
            ));
        }
        let line = raw.trim();
        if in_comment {
            if line.contains("-->") {
                in_comment = false;
            }
            continue;
        }
        if line.starts_with("<!--") {
            in_comment = !line.contains("-->");
            continue;
        }
        if line.is_empty() || is_separator(line) {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            let title = h.trim_start_matches('#').trim().to_string();
            if !seen_anything {
                // mdBook: a leading heading is the summary's title.
                seen_anything = true;
                continue;
            }
            if out.parts.len() == super::limits::MAX_CHAPTERS_PER_BOOK {
                out.diagnostics.push(Diagnostic::error(
                    path,
                    line_no,
                    1,
                    format!(
                        "a book may have at most {} modules; this one and the rest are left out",
                        super::limits::MAX_CHAPTERS_PER_BOOK
                    ),
                ));
                break;
            }
            out.parts.push(Part {
                title: Some(title),
                chapters: Vec::new(),
            });
            continue;
        }
        seen_anything = true;
        let indent = raw.len() - raw.trim_start().len();
        let entry = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .map(|rest| {
                (
                    rest.trim_start(),
                    indent + 2 + (rest.len() - rest.trim_start().len()),
                )
            })
            .unwrap_or((line, indent));
        match parse_link(entry.0) {
            Ok((title, target)) => {
                let (id, chapter_path) = match target {
                    None => (None, None),
                    Some(t) => match check_target(&t) {
                        Ok(p) => (
                            p.file_stem().map(|s| s.to_string_lossy().into_owned()),
                            Some(p),
                        ),
                        Err(msg) => {
                            out.diagnostics.push(Diagnostic::error(
                                path,
                                line_no,
                                entry.1 as u32 + 1,
                                msg,
                            ));
                            continue;
                        }
                    },
                };
                if out.parts.is_empty() {
                    out.parts.push(Part {
                        title: None,
                        chapters: Vec::new(),
                    });
                }
                if chapters == super::limits::MAX_CHAPTERS_PER_BOOK {
                    out.diagnostics.push(Diagnostic::error(
                        path,
                        line_no,
                        1,
                        format!(
                            "a book may list at most {} chapters; this one and the rest are left out — split the course into several",
                            super::limits::MAX_CHAPTERS_PER_BOOK
                        ),
                    ));
                    break;
                }
                chapters += 1;
                let part = out.parts.last_mut().expect("just pushed");
                part.chapters.push(Chapter {
                    title,
                    id,
                    path: chapter_path,
                    summary_line: line_no,
                });
            }
            Err(msg) => {
                out.diagnostics
                    .push(Diagnostic::error(path, line_no, entry.1 as u32 + 1, msg))
            }
        }
    }
    out
}

fn is_separator(line: &str) -> bool {
    line.len() >= 3 && line.chars().all(|c| c == '-')
}

/// `[Title](target)` → (title, target or `None` for a draft).
fn parse_link(s: &str) -> Result<(String, Option<String>), String> {
    const EXPECTED: &str = "expected `# Module`, `- [Title](file.md)` or a draft `- [Title]()`";
    let Some(rest) = s.strip_prefix('[') else {
        return Err(format!("cannot read this SUMMARY line; {EXPECTED}"));
    };
    // Find the `]` that closes the title, allowing nested brackets and `\]`.
    let mut depth = 0usize;
    let mut title = String::new();
    let mut chars = rest.char_indices();
    let mut close = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    title.push(n);
                }
            }
            '[' => {
                depth += 1;
                title.push(c);
            }
            ']' if depth == 0 => {
                close = Some(i);
                break;
            }
            ']' => {
                depth -= 1;
                title.push(c);
            }
            _ => title.push(c),
        }
    }
    let Some(close) = close else {
        return Err(format!("unclosed `[` in the title; {EXPECTED}"));
    };
    let after = &rest[close + 1..];
    let Some(inner) = after.strip_prefix('(') else {
        return Err(format!(
            "the title needs a target in parentheses right after it: `[{title}](file.md)` or `[{title}]()` for a draft"
        ));
    };
    let Some(end) = inner.rfind(')') else {
        return Err(format!("missing `)` after the target; {EXPECTED}"));
    };
    if !inner[end + 1..].trim().is_empty() {
        return Err(format!("unexpected text after the entry; {EXPECTED}"));
    }
    let title = title.trim().to_string();
    if title.is_empty() {
        return Err("an entry needs a title: `- [Title](file.md)`".into());
    }
    let target = inner[..end].trim();
    let target = target
        .strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(target);
    Ok((title, (!target.is_empty()).then(|| target.to_string())))
}

/// A chapter target must be a relative `.md` path inside `src/`.
fn check_target(t: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(t.replace("%20", " "));
    if p.extension().and_then(|e| e.to_str()) != Some("md") {
        return Err(format!("`{t}`: a chapter links to a Markdown file (`.md`)"));
    }
    if p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{t}`: chapter paths are relative to the book's src/ and stay inside it"
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_entries_drafts_and_lines() {
        let text = "# Summary\n\n# 课前必读\n\n- [开篇词](00-opening.md)\n- [草稿]()\n\n# Module 2\n  - [Nested [x]](sub/05-process.md)\n---\n<!-- a\ncomment -->\n[Suffix](zz.md)\n";
        let s = parse(text, Path::new("SUMMARY.md"));
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.parts[0].title.as_deref(), Some("课前必读"));
        let c = &s.parts[0].chapters;
        assert_eq!(c[0].id.as_deref(), Some("00-opening"));
        assert_eq!(c[0].summary_line, 5);
        assert!(c[1].is_draft());
        assert_eq!(c[1].title, "草稿");
        let c = &s.parts[1].chapters;
        assert_eq!(c[0].title, "Nested [x]");
        assert_eq!(c[0].path.as_deref(), Some(Path::new("sub/05-process.md")));
        assert_eq!(c[0].id.as_deref(), Some("05-process"));
        assert_eq!(c[1].id.as_deref(), Some("zz"));
        assert_eq!(c[1].summary_line, 13);
    }

    #[test]
    fn entries_before_any_part_get_an_untitled_part() {
        let s = parse("- [A](a.md)\n", Path::new("S.md"));
        assert_eq!(s.parts[0].title, None);
        assert_eq!(s.parts[0].chapters.len(), 1);
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let s = parse(
            "# S\n# P\n- [A](a.md)\nrandom text\n- [B](../b.md)\n- [C](c.txt)\n- [D]\n- [E](e.md)\n",
            Path::new("S.md"),
        );
        let lines: Vec<u32> = s.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
        assert_eq!(s.diagnostics[1].col, 3);
        assert_eq!(s.parts[0].chapters.len(), 2);
    }
}
