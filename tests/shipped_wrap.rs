//! Every shipped Chinese lesson, laid out at many widths with every hint,
//! solution and quiz explanation open: no line is wider than the pane (a
//! wide character is never split or pushed past the edge) and no line of
//! prose starts with closing CJK punctuation (kinsoku).
//!
//! This runs over the real lesson text, so a new lesson that trips the
//! wrapper fails here with the lesson, width and line.

use kubelab::course::{self, model::Lang};
use kubelab::doc::ir::Interactive;
use kubelab::render::{render_doc, BlockStates};
use std::path::Path;
use unicode_width::UnicodeWidthStr;

/// Closing punctuation that must never start a line of Chinese text.
const NO_LINE_START: &[char] = &['，', '。', '、', '：', '；', '！', '？', '）', '」', '』'];

/// Decoration the renderer puts before prose: indentation, quote and alert
/// bars, list bullets.
fn strip_decoration(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_whitespace() || "▌▍•◦▪".contains(c))
}

/// Code and table cells are cut at the column, not wrapped like prose (see
/// QA.md): only prose lines are held to the line-start rule.
fn is_code_or_table(s: &str) -> bool {
    s.trim_start()
        .starts_with(['│', '┃', '╭', '╰', '├', '┌', '└'])
}

fn all_open(doc: &kubelab::doc::ir::Doc) -> BlockStates {
    let mut st = BlockStates::default();
    for (i, b) in doc.interactives().into_iter().enumerate() {
        match b {
            Interactive::Solution(_) => {
                st.revealed.insert(i);
            }
            Interactive::Check(c) => {
                st.hints.insert(c.id.clone());
            }
            Interactive::Quiz(q) => {
                st.quiz.insert(q.id.clone(), q.answer);
            }
            Interactive::Run(_) => {}
        }
    }
    st
}

#[test]
fn chinese_lessons_wrap_cleanly_at_every_width() {
    let c = course::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let strings = kubelab::i18n::strings(Lang::Zh);
    let mut problems = Vec::new();
    let mut lessons = 0;
    for lesson in c.lessons.iter().filter(|l| l.lang == Lang::Zh) {
        lessons += 1;
        let states = all_open(&lesson.doc);
        for width in (24..=100u16).step_by(3) {
            let r = render_doc(&lesson.doc, width, &states, strings);
            for (n, line) in r.lines.iter().enumerate() {
                let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                let w = UnicodeWidthStr::width(text.as_str());
                if w > usize::from(width) {
                    problems.push(format!(
                        "{} @{width}: line {n} is {w} columns: {text:?}",
                        lesson.front.id
                    ));
                }
                let body = strip_decoration(&text);
                if !is_code_or_table(&text) && body.starts_with(NO_LINE_START) {
                    problems.push(format!(
                        "{} @{width}: line {n} starts with closing punctuation: {text:?}",
                        lesson.front.id
                    ));
                }
            }
        }
    }
    assert!(lessons >= 2, "the zh book has lessons");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Text diagrams wrap like all code (nothing is cut), and a wrapped box
/// drawing is hard to read, so each must fit the lesson column beside the
/// panes: 43 display columns at 120×40. CJK characters count as two.
#[test]
fn every_text_diagram_fits_the_lesson_pane() {
    let c = course::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut seen = 0;
    let mut too_wide = Vec::new();
    for lesson in &c.lessons {
        kubelab::doc::ir::walk(&lesson.doc.blocks, &mut |b| {
            if let kubelab::doc::ir::Block::Code {
                lang: Some(lang),
                code,
                line,
            } = b
            {
                if lang == "text" {
                    seen += 1;
                    for (i, l) in code.lines().enumerate() {
                        let w = UnicodeWidthStr::width(l);
                        if w > 43 {
                            too_wide.push(format!(
                                "{}:{}: {w} columns: {l}",
                                lesson.path.display(),
                                *line as usize + 1 + i
                            ));
                        }
                    }
                }
            }
        });
    }
    assert!(
        seen >= 20,
        "the shipped lessons have their diagrams ({seen})"
    );
    assert!(
        too_wide.is_empty(),
        "redraw these to 43 columns:\n{}",
        too_wide.join("\n")
    );
}

/// Table cells of the shipped zh lessons: at every width where each column
/// can get its longest unbreakable run, no cell line starts with closing
/// punctuation.
#[test]
fn chinese_table_cells_wrap_cleanly() {
    let c = course::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let strings = kubelab::i18n::strings(Lang::Zh);
    let mut problems = Vec::new();
    let mut tables = 0;
    for lesson in c.lessons.iter().filter(|l| l.lang == Lang::Zh) {
        for b in &lesson.doc.blocks {
            let kubelab::doc::ir::Block::Table { header, rows, .. } = b else {
                continue;
            };
            tables += 1;
            // Below this width even whole words do not fit: the last-resort
            // regime (cells of 2 columns) is exempt.
            let mut links = Vec::new();
            let mut mins = vec![1usize; header.len()];
            for row in std::iter::once(header).chain(rows) {
                for (c, cell) in row.iter().enumerate().take(mins.len()) {
                    let p = kubelab::render::inline::pieces(cell, Default::default(), &mut links);
                    mins[c] = mins[c].max(kubelab::wrap::min_width(&p));
                }
            }
            let fits = mins.iter().sum::<usize>() + 3 * mins.len() + 1;
            let doc = kubelab::doc::ir::Doc {
                blocks: vec![b.clone()],
            };
            for width in (24..=100u16).filter(|w| usize::from(*w) >= fits) {
                let r = render_doc(&doc, width, &BlockStates::default(), strings);
                for line in &r.lines {
                    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                    for cell in text.split('│').skip(1) {
                        if cell.trim_start().starts_with(NO_LINE_START) {
                            problems.push(format!(
                                "{} line {} @{width}: {text:?}",
                                lesson.front.id,
                                b.line()
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(tables >= 1, "the zh book has tables");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
