//! The web book's search, run as a browser runs it: scripts/web-book-search.mjs
//! builds the Pagefind index of a built book and queries it through the
//! book's own pagefind.js, in node.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One search result: the page, Pagefind's excerpt, the indexed text.
#[derive(Debug, Clone)]
pub struct Hit {
    pub url: String,
    pub excerpt: String,
    pub content: String,
}

/// How to run the search: node and the npm prefix holding Pagefind.
pub struct Search {
    node: PathBuf,
    pagefind_dir: PathBuf,
    script: PathBuf,
}

impl Search {
    /// `None` (after printing SKIP) when node or Pagefind is missing and
    /// KUBELAB_REQUIRE_MDBOOK is not set; with it set, a missing piece fails.
    pub fn find(root: &Path, node: Option<PathBuf>) -> Option<Search> {
        let required = std::env::var_os("KUBELAB_REQUIRE_MDBOOK").is_some();
        let missing = |what: &str| {
            if required {
                panic!("{what}, but KUBELAB_REQUIRE_MDBOOK is set; run scripts/build-web-book.sh");
            }
            eprintln!(
                "SKIP: web book search not checked: {what} (scripts/build-web-book.sh sets it up)"
            );
            None
        };
        let Some(node) = node else {
            return missing("node is not on PATH");
        };
        // The script's install under target/ when the variable is not set
        // (a plain `cargo test` after scripts/build-web-book.sh ran once).
        let installed = || {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("target"))
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("pagefind-"))
                })
                .collect();
            dirs.sort();
            dirs.pop()
        };
        let Some(pagefind_dir) = std::env::var_os("KUBELAB_PAGEFIND_DIR")
            .map(PathBuf::from)
            .or_else(installed)
        else {
            return missing("KUBELAB_PAGEFIND_DIR is not set and target/ has no pagefind-VERSION");
        };
        if !pagefind_dir
            .join("node_modules/pagefind/package.json")
            .is_file()
        {
            return missing(&format!(
                "no Pagefind under KUBELAB_PAGEFIND_DIR={}",
                pagefind_dir.display()
            ));
        }
        Some(Search {
            node,
            pagefind_dir,
            script: root.join("scripts/web-book-search.mjs"),
        })
    }

    fn run(&self, args: &[&std::ffi::OsStr]) -> String {
        let out = Command::new(&self.node)
            .arg(&self.script)
            .args(args)
            .env("KUBELAB_PAGEFIND_DIR", &self.pagefind_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "node web-book-search.mjs {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Builds `book`/pagefind/.
    pub fn index(&self, book: &Path) {
        self.run(&["index".as_ref(), book.as_os_str()]);
        assert!(
            book.join("pagefind/pagefind.js").is_file(),
            "{}: no pagefind/pagefind.js after indexing",
            book.display()
        );
    }

    /// The results of `term` (`*`: every indexed page).
    pub fn query(&self, book: &Path, term: &str) -> Vec<Hit> {
        let json = self.run(&["query".as_ref(), book.as_os_str(), term.as_ref()]);
        let v: serde_json::Value = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("query {term:?}: not JSON ({e}): {json}"));
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| Hit {
                url: h["url"].as_str().unwrap_or_default().to_owned(),
                excerpt: h["excerpt"].as_str().unwrap_or_default().to_owned(),
                content: h["content"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
}
