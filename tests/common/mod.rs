//! Helpers shared by the integration tests; each test crate uses a part.
#![allow(dead_code)]

pub mod lab_run;
pub mod standin;

use kubelab::app::App;
use kubelab::lab::engine::EngineFactory;
use kubelab_sandbox::spec::Spec;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The built `kubelab` binary (also the sandbox helper).
pub fn kubelab() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubelab"))
}

/// The fixture course of the lab tests.
pub fn labs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/labs")
}

/// Sandboxes need user namespaces (and root for cgroups); say so instead of
/// failing on a host that cannot run them.
pub fn engine_or_skip() -> Option<EngineFactory> {
    let f = EngineFactory::with_helper(kubelab());
    match f.spawn("probe", &Spec::default(), None) {
        Ok(_) => Some(f),
        Err(e) => {
            eprintln!("SKIP: cannot start a sandbox on this host: {e}");
            None
        }
    }
}

/// Polls `f` every 50 ms until it gives a value; fails after `secs`.
pub fn wait_until<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The whole app drawn at its size, as a terminal shows it: a wide
/// character covers the next cell, whatever that cell holds.
pub fn screen(app: &App) -> String {
    let (w, h) = app.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| kubelab::ui::draw(f, app)).unwrap();
    screen::dump(t.backend().buffer())
}

#[path = "../support/screen.rs"]
mod screen;

/// A one-book (`en`) course in `dir` whose only lesson, `01-a.md`, is
/// `lesson` (front matter included).
pub fn one_lesson_course(dir: &Path, lesson: &str) {
    course_of(dir, &[("A", "01-a", lesson)]);
}

/// An English course in `dir` of `lessons` (outline title, file stem = id,
/// text), in that order.
pub fn course_of(dir: &Path, lessons: &[(&str, &str, &str)]) {
    let src = dir.join("en/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        dir.join("en/book.toml"),
        "[book]\ntitle = \"T\"\nlanguage = \"en\"\n",
    )
    .unwrap();
    let mut summary = String::from("# Summary\n\n");
    for (title, stem, text) in lessons {
        summary.push_str(&format!("- [{title}]({stem}.md)\n"));
        std::fs::write(src.join(format!("{stem}.md")), text).unwrap();
    }
    std::fs::write(src.join("SUMMARY.md"), summary).unwrap();
}

/// The host's network interfaces, by name (a peer's `@…` cut off): what a
/// lab world or a node must leave as it found it.
pub fn host_links() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        .collect()
}
