//! Fitness test: imports point only down the layers written in
//! docs/layers.toml (read it for the rules; docs/ARCHITECTURE.md for why).
//!
//! It reads every `.rs` file under a crate's `src/` (comments and string
//! literals removed), takes each `crate::x` path and each item of a
//! `use crate::{x, y::z}` group, and checks the top-level module `x` against
//! the importing file's layer. It also checks that each workspace crate
//! depends only on crates below it, from the members' Cargo.toml files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The rules' file, relative to the workspace root.
const LAYERS_FILE: &str = "docs/layers.toml";

#[derive(Debug)]
struct Layer {
    name: String,
    modules: Vec<String>,
}

/// One reference from a file to a top-level module of its crate.
#[derive(Debug, Clone)]
struct Import {
    /// Path relative to the workspace root.
    file: String,
    line: usize,
    /// The top-level module named after `crate::`.
    target: String,
    /// The source line, trimmed (what the failure quotes).
    text: String,
}

/// What a check found, with enough counts to show it read something.
#[derive(Debug, Default)]
struct Report {
    problems: Vec<String>,
    files_read: usize,
    imports_read: usize,
}

/// Checks the workspace at `root` against its `docs/layers.toml`.
fn check_workspace(root: &Path) -> Report {
    let mut report = Report::default();
    let config = match read_toml(&root.join(LAYERS_FILE)) {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    let order: Vec<String> = config
        .get("workspace")
        .and_then(|w| w.get("order"))
        .and_then(|o| o.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if order.is_empty() {
        report.problems.push(format!(
            "{LAYERS_FILE}: `[workspace] order` must list the workspace's crates, bottom first"
        ));
    }
    let members = match workspace_members(root) {
        Ok(m) => m,
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    check_crate_direction(root, &order, &members, &mut report.problems);

    let crates = config.get("crates").and_then(|c| c.as_table());
    for (name, spec) in crates.into_iter().flatten() {
        let Some(dir) = members.get(name) else {
            report.problems.push(format!(
                "{LAYERS_FILE}: [crates.{name}] is not a workspace member (members: {})",
                members.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        };
        match parse_layers(name, spec) {
            Ok(layers) => check_crate(root, dir, name, &layers, &mut report),
            Err(e) => report.problems.push(e),
        }
    }
    report
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Package name → directory (relative to `root`) of every workspace member.
fn workspace_members(root: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
    let manifest = read_toml(&root.join("Cargo.toml"))?;
    let dirs = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .ok_or("Cargo.toml: no [workspace] members")?;
    let mut out = BTreeMap::new();
    for d in dirs.iter().filter_map(|d| d.as_str()) {
        let dir = PathBuf::from(d);
        let m = read_toml(&root.join(&dir).join("Cargo.toml"))?;
        let name = m
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .ok_or_else(|| format!("{d}/Cargo.toml: no package name"))?;
        out.insert(name.to_string(), dir);
    }
    Ok(out)
}

/// Every dependency a manifest names, with the table it is in: the normal,
/// dev and build tables, also under `[target.'cfg(..)']`. A renamed
/// dependency counts by its `package`.
fn dependencies(manifest: &toml::Table) -> Vec<(String, String)> {
    let mut tables: Vec<(String, &toml::Table)> = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        if let Some(t) = manifest.get(kind).and_then(|t| t.as_table()) {
            tables.push((format!("[{kind}]"), t));
        }
    }
    for (cfg, target) in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flatten()
    {
        for kind in kinds {
            if let Some(t) = target.get(kind).and_then(|t| t.as_table()) {
                tables.push((format!("[target.{cfg}.{kind}]"), t));
            }
        }
    }
    let mut out = Vec::new();
    for (where_, t) in tables {
        for (key, value) in t {
            let name = value.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            out.push((name.to_string(), where_.clone()));
        }
    }
    out
}

fn check_crate_direction(
    root: &Path,
    order: &[String],
    members: &BTreeMap<String, PathBuf>,
    problems: &mut Vec<String>,
) {
    let rank = |n: &str| order.iter().position(|o| o == n);
    for name in order.iter().filter(|n| !members.contains_key(*n)) {
        problems.push(format!(
            "{LAYERS_FILE}: `{name}` in [workspace] order is not a workspace member"
        ));
    }
    for (name, dir) in members {
        let manifest_path = dir.join("Cargo.toml");
        let Some(own) = rank(name) else {
            problems.push(format!(
                "{}: crate `{name}` is missing from [workspace] order in {LAYERS_FILE}; \
                 add it where it belongs (bottom first)",
                manifest_path.display()
            ));
            continue;
        };
        let manifest = match read_toml(&root.join(&manifest_path)) {
            Ok(m) => m,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for (dep, table) in dependencies(&manifest) {
            let Some(theirs) = rank(&dep) else { continue };
            if theirs >= own {
                problems.push(format!(
                    "{}: crate `{name}` depends on `{dep}` ({table}), which is not below it. \
                     Rule ({LAYERS_FILE}): a crate depends only on crates before it in \
                     [workspace] order: {}",
                    manifest_path.display(),
                    order.join(" < ")
                ));
            }
        }
    }
}

fn parse_layers(name: &str, spec: &toml::Value) -> Result<Vec<Layer>, String> {
    let bad = || {
        format!(
            "{LAYERS_FILE}: [crates.{name}] needs [[crates.{name}.layers]] tables, \
             each with a name and a list of modules"
        )
    };
    let layers = spec
        .get("layers")
        .and_then(|l| l.as_array())
        .ok_or_else(bad)?;
    layers
        .iter()
        .map(|l| {
            let name = l.get("name").and_then(|n| n.as_str()).ok_or_else(bad)?;
            let modules = l
                .get("modules")
                .and_then(|m| m.as_array())
                .ok_or_else(bad)?;
            Ok(Layer {
                name: name.to_string(),
                modules: modules
                    .iter()
                    .map(|m| m.as_str().map(String::from).ok_or_else(bad))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// The top-level module a file under `src/` belongs to; `None` for the
/// crate roots (lib.rs, main.rs) and `src/bin/`, which sit above all layers.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" | "bin" => None,
        f => Some(f.strip_suffix(".rs").unwrap_or(f).to_string()),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn check_crate(root: &Path, dir: &Path, name: &str, layers: &[Layer], report: &mut Report) {
    let problems = &mut report.problems;
    let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, l) in layers.iter().enumerate() {
        for m in &l.modules {
            if layer_of.insert(m, i).is_some() {
                problems.push(format!(
                    "{LAYERS_FILE}: [crates.{name}] lists module `{m}` in more than one layer"
                ));
            }
        }
    }
    let src = root.join(dir).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut present = BTreeSet::new();
    let mut imports: Vec<(String, Import)> = Vec::new();
    for path in &files {
        let rel_src = path.strip_prefix(&src).unwrap_or(path);
        let Some(module) = top_module(rel_src) else {
            continue;
        };
        present.insert(module.clone());
        let Ok(text) = std::fs::read_to_string(path) else {
            problems.push(format!("{}: cannot read", path.display()));
            continue;
        };
        report.files_read += 1;
        let rel = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        for imp in crate_imports(&text, &rel) {
            if imp.target != module {
                imports.push((module.clone(), imp));
            }
        }
    }
    report.imports_read += imports.len();
    for m in &present {
        if !layer_of.contains_key(m.as_str()) {
            problems.push(format!(
                "{}: top-level module `{m}` of crate `{name}` is in no layer of {LAYERS_FILE}; \
                 add it to the layer it belongs to",
                dir.join("src").join(m).display()
            ));
        }
    }
    for m in layer_of.keys().filter(|m| !present.contains(**m)) {
        problems.push(format!(
            "{LAYERS_FILE}: [crates.{name}] lists `{m}`, which is not a module in {}",
            dir.join("src").display()
        ));
    }
    // Imports that climb, and the edges inside each layer (first site each).
    let mut same_layer: BTreeMap<(String, String), Import> = BTreeMap::new();
    for (from, imp) in &imports {
        let Some(&lf) = layer_of.get(from.as_str()) else {
            continue;
        };
        let Some(&lt) = layer_of.get(imp.target.as_str()) else {
            problems.push(format!(
                "{}:{}: `{}`: `crate::{}` is not a module in any layer of {LAYERS_FILE} \
                 (an item of the crate root sits above every layer); move it into a module",
                imp.file, imp.line, imp.text, imp.target
            ));
            continue;
        };
        if lt > lf {
            problems.push(format!(
                "{}:{}: `{}`: module `{from}` (layer {} \"{}\") imports `{}` (layer {} \"{}\"), \
                 a higher layer. Rule ({LAYERS_FILE}): a module imports only its own layer or \
                 layers below it; move the code that is needed down, or this code up",
                imp.file,
                imp.line,
                imp.text,
                lf + 1,
                layers[lf].name,
                imp.target,
                lt + 1,
                layers[lt].name
            ));
        } else if lt == lf {
            same_layer
                .entry((from.clone(), imp.target.clone()))
                .or_insert_with(|| imp.clone());
        }
    }
    for circle in circles(&same_layer) {
        let path: Vec<String> = circle
            .windows(2)
            .map(|w| {
                let imp = &same_layer[&(w[0].clone(), w[1].clone())];
                format!(
                    "`{}` → `{}` ({}:{}: `{}`)",
                    w[0], w[1], imp.file, imp.line, imp.text
                )
            })
            .collect();
        let layer = &layers[layer_of[circle[0].as_str()]].name;
        problems.push(format!(
            "import circle in layer \"{layer}\" of crate `{name}`: {}. Rule ({LAYERS_FILE}): \
             imports inside a layer must not form a circle; move the shared code down a layer",
            path.join(", ")
        ));
    }
}

/// Each circle among `edges` once, as a closed path `[a, b, .., a]`: one
/// per strongly connected group of two or more modules.
fn circles(edges: &BTreeMap<(String, String), Import>) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        next.entry(a).or_default().push(b);
    }
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for m in next.get(n.as_str()).into_iter().flatten() {
                if seen.insert(m.to_string()) {
                    todo.push(m.to_string());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for start in next.keys() {
        if done.contains(*start) || !reach(start).contains(*start) {
            continue;
        }
        // A shortest way back to `start` (breadth first) is the circle shown.
        let mut back: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.to_string()]);
        'search: while let Some(n) = queue.pop_front() {
            for m in next.get(n.as_str()).into_iter().flatten() {
                if *m == *start {
                    back.insert(start.to_string(), n.clone());
                    break 'search;
                }
                if !back.contains_key(*m) {
                    back.insert(m.to_string(), n.clone());
                    queue.push_back(m.to_string());
                }
            }
        }
        let mut path = vec![start.to_string()];
        let mut at = back[*start].clone();
        while at != *start {
            path.push(at.clone());
            at = back[&at].clone();
        }
        path.push(start.to_string());
        path.reverse();
        // Modules that reach each other share this circle's group.
        let group = reach(start);
        for m in &group {
            if reach(m).contains(*start) {
                done.insert(m.clone());
            }
        }
        out.push(path);
    }
    out
}

/// Every `crate::x` reference in `text` (a file shown as `file`).
fn crate_imports(text: &str, file: &str) -> Vec<Import> {
    let code = strip_comments_and_strings(text);
    let lines: Vec<&str> = text.lines().collect();
    let chars: Vec<char> = code.chars().collect();
    let line_at = {
        let mut starts = Vec::with_capacity(chars.len());
        let mut line = 1;
        for &c in &chars {
            starts.push(line);
            if c == '\n' {
                line += 1;
            }
        }
        starts
    };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let skip_ws = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let ident_at = |i: usize| {
        let end = (i..chars.len())
            .find(|&j| !is_ident(chars[j]))
            .unwrap_or(chars.len());
        (chars[i..end].iter().collect::<String>(), end)
    };
    let mut out = Vec::new();
    let mut push = |at: usize, name: String| {
        if name.is_empty() || name == "self" {
            return;
        }
        let line = line_at[at];
        out.push(Import {
            file: file.to_string(),
            line,
            target: name,
            text: lines.get(line - 1).map_or("", |l| l.trim()).to_string(),
        });
    };
    let mut i = 0;
    while i + 5 <= chars.len() {
        let word = chars[i..i + 5].iter().collect::<String>() == "crate";
        let before_ok = i == 0 || !is_ident(chars[i - 1]);
        let after_ok = chars.get(i + 5).is_none_or(|&c| !is_ident(c));
        if !(word && before_ok && after_ok) {
            i += 1;
            continue;
        }
        let j = skip_ws(i + 5);
        if chars.get(j) != Some(&':') || chars.get(j + 1) != Some(&':') {
            i += 5;
            continue;
        }
        let j = skip_ws(j + 2);
        match chars.get(j) {
            Some('{') => {
                // `use crate::{a::b, c, d::{e, f}}`: the first name of each
                // item at the group's top level.
                let mut depth = 0;
                let mut expect_item = true;
                let mut k = j;
                while k < chars.len() {
                    match chars[k] {
                        '{' => {
                            depth += 1;
                            expect_item = depth == 1;
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => expect_item = true,
                        c if expect_item && depth == 1 && is_ident(c) => {
                            let (name, end) = ident_at(k);
                            push(k, name);
                            expect_item = false;
                            k = end;
                            continue;
                        }
                        _ => {}
                    }
                    k += 1;
                }
                i = k;
            }
            Some(&c) if is_ident(c) => {
                let (name, end) = ident_at(j);
                push(j, name);
                i = end;
            }
            _ => i = j,
        }
    }
    out
}

/// `text` with comments, string and char literals blanked out (newlines
/// kept, so line numbers stay), so only code is read.
fn strip_comments_and_strings(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied();
        let prev_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if at(i) == Some('/') && at(i + 1) == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if at(i) == Some('/') && at(i + 1) == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if at(i) == Some('/') && at(i + 1) == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if at(i) == Some('*') && at(i + 1) == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if at(i) == Some('r')
            && (!prev_ident || (i > 0 && c[i - 1] == 'b' && (i < 2 || !c[i - 2].is_alphanumeric())))
            && matches!(at(i + 1), Some('#' | '"'))
        {
            // Raw string r"..", r#".."#, br#".."#.
            let hashes = (i + 1..c.len()).take_while(|&k| c[k] == '#').count();
            if at(i + 1 + hashes) != Some('"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let body_start = i + 2 + hashes;
            let end = (body_start..c.len())
                .find(|&k| c[k..].iter().take(close.len()).copied().eq(close.chars()))
                .map_or(c.len(), |k| k + close.len());
            for &ch in &c[i..end] {
                blank(&mut out, ch);
            }
            i = end;
        } else if at(i) == Some('"') {
            blank(&mut out, c[i]);
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' && i + 1 < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            if i < c.len() {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if at(i) == Some('\'') {
            // A char literal ('x', '\n', '\u{1b}') or a lifetime ('a).
            let end = if at(i + 1) == Some('\\') {
                (i + 3..c.len()).find(|&k| c[k] == '\'').map(|k| k + 1)
            } else if at(i + 2) == Some('\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &ch in &c[i..end] {
                        blank(&mut out, ch);
                    }
                    i = end;
                }
                None => {
                    out.push(c[i]);
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn the_workspace_keeps_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = check_workspace(root);
    assert!(
        report.problems.is_empty(),
        "{} problem(s) with the layers of {LAYERS_FILE}:\n{}",
        report.problems.len(),
        report.problems.join("\n")
    );
    // It really read the app: a checker that reads nothing passes anything.
    assert!(report.files_read > 100, "{report:?}");
    assert!(report.imports_read > 300, "{report:?}");
}

/// A small workspace in a temporary directory: crate `top` at the root
/// with modules `base` (layer 1) and `feature` (layer 2), and crate `low`.
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        let fake = Fake {
            dir: tempfile::tempdir().unwrap(),
        };
        fake.write(
            "Cargo.toml",
            "[workspace]\nmembers = [\".\", \"low\"]\n\n[package]\nname = \"top\"\n\n\
             [dependencies]\nlow = { path = \"low\" }\n",
        );
        fake.write("low/Cargo.toml", "[package]\nname = \"low\"\n");
        fake.write("low/src/lib.rs", "");
        fake.write(
            LAYERS_FILE,
            "[workspace]\norder = [\"low\", \"top\"]\n\n[crates.top]\n\n\
             [[crates.top.layers]]\nname = \"bottom\"\nmodules = [\"base\", \"util\"]\n\n\
             [[crates.top.layers]]\nname = \"upper\"\nmodules = [\"feature\"]\n",
        );
        fake.write(
            "src/lib.rs",
            "pub mod base;\npub mod feature;\npub mod util;\n",
        );
        fake.write("src/base.rs", "//! Base.\npub struct Thing;\n");
        fake.write("src/util.rs", "pub fn help() {}\n");
        fake.write(
            "src/feature/mod.rs",
            "use crate::base::Thing;\nuse crate::{util, base};\npub fn f(_: Thing) { util::help() }\n",
        );
        fake
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn problems(&self) -> Vec<String> {
        check_workspace(self.dir.path()).problems
    }
}

#[test]
fn a_fake_workspace_that_keeps_its_layers_is_green() {
    let fake = Fake::new();
    assert_eq!(fake.problems(), Vec::<String>::new());
}

#[test]
fn an_import_of_a_higher_layer_is_red_naming_file_line_import_and_rule() {
    let fake = Fake::new();
    fake.write(
        "src/base.rs",
        "//! Base.\npub struct Thing;\n\nuse crate::feature::f;\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    for part in [
        "src/base.rs:4:",
        "`use crate::feature::f;`",
        "module `base` (layer 1 \"bottom\") imports `feature` (layer 2 \"upper\")",
        "Rule (docs/layers.toml): a module imports only its own layer or layers below it",
    ] {
        assert!(p.contains(part), "{part:?} not in {p}");
    }
}

#[test]
fn grouped_multi_line_and_inline_paths_count_but_comments_and_strings_do_not() {
    let fake = Fake::new();
    fake.write(
        "src/util.rs",
        "// use crate::feature::f;\n/* crate::feature */\nconst S: &str = \"crate::feature::f\";\n\
         const R: &str = r#\"crate::feature\"#;\nconst C: char = '\"';\n\
         fn g<'a>(x: &'a str) -> &'a str { x }\npub fn help() {}\n",
    );
    assert_eq!(fake.problems(), Vec::<String>::new());
    fake.write(
        "src/util.rs",
        "use crate::{\n    base::Thing,\n    feature::{self, f},\n};\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("src/util.rs:3:"), "{}", problems[0]);
    fake.write(
        "src/util.rs",
        "pub fn help() { crate::feature::f(crate::base::Thing) }\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("src/util.rs:1:"), "{}", problems[0]);
}

#[test]
fn a_circle_inside_a_layer_is_red() {
    let fake = Fake::new();
    fake.write(
        "src/base.rs",
        "pub struct Thing;\npub fn b() { crate::util::help() }\n",
    );
    fake.write(
        "src/util.rs",
        "pub fn help() {}\nfn u(_: crate::base::Thing) {}\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert!(p.starts_with("import circle in layer \"bottom\""), "{p}");
    assert!(
        p.contains("`base` → `util` (src/base.rs:2:")
            && p.contains("`util` → `base` (src/util.rs:2:"),
        "{p}"
    );
}

#[test]
fn a_module_in_no_layer_and_a_layer_naming_no_module_are_red() {
    let fake = Fake::new();
    fake.write("src/extra.rs", "pub fn e() {}\n");
    std::fs::remove_file(fake.dir.path().join("src/util.rs")).unwrap();
    fake.write("src/feature/mod.rs", "pub fn f() {}\n");
    let problems = fake.problems().join("\n");
    assert!(problems.contains("top-level module `extra`"), "{problems}");
    assert!(
        problems.contains("lists `util`, which is not a module"),
        "{problems}"
    );
}

#[test]
fn a_crate_that_depends_on_a_crate_above_it_is_red() {
    let fake = Fake::new();
    fake.write(
        "low/Cargo.toml",
        "[package]\nname = \"low\"\n\n[dev-dependencies]\nrenamed = { package = \"top\", path = \"..\" }\n",
    );
    let problems = fake.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert!(
        p.starts_with("low/Cargo.toml: crate `low` depends on `top` ([dev-dependencies])"),
        "{p}"
    );
    assert!(p.contains("low < top"), "{p}");
    // A member missing from the order is named too.
    fake.write("low/Cargo.toml", "[package]\nname = \"lower\"\n");
    let problems = fake.problems().join("\n");
    assert!(
        problems.contains("crate `lower` is missing from [workspace] order"),
        "{problems}"
    );
}
