//! `kubectl describe pod`, in its layout (`pkg/describe` `describePod`):
//! the Pod's fields, each container's state, the conditions and the
//! events table. The text holds manifest and container strings: the caller
//! sanitizes it before it reaches a terminal.

use super::state::Event;
use crate::status::printer::human_duration;
use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Pod};
use k8s_openapi::chrono::{DateTime, Utc};
use std::fmt::Write;

fn state_lines(out: &mut String, title: &str, s: Option<&ContainerState>) {
    let Some(s) = s else { return };
    if let Some(r) = &s.running {
        let _ = writeln!(out, "    {title}:          Running");
        if let Some(t) = &r.started_at {
            let _ = writeln!(out, "      Started:      {}", t.0.to_rfc2822());
        }
    } else if let Some(w) = &s.waiting {
        let _ = writeln!(out, "    {title}:          Waiting");
        let _ = writeln!(
            out,
            "      Reason:       {}",
            w.reason.as_deref().unwrap_or_default()
        );
        if let Some(m) = &w.message {
            let _ = writeln!(out, "      Message:      {m}");
        }
    } else if let Some(t) = &s.terminated {
        let _ = writeln!(out, "    {title}:          Terminated");
        let _ = writeln!(
            out,
            "      Reason:       {}",
            t.reason.as_deref().unwrap_or_default()
        );
        let _ = writeln!(out, "      Exit Code:    {}", t.exit_code);
        if let Some(sig) = t.signal {
            let _ = writeln!(out, "      Signal:       {sig}");
        }
        if let Some(t0) = &t.started_at {
            let _ = writeln!(out, "      Started:      {}", t0.0.to_rfc2822());
        }
        if let Some(t1) = &t.finished_at {
            let _ = writeln!(out, "      Finished:     {}", t1.0.to_rfc2822());
        }
    }
}

fn containers(
    out: &mut String,
    title: &str,
    specs: &[k8s_openapi::api::core::v1::Container],
    statuses: &[ContainerStatus],
    devices: &[super::devices::Allocation],
) {
    if specs.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for c in specs {
        let s = statuses.iter().find(|s| s.name == c.name);
        let _ = writeln!(out, "  {}:", c.name);
        if let Some(id) = s.and_then(|s| s.container_id.as_deref()) {
            let _ = writeln!(out, "    Container ID:  {id}");
        }
        let _ = writeln!(
            out,
            "    Image:         {}",
            c.image.as_deref().unwrap_or_default()
        );
        if let Some(cmd) = &c.command {
            let _ = writeln!(out, "    Command:");
            for a in cmd {
                let _ = writeln!(out, "      {a}");
            }
        }
        if let Some(args) = &c.args {
            let _ = writeln!(out, "    Args:");
            for a in args {
                let _ = writeln!(out, "      {a}");
            }
        }
        state_lines(out, "State", s.and_then(|s| s.state.as_ref()));
        let last = s
            .and_then(|s| s.last_state.as_ref())
            .filter(|l| **l != ContainerState::default());
        state_lines(out, "Last State", last);
        if let Some(s) = s {
            let _ = writeln!(
                out,
                "    Ready:          {}",
                if s.ready { "True" } else { "False" }
            );
            let _ = writeln!(out, "    Restart Count:  {}", s.restart_count);
        }
        resources(out, c);
        for a in devices.iter().filter(|a| a.container == c.name) {
            let (var, ids) = a.env();
            let _ = writeln!(
                out,
                "    Devices:        {} {} ({var}={ids})",
                a.kind.resource,
                a.ids.join(",")
            );
        }
        for (name, p) in [
            ("Liveness", &c.liveness_probe),
            ("Readiness", &c.readiness_probe),
            ("Startup", &c.startup_probe),
        ] {
            if let Some(p) = p {
                let t = crate::probe::ProbeTiming::from_probe(p);
                let _ = writeln!(
                    out,
                    "    {name}:{}{} delay={}s timeout={}s period={}s #success={} #failure={}",
                    " ".repeat(15usize.saturating_sub(name.len() + 1)),
                    probe_action(p),
                    t.initial_delay.as_secs(),
                    t.timeout.as_secs(),
                    t.period.as_secs(),
                    t.success_threshold,
                    t.failure_threshold
                );
            }
        }
    }
}

/// `Limits:` and `Requests:` of a container, as kubectl describes them
/// (names sorted, values as written).
fn resources(out: &mut String, c: &k8s_openapi::api::core::v1::Container) {
    let Some(r) = &c.resources else { return };
    for (title, list) in [("Limits", &r.limits), ("Requests", &r.requests)] {
        let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
            continue;
        };
        let _ = writeln!(out, "    {title}:");
        let width = list.keys().map(|k| k.len()).max().unwrap_or(0) + 1;
        for (k, v) in list {
            let _ = writeln!(out, "      {:<width$}  {}", format!("{k}:"), v.0);
        }
    }
}

/// A probe's action as kubectl prints it: `exec [cat /tmp/x]`,
/// `http-get http://:8080/healthz`, `tcp-socket :8080`.
fn probe_action(p: &k8s_openapi::api::core::v1::Probe) -> String {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let port = |p: &IntOrString| match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    };
    if let Some(e) = &p.exec {
        return format!("exec [{}]", e.command.clone().unwrap_or_default().join(" "));
    }
    if let Some(h) = &p.http_get {
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        let host = h.host.as_deref().unwrap_or("");
        let path = h.path.as_deref().unwrap_or("/");
        return format!("http-get {scheme}://{host}:{}{path}", port(&h.port));
    }
    if let Some(t) = &p.tcp_socket {
        return format!(
            "tcp-socket {}:{}",
            t.host.as_deref().unwrap_or(""),
            port(&t.port)
        );
    }
    String::new()
}

/// The whole description of `pod` at `now`.
pub fn describe(pod: &Pod, events: &[Event], now: DateTime<Utc>) -> String {
    describe_with_devices(pod, events, &[], now)
}

/// [`describe`] with the devices the Pod holds, under each container's
/// resources (kubectl shows none: the kubelet's checkpoint holds them).
pub fn describe_with_devices(
    pod: &Pod,
    events: &[Event],
    devices: &[super::devices::Allocation],
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let m = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "Name:             {}",
        m.name.as_deref().unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Namespace:        {}",
        m.namespace.as_deref().unwrap_or("default")
    );
    let _ = writeln!(out, "Priority:         0");
    let _ = writeln!(
        out,
        "Node:             {}",
        spec.node_name.as_deref().unwrap_or("<none>")
    );
    if let Some(t) = &status.start_time {
        let _ = writeln!(out, "Start Time:       {}", t.0.to_rfc2822());
    }
    let labels: Vec<String> = m
        .labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(
        out,
        "Labels:           {}",
        if labels.is_empty() {
            "<none>".into()
        } else {
            labels.join("\n                  ")
        }
    );
    let ann: Vec<String> = m
        .annotations
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let _ = writeln!(
        out,
        "Annotations:      {}",
        if ann.is_empty() {
            "<none>".into()
        } else {
            ann.join("\n                  ")
        }
    );
    let _ = writeln!(
        out,
        "Status:           {}",
        status.phase.as_deref().unwrap_or("Pending")
    );
    let _ = writeln!(
        out,
        "IP:               {}",
        status.pod_ip.as_deref().unwrap_or("")
    );
    containers(
        &mut out,
        "Init Containers",
        spec.init_containers.as_deref().unwrap_or_default(),
        status
            .init_container_statuses
            .as_deref()
            .unwrap_or_default(),
        devices,
    );
    containers(
        &mut out,
        "Containers",
        &spec.containers,
        status.container_statuses.as_deref().unwrap_or_default(),
        devices,
    );
    let _ = writeln!(out, "Conditions:\n  Type                        Status");
    for c in status.conditions.iter().flatten() {
        let _ = writeln!(out, "  {:<28}{}", c.type_, c.status);
    }
    let _ = writeln!(
        out,
        "QoS Class:        {}",
        status.qos_class.as_deref().unwrap_or_default()
    );
    if events.is_empty() {
        let _ = writeln!(out, "Events:           <none>");
        return out;
    }
    let _ = writeln!(out, "Events:");
    let age = |rfc: &str| {
        DateTime::parse_from_rfc3339(rfc)
            .map(|t| human_duration((now - t.with_timezone(&Utc)).num_seconds()))
            .unwrap_or_else(|_| "<unknown>".into())
    };
    let mut rows = vec![
        ["Type", "Reason", "Age", "From", "Message"]
            .map(String::from)
            .to_vec(),
        ["----", "------", "----", "----", "-------"]
            .map(String::from)
            .to_vec(),
    ];
    for e in events {
        let a = if e.count > 1 {
            format!("{} (x{} over {})", age(&e.last), e.count, age(&e.first))
        } else {
            age(&e.first)
        };
        rows.push(vec![
            format!("{:?}", e.type_),
            e.reason.clone(),
            a,
            "kubelet".into(),
            e.message.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in rows {
        out.push_str("  ");
        for (i, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if i < 4 {
                out.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_show_their_limits_requests_and_probe_actions_as_kubectl() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{
                "name": "app",
                "image": "busybox",
                "resources": {
                    "limits": {"cpu": "500m", "memory": "128Mi"},
                    "requests": {"cpu": "250m", "memory": "64Mi"}
                },
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                "readinessProbe": {"tcpSocket": {"port": "http"}},
                "startupProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}
            }]}
        }))
        .unwrap();
        let text = describe(&pod, &[], crate::agent::now_utc());
        let want = "    Limits:\n      cpu:     500m\n      memory:  128Mi\n    Requests:\n      cpu:     250m\n      memory:  64Mi\n";
        assert!(text.contains(want), "{text}");
        assert!(
            text.contains("    Liveness:      http-get http://:8080/healthz delay=0s"),
            "{text}"
        );
        assert!(
            text.contains("    Readiness:     tcp-socket :http delay=0s"),
            "{text}"
        );
        assert!(
            text.contains("    Startup:       exec [cat /tmp/ok] delay=0s"),
            "{text}"
        );
    }

    #[test]
    fn a_container_s_devices_follow_its_resources() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "f", "namespace": "default"},
            "spec": {"containers": [
                {"name": "app", "image": "busybox",
                 "resources": {"limits": {"kubelab.io/fuse": "1"}}},
                {"name": "side", "image": "busybox"}
            ]}
        }))
        .unwrap();
        let held = [crate::agent::devices::Allocation {
            container: "app".into(),
            kind: crate::agent::devices::kind("fuse").unwrap(),
            ids: vec!["fuse-1".into()],
        }];
        let text = describe_with_devices(&pod, &[], &held, crate::agent::now_utc());
        let want = "      kubelab.io/fuse:  1\n    Devices:        kubelab.io/fuse fuse-1 (KUBELAB_FUSE_DEVICES=fuse-1)\n  side:";
        assert!(text.contains(want), "{text}");
        assert_eq!(text.matches("Devices:").count(), 1, "{text}");
    }
}
