//! Checks a YAML tree against the supported-fields table and turns it into
//! JSON for `k8s_openapi`'s deserializer. Every field outside the table and
//! every value of the wrong type is an error naming the field path and its
//! position; positions of all fields are kept for the later checks.
//!
//! Plain scalars are typed as Kubernetes' YAML reader (go-yaml v2) types
//! them: `yes`/`on` are booleans, `0644` is octal, `8080` is a number — so
//! `value: 8080` in an env var is refused as on a cluster ("quote it").

use super::quote;
use super::scalar::{resolve_plain, Plain};
use super::schema::{kind_name, Field, Kind, EXTENDED_RESOURCE};
use super::yaml::{Node, Pos, Value};
use crate::quantity::Quantity;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// A field-level error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub pos: Pos,
    pub path: String,
    pub message: String,
}

/// Concrete field paths (`spec.containers[1].image`) → where they are.
pub type Positions = BTreeMap<String, Pos>;

struct Walker<'a> {
    positions: &'a mut Positions,
}

fn err<T>(pos: Pos, path: &str, message: String) -> Result<T, WalkError> {
    Err(WalkError {
        pos,
        path: path.to_string(),
        message,
    })
}

fn what(text: &str, plain: bool) -> &'static str {
    if !plain {
        return "a string";
    }
    match resolve_plain(text) {
        Plain::Null => "null",
        Plain::Bool(_) => "a boolean",
        Plain::Int(_) | Plain::Float => "a number",
        Plain::Str => "a string",
    }
}

impl Walker<'_> {
    fn object(
        &mut self,
        node: &Node,
        fields: &'static [Field],
        path: &str,
    ) -> Result<Json, WalkError> {
        let Value::Map(entries) = &node.value else {
            return err(
                node.pos,
                path,
                format!(
                    "{path} must be a mapping (key: value lines), not {}",
                    shape(node)
                ),
            );
        };
        let mut out = Map::new();
        for (key, kpos, child) in entries {
            let child_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let extended = |f: &&Field| f.name == EXTENDED_RESOURCE && key.contains('/');
            let Some(field) = fields
                .iter()
                .find(|f| f.name == key)
                .or_else(|| fields.iter().find(extended))
            else {
                let shown = quote(&child_path);
                let message = if path == "status" {
                    "the node writes a Pod's status; remove `status` (or leave it `{}`)".to_string()
                } else if fields.is_empty() {
                    format!("{shown}: kubelab's node takes nothing here; remove it")
                } else {
                    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    format!(
                        "{shown} is not supported by kubelab's node (supported here: {}); remove it — docs/pods.md lists every supported field",
                        names.join(", ")
                    )
                };
                return err(*kpos, &child_path, message);
            };
            self.positions.insert(child_path.clone(), *kpos);
            if child.is_null() {
                // Go semantics: a null field is an absent field (and the
                // only value a `Kind::Null` field takes).
                continue;
            }
            let value = self.value(child, field, &child_path)?;
            out.insert(key.clone(), value);
        }
        Ok(Json::Object(out))
    }

    fn string(&self, node: &Node, path: &str) -> Result<String, WalkError> {
        match &node.value {
            Value::Scalar { text, plain } => {
                if *plain && !matches!(resolve_plain(text), Plain::Str) {
                    return err(
                        node.pos,
                        path,
                        format!(
                            "{path} must be a string, but YAML reads {} as {}; quote it: \"{}\"",
                            quote(text),
                            what(text, true),
                            text.escape_default()
                        ),
                    );
                }
                Ok(text.clone())
            }
            _ => err(
                node.pos,
                path,
                format!("{path} must be a string, not {}", shape(node)),
            ),
        }
    }

    fn value(&mut self, node: &Node, field: &'static Field, path: &str) -> Result<Json, WalkError> {
        let scalar = match &node.value {
            Value::Scalar { text, plain } => Some((text.as_str(), *plain)),
            _ => None,
        };
        match field.kind {
            Kind::Str => Ok(Json::String(self.string(node, path)?)),
            Kind::Enum(values) => {
                let s = self.string(node, path)?;
                if values.contains(&s.as_str()) {
                    Ok(Json::String(s))
                } else {
                    err(
                        node.pos,
                        path,
                        format!(
                            "{path} must be one of {} (not {})",
                            kind_name(&field.kind).replace(" \\| ", ", "),
                            quote(&s)
                        ),
                    )
                }
            }
            Kind::Int32 | Kind::Int64 => {
                let n = match scalar {
                    Some((text, true)) => match resolve_plain(text) {
                        Plain::Int(n) => n,
                        _ => {
                            return err(
                                node.pos,
                                path,
                                format!("{path} must be an integer, not {}", quote(text)),
                            )
                        }
                    },
                    Some((text, false)) => {
                        return err(
                            node.pos,
                            path,
                            format!(
                                "{path} must be an integer, not the string {}; remove the quotes",
                                quote(text)
                            ),
                        )
                    }
                    None => {
                        return err(
                            node.pos,
                            path,
                            format!("{path} must be an integer, not {}", shape(node)),
                        )
                    }
                };
                if matches!(field.kind, Kind::Int32) && i32::try_from(n).is_err() {
                    return err(
                        node.pos,
                        path,
                        format!("{path}: {n} does not fit in 32 bits"),
                    );
                }
                Ok(Json::from(n))
            }
            Kind::Bool => match scalar.map(|(t, p)| (resolve_plain(t), p)) {
                Some((Plain::Bool(b), true)) => Ok(Json::Bool(b)),
                _ => err(
                    node.pos,
                    path,
                    format!("{path} must be true or false (unquoted)"),
                ),
            },
            Kind::Quantity => match scalar {
                Some((text, _)) => match Quantity::parse(text) {
                    Ok(_) => Ok(Json::String(text.to_string())),
                    Err(e) => err(node.pos, path, format!("{path}: {e}")),
                },
                None => err(
                    node.pos,
                    path,
                    format!(
                        "{path} must be a quantity like 500m or 128Mi, not {}",
                        shape(node)
                    ),
                ),
            },
            Kind::IntOrStr => match scalar {
                Some((text, true)) => match resolve_plain(text) {
                    Plain::Int(n) if i32::try_from(n).is_ok() => Ok(Json::from(n)),
                    Plain::Str => Ok(Json::String(text.to_string())),
                    _ => err(
                        node.pos,
                        path,
                        format!(
                            "{path} must be a port number or a port name, not {}",
                            quote(text)
                        ),
                    ),
                },
                Some((text, false)) => Ok(Json::String(text.to_string())),
                None => err(
                    node.pos,
                    path,
                    format!("{path} must be a port number or name, not {}", shape(node)),
                ),
            },
            Kind::StrMap => {
                let Value::Map(entries) = &node.value else {
                    return err(
                        node.pos,
                        path,
                        format!("{path} must be a mapping of strings, not {}", shape(node)),
                    );
                };
                let mut out = Map::new();
                for (key, kpos, child) in entries {
                    let p = format!("{path}.{key}");
                    self.positions.insert(p.clone(), *kpos);
                    out.insert(
                        key.clone(),
                        Json::String(if child.is_null() {
                            String::new()
                        } else {
                            self.string(child, &p)?
                        }),
                    );
                }
                Ok(Json::Object(out))
            }
            Kind::StrList => {
                let items = self.seq(node, path)?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.positions.insert(p.clone(), item.pos);
                    out.push(Json::String(self.string(item, &p)?));
                }
                Ok(Json::Array(out))
            }
            Kind::Null => err(
                node.pos,
                path,
                format!("{path} is set by the node; remove it or leave it null"),
            ),
            Kind::Object(fields) => self.object(node, fields, path),
            Kind::List(fields) => {
                let items = self.seq(node, path)?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.positions.insert(p.clone(), item.pos);
                    out.push(self.object(item, fields, &p)?);
                }
                Ok(Json::Array(out))
            }
        }
    }

    fn seq<'n>(&self, node: &'n Node, path: &str) -> Result<&'n [Node], WalkError> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ => err(
                node.pos,
                path,
                format!(
                    "{path} must be a list (lines starting with `- `), not {}",
                    shape(node)
                ),
            ),
        }
    }
}

fn shape(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, plain } => format!("{} {}", what(text, *plain), quote(text)),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
    }
}

/// Walks one object (a Pod or a List) against `fields`; field paths are
/// relative to it.
pub fn walk(node: &Node, fields: &'static [Field]) -> Result<(Json, Positions), WalkError> {
    let mut positions = Positions::new();
    let value = Walker {
        positions: &mut positions,
    }
    .object(node, fields, "")?;
    Ok((value, positions))
}

/// The position of `path`, or of its nearest ancestor that has one.
pub fn position_of(positions: &Positions, path: &str) -> Option<Pos> {
    let mut p = path;
    loop {
        if let Some(pos) = positions.get(p) {
            return Some(*pos);
        }
        let cut = p.rfind(['.', '['])?;
        p = &p[..cut];
    }
}
