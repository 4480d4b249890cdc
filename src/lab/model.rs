//! A lesson's lab, as the runner sees it: its `##` steps, each with the
//! checks, solutions and run blocks written under it.

use crate::course::model::{FrontMatter, Lesson};
use crate::doc::ir::{walk, Block, CheckBlock, Doc, Interactive, RunBlock, SolutionBlock};
use std::collections::HashSet;

/// One `##` section of a lesson.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// The `##` heading text (the lesson title for blocks before the first `##`).
    pub title: String,
    pub checks: Vec<CheckBlock>,
    pub solutions: Vec<SolutionBlock>,
    pub runs: Vec<RunBlock>,
}

impl Step {
    fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.solutions.is_empty() && self.runs.is_empty()
    }
}

/// The steps of a lesson that hold interactive blocks, in document order.
pub fn steps(lesson: &Lesson) -> Vec<Step> {
    let mut out = Vec::new();
    let mut cur = Step {
        title: lesson.front.title.clone(),
        ..Step::default()
    };
    for block in &lesson.doc.blocks {
        if let Block::Heading { level: 2, text, .. } = block {
            let next = Step {
                title: crate::doc::ir::plain_text(text),
                ..Step::default()
            };
            let done = std::mem::replace(&mut cur, next);
            if !done.is_empty() {
                out.push(done);
            }
            continue;
        }
        walk(std::slice::from_ref(block), &mut |b| {
            if let Block::Interactive(i) = b {
                match i {
                    Interactive::Check(c) => cur.checks.push(c.clone()),
                    Interactive::Solution(s) => cur.solutions.push(s.clone()),
                    Interactive::Run(r) => cur.runs.push(r.clone()),
                    Interactive::Quiz(_) => {}
                }
            }
        });
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a lesson has a lab at all (sandboxes, `[world]` or `[cluster]`, and at
/// least one check).
pub fn has_lab(lesson: &Lesson) -> bool {
    (!lesson.front.lab_targets().is_empty() || lesson.front.cluster.is_some())
        && !lesson.doc.checks().is_empty()
}

/// The sandbox a block runs in: the one it names, else the lesson's default.
pub fn sandbox_for<'a>(front: &'a FrontMatter, named: Option<&'a str>) -> Option<&'a str> {
    named.or_else(|| front.default_sandbox())
}

/// The checks of the steps on screen: every `##` section (and the text
/// before the first `##`) that overlaps the source lines `first..=last`.
/// A section runs from its heading to the line before the next `##`.
pub fn visible_checks(doc: &Doc, first: u32, last: u32) -> HashSet<String> {
    let starts: Vec<u32> = doc
        .steps()
        .iter()
        .map(|&(i, _)| doc.blocks[i].line())
        .collect();
    // Step k (0 = before the first `##`) covers [bounds[k], bounds[k+1]).
    let step_of = |line: u32| starts.iter().take_while(|&&s| s <= line).count();
    let (lo, hi) = (step_of(first.min(last)), step_of(first.max(last)));
    doc.checks()
        .into_iter()
        .filter(|c| (lo..=hi).contains(&step_of(c.line)))
        .map(|c| c.id.clone())
        .collect()
}

/// The `##` heading of the step that source line `line` is in (`None`
/// before the first `##`).
pub fn step_at(doc: &Doc, line: u32) -> Option<String> {
    doc.steps()
        .into_iter()
        .take_while(|&(i, _)| doc.blocks[i].line() <= line)
        .last()
        .map(|(_, title)| title)
}

#[cfg(test)]
mod tests {
    use super::{step_at, visible_checks};
    use std::path::Path;

    const BODY: &str = "# T\n\n```sh check id=intro\ntrue\n```\n\n## One\n\ntext\n\n```sh check id=a\ntrue\n```\n\n## Two\n\n```sh check id=b\ntrue\n```\n\nmore\n";

    fn ids(first: u32, last: u32) -> Vec<String> {
        let doc = crate::doc::parse::parse_body(BODY, 1, Path::new("t.md")).doc;
        let mut v: Vec<String> = visible_checks(&doc, first, last).into_iter().collect();
        v.sort();
        v
    }

    #[test]
    fn the_steps_on_screen_pick_the_checks() {
        // Lines: `## One` is line 7, `## Two` line 15.
        assert_eq!(ids(1, 5), ["intro"]);
        assert_eq!(ids(7, 9), ["a"]);
        assert_eq!(ids(9, 16), ["a", "b"]);
        assert_eq!(ids(15, 21), ["b"]);
        assert_eq!(ids(1, 100), ["a", "b", "intro"]);
    }

    #[test]
    fn a_line_belongs_to_the_step_whose_heading_is_above_it() {
        let doc = crate::doc::parse::parse_body(BODY, 1, Path::new("t.md")).doc;
        assert_eq!(step_at(&doc, 3), None);
        assert_eq!(step_at(&doc, 7).as_deref(), Some("One"));
        assert_eq!(step_at(&doc, 14).as_deref(), Some("One"));
        assert_eq!(step_at(&doc, 15).as_deref(), Some("Two"));
        assert_eq!(step_at(&doc, 99).as_deref(), Some("Two"));
    }

    #[test]
    fn a_cluster_lab_needs_no_sandbox() {
        let text = "+++\nid = \"deploy\"\ntitle = \"Deployments\"\n[cluster]\nresources = [\"deployments.apps\"]\n+++\n# Deployments\n\n```toml check id=rolled kind=cluster\nobject = \"deployment/web\"\nrollout = \"complete\"\n```\n";
        let l = crate::course::lesson::parse_text(
            text,
            Path::new("deploy.md"),
            crate::locale::Lang::En,
        )
        .lesson
        .unwrap();
        assert!(super::has_lab(&l), "a cluster lab needs no sandbox");
    }
}
