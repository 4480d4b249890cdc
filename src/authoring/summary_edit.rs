//! Adding a lesson to a book's `SUMMARY.md` by editing its text, so the
//! author's comments, blank lines and entry style survive.
//!
//! Where the entry goes:
//! 1. a draft entry (`- [Title]()`) with the same title is filled in;
//! 2. otherwise, when the SUMMARY follows the outline numbering (entry number
//!    N is lesson `NN-...`), the draft in slot NN is filled in;
//! 3. otherwise it is inserted in `--part`, or in the module whose entries'
//!    `NN-` numbers surround the new id's number, after its last smaller one;
//! 4. with no numbers to go by, at the end of the last module.

/// One `- [Title](path)` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    line: usize,
    indent: String,
    title: String,
    path: Option<String>,
    part: usize,
}

impl Entry {
    fn id(&self) -> Option<&str> {
        let path = self.path.as_deref()?;
        let file = path.rsplit('/').next()?;
        Some(file.strip_suffix(".md").unwrap_or(file))
    }
}

/// A `# Module` header (the first `#` heading is the book title, not a module).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartHeader {
    line: usize,
    title: String,
}

struct Summary<'a> {
    lines: Vec<&'a str>,
    parts: Vec<PartHeader>,
    entries: Vec<Entry>,
}

fn parse(text: &str) -> Summary<'_> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parts = Vec::new();
    let mut entries = Vec::new();
    let mut seen_title = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(h) = trimmed.strip_prefix("# ") {
            if seen_title {
                parts.push(PartHeader {
                    line: i,
                    title: h.trim().to_owned(),
                });
            }
            seen_title = true;
            continue;
        }
        let rest = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "));
        let Some(rest) = rest else { continue };
        if let Some((title, path)) = parse_link(rest) {
            entries.push(Entry {
                line: i,
                indent: line[..line.len() - trimmed.len()].to_owned(),
                title,
                path,
                part: parts.len().saturating_sub(1),
            });
        }
    }
    Summary {
        lines,
        parts,
        entries,
    }
}

/// `[Title](path)` → (title, path or None for a draft).
fn parse_link(s: &str) -> Option<(String, Option<String>)> {
    let s = s.strip_prefix('[')?;
    let mut depth = 0usize;
    let mut close = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => depth += 1,
            ']' if depth == 0 => {
                close = Some(i);
                break;
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    let close = close?;
    let title = s[..close].replace("\\[", "[").replace("\\]", "]");
    let rest = s[close + 1..]
        .trim_end()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let path = rest.trim();
    Some((
        title.trim().to_owned(),
        (!path.is_empty()).then(|| path.to_owned()),
    ))
}

/// The `NN` of an `NN-slug` id.
pub fn lesson_number(id: &str) -> Option<u32> {
    let (num, rest) = id.split_once('-')?;
    if rest.is_empty() || num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse().ok()
}

/// What [`add_entry`] did, for the message printed to the author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The SUMMARY already links this lesson's file; left unchanged.
    AlreadyListed { line: usize },
    /// A draft entry was filled in.
    ReplacedDraft { line: usize, old_title: String },
    /// A new entry was inserted in an existing module.
    Inserted { line: usize, part: Option<String> },
    /// A new `# Module` was added at the end with the entry.
    NewPart { line: usize, part: String },
}

/// Returns the new SUMMARY text and where the entry went (1-based lines).
pub fn add_entry(text: &str, id: &str, title: &str, part: Option<&str>) -> (String, Placement) {
    let s = parse(text);
    let file = format!("{id}.md");
    let entry_line = |indent: &str| format!("{indent}- [{}]({file})", escape_title(title));

    if let Some(e) = s.entries.iter().find(|e| e.id() == Some(id)) {
        return (
            text.to_owned(),
            Placement::AlreadyListed { line: e.line + 1 },
        );
    }
    let wanted_part = part.map(|p| {
        s.parts
            .iter()
            .position(|h| h.title.eq_ignore_ascii_case(p.trim()))
    });
    let in_wanted = |e: &Entry| match wanted_part {
        None => true,
        Some(Some(p)) => e.part == p,
        Some(None) => false,
    };

    // 1. A draft with the same title.
    let same_title = s
        .entries
        .iter()
        .find(|e| e.path.is_none() && in_wanted(e) && normalize(&e.title) == normalize(title));
    // 2. The draft in this lesson's numbered slot.
    let numbers = effective_numbers(&s.entries);
    let slot = lesson_number(id).and_then(|n| {
        s.entries
            .iter()
            .zip(&numbers)
            .find(|(e, num)| **num == Some(n) && e.path.is_none() && in_wanted(e))
            .map(|(e, _)| e)
    });
    if let Some(e) = same_title.or(slot) {
        let mut lines: Vec<String> = s.lines.iter().map(|l| l.to_string()).collect();
        lines[e.line] = entry_line(&e.indent);
        return (
            join(lines, text),
            Placement::ReplacedDraft {
                line: e.line + 1,
                old_title: e.title.clone(),
            },
        );
    }

    // 3./4. Insert in a module.
    let target_part = match wanted_part {
        Some(Some(p)) => Some(p),
        Some(None) => None,
        None => lesson_number(id)
            .and_then(|n| part_for_number(&s, &numbers, n))
            .or_else(|| s.parts.len().checked_sub(1)),
    };
    let mut lines: Vec<String> = s.lines.iter().map(|l| l.to_string()).collect();
    match (target_part, part) {
        (None, Some(new_part)) => {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            lines.push(String::new());
            lines.push(format!("# {}", new_part.trim()));
            lines.push(String::new());
            lines.push(entry_line(""));
            let line = lines.len();
            (
                join(lines, "\n"),
                Placement::NewPart {
                    line,
                    part: new_part.trim().to_owned(),
                },
            )
        }
        (target, _) => {
            let part_entries: Vec<(usize, &Entry)> = s
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| target.is_none_or(|p| e.part == p && !s.parts.is_empty()))
                .collect();
            // Before the first entry numbered above ours, else after the last.
            let n = lesson_number(id);
            let anchor = n
                .and_then(|n| {
                    part_entries
                        .iter()
                        .find(|(i, _)| numbers[*i].is_some_and(|m| m > n))
                        .map(|(_, e)| (e.line, false))
                })
                .or_else(|| part_entries.last().map(|(_, e)| (e.line, true)));
            let (at, indent) = match anchor {
                Some((line, after)) => {
                    let indent = s
                        .entries
                        .iter()
                        .find(|e| e.line == line)
                        .map(|e| e.indent.clone());
                    (
                        if after { line + 1 } else { line },
                        indent.unwrap_or_default(),
                    )
                }
                None => match target.and_then(|p| s.parts.get(p)) {
                    // An empty module: right under its header.
                    Some(h) => {
                        lines.insert(h.line + 1, String::new());
                        (h.line + 2, String::new())
                    }
                    None => {
                        while lines.last().is_some_and(|l| l.trim().is_empty()) {
                            lines.pop();
                        }
                        lines.push(String::new());
                        (lines.len(), String::new())
                    }
                },
            };
            lines.insert(at, entry_line(&indent));
            (
                join(lines, text),
                Placement::Inserted {
                    line: at + 1,
                    part: target.and_then(|p| s.parts.get(p)).map(|h| h.title.clone()),
                },
            )
        }
    }
}

/// The 0-based entry index (counting `- [..](..)` lines) of the entry on
/// 1-based `line`.
pub fn entry_index_at_line(text: &str, line: usize) -> Option<usize> {
    parse(text).entries.iter().position(|e| e.line + 1 == line)
}

/// Fills in the draft that is entry `index`, if that entry is a draft,
/// keeping the draft's own title (for the other language's book, whose
/// outline is already translated). Returns the new text, the placement and
/// the title used.
pub fn fill_draft_at(text: &str, index: usize, id: &str) -> Option<(String, Placement, String)> {
    let s = parse(text);
    let e = s.entries.get(index).filter(|e| e.path.is_none())?;
    let mut lines: Vec<String> = s.lines.iter().map(|l| l.to_string()).collect();
    lines[e.line] = format!("{}- [{}]({id}.md)", e.indent, escape_title(&e.title));
    Some((
        join(lines, text),
        Placement::ReplacedDraft {
            line: e.line + 1,
            old_title: e.title.clone(),
        },
        e.title.clone(),
    ))
}

/// Each entry's lesson number: from its `NN-` id, or, for drafts, from its
/// position when the SUMMARY is numbered positionally (every written `NN-`
/// lesson sits at entry index NN, as the course outline is laid out).
fn effective_numbers(entries: &[Entry]) -> Vec<Option<u32>> {
    let own: Vec<Option<u32>> = entries
        .iter()
        .map(|e| e.id().and_then(lesson_number))
        .collect();
    let positional = own
        .iter()
        .enumerate()
        .all(|(i, n)| n.is_none_or(|n| n as usize == i));
    let any_numbered = own.iter().any(Option::is_some);
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| match own[i] {
            Some(n) => Some(n),
            None if positional && any_numbered && e.path.is_none() => u32::try_from(i).ok(),
            None => None,
        })
        .collect()
}

/// The module whose numbered entries surround `n`; else the one holding the
/// largest number below `n`; else the one holding the smallest above it.
fn part_for_number(s: &Summary<'_>, numbers: &[Option<u32>], n: u32) -> Option<usize> {
    let mut ranges: Vec<(usize, u32, u32)> = Vec::new();
    for (e, num) in s.entries.iter().zip(numbers) {
        let Some(num) = *num else { continue };
        match ranges.iter_mut().find(|(p, _, _)| *p == e.part) {
            Some(r) => {
                r.1 = r.1.min(num);
                r.2 = r.2.max(num);
            }
            None => ranges.push((e.part, num, num)),
        }
    }
    ranges
        .iter()
        .find(|(_, lo, hi)| *lo <= n && n <= *hi)
        .or_else(|| {
            ranges
                .iter()
                .filter(|(_, _, hi)| *hi < n)
                .max_by_key(|r| r.2)
        })
        .or_else(|| {
            ranges
                .iter()
                .filter(|(_, lo, _)| *lo > n)
                .min_by_key(|r| r.1)
        })
        .map(|r| r.0)
}

fn normalize(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn escape_title(title: &str) -> String {
    title.replace('[', "\\[").replace(']', "\\]")
}

/// Rejoins lines, keeping the original's trailing newline.
fn join(lines: Vec<String>, original: &str) -> String {
    let mut out = lines.join("\n");
    if original.ends_with('\n') || original == "\n" {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTLINE: &str = "# Summary\n\n# Before you start\n\n- [Opening](00-opening.md)\n- [Whale 1]()\n- [Whale 2]()\n\n# Containers\n\n- [Start from a process](03-process.md)\n- [Isolation and limits]()\n- [Images]()\n";

    #[test]
    fn numbers() {
        assert_eq!(lesson_number("05-process"), Some(5));
        assert_eq!(lesson_number("extra-2019"), None);
        assert_eq!(lesson_number("05-"), None);
    }

    #[test]
    fn draft_with_same_title_is_filled_in() {
        let (out, how) = add_entry(OUTLINE, "ab-images", "Images", None);
        assert!(out.contains("- [Images](ab-images.md)\n"), "{out}");
        assert!(!out.contains("- [Images]()"), "{out}");
        assert_eq!(
            how,
            Placement::ReplacedDraft {
                line: 13,
                old_title: "Images".into()
            }
        );
    }

    #[test]
    fn numbered_slot_draft_is_filled_in() {
        let (out, how) = add_entry(OUTLINE, "04-isolation", "Namespaces and cgroups", None);
        assert!(
            out.contains("- [Namespaces and cgroups](04-isolation.md)\n- [Images]()"),
            "{out}"
        );
        assert!(
            matches!(how, Placement::ReplacedDraft { line: 12, .. }),
            "{how:?}"
        );
    }

    #[test]
    fn inserted_in_module_by_number_when_not_positional() {
        let text = "# Summary\n\n# A\n\n- [One](01-one.md)\n- [Three](03-three.md)\n\n# B\n\n- [Ten](10-ten.md)\n";
        let (out, how) = add_entry(text, "02-two", "Two", None);
        assert_eq!(
            out,
            "# Summary\n\n# A\n\n- [One](01-one.md)\n- [Two](02-two.md)\n- [Three](03-three.md)\n\n# B\n\n- [Ten](10-ten.md)\n"
        );
        assert_eq!(
            how,
            Placement::Inserted {
                line: 6,
                part: Some("A".into())
            }
        );
        let (out, _) = add_entry(text, "12-twelve", "Twelve", None);
        assert!(
            out.ends_with("- [Ten](10-ten.md)\n- [Twelve](12-twelve.md)\n"),
            "{out}"
        );
        let (out, _) = add_entry(text, "00-zero", "Zero", None);
        assert!(
            out.contains("# A\n\n- [Zero](00-zero.md)\n- [One](01-one.md)"),
            "{out}"
        );
    }

    #[test]
    fn explicit_part_and_new_part() {
        let (out, how) = add_entry(
            OUTLINE,
            "extra-lab",
            "Extra [lab]",
            Some("before you start"),
        );
        assert!(
            out.contains("- [Whale 2]()\n- [Extra \\[lab\\]](extra-lab.md)\n\n# Containers"),
            "{out}"
        );
        assert!(matches!(how, Placement::Inserted { .. }));
        let (out, how) = add_entry(OUTLINE, "extra-lab", "Extra lab", Some("Class extras"));
        assert!(
            out.ends_with("- [Images]()\n\n# Class extras\n\n- [Extra lab](extra-lab.md)\n"),
            "{out}"
        );
        assert_eq!(
            how,
            Placement::NewPart {
                line: 17,
                part: "Class extras".into()
            }
        );
        // The parsed result has the title back unescaped.
        let s = parse(&out);
        assert!(s.entries.iter().any(|e| e.title == "Extra lab"));
    }

    #[test]
    fn fill_the_same_slot_in_another_book() {
        let (out, how) = add_entry(OUTLINE, "04-isolation", "X", None);
        let Placement::ReplacedDraft { line, .. } = how else {
            panic!()
        };
        let idx = entry_index_at_line(&out, line).unwrap();
        assert_eq!(idx, 4);
        let zh = OUTLINE.replace("Isolation and limits", "隔离与限制");
        let (text, _, title) = fill_draft_at(&zh, idx, "04-isolation").unwrap();
        assert_eq!(title, "隔离与限制");
        assert!(text.contains("- [隔离与限制](04-isolation.md)\n"), "{text}");
        assert!(
            fill_draft_at(&zh, 0, "x").is_none(),
            "entry 0 is not a draft"
        );
    }

    #[test]
    fn already_listed_is_left_alone() {
        let (out, how) = add_entry(OUTLINE, "03-process", "whatever", None);
        assert_eq!(out, OUTLINE);
        assert_eq!(how, Placement::AlreadyListed { line: 11 });
    }

    #[test]
    fn unnumbered_id_goes_to_the_last_module() {
        let (out, _) = add_entry(OUTLINE, "extra-x", "X", None);
        assert!(out.ends_with("- [Images]()\n- [X](extra-x.md)\n"), "{out}");
        let (out, _) = add_entry("# Summary\n", "intro", "Intro", None);
        assert_eq!(out, "# Summary\n\n- [Intro](intro.md)\n");
    }
}
