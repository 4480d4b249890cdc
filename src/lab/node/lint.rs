//! Lint for node labs: a `pods` pane needs `[node]`; the folders `[node]`
//! names are usable (inside the course, plain files, bounded); the lab's
//! sandboxes can take the node's mounts (a `mount` namespace).

use crate::course::model::{Lesson, Requirement};
use crate::diagnostic::Diagnostic;
use crate::panes::kind::PaneKind;
use kubelab_sandbox::spec::Namespace;

fn file_line(l: &Lesson, pred: impl Fn(&str) -> bool) -> u32 {
    std::fs::read_to_string(&l.path)
        .ok()
        .and_then(|t| t.lines().position(|x| pred(x.trim_start())))
        .map_or(1, |i| i as u32 + 1)
}

pub fn lint(l: &Lesson) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let pods = PaneKind::Pods.name();
    for p in &l.front.panes {
        let is_pods = p == pods || p.starts_with(&format!("{pods}@"));
        if is_pods && (p != pods || l.front.node.is_none()) {
            d.push(Diagnostic::error(
                &l.path,
                file_line(l, |x| x.starts_with("panes")),
                1,
                "pane `pods` shows the Pods of the lesson's own node: write it without `@` and \
                 add a `[node]` table (see \"Node labs\" in lessons/README.md)"
                    .to_string(),
            ));
        }
    }
    let Some(node) = &l.front.node else {
        return d;
    };
    let node_line = file_line(l, |x| x.starts_with("[node"));
    let root = crate::course::files::include_root(&l.path, None);
    if let Err(e) = crate::course::node::read_seed(&l.path, &root, node) {
        let line = std::fs::read_to_string(&l.path)
            .ok()
            .and_then(|t| {
                t.lines()
                    .enumerate()
                    .skip(node_line.saturating_sub(1) as usize)
                    .find(|(_, x)| x.contains(&e.object))
                    .map(|(i, _)| i as u32 + 1)
            })
            .unwrap_or(node_line);
        d.push(Diagnostic::error(&l.path, line, 1, e.message));
    }
    for (name, spec) in &l.front.sandboxes {
        if !spec.namespaces.contains(&Namespace::Mount) {
            d.push(Diagnostic::error(
                &l.path,
                file_line(l, |x| x.starts_with(&format!("[sandboxes.{name}]"))),
                1,
                format!(
                    "sandbox `{name}` has no `mount` namespace, but a [node] lab binds the node's \
                     folders and kubectl into every sandbox; add \"mount\" to its namespaces"
                ),
            ));
        }
    }
    if !node.devices.is_empty() && !l.front.requires.contains(&Requirement::Root) {
        d.push(Diagnostic::warning(
            &l.path,
            file_line(l, |x| x.starts_with("devices")),
            1,
            "[node] devices: a node hands out devices only as root (it must set device rules on \
             the containers' cgroups); add \"root\" to `requires`, so a rootless run skips the \
             lab and says why"
                .to_string(),
        ));
    }
    if l.front.sandboxes.is_empty() {
        d.push(Diagnostic::warning(
            &l.path,
            node_line,
            1,
            "[node] without a sandbox: nothing can run kubectl; add [sandboxes.main] and a \
             \"shell\" pane"
                .to_string(),
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;
    use std::path::Path;

    /// Errors and warnings (line, message) for a lesson file written at
    /// `dir/l.md`: parse, then this lint.
    fn findings(dir: &Path, text: &str) -> Vec<(u32, String)> {
        let path = dir.join("l.md");
        std::fs::write(&path, text).unwrap();
        let load = crate::course::lesson::parse_text(text, &path, Lang::En);
        let mut out: Vec<(u32, String)> = load
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.line, d.message.clone()))
            .collect();
        if let Some(l) = load.lesson.as_ref().or(load.partial.as_ref()) {
            out.extend(lint(l).into_iter().map(|d| (d.line, d.message)));
        }
        out
    }

    #[test]
    fn devices_without_root_are_a_warning_on_their_line() {
        let d = tempfile::tempdir().unwrap();
        let lesson = |requires: &str| {
            format!(
                "+++\nid = \"l\"\n{requires}[node]\ndevices = {{ fuse = 1 }}\n[sandboxes.main]\n+++\n# L\n"
            )
        };
        let f = findings(d.path(), &lesson(""));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 4);
        assert!(f[0].1.contains("add \"root\""), "{f:?}");
        assert_eq!(
            findings(d.path(), &lesson("requires = [\"root\"]\n")),
            vec![]
        );
        let f = findings(
            d.path(),
            "+++\nid = \"l\"\nrequires = [\"root\"]\n[node]\ndevices = { gpu = 1 }\n[sandboxes.main]\n+++\n# L\n",
        );
        assert!(
            f.iter().any(|(_, m)| m.contains("not a device kind")),
            "{f:?}"
        );
    }

    #[test]
    fn a_pods_pane_needs_node() {
        let d = tempfile::tempdir().unwrap();
        let f = findings(
            d.path(),
            "+++\nid = \"l\"\npanes = [\"shell\", \"pods\"]\n[sandboxes.main]\n+++\n# L\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 3);
        assert!(f[0].1.contains("[node]"), "{f:?}");
        let f = findings(
            d.path(),
            "+++\nid = \"l\"\npanes = [\"shell\", \"pods\"]\n[node]\n[sandboxes.main]\n+++\n# L\n",
        );
        assert_eq!(f, vec![]);
    }

    #[test]
    fn folders_outside_or_missing_are_errors_on_their_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("book")).unwrap();
        std::fs::write(d.path().join("book/book.toml"), "").unwrap();
        let text = "+++\nid = \"l\"\n[node]\nname = \"n1\"\n[node.secrets]\ndb = \"../..\"\n[sandboxes.main]\n+++\n# L\n";
        let f = findings(&d.path().join("book"), text);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 6, "{f:?}");
        assert!(f[0].1.contains("outside the course"), "{f:?}");
    }

    #[test]
    fn bad_front_values_and_sandboxes_without_mounts() {
        let d = tempfile::tempdir().unwrap();
        let f = findings(
            d.path(),
            "+++\nid = \"l\"\n[node]\nbackoff_divisor = 1000\n[sandboxes.main]\n+++\n# L\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 4, "{f:?}");
        let f = findings(
            d.path(),
            "+++\nid = \"l\"\n[node]\n[sandboxes.main]\nnamespaces = [\"pid\", \"user\"]\n+++\n# L\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, 4, "{f:?}");
        assert!(f[0].1.contains("mount"), "{f:?}");
    }
}
