//! Pod manifests: real `v1 Pod` YAML (also `kind: List` of Pods, and several
//! documents separated by `---`) → typed `k8s_openapi` Pods, checked against
//! kubelab's supported subset ([`schema`]) and the API server's rules
//! ([`validate`]), defaulted as the API server does ([`defaults`]), images
//! resolved ([`image`]).
//!
//! Every problem is reported with the file, line and column and the field
//! path, and what to do. Input is bounded: file size, YAML nesting and node
//! count; aliases are refused.

pub mod defaults;
pub mod image;
pub mod names;
pub mod scalar;
pub mod schema;
pub mod static_pod;
pub mod validate;
pub mod walk;
pub mod yaml;

use image::{Image, ImageCatalog};
use k8s_openapi::api::core::v1::Pod;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use yaml::{Node, Pos};

/// Larger manifest files are refused.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A string from a manifest, quoted and escaped for a message (no control
/// characters reach a terminal), at most 80 characters.
pub fn quote(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    let more = if s.chars().count() > 80 { "…" } else { "" };
    format!("\"{}{more}\"", short.escape_debug())
}

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    /// The field path (`items[1].spec.containers[0].image`), empty when the
    /// problem is the file's YAML itself.
    pub field: String,
    pub message: String,
}

/// At most this many characters of a message (a hostile key can be long).
const MAX_MESSAGE: usize = 1000;

/// Control characters from a manifest, escaped; the text cut to
/// [`MAX_MESSAGE`] characters.
fn clean(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == MAX_MESSAGE {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

impl Problem {
    /// A problem at `pos`; field and message are cleaned for a terminal.
    pub fn new(pos: Pos, field: &str, message: &str) -> Problem {
        Problem {
            line: pos.line,
            column: pos.column,
            field: clean(field),
            message: clean(message),
        }
    }
}

/// A manifest that cannot be run, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                p.line,
                p.column,
                p.message
            )?;
        }
        Ok(())
    }
}

/// A Pod read from a manifest, ready for the node.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestPod {
    pub pod: Pod,
    /// The resolved image of each container, init containers first.
    pub images: Vec<(String, Image)>,
    pub file: PathBuf,
    /// Where the Pod starts in the file.
    pub line: usize,
}

/// What parsing needs from the node.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    pub images: &'a ImageCatalog,
    /// This node's name: a Pod with another `spec.nodeName` is refused.
    pub node_name: Option<&'a str>,
    /// The host directories `hostPath` volumes may use (they and what is
    /// below them); empty = no `hostPath` at all.
    pub host_path_roots: &'a [HostPathRoot],
}

/// A directory `hostPath` volumes may use, or a single file (a lab node's
/// `/dev/fuse`, its own device node): `path` as manifests write it,
/// `dir` where it is on this machine — the same, unless the node was
/// started with `--allow-host-path PATH=DIR` (a lab node's `/mnt/disks` is
/// a folder of its own, shown at that path in the lab's sandboxes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPathRoot {
    pub path: PathBuf,
    pub dir: PathBuf,
}

impl HostPathRoot {
    /// `path` on this machine as manifests write it.
    pub fn same(path: impl Into<PathBuf>) -> HostPathRoot {
        let path = path.into();
        HostPathRoot {
            dir: path.clone(),
            path,
        }
    }

    /// `PATH=DIR` or `DIR` (`--allow-host-path`); both absolute.
    pub fn parse(text: &str) -> Result<HostPathRoot, String> {
        let (path, dir) = text.split_once('=').unwrap_or((text, text));
        let (path, dir) = (PathBuf::from(path), PathBuf::from(dir));
        if !path.is_absolute() || !dir.is_absolute() {
            return Err(format!(
                "{text:?}: write an absolute directory (or file), or PATH=DIR (hostPath PATH is DIR on this machine)"
            ));
        }
        Ok(HostPathRoot { path, dir })
    }
}

/// Reads and parses a manifest file (at most [`MAX_FILE_BYTES`]).
pub fn parse_file(path: &Path, opts: ParseOptions<'_>) -> Result<Vec<ManifestPod>, ManifestError> {
    let fail = |message: String| ManifestError {
        file: path.to_path_buf(),
        problems: vec![Problem::new(Pos { line: 1, column: 1 }, "", &message)],
    };
    let file =
        std::fs::File::open(path).map_err(|e| fail(format!("cannot read the manifest: {e}")))?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("cannot read the manifest as UTF-8 text: {e}")))?;
    parse_str(&text, path, opts)
}

/// Parses manifest text; `file` names it in errors.
pub fn parse_str(
    text: &str,
    file: &Path,
    opts: ParseOptions<'_>,
) -> Result<Vec<ManifestPod>, ManifestError> {
    parse_pods_among(text, file, opts, &[])
}

/// [`parse_str`], leaving the documents of the `others` kinds to their own
/// parser (`kubectl apply` reads Services with `crate::service::manifest`):
/// a manifest of those only holds no Pod and is no error.
pub fn parse_pods_among(
    text: &str,
    file: &Path,
    opts: ParseOptions<'_>,
    others: &[&str],
) -> Result<Vec<ManifestPod>, ManifestError> {
    let error = |problems| ManifestError {
        file: file.to_path_buf(),
        problems,
    };
    let at = |pos: Pos, field: &str, message: String| Problem::new(pos, field, &message);
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(error(vec![at(
            Pos { line: 1, column: 1 },
            "",
            format!("the manifest is larger than {MAX_FILE_BYTES} bytes; split it"),
        )]));
    }
    let docs = yaml::parse_documents(text).map_err(|e| error(vec![at(e.pos, "", e.message)]))?;
    let mut pods = Vec::new();
    let mut problems = Vec::new();
    let mut other_docs = 0;
    for doc in docs.into_iter().flatten() {
        if doc
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| others.contains(&k))
        {
            other_docs += 1;
            continue;
        }
        match document(&doc, file, opts) {
            Ok(mut p) => pods.append(&mut p),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(error(problems));
    }
    if pods.is_empty() && other_docs == 0 {
        return Err(error(vec![at(
            Pos { line: 1, column: 1 },
            "",
            "the manifest holds no Pod; write `apiVersion: v1`, `kind: Pod`, `metadata`, `spec`"
                .into(),
        )]));
    }
    Ok(pods)
}

fn document(
    doc: &Node,
    file: &Path,
    opts: ParseOptions<'_>,
) -> Result<Vec<ManifestPod>, Vec<Problem>> {
    let problem = |pos: Pos, field: &str, message: String| vec![Problem::new(pos, field, &message)];
    let kind = doc.get("kind").and_then(Node::as_str);
    let fields = match kind {
        Some("Pod") => schema::POD,
        Some("List") => schema::LIST,
        Some(other) => {
            let pos = doc.get("kind").map_or(doc.pos, |n| n.pos);
            return Err(problem(pos, "kind", format!("kind: {} is not something kubelab's node runs; it runs `kind: Pod` (or a `kind: List` of Pods){}", quote(other), if other == "Service" { "; `kubectl apply` takes Services, a static Pod directory does not" } else { "" })));
        }
        None => return Err(problem(doc.pos, "kind", "this document has no `kind:`; a Pod manifest starts with `apiVersion: v1` and `kind: Pod`".into())),
    };
    let (json, positions) =
        walk::walk(doc, fields).map_err(|e| problem(e.pos, &e.path, e.message))?;
    if kind == Some("List") {
        let items = json
            .get("items")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let prefix = format!("items[{i}]");
            let start = walk::position_of(&positions, &prefix).unwrap_or(doc.pos);
            let sub =
                |p: &str| walk::position_of(&positions, &format!("{prefix}.{p}")).unwrap_or(start);
            match pod(item, file, start, opts, &sub, &format!("{prefix}.")) {
                Ok(p) => out.push(p),
                Err(mut p) => problems.append(&mut p),
            }
        }
        return if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        };
    }
    let sub = |p: &str| walk::position_of(&positions, p).unwrap_or(doc.pos);
    pod(json, file, doc.pos, opts, &sub, "").map(|p| vec![p])
}

fn pod(
    json: serde_json::Value,
    file: &Path,
    start: Pos,
    opts: ParseOptions<'_>,
    pos_of: &dyn Fn(&str) -> Pos,
    prefix: &str,
) -> Result<ManifestPod, Vec<Problem>> {
    let problem = |path: &str, message: String| {
        Problem::new(
            pos_of(path),
            &format!("{prefix}{path}"),
            &format!("{prefix}{message}"),
        )
    };
    // The walker checked every field and type: this cannot fail on input
    // it accepted, but a mismatch with k8s-openapi must still be an error.
    let mut p: Pod = serde_json::from_value(json)
        .map_err(|e| vec![problem("", format!("does not read as a v1 Pod: {e}"))])?;
    let mut problems: Vec<Problem> = validate::validate(&p)
        .into_iter()
        .map(|(path, msg)| problem(&path, msg))
        .collect();
    if let (Some(want), Some(node)) = (
        p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        opts.node_name,
    ) {
        if want != node {
            problems.push(problem("spec.nodeName", format!("spec.nodeName: this Pod is for node {}, this node is {}; remove spec.nodeName or fix it", quote(want), quote(node))));
        }
    }
    for (i, v) in p
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .enumerate()
    {
        let Some(h) = &v.host_path else { continue };
        let allowed = opts
            .host_path_roots
            .iter()
            .any(|root| Path::new(&h.path).starts_with(&root.path));
        if !allowed {
            let roots: Vec<String> = opts
                .host_path_roots
                .iter()
                .map(|r| r.path.display().to_string())
                .collect();
            let field = format!("spec.volumes[{i}].hostPath.path");
            let why = if roots.is_empty() {
                "this node allows no hostPath volumes; use an emptyDir, or start the node with a host directory allowed".to_string()
            } else {
                format!(
                    "this node allows hostPath volumes only under {}",
                    roots.join(", ")
                )
            };
            problems.push(problem(
                &field,
                format!("{field}: Forbidden: {}: {why}", quote(&h.path)),
            ));
        }
    }
    let mut images = Vec::new();
    if let Some(spec) = &p.spec {
        let groups = [
            (
                "spec.initContainers",
                spec.init_containers.as_deref().unwrap_or_default(),
            ),
            ("spec.containers", &spec.containers[..]),
        ];
        for (group, list) in groups {
            for (i, c) in list.iter().enumerate() {
                let Some(image) = c.image.as_deref().filter(|s| !s.trim().is_empty()) else {
                    continue;
                };
                match opts.images.resolve(image) {
                    Ok(img) => images.push((c.name.clone(), img)),
                    Err(msg) => problems.push(problem(
                        &format!("{group}[{i}].image"),
                        format!("{group}[{i}].image: {msg}"),
                    )),
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    defaults::apply(&mut p);
    Ok(ManifestPod {
        pod: p,
        images,
        file: file.to_path_buf(),
        line: start.line,
    })
}
