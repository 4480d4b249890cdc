//! The plan's [`CgroupNode`]s as the sandbox engine's cgroup levels.

use crate::cgroup_plan::{CgroupNode, WeightFormula};
use kubelab_sandbox::cgroup::Cgroup;
use kubelab_sandbox::pod::cgroups::{create_path, Level};
use std::io;

/// A path segment must be a plain name (the plan checks UIDs and container
/// names; this guards the node's own segments too).
pub(super) fn check_segment(s: &str) -> io::Result<()> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cgroup path segment {s:?}: use letters, digits, -, _ and ."),
        ))
    }
}

/// `root` + `path`, each level with the files of the node whose path it is.
pub(super) fn levels(
    root: &[String],
    path: &[String],
    nodes: &[&CgroupNode],
    formula: WeightFormula,
) -> io::Result<Vec<Level>> {
    let mut out: Vec<Level> = Vec::new();
    for s in root {
        check_segment(s)?;
        out.push(Level {
            name: s.clone(),
            ..Level::default()
        });
    }
    for (i, s) in path.iter().enumerate() {
        check_segment(s)?;
        let prefix = &path[..=i];
        let node = nodes.iter().find(|n| n.path == prefix);
        let own = |v: Vec<(&'static str, String)>| {
            v.into_iter().map(|(f, x)| (f.to_string(), x)).collect()
        };
        out.push(Level {
            name: s.clone(),
            v1_files: node.map(|n| own(n.limits.v1_files())).unwrap_or_default(),
            v2_files: node
                .map(|n| own(n.limits.v2_files(formula)))
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

pub(super) fn create(levels: &[Level], version: Option<u8>) -> io::Result<Cgroup> {
    create_path(levels, version)
}
