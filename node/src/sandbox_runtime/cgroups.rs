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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup_plan::CgroupLimits;

    fn node(path: &[&str], shares: u64) -> CgroupNode {
        CgroupNode {
            path: path.iter().map(|s| s.to_string()).collect(),
            limits: CgroupLimits {
                cpu_shares: Some(shares),
                ..CgroupLimits::default()
            },
            oom_score_adj: None,
        }
    }

    #[test]
    fn each_level_gets_the_files_of_its_own_node() {
        let tier = node(&["kubepods", "burstable"], 102);
        let pod = node(&["kubepods", "burstable", "podU"], 256);
        let root = vec!["node-a".to_string()];
        let l = levels(&root, &pod.path, &[&tier, &pod], WeightFormula::Linear).unwrap();
        let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["node-a", "kubepods", "burstable", "podU"]);
        let shares = |i: usize| l[i].v1_files.clone();
        assert!(shares(0).is_empty() && shares(1).is_empty());
        assert_eq!(shares(2), [("cpu.shares".to_string(), "102".to_string())]);
        assert_eq!(shares(3), [("cpu.shares".to_string(), "256".to_string())]);
        assert_eq!(
            l[3].v2_files,
            [("cpu.weight".to_string(), "10".to_string())]
        );
    }

    #[test]
    fn a_segment_cannot_leave_its_parent() {
        for bad in ["..", ".", "", "a/b", "a\0b", "x y"] {
            let n = node(&["kubepods", bad], 2);
            let root = vec!["node-a".to_string()];
            assert!(
                levels(&root, &n.path, &[&n], WeightFormula::Linear).is_err(),
                "{bad:?}"
            );
            assert!(check_segment(bad).is_err(), "{bad:?}");
        }
    }
}
