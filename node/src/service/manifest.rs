//! `v1 Service` manifests: the supported subset (a ClusterIP or headless
//! Service with a selector and ports), checked field by field as Pod
//! manifests are (`crate::manifest::walk`) and by the API server's rules
//! (`pkg/apis/core/validation.ValidateService`), each problem with its
//! line and what to write instead.

use crate::manifest::names;
use crate::manifest::schema::{Field, Kind};
use crate::manifest::walk;
use crate::manifest::yaml::Node;
use crate::manifest::{quote, ManifestError, Problem};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeSet;
use std::path::Path;

/// Most ports of one Service.
pub const MAX_PORTS: usize = 32;
/// Most selector entries of one Service.
pub const MAX_SELECTOR: usize = 32;

const fn f(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field { name, kind, doc }
}

use Kind::*;

/// The supported fields of a `kind: Service` document.
pub const SERVICE: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "must be `v1`"),
    f("kind", Enum(&["Service"]), "must be `Service`"),
    f("metadata", Object(METADATA), "the Service's identity"),
    f("spec", Object(SPEC), "what the Service selects and exposes"),
    f(
        "status",
        Object(&[f(
            "loadBalancer",
            Object(&[]),
            "only `{}` (kubectl's dry-run output)",
        )]),
        "only `{}`/`loadBalancer: {}`; the node writes no Service status",
    ),
];

const METADATA: &[Field] = &[
    f(
        "name",
        Str,
        "required; a DNS-1035 label (its DNS name is `<name>.<namespace>.svc.cluster.local`)",
    ),
    f("namespace", Str, "a DNS-1123 label; default `default`"),
    f("labels", StrMap, "validated as the API does"),
    f("annotations", StrMap, "validated as the API does"),
    f(
        "creationTimestamp",
        Null,
        "only `null` (kubectl's dry-run output)",
    ),
];

const SPEC: &[Field] = &[
    f("type", Enum(&["ClusterIP"]), "only `ClusterIP` (the default); NodePort and LoadBalancer are not supported"),
    f("selector", StrMap, "the labels of the Pods that are its endpoints; without one the Service has no endpoints"),
    f("ports", List(PORT), "at least one, unless headless"),
    f("clusterIP", Str, "an address in the node's service CIDR, `None` (headless), or left out: the node allocates one"),
    f("clusterIPs", StrList, "at most one, equal to `clusterIP`"),
    f("sessionAffinity", Enum(&["None"]), "only `None`"),
    f("publishNotReadyAddresses", Bool, "endpoints include Pods that are not Ready"),
    f("internalTrafficPolicy", Enum(&["Cluster"]), "only `Cluster`"),
];

const PORT: &[Field] = &[
    f(
        "name",
        Str,
        "a DNS-1123 label; required when there are several ports",
    ),
    f("port", Int32, "required; the ClusterIP's port"),
    f(
        "targetPort",
        IntOrStr,
        "the Pods' port: a number, or the name of a container port; default `port`",
    ),
    f(
        "protocol",
        Enum(&["TCP", "UDP"]),
        "`TCP` (default) or `UDP`",
    ),
];

/// A Service read from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestService {
    pub service: Service,
    /// Where the document starts.
    pub line: usize,
}

/// The `kind: Service` documents of `text` (other kinds are left to the
/// Pod parser); `file` names it in errors.
pub fn parse_str(text: &str, file: &Path) -> Result<Vec<ManifestService>, ManifestError> {
    let error = |problems| ManifestError {
        file: file.to_path_buf(),
        problems,
    };
    let max = crate::manifest::MAX_FILE_BYTES;
    if text.len() as u64 > max {
        return Err(error(vec![Problem::new(
            crate::manifest::yaml::Pos { line: 1, column: 1 },
            "",
            &format!("the manifest is larger than {max} bytes; split it"),
        )]));
    }
    let docs = crate::manifest::yaml::parse_documents(text)
        .map_err(|e| error(vec![Problem::new(e.pos, "", &e.message)]))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for doc in docs.into_iter().flatten() {
        if doc.get("kind").and_then(Node::as_str) != Some("Service") {
            continue;
        }
        match document(&doc) {
            Ok(s) => out.push(s),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(error(problems));
    }
    Ok(out)
}

fn document(doc: &Node) -> Result<ManifestService, Vec<Problem>> {
    let (json, positions) =
        walk::walk(doc, SERVICE).map_err(|e| vec![Problem::new(e.pos, &e.path, &e.message)])?;
    let pos_of = |p: &str| walk::position_of(&positions, p).unwrap_or(doc.pos);
    let mut svc: Service = serde_json::from_value(json).map_err(|e| {
        vec![Problem::new(
            doc.pos,
            "",
            &format!("does not read as a v1 Service: {e}"),
        )]
    })?;
    let problems: Vec<Problem> = validate(&svc)
        .into_iter()
        .map(|(path, msg)| Problem::new(pos_of(&path), &path, &msg))
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    defaults(&mut svc);
    Ok(ManifestService {
        service: svc,
        line: doc.pos.line,
    })
}

/// `IsDNS1035Label`: a Service's name starts with a letter.
pub fn dns1035_label(s: &str) -> Result<(), String> {
    names::dns1123_label(s)?;
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123')".into());
    }
    Ok(())
}

/// The API server's checks of the supported fields: (field path, message).
pub fn validate(svc: &Service) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut invalid = |path: &str, value: &str, why: &str| {
        out.push((
            path.to_string(),
            format!("{path}: Invalid value: {}: {why}", quote(value)),
        ))
    };
    let meta = &svc.metadata;
    match meta.name.as_deref() {
        None | Some("") => invalid("metadata.name", "", "Required value: name the Service"),
        Some(n) => {
            if let Err(why) = dns1035_label(n) {
                invalid("metadata.name", n, &why);
            }
        }
    }
    if let Some(ns) = meta.namespace.as_deref() {
        if let Err(why) = names::dns1123_label(ns) {
            invalid("metadata.namespace", ns, &why);
        }
    }
    for (field, map) in [("labels", &meta.labels), ("annotations", &meta.annotations)] {
        for (k, v) in map.iter().flatten() {
            let p = format!("metadata.{field}.{k}");
            if let Err(why) = names::qualified_name(k) {
                invalid(&p, k, &why);
            }
            if field == "labels" {
                if let Err(why) = names::label_value(v) {
                    invalid(&p, v, &why);
                }
            }
        }
    }
    let Some(spec) = &svc.spec else {
        invalid(
            "spec",
            "",
            "Required value: write `spec:` with `selector` and `ports`",
        );
        return out;
    };
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if let Some(ip) = spec
        .cluster_ip
        .as_deref()
        .filter(|ip| !ip.is_empty() && *ip != "None")
    {
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            invalid(
                "spec.clusterIP",
                ip,
                "must be an IPv4 address, `None` (headless), or left out",
            );
        }
    }
    if let Some(ips) = &spec.cluster_ips {
        let first = ips.first().map(String::as_str);
        if ips.len() > 1 {
            invalid(
                "spec.clusterIPs",
                &ips.join(","),
                "this node is IPv4 only: at most one address",
            );
        } else if first.is_some() && first != spec.cluster_ip.as_deref() {
            invalid(
                "spec.clusterIPs",
                first.unwrap_or_default(),
                "must equal spec.clusterIP (or leave clusterIPs out)",
            );
        }
    }
    let selector = spec.selector.as_ref();
    if selector.map_or(0, |s| s.len()) > MAX_SELECTOR {
        invalid(
            "spec.selector",
            "",
            &format!("at most {MAX_SELECTOR} labels"),
        );
    }
    for (k, v) in selector.into_iter().flatten() {
        let p = format!("spec.selector.{k}");
        if let Err(why) = names::qualified_name(k) {
            invalid(&p, k, &why);
        }
        if let Err(why) = names::label_value(v) {
            invalid(&p, v, &why);
        }
    }
    let ports = spec.ports.as_deref().unwrap_or_default();
    if ports.is_empty() && !headless {
        out.push((
            "spec.ports".into(),
            "spec.ports: Required value: a ClusterIP Service needs at least one port (`ports: [{port: 80, targetPort: 8080}]`)".into(),
        ));
    }
    if ports.len() > MAX_PORTS {
        out.push((
            "spec.ports".into(),
            format!(
                "spec.ports: Too many: {}: must have at most {MAX_PORTS} items",
                ports.len()
            ),
        ));
        return out;
    }
    let mut names_seen = BTreeSet::new();
    let mut ports_seen = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        let name = p.name.as_deref().unwrap_or_default();
        if name.is_empty() {
            if ports.len() > 1 {
                out.push((
                    format!("{path}.name"),
                    format!("{path}.name: Required value: several ports each need a name"),
                ));
            }
        } else if let Err(why) = names::dns1123_label(name) {
            out.push((
                format!("{path}.name"),
                format!("{path}.name: Invalid value: {}: {why}", quote(name)),
            ));
        } else if !names_seen.insert(name.to_string()) {
            out.push((
                format!("{path}.name"),
                format!("{path}.name: Duplicate value: {}", quote(name)),
            ));
        }
        if !(1..=65535).contains(&p.port) {
            out.push((
                format!("{path}.port"),
                format!(
                    "{path}.port: Invalid value: {}: must be between 1 and 65535, inclusive",
                    p.port
                ),
            ));
        }
        let proto = p.protocol.as_deref().unwrap_or("TCP");
        if !ports_seen.insert((p.port, proto.to_string())) {
            out.push((
                path.clone(),
                format!(
                    "{path}: Duplicate value: port {} {proto} is already a port of this Service",
                    p.port
                ),
            ));
        }
        match &p.target_port {
            Some(IntOrString::Int(n)) if !(1..=65535).contains(n) => out.push((
                format!("{path}.targetPort"),
                format!(
                    "{path}.targetPort: Invalid value: {n}: must be between 1 and 65535, inclusive"
                ),
            )),
            Some(IntOrString::String(s)) => {
                if let Err(why) = names::port_name(s) {
                    out.push((
                        format!("{path}.targetPort"),
                        format!("{path}.targetPort: Invalid value: {}: {why}", quote(s)),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// What the API server fills in: type, protocols, target ports,
/// sessionAffinity, internalTrafficPolicy, namespace.
fn defaults(svc: &mut Service) {
    svc.metadata
        .namespace
        .get_or_insert_with(|| "default".into());
    let Some(spec) = svc.spec.as_mut() else {
        return;
    };
    spec.type_.get_or_insert_with(|| "ClusterIP".into());
    spec.session_affinity.get_or_insert_with(|| "None".into());
    spec.internal_traffic_policy
        .get_or_insert_with(|| "Cluster".into());
    if spec.cluster_ip.as_deref() == Some("") {
        spec.cluster_ip = None;
    }
    for p in spec.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
        p.target_port.get_or_insert(IntOrString::Int(p.port));
    }
}
