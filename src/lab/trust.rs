//! Trust for lessons from `--course DIR`: before anything of such a course
//! runs, the learner sees what it will be allowed — first what runs *on
//! the host* (checks marked `on=host`, host folders bound writable), then
//! what its sandboxes get — and answers: everything, sandboxes only, or
//! nothing. The answer is remembered with a fingerprint of everything the
//! course can run or mount ([`super::exposure::fingerprint`]), so a course
//! changed since then asks again, showing what is new. `--trust` skips the
//! question. The built-in course is trusted.

use super::exposure::CourseExposure;
use crate::course::model::Lesson;
use crate::panes::text::{fill, PaneText};
use crate::sanitize::escape_controls;
use kubelab_sandbox::spec::{Mount, Spec};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustState {
    /// The course shipped with kubelab.
    Builtin,
    /// `--trust`, or the learner said yes to everything.
    Trusted,
    /// The learner allowed sandboxes but not host commands: `on=host`
    /// checks are not run and host folders are bound read-only.
    SandboxesOnly,
    /// Another course: ask before starting its first sandbox.
    Ask,
}

impl TrustState {
    /// Whether sandboxes may start.
    pub fn allows(self) -> bool {
        self != TrustState::Ask
    }

    /// Whether host commands may run and host folders be written.
    pub fn allows_host(self) -> bool {
        matches!(self, TrustState::Builtin | TrustState::Trusted)
    }
}

/// The remembered answer for one course folder: `<data dir>/trusted-<key>`
/// (the progress file's course key), JSON naming the folder, the
/// fingerprint answered for, the answer and the host lines shown then.
#[derive(Debug, Clone)]
pub struct TrustStore {
    file: PathBuf,
    course: String,
    exposure: CourseExposure,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    course: String,
    fingerprint: String,
    /// true: everything; false: sandboxes only.
    host: bool,
    /// The host lines the learner saw when answering (to mark what is new).
    shown: Vec<String>,
}

impl TrustStore {
    /// The store for the course at `course_dir`, fingerprinting the course
    /// as it is now (a course that does not load has an empty fingerprint).
    pub fn new(data_dir: &Path, course_dir: &Path) -> TrustStore {
        let exposure = crate::course::load(course_dir)
            .map(|c| CourseExposure::of(&c.lessons))
            .unwrap_or_default();
        TrustStore::with_exposure(data_dir, course_dir, exposure)
    }

    pub fn with_exposure(
        data_dir: &Path,
        course_dir: &Path,
        exposure: CourseExposure,
    ) -> TrustStore {
        let key = crate::progress::course_key(course_dir, false);
        let canon = course_dir
            .canonicalize()
            .unwrap_or_else(|_| course_dir.to_path_buf());
        TrustStore {
            file: data_dir.join(format!("trusted-{key}")),
            course: canon.to_string_lossy().into_owned(),
            exposure,
        }
    }

    fn record(&self) -> Option<Record> {
        let text = crate::course::files::read_text(&self.file, 1 << 20).ok()?;
        serde_json::from_str::<Record>(&text)
            .ok()
            .filter(|r| r.course == self.course)
    }

    /// The remembered answer, if it was given for this folder as it is now
    /// (the key's short hash could collide; the course may have changed).
    pub fn decision(&self) -> Option<TrustState> {
        let r = self.record()?;
        (r.fingerprint == self.exposure.fingerprint).then_some(if r.host {
            TrustState::Trusted
        } else {
            TrustState::SandboxesOnly
        })
    }

    /// Whether the learner said yes (to all, or to sandboxes) for this
    /// course as it is now.
    pub fn is_trusted(&self) -> bool {
        self.decision().is_some()
    }

    /// Host lines shown the last time, when the course changed since an
    /// answer (`None`: never answered, or unchanged).
    pub fn previously_shown(&self) -> Option<Vec<String>> {
        let r = self.record()?;
        (r.fingerprint != self.exposure.fingerprint).then_some(r.shown)
    }

    /// Records the answer (`Trusted` or `SandboxesOnly`).
    pub fn remember(&self, answer: TrustState, t: &PaneText) -> std::io::Result<()> {
        let record = Record {
            course: self.course.clone(),
            fingerprint: self.exposure.fingerprint.clone(),
            host: answer.allows_host(),
            shown: host_lines(&self.exposure, t),
        };
        let json = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
        if let Some(dir) = self.file.parent() {
            crate::progress::private_dir(dir)?;
        }
        crate::atomic_write::write_atomic(&self.file, json.as_bytes(), 0o600)
    }

    pub fn exposure(&self) -> &CourseExposure {
        &self.exposure
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// The host part of the prompt as plain lines, per lesson: what runs on
/// the host and which host folders a sandbox may write.
pub fn host_lines(exposure: &CourseExposure, t: &PaneText) -> Vec<String> {
    let mut out = Vec::new();
    for e in &exposure.lessons {
        let lesson = escape_controls(&e.lesson, 60);
        for c in &e.host_checks {
            out.push(fill(
                t.trust_host_check,
                &[("lesson", &lesson), ("id", &c.id), ("line", &c.line)],
            ));
            for l in &c.shown {
                out.push(format!("    $ {l}"));
            }
        }
        if let Some((nodes, n)) = &e.world {
            let nodes = escape_controls(&nodes.join(", "), 120);
            out.push(fill(
                t.trust_host_world,
                &[("lesson", &lesson), ("nodes", &nodes), ("n", n)],
            ));
        }
        for w in &e.writable {
            out.push(fill(
                t.trust_host_writes,
                &[
                    ("lesson", &lesson),
                    ("name", &escape_controls(&w.sandbox, 40)),
                    (
                        "src",
                        &escape_controls(&w.source.display().to_string(), 200),
                    ),
                    (
                        "dst",
                        &escape_controls(&w.target.display().to_string(), 200),
                    ),
                ],
            ));
        }
    }
    out
}

/// One line per permission a sandbox asks for, and whether it is a
/// warning (write access to the host).
pub fn describe(spec: &Spec, t: &PaneText) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let ns: Vec<&str> = spec.namespaces.iter().map(|n| n.name()).collect();
    out.push((fill(t.own_namespaces, &[("list", &ns.join(" "))]), false));
    out.push((fill(t.root_fs, &[("rootfs", &spec.rootfs)]), false));
    for m in &spec.mounts {
        out.push(match m {
            Mount::Bind {
                source,
                target,
                readonly,
            } => {
                let (src, dst) = (source.display(), target.display());
                let tpl = if *readonly {
                    t.reads_host
                } else {
                    t.writes_host
                };
                (fill(tpl, &[("src", &src), ("dst", &dst)]), !*readonly)
            }
            Mount::Tmpfs { target, .. } => {
                (fill(t.scratch_tmpfs, &[("dst", &target.display())]), false)
            }
        });
    }
    let l = &spec.limits;
    let lim = |o: Option<String>| o.unwrap_or_else(|| t.no_limit.into());
    let mem = lim(l.memory.map(|m| m.to_string()));
    let cpu = lim(l.cpus.map(|c| fill(t.cores, &[("n", &c.cores())])));
    let pids = lim(l.pids.map(|p| p.to_string()));
    out.push((
        fill(t.limits, &[("mem", &mem), ("cpu", &cpu), ("pids", &pids)]),
        false,
    ));
    if spec.privileged {
        out.push((t.privileged.into(), false));
    }
    if !spec.command.is_empty() {
        out.push((fill(t.runs, &[("cmd", &spec.command.join(" "))]), false));
    }
    out
}

/// The trust prompt shown in the pane area: the answer keys first (so they
/// show on the smallest screen), then what runs on the host in any lesson
/// of the course (lines new since the last answer marked `+`), then what
/// this lesson's sandboxes get.
pub fn prompt_lines(
    lesson: &Lesson,
    exposure: &CourseExposure,
    previous: Option<&[String]>,
    t: &PaneText,
) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let red = Style::default().fg(Color::Red);
    let path = escape_controls(&lesson.path.display().to_string(), 300);
    let host = host_lines(exposure, t);
    let mut lines = vec![
        Line::styled(fill(t.trust_from, &[("path", &path)]), bold),
        Line::styled(
            if host.is_empty() {
                t.trust_answer
            } else {
                t.trust_answer_host
            },
            Style::default().fg(Color::Yellow),
        ),
    ];
    if let Some(prev) = previous {
        lines.push(Line::styled(t.trust_changed, bold.fg(Color::Yellow)));
        if host.is_empty() && !prev.is_empty() {
            lines.push(Line::raw(t.trust_no_host_now));
        }
        lines.extend(
            host.iter()
                .filter(|l| !prev.contains(l))
                .map(|l| Line::styled(format!("+ {}", l.trim_start()), red)),
        );
    }
    if !host.is_empty() {
        lines.push(Line::styled(t.trust_on_host, bold.fg(Color::Red)));
        lines.extend(host.into_iter().map(|l| Line::styled(l, red)));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(t.trust_allowed));
    for (name, spec) in &lesson.front.sandboxes {
        lines.push(Line::styled(
            fill(t.trust_sandbox, &[("name", &escape_controls(name, 40))]),
            bold,
        ));
        for (d, warn) in describe(spec, t) {
            let style = if warn { red } else { Style::default() };
            lines.push(Line::styled(
                format!("  • {}", escape_controls(&d, 300)),
                style,
            ));
        }
    }
    lines
}

/// `lesson` as run after "sandboxes only": every host folder bound
/// read-only (host checks are skipped by the check loop; a lab world is
/// not started, see `LiveLab::start_declining_host`).
pub fn sandboxes_only(lesson: &Lesson) -> Lesson {
    let mut l = lesson.clone();
    for spec in l.front.sandboxes.values_mut() {
        for m in &mut spec.mounts {
            if let Mount::Bind { readonly, .. } = m {
                *readonly = true;
            }
        }
    }
    l
}

/// The pane shown after "n": what was declined and what still works.
pub fn declined_lines(t: &PaneText) -> Vec<Line<'static>> {
    vec![
        Line::styled(
            t.trust_declined,
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Line::raw(t.trust_still_works),
    ]
}

#[cfg(test)]
mod tests {
    use super::{TrustState, TrustStore};

    #[test]
    fn a_yes_is_remembered_per_course_folder() {
        let data = tempfile::tempdir().unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let t = crate::panes::text::text(crate::course::model::Lang::En);
        let sa = TrustStore::new(data.path(), a.path());
        assert!(!sa.is_trusted());
        sa.remember(TrustState::Trusted, t).unwrap();
        assert!(TrustStore::new(data.path(), a.path()).is_trusted());
        assert!(!TrustStore::new(data.path(), b.path()).is_trusted());
        // A file naming another folder (a hash collision) does not count.
        let text = std::fs::read_to_string(sa.path()).unwrap();
        let other = text.replace(
            &*a.path().canonicalize().unwrap().to_string_lossy(),
            "/elsewhere",
        );
        std::fs::write(sa.path(), other).unwrap();
        assert!(!sa.is_trusted());
        // The old format (a bare path: trusted before fingerprints) asks again.
        std::fs::write(sa.path(), format!("{}\n", a.path().display())).unwrap();
        assert!(!sa.is_trusted());
    }
}
