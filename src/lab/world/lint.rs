//! Lint for world labs: `node=` only in a lesson with `[world]`, naming
//! one of its nodes; no `sandbox=` or `needs=limits` there (a node is no
//! container); panes naming nodes, of the kinds a node can show.

use crate::course::model::Lesson;
use crate::diagnostic::Diagnostic;
use crate::doc::ir::Interactive;
use crate::panes::kind::{PaneKind, PaneRef};

/// The panes a node can show: its shell, namespaces and network.
const NODE_PANES: [PaneKind; 3] = [PaneKind::Shell, PaneKind::Namespaces, PaneKind::Network];

fn front_line(l: &Lesson, prefix: &str) -> u32 {
    std::fs::read_to_string(&l.path)
        .ok()
        .and_then(|t| t.lines().position(|x| x.trim_start().starts_with(prefix)))
        .map_or(1, |i| i as u32 + 1)
}

pub fn lint(l: &Lesson) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let path = &l.path;
    let nodes = l.front.lab_targets();
    let world = l.front.world.as_ref();
    for i in l.doc.interactives() {
        let (node, sandbox, needs, what) = match i {
            Interactive::Run(r) => (
                r.node.as_deref(),
                r.sandbox.as_deref(),
                r.needs_limits,
                "run block",
            ),
            Interactive::Solution(s) => (
                s.node.as_deref(),
                s.sandbox.as_deref(),
                s.needs_limits,
                "solution",
            ),
            Interactive::Check(c) => (
                c.node.as_deref(),
                c.sandbox.as_deref(),
                c.needs_limits,
                "check",
            ),
            Interactive::Quiz(_) => continue,
        };
        let line = i.line();
        let mut err = |m: String| d.push(Diagnostic::error(path, line, 1, m));
        match (node, world) {
            (Some(n), None) => err(format!(
                "{what} names node `{n}`, but the lesson has no [world]; add a [world] table \
                 with [[world.nodes]] (see \"World labs\" in lessons/README.md) or drop node="
            )),
            (Some(n), Some(_)) if !nodes.contains(&n) => err(format!(
                "{what} names node `{n}`, which [world] does not declare (its nodes: {})",
                nodes.join(", ")
            )),
            _ => {}
        }
        if world.is_none() {
            continue;
        }
        if let Some(s) = sandbox {
            err(format!(
                "{what} names sandbox `{s}`, but a world lesson has nodes, not sandboxes; \
                 write node=NAME (its nodes: {})",
                nodes.join(", ")
            ));
        }
        if needs {
            err(format!(
                "{what} has needs=limits, but a world's node has no cgroup limits; drop it"
            ));
        }
    }
    if world.is_none() {
        return d;
    }
    let pane_line = front_line(l, "panes");
    for p in &l.front.panes {
        let Ok(r) = p.parse::<PaneRef>() else {
            continue; // an unknown kind: reported by the lesson lint
        };
        if !NODE_PANES.contains(&r.kind) {
            let kinds: Vec<&str> = NODE_PANES.iter().map(|k| k.name()).collect();
            d.push(Diagnostic::error(
                path,
                pane_line,
                1,
                format!(
                    "pane `{p}`: a world's node is a network namespace, not a container; its \
                     panes are {}",
                    kinds.join(", ")
                ),
            ));
        }
        if let Some(s) = r.sandbox.as_deref().filter(|s| !nodes.contains(s)) {
            d.push(Diagnostic::error(
                path,
                pane_line,
                1,
                format!(
                    "pane `{p}` names node `{s}`, which [world] does not declare (its nodes: {})",
                    nodes.join(", ")
                ),
            ));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;

    fn lesson(dir: &std::path::Path, text: &str) -> Lesson {
        let path = dir.join("l.md");
        std::fs::write(&path, text).unwrap();
        crate::course::lesson::parse_text(text, &path, Lang::En)
            .lesson
            .expect("the lesson parses")
    }

    const WORLD: &str =
        "[world]\n[[world.nodes]]\nname = \"node1\"\n[[world.nodes]]\nname = \"node2\"\n";

    #[test]
    fn node_names_are_checked_against_the_world() {
        let d = tempfile::tempdir().unwrap();
        let text = format!(
            "+++\npanes = [\"shell@node1\", \"network@node3\", \"cgroup\"]\n{WORLD}+++\n# L\n\n## S\n\n\
             ```sh run node=node2\nip a\n```\n\n```sh check id=a node=node9\n# hint: h\ntrue\n```\n\n\
             ```sh check id=b sandbox=main\n# hint: h\ntrue\n```\n"
        );
        let l = lesson(d.path(), &text);
        let msgs: Vec<String> = lint(&l)
            .into_iter()
            .map(|x| format!("{}: {}", x.line, x.message))
            .collect();
        let all = msgs.join("\n");
        assert!(
            all.contains("node `node9`, which [world] does not declare"),
            "{all}"
        );
        assert!(
            all.contains("pane `network@node3` names node `node3`"),
            "{all}"
        );
        assert!(all.contains("pane `cgroup`: a world's node"), "{all}");
        assert!(
            all.contains("names sandbox `main`, but a world lesson"),
            "{all}"
        );
        assert!(!all.contains("`node2`"), "{all}");
    }

    #[test]
    fn node_without_a_world_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let text = "+++\n[sandboxes.main]\n+++\n# L\n\n## S\n\n```sh run node=node1\nip a\n```\n";
        let l = lesson(d.path(), text);
        let all: Vec<String> = lint(&l).into_iter().map(|x| x.message).collect();
        assert!(all.iter().any(|m| m.contains("has no [world]")), "{all:?}");
    }
}
