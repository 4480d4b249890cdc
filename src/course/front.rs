//! Front matter at the top of a lesson: kubelab's TOML between `+++`
//! lines, or YAML between `---` lines as other site generators write it
//! (see [`super::front_yaml`]), or none. A missing `id` is the file name, a
//! missing `title` the first heading ([`lesson_front`]).
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

/// How the front matter is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `+++` … `+++`: kubelab's own, everything a lab needs.
    Toml,
    /// `---` … `---` (or `...`): Hugo/Jekyll/VitePress pages.
    Yaml,
    /// No front matter at all.
    None,
}

/// A lesson file split into its front matter and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// The text between the fences (empty without front matter).
    pub front: &'a str,
    /// 1-based file line of the first TOML line.
    pub front_line: u32,
    pub body: &'a str,
    /// 1-based file line where the body starts.
    pub body_line: u32,
    pub format: Format,
}

/// Splits `text` (a whole lesson file) at its `+++` (TOML) or `---`
/// (YAML) lines; a file starting with neither is all body.
pub fn split<'a>(text: &'a str, path: &Path) -> Result<Split<'a>, Diagnostic> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let text_nobom = &text[bom..];
    let first = text_nobom.lines().next().unwrap_or("").trim_end();
    let (format, fence) = match first {
        "+++" => (Format::Toml, "+++"),
        "---" => (Format::Yaml, "---"),
        _ => {
            return Ok(Split {
                front: "",
                front_line: 1,
                body: text_nobom,
                body_line: 1,
                format: Format::None,
            })
        }
    };
    let is_fence = |l: &str| {
        let l = l.trim_end();
        l == fence || (format == Format::Yaml && l == "...")
    };
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
                format,
            });
        }
        pos += end;
        line += 1;
    }
    Err(Diagnostic::error(
        path,
        1,
        1,
        format!("front matter opened here with `{fence}` is never closed: add a `{fence}` line after its last line"),
    ))
}

/// The front matter of a split lesson file, whatever its format, with a
/// missing `id` taken from the file name and a missing `title` from the
/// first heading (else the file name).
pub fn lesson_front(split: &Split, path: &Path) -> Result<FrontMatter, Diagnostic> {
    let mut fm = match split.format {
        Format::Toml => parse(split.front, split.front_line, path)?,
        Format::Yaml | Format::None => {
            let mut fm: FrontMatter =
                toml::from_str("").map_err(|e| Diagnostic::error(path, 1, 1, e.to_string()))?;
            if split.format == Format::Yaml {
                let y = super::front_yaml::parse(split.front, split.front_line, path)?;
                fm.id = y.id.unwrap_or_default();
                fm.title = y.title.unwrap_or_default();
                fm.summary = y.description;
            }
            fm
        }
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if fm.id.trim().is_empty() {
        fm.id = stem.to_string();
    }
    if fm.title.trim().is_empty() {
        fm.title = first_heading(split.body).unwrap_or_else(|| stem.to_string());
    }
    Ok(fm)
}

/// Text of the first ATX heading (`# Title`) outside code fences.
fn first_heading(body: &str) -> Option<String> {
    let mut fence: Option<&str> = None;
    for line in body.lines() {
        let t = line.trim_start();
        if let Some(f) = fence {
            if t.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = Some(&t[..3]);
            continue;
        }
        let hashes = t.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let title: String = t[hashes..]
                .trim()
                .trim_end_matches('#')
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            if !title.is_empty() {
                return Some(title);
            }
        }
    }
    None
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
    if let Some(node) = &fm.node {
        super::node::check(node, front, first_line, path)?;
    }
    if fm.world.is_some() {
        super::world::check(&fm, front, first_line, path)?;
    }
    super::track::check_front(&fm, front, first_line, path)?;
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
        let s = split("# no front matter\n", p()).unwrap();
        assert_eq!(
            (s.format, s.body, s.body_line),
            (Format::None, "# no front matter\n", 1)
        );
        let e = split("+++\nid = \"a\"\n# body\n", p()).unwrap_err();
        assert!(e.message.contains("never closed"), "{}", e.message);
        let e = split("---\ntitle: a\n# body\n", p()).unwrap_err();
        assert!(e.message.contains("`---` is never closed"), "{}", e.message);
    }

    #[test]
    fn yaml_front_matter_and_derived_id_and_title() {
        let path = Path::new("lessons/zh/src/pod-lifecycle.md");
        let t =
            "---\ntitle: Pod 的生命周期\ndescription: 阶段与探针\nweight: 3\n---\n# 另一个标题\n";
        let s = split(t, path).unwrap();
        assert_eq!((s.format, s.body_line), (Format::Yaml, 6));
        let fm = lesson_front(&s, path).unwrap();
        assert_eq!(fm.id, "pod-lifecycle");
        assert_eq!(fm.title, "Pod 的生命周期");
        assert_eq!(fm.summary.as_deref(), Some("阶段与探针"));
        assert!(fm.sandboxes.is_empty());
        // No title anywhere in the front matter: the first heading.
        let t = "---\ndate: 2024-01-01\n---\n```md\n# not this\n```\n## Pod 的阶段 ##\n";
        let fm = lesson_front(&split(t, path).unwrap(), path).unwrap();
        assert_eq!(fm.title, "Pod 的阶段");
        // TOML without title, and no front matter and no heading at all.
        let t = "+++\n[sandboxes.main]\n+++\n# 标题\n";
        let fm = lesson_front(&split(t, path).unwrap(), path).unwrap();
        assert_eq!(
            (fm.id.as_str(), fm.title.as_str()),
            ("pod-lifecycle", "标题")
        );
        let fm = lesson_front(&split("正文\n", path).unwrap(), path).unwrap();
        assert_eq!(fm.title, "pod-lifecycle");
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
