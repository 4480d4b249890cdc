//! `[world]` in a lesson's front matter (lessons/README.md, "World labs"):
//! the table of a world file (`kubelab_sandbox::world_spec::WorldSpec`,
//! read by the same serde code, so its errors already carry the lesson's
//! line), plus what only a lesson can get wrong: a world beside
//! `[sandboxes]`, `[node]` or `[cluster]`, and Pods on its nodes.

use super::model::FrontMatter;
use crate::diagnostic::Diagnostic;
use std::path::Path;

/// The 1-based file line of the first line starting with `key`, else the
/// front matter's first line.
fn header_line(front: &str, first_line: u32, key: &str) -> u32 {
    front
        .lines()
        .position(|l| l.trim_start().starts_with(key))
        .map_or(first_line, |i| first_line + i as u32)
}

/// Checks a parsed `[world]` against the rest of the front matter.
pub fn check(
    fm: &FrontMatter,
    front: &str,
    first_line: u32,
    path: &Path,
) -> Result<(), Diagnostic> {
    let at = |line: u32, message: String| Diagnostic::error(path, line, 1, message);
    let world_line = header_line(front, first_line, "[world");
    // A two-track lesson (src/course/track.rs) keeps its cluster track in
    // the one sandbox `[cluster]` names; nothing else beside a world.
    let cluster_sandbox = fm.cluster_sandbox();
    let clash = if fm
        .sandboxes
        .keys()
        .any(|s| Some(s.as_str()) != cluster_sandbox)
    {
        Some("[sandboxes]")
    } else if fm.node.is_some() {
        Some("[node]")
    } else if fm.cluster.is_some() && cluster_sandbox.is_none() {
        Some("[cluster]")
    } else {
        None
    };
    if let Some(other) = clash {
        return Err(at(
            world_line,
            format!(
                "[world] and {other} in one lesson: a world lesson's labs run in its nodes \
                 (`node=NAME` on a block, `shell@NAME` as a pane); move the other lab to a \
                 lesson of its own (a cluster track beside a world: `sandbox = \"NAME\"` in \
                 [cluster] and that one sandbox, see \"Two-track lessons\" in lessons/README.md)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::course::front::parse;
    use std::path::Path;

    fn p() -> &'static Path {
        Path::new("l.md")
    }

    #[test]
    fn a_world_reads_with_its_defaults() {
        let t = "id = \"w\"\n[world]\nunderlay = \"10.9.0.0/24\"\n[[world.nodes]]\nname = \"a\"\n[[world.nodes]]\nname = \"b\"\n";
        let fm = parse(t, 2, p()).unwrap();
        let w = fm.world.as_ref().unwrap();
        assert_eq!(w.nodes[1].address.to_string(), "10.9.0.12");
        assert_eq!(fm.default_sandbox(), Some("a"));
        assert_eq!(fm.lab_targets(), ["a", "b"]);
    }

    #[test]
    fn errors_point_into_the_lesson_file() {
        // Front matter from file line 2: `pod_cidr` is on line 7.
        let t =
            "id = \"w\"\n[world]\n[[world.nodes]]\nname = \"a\"\npod_cidr = \"10.244.1.0/33\"\n";
        let e = parse(t, 3, p()).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("IPv4 subnet"), "{e}");
        let t = "[world]\n[[world.nodes]]\nname = \"a\"\nadress = \"1.2.3.4\"\n";
        let e = parse(t, 2, p()).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("adress"), "{e}");
    }

    #[test]
    fn a_world_beside_sandboxes_or_node_is_refused_at_its_line_pods_are_welcome() {
        let t = "[sandboxes.main]\n[world]\n[[world.nodes]]\nname = \"a\"\n";
        let e = parse(t, 2, p()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("[sandboxes]"), "{e}");
        let t = "[node]\n[world]\n[[world.nodes]]\nname = \"a\"\n";
        assert!(parse(t, 2, p()).unwrap_err().message.contains("[node]"));
        let t = "[world]\n[[world.nodes]]\nname = \"a\"\npods = true\n";
        assert!(parse(t, 2, p()).is_ok());
        // A cluster track beside the world: its one sandbox, nothing more.
        let two = "[cluster]\nsandbox = \"k8s\"\n[sandboxes.k8s]\n[world]\n[[world.nodes]]\nname = \"a\"\n";
        let fm = parse(two, 2, p()).unwrap();
        assert_eq!(fm.lab_targets(), ["a", "k8s"]);
        assert_eq!(fm.default_sandbox(), Some("a"));
        let t = format!("[sandboxes.other]\n{two}");
        assert!(parse(&t, 2, p())
            .unwrap_err()
            .message
            .contains("[sandboxes]"));
        let t = "[cluster]\n[world]\n[[world.nodes]]\nname = \"a\"\n";
        assert!(parse(t, 2, p()).unwrap_err().message.contains("[cluster]"));
    }
}
