//! The supported subset of `v1 Pod`, field by field. Anything outside it is
//! an error naming the field, never ignored: a learner who writes `stdin:
//! true` or `nodeSelector:` must learn that kubelab's node does not do it.
//!
//! The table is data: the walker ([`super::walk`]) checks a manifest against
//! it and docs/pods.md is generated from it ([`fields_markdown`]).

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    /// A string from a closed set.
    Enum(&'static [&'static str]),
    Int32,
    Int64,
    Bool,
    /// A resource quantity (`100m`, `128Mi`), written as a string or number.
    Quantity,
    /// A port: a number or a named port.
    IntOrStr,
    /// A map of strings to strings (labels, annotations).
    StrMap,
    StrList,
    /// Only `null` (kubectl's `creationTimestamp: null`).
    Null,
    Object(&'static [Field]),
    /// A list of objects.
    List(&'static [Field]),
}

/// One supported field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// What kubelab's node does with it (the docs' column).
    pub doc: &'static str,
}

pub(super) const fn f(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field { name, kind, doc }
}

mod container;
mod volume;

pub use container::EXTENDED_RESOURCE;

use container::CONTAINER;
use volume::VOLUME;
use Kind::*;

pub const POD: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "must be `v1`"),
    f("kind", Enum(&["Pod"]), "must be `Pod`"),
    f("metadata", Object(METADATA), "the Pod's identity"),
    f("spec", Object(SPEC), "what to run"),
    f("status", Object(&[]), "only `{}` (as `kubectl run --dry-run=client -o yaml` writes it); the node writes the status"),
];

pub const LIST: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "must be `v1`"),
    f(
        "kind",
        Enum(&["List"]),
        "`List`: several Pods in one document",
    ),
    f(
        "metadata",
        Object(&[f(
            "resourceVersion",
            Str,
            "accepted (kubectl writes `\"\"`), ignored",
        )]),
        "accepted, ignored",
    ),
    f(
        "items",
        List(POD),
        "Pods, each checked like a `kind: Pod` document",
    ),
];

const METADATA: &[Field] = &[
    f("name", Str, "required; a DNS-1123 subdomain, unique per namespace on the node"),
    f("namespace", Str, "a DNS-1123 label; default `default`"),
    f("uid", Str, "lowercase letters, digits and `-`; the node makes one when absent (it names the pod cgroup `pod<UID>`)"),
    f("labels", StrMap, "validated as the API does; shown by `get --show-labels`, readable through the downward API"),
    f("annotations", StrMap, "validated as the API does; readable through the downward API"),
    f("creationTimestamp", Null, "only `null` (kubectl's dry-run output); the node sets it"),
];

const SPEC: &[Field] = &[
    f("containers", List(CONTAINER), "required, at least one; each gets its own mount (and pid) namespace and rootfs, joining the infra process's net, ipc and uts namespaces"),
    f("initContainers", List(CONTAINER), "run one after another before the containers, each to completion"),
    f("volumes", List(VOLUME), "emptyDir, hostPath, configMap, secret, downwardAPI, flexVolume"),
    f("restartPolicy", Enum(&["Always", "OnFailure", "Never"]), "default `Always`; restarts with the kubelet's CrashLoopBackOff"),
    f("terminationGracePeriodSeconds", Int64, "default 30: SIGTERM, then SIGKILL after this many seconds"),
    f("shareProcessNamespace", Bool, "the infra process's pid namespace is shared by all containers (it is pid 1)"),
    f("hostname", Str, "a DNS-1123 label; default the Pod's name"),
    f("nodeName", Str, "accepted when it names this node; the node sets it"),
    f("dnsPolicy", Enum(&["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]), "`ClusterFirst` (default; `ClusterFirstWithHostNet` for a `hostNetwork` Pod): the node's cluster DNS in /etc/resolv.conf; `Default`: the image's file; `None` is refused (no `dnsConfig`)"),
    f("hostAliases", List(HOST_ALIAS), "entries appended to the Pod's managed `/etc/hosts` (the kubelet's format)"),
    f("hostIPC", Bool, "the Pod uses the node agent's IPC namespace instead of its own"),
    f("hostNetwork", Bool, "the Pod lives in the node's network and UTS namespaces (its bridge, its `/sys`, its hostname); no Pod IP, no CNI; refused when the node has no Pod network (no namespace of its own to share)"),
    f("hostPID", Bool, "validated (not with `shareProcessNamespace`); the Pod's containers are in the node agent's PID namespace and see its processes"),
];

const HOST_ALIAS: &[Field] = &[
    f("ip", Str, "required; an IPv4 or IPv6 address"),
    f("hostnames", StrList, "DNS-1123 subdomains"),
];

/// Every supported path (`spec.containers[].securityContext.runAsUser`)
/// with its field, depth-first in table order.
pub fn supported_paths() -> Vec<(String, &'static Field)> {
    supported_paths_of(POD)
}

/// [`supported_paths`] of another kind's table (a Service's).
pub fn supported_paths_of(root: &'static [Field]) -> Vec<(String, &'static Field)> {
    let mut out = Vec::new();
    collect("", root, &mut out);
    out
}

fn collect(prefix: &str, fields: &'static [Field], out: &mut Vec<(String, &'static Field)>) {
    for field in fields {
        let path = if prefix.is_empty() {
            field.name.to_string()
        } else {
            format!("{prefix}.{}", field.name)
        };
        out.push((path.clone(), field));
        match field.kind {
            Object(sub) => collect(&path, sub, out),
            List(sub) => collect(&format!("{path}[]"), sub, out),
            _ => {}
        }
    }
}

/// A short name for a kind, for messages and the docs.
pub fn kind_name(kind: &Kind) -> String {
    match kind {
        Str => "string".into(),
        Enum(values) => values
            .iter()
            .map(|v| {
                if v.is_empty() {
                    "`\"\"`".to_string()
                } else {
                    format!("`{v}`")
                }
            })
            .collect::<Vec<_>>()
            .join(" \\| "),
        Int32 | Int64 => "integer".into(),
        Bool => "boolean".into(),
        Quantity => "quantity".into(),
        IntOrStr => "integer or string".into(),
        StrMap => "map of strings".into(),
        StrList => "list of strings".into(),
        Null => "null".into(),
        Object(_) => "object".into(),
        List(_) => "list of objects".into(),
    }
}

/// The Markdown table of docs/pods.md's "Supported fields" section.
pub fn fields_markdown() -> String {
    fields_markdown_of(POD)
}

/// [`fields_markdown`] of another kind's table (a Service's).
pub fn fields_markdown_of(root: &'static [Field]) -> String {
    let mut s = String::from("| Field | Type | On kubelab's node |\n|---|---|---|\n");
    for (path, field) in supported_paths_of(root) {
        s.push_str(&format!(
            "| `{path}` | {} | {} |\n",
            kind_name(&field.kind),
            field.doc
        ));
    }
    s
}
