//! `kubelab lint`: everything that can be wrong in a course, found at once.
//!
//! The loader already reports what stops a file from loading (SUMMARY lines,
//! missing targets, front matter, UTF-8, size, fences, quizzes, id ≠ file
//! name). On top of that, lint checks what only matters across files or for
//! running labs: duplicate entries and ids, files left out of SUMMARY,
//! zh/en parity, sandbox and pane references, hints, and drafts.

use crate::course::lesson;
use crate::course::model::{Lang, Lesson, Requirement};
use crate::course::{self, LoadedCourse, Slot};
use crate::diagnostic::Diagnostic;
use crate::doc::ir::Interactive;
use crate::panes::kind::{PaneKind, PaneRef};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Pane kinds a lesson may ask for in `panes = [...]`: the names the
/// panes parse (one list, so lint and the reader cannot disagree).
pub const PANE_KINDS: [&str; PaneKind::ALL.len()] = {
    let all = crate::panes::kind::PaneKind::ALL;
    let mut names = [""; PaneKind::ALL.len()];
    let mut i = 0;
    while i < all.len() {
        names[i] = all[i].name();
        i += 1;
    }
    names
};

/// What lint found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sorted by file, line, column.
    pub diagnostics: Vec<Diagnostic>,
    pub books: usize,
    pub lessons: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Warning)
            .count()
    }

    fn finish(mut self) -> Report {
        self.diagnostics
            .sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
        self.diagnostics.dedup();
        self
    }
}

/// Lints `path`: a course directory (with `lessons/` or book directories),
/// one book directory (holding `book.toml`), or one lesson `.md` file.
pub fn lint_path(path: &Path) -> anyhow::Result<Report> {
    if path.is_file() {
        return Ok(lint_file(path));
    }
    if !path.is_dir() {
        anyhow::bail!("{}: no such file or directory", path.display());
    }
    if path.join("book.toml").is_file() || path.join("src/SUMMARY.md").is_file() {
        // One book: load its parent as a course, keep this book's findings.
        let parent = path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(".."));
        let lang: Option<Lang> = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok());
        if let (Some(lang), Ok(loaded)) = (lang, course::load(&parent)) {
            let mut r = lint_course(&loaded);
            let book_dir = loaded.book(lang).map(|b| b.dir.clone());
            r.diagnostics
                .retain(|d| book_dir.as_ref().is_some_and(|b| d.path.starts_with(b)));
            r.books = 1;
            r.lessons = loaded.lessons.iter().filter(|l| l.lang == lang).count();
            return Ok(r.finish());
        }
        anyhow::bail!(
            "{}: a book directory must be named zh or en (it holds the book of that language)",
            path.display()
        );
    }
    let loaded = course::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(lint_course(&loaded).finish())
}

/// Lints one lesson file on its own (language guessed from a `zh`/`en`
/// directory in its path).
pub fn lint_file(path: &Path) -> Report {
    let lang = path
        .components()
        .filter_map(|c| c.as_os_str().to_str()?.parse::<Lang>().ok())
        .next_back()
        .unwrap_or(Lang::Zh);
    let load = lesson::load_file(path, lang);
    let mut r = Report {
        diagnostics: load.diagnostics,
        books: 0,
        lessons: usize::from(load.lesson.is_some()),
    };
    if let Some(l) = load.lesson.as_ref().or(load.partial.as_ref()) {
        r.diagnostics.extend(lint_lesson(l));
    }
    r.finish()
}

/// Lints a loaded course (all books).
pub fn lint_course(loaded: &LoadedCourse) -> Report {
    let mut d = loaded.diagnostics.clone();
    for book in &loaded.course.books {
        d.extend(preprocessor_order(&book.dir.join("book.toml")));
        let summary = book.dir.join("src/SUMMARY.md");
        let mut targets: HashMap<&Path, u32> = HashMap::new();
        let mut ids: HashMap<&str, u32> = HashMap::new();
        for part in &book.parts {
            for ch in &part.chapters {
                let Some(p) = &ch.path else {
                    d.push(Diagnostic::warning(
                        &summary,
                        ch.summary_line,
                        1,
                        format!("`{}` is a draft (no lesson file yet)", ch.title),
                    ));
                    continue;
                };
                if let Some(first) = targets.insert(p, ch.summary_line) {
                    d.push(Diagnostic::error(
                        &summary,
                        ch.summary_line,
                        1,
                        format!(
                            "{} is already listed on line {first}; list each lesson once",
                            p.display()
                        ),
                    ));
                    continue;
                }
                if let Some(id) = &ch.id {
                    if let Some(first) = ids.insert(id, ch.summary_line) {
                        d.push(Diagnostic::error(
                            &summary,
                            ch.summary_line,
                            1,
                            format!("lesson id `{id}` is already used on line {first}; ids (file names) must be unique in a book"),
                        ));
                    }
                }
            }
        }
        // Lesson files that no SUMMARY entry points at.
        let src = book.dir.join("src");
        for f in md_files(&src) {
            let rel = f.strip_prefix(&src).unwrap_or(&f);
            if rel == Path::new("SUMMARY.md") || targets.contains_key(rel) {
                continue;
            }
            d.push(Diagnostic::warning(
                &f,
                0,
                0,
                format!(
                    "not in SUMMARY.md, so readers never see it; link it: `- [Title]({})`",
                    rel.display()
                ),
            ));
        }
    }
    // Lessons with load errors too: every error of a file in one run.
    for l in loaded.lessons.iter().chain(&loaded.partial) {
        d.extend(lint_lesson(l));
    }
    d.extend(parity(loaded));
    Report {
        diagnostics: d,
        books: loaded.course.books.len(),
        lessons: loaded.lessons.len(),
    }
}

/// A book built with `kubelab mdbook` must run it before mdBook's `links`
/// preprocessor, which reads `{{#include}}` files from anywhere.
fn preprocessor_order(toml_path: &Path) -> Option<Diagnostic> {
    let text = course::files::read_text(toml_path, 64 * 1024).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let pre = table.get("preprocessor")?.get("kubelab")?;
    let before = pre.get("before").and_then(|b| b.as_array());
    if before.is_some_and(|b| b.iter().any(|v| v.as_str() == Some("links"))) {
        return None;
    }
    let line = text
        .lines()
        .position(|l| l.trim() == "[preprocessor.kubelab]")
        .map_or(0, |i| i as u32 + 1);
    Some(Diagnostic::error(
        toml_path,
        line,
        1,
        "[preprocessor.kubelab] runs after mdBook's `links`, which would read {{#include}} \
         files from anywhere on the machine; add `before = [\"links\"]`",
    ))
}

fn md_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(md_files(&p));
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// zh and en must have the same lessons, and each lesson the same check and
/// quiz ids (progress is kept by id, whatever the language).
fn parity(loaded: &LoadedCourse) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let (Some(zh), Some(en)) = (loaded.book(Lang::Zh), loaded.book(Lang::En)) else {
        return d;
    };
    // id → (SUMMARY line, part, index, slot) per book
    let entries = |b: &crate::course::model::Book| {
        let mut m = BTreeMap::new();
        for (pi, part) in b.parts.iter().enumerate() {
            for (ci, ch) in part.chapters.iter().enumerate() {
                if let Some(id) = &ch.id {
                    m.entry(id.clone()).or_insert((
                        ch.summary_line,
                        pi,
                        ci,
                        loaded.slot(b.lang, pi, ci),
                    ));
                }
            }
        }
        m
    };
    let (ez, ee) = (entries(zh), entries(en));
    for (a, b, ea, eb) in [(zh, en, &ez, &ee), (en, zh, &ee, &ez)] {
        let summary = a.dir.join("src/SUMMARY.md");
        for (id, (line, pi, ci, _)) in ea {
            match eb.get(id) {
                None => d.push(Diagnostic::error(
                    &summary,
                    *line,
                    1,
                    format!(
                        "lesson `{id}` is in the {} book but not in the {} book; write {}/src/{id}.md and link it in its SUMMARY.md (until then {} readers see the {} text)",
                        a.lang, b.lang, b.lang, b.lang, a.lang
                    ),
                )),
                Some((_, bpi, bci, _)) if (bpi, bci) != (pi, ci) && a.lang == Lang::Zh => {
                    d.push(Diagnostic::warning(
                        &summary,
                        *line,
                        1,
                        format!(
                            "lesson `{id}` sits at a different place in the {} SUMMARY.md; keep both outlines in the same order",
                            b.lang
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    for (id, (_, _, _, slot)) in &ez {
        let (Some(Slot::Lesson(zi)), Some((_, _, _, Some(Slot::Lesson(ei))))) = (slot, ee.get(id))
        else {
            continue;
        };
        let (lz, le) = (&loaded.lessons[*zi], &loaded.lessons[*ei]);
        let ids = |l: &Lesson| -> BTreeSet<String> {
            l.doc
                .checks()
                .iter()
                .map(|c| format!("check `{}`", c.id))
                .chain(l.doc.quizzes().iter().map(|q| format!("quiz `{}`", q.id)))
                .collect()
        };
        let (iz, ie) = (ids(lz), ids(le));
        for (have, l, other, missing) in [(&iz, lz, le, &ie), (&ie, le, lz, &iz)] {
            for x in have.difference(missing) {
                d.push(Diagnostic::error(
                    &other.path,
                    0,
                    0,
                    format!(
                        "{x} of {} is missing here; both languages need the same check and quiz ids (progress is kept by id)",
                        l.path.display()
                    ),
                ));
            }
        }
    }
    d
}

/// Checks inside one lesson: unique block ids, sandbox and pane references,
/// hints.
pub fn lint_lesson(l: &Lesson) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let path = &l.path;
    let sandboxes = &l.front.sandboxes;
    // A world lesson's blocks and panes name nodes: src/lab/world/lint.rs.
    let world = l.front.world.is_some();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for i in l.doc.interactives() {
        let (id, sandbox, what) = match i {
            Interactive::Run(r) => (None, r.sandbox.as_deref(), "run block"),
            Interactive::Solution(s) => (None, s.sandbox.as_deref(), "solution"),
            Interactive::Check(c) => (Some(c.id.as_str()), c.sandbox.as_deref(), "check"),
            Interactive::Quiz(q) => (Some(q.id.as_str()), None, "quiz"),
        };
        let line = i.line();
        if let Some(id) = id {
            if let Some(first) = seen.insert(id, line) {
                d.push(Diagnostic::error(
                    path,
                    line,
                    1,
                    format!("id `{id}` is already used on line {first}; check and quiz ids must be unique in a lesson"),
                ));
            }
        }
        match sandbox {
            _ if world => {}
            Some(name) if !sandboxes.contains_key(name) => d.push(Diagnostic::error(
                path,
                line,
                1,
                format!(
                    "{what} names sandbox `{name}`, which the front matter does not declare; add [sandboxes.{name}]{}",
                    known(sandboxes.keys())
                ),
            )),
            None if sandboxes.is_empty() && !matches!(i, Interactive::Quiz(_)) => {
                let msg = format!(
                    "{what} needs a sandbox, but the front matter declares none; add e.g.\n[sandboxes.main]\nrootfs = \"host\""
                );
                d.push(if matches!(i, Interactive::Check(_)) {
                    Diagnostic::error(path, line, 1, msg)
                } else {
                    Diagnostic::warning(path, line, 1, msg)
                });
            }
            _ => {}
        }
        if let Interactive::Check(c) = i {
            if c.hint.is_none() {
                d.push(Diagnostic::warning(
                    path,
                    line,
                    1,
                    format!(
                        "check `{}` has no hint; add a `# hint: ...` line at the top of the script",
                        c.id
                    ),
                ));
            }
            let has_commands = c
                .code
                .lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
            if !has_commands {
                d.push(Diagnostic::error(
                    path,
                    line,
                    1,
                    format!(
                        "check `{}` has no commands, so it would always pass; write a script that exits 0 only when the task is done",
                        c.id
                    ),
                ));
            }
        }
    }
    // Limits only hold where cgroups work; `requires` lets `kubelab test`
    // skip the lab (with a reason) elsewhere instead of failing it.
    let limited: Vec<&str> = sandboxes
        .iter()
        .filter(|(_, s)| !s.limits.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    if !limited.is_empty() && !l.front.requires.contains(&Requirement::Cgroups) {
        d.push(Diagnostic::warning(
            path,
            front_line(l, "[sandboxes"),
            1,
            format!(
                "sandbox {} sets limits; add requires = [\"cgroups\"] so hosts without cgroups skip the lab instead of failing it",
                limited.join(", ")
            ),
        ));
    }
    // A world's nodes with Pods run Debian's CNI plugins (their bridge,
    // host-local, loopback, portmap): without them the world cannot start.
    let world_pods = l
        .front
        .world
        .as_ref()
        .is_some_and(|w| w.nodes.iter().any(|n| n.pods));
    if world_pods && !l.front.requires.contains(&Requirement::CniPlugins) {
        d.push(Diagnostic::warning(
            path,
            front_line(l, "[world"),
            1,
            "[world] has nodes with pods = true, which run Debian's CNI plugins from /usr/lib/cni; \
             add requires = [\"cni-plugins\"] so hosts without them skip the lab instead of failing it",
        ));
    }
    lint_needs_limits(l, sandboxes, path, &mut d);
    // Host facts some labs lean on: say so in `requires`, so a host without
    // them skips the lab with the reason instead of failing it.
    let mut warned: Vec<&str> = Vec::new();
    for (needle, req, name, why) in [
        (
            "/bin/busybox",
            Requirement::Busybox,
            "busybox",
            "it copies the host's busybox into a rootfs, which only runs there when statically linked",
        ),
        (
            "userxattr",
            Requirement::TmpfsXattr,
            "tmpfs-xattr",
            "it mounts an overlay with -o userxattr, which on tmpfs needs Linux 6.6+",
        ),
        (
            "tuntap",
            Requirement::Tun,
            "tun",
            "it makes a TUN/TAP device, and some hosts let only root open /dev/net/tun",
        ),
        (
            "/usr/lib/cni/",
            Requirement::CniPlugins,
            "cni-plugins",
            "it runs Debian's CNI plugins from /usr/lib/cni, which a host may not have",
        ),
        (
            "TUN:",
            Requirement::Tun,
            "tun",
            "socat's TUN address opens /dev/net/tun, which some hosts let only root open",
        ),
    ] {
        // One warning per requirement, however many of its needles match.
        if l.front.requires.contains(&req) || warned.contains(&name) {
            continue;
        }
        let first = l.doc.interactives().into_iter().find_map(|i| match i {
            Interactive::Run(b) if b.code.contains(needle) => Some(b.line),
            Interactive::Solution(b) if b.code.contains(needle) => Some(b.line),
            _ => None,
        });
        if let Some(line) = first {
            warned.push(name);
            d.push(Diagnostic::warning(
                path,
                line,
                1,
                format!("add requires = [\"{name}\"] to the front matter: {why}"),
            ));
        }
    }
    let pane_line = front_line(l, "panes");
    for p in &l.front.panes {
        let (kind, sb) = match p.split_once('@') {
            Some((k, s)) => (k, Some(s)),
            None => (p.as_str(), None),
        };
        if !PANE_KINDS.contains(&kind) {
            d.push(Diagnostic::error(
                path,
                pane_line,
                1,
                format!("unknown pane `{kind}`; panes are {}", PANE_KINDS.join(", ")),
            ));
        }
        if kind == crate::panes::kind::PaneKind::Objects.name()
            || kind == crate::panes::kind::PaneKind::Pods.name()
        {
            // Shows the cluster or the lab's node, not a sandbox
            // (src/cluster/lint.rs, src/lab/node/lint.rs).
            continue;
        }
        match sb {
            _ if world => {}
            Some(s) if !sandboxes.contains_key(s) => d.push(Diagnostic::error(
                path,
                pane_line,
                1,
                format!("pane `{p}` names sandbox `{s}`, which is not declared{}", known(sandboxes.keys())),
            )),
            None if sandboxes.is_empty() => d.push(Diagnostic::error(
                path,
                pane_line,
                1,
                format!("pane `{p}` shows a sandbox, but the front matter declares none; add [sandboxes.main]"),
            )),
            _ => {}
        }
    }
    d.extend(lint_step_panes(l));
    d.extend(unhighlighted_languages(l));
    d.extend(lint_labs(l));
    d
}

/// The cluster, node and world lints; a two-track lesson's each track as
/// the lab of its own it is (src/course/track.rs), and each with a check.
fn lint_labs(l: &Lesson) -> Vec<Diagnostic> {
    use crate::course::track::{self, Track};
    let one = |l: &Lesson| {
        let mut d = crate::cluster::lint::lint(l);
        d.extend(crate::lab::node::lint::lint(l));
        d.extend(crate::lab::world::lint::lint(l));
        d
    };
    if !track::two_track(&l.front) {
        return one(l);
    }
    let mut d = Vec::new();
    for t in [Track::Node, Track::Cluster] {
        let view = track::view(l, t);
        if view.doc.checks().is_empty() {
            d.push(Diagnostic::error(
                &l.path,
                front_line(l, "sandbox"),
                1,
                format!(
                    "a two-track lesson whose {} track has no check; every track proves what \
                     the learner did (a block naming the cluster sandbox, or a kind=cluster check, \
                     is the cluster track; every other one the node track)",
                    t.name()
                ),
            ));
        }
        for x in one(&view) {
            if !d.contains(&x) {
                d.push(x);
            }
        }
    }
    d
}

/// A note for each fence language the reader shows without highlighting
/// (first block per language): a typo (`ymal`) or a grammar to add.
fn unhighlighted_languages(l: &Lesson) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    let mut d = Vec::new();
    crate::doc::ir::walk(&l.doc.blocks, &mut |b| {
        if let crate::doc::ir::Block::Code {
            lang: Some(lang),
            line,
            ..
        } = b
        {
            if seen.insert(lang.clone()) && !crate::render::highlight::knows(lang) {
                d.push(Diagnostic::note(
                    &l.path,
                    *line,
                    1,
                    format!("code in `{lang}` is shown without highlighting: the reader has no grammar for it"),
                ));
            }
        }
    });
    d
}

/// `step_panes` keys must be `##` headings of this lesson and values one of
/// its inspector panes, or the choice would silently never happen.
fn lint_step_panes(l: &Lesson) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    if l.front.step_panes.is_empty() {
        return d;
    }
    let text = std::fs::read_to_string(&l.path).unwrap_or_default();
    let table_line = front_line_in(&text, "[step_panes");
    let headings: Vec<String> = l.doc.steps().into_iter().map(|(_, t)| t).collect();
    let default = l.front.default_sandbox();
    let resolve = |p: &PaneRef| (p.kind, p.sandbox_or(default));
    let inspectors: Vec<(&str, PaneRef)> = l
        .front
        .panes
        .iter()
        .filter_map(|s| Some((s.as_str(), s.parse::<PaneRef>().ok()?)))
        .filter(|(_, p)| p.kind != PaneKind::Shell)
        .collect();
    let quoted = |v: &[&str]| {
        v.iter()
            .map(|h| format!("\"{h}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (step, pane) in &l.front.step_panes {
        // The entry's own line (a quoted key, as TOML escapes it), else the
        // table's.
        let key = step.replace('\\', "\\\\").replace('"', "\\\"");
        let line = match front_line_in(&text, &format!("\"{key}\"")) {
            1 => table_line,
            n => n,
        };
        let mut error = |message: String| d.push(Diagnostic::error(&l.path, line, 1, message));
        if !headings.contains(step) {
            let known: Vec<&str> = headings.iter().map(String::as_str).collect();
            error(format!(
                "step_panes names the step \"{step}\", but no `##` heading has that text; use a heading exactly as written{}",
                if known.is_empty() { String::new() } else { format!(" (headings: {})", quoted(&known)) }
            ));
        }
        match pane.parse::<PaneRef>() {
            Err(e) => error(format!("step_panes: {e}")),
            Ok(p) if !inspectors.iter().any(|(_, i)| resolve(i) == resolve(&p)) => {
                let names: Vec<&str> = inspectors.iter().map(|(s, _)| *s).collect();
                error(format!(
                    "step_panes shows `{pane}` for \"{step}\", but it is not one of the inspector panes in `panes`; add it there or pick one of {}",
                    names.join(", ")
                ))
            }
            Ok(_) => {}
        }
    }
    d
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = names.map(String::as_str).collect();
    if v.is_empty() {
        String::new()
    } else {
        format!(" (declared: {})", v.join(", "))
    }
}

/// Line of a front-matter key (for messages about front-matter values).
fn front_line(l: &Lesson, key: &str) -> u32 {
    front_line_in(&std::fs::read_to_string(&l.path).unwrap_or_default(), key)
}

/// Line of a front-matter key in the lesson text. Only the front matter is
/// searched (it is size-limited), so looking up many keys stays cheap.
fn front_line_in(text: &str, key: &str) -> u32 {
    text.lines()
        .enumerate()
        .skip(1)
        .take_while(|(_, x)| x.trim_end() != "+++")
        .find(|(_, x)| x.trim_start().starts_with(key))
        .map_or(1, |(i, _)| i as u32 + 1)
}

/// `needs=limits` blocks: the lesson must say it `requires` cgroups (that is
/// what `kubelab test` skips on) and their sandbox must set limits; a check
/// reading the sandbox's cgroup should carry the marker, so that where limits
/// are off it shows as not available instead of failing for ever.
fn lint_needs_limits(
    l: &Lesson,
    sandboxes: &BTreeMap<String, kubelab_sandbox::spec::Spec>,
    path: &Path,
    d: &mut Vec<Diagnostic>,
) {
    let requires = l.front.requires.contains(&Requirement::Cgroups);
    for i in l.doc.interactives() {
        let (needs, named, line, kind) = match i {
            Interactive::Run(b) => (b.needs_limits, b.sandbox.as_deref(), b.line, "run block"),
            Interactive::Solution(b) => (b.needs_limits, b.sandbox.as_deref(), b.line, "solution"),
            Interactive::Check(c) => {
                if !c.needs_limits && requires && c.code.contains("KUBELAB_CGROUP") {
                    d.push(Diagnostic::warning(
                        path,
                        c.line,
                        1,
                        format!(
                            "check `{}` reads the sandbox's cgroup; add needs=limits so it shows as not available where limits are off, instead of never passing",
                            c.id
                        ),
                    ));
                }
                (c.needs_limits, c.sandbox.as_deref(), c.line, "check")
            }
            Interactive::Quiz(_) => continue,
        };
        if !needs {
            continue;
        }
        if !requires {
            d.push(Diagnostic::error(
                path,
                line,
                1,
                format!(
                    "this {kind} has needs=limits but the lesson does not say requires = [\"cgroups\"]; add it, so `kubelab test` skips the lab where limits are unavailable"
                ),
            ));
        }
        let Some(name) = crate::lab::model::sandbox_for(&l.front, named) else {
            continue; // no sandbox at all: reported elsewhere
        };
        if sandboxes.get(name).is_some_and(|s| s.limits.is_empty()) {
            d.push(Diagnostic::error(
                path,
                line,
                1,
                format!(
                    "this {kind} has needs=limits but sandbox `{name}` sets no limits; add [sandboxes.{name}.limits] (memory, cpus, pids) or drop needs=limits"
                ),
            ));
        }
    }
}
