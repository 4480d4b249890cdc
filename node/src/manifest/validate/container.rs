//! A container's checks: names, ports, env, resources, security context,
//! mounts, probes and hooks.

use super::{names, quote, subscripted_field, Checks, ENV_FIELDS};
use crate::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, EnvVar, Lifecycle, Probe, ResourceFieldSelector};
use std::collections::BTreeSet;

pub(super) fn container(
    c: &mut Checks,
    p: &str,
    k: &Container,
    init: bool,
    volumes: &BTreeSet<&str>,
    all: &[&str],
    grace: i64,
) {
    if k.name.is_empty() {
        c.required(&format!("{p}.name"));
    } else {
        c.check(&format!("{p}.name"), &k.name, names::dns1123_label);
    }
    if k.image.as_deref().unwrap_or("").trim().is_empty() {
        c.required(&format!("{p}.image"));
    }
    let mut port_names = BTreeSet::new();
    for (i, port) in k.ports.iter().flatten().enumerate() {
        let pp = format!("{p}.ports[{i}]");
        if !(1..=65535).contains(&port.container_port) {
            c.invalid(
                &format!("{pp}.containerPort"),
                &port.container_port.to_string(),
                "must be between 1 and 65535, inclusive",
            );
        }
        if let Some(n) = port.name.as_deref() {
            c.check(&format!("{pp}.name"), n, names::port_name);
            if !port_names.insert(n) {
                c.invalid(&format!("{pp}.name"), n, "Duplicate value");
            }
        }
    }
    for (i, e) in k.env.iter().flatten().enumerate() {
        env(c, &format!("{p}.env[{i}]"), e, all);
    }
    resources(c, &format!("{p}.resources"), k);
    let privileged = k
        .security_context
        .as_ref()
        .and_then(|s| s.privileged)
        .unwrap_or(false);
    if let Some(sc) = &k.security_context {
        let sp = format!("{p}.securityContext");
        for (name, v) in [
            ("runAsUser", sc.run_as_user),
            ("runAsGroup", sc.run_as_group),
        ] {
            if let Some(v) = v.filter(|v| !(0..=i64::from(i32::MAX)).contains(v)) {
                c.invalid(
                    &format!("{sp}.{name}"),
                    &v.to_string(),
                    "must be between 0 and 2147483647, inclusive",
                );
            }
        }
        if privileged && sc.allow_privilege_escalation == Some(false) {
            c.other(
                &sp,
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true".into(),
            );
        }
        let caps = sc.capabilities.as_ref();
        for (what, list) in [
            ("add", caps.and_then(|x| x.add.as_ref())),
            ("drop", caps.and_then(|x| x.drop.as_ref())),
        ] {
            for (i, cap) in list.into_iter().flatten().enumerate() {
                if cap.is_empty()
                    || !cap
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                {
                    c.invalid(
                        &format!("{sp}.capabilities.{what}[{i}]"),
                        cap,
                        "a capability is written like NET_ADMIN or CAP_NET_ADMIN (or ALL)",
                    );
                }
            }
        }
    }
    let mut paths = BTreeSet::new();
    for (i, m) in k.volume_mounts.iter().flatten().enumerate() {
        let mp = format!("{p}.volumeMounts[{i}]");
        if m.name.is_empty() {
            c.required(&format!("{mp}.name"));
        } else if !volumes.contains(m.name.as_str()) {
            c.other(
                &format!("{mp}.name"),
                format!(
                    "Not found: {} (no volume of that name in spec.volumes)",
                    quote(&m.name)
                ),
            );
        }
        if m.mount_path.is_empty() {
            c.required(&format!("{mp}.mountPath"));
        } else {
            c.check(
                &format!("{mp}.mountPath"),
                &m.mount_path,
                names::absolute_path,
            );
            if !paths.insert(m.mount_path.trim_end_matches('/')) {
                c.invalid(&format!("{mp}.mountPath"), &m.mount_path, "must be unique");
            }
        }
        if let Some(sub) = m.sub_path.as_deref() {
            c.check(&format!("{mp}.subPath"), sub, names::relative_path);
        }
        if m.mount_propagation.as_deref() == Some("Bidirectional") && !privileged {
            c.other(&format!("{mp}.mountPropagation"), "Forbidden: Bidirectional mount propagation is available only to privileged containers".into());
        }
    }
    let port_known = |name: &str| {
        k.ports
            .iter()
            .flatten()
            .any(|x| x.name.as_deref() == Some(name))
    };
    for (name, probe) in [
        ("livenessProbe", &k.liveness_probe),
        ("readinessProbe", &k.readiness_probe),
        ("startupProbe", &k.startup_probe),
    ] {
        let Some(probe) = probe else { continue };
        let pp = format!("{p}.{name}");
        if init {
            c.other(&pp, "Forbidden: may not be set for init containers".into());
            continue;
        }
        probe_checks(c, &pp, probe, name != "readinessProbe", &port_known);
    }
    if let Some(l) = &k.lifecycle {
        if init {
            c.other(
                &format!("{p}.lifecycle"),
                "Forbidden: may not be set for init containers".into(),
            );
        } else {
            lifecycle(c, &format!("{p}.lifecycle"), l, grace, &port_known);
        }
    }
}

fn env(c: &mut Checks, p: &str, e: &EnvVar, all: &[&str]) {
    c.check(&format!("{p}.name"), &e.name, names::env_name);
    let Some(from) = &e.value_from else { return };
    if e.value.as_deref().is_some_and(|v| !v.is_empty()) {
        c.other(
            &format!("{p}.valueFrom"),
            "Invalid value: may not be specified when `value` is not empty".into(),
        );
    }
    match (&from.field_ref, &from.resource_field_ref) {
        (Some(f), None) => {
            if !ENV_FIELDS.contains(&f.field_path.as_str()) && !subscripted_field(&f.field_path) {
                c.invalid(
                    &format!("{p}.valueFrom.fieldRef.fieldPath"),
                    &f.field_path,
                    &format!(
                        "supported values: {}, metadata.labels['KEY'], metadata.annotations['KEY']",
                        ENV_FIELDS.join(", ")
                    ),
                );
            }
        }
        (None, Some(r)) => {
            resource_field(c, &format!("{p}.valueFrom.resourceFieldRef"), r, all, false)
        }
        _ => c.other(
            &format!("{p}.valueFrom"),
            "Invalid value: must specify exactly one of `fieldRef` or `resourceFieldRef`".into(),
        ),
    }
}

pub(super) fn resource_field(
    c: &mut Checks,
    p: &str,
    r: &ResourceFieldSelector,
    all: &[&str],
    in_volume: bool,
) {
    match r.container_name.as_deref() {
        None | Some("") if in_volume => c.required(&format!("{p}.containerName")),
        Some(n) if !n.is_empty() && !all.contains(&n) => c.other(
            &format!("{p}.containerName"),
            format!("Not found: {}", quote(n)),
        ),
        _ => {}
    }
    let Some(d) = &r.divisor else { return };
    let Ok(q) = Quantity::parse(&d.0) else { return }; // the walker checked it
    let ok = if r.resource.ends_with(".cpu") {
        matches!(q.milli_value(), 1 | 1000) && !(q.milli_value() == 1000 && q.value() != 1)
    } else {
        let units = [
            1,
            1_000,
            1_000_000,
            1_000_000_000,
            1_000_000_000_000,
            1_000_000_000_000_000,
            1_000_000_000_000_000_000,
        ];
        let bin = [1i64 << 10, 1 << 20, 1 << 30, 1 << 40, 1 << 50, 1 << 60];
        units.contains(&q.value()) || bin.contains(&q.value())
    };
    if !ok || q.is_negative() {
        c.invalid(&format!("{p}.divisor"), &d.0, "only divisor's values 1m and 1 are supported with the cpu resource; 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei with memory and ephemeral-storage");
    }
}

fn resources(c: &mut Checks, p: &str, k: &Container) {
    let Some(r) = &k.resources else { return };
    let parsed = |m: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >| {
        m.iter()
            .flatten()
            .filter_map(|(name, q)| {
                Quantity::parse(&q.0)
                    .ok()
                    .map(|v| (name.clone(), q.0.clone(), v))
            })
            .collect::<Vec<_>>()
    };
    let (requests, limits) = (parsed(&r.requests), parsed(&r.limits));
    for (what, list) in [("requests", &requests), ("limits", &limits)] {
        for (name, text, q) in list {
            if q.is_negative() {
                c.invalid(
                    &format!("{p}.{what}.{name}"),
                    text,
                    "must be greater than or equal to 0",
                );
            }
        }
    }
    for (what, list) in [("requests", &requests), ("limits", &limits)] {
        for (name, text, q) in list.iter().filter(|(n, _, _)| n.contains('/')) {
            let path = format!("{p}.{what}.{name}");
            if let Err(e) = extended_resource_name(name) {
                c.other(&path, format!("Invalid value: {name:?}: {e}"));
            } else if q.milli_value() % 1000 != 0 {
                c.invalid(&path, text, "must be an integer");
            }
        }
    }
    for (name, text, req) in requests.iter().filter(|(n, _, _)| n.contains('/')) {
        match limits.iter().find(|(n, _, _)| n == name) {
            None => c.other(
                &format!("{p}.requests.{name}"),
                format!(
                    "Required value: Limit must be set for non overcommitable resources; add \
                     limits.{name}: {text}"
                ),
            ),
            Some((_, lim_text, lim)) if lim.value() != req.value() => c.invalid(
                &format!("{p}.requests.{name}"),
                text,
                &format!("must be equal to {name} limit of {lim_text}"),
            ),
            Some(_) => {}
        }
    }
    for (name, text, req) in requests.iter().filter(|(n, _, _)| !n.contains('/')) {
        if let Some((_, lim_text, lim)) = limits.iter().find(|(n, _, _)| n == name) {
            let bigger = if name == "cpu" {
                req.milli_value() > lim.milli_value()
            } else {
                req.value() > lim.value()
            };
            if bigger {
                c.invalid(
                    &format!("{p}.requests.{name}"),
                    text,
                    &format!("must be less than or equal to {name} limit of {lim_text}"),
                );
            }
        }
    }
}

/// An extended resource's name, as the API server's
/// `IsExtendedResourceName`: `DOMAIN/NAME` outside `kubernetes.io`.
fn extended_resource_name(name: &str) -> Result<(), String> {
    crate::manifest::names::qualified_name(name)?;
    let domain = name.split('/').next().unwrap_or_default();
    if domain == "kubernetes.io"
        || domain.ends_with(".kubernetes.io")
        || name.starts_with("requests.")
    {
        return Err(
            "must be an extended resource name: DOMAIN/NAME outside kubernetes.io, such as kubelab.io/fuse"
                .into(),
        );
    }
    Ok(())
}

fn handlers(c: &mut Checks, p: &str, count: usize) {
    match count {
        0 => c.other(p, "Required value: must specify a handler type".into()),
        1 => {}
        _ => c.other(
            p,
            "Forbidden: may not specify more than 1 handler type".into(),
        ),
    }
}

fn port_ref(
    c: &mut Checks,
    p: &str,
    port: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString,
    known: &dyn Fn(&str) -> bool,
) {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    match port {
        IntOrString::Int(n) if !(1..=65535).contains(n) => {
            c.invalid(p, &n.to_string(), "must be between 1 and 65535, inclusive")
        }
        IntOrString::String(s) if names::port_name(s).is_err() || !known(s) => c.invalid(
            p,
            s,
            "must be a port number or the name of one of this container's ports",
        ),
        _ => {}
    }
}

fn probe_checks(
    c: &mut Checks,
    p: &str,
    probe: &Probe,
    success_must_be_one: bool,
    known: &dyn Fn(&str) -> bool,
) {
    let count = [
        probe.exec.is_some(),
        probe.http_get.is_some(),
        probe.tcp_socket.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    handlers(c, p, count);
    if let Some(h) = &probe.http_get {
        port_ref(c, &format!("{p}.httpGet.port"), &h.port, known);
    }
    if let Some(t) = &probe.tcp_socket {
        port_ref(c, &format!("{p}.tcpSocket.port"), &t.port, known);
    }
    let fields = [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (name, v) in fields {
        if let Some(v) = v.filter(|v| *v < 0) {
            c.invalid(
                &format!("{p}.{name}"),
                &v.to_string(),
                "must be greater than or equal to 0",
            );
        }
    }
    if success_must_be_one && probe.success_threshold.is_some_and(|v| v != 1) {
        c.invalid(
            &format!("{p}.successThreshold"),
            &probe.success_threshold.unwrap_or(0).to_string(),
            "must be 1",
        );
    }
}

fn lifecycle(c: &mut Checks, p: &str, l: &Lifecycle, grace: i64, known: &dyn Fn(&str) -> bool) {
    for (name, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        let Some(h) = h else { continue };
        let hp = format!("{p}.{name}");
        handlers(
            c,
            &hp,
            [h.exec.is_some(), h.http_get.is_some(), h.sleep.is_some()]
                .iter()
                .filter(|b| **b)
                .count(),
        );
        if let Some(g) = &h.http_get {
            port_ref(c, &format!("{hp}.httpGet.port"), &g.port, known);
        }
        if let Some(s) = &h.sleep {
            if s.seconds < 0 || s.seconds > grace {
                c.invalid(
                    &format!("{hp}.sleep.seconds"),
                    &s.seconds.to_string(),
                    &format!("must be between 0 and the termination grace period ({grace})"),
                );
            }
        }
    }
}
