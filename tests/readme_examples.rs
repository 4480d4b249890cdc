//! The examples in lessons/README.md must be valid: authors copy them.

use kubelab::course::front;
use kubelab::doc::parse_body;
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons/README.md"))
        .unwrap()
}

/// Contents of code blocks opened with `open` (e.g. "````markdown").
fn blocks(text: &str, open: &str, close: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim_start() == open => cur = Some(String::new()),
            Some(b) if line.trim_start() == close => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn interactive_block_examples_parse_cleanly() {
    let examples = blocks(&readme(), "````markdown", "````");
    assert!(examples.len() >= 5, "found {}", examples.len());
    let mut kinds = 0;
    for ex in &examples {
        let p = parse_body(ex, 1, Path::new("README.md"));
        assert!(p.diagnostics.is_empty(), "{ex}\n{:?}", p.diagnostics);
        kinds += p.doc.interactives().len();
    }
    assert!(kinds >= 5);
}

#[test]
fn front_matter_examples_parse() {
    let text = readme();
    let tomls = blocks(&text, "```toml", "```");
    let mut sandboxes = 0;
    for t in tomls.iter().filter(|t| t.contains("[sandboxes.")) {
        let fm = front::parse(
            &format!("id = \"x\"\ntitle = \"x\"\n{t}"),
            1,
            Path::new("README.md"),
        )
        .unwrap_or_else(|e| panic!("{t}\n{e}"));
        sandboxes += fm.sandboxes.len();
    }
    assert!(sandboxes >= 2);
    // The whole-lesson example in section 2.
    let lesson = blocks(&text, "```markdown", "```")
        .into_iter()
        .find(|b| b.starts_with("+++"))
        .expect("a lesson example");
    let s = front::split(&lesson, Path::new("05-process.md")).unwrap();
    let fm = front::parse(s.front, s.front_line, Path::new("05-process.md")).unwrap();
    assert_eq!(fm.id, "05-process");
}
