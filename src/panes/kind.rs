//! Pane names from lesson front matter: `shell`, `processes@web`, ...

use std::fmt;
use std::str::FromStr;

/// What a pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaneKind {
    Shell,
    Namespaces,
    Processes,
    Cgroup,
    Filesystem,
    Network,
    /// A cluster lab's Kubernetes objects, live (src/cluster/pane.rs).
    Objects,
    /// The Pods of the lab's node, each one inspectable (src/panes/pods/).
    Pods,
}

impl PaneKind {
    pub const ALL: [PaneKind; 8] = [
        PaneKind::Shell,
        PaneKind::Namespaces,
        PaneKind::Processes,
        PaneKind::Cgroup,
        PaneKind::Filesystem,
        PaneKind::Network,
        PaneKind::Objects,
        PaneKind::Pods,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            PaneKind::Shell => "shell",
            PaneKind::Namespaces => "namespaces",
            PaneKind::Processes => "processes",
            PaneKind::Cgroup => "cgroup",
            PaneKind::Filesystem => "filesystem",
            PaneKind::Network => "network",
            PaneKind::Objects => "objects",
            PaneKind::Pods => "pods",
        }
    }
}

impl fmt::Display for PaneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A pane entry: its kind and, with `kind@name`, a non-default sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneRef {
    pub kind: PaneKind,
    pub sandbox: Option<String>,
}

impl PaneRef {
    /// The sandbox this pane shows: the one it names, else `default` (the
    /// lesson's default sandbox).
    pub fn sandbox_or(&self, default: Option<&str>) -> Option<String> {
        self.sandbox.clone().or_else(|| default.map(str::to_string))
    }
}

impl FromStr for PaneRef {
    type Err = String;
    fn from_str(s: &str) -> Result<PaneRef, String> {
        let (kind, sandbox) = match s.split_once('@') {
            Some((k, sb)) if !sb.is_empty() => (k, Some(sb.to_string())),
            Some(_) => return Err(format!("pane `{s}`: a sandbox name must follow `@`")),
            None => (s, None),
        };
        let kind = PaneKind::ALL
            .into_iter()
            .find(|k| k.name() == kind)
            .ok_or_else(|| {
                let names: Vec<&str> = PaneKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown pane `{kind}`; use one of {}", names.join(", "))
            })?;
        Ok(PaneRef { kind, sandbox })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pane_refs_parse_with_optional_sandbox() {
        assert_eq!(
            "processes@web".parse::<PaneRef>().unwrap(),
            PaneRef {
                kind: PaneKind::Processes,
                sandbox: Some("web".into())
            }
        );
        assert_eq!("shell".parse::<PaneRef>().unwrap().kind, PaneKind::Shell);
        assert!("shel".parse::<PaneRef>().unwrap_err().contains("shel"));
        assert!("shell@".parse::<PaneRef>().is_err());
    }
}
