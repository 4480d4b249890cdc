//! Property tests ("fuzzing" that runs in `cargo test`): the lesson parser,
//! the front matter, the SUMMARY parser, the layout and the mdBook
//! preprocessor never panic on random input built from Markdown's special
//! tokens, and their output stays bounded. A bounded number of cases keeps
//! this to a few seconds; `tests/fixtures/hostile/` keeps the inputs that
//! once broke something and is replayed on every run.

use kubelab::course::model::Lang;
use kubelab::course::{lesson, summary};
use kubelab::doc::ir::{Block, Doc, Inline};
use kubelab::doc::parse::{parse_body, MAX_BLOCK_NESTING, MAX_INLINE_NESTING};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;

/// Pieces that mean something to CommonMark, GFM, kubelab's fences, TOML
/// and terminals, glued together at random.
const TOKENS: &[&str] = &[
    "> ",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "9) ",
    "  ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "*",
    "**",
    "_",
    "__",
    "~~",
    "`",
    "``",
    "```",
    "~~~",
    "```sh run\n",
    "```sh check id=a\n",
    "```sh check id=a on=host\n",
    "```sh solution\n",
    "```toml quiz\n",
    "# title: t\n",
    "# hint: h\n",
    "[",
    "]",
    "](u)",
    "![",
    "[^1]",
    "[x]: y\n",
    "<",
    ">",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "<br>",
    "#",
    "## ",
    "| a | b |\n",
    "|---|:-:|\n",
    "---\n",
    "+++\n",
    "id = \"x\"\n",
    "title = \"t\"\n",
    "[sandboxes.main]\n",
    "rootfs = \"host\"\n",
    "\\",
    "&amp;",
    "&#0;",
    "$",
    "$$",
    "[!NOTE]\n",
    "- [ ] ",
    "- [x] ",
    "中文",
    "é",
    "\u{200b}",
    "\u{feff}",
    "\u{1b}[2J",
    "\u{1b}]52;c;aGk=\u{7}",
    "\u{9b}",
    "\0",
    "\u{7f}",
    "word ",
    "http://x.y ",
    "{{#include x}}",
];

fn token_soup(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(TOKENS).prop_map(str::to_owned),
            1 => any::<char>().prop_map(|c| c.to_string()),
        ],
        0..max,
    )
    .prop_map(|v| v.concat())
}

fn config() -> Config {
    Config {
        cases: 200,
        // Nothing written into the source tree; failures print the input.
        failure_persistence: None,
        ..Config::default()
    }
}

fn block_depth(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Quote { blocks, .. } => 1 + block_depth(blocks),
            Block::List { items, .. } => {
                1 + items
                    .iter()
                    .map(|i| block_depth(&i.blocks))
                    .max()
                    .unwrap_or(0)
            }
            Block::Paragraph { text, .. } | Block::Heading { text, .. } => {
                assert!(inline_depth(text) <= MAX_INLINE_NESTING);
                0
            }
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fn inline_depth(inlines: &[Inline]) -> usize {
    inlines
        .iter()
        .map(|i| match i {
            Inline::Emph(x) | Inline::Strong(x) | Inline::Strike(x) => 1 + inline_depth(x),
            Inline::Link { text, .. } => 1 + inline_depth(text),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// Everything the parser, layout and preprocessor do with one body; panics
/// (the property fails) on a crash or an unbounded result.
fn exercise_body(body: &str, width: u16) {
    let lines = body.split('\n').count() as u32;
    let parsed = parse_body(body, 5, Path::new("f.md"));
    let doc: &Doc = &parsed.doc;
    assert!(block_depth(&doc.blocks) <= MAX_BLOCK_NESTING);
    for d in &parsed.diagnostics {
        assert!(d.line <= lines + 5, "{d:?} past the end ({lines} lines)");
    }
    // The IR holds no more text than the input (plus markers it adds).
    let text: usize = doc.search_lines().iter().map(|(_, t)| t.len()).sum();
    assert!(
        text <= body.len() * 2 + 64,
        "{text} bytes from {}",
        body.len()
    );
    let strings = kubelab::i18n::strings(Lang::En);
    let states = kubelab::render::BlockStates::default();
    let r = kubelab::render::render_doc(doc, width, &states, strings);
    assert_eq!(r.lines.len(), r.src_lines.len());
    assert!(
        r.lines.len() <= 64 + 16 * body.len(),
        "{} lines from {} bytes",
        r.lines.len(),
        body.len()
    );
    let labels = kubelab::commands::mdbook::Labels::EN;
    let _ = kubelab::commands::mdbook::convert_chapter(body, "f.md", &labels);
}

fn exercise_lesson(text: &str) {
    let load = lesson::parse_text(text, Path::new("/c/en/src/x.md"), Lang::En);
    if let Some(l) = &load.lesson {
        exercise_body(&l.front.title, 40);
    }
    let lines = text.split('\n').count() as u32;
    for d in &load.diagnostics {
        assert!(d.line <= lines + 1, "{d:?} past the end ({lines} lines)");
    }
}

fn exercise_summary(text: &str) {
    let s = summary::parse(text, Path::new("SUMMARY.md"));
    let lines = text.split('\n').count() as u32;
    for part in &s.parts {
        for ch in &part.chapters {
            assert!(ch.summary_line >= 1 && ch.summary_line <= lines);
            assert!(ch.title.len() <= text.len());
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn lesson_bodies_never_crash(body in token_soup(300), width in 0u16..200) {
        exercise_body(&body, width);
    }

    #[test]
    fn whole_lessons_with_front_matter_never_crash(
        front in token_soup(40),
        body in token_soup(200),
    ) {
        exercise_lesson(&format!("+++\nid = \"x\"\ntitle = \"t\"\n{front}\n+++\n{body}"));
        exercise_lesson(&format!("+++\n{front}"));
    }

    #[test]
    fn summaries_never_crash(text in token_soup(300)) {
        exercise_summary(&text);
        exercise_summary(&format!("# Summary\n\n- [{text}](a.md)\n- [x]({text})\n"));
    }
}

/// The kept corpus: inputs that once crashed or stalled something.
#[test]
fn hostile_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        // On a small known stack, so a recursion on input depth fails here.
        std::thread::Builder::new()
            .name(name.clone())
            .stack_size(512 * 1024)
            .spawn({
                let text = text.into_owned();
                move || {
                    exercise_body(&text, 60);
                    exercise_lesson(&text);
                    exercise_summary(&text);
                }
            })
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{name} crashed"));
        n += 1;
    }
    assert!(n >= 8, "the corpus at {} has {n} files", dir.display());
}
