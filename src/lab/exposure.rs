//! What a course can do to the learner's machine beyond its sandboxes:
//! checks marked `on=host` (run as the learner — as root under sudo —
//! outside any sandbox) and host folders bound writable into a sandbox.
//! The trust prompt lists these, `kubelab test` asks before running them,
//! and their fingerprint (with every sandbox spec) is what a "yes" is
//! remembered for: change any of it and the learner is asked again.

use crate::course::model::Lesson;
use crate::doc::ir::CheckSide;
use crate::sanitize::escape_controls;
use kubelab_sandbox::spec::Mount;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Lines of one host check shown in the prompt; the rest is cut.
const SHOWN_LINES: usize = 4;
/// Characters of one shown line.
const SHOWN_CHARS: usize = 100;

/// One `on=host` check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCheck {
    pub id: String,
    pub line: u32,
    /// The script, sanitised and cut to a few short lines for display.
    pub shown: Vec<String>,
}

/// One host folder a sandbox may write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableBind {
    pub sandbox: String,
    pub source: PathBuf,
    pub target: PathBuf,
}

/// What one lesson does outside its sandboxes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// The lesson id (or file name), for the prompt.
    pub lesson: String,
    pub host_checks: Vec<HostCheck>,
    pub writable: Vec<WritableBind>,
    /// A `[world]` lab: its node names and how many checks run in them.
    /// A world isolates networks, not files: its shells and checks use the
    /// host's files as the learner (src/lab/world.rs).
    pub world: Option<(Vec<String>, usize)>,
}

impl Exposure {
    pub fn of(lesson: &Lesson) -> Exposure {
        let host_checks = lesson
            .doc
            .checks()
            .into_iter()
            .filter(|c| c.on == CheckSide::Host)
            .map(|c| HostCheck {
                id: escape_controls(&c.id, SHOWN_CHARS),
                line: c.line,
                shown: shown_lines(&c.code),
            })
            .collect();
        let mut writable = Vec::new();
        for (name, spec) in &lesson.front.sandboxes {
            for m in &spec.mounts {
                if let Mount::Bind {
                    source,
                    target,
                    readonly: false,
                } = m
                {
                    writable.push(WritableBind {
                        sandbox: name.clone(),
                        source: source.clone(),
                        target: target.clone(),
                    });
                }
            }
        }
        let world = lesson.front.world.as_ref().map(|w| {
            let nodes = w.nodes.iter().map(|n| n.name.to_string()).collect();
            (nodes, lesson.doc.checks().len())
        });
        Exposure {
            lesson: lesson.front.id.clone(),
            host_checks,
            writable,
            world,
        }
    }

    /// Whether the lesson reaches outside its sandboxes at all.
    pub fn is_empty(&self) -> bool {
        self.host_checks.is_empty() && self.writable.is_empty() && self.world.is_none()
    }
}

/// Every lesson's [`Exposure`] (those with none left out) and the
/// fingerprint of everything the course can run or mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseExposure {
    pub lessons: Vec<Exposure>,
    /// Hex SHA-256; see [`fingerprint`].
    pub fingerprint: String,
}

impl CourseExposure {
    /// `lessons` in outline order (duplicates of a lesson in the other
    /// language are listed once when identical).
    pub fn of<'a>(lessons: impl IntoIterator<Item = &'a Lesson>) -> CourseExposure {
        let lessons: Vec<&Lesson> = lessons.into_iter().collect();
        let mut list: Vec<Exposure> = Vec::new();
        for l in &lessons {
            let e = Exposure::of(l);
            if !e.is_empty() && !list.contains(&e) {
                list.push(e);
            }
        }
        CourseExposure {
            lessons: list,
            fingerprint: fingerprint(lessons.iter().copied()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lessons.is_empty()
    }
}

/// SHA-256 over every lesson's sandbox specs (mounts, commands, limits,
/// privileges) and host checks, in a stable order: what can run outside a
/// sandbox or be mounted into one. Text, quizzes and in-sandbox blocks are
/// left out (changing them needs no new consent).
pub fn fingerprint<'a>(lessons: impl IntoIterator<Item = &'a Lesson>) -> String {
    let mut items: Vec<(String, String, String)> = lessons
        .into_iter()
        .map(|l| {
            let specs = serde_json::to_string(&l.front.sandboxes).unwrap_or_default();
            // A world lab's checks all touch the host's files: every one
            // counts, with the world itself.
            let world = l.front.world.is_some();
            let mut specs = specs;
            if let Some(w) = &l.front.world {
                specs.push_str(&serde_json::to_string(w).unwrap_or_default());
            }
            let host: Vec<(&str, &str)> = l
                .doc
                .checks()
                .into_iter()
                .filter(|c| world || c.on == CheckSide::Host)
                .map(|c| (c.id.as_str(), c.code.as_str()))
                .collect();
            let host = serde_json::to_string(&host).unwrap_or_default();
            (format!("{}:{}", l.lang.code(), l.front.id), specs, host)
        })
        .collect();
    items.sort();
    let mut h = Sha256::new();
    for (id, specs, host) in &items {
        for part in [id, specs, host] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn shown_lines(code: &str) -> Vec<String> {
    let lines: Vec<&str> = code
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(SHOWN_LINES)
        .map(|l| escape_controls(l, SHOWN_CHARS))
        .collect();
    if lines.len() > SHOWN_LINES {
        out.push(format!("… (+{})", lines.len() - SHOWN_LINES));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::lesson::parse_text;
    use crate::course::model::Lang;
    use std::path::Path;

    fn lesson(front: &str, body: &str) -> Lesson {
        let text = format!("+++\nid = \"a\"\ntitle = \"A\"\n{front}+++\n{body}");
        // A lesson with a control character does not load (lint's error);
        // its partial parse still shows what the prompt would do with one.
        let load = parse_text(&text, Path::new("/c/en/src/a.md"), Lang::En);
        load.lesson.or(load.partial).unwrap()
    }

    #[test]
    fn host_checks_and_writable_binds_are_found_and_fingerprinted() {
        let front = "[sandboxes.main]\nmounts = [{ type = \"bind\", source = \"/root\", target = \"/mnt\", readonly = false }]\n";
        let body = "```sh check id=h on=host\n# title: t\necho \u{1b}]52;c;x\u{7}\nrm -rf /tmp/x\n```\n\n```sh check id=s\ntrue\n```\n";
        let l = lesson(front, body);
        let e = Exposure::of(&l);
        assert_eq!(e.host_checks.len(), 1);
        assert_eq!(e.host_checks[0].id, "h");
        assert!(!e.host_checks[0].shown.join("").contains('\u{1b}'));
        assert_eq!(e.host_checks[0].shown[1], "rm -rf /tmp/x");
        assert_eq!(e.writable[0].source, Path::new("/root"));

        let plain = lesson("[sandboxes.main]\n", body);
        assert_ne!(fingerprint([&l]), fingerprint([&plain]));
        // Text outside fences does not change the fingerprint.
        let more_text = lesson(front, &format!("Some words.\n\n{body}"));
        assert_eq!(fingerprint([&l]), fingerprint([&more_text]));
    }

    #[test]
    fn a_world_lab_is_exposure_and_every_check_of_it_is_fingerprinted() {
        let front = "[world]\n[[world.nodes]]\nname = \"node1\"\n";
        let body = "```sh check id=s\n# hint: h\ntrue\n```\n";
        let l = lesson(front, body);
        let e = Exposure::of(&l);
        assert!(!e.is_empty());
        assert_eq!(e.world, Some((vec!["node1".to_string()], 1)));
        let t = crate::panes::text::text(Lang::En);
        let lines = crate::lab::trust::host_lines(&CourseExposure::of([&l]), t);
        assert!(lines[0].contains("AS YOU"), "{lines:?}");
        // An in-node check is a host command: editing it asks again.
        let edited = lesson(front, &body.replace("true", "rm -rf ~"));
        assert_ne!(fingerprint([&l]), fingerprint([&edited]));
    }
}
