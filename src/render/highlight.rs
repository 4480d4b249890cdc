//! Syntax highlighting with syntect (pure-Rust regex backend).
//!
//! syntect is slow to start (decoding dumps, compiling regexes lazily: tens
//! of ms for the first block), so the UI never calls it. A background thread
//! ([`highlight_all`]) highlights code blocks into a cache; rendering only
//! looks results up with [`cached`] and shows plain code until they exist.
//! [`generation`] changes whenever the cache grows, so cached renders redo.

use crate::wrap::Piece;
use ratatui::style::{Color, Modifier, Style};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Our own small grammars: shell (fast to compile), and the query
/// languages bat's set lacks.
const OWN_SYNTAXES: [&str; 3] = [
    include_str!("../../assets/syntaxes/shell.sublime-syntax"),
    include_str!("../../assets/syntaxes/promql.sublime-syntax"),
    include_str!("../../assets/syntaxes/logql.sublime-syntax"),
];

/// Each loaded on first use, so a lesson with only shell blocks never pays
/// for decoding syntect's full grammar dump.
static THEME: OnceLock<Theme> = OnceLock::new();
/// Our small grammars (`assets/syntaxes/*.sublime-syntax`).
static OWN: OnceLock<SyntaxSet> = OnceLock::new();
/// bat's grammars via two-face: syntect's defaults plus Dockerfile, HCL,
/// TOML, nginx, INI, systemd units, Makefile, diff, proto, ...
static BUNDLED: OnceLock<SyntaxSet> = OnceLock::new();

fn theme() -> &'static Theme {
    THEME.get_or_init(|| {
        let mut themes = ThemeSet::load_defaults();
        themes
            .themes
            .remove("base16-ocean.dark")
            .or_else(|| themes.themes.into_values().next())
            .unwrap_or_default()
    })
}

fn own() -> &'static SyntaxSet {
    OWN.get_or_init(|| {
        let mut b = syntect::parsing::SyntaxSetBuilder::new();
        for src in OWN_SYNTAXES {
            if let Ok(def) = syntect::parsing::SyntaxDefinition::load_from_str(src, true, None) {
                b.add(def);
            }
        }
        b.build()
    })
}

fn bundled() -> &'static SyntaxSet {
    BUNDLED.get_or_init(two_face::syntax::extra_newlines)
}

/// The grammar token for a fence language, `None` for plain text. Maps the
/// names authors write to ones the grammars know by name or extension.
fn resolve(lang: &str) -> Option<(&'static SyntaxSet, &str)> {
    let lang = lang.trim();
    Some(match lang.to_ascii_lowercase().as_str() {
        "shell" | "console" | "sh" | "bash" | "zsh" => (own(), "sh"),
        // Plain by design (Mermaid is drawn, or shown as its source).
        "" | "text" | "txt" | "plain" | "plaintext" | "output" | "mermaid" => return None,
        "rs" => (bundled(), "rust"),
        "yml" => (bundled(), "yaml"),
        "promql" | "prometheus" => (own(), "promql"),
        "logql" | "loki" => (own(), "logql"),
        "docker" | "containerfile" => (bundled(), "Dockerfile"),
        "terraform" | "tf" => (bundled(), "hcl"),
        "nginxconf" | "nginx.conf" => (bundled(), "nginx"),
        // Unit files are INI-shaped; bat's SystemD grammar is not in the
        // pure-Rust-regex dump.
        "systemd" | "unit" | "service" => (bundled(), "ini"),
        "make" => (bundled(), "Makefile"),
        "patch" => (bundled(), "diff"),
        "protobuf" => (bundled(), "proto"),
        _ => (bundled(), lang),
    })
}

/// Whether the reader highlights `lang` (loads the grammars: not for the UI
/// task). Plain-text languages count as known.
pub fn knows(lang: &str) -> bool {
    match resolve(lang) {
        None => true,
        Some((set, token)) => set.find_syntax_by_token(token).is_some(),
    }
}

/// Highlighted lines of one code block.
pub type Lines = Arc<Vec<Vec<Piece>>>;

static CACHE: OnceLock<Mutex<HashMap<u64, Option<Lines>>>> = OnceLock::new();
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn cache() -> &'static Mutex<HashMap<u64, Option<Lines>>> {
    CACHE.get_or_init(Default::default)
}

fn key(code: &str, lang: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    lang.hash(&mut h);
    code.hash(&mut h);
    h.finish()
}

/// Loads the theme and the shell grammar (blocking, a few ms); call off
/// the UI task, e.g. in parallel with loading the course.
pub fn warm_up() {
    theme();
    own();
}

/// Changes whenever more highlighted blocks are available.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The highlighted lines of a block, if [`highlight_all`] has done it
/// (`None` also for languages syntect does not know).
pub fn cached(code: &str, lang: &str) -> Option<Lines> {
    let map = cache().lock().unwrap_or_else(|e| e.into_inner());
    map.get(&key(code, lang)).cloned().flatten()
}

/// Whether [`highlight_all`] has processed this block (even if the
/// language turned out to be unknown).
pub fn is_done(code: &str, lang: &str) -> bool {
    let map = cache().lock().unwrap_or_else(|e| e.into_inner());
    map.contains_key(&key(code, lang))
}

/// Highlights every `(lang, code)` block not cached yet (blocking, on the
/// caller's thread), then bumps [`generation`].
pub fn highlight_all<'a>(blocks: impl IntoIterator<Item = (&'a str, &'a str)>) {
    warm_up();
    let mut added = false;
    for (lang, code) in blocks {
        let k = key(code, lang);
        if cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&k)
        {
            continue;
        }
        let lines = highlight(code, lang).map(Arc::new);
        cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(k, lines);
        added = true;
    }
    if added {
        GENERATION.fetch_add(1, Ordering::AcqRel);
    }
}

/// Highlights `code` written in `lang`, one `Vec<Piece>` per source line.
/// `None` for plain text and unknown languages. Slow (loads grammars on
/// first use): use [`highlight_all`] + [`cached`] from the UI.
pub fn highlight(code: &str, lang: &str) -> Option<Vec<Vec<Piece>>> {
    let (set, token) = resolve(lang)?;
    let syntax = set.find_syntax_by_token(token)?;
    let mut hl = HighlightLines::new(syntax, theme());
    let mut out = Vec::new();
    for line in LinesWithEndings::from(code) {
        let ranges = hl.highlight_line(line, set).ok()?;
        out.push(
            ranges
                .into_iter()
                .map(|(s, text)| {
                    Piece::new(
                        text.trim_end_matches(['\n', '\r']).replace('\t', "    "),
                        to_style(s),
                    )
                })
                .filter(|p| !p.text.is_empty())
                .collect(),
        );
    }
    Some(out)
}

fn to_style(s: syntect::highlighting::Style) -> Style {
    let mut style = Style::new().fg(Color::Rgb(s.foreground.r, s.foreground.g, s.foreground.b));
    if s.font_style.contains(FontStyle::BOLD) {
        style = style.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        style = style.add_modifier(Modifier::ITALIC);
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_is_highlighted_after_warm_up() {
        warm_up();
        let lines = highlight("echo \"hi $HOME\" # note\nls -l $(pwd) | grep x\n", "sh")
            .expect("sh is known");
        assert_eq!(lines.len(), 2);
        let colour = |line: &[Piece], text: &str| {
            line.iter()
                .find(|p| p.text.contains(text))
                .map(|p| p.style.fg)
        };
        // Command, string, variable, comment and option get distinct colours.
        let l0 = &lines[0];
        assert_ne!(colour(l0, "echo"), colour(l0, "\"hi"));
        assert_ne!(colour(l0, "\"hi"), colour(l0, "# note"));
        assert_ne!(colour(&lines[1], "-l"), colour(&lines[1], "ls"));
        assert!(
            highlight("kind: Pod\n", "yaml").is_some(),
            "bundled grammars still work"
        );
        let styles: std::collections::HashSet<_> =
            lines[0].iter().map(|p| format!("{:?}", p.style)).collect();
        assert!(styles.len() > 1, "expected several colours: {lines:?}");
        let text: String = lines[0].iter().map(|p| p.text.as_str()).collect();
        assert_eq!(text, "echo \"hi $HOME\" # note");
        assert!(highlight("x", "no-such-language").is_none());
    }

    #[test]
    fn the_languages_of_the_coming_chapters_are_highlighted() {
        let samples = [
            ("dockerfile", "FROM debian:12\nRUN apt-get update\n"),
            ("Dockerfile", "FROM debian:12\n"),
            ("hcl", "resource \"x\" \"y\" {\n  a = 1\n}\n"),
            ("terraform", "variable \"a\" {}\n"),
            ("http", "GET /api/v1/pods HTTP/1.1\nHost: k8s\n"),
            ("promql", "rate(http_requests_total{job=\"api\"}[5m])\n"),
            ("logql", "{app=\"web\"} |= \"error\"\n"),
            ("nginx", "server {\n  listen 80;\n}\n"),
            ("ini", "[section]\nkey = value\n"),
            ("systemd", "[Service]\nExecStart=/bin/true\n"),
            ("toml", "[a]\nb = 1\n"),
            ("makefile", "all:\n\techo hi\n"),
            ("diff", "--- a\n+++ b\n-x\n+y\n"),
            (
                "proto",
                "syntax = \"proto3\";\nmessage A { int32 x = 1; }\n",
            ),
            ("yaml", "kind: Pod\n"),
        ];
        for (lang, code) in samples {
            assert!(knows(lang), "{lang} unknown");
            let lines = highlight(code, lang).unwrap_or_else(|| panic!("{lang}"));
            let colours: std::collections::HashSet<_> = lines
                .iter()
                .flatten()
                .map(|p| format!("{:?}", p.style.fg))
                .collect();
            assert!(colours.len() > 1, "{lang}: one colour only: {lines:?}");
        }
        assert!(!knows("no-such-language"));
        assert!(knows("text"));
    }

    #[test]
    fn cache_fills_in_the_background_and_bumps_generation() {
        let code = "echo cached-block-test\n";
        assert!(cached(code, "sh").is_none());
        let g = generation();
        highlight_all([("sh", code), ("no-such-language", "x")]);
        assert!(generation() > g);
        assert_eq!(cached(code, "sh").expect("cached").len(), 1);
        assert!(cached("x", "no-such-language").is_none());
        let g = generation();
        highlight_all([("sh", code)]);
        assert_eq!(generation(), g, "nothing new, no re-render");
    }
}
