//! `kubelab class report FILES…`: many learners' exports merged into one
//! roster. A file that is not an export, is corrupt, comes from a newer
//! schema or from another course is named and skipped; an export of the
//! same course but another version of its content is kept and flagged.

use super::export::{Export, EXPORT_KIND, EXPORT_SCHEMA};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The course the class is taking: its id and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseRef {
    pub id: String,
    pub content_hash: String,
}

/// One file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub file: PathBuf,
    pub export: Export,
    /// Same course, different content hash.
    pub other_version: bool,
}

#[derive(Debug, Clone)]
pub struct Roster {
    pub course: Option<CourseRef>,
    /// Columns: lesson ids (and titles) with at least one check, in outline order.
    pub lessons: Vec<(String, String)>,
    pub rows: Vec<Row>,
    pub skipped: Vec<Skipped>,
}

/// An export is one learner's progress: a few KiB. A file handed in by a
/// learner is read only up to this size.
pub const MAX_EXPORT_BYTES: u64 = 4 << 20;

/// Reads and checks one export file.
pub fn read_export(path: &Path) -> Result<Export, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_EXPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_EXPORT_BYTES {
        return Err(format!(
            "larger than {} MiB: not a kubelab progress export",
            MAX_EXPORT_BYTES >> 20
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "not a kubelab progress export: not valid JSON (line {}: {e})",
            e.line()
        )
    })?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(EXPORT_KIND) {
        return Err(format!(
            "not a kubelab progress export (no \"kind\": \"{EXPORT_KIND}\"); \
             make one with `kubelab progress export`"
        ));
    }
    match value.get("schema").and_then(|s| s.as_u64()) {
        Some(s) if s == u64::from(EXPORT_SCHEMA) => {}
        Some(s) if s > u64::from(EXPORT_SCHEMA) => {
            return Err(format!(
                "export schema {s} is newer than this kubelab reads ({EXPORT_SCHEMA}); \
                 update kubelab to include it"
            ))
        }
        _ => return Err("export has no valid \"schema\" number".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("corrupt export: {e}"))
}

/// Builds the roster. `course` is the class's course (from `--course`);
/// without it, the course and version most exports share is taken.
pub fn build(files: &[PathBuf], course: Option<CourseRef>) -> Roster {
    let mut skipped = Vec::new();
    let mut exports: Vec<(PathBuf, Export)> = Vec::new();
    for file in files {
        match read_export(file) {
            Ok(e) => exports.push((file.clone(), e)),
            Err(reason) => skipped.push(Skipped {
                file: file.clone(),
                reason,
            }),
        }
    }
    let course = course.or_else(|| majority(&exports));
    let mut rows = Vec::new();
    for (file, export) in exports {
        let Some(c) = &course else { continue };
        if export.course.id != c.id {
            skipped.push(Skipped {
                file,
                reason: format!(
                    "export of course `{}`, not of this class's course `{}`",
                    export.course.id, c.id
                ),
            });
            continue;
        }
        rows.push(Row {
            other_version: export.course.content_hash != c.content_hash,
            file,
            export,
        });
    }
    // Skipped files in the order given, as the instructor listed them.
    skipped.sort_by_key(|s| files.iter().position(|f| f == &s.file));
    rows.sort_by(|a, b| (&a.export.learner, &a.file).cmp(&(&b.export.learner, &b.file)));

    // Columns: the outline of an export of the reference version first, then
    // lessons only older/newer versions have.
    let mut lessons: Vec<(String, String)> = Vec::new();
    let ordered = rows
        .iter()
        .filter(|r| !r.other_version)
        .chain(rows.iter().filter(|r| r.other_version));
    for row in ordered {
        for l in &row.export.lessons {
            if l.checks_total > 0 && !lessons.iter().any(|(id, _)| id == &l.id) {
                lessons.push((l.id.clone(), l.title.clone()));
            }
        }
    }
    Roster {
        course,
        lessons,
        rows,
        skipped,
    }
}

/// The (course id, hash) most exports carry; ties go to the first seen.
fn majority(exports: &[(PathBuf, Export)]) -> Option<CourseRef> {
    let mut counts: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (i, (_, e)) in exports.iter().enumerate() {
        let entry = counts
            .entry((&e.course.id, &e.course.content_hash))
            .or_insert((0, i));
        entry.0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
        .map(|((id, hash), _)| CourseRef {
            id: id.to_owned(),
            content_hash: hash.to_owned(),
        })
}

impl Row {
    /// `passed/total` for one lesson, or `None` when this export's course
    /// version has no such lesson.
    pub fn cell(&self, lesson: &str) -> Option<(usize, u32)> {
        self.export
            .lessons
            .iter()
            .find(|l| l.id == lesson)
            .map(|l| (l.checks_passed.len(), l.checks_total))
    }

    /// Lessons done / lessons with checks.
    pub fn done(&self) -> (usize, usize) {
        let with_checks = self.export.lessons.iter().filter(|l| l.checks_total > 0);
        (
            with_checks.clone().filter(|l| l.done).count(),
            with_checks.count(),
        )
    }

    /// Quizzes answered right / quizzes in the course.
    pub fn quizzes(&self) -> (usize, u32) {
        let right = self
            .export
            .lessons
            .iter()
            .flat_map(|l| &l.quiz_answers)
            .filter(|a| a.correct)
            .count();
        (
            right,
            self.export.lessons.iter().map(|l| l.quizzes_total).sum(),
        )
    }

    /// Quizzes whose first answer was right, when the export records first
    /// answers (kubelab versions before that left them out).
    pub fn quizzes_first_try(&self) -> Option<usize> {
        let firsts: Vec<bool> = self
            .export
            .lessons
            .iter()
            .flat_map(|l| &l.quiz_answers)
            .filter_map(|a| a.first_correct)
            .collect();
        (!firsts.is_empty()).then(|| firsts.iter().filter(|&&r| r).count())
    }

    fn name(&self) -> String {
        self.export.learner.clone()
    }
}

fn short_hash(h: &str) -> &str {
    let end = h.char_indices().nth(19).map_or(h.len(), |(i, _)| i);
    &h[..end]
}

/// A table cell from export data (untrusted): no `|`, no line break, no
/// terminal control.
fn md_cell(s: &str) -> String {
    crate::sanitize::line(&s.replace('|', "\\|").replace('\n', " ")).into_owned()
}

/// The Markdown report.
pub fn markdown(r: &Roster) -> String {
    let mut out = String::new();
    match &r.course {
        Some(c) => {
            let _ = writeln!(
                out,
                "# Class report: {} ({}…)\n",
                md_cell(&c.id),
                short_hash(&c.content_hash)
            );
        }
        None => out.push_str("# Class report\n\n"),
    }
    let dup = duplicates(r);
    if r.rows.is_empty() {
        out.push_str("No usable exports.\n");
    } else {
        out.push_str("| Learner | Lessons done |");
        for (id, _) in &r.lessons {
            let _ = write!(out, " {} |", md_cell(id));
        }
        out.push_str(" Quizzes right | Note |\n|---|---:|");
        out.push_str(&"---:|".repeat(r.lessons.len()));
        out.push_str("---:|---|\n");
        for row in &r.rows {
            let mut name = md_cell(&row.name());
            if dup.contains(&row.export.learner) {
                let _ = write!(name, " ({})", md_cell(&file_name(&row.file)));
            }
            let (d, t) = row.done();
            let _ = write!(out, "| {name} | {d}/{t} |");
            for (id, _) in &r.lessons {
                match row.cell(id) {
                    Some((p, t)) => {
                        let _ = write!(out, " {p}/{t} |");
                    }
                    None => out.push_str(" – |"),
                }
            }
            let (q, qt) = row.quizzes();
            match row.quizzes_first_try() {
                Some(f) => {
                    let _ = write!(out, " {q}/{qt} ({f} first try) |");
                }
                None => {
                    let _ = write!(out, " {q}/{qt} |");
                }
            }
            if row.other_version {
                let _ = write!(
                    out,
                    " ⚠ other course version ({}…, kubelab {}) |",
                    short_hash(&row.export.course.content_hash),
                    md_cell(&row.export.kubelab_version)
                );
            } else {
                out.push_str(" |");
            }
            out.push('\n');
        }
        let flagged = r.rows.iter().filter(|row| row.other_version).count();
        if flagged > 0 {
            let _ = writeln!(
                out,
                "\n⚠ {flagged} export(s) were made with a different version of the course \
                 content; their totals may not match the columns."
            );
        }
    }
    if !r.skipped.is_empty() {
        out.push_str("\n## Skipped files\n\n");
        for s in &r.skipped {
            let file = s.file.display().to_string();
            let _ = writeln!(out, "- `{}`: {}", md_cell(&file), md_cell(&s.reason));
        }
    }
    out
}

/// The CSV report: one row per learner and lesson.
pub fn csv(r: &Roster) -> String {
    use super::export::csv_cell;
    let mut out =
        String::from("learner,file,lesson,checks_passed,checks_total,done,other_version\n");
    for row in &r.rows {
        for (id, _) in &r.lessons {
            let Some((p, t)) = row.cell(id) else { continue };
            let cells = [
                row.name(),
                row.file.display().to_string(),
                id.clone(),
                p.to_string(),
                t.to_string(),
                (t > 0 && p as u32 >= t).to_string(),
                row.other_version.to_string(),
            ];
            let line: Vec<String> = cells
                .iter()
                .map(|c| csv_cell(&crate::sanitize::line(c)))
                .collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

fn duplicates(r: &Roster) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for row in &r.rows {
        *seen.entry(&row.export.learner).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_owned())
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
