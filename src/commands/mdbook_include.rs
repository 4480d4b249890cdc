//! `{{#include}}` in the web book: `kubelab mdbook` expands includes itself,
//! only from inside the course folder, and must run before mdBook's own
//! `links` preprocessor, which would read included files from anywhere.

use super::mdbook_error::{err, MdbookError};
use crate::course::include;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The book's `src` folder, where chapters' `source_path`s start, for
/// expanding `{{#include}}`s inside the course folder. mdBook's own `links`
/// preprocessor reads included files without any bound, so kubelab must run
/// before it (`before = ["links"]`) and expand them first; run after it,
/// the files are already read and kubelab refuses to build.
pub(crate) fn include_context(context: &Value) -> Result<Option<PathBuf>, MdbookError> {
    let Some(root) = context.get("root").and_then(Value::as_str) else {
        // No book root (hand-made JSON): includes are left to fail in lint.
        return Ok(None);
    };
    let before = context
        .pointer("/config/preprocessor/kubelab/before")
        .and_then(Value::as_array);
    let first = before.is_some_and(|b| b.iter().any(|v| v.as_str() == Some("links")));
    let links_off = context
        .pointer("/config/build/use-default-preprocessors")
        .and_then(Value::as_bool)
        == Some(false);
    if !first && !links_off {
        return Err(err(format!(
            "{root}/book.toml: kubelab mdbook must run before mdBook's `links` preprocessor, \
             which would read {{{{#include}}}} files from anywhere on the machine; \
             add `before = [\"links\"]` to [preprocessor.kubelab]"
        )));
    }
    let src = context
        .pointer("/config/book/src")
        .and_then(Value::as_str)
        .unwrap_or("src");
    Ok(Some(Path::new(root).join(src)))
}

/// The chapter with its `{{#include}}`s expanded from inside the course
/// folder; any other include is an error naming the line.
pub(crate) fn expand_includes(
    content: &str,
    file: &Path,
    source: &str,
) -> Result<String, MdbookError> {
    if !include::has_directive(content) {
        return Ok(content.to_owned());
    }
    let root = crate::course::files::include_root(file, None);
    let e = include::expand(content, file, &root);
    if let Some((line, msg)) = e.errors.first() {
        return Err(err(format!("{source}:{line}: kubelab mdbook: {msg}")));
    }
    Ok(e.text)
}
