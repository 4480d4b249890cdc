//! Course data types shared by the loader, the linter, the TUI and the CLI.

use crate::doc::ir::Doc;
use kubelab_sandbox::spec::Spec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The newest front-matter schema this build understands.
pub const FRONT_MATTER_SCHEMA: u32 = 1;

/// Book languages (defined at the bottom of the crate, in `locale`, so
/// that modules below `course` can name a language too).
pub use crate::locale::Lang;

/// A whole course: one book per language found under the course directory.
#[derive(Debug, Clone)]
pub struct Course {
    pub root: PathBuf,
    pub books: Vec<Book>,
}

/// One mdBook-style book (`lessons/<lang>/`).
#[derive(Debug, Clone)]
pub struct Book {
    pub lang: Lang,
    pub dir: PathBuf,
    pub title: String,
    /// Modules in SUMMARY.md order (`# Title` part headers).
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone)]
pub struct Part {
    pub title: Option<String>,
    pub chapters: Vec<Chapter>,
}

/// One SUMMARY entry.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub title: String,
    /// Lesson id (the file stem); `None` for a draft with no file yet.
    pub id: Option<String>,
    /// Path relative to the book's `src/`; `None` for a draft `- [Title]()`.
    pub path: Option<PathBuf>,
    /// Line of the entry in SUMMARY.md.
    pub summary_line: u32,
}

impl Chapter {
    pub fn is_draft(&self) -> bool {
        self.path.is_none()
    }
}

/// What the lesson may need from the host to run its labs; `kubelab test`
/// reports a lab as skipped, with the reason, where the host lacks it.
/// In front matter each is a string: a keyword below, or the name of a
/// program in [`TOOLS`] (`requires = ["root", "kubectl"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Requirement {
    /// Needs real root on the host (e.g. to create host-side veth pairs).
    Root,
    /// Needs cgroup limits (root, or rootless with a delegated cgroup v2 subtree).
    Cgroups,
    /// Copies the host's `/bin/busybox` into a rootfs it builds by hand:
    /// it must be statically linked to run there.
    Busybox,
    /// Mounts an overlay whose upper layer is on tmpfs inside the sandbox
    /// (`-o userxattr`): tmpfs must keep `user.*` xattrs (Linux 6.6+).
    TmpfsXattr,
    /// Opens `/dev/net/tun` (a TUN device for a user-space tunnel, as
    /// flannel's UDP backend): the host's device must be open to the
    /// learner (Debian ships it 0666; some hosts make it root-only).
    Tun,
    /// Runs Debian's CNI plugins (`bridge`, `host-local`, `loopback`,
    /// `portmap`) by path: they live in /usr/lib/cni, not on `PATH`.
    CniPlugins,
    /// A program the lab runs from the host's `/usr/bin` (or `sbin`).
    Tool(&'static Tool),
}

/// A host program a lab may need, and the Debian package that ships it:
/// the real component, never an imitation. `.ci/run` installs every
/// package listed here, so CI skips no lab for a missing tool.
#[derive(Debug, PartialEq, Eq)]
pub struct Tool {
    /// The command the lab runs, as found on `PATH`.
    pub command: &'static str,
    /// The Debian/Ubuntu package that provides it.
    pub package: &'static str,
}

/// Every tool a lesson may name in `requires`. Add a row when a lesson needs
/// a new program (and its package to `.ci/run`'s PACKAGES).
pub const TOOLS: &[Tool] = &[
    // Debian 12's kubectl (1.20) has kustomize built in.
    Tool {
        command: "kubectl",
        package: "kubernetes-client",
    },
    Tool {
        command: "ip",
        package: "iproute2",
    },
    Tool {
        command: "unshare",
        package: "util-linux",
    },
    // Lessons 45 and 46: a real containerd, its shim and OCI runtimes.
    Tool {
        command: "containerd",
        package: "containerd",
    },
    Tool {
        command: "ctr",
        package: "containerd",
    },
    Tool {
        command: "runc",
        package: "runc",
    },
    Tool {
        command: "crun",
        package: "crun",
    },
    Tool {
        command: "umoci",
        package: "umoci",
    },
    // Lab worlds' node shells (docs/worlds.md): what their lessons run.
    Tool {
        command: "ping",
        package: "iputils-ping",
    },
    Tool {
        command: "bridge",
        package: "iproute2",
    },
    Tool {
        command: "nft",
        package: "nftables",
    },
    Tool {
        command: "iptables",
        package: "iptables",
    },
    Tool {
        command: "conntrack",
        package: "conntrack",
    },
    Tool {
        command: "tcpdump",
        package: "tcpdump",
    },
    Tool {
        command: "socat",
        package: "socat",
    },
    // Lesson 47: a seccomp filter loaded by a small Perl script (`syscall`).
    Tool {
        command: "perl",
        package: "perl-base",
    },
    Tool {
        command: "nc",
        package: "netcat-openbsd",
    },
    Tool {
        command: "curl",
        package: "curl",
    },
    Tool {
        command: "ipvsadm",
        package: "ipvsadm",
    },
    // BGP the way Calico's nodes speak it (lesson 35).
    Tool {
        command: "bird",
        package: "bird2",
    },
    Tool {
        command: "birdc",
        package: "bird2",
    },
    // Cluster DNS (lessons 18-20, 37) and an ingress proxy (lesson 39).
    Tool {
        command: "dnsmasq",
        package: "dnsmasq-base",
    },
    Tool {
        command: "nginx",
        package: "nginx-light",
    },
    // The control plane's store and PKI (lessons 10, 11, 23-27) and monitoring (48, 49).
    Tool {
        command: "etcd",
        package: "etcd-server",
    },
    Tool {
        command: "etcdctl",
        package: "etcd-client",
    },
    Tool {
        command: "openssl",
        package: "openssl",
    },
    Tool {
        command: "prometheus",
        package: "prometheus",
    },
];

const KEYWORDS: &[(&str, Requirement)] = &[
    ("root", Requirement::Root),
    ("cgroups", Requirement::Cgroups),
    ("busybox", Requirement::Busybox),
    ("tmpfs-xattr", Requirement::TmpfsXattr),
    ("tun", Requirement::Tun),
    ("cni-plugins", Requirement::CniPlugins),
];

impl TryFrom<String> for Requirement {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if let Some((_, r)) = KEYWORDS.iter().find(|(k, _)| *k == name) {
            return Ok(*r);
        }
        if let Some(tool) = TOOLS.iter().find(|t| t.command == name) {
            return Ok(Requirement::Tool(tool));
        }
        let known: Vec<&str> = KEYWORDS
            .iter()
            .map(|(k, _)| *k)
            .chain(TOOLS.iter().map(|t| t.command))
            .collect();
        Err(format!(
            "unknown requirement \"{}\": use one of {} (a new tool is a row in TOOLS, src/course/model.rs)",
            crate::sanitize::line(&name),
            known.join(", ")
        ))
    }
}

impl From<Requirement> for String {
    fn from(r: Requirement) -> String {
        match r {
            Requirement::Tool(t) => t.command.to_string(),
            other => KEYWORDS
                .iter()
                .find(|(_, k)| *k == other)
                .map_or_else(String::new, |(name, _)| name.to_string()),
        }
    }
}

/// TOML front matter between `+++` lines at the top of a lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// Front-matter schema version; defaults to 1.
    #[serde(default = "default_schema")]
    pub schema: u32,
    /// Defaults to the file name (see `front::lesson_front`).
    #[serde(default)]
    pub id: String,
    /// Defaults to the first heading, else the file name.
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    /// Named sandboxes; the first one (by name order, or the one called
    /// `main`) is the lesson's default.
    #[serde(default)]
    pub sandboxes: BTreeMap<String, Spec>,
    /// Panes shown beside the text: `shell`, `namespaces`, `processes`,
    /// `cgroup`, `filesystem`, `network`, optionally `@sandbox`
    /// (e.g. `processes@web`).
    #[serde(default)]
    pub panes: Vec<String>,
    /// The inspector brought to the front while a step is read: `##`
    /// heading text → one of the inspector entries of `panes` (e.g.
    /// `"Step 3: limits" = "cgroup"`). F7 still switches freely.
    #[serde(default)]
    pub step_panes: BTreeMap<String, String>,
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// `[cluster]`: the lab drives a Kubernetes API (src/cluster/).
    #[serde(default)]
    pub cluster: Option<ClusterReq>,
    /// `[node]`: the lab runs its own `kubelab node` (src/lab/node.rs);
    /// checked in [`super::node`].
    #[serde(default)]
    pub node: Option<NodeReq>,
    /// `[world]`: the lab runs on a lab world's nodes (src/lab/world.rs,
    /// docs/worlds.md); its nodes take the place of `[sandboxes]`.
    #[serde(default)]
    pub world: Option<kubelab_sandbox::world_spec::WorldSpec>,
}

/// `[node]` in the front matter: the lesson gets one `kubelab node` of its
/// own (started with the lesson, stopped when it is left), reachable from
/// every sandbox with `kubectl` (lessons/README.md, "Node labs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeReq {
    /// The node's name as learners see it: static Pods are `<pod>-<name>`.
    #[serde(default = "default_node_name")]
    pub name: String,
    /// CrashLoopBackOff divided by this (10: 1 s … 30 s; 1: the kubelet's).
    #[serde(default = "default_backoff_divisor")]
    pub backoff_divisor: u32,
    /// ConfigMap name → a folder of the course (one file per key), relative
    /// to the lesson file, copied in when the node starts.
    #[serde(default)]
    pub configmaps: BTreeMap<String, PathBuf>,
    /// Secret name → a folder of the course, the same way.
    #[serde(default)]
    pub secrets: BTreeMap<String, PathBuf>,
    /// The node's built-in device plugin: kind → count (`{ fuse = 2 }`),
    /// kinds from the node's fixed table only.
    #[serde(default)]
    pub devices: BTreeMap<String, u32>,
}

impl Default for NodeReq {
    fn default() -> Self {
        NodeReq {
            name: default_node_name(),
            backoff_divisor: default_backoff_divisor(),
            configmaps: BTreeMap::new(),
            secrets: BTreeMap::new(),
            devices: BTreeMap::new(),
        }
    }
}

fn default_node_name() -> String {
    "node1".into()
}

fn default_backoff_divisor() -> u32 {
    10
}

/// `[cluster]` in the front matter: the lab needs a Kubernetes cluster. It
/// runs in its own namespace `kubelab-<id>`; without a cluster it is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterReq {
    /// API resources the lab uses beyond the core ones, as
    /// `plural.group` (`deployments.apps`, `cronjobs.batch`) or a core
    /// `plural` (`pods`); a cluster that serves none skips the lab.
    #[serde(default)]
    pub resources: Vec<String>,
    /// A two-track lesson (src/course/track.rs): the one sandbox of the
    /// cluster track. Blocks naming it, and `kind=cluster` checks, are the
    /// cluster track; every other block is the node track ([sandboxes],
    /// `[node]` or `[world]`), which works without a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// What only the cluster track needs on the host (`["kubectl"]`): a
    /// host without it skips the cluster track, not the lesson.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
}

fn default_schema() -> u32 {
    1
}

impl FrontMatter {
    /// The sandbox run blocks and checks use when they don't name one.
    /// In a world lesson: the first node.
    pub fn default_sandbox(&self) -> Option<&str> {
        if let Some(w) = &self.world {
            return w.nodes.first().map(|n| n.name.as_str());
        }
        if self.sandboxes.contains_key("main") {
            Some("main")
        } else {
            self.sandboxes.keys().next().map(String::as_str)
        }
    }
}

impl FrontMatter {
    /// What the lab's blocks and panes may name: the sandboxes, or in a
    /// world lesson its nodes, in order (the default first for a world).
    pub fn lab_targets(&self) -> Vec<&str> {
        match &self.world {
            // A two-track world lesson: its nodes, then the cluster track's
            // sandbox (the only `[sandboxes]` entry it may have).
            Some(w) => w
                .nodes
                .iter()
                .map(|n| n.name.as_str())
                .chain(self.sandboxes.keys().map(String::as_str))
                .collect(),
            None => self.sandboxes.keys().map(String::as_str).collect(),
        }
    }

    /// The cluster track's sandbox of a two-track lesson.
    pub fn cluster_sandbox(&self) -> Option<&str> {
        self.cluster.as_ref()?.sandbox.as_deref()
    }
}

/// A loaded lesson file.
#[derive(Debug, Clone)]
pub struct Lesson {
    pub lang: Lang,
    pub path: PathBuf,
    pub front: FrontMatter,
    pub doc: Doc,
}

/// A lesson that failed to load: shown as an error page, reported by lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonError {
    pub path: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// The same problem as a diagnostic, for the reader's error page.
impl From<&crate::diagnostic::Diagnostic> for LessonError {
    fn from(d: &crate::diagnostic::Diagnostic) -> LessonError {
        LessonError {
            path: d.path.clone(),
            line: d.line,
            col: d.col,
            message: d.message.clone(),
        }
    }
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line.max(1),
            self.col.max(1),
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Front {
        requires: Vec<Requirement>,
    }

    #[test]
    fn requires_takes_keywords_and_known_tools() {
        let f: Front = toml::from_str(r#"requires = ["root", "tmpfs-xattr", "kubectl"]"#).unwrap();
        assert_eq!(f.requires[0], Requirement::Root);
        assert_eq!(f.requires[1], Requirement::TmpfsXattr);
        match f.requires[2] {
            Requirement::Tool(t) => assert_eq!(t.package, "kubernetes-client"),
            other => panic!("kubectl parsed as {other:?}"),
        }
        // Back to the same strings (the harness compares zh and en fronts).
        let names: Vec<String> = f.requires.iter().map(|r| String::from(*r)).collect();
        assert_eq!(names, ["root", "tmpfs-xattr", "kubectl"]);
    }

    #[test]
    fn an_unknown_requirement_names_the_known_ones_and_is_escaped() {
        let err = toml::from_str::<Front>("requires = [\"kubect\\u001b[2J\"]")
            .err()
            .expect("an unknown tool must be refused")
            .to_string();
        assert!(err.contains("unknown requirement"), "{err}");
        assert!(err.contains("kubectl") && err.contains("cgroups"), "{err}");
        assert!(!err.contains('\u{1b}'), "raw escape in {err:?}");
    }

    #[test]
    fn ci_installs_every_tools_package() {
        // CI must skip no lab for a missing program (`.ci/run`'s PACKAGES
        // or its TOOLS list).
        let ci = include_str!("../../.ci/run");
        for t in TOOLS {
            assert!(
                ci.split(|c: char| c.is_whitespace() || "():".contains(c))
                    .any(|w| w == t.package),
                "{} (for `{}`) is not installed by .ci/run",
                t.package,
                t.command
            );
        }
    }
}
