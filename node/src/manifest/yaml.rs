//! YAML text → a small tree with line numbers, built from yaml-rust2's
//! parser events so that hostile input is bounded *before* anything grows:
//! aliases are refused (no "billion laughs"), nesting and node count are
//! capped, keys must be plain strings and unique.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Deeper nesting is refused (a Pod is ~8 levels deep).
pub const MAX_DEPTH: usize = 64;
/// More YAML nodes than this in one file are refused.
pub const MAX_NODES: usize = 100_000;

/// Where a node starts (1-based line, 1-based column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `plain` = unquoted (so `8080` may be a number).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order, each with its own position.
    Map(Vec<(String, Pos, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A YAML-level error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

impl Node {
    /// A plain `null`, `~` or empty scalar: YAML's null.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

enum Frame {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(String, Pos, Node)>, Option<(String, Pos)>),
}

/// Parses every document of a YAML stream. Empty documents (a stray `---`)
/// come back as `None`, like kubectl skips them.
pub fn parse_documents(text: &str) -> Result<Vec<Option<Node>>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            pos: Pos {
                line: e.marker().line().max(1),
                column: e.marker().col() + 1,
            },
            message: format!("this is not valid YAML: {}", e.info()),
        })?;
        let pos = Pos {
            line: mark.line().max(1),
            column: mark.col() + 1,
        };
        let err = |message: String| Err(YamlError { pos, message });
        let node = match event {
            Event::StreamEnd => return Ok(docs),
            Event::DocumentStart => {
                root = None;
                continue;
            }
            Event::DocumentEnd => {
                docs.push(root.take().filter(|n| !n.is_null()));
                continue;
            }
            Event::Alias(_) => {
                return err(
                    "YAML aliases (`*name`) are not accepted in Pod manifests; write the value out"
                        .into(),
                );
            }
            Event::Scalar(text, style, _anchor, tag) => {
                let mut plain = style == TScalarStyle::Plain;
                match tag {
                    None => {}
                    // `!!str 8080` is a string, as if quoted.
                    Some(t) if t.handle == "tag:yaml.org,2002:" && t.suffix == "str" => {
                        plain = false
                    }
                    Some(t) => {
                        return err(format!(
                            "YAML tag `{}{}` is not accepted; remove it",
                            t.handle, t.suffix
                        ))
                    }
                }
                Node {
                    pos,
                    value: Value::Scalar { text, plain },
                }
            }
            Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) if tag.is_some() => {
                return err(
                    "YAML tags are not accepted on sequences or mappings; remove the tag".into(),
                );
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return err(format!("the YAML nests deeper than {MAX_DEPTH} levels"));
                }
                nodes += 1;
                if nodes > MAX_NODES {
                    return err(format!("the file has more than {MAX_NODES} YAML nodes"));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq(pos, Vec::new())
                } else {
                    Frame::Map(pos, Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(p, items)) => Node {
                    pos: p,
                    value: Value::Seq(items),
                },
                Some(Frame::Map(p, entries, _)) => Node {
                    pos: p,
                    value: Value::Map(entries),
                },
                None => return err("unbalanced YAML collection".into()),
            },
            Event::StreamStart | Event::Nothing => continue,
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!("the file has more than {MAX_NODES} YAML nodes"),
            });
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                Some((key, kpos)) => entries.push((key, kpos, node)),
                None => {
                    let Value::Scalar { text, .. } = node.value else {
                        return Err(YamlError {
                            pos: node.pos,
                            message: "a mapping key must be a plain string".into(),
                        });
                    };
                    if entries.iter().any(|(k, _, _)| *k == text) {
                        return Err(YamlError {
                            pos: node.pos,
                            message: format!(
                                "the key {} appears twice in this mapping; keep one",
                                super::quote(&text)
                            ),
                        });
                    }
                    *pending = Some((text, node.pos));
                }
            },
        }
    }
}
