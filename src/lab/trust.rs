//! Trust for lessons from `--course DIR`: before anything of such a course
//! runs, the learner sees what its sandboxes will be allowed and says yes
//! once; the answer is remembered for that course folder (a small file in
//! the data directory, beside the progress files) so a classroom course asks
//! only the first time. `--trust` skips the question. The built-in course
//! is trusted.

use crate::course::model::Lesson;
use crate::panes::text::{fill, PaneText};
use kubelab_sandbox::spec::{Mount, Spec};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustState {
    /// The course shipped with kubelab.
    Builtin,
    /// `--trust`, or the learner said yes.
    Trusted,
    /// Another course: ask before starting its first sandbox.
    Ask,
}

impl TrustState {
    pub fn allows(self) -> bool {
        self != TrustState::Ask
    }
}

/// The remembered "yes" for one course folder: `<data dir>/trusted-<key>`
/// (the progress file's course key) holding the folder's canonical path.
#[derive(Debug, Clone)]
pub struct TrustStore {
    file: PathBuf,
    course: String,
}

impl TrustStore {
    pub fn new(data_dir: &Path, course_dir: &Path) -> TrustStore {
        let key = crate::progress::course_key(course_dir, false);
        let canon = course_dir
            .canonicalize()
            .unwrap_or_else(|_| course_dir.to_path_buf());
        TrustStore {
            file: data_dir.join(format!("trusted-{key}")),
            course: canon.to_string_lossy().into_owned(),
        }
    }

    /// Whether the learner said yes for this folder before. The file must
    /// name the same folder (the key's short hash could collide).
    pub fn is_trusted(&self) -> bool {
        std::fs::read_to_string(&self.file).is_ok_and(|s| s.trim_end() == self.course)
    }

    /// Records the yes.
    pub fn remember(&self) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.file, format!("{}\n", self.course))
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
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

/// The trust prompt shown in the pane area.
pub fn prompt_lines(lesson: &Lesson, t: &PaneText) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let path = lesson.path.display();
    let mut lines = vec![
        Line::styled(fill(t.trust_from, &[("path", &path)]), bold),
        Line::raw(t.trust_allowed),
    ];
    for (name, spec) in &lesson.front.sandboxes {
        lines.push(Line::styled(fill(t.trust_sandbox, &[("name", name)]), bold));
        for (d, warn) in describe(spec, t) {
            let style = if warn {
                Style::default().fg(Color::Red)
            } else {
                Style::default()
            };
            lines.push(Line::styled(format!("  • {d}"), style));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        t.trust_answer,
        Style::default().fg(Color::Yellow),
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::TrustStore;

    #[test]
    fn a_yes_is_remembered_per_course_folder() {
        let data = tempfile::tempdir().unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sa = TrustStore::new(data.path(), a.path());
        assert!(!sa.is_trusted());
        sa.remember().unwrap();
        assert!(TrustStore::new(data.path(), a.path()).is_trusted());
        assert!(!TrustStore::new(data.path(), b.path()).is_trusted());
        // A file naming another folder (a hash collision) does not count.
        std::fs::write(sa.path(), "/elsewhere\n").unwrap();
        assert!(!sa.is_trusted());
    }
}
