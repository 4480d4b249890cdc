//! TOML front matter between `+++` lines at the top of a lesson.
//!
//! ```text
//! +++
//! id = "05-process"
//! title = "从进程说开去"
//! +++
//! # body…
//! ```
//!
//! Errors carry file positions (the TOML parser's spans are mapped back to
//! the lesson file). A lesson written for a newer schema than this build
//! knows gets a message saying so instead of a confusing field error.

use super::model::{FrontMatter, FRONT_MATTER_SCHEMA};
use crate::diagnostic::{Diagnostic, LineIndex};
use std::path::Path;

/// A lesson file split into its front matter and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// The TOML between the `+++` lines.
    pub front: &'a str,
    /// 1-based file line of the first TOML line.
    pub front_line: u32,
    pub body: &'a str,
    /// 1-based file line where the body starts.
    pub body_line: u32,
}

const FENCE: &str = "+++";

fn is_fence(line: &str) -> bool {
    line.trim_end() == FENCE
}

/// Splits `text` (a whole lesson file) at its `+++` lines.
pub fn split<'a>(text: &'a str, path: &Path) -> Result<Split<'a>, Diagnostic> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let text_nobom = &text[bom..];
    let first = text_nobom.lines().next().unwrap_or("");
    if !is_fence(first) {
        return Err(Diagnostic::error(
            path,
            1,
            1,
            "a lesson starts with TOML front matter between `+++` lines, e.g.\n+++\nid = \"05-process\"\ntitle = \"...\"\n+++",
        ));
    }
    let front_start = bom + text_nobom.find('\n').map_or(text_nobom.len(), |i| i + 1);
    let mut pos = front_start;
    let mut line = 2u32;
    while pos <= text.len() {
        let rest = &text[pos..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let l = &rest[..end];
        if is_fence(l.trim_end_matches(['\n', '\r'])) {
            return Ok(Split {
                front: &text[front_start..pos],
                front_line: 2,
                body: &text[pos + end..],
                body_line: line + 1,
            });
        }
        pos += end;
        line += 1;
    }
    Err(Diagnostic::error(
        path,
        1,
        1,
        "front matter opened here with `+++` is never closed: add a `+++` line after the last TOML line",
    ))
}

/// Parses front matter TOML that starts at file line `first_line`.
pub fn parse(front: &str, first_line: u32, path: &Path) -> Result<FrontMatter, Diagnostic> {
    let max = super::limits::MAX_FRONT_MATTER_BYTES;
    if front.len() > max {
        return Err(Diagnostic::error(
            path,
            first_line,
            1,
            format!(
                "the front matter is {}; the limit is {} — keep lesson settings short (see \"Limits\" in lessons/README.md)",
                super::limits::human(front.len() as u64),
                super::limits::human(max as u64)
            ),
        ));
    }
    let idx = LineIndex::new(front);
    let at = |offset: usize, message: String| {
        let (l, c) = idx.line_col(front, offset);
        Diagnostic::error(path, first_line + l - 1, c, message)
    };
    let table: toml::Table = toml::from_str(front).map_err(|e| {
        at(
            e.span().map_or(0, |s| s.start),
            format!("front matter: {}", e.message().trim()),
        )
    })?;
    let schema_at = || {
        front
            .lines()
            .scan(0usize, |pos, l| {
                let s = *pos;
                *pos += l.len() + 1;
                Some((s, l))
            })
            .find(|(_, l)| l.trim_start().starts_with("schema"))
            .map_or(0, |(s, _)| s)
    };
    match table.get("schema") {
        None => {}
        Some(toml::Value::Integer(n)) if *n > FRONT_MATTER_SCHEMA as i64 => {
            return Err(at(
                schema_at(),
                format!(
                    "this lesson uses front-matter schema {n}, but this kubelab understands schema {FRONT_MATTER_SCHEMA} only; update kubelab to open it"
                ),
            ))
        }
        Some(toml::Value::Integer(n)) if *n >= 1 => {}
        Some(other) => {
            return Err(at(
                schema_at(),
                format!(
                    "schema = {other} is not a schema version; use schema = {FRONT_MATTER_SCHEMA}"
                ),
            ))
        }
    }
    let fm: FrontMatter = toml::from_str(front).map_err(|e| {
        at(
            e.span().map_or(0, |s| s.start),
            format!("front matter: {}", e.message().trim()),
        )
    })?;
    if fm.id.trim().is_empty() {
        return Err(at(0, "front matter: `id` is empty".into()));
    }
    if fm.title.trim().is_empty() {
        return Err(at(0, "front matter: `title` is empty".into()));
    }
    Ok(fm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("l.md")
    }

    #[test]
    fn splits_and_counts_lines() {
        let t = "+++\nid = \"a\"\ntitle = \"A\"\n+++\n# Hi\n";
        let s = split(t, p()).unwrap();
        assert_eq!(s.front, "id = \"a\"\ntitle = \"A\"\n");
        assert_eq!(s.front_line, 2);
        assert_eq!(s.body, "# Hi\n");
        assert_eq!(s.body_line, 5);
    }

    #[test]
    fn crlf_and_bom() {
        let t = "\u{feff}+++\r\nid = \"a\"\r\ntitle = \"A\"\r\n+++\r\nbody\r\n";
        let s = split(t, p()).unwrap();
        assert_eq!(s.body_line, 5);
        assert_eq!(s.body, "body\r\n");
        assert!(parse(s.front, s.front_line, p()).is_ok());
    }

    #[test]
    fn missing_and_unclosed_front_matter() {
        let e = split("# no front matter\n", p()).unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        assert!(e.message.contains("+++"));
        let e = split("+++\nid = \"a\"\n# body\n", p()).unwrap_err();
        assert!(e.message.contains("never closed"), "{}", e.message);
    }

    #[test]
    fn toml_syntax_error_points_into_the_file() {
        let t = "+++\nid = \"a\"\ntitle = \"A\n+++\n";
        let s = split(t, p()).unwrap();
        let e = parse(s.front, s.front_line, p()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.col > 1);
    }

    #[test]
    fn unknown_field_is_named_with_its_line() {
        let t = "+++\nid = \"a\"\ntitle = \"A\"\ntittle = \"B\"\n+++\n";
        let s = split(t, p()).unwrap();
        let e = parse(s.front, s.front_line, p()).unwrap_err();
        assert_eq!((e.line, e.col), (4, 1), "{e}");
        assert!(e.message.contains("tittle"), "{e}");
    }

    #[test]
    fn unknown_sandbox_field_is_an_error() {
        let t = "+++\nid = \"a\"\ntitle = \"A\"\n[sandboxes.main]\nmemroy = \"64M\"\n+++\n";
        let s = split(t, p()).unwrap();
        let e = parse(s.front, s.front_line, p()).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("memroy"), "{e}");
    }

    #[test]
    fn future_schema_says_update_kubelab() {
        let t = "+++\nschema = 2\nid = \"a\"\ntitle = \"A\"\nnew_field = 1\n+++\n";
        let s = split(t, p()).unwrap();
        let e = parse(s.front, s.front_line, p()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("schema 2"), "{e}");
        assert!(e.message.contains("update kubelab"), "{e}");
        let t = "+++\nschema = 0\nid = \"a\"\ntitle = \"A\"\n+++\n";
        let s = split(t, p()).unwrap();
        assert!(parse(s.front, s.front_line, p()).is_err());
    }

    #[test]
    fn full_front_matter() {
        let t = r#"+++
schema = 1
id = "05-process"
title = "从进程说开去"
summary = "PID 1"
panes = ["shell", "processes@web"]
requires = ["cgroups"]
[sandboxes.main]
hostname = "box"
limits = { memory = "64M", cpus = 0.5, pids = 64 }
[sandboxes.web]
rootfs = "busybox"
+++
"#;
        let s = split(t, p()).unwrap();
        let fm = parse(s.front, s.front_line, p()).unwrap();
        assert_eq!(fm.title, "从进程说开去");
        assert_eq!(fm.default_sandbox(), Some("main"));
        assert_eq!(fm.sandboxes.len(), 2);
    }
}
