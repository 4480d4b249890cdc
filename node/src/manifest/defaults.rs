//! The API server's defaults (`pkg/apis/core/v1/defaults.go`) for the
//! supported fields, so a Pod read from a file looks — and gets the same
//! QoS class and probe timing — as after `kubectl apply`.

use super::image::normalize;
use k8s_openapi::api::core::v1::{Container, Pod, Probe};

fn probe(p: &mut Option<Probe>) {
    let Some(p) = p else { return };
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(h) = &mut p.http_get {
        h.path.get_or_insert_with(|| "/".into());
        h.scheme.get_or_insert_with(|| "HTTP".into());
    }
}

fn container(c: &mut Container) {
    // SetDefaults_Container: Always for `:latest` or no tag, else IfNotPresent.
    if c.image_pull_policy.is_none() {
        let image = c.image.as_deref().unwrap_or("");
        let latest = normalize(image).ends_with(":latest") && !image.contains('@');
        c.image_pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.into());
    }
    for port in c.ports.iter_mut().flatten() {
        port.protocol.get_or_insert_with(|| "TCP".into());
    }
    // Requests default to limits, per resource.
    if let Some(r) = &mut c.resources {
        if let Some(limits) = &r.limits {
            let requests = r.requests.get_or_insert_with(Default::default);
            for (k, v) in limits {
                requests.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            f.api_version.get_or_insert_with(|| "v1".into());
        }
    }
    probe(&mut c.liveness_probe);
    probe(&mut c.readiness_probe);
    probe(&mut c.startup_probe);
    if let Some(l) = &mut c.lifecycle {
        for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
            if let Some(g) = &mut h.http_get {
                g.path.get_or_insert_with(|| "/".into());
                g.scheme.get_or_insert_with(|| "HTTP".into());
            }
        }
    }
}

/// Fills the defaults in place.
pub fn apply(pod: &mut Pod) {
    pod.metadata
        .namespace
        .get_or_insert_with(|| "default".into());
    let Some(spec) = &mut pod.spec else { return };
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        container(c);
    }
    for v in spec.volumes.iter_mut().flatten() {
        if let Some(cm) = &mut v.config_map {
            cm.default_mode.get_or_insert(0o644);
        }
        if let Some(s) = &mut v.secret {
            s.default_mode.get_or_insert(0o644);
        }
        if let Some(d) = &mut v.downward_api {
            d.default_mode.get_or_insert(0o644);
            for it in d.items.iter_mut().flatten() {
                if let Some(f) = &mut it.field_ref {
                    f.api_version.get_or_insert_with(|| "v1".into());
                }
            }
        }
        if let Some(h) = &mut v.host_path {
            h.type_.get_or_insert_with(String::new);
        }
    }
}
