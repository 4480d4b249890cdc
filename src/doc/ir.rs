//! Intermediate representation of a lesson body.
//!
//! Every block carries the 1-based line in the lesson *file* where it starts
//! (front matter included), so errors, search hits and the live preview can
//! point at the source.

/// A parsed lesson body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading {
        level: u8,
        text: Vec<Inline>,
        line: u32,
    },
    Paragraph {
        text: Vec<Inline>,
        line: u32,
    },
    /// A plain (non-interactive) fenced or indented code block.
    Code {
        lang: Option<String>,
        code: String,
        line: u32,
    },
    List {
        /// `Some(start)` for an ordered list.
        ordered: Option<u64>,
        items: Vec<ListItem>,
        line: u32,
    },
    /// A block quote; `alert` is set for GFM alerts such as `> [!NOTE]`.
    Quote {
        alert: Option<Alert>,
        blocks: Vec<Block>,
        line: u32,
    },
    Table {
        align: Vec<Align>,
        header: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        line: u32,
    },
    Rule {
        line: u32,
    },
    /// Raw HTML, shown as text.
    Html {
        text: String,
        line: u32,
    },
    Interactive(Interactive),
}

impl Block {
    pub fn line(&self) -> u32 {
        match self {
            Block::Heading { line, .. }
            | Block::Paragraph { line, .. }
            | Block::Code { line, .. }
            | Block::List { line, .. }
            | Block::Quote { line, .. }
            | Block::Table { line, .. }
            | Block::Rule { line }
            | Block::Html { line, .. } => *line,
            Block::Interactive(i) => i.line(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    /// `Some(checked)` for a GFM task list item.
    pub task: Option<bool>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    Note,
    Tip,
    Important,
    Warning,
    Caution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    None,
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Code(String),
    Emph(Vec<Inline>),
    Strong(Vec<Inline>),
    Strike(Vec<Inline>),
    Link { text: Vec<Inline>, url: String },
    Image { alt: String, url: String },
    SoftBreak,
    HardBreak,
}

/// The blocks a learner interacts with, marked in the opening fence's info
/// string (```` ```sh run ````, ```` ```sh check id=... ````, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum Interactive {
    Run(RunBlock),
    Check(CheckBlock),
    Solution(SolutionBlock),
    Quiz(Quiz),
}

impl Interactive {
    pub fn line(&self) -> u32 {
        match self {
            Interactive::Run(b) => b.line,
            Interactive::Check(b) => b.line,
            Interactive::Solution(b) => b.line,
            Interactive::Quiz(b) => b.line,
        }
    }
}

/// ```` ```sh run [sandbox=NAME] ````: typed into the shell pane on Enter.
#[derive(Debug, Clone, PartialEq)]
pub struct RunBlock {
    pub lang: String,
    pub code: String,
    /// Which sandbox's shell receives it; `None` = the lesson's default sandbox.
    pub sandbox: Option<String>,
    /// `node=NAME`: which node of the lesson's `[world]` (lab worlds).
    pub node: Option<String>,
    /// `needs=limits`: never typed into a sandbox running without its cgroup
    /// limits (a memory hog there would eat the host's memory).
    pub needs_limits: bool,
    pub line: u32,
}

/// Where a check script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckSide {
    /// Inside the sandbox, joined with exec (setns).
    #[default]
    Sandbox,
    /// On the host, with `KUBELAB_*` variables describing the sandbox.
    Host,
    /// Asks the Kubernetes API (`kind=cluster`); the body is a TOML spec
    /// (src/cluster/check.rs).
    Cluster,
}

/// ```` ```sh check id=ID [on=host] [sandbox=NAME] ````: exits 0 when done.
/// `# title:` and `# hint:` comment lines at the top of the script give the
/// check's one-line title and its hint.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckBlock {
    pub id: String,
    pub lang: String,
    pub code: String,
    pub on: CheckSide,
    pub sandbox: Option<String>,
    /// `node=NAME`: which node of the lesson's `[world]` it runs in.
    pub node: Option<String>,
    /// `needs=limits`: without the sandbox's cgroup limits the check cannot
    /// pass; it is shown as not available on this machine and skipped.
    pub needs_limits: bool,
    pub title: Option<String>,
    pub hint: Option<String>,
    pub line: u32,
}

/// ```` ```sh solution [sandbox=NAME] ````: hidden until revealed; the test
/// harness types it into a fresh sandbox's shell.
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionBlock {
    pub lang: String,
    pub code: String,
    pub sandbox: Option<String>,
    /// `node=NAME`: which node of the lesson's `[world]` it is typed into.
    pub node: Option<String>,
    /// `needs=limits`, as on a run block.
    pub needs_limits: bool,
    pub line: u32,
}

/// Where a block runs: its `node=` (a world lesson) or its `sandbox=`;
/// `None` is the lesson's default. The lab treats a world's nodes as the
/// lesson's sandboxes (src/lab/world.rs), so one name says both.
macro_rules! target {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn target(&self) -> Option<&str> {
                self.node.as_deref().or(self.sandbox.as_deref())
            }
        }
    )*};
}
target!(RunBlock, CheckBlock, SolutionBlock);

/// ```` ```toml quiz ````: one multiple-choice question.
#[derive(Debug, Clone, PartialEq)]
pub struct Quiz {
    pub id: String,
    pub question: String,
    pub choices: Vec<String>,
    /// 0-based index into `choices` (written as a letter, `answer = "B"`).
    pub answer: usize,
    pub explain: Option<String>,
    pub line: u32,
}

/// The text of inline content without markup (links keep their text,
/// images their alt text, breaks become spaces).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_plain(inlines, &mut out);
    out
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for i in inlines {
        match i {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Emph(x) | Inline::Strong(x) | Inline::Strike(x) => push_plain(x, out),
            Inline::Link { text, .. } => push_plain(text, out),
            Inline::Image { alt, .. } => out.push_str(alt),
            Inline::SoftBreak | Inline::HardBreak => out.push(' '),
        }
    }
}

impl Doc {
    /// Every interactive block in document order, including ones nested in
    /// lists and block quotes.
    pub fn interactives(&self) -> Vec<&Interactive> {
        let mut out = Vec::new();
        walk(&self.blocks, &mut |b| {
            if let Block::Interactive(i) = b {
                out.push(i);
            }
        });
        out
    }

    /// The check blocks, in document order.
    pub fn checks(&self) -> Vec<&CheckBlock> {
        self.interactives()
            .into_iter()
            .filter_map(|i| match i {
                Interactive::Check(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The `sandbox=` of every block marked `needs=limits` (`None`: the
    /// default sandbox), in document order.
    pub fn blocks_needing_limits(&self) -> Vec<Option<&str>> {
        self.interactives()
            .into_iter()
            .filter_map(|i| match i {
                Interactive::Run(r) if r.needs_limits => Some(r.sandbox.as_deref()),
                Interactive::Check(c) if c.needs_limits => Some(c.sandbox.as_deref()),
                Interactive::Solution(s) if s.needs_limits => Some(s.sandbox.as_deref()),
                _ => None,
            })
            .collect()
    }

    /// The quizzes, in document order.
    pub fn quizzes(&self) -> Vec<&Quiz> {
        self.interactives()
            .into_iter()
            .filter_map(|i| match i {
                Interactive::Quiz(q) => Some(q),
                _ => None,
            })
            .collect()
    }

    /// The lesson's steps: its `##` sections, as (index of the `##` heading in
    /// `blocks`, heading text). Blocks before the first `##` belong to no step.
    pub fn steps(&self) -> Vec<(usize, String)> {
        self.blocks
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match b {
                Block::Heading { level: 2, text, .. } => Some((i, plain_text(text))),
                _ => None,
            })
            .collect()
    }

    /// Searchable text: one (file line, text) entry per leaf block, in
    /// document order. Code and interactive blocks give one entry per line.
    pub fn search_lines(&self) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        walk(&self.blocks, &mut |b| match b {
            Block::Heading { text, line, .. } | Block::Paragraph { text, line } => {
                out.push((*line, plain_text(text)))
            }
            Block::Table {
                header, rows, line, ..
            } => {
                let cells = |r: &Vec<Vec<Inline>>| {
                    r.iter()
                        .map(|c| plain_text(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                out.push((*line, cells(header)));
                for (n, r) in rows.iter().enumerate() {
                    out.push((*line + 2 + n as u32, cells(r)));
                }
            }
            Block::Code { code, line, .. } | Block::Html { text: code, line } => {
                push_code(&mut out, code, *line, matches!(b, Block::Code { .. }))
            }
            Block::Interactive(i) => match i {
                Interactive::Run(r) => push_code(&mut out, &r.code, r.line, true),
                Interactive::Check(c) => push_code(&mut out, &c.code, c.line, true),
                Interactive::Solution(_) => {} // hidden until revealed: not searchable
                Interactive::Quiz(q) => {
                    out.push((q.line, q.question.clone()));
                    for c in &q.choices {
                        out.push((q.line, c.clone()));
                    }
                }
            },
            _ => {}
        });
        out
    }
}

fn push_code(out: &mut Vec<(u32, String)>, code: &str, line: u32, fenced: bool) {
    let first = if fenced { line + 1 } else { line };
    for (n, l) in code.lines().enumerate() {
        if !l.trim().is_empty() {
            out.push((first + n as u32, l.to_string()));
        }
    }
}

/// Calls `f` on every block, depth first, in document order.
pub fn walk<'a>(blocks: &'a [Block], f: &mut dyn FnMut(&'a Block)) {
    for b in blocks {
        f(b);
        match b {
            Block::Quote { blocks, .. } => walk(blocks, f),
            Block::List { items, .. } => {
                for it in items {
                    walk(&it.blocks, f);
                }
            }
            _ => {}
        }
    }
}
