//! Environment variables and downward API values, as the kubelet computes
//! them: `$(VAR)` expansion (`third_party/forked/golang/expansion`),
//! `makeEnvironmentVariables` (`pkg/kubelet/kubelet_pods.go`), field values
//! (`podFieldSelectorRuntimeValue`), resource values
//! (`pkg/api/v1/resource/helpers.go` `ExtractContainerResourceValue`: the
//! value divided by the divisor, rounded up; an unset limit is the node's
//! allocatable) and downward API file contents (`fieldpath.FormatMap`).

use crate::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, DownwardAPIVolumeFile, Pod, ResourceFieldSelector};
use std::collections::BTreeMap;

/// What the downward API needs to know about the node and the Pod's network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeFacts {
    pub node_name: String,
    pub host_ip: Option<String>,
    pub pod_ip: Option<String>,
    /// Node allocatable, the value of an unset limit.
    pub allocatable_milli_cpu: i64,
    pub allocatable_memory_bytes: i64,
    pub allocatable_ephemeral_bytes: i64,
}

/// `expansion.Expand`: `$(VAR)` → its value when `lookup` knows it, else
/// left as written; `$$` → `$`; anything else copied.
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.is_empty() {
            out.push('$');
            rest = after;
            break;
        }
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(') {
            match tail.find(')') {
                Some(end) => {
                    let name = &tail[..end];
                    match lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &tail[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = tail;
                }
            }
        } else {
            // `$x`: the operator and the next character, as written.
            let c = after.chars().next().unwrap_or('$');
            out.push('$');
            out.push(c);
            rest = &after[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    out
}

fn subscript<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

/// Go's `%q` of a string (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `fieldpath.FormatMap`: `key="value"` lines, keys sorted.
pub fn format_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of a `fieldRef.fieldPath`.
pub fn field_value(pod: &Pod, path: &str, facts: &NodeFacts) -> Result<String, String> {
    let meta = &pod.metadata;
    let empty = BTreeMap::new();
    let labels = meta.labels.as_ref().unwrap_or(&empty);
    let annotations = meta.annotations.as_ref().unwrap_or(&empty);
    if let Some(k) = subscript(path, "metadata.labels") {
        return Ok(labels.get(k).cloned().unwrap_or_default());
    }
    if let Some(k) = subscript(path, "metadata.annotations") {
        return Ok(annotations.get(k).cloned().unwrap_or_default());
    }
    let spec = pod.spec.as_ref();
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(labels),
        "metadata.annotations" => format_map(annotations),
        "spec.nodeName" => facts.node_name.clone(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => facts.host_ip.clone().unwrap_or_default(),
        "status.podIP" | "status.podIPs" => facts.pod_ip.clone().unwrap_or_default(),
        other => return Err(format!("unsupported fieldPath {other:?}")),
    })
}

/// The value of a `resourceFieldRef` for `container`.
pub fn resource_value(
    container: &Container,
    sel: &ResourceFieldSelector,
    facts: &NodeFacts,
) -> Result<String, String> {
    let divisor = match &sel.divisor {
        Some(d) => Quantity::parse(&d.0).map_err(|e| e.to_string())?,
        None => Quantity::parse("1").map_err(|e| e.to_string())?,
    };
    let divisor = if divisor.is_zero() {
        Quantity::parse("1").map_err(|e| e.to_string())?
    } else {
        divisor
    };
    let res = container.resources.as_ref();
    let (kind, name) = sel
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported resource {:?}", sel.resource))?;
    let map = match kind {
        "limits" => res.and_then(|r| r.limits.as_ref()),
        "requests" => res.and_then(|r| r.requests.as_ref()),
        _ => return Err(format!("unsupported resource {:?}", sel.resource)),
    };
    let set = map
        .and_then(|m| m.get(name))
        .map(|q| Quantity::parse(&q.0))
        .transpose()
        .map_err(|e| e.to_string())?;
    let ceil_div = |a: i64, b: i64| -> i64 {
        if b <= 0 {
            0
        } else {
            (i128::from(a) + i128::from(b) - 1).div_euclid(i128::from(b)) as i64
        }
    };
    Ok(match name {
        "cpu" => {
            let milli = set.map(|q| q.milli_value()).unwrap_or(if kind == "limits" {
                facts.allocatable_milli_cpu
            } else {
                0
            });
            ceil_div(milli, divisor.milli_value())
        }
        "memory" | "ephemeral-storage" => {
            let node = if name == "memory" {
                facts.allocatable_memory_bytes
            } else {
                facts.allocatable_ephemeral_bytes
            };
            let bytes = set
                .map(|q| q.value())
                .unwrap_or(if kind == "limits" { node } else { 0 });
            ceil_div(bytes, divisor.value())
        }
        _ => return Err(format!("unsupported resource {:?}", sel.resource)),
    }
    .to_string())
}

fn container_named<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

/// `makeEnvironmentVariables`: the container's env, in order, each value
/// expanded against the variables before it.
pub fn container_env(
    pod: &Pod,
    container: &Container,
    facts: &NodeFacts,
) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in container.env.iter().flatten() {
        let value = match (&e.value, &e.value_from) {
            (Some(v), _) if !v.is_empty() => {
                let known = |name: &str| {
                    out.iter()
                        .rev()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                expand(v, &known)
            }
            (_, Some(from)) => match (&from.field_ref, &from.resource_field_ref) {
                (Some(f), _) => field_value(pod, &f.field_path, facts)?,
                (_, Some(r)) => {
                    let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                        Some(n) => {
                            container_named(pod, n).ok_or_else(|| format!("no container {n:?}"))?
                        }
                        None => container,
                    };
                    resource_value(target, r, facts)?
                }
                _ => String::new(),
            },
            _ => String::new(),
        };
        out.retain(|(k, _)| *k != e.name);
        out.push((e.name.clone(), value));
    }
    Ok(out)
}

/// `ExpandContainerCommandAndArgs`: `$(VAR)` in command and args from the
/// container's final environment.
pub fn command_and_args(
    container: &Container,
    env: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let known = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let all = |v: &Option<Vec<String>>| v.iter().flatten().map(|s| expand(s, &known)).collect();
    (all(&container.command), all(&container.args))
}

/// A downward API volume file's content.
pub fn downward_file(
    pod: &Pod,
    item: &DownwardAPIVolumeFile,
    facts: &NodeFacts,
) -> Result<String, String> {
    match (&item.field_ref, &item.resource_field_ref) {
        (Some(f), _) => field_value(pod, &f.field_path, facts),
        (_, Some(r)) => {
            let name = r.container_name.as_deref().unwrap_or_default();
            let c = container_named(pod, name).ok_or_else(|| format!("no container {name:?}"))?;
            resource_value(c, r, facts)
        }
        _ => Err("a downward API file needs fieldRef or resourceFieldRef".into()),
    }
}
