//! YAML front matter between `---` lines, as Hugo, Jekyll and VitePress
//! write it. Only `id`, `title` and `description` are read (the rest —
//! dates, tags, weights — belongs to those tools and is ignored); labs
//! need kubelab's TOML front matter.
//!
//! Read from parser events, never built into a document: aliases are not
//! expanded (no "billion laughs"), and nesting is bounded.

use crate::diagnostic::Diagnostic;
use std::path::Path;
use yaml_rust2::parser::{Event, Parser};

/// Deeper nesting than this is refused (front matter is a flat mapping).
const MAX_DEPTH: usize = 32;
/// More events than this is refused: front matter is a few lines.
const MAX_EVENTS: usize = 10_000;

/// The keys kubelab takes from YAML front matter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct YamlFront {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// Parses YAML front matter that starts at file line `first_line`.
pub fn parse(front: &str, first_line: u32, path: &Path) -> Result<YamlFront, Diagnostic> {
    let at = |line: usize, col: usize, msg: String| {
        Diagnostic::error(
            path,
            first_line + line.saturating_sub(1) as u32,
            col as u32 + 1,
            msg,
        )
    };
    let mut parser = Parser::new_from_str(front);
    let mut out = YamlFront::default();
    let mut depth = 0usize;
    // At depth 1 (the top mapping), scalars alternate key, value.
    let mut key: Option<String> = None;
    for _ in 0..MAX_EVENTS {
        let (event, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            at(
                m.line(),
                m.col(),
                format!("front matter (YAML): {}", e.info()),
            )
        })?;
        match event {
            Event::StreamEnd => return Ok(out),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if depth == 1 {
                    key = None; // a nested value: not one of ours
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(at(
                        mark.line(),
                        mark.col(),
                        format!("front matter (YAML) nests deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            Event::Scalar(value, ..) if depth == 1 => match key.take() {
                None => key = Some(value),
                Some(k) => {
                    let slot = match k.as_str() {
                        "id" => &mut out.id,
                        "title" => &mut out.title,
                        "description" => &mut out.description,
                        _ => continue,
                    };
                    // YAML escapes (`"\e"`) can carry control characters.
                    let value: String = value.chars().filter(|c| !c.is_control()).collect();
                    *slot = Some(value.trim().to_string()).filter(|v| !v.is_empty());
                }
            },
            Event::Alias(_) if depth == 1 => key = None,
            _ => {}
        }
    }
    Err(at(
        1,
        0,
        "front matter (YAML) is too long; keep it to a few keys".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("l.md")
    }

    #[test]
    fn hugo_front_matter() {
        let y = "title: \"Pod 生命周期\"\ndescription: >\n  Pod 的阶段\nweight: 30\ntags: [k8s, pod]\nmenu:\n  main:\n    title: nested\n";
        let f = parse(y, 2, p()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Pod 生命周期"));
        assert_eq!(f.description.as_deref(), Some("Pod 的阶段"));
        assert_eq!(f.id, None);
        let f = parse("title: \"a\\e[2Jb\\x07\"\n", 2, p()).unwrap();
        assert_eq!(f.title.as_deref(), Some("a[2Jb"));
    }

    #[test]
    fn syntax_error_points_into_the_file() {
        let e = parse("title: a\n  bad: [\n", 2, p()).unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(e.message.contains("YAML"), "{e}");
    }

    #[test]
    fn aliases_are_not_expanded() {
        // A "billion laughs": expanding it would need gigabytes.
        let mut y = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("a{}", i - 1)
            };
            y.push_str(&format!(
                "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        y.push_str("title: *a8\n");
        let f = parse(&y, 2, p()).unwrap();
        assert_eq!(f.title, None);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let y = format!("x: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&y, 2, p()).is_err());
    }
}
