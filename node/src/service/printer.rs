//! `kubectl get svc`, `get endpoints` and `describe svc`, as kubectl
//! prints them.

use crate::status::printer::{columns, human_duration};
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;

fn age(
    svc_time: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    now: DateTime<Utc>,
) -> String {
    svc_time.map_or("<unknown>".into(), |t| {
        human_duration((now - t.0).num_seconds())
    })
}

fn labels(m: Option<&BTreeMap<String, String>>, none: &str) -> String {
    match m.filter(|m| !m.is_empty()) {
        None => none.into(),
        Some(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn ports(svc: &Service) -> String {
    let ps = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    if ps.is_empty() {
        return "<none>".into();
    }
    ps.iter()
        .map(|p| format!("{}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP")))
        .collect::<Vec<_>>()
        .join(",")
}

/// `kubectl get svc` (`wide`: with SELECTOR).
pub fn services_table(svcs: &[Service], wide: bool, now: DateTime<Utc>) -> String {
    let mut head = vec![
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
    ];
    if wide {
        head.push("SELECTOR");
    }
    let mut cells = vec![head.into_iter().map(String::from).collect::<Vec<_>>()];
    for s in svcs {
        let spec = s.spec.clone().unwrap_or_default();
        let mut row = vec![
            s.metadata.name.clone().unwrap_or_default(),
            spec.type_.clone().unwrap_or_else(|| "ClusterIP".into()),
            spec.cluster_ip.clone().unwrap_or_else(|| "<none>".into()),
            "<none>".into(),
            ports(s),
            age(s.metadata.creation_timestamp.as_ref(), now),
        ];
        if wide {
            row.push(labels(spec.selector.as_ref(), "<none>"));
        }
        cells.push(row);
    }
    columns(&cells)
}

/// The ready `ip:port` pairs of an Endpoints object, in kubectl's order.
fn endpoint_list(ep: &Endpoints) -> Vec<String> {
    let mut out = Vec::new();
    for s in ep.subsets.iter().flatten() {
        let ports = s.ports.as_deref().unwrap_or_default();
        for a in s.addresses.iter().flatten() {
            if ports.is_empty() {
                out.push(a.ip.clone());
            }
            for p in ports {
                out.push(format!("{}:{}", a.ip, p.port));
            }
        }
    }
    out
}

/// kubectl's ENDPOINTS cell: the first three, then `+ N more...`.
fn endpoints_cell(ep: &Endpoints) -> String {
    let all = endpoint_list(ep);
    match all.len() {
        0 => "<none>".into(),
        n if n <= 3 => all.join(","),
        n => format!("{} + {} more...", all[..3].join(","), n - 3),
    }
}

/// `kubectl get endpoints`.
pub fn endpoints_table(eps: &[Endpoints], svcs: &[Service], now: DateTime<Utc>) -> String {
    let mut cells = vec![["NAME", "ENDPOINTS", "AGE"].map(String::from).to_vec()];
    for ep in eps {
        let created = svcs
            .iter()
            .find(|s| {
                s.metadata.name == ep.metadata.name && s.metadata.namespace == ep.metadata.namespace
            })
            .and_then(|s| s.metadata.creation_timestamp.as_ref());
        cells.push(vec![
            ep.metadata.name.clone().unwrap_or_default(),
            endpoints_cell(ep),
            age(created, now),
        ]);
    }
    columns(&cells)
}

/// `kubectl describe svc`.
pub fn describe(svc: &Service, ep: Option<&Endpoints>) -> String {
    let spec = svc.spec.clone().unwrap_or_default();
    let meta = &svc.metadata;
    let mut s = String::new();
    let mut line = |k: &str, v: &str| {
        let _ = writeln!(s, "{:<19}{v}", format!("{k}:"));
    };
    line("Name", meta.name.as_deref().unwrap_or_default());
    line("Namespace", meta.namespace.as_deref().unwrap_or("default"));
    line("Labels", &labels(meta.labels.as_ref(), "<none>"));
    line("Annotations", &labels(meta.annotations.as_ref(), "<none>"));
    line("Selector", &labels(spec.selector.as_ref(), "<none>"));
    line("Type", spec.type_.as_deref().unwrap_or("ClusterIP"));
    line("IP Family Policy", "SingleStack");
    line("IP Families", "IPv4");
    let ip = spec.cluster_ip.clone().unwrap_or_else(|| "<none>".into());
    line("IP", &ip);
    line("IPs", &ip);
    let all = ep.map(endpoint_list).unwrap_or_default();
    for p in spec.ports.iter().flatten() {
        let proto = p.protocol.as_deref().unwrap_or("TCP");
        let name = p
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("<unset>");
        line("Port", &format!("{name}  {}/{proto}", p.port));
        let target = match &p.target_port {
            Some(IntOrString::Int(n)) => n.to_string(),
            Some(IntOrString::String(n)) => n.clone(),
            None => p.port.to_string(),
        };
        line("TargetPort", &format!("{target}/{proto}"));
        // This port's endpoints: the subsets' ports of the same name.
        let mine: Vec<String> = ep
            .into_iter()
            .flat_map(|e| e.subsets.iter().flatten())
            .flat_map(|sub| {
                let port = sub.ports.iter().flatten().find(|ep| {
                    ep.name.as_deref().unwrap_or_default() == p.name.as_deref().unwrap_or_default()
                });
                sub.addresses
                    .iter()
                    .flatten()
                    .filter_map(move |a| port.map(|pt| format!("{}:{}", a.ip, pt.port)))
            })
            .collect();
        line(
            "Endpoints",
            &if mine.is_empty() {
                "<none>".into()
            } else {
                mine.join(",")
            },
        );
    }
    if spec.ports.as_deref().unwrap_or_default().is_empty() {
        line(
            "Endpoints",
            &if all.is_empty() {
                "<none>".into()
            } else {
                all.join(",")
            },
        );
    }
    line(
        "Session Affinity",
        spec.session_affinity.as_deref().unwrap_or("None"),
    );
    line("Events", "<none>");
    s
}
