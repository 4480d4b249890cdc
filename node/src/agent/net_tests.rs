//! Pod IPs, `tcpSocket`/`httpGet` probes and `httpGet` hooks against the
//! fake runtime: what the agent asks the runtime, and what it does with
//! the answers. The real network is exercised in `node/tests/pod_network.rs`.

use super::fake::Call;
use super::tests::{lab, row};
use crate::runtime::NetCheck;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn with_ip(l: &super::tests::Lab) {
    l.rt.0.lock().unwrap().pod_ip = Some("10.88.0.7".parse().unwrap());
}

#[test]
fn the_pod_ip_reaches_status_wide_rows_and_the_downward_api() {
    let l = lab();
    with_ip(&l);
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [\"echo\", \"$(MY_IP)\"]\n    env:\n    - name: MY_IP\n      valueFrom:\n        fieldRef:\n          fieldPath: status.podIP\n";
    l.node.apply(text, Path::new("p.yaml")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    let (pod, _) = l.node.pod("default", "web").unwrap();
    let status = pod.status.unwrap();
    assert_eq!(status.pod_ip.as_deref(), Some("10.88.0.7"));
    assert_eq!(status.pod_ips.unwrap()[0].ip, "10.88.0.7");
    let st = l.node.wait_until(WAIT, |st| {
        row(st, "web").is_some_and(|r| r.ip == "10.88.0.7")
    });
    assert!(st, "the wide row shows the IP");
    assert!(l.rt.calls().iter().any(|c| matches!(
        c,
        Call::Start { argv, .. } if argv == &["echo".to_string(), "10.88.0.7".to_string()]
    )));
}

#[test]
fn a_tcp_readiness_probe_goes_ready_when_the_port_opens() {
    let l = lab();
    with_ip(&l);
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n    image: busybox\n    ports:\n    - name: http\n      containerPort: 8080\n    readinessProbe:\n      tcpSocket:\n        port: http\n      periodSeconds: 1\n";
    l.node.apply(text, Path::new("p.yaml")).unwrap();
    let probed = NetCheck::Tcp {
        host: "10.88.0.7".into(),
        port: 8080,
    };
    assert!(l.node.wait_until(WAIT, |_| l
        .rt
        .calls()
        .contains(&Call::NetCheck(probed.clone()))));
    assert!(l
        .node
        .wait_until(WAIT, |st| st.find("default", "web").is_some_and(|p| p
            .events
            .iter()
            .any(|e| e.reason == "Unhealthy"
                && e.message.starts_with("Readiness probe failed: dial tcp")))));
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running" && r.ready == "0/1")));
    l.rt.0.lock().unwrap().open_ports.insert(8080);
    assert!(l
        .node
        .wait_until(WAIT, |st| row(st, "web").is_some_and(|r| r.ready == "1/1")));
}

#[test]
fn a_failing_http_liveness_probe_restarts_and_hooks_get_over_http() {
    let l = lab();
    with_ip(&l);
    l.rt.0.lock().unwrap().open_ports.insert(9000);
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sick\nspec:\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: main\n    image: busybox\n    lifecycle:\n      postStart:\n        httpGet:\n          port: 9000\n          path: /started\n    livenessProbe:\n      httpGet:\n        port: 8080\n        path: /healthz\n        httpHeaders:\n        - name: X-Lab\n          value: \"1\"\n      periodSeconds: 1\n      failureThreshold: 1\n";
    l.node.apply(text, Path::new("p.yaml")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st
        .find("default", "sick")
        .is_some_and(|p| p.containers[0].restart_count() >= 1)));
    let calls = l.rt.calls();
    assert!(calls.contains(&Call::NetCheck(NetCheck::Http {
        host: "10.88.0.7".into(),
        port: 9000,
        path: "/started".into(),
        headers: vec![],
    })));
    assert!(calls.contains(&Call::NetCheck(NetCheck::Http {
        host: "10.88.0.7".into(),
        port: 8080,
        path: "/healthz".into(),
        headers: vec![("X-Lab".into(), "1".into())],
    })));
    let (_, events) = l.node.pod("default", "sick").unwrap();
    assert!(events
        .iter()
        .any(|e| e.reason == "Killing" && e.message.contains("failed liveness probe")));
    assert!(!events.iter().any(|e| e.reason == "FailedPostStartHook"));
}

#[test]
fn loopback_only_pods_say_why_and_https_is_refused() {
    let l = lab();
    l.rt.0.lock().unwrap().no_network =
        Some("no CNI plugin bridge in /usr/lib/cni: Pods get loopback only (apt install containernetworking-plugins)".into());
    let hook = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: h\nspec:\n  containers:\n  - name: main\n    image: busybox\n    lifecycle:\n      preStop:\n        httpGet:\n          port: 80\n";
    let e = l.node.apply(hook, Path::new("h.yaml")).unwrap_err();
    assert!(
        e.contains("spec.containers[0].lifecycle.preStop: httpGet needs a Pod IP"),
        "{e}"
    );
    assert!(e.contains("apt install containernetworking-plugins"), "{e}");
    let plain = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: lo\nspec:\n  containers:\n  - name: main\n    image: busybox\n";
    l.node.apply(plain, Path::new("lo.yaml")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "lo")
        .is_some_and(|r| r.status == "Running")));
    let (pod, events) = l.node.pod("default", "lo").unwrap();
    assert_eq!(pod.status.unwrap().pod_ip, None);
    assert!(events
        .iter()
        .any(|e| e.reason == "NetworkNotReady" && e.message.contains("loopback only")));

    l.rt.0.lock().unwrap().no_network = None;
    let https = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\nspec:\n  containers:\n  - name: main\n    image: busybox\n    livenessProbe:\n      httpGet:\n        port: 443\n        scheme: HTTPS\n";
    let e = l.node.apply(https, Path::new("s.yaml")).unwrap_err();
    assert!(
        e.contains("livenessProbe.httpGet.scheme: HTTPS is not supported"),
        "{e}"
    );
}
