//! What the API server would reject in a Pod (`pkg/apis/core/validation`),
//! plus the few things kubelab's node cannot do safely (relative mount
//! paths, odd UIDs). Each problem names the field path; the caller adds the
//! file and line. Messages follow the API server's wording
//! (`Required value`, `Invalid value`, `Not found`, `Duplicate value`).

mod container;
mod volume;

use super::names;
use super::quote;
use container::container;
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeSet;
use volume::volume;

/// A problem at a field path.
pub type Problem = (String, String);

#[derive(Default)]
pub(super) struct Checks {
    pub(super) problems: Vec<Problem>,
}

impl Checks {
    pub(super) fn required(&mut self, path: &str) {
        self.problems
            .push((path.into(), format!("{path}: Required value")));
    }
    pub(super) fn invalid(&mut self, path: &str, value: &str, why: &str) {
        self.problems.push((
            path.into(),
            format!("{path}: Invalid value: {}: {why}", quote(value)),
        ));
    }
    pub(super) fn check(&mut self, path: &str, value: &str, rule: fn(&str) -> Result<(), String>) {
        if let Err(why) = rule(value) {
            self.invalid(path, value, &why);
        }
    }
    pub(super) fn other(&mut self, path: &str, msg: String) {
        self.problems.push((path.into(), format!("{path}: {msg}")));
    }
}

pub(super) const ENV_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
pub(super) const VOLUME_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.annotations",
];

pub(super) fn subscripted_field(path: &str) -> bool {
    ["metadata.labels['", "metadata.annotations['"]
        .iter()
        .any(|p| {
            path.strip_prefix(p)
                .and_then(|rest| rest.strip_suffix("']"))
                .is_some_and(|key| names::qualified_name(key).is_ok())
        })
}

/// All problems of a (deserialized) Pod.
pub fn validate(pod: &Pod) -> Vec<Problem> {
    let mut c = Checks::default();
    let meta = &pod.metadata;
    match meta.name.as_deref() {
        None | Some("") => c.required("metadata.name"),
        Some(n) => c.check("metadata.name", n, names::dns1123_subdomain),
    }
    if let Some(ns) = meta.namespace.as_deref() {
        c.check("metadata.namespace", ns, names::dns1123_label);
    }
    if let Some(uid) = meta.uid.as_deref() {
        c.check("metadata.uid", uid, names::uid);
    }
    for (k, v) in meta.labels.iter().flatten() {
        let p = format!("metadata.labels.{k}");
        c.check(&p, k, names::qualified_name);
        c.check(&p, v, names::label_value);
    }
    let mut total = 0;
    for k in meta.annotations.iter().flatten().map(|(k, v)| {
        total += k.len() + v.len();
        k
    }) {
        c.check(
            &format!("metadata.annotations.{k}"),
            k,
            names::qualified_name,
        );
    }
    if total > 256 * 1024 {
        c.other(
            "metadata.annotations",
            "Too long: must have at most 262144 bytes".into(),
        );
    }
    let Some(spec) = pod.spec.as_ref() else {
        c.required("spec");
        return c.problems;
    };
    if let Some(h) = spec.hostname.as_deref() {
        c.check("spec.hostname", h, names::dns1123_label);
    }
    if let Some(n) = spec.node_name.as_deref() {
        c.check("spec.nodeName", n, names::dns1123_subdomain);
    }
    if spec.host_pid == Some(true) && spec.share_process_namespace == Some(true) {
        c.other(
            "spec.shareProcessNamespace",
            "Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled".into(),
        );
    }
    for (i, a) in spec.host_aliases.iter().flatten().enumerate() {
        let p = format!("spec.hostAliases[{i}]");
        if a.ip.parse::<std::net::IpAddr>().is_err() {
            c.invalid(
                &format!("{p}.ip"),
                &a.ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            );
        }
        for (j, h) in a.hostnames.iter().flatten().enumerate() {
            c.check(&format!("{p}.hostnames[{j}]"), h, names::dns1123_subdomain);
        }
    }
    let grace = spec.termination_grace_period_seconds.unwrap_or(30);
    if grace < 0 {
        c.other(
            "spec.terminationGracePeriodSeconds",
            "must be greater than or equal to 0".into(),
        );
    }
    let volumes = spec.volumes.as_deref().unwrap_or_default();
    let mut volume_names = BTreeSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let p = format!("spec.volumes[{i}]");
        volume(&mut c, &p, v, spec);
        if !volume_names.insert(v.name.as_str()) {
            c.invalid(&format!("{p}.name"), &v.name, "Duplicate value");
        }
    }
    if spec.containers.is_empty() {
        c.required("spec.containers");
    }
    let all_names: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|k| k.name.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    let groups = [
        (
            "spec.initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
            true,
        ),
        ("spec.containers", &spec.containers[..], false),
    ];
    for (group, list, init) in groups {
        for (i, k) in list.iter().enumerate() {
            let p = format!("{group}[{i}]");
            if !k.name.is_empty() && !seen.insert(k.name.as_str()) {
                c.invalid(&format!("{p}.name"), &k.name, "Duplicate value");
            }
            container(&mut c, &p, k, init, &volume_names, &all_names, grace);
        }
    }
    c.problems
}
