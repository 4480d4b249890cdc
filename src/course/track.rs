//! Two-track lessons (lessons/README.md, "Two-track lessons"): the
//! **node track** works on any machine, offline (`[sandboxes]`, `[node]`,
//! `[world]`); the **cluster track** does the same on the learner's real
//! cluster, in the one sandbox `[cluster] sandbox = "NAME"` names. Which
//! track a block is in follows from where it runs, so nothing is marked
//! twice: a block naming the cluster sandbox, or a `kind=cluster` check,
//! is the cluster track.
//!
//! [`view`] cuts a lesson down to one track, so the harness proves each
//! track as an ordinary lab of its own.

use super::model::{FrontMatter, Lesson};
use crate::doc::ir::{Block, CheckBlock, CheckSide, Interactive};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Node,
    Cluster,
}

impl Track {
    pub fn name(self) -> &'static str {
        match self {
            Track::Node => "node",
            Track::Cluster => "cluster",
        }
    }
}

/// Whether the lesson has two tracks.
pub fn two_track(front: &FrontMatter) -> bool {
    front.cluster_sandbox().is_some()
}

/// The track of a block that runs in `target` (`None`: the default).
pub fn of_target(front: &FrontMatter, target: Option<&str>) -> Track {
    match front.cluster_sandbox() {
        Some(cs) if target == Some(cs) => Track::Cluster,
        _ => Track::Node,
    }
}

/// The track of a check; in a one-track lesson always [`Track::Node`].
pub fn of_check(front: &FrontMatter, c: &CheckBlock) -> Track {
    if two_track(front) && c.on == CheckSide::Cluster {
        return Track::Cluster;
    }
    of_target(front, c.target())
}

/// Where a check runs: a two-track lesson's `kind=cluster` checks belong to
/// the cluster sandbox (they are skipped with it); others run where they
/// name, else in the default sandbox.
pub fn check_sandbox<'a>(front: &'a FrontMatter, c: &'a CheckBlock) -> Option<&'a str> {
    match (c.on, front.cluster_sandbox()) {
        (CheckSide::Cluster, Some(cs)) => Some(cs),
        _ => c.target().or_else(|| front.default_sandbox()),
    }
}

/// What a two-track front matter must hold: `[cluster].sandbox` names a
/// declared sandbox that is not the lesson's default (blocks that name no
/// sandbox are the node track). The error points at the `sandbox` line.
pub fn check_front(
    fm: &FrontMatter,
    front: &str,
    first_line: u32,
    path: &std::path::Path,
) -> Result<(), crate::diagnostic::Diagnostic> {
    let Some(cs) = fm.cluster_sandbox() else {
        return Ok(());
    };
    let line = front
        .lines()
        .position(|l| l.trim_start().starts_with("sandbox"))
        .map_or(first_line, |i| first_line + i as u32);
    let at = |m: String| Err(crate::diagnostic::Diagnostic::error(path, line, 1, m));
    let cs_shown = crate::sanitize::line(cs);
    if !fm.sandboxes.contains_key(cs) {
        return at(format!(
            "[cluster] sandbox = \"{cs_shown}\": no [sandboxes.{cs_shown}] in the front matter; \
             declare the cluster track's sandbox (rootfs = \"host\", see \"Two-track lessons\" \
             in lessons/README.md)"
        ));
    }
    if fm.default_sandbox() == Some(cs) {
        return at(format!(
            "[cluster] sandbox = \"{cs_shown}\" is the lesson's default sandbox, so every block \
             that names none would be the cluster track; name the node track's sandbox `main`"
        ));
    }
    Ok(())
}

fn of_interactive(front: &FrontMatter, i: &Interactive) -> Option<Track> {
    match i {
        Interactive::Run(r) => Some(of_target(front, r.target())),
        Interactive::Solution(s) => Some(of_target(front, s.target())),
        Interactive::Check(c) => Some(of_check(front, c)),
        Interactive::Quiz(_) => None,
    }
}

/// The lesson as a lab of one track: the other track's blocks dropped
/// (text and quizzes kept), and its front matter cut down — the node track
/// without `[cluster]` and its sandbox; the cluster track with only its
/// sandbox, no `[node]` or `[world]`, and `[cluster].requires` as its
/// `requires` — an ordinary `[cluster]` lab. A one-track lesson is
/// returned as it is.
pub fn view(lesson: &Lesson, track: Track) -> Lesson {
    let front = &lesson.front;
    let Some(cs) = front.cluster_sandbox() else {
        return lesson.clone();
    };
    let mut out = lesson.clone();
    // `objects` shows the cluster; `KIND@cs` the cluster sandbox.
    let cluster_pane =
        |p: &String| p == "objects" || p.split_once('@').is_some_and(|(_, t)| t == cs);
    out.front
        .panes
        .retain(|p| cluster_pane(p) == (track == Track::Cluster));
    match track {
        Track::Node => {
            out.front.cluster = None;
            out.front.sandboxes.remove(cs);
        }
        Track::Cluster => {
            out.front.node = None;
            out.front.world = None;
            out.front.sandboxes.retain(|name, _| name == cs);
            if let Some(c) = &mut out.front.cluster {
                // An ordinary cluster lab now: its one sandbox is the
                // default, and it needs what `[cluster]` names — the
                // lesson's `requires` are the node track's (`root` for a
                // loop device must not skip a cluster track).
                out.front.requires = std::mem::take(&mut c.requires);
                c.sandbox = None;
            }
        }
    }
    out.doc.blocks = keep(&lesson.doc.blocks, &|i| {
        of_interactive(front, i).is_none_or(|t| t == track)
    });
    out
}

/// `blocks` without the interactive blocks `keep` refuses, at any depth.
fn keep(blocks: &[Block], f: &dyn Fn(&Interactive) -> bool) -> Vec<Block> {
    blocks
        .iter()
        .filter(|b| !matches!(b, Block::Interactive(i) if !f(i)))
        .map(|b| match b {
            Block::Quote {
                alert,
                blocks,
                line,
            } => Block::Quote {
                alert: *alert,
                blocks: keep(blocks, f),
                line: *line,
            },
            Block::List {
                ordered,
                items,
                line,
            } => Block::List {
                ordered: *ordered,
                items: items
                    .iter()
                    .map(|it| crate::doc::ir::ListItem {
                        task: it.task,
                        blocks: keep(&it.blocks, f),
                    })
                    .collect(),
                line: *line,
            },
            other => other.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;
    use std::path::Path;

    const LESSON: &str = r#"+++
id = "two"
requires = ["ip"]
panes = ["shell", "pods", "shell@k8s", "objects"]
[node]
[cluster]
sandbox = "k8s"
requires = ["kubectl"]
[sandboxes.main]
[sandboxes.k8s]
rootfs = "host"
+++
# Two

## Node track

```sh run
kubectl get pods
```

```sh check id=n1
true
```

> ```sh solution
> echo node
> ```

## Cluster track

```sh check id=c1 sandbox=k8s
true
```

```toml check id=c2 kind=cluster
object = "deployment/web"
exists = true
```

- ```sh solution sandbox=k8s
  kubectl create deployment web --image=nginx
  ```

```toml quiz
id = "q"
question = "?"
choices = ["a", "b"]
answer = "A"
```
"#;

    fn lesson() -> Lesson {
        crate::course::lesson::parse_text(LESSON, Path::new("two.md"), Lang::En)
            .lesson
            .expect("the lesson parses")
    }

    fn ids(l: &Lesson) -> Vec<&str> {
        l.doc.checks().iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn a_block_is_in_the_track_of_where_it_runs() {
        let l = lesson();
        let tracks: Vec<Track> = l
            .doc
            .checks()
            .iter()
            .map(|c| of_check(&l.front, c))
            .collect();
        assert_eq!(tracks, [Track::Node, Track::Cluster, Track::Cluster]);
        let c2 = l.doc.checks()[2];
        assert_eq!(check_sandbox(&l.front, c2), Some("k8s"));
        assert_eq!(check_sandbox(&l.front, l.doc.checks()[0]), Some("main"));
    }

    #[test]
    fn each_view_is_a_lab_of_one_track_keeping_text_and_quizzes() {
        let l = lesson();
        let node = view(&l, Track::Node);
        assert_eq!(ids(&node), ["n1"]);
        assert!(node.front.cluster.is_none() && node.front.node.is_some());
        assert_eq!(node.front.lab_targets(), ["main"]);
        assert_eq!(node.front.panes, ["shell", "pods"]);
        assert_eq!(node.doc.quizzes().len(), 1);
        let count = |l: &Lesson, kind: fn(&Interactive) -> bool| {
            l.doc.interactives().into_iter().filter(|i| kind(i)).count()
        };
        let solutions = |l: &Lesson| count(l, |i| matches!(i, Interactive::Solution(_)));
        assert_eq!(solutions(&node), 1, "the quoted node solution stays");

        let cluster = view(&l, Track::Cluster);
        assert_eq!(ids(&cluster), ["c1", "c2"]);
        assert!(cluster.front.node.is_none() && cluster.front.cluster.is_some());
        assert!(!two_track(&cluster.front), "an ordinary cluster lab");
        assert_eq!(cluster.front.lab_targets(), ["k8s"]);
        assert_eq!(cluster.front.panes, ["shell@k8s", "objects"]);
        assert_eq!(cluster.front.default_sandbox(), Some("k8s"));
        let req: Vec<String> = cluster
            .front
            .requires
            .iter()
            .map(|r| String::from(*r))
            .collect();
        assert_eq!(
            req,
            ["kubectl"],
            "the node track's `ip` is not the cluster track's"
        );
        assert_eq!(solutions(&cluster), 1, "the listed cluster solution stays");
        // The run block of the node track is gone from the cluster view.
        assert_eq!(count(&cluster, |i| matches!(i, Interactive::Run(_))), 0);
        assert_eq!(count(&node, |i| matches!(i, Interactive::Run(_))), 1);
    }

    #[test]
    fn the_cluster_sandbox_must_exist_and_not_be_the_default() {
        let parse = |t: &str| crate::course::front::parse(t, 2, Path::new("l.md"));
        let e = parse("[cluster]\nsandbox = \"k8s\"\n[sandboxes.main]\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("no [sandboxes.k8s]"), "{e}");
        let e = parse("[cluster]\nsandbox = \"main\"\n[sandboxes.main]\n[sandboxes.k8s]\n")
            .unwrap_err();
        assert!(e.message.contains("default sandbox"), "{e}");
        assert!(parse("[cluster]\nsandbox = \"k8s\"\n[sandboxes.main]\n[sandboxes.k8s]\n").is_ok());
    }

    #[test]
    fn a_one_track_lesson_is_its_own_view() {
        let text =
            "+++\nid = \"one\"\n[sandboxes.main]\n+++\n# One\n\n```sh check id=a\ntrue\n```\n";
        let l = crate::course::lesson::parse_text(text, Path::new("one.md"), Lang::En)
            .lesson
            .unwrap();
        assert!(!two_track(&l.front));
        assert_eq!(ids(&view(&l, Track::Node)), ["a"]);
        assert_eq!(of_check(&l.front, l.doc.checks()[0]), Track::Node);
    }
}
