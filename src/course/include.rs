//! mdBook's file directives — `{{#include FILE}}`, `{{#rustdoc_include
//! FILE}}` and `{{#playground FILE}}` — expanded the way mdBook does, but
//! only from files inside the course folder (symlinks resolved), bounded in
//! depth and size. The reader, lint and the mdBook preprocessor all expand
//! through here, so a directive that escapes is an error everywhere, with
//! the lesson's file and line.
//!
//! Forms (mdBook's): `FILE` (all), `FILE:N` (line N), `FILE:N:` (from N),
//! `FILE::M` (to M), `FILE:N:M`, `FILE:NAME` (between `ANCHOR: NAME` and
//! `ANCHOR_END: NAME`; anchor lines are dropped). `\{{#include …}}` is
//! shown as written, without the backslash.

use super::files::{self, FileError};
use std::path::Path;

/// Directives that read a file.
const FILE_DIRECTIVES: [&str; 3] = ["include", "rustdoc_include", "playground"];
/// Nesting of included files that include others (mdBook stops at 10 too).
pub const MAX_DEPTH: usize = 10;
/// All included text of one lesson together.
pub const MAX_INCLUDED_BYTES: u64 = 1024 * 1024;

/// A lesson's text with its directives expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    /// For each line of `text` (0-based), the 1-based line of the original
    /// text it comes from (included lines map to their directive's line).
    pub line_map: Vec<u32>,
    /// (1-based line of the original text, message) for each directive that
    /// could not be expanded (left in the text as written).
    pub errors: Vec<(u32, String)>,
}

/// Whether `text` may hold a directive (a cheap test before [`expand`]).
pub fn has_directive(text: &str) -> bool {
    text.contains("{{#") || text.contains("{{ #")
}

/// Expands the directives of `text`, the contents of `file`; included
/// files must be inside `root`.
pub fn expand(text: &str, file: &Path, root: &Path) -> Expanded {
    let mut out = Expanded::default();
    let mut budget = MAX_INCLUDED_BYTES;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let src_line = i as u32 + 1;
        let mut piece = String::new();
        match expand_line(line, file, root, 0, &mut budget, &mut piece) {
            Ok(()) => {}
            Err(e) => {
                out.errors.push((src_line, e));
                piece = line.to_string();
            }
        }
        let lines = piece.split_inclusive('\n').count().max(1);
        out.line_map.extend(std::iter::repeat_n(src_line, lines));
        out.text.push_str(&piece);
    }
    // A text ending without a newline whose last piece does: the map has
    // one entry per line `text.lines()` yields.
    out.line_map.truncate(out.text.lines().count().max(1));
    out
}

/// One `{{#NAME ARGS}}` found in a line.
struct Directive<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    args: &'a str,
    escaped: bool,
}

fn next_directive(line: &str, from: usize) -> Option<Directive<'_>> {
    let rel = line[from..].find("{{")?;
    let start = from + rel;
    let inner_start = start + 2;
    let close = line[inner_start..].find("}}")? + inner_start;
    let inner = line[inner_start..close].trim_start();
    let inner = inner.strip_prefix('#')?;
    let (name, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let escaped = start > 0 && line.as_bytes()[start - 1] == b'\\';
    Some(Directive {
        start: if escaped { start - 1 } else { start },
        end: close + 2,
        name,
        args: args.trim(),
        escaped,
    })
}

fn expand_line(
    line: &str,
    file: &Path,
    root: &Path,
    depth: usize,
    budget: &mut u64,
    out: &mut String,
) -> Result<(), String> {
    let mut pos = 0;
    let mut search = 0;
    while let Some(d) = next_directive(line, search) {
        if !FILE_DIRECTIVES.contains(&d.name) {
            search = d.end.min(line.len());
            continue;
        }
        out.push_str(&line[pos..d.start]);
        if d.escaped {
            out.push_str(&line[d.start + 1..d.end]);
        } else {
            let body = include(d.args, file, root, depth, budget)
                .map_err(|e| format!("{{{{#{} {}}}}}: {e}", d.name, d.args))?;
            out.push_str(&body);
        }
        pos = d.end;
        search = d.end;
    }
    out.push_str(&line[pos..]);
    Ok(())
}

/// The text `{{#include ARGS}}` in `file` stands for.
fn include(
    args: &str,
    file: &Path,
    root: &Path,
    depth: usize,
    budget: &mut u64,
) -> Result<String, String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "included files nest more than {MAX_DEPTH} deep; is a file including itself?"
        ));
    }
    let target = args.split_whitespace().next().unwrap_or("");
    if target.is_empty() {
        return Err("no file named; write {{#include FILE}}".into());
    }
    let (path_part, range) = split_range(target);
    if Path::new(path_part).is_absolute() {
        return Err(format!(
            "{path_part} is an absolute path; include files of the course with a path relative to the lesson"
        ));
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let wanted = dir.join(path_part);
    let real = files::confine(&wanted, root).map_err(|e| describe(&wanted, root, e))?;
    let text = files::read_text(&real, *budget).map_err(|e| match e {
        FileError::TooBig(_) => format!(
            "the included files of this lesson pass {} KiB together; include less",
            MAX_INCLUDED_BYTES >> 10
        ),
        e => format!("{} {e}", wanted.display()),
    })?;
    let picked = pick(&text, &range).map_err(|e| format!("{}: {e}", wanted.display()))?;
    *budget = budget.saturating_sub(picked.len() as u64);
    // Included files may include others, relative to themselves.
    let mut out = String::new();
    for line in picked.split_inclusive('\n') {
        expand_line(line, &real, root, depth + 1, budget, &mut out)?;
    }
    if out.len() as u64 > MAX_INCLUDED_BYTES {
        return Err(format!(
            "the included files of this lesson pass {} KiB together; include less",
            MAX_INCLUDED_BYTES >> 10
        ));
    }
    // mdBook drops the included file's final newline (the directive's own
    // line ending follows).
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

fn describe(wanted: &Path, root: &Path, e: FileError) -> String {
    match e {
        FileError::Outside(_) => format!(
            "{} is outside the course folder {}; a course may only include its own files",
            wanted.display(),
            root.display()
        ),
        e => format!("{} {e}", wanted.display()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Range {
    All,
    /// 1-based, inclusive; `None` = open end.
    Lines(Option<usize>, Option<usize>),
    Anchor(String),
}

/// `FILE:N:M` → (`FILE`, range). A colon in the file name itself is not
/// supported (mdBook does not either).
fn split_range(target: &str) -> (&str, Range) {
    let mut parts = target.splitn(3, ':');
    let path = parts.next().unwrap_or("");
    let (a, b) = (parts.next(), parts.next());
    let num = |s: &str| s.trim().parse::<usize>().ok();
    let range = match (a, b) {
        (None, _) => Range::All,
        (Some(a), None) => match num(a) {
            Some(n) => Range::Lines(Some(n), Some(n)),
            None if a.is_empty() => Range::All,
            None => Range::Anchor(a.to_string()),
        },
        (Some(a), Some(b)) => Range::Lines(num(a), num(b)),
    };
    (path, range)
}

fn pick(text: &str, range: &Range) -> Result<String, String> {
    match range {
        Range::All => Ok(strip_anchors(text.lines()).join("\n") + "\n"),
        Range::Lines(a, b) => {
            let first = a.unwrap_or(1).max(1);
            let last = b.unwrap_or(usize::MAX);
            let lines: Vec<&str> = text
                .lines()
                .enumerate()
                .filter(|(i, _)| (first..=last).contains(&(i + 1)))
                .map(|(_, l)| l)
                .collect();
            Ok(strip_anchors(lines.into_iter()).join("\n") + "\n")
        }
        Range::Anchor(name) => {
            let start = format!("ANCHOR: {name}");
            let end = format!("ANCHOR_END: {name}");
            let mut inside = false;
            let mut found = false;
            let mut lines = Vec::new();
            for l in text.lines() {
                if !inside && l.contains(&start) && anchor_named(l, "ANCHOR:", name) {
                    inside = true;
                    found = true;
                    continue;
                }
                if inside && l.contains(&end) && anchor_named(l, "ANCHOR_END:", name) {
                    inside = false;
                    continue;
                }
                if inside {
                    lines.push(l);
                }
            }
            if !found {
                return Err(format!("no `ANCHOR: {name}` line in the file"));
            }
            Ok(strip_anchors(lines.into_iter()).join("\n") + "\n")
        }
    }
}

/// Whether `line` holds `KEY NAME` with exactly that name (not a longer one).
fn anchor_named(line: &str, key: &str, name: &str) -> bool {
    line.split(key)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|n| n == name)
}

fn strip_anchors<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    lines
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn course() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let lesson = d.path().join("src/l.md");
        std::fs::create_dir_all(d.path().join("src/code")).unwrap();
        std::fs::write(
            d.path().join("src/code/a.sh"),
            "one\n# ANCHOR: mid\ntwo\nthree\n# ANCHOR_END: mid\nfour\n",
        )
        .unwrap();
        (d, lesson)
    }

    #[test]
    fn forms_and_line_map() {
        let (d, lesson) = course();
        let e = expand(
            "a\n```sh\n{{#include code/a.sh}}\n```\nb\n",
            &lesson,
            d.path(),
        );
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(e.text, "a\n```sh\none\ntwo\nthree\nfour\n```\nb\n");
        assert_eq!(e.line_map, vec![1, 2, 3, 3, 3, 3, 4, 5]);
        let one = |t: &str| expand(t, &lesson, d.path()).text;
        assert_eq!(one("{{#include code/a.sh:mid}}\n"), "two\nthree\n");
        assert_eq!(one("{{#include code/a.sh:3}}\n"), "two\n");
        assert_eq!(one("{{#include code/a.sh:3:4}}\n"), "two\nthree\n");
        assert_eq!(one("{{#include code/a.sh::1}}\n"), "one\n");
        assert_eq!(one("{{#include code/a.sh:6:}}\n"), "four\n");
        assert_eq!(
            one("x \\{{#include code/a.sh}}\n"),
            "x {{#include code/a.sh}}\n"
        );
        assert_eq!(one("{{#title T}}\n"), "{{#title T}}\n");
    }

    #[test]
    fn escapes_are_errors_with_the_line() {
        let (d, lesson) = course();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s3cret\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("src/link"))
            .unwrap();
        for bad in [
            "{{#include ../../../../../../../../etc/passwd}}",
            "{{#include /etc/passwd}}",
            "{{#include link}}",
            "{{#playground link}}",
            "{{#rustdoc_include link:1}}",
        ] {
            let e = expand(&format!("ok\n{bad}\n"), &lesson, d.path());
            assert_eq!(e.errors.len(), 1, "{bad}: {:?}", e.errors);
            assert_eq!(e.errors[0].0, 2);
            assert!(
                !e.text.contains("s3cret") && !e.text.contains("root:"),
                "{bad}"
            );
        }
    }

    #[test]
    fn self_inclusion_stops() {
        let (d, lesson) = course();
        std::fs::write(d.path().join("src/loop.md"), "{{#include loop.md}}\n").unwrap();
        let e = expand("{{#include loop.md}}\n", &lesson, d.path());
        assert_eq!(e.errors.len(), 1);
        assert!(e.errors[0].1.contains("nest"), "{:?}", e.errors);
    }
}
