//! Services against the fake runtime: ClusterIP allocation and the API
//! server's rules, Endpoints and the plans the data plane is given, the
//! Pods' resolv.conf.

use super::fake::Call;
use super::tests::lab;
use crate::service::{Backend, ServicePlan};
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn svc(name: &str, extra: &str) -> String {
    format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n{extra}  selector: {{app: web}}\n  ports:\n  - {{name: http, port: 80, targetPort: http}}\n")
}

const WEB: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    ports: [{name: http, containerPort: 8080}]\n";

fn cluster_ip(l: &super::tests::Lab, name: &str) -> String {
    l.node
        .service("default", name)
        .unwrap()
        .spec
        .unwrap()
        .cluster_ip
        .unwrap()
}

/// The last plan the runtime was given, once `cond` holds for it.
fn plan_until(l: &super::tests::Lab, cond: impl Fn(&ServicePlan) -> bool) -> ServicePlan {
    let deadline = Instant::now() + WAIT;
    loop {
        let last = l.rt.calls().into_iter().rev().find_map(|c| match c {
            Call::SyncServices(p) => Some(p),
            _ => None,
        });
        if let Some(p) = last.filter(|p| cond(p)) {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "no such plan: {:?}",
            l.rt.calls()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn cluster_ips_are_allocated_checked_and_kept() {
    let l = lab();
    let f = Path::new("svc.yaml");
    let out = l.node.apply(&svc("a", ""), f).unwrap();
    assert_eq!(out, ["service/a created"]);
    assert_eq!(cluster_ip(&l, "a"), "10.96.0.1");
    l.node.apply(&svc("b", ""), f).unwrap();
    assert_eq!(cluster_ip(&l, "b"), "10.96.0.2");
    assert_eq!(
        l.node.apply(&svc("a", ""), f).unwrap(),
        ["service/a unchanged"]
    );
    // A new selector updates it; the ClusterIP stays.
    let changed = svc("a", "").replace("app: web", "app: api");
    assert_eq!(l.node.apply(&changed, f).unwrap(), ["service/a configured"]);
    assert_eq!(cluster_ip(&l, "a"), "10.96.0.1");
    let e = l
        .node
        .apply(&svc("a", "  clusterIP: 10.96.0.9\n"), f)
        .unwrap_err();
    assert!(e.contains("svc.yaml:1: The Service \"a\" is invalid: spec.clusterIP: Invalid value: \"10.96.0.9\": field is immutable"), "{e}");
    let e = l
        .node
        .apply(&svc("c", "  clusterIP: 10.96.0.2\n"), f)
        .unwrap_err();
    assert!(e.contains("already allocated"), "{e}");
    let e = l
        .node
        .apply(&svc("c", "  clusterIP: 192.168.1.1\n"), f)
        .unwrap_err();
    assert!(
        e.contains("not in this node's service CIDR 10.96.0.0/16"),
        "{e}"
    );
    let e = l
        .node
        .apply(&svc("c", "  clusterIP: 10.96.0.10\n"), f)
        .unwrap_err();
    assert!(e.contains("the cluster DNS's address"), "{e}");
    // Nothing of a refused manifest is applied, Pods included.
    let e = l
        .node
        .apply(
            &format!("{WEB}---\n{}", svc("c", "  clusterIP: 1.2.3.4\n")),
            f,
        )
        .unwrap_err();
    assert!(e.contains("1.2.3.4"), "{e}");
    assert!(l.node.pods().is_empty());
    l.node
        .apply(&svc("d", "  clusterIP: 10.96.7.7\n"), f)
        .unwrap();
    l.node.apply(&svc("h", "  clusterIP: None\n"), f).unwrap();
    assert_eq!(cluster_ip(&l, "h"), "None");
    assert_eq!(
        l.node.delete_service("default", "b").unwrap(),
        "service \"b\" deleted"
    );
    assert!(l
        .node
        .delete_service("default", "b")
        .unwrap_err()
        .contains("not found"));
    // b's address is free again.
    l.node.apply(&svc("e", ""), f).unwrap();
    assert_eq!(cluster_ip(&l, "e"), "10.96.0.2");
    let e = l
        .node
        .apply(
            &WEB.replace("  containers:", "  dnsPolicy: None\n  containers:"),
            f,
        )
        .unwrap_err();
    assert!(e.contains("dnsPolicy: None needs spec.dnsConfig"), "{e}");
}

#[test]
fn the_data_plane_follows_the_ready_pods() {
    let l = lab();
    l.rt.0.lock().unwrap().pod_ip = Some("10.88.0.7".parse().unwrap());
    let f = Path::new("web.yaml");
    l.node
        .apply(&format!("{WEB}---\n{}", svc("web", "")), f)
        .unwrap();
    let ready = |p: &ServicePlan| {
        p.services.len() == 1
            && p.services[0].ports[0].backends
                == [Backend {
                    ip: Ipv4Addr::new(10, 88, 0, 7),
                    port: 8080,
                }]
    };
    let p = plan_until(&l, ready);
    assert_eq!(p.services[0].cluster_ip, Some(Ipv4Addr::new(10, 96, 0, 1)));
    let eps = l.node.endpoints();
    assert_eq!(
        eps[0].subsets.as_ref().unwrap()[0]
            .addresses
            .as_ref()
            .unwrap()[0]
            .ip,
        "10.88.0.7"
    );
    // The Pod goes: its endpoint goes (the Service stays, empty).
    l.node.delete("default", "web", Some(0)).unwrap();
    plan_until(&l, |p| {
        p.services.len() == 1 && p.services[0].ports[0].backends.is_empty()
    });
    // The Service goes: an empty plan clears the rules.
    l.node.delete_service("default", "web").unwrap();
    plan_until(&l, |p| p.services.is_empty());
    // The Pod (ClusterFirst) asked for the cluster DNS at the CIDR's .10.
    assert!(l
        .rt
        .calls()
        .contains(&Call::ClusterDns(Ipv4Addr::new(10, 96, 0, 10))));
}

#[test]
fn resolv_conf_follows_dns_policy_and_says_when_there_is_no_dns() {
    let l = lab();
    l.rt.0.lock().unwrap().pod_ip = Some("10.88.0.7".parse().unwrap());
    let f = Path::new("web.yaml");
    l.node.apply(WEB, f).unwrap();
    let running = |name: &'static str| {
        move |st: &super::State| super::tests::row(st, name).is_some_and(|r| r.status == "Running")
    };
    assert!(l.node.wait_until(WAIT, running("web")));
    let mounts = l.rt.0.lock().unwrap().mounts.get("main").cloned().unwrap();
    let (host, _) = mounts
        .iter()
        .find(|(_, c)| c == "/etc/resolv.conf")
        .expect("mounted");
    assert_eq!(
        std::fs::read_to_string(host).unwrap(),
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    );
    // Default: the image's file.
    let other = WEB
        .replace("name: web\n", "name: plain\n")
        .replace("name: main", "name: plainc")
        .replace("  containers:", "  dnsPolicy: Default\n  containers:");
    l.node.apply(&other, f).unwrap();
    assert!(l.node.wait_until(WAIT, running("plain")));
    let mounts =
        l.rt.0
            .lock()
            .unwrap()
            .mounts
            .get("plainc")
            .cloned()
            .unwrap();
    assert!(
        !mounts.iter().any(|(_, c)| c == "/etc/resolv.conf"),
        "{mounts:?}"
    );
    // hostNetwork: ClusterFirst keeps the image's file, as the kubelet;
    // ClusterFirstWithHostNet asks for the cluster DNS.
    for (pod, c, policy, mounted) in [
        ("hn", "hnc", "ClusterFirst", false),
        ("hnw", "hnwc", "ClusterFirstWithHostNet", true),
    ] {
        let m = WEB
            .replace("name: web\n", &format!("name: {pod}\n"))
            .replace("name: main", &format!("name: {c}"))
            .replace(
                "  containers:",
                &format!("  hostNetwork: true\n  dnsPolicy: {policy}\n  containers:"),
            );
        l.node.apply(&m, f).unwrap();
        let deadline = std::time::Instant::now() + WAIT;
        while !l.rt.0.lock().unwrap().mounts.contains_key(c) {
            assert!(std::time::Instant::now() < deadline, "{pod} never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mounts = l.rt.0.lock().unwrap().mounts.get(c).cloned().unwrap();
        assert_eq!(
            mounts.iter().any(|(_, c)| c == "/etc/resolv.conf"),
            mounted,
            "{pod}: {mounts:?}"
        );
    }
    // No DNS: the image's file, and a MissingClusterDNS event says why.
    l.rt.0.lock().unwrap().no_dns = Some("no /usr/sbin/dnsmasq".into());
    let third = WEB
        .replace("name: web\n", "name: nodns\n")
        .replace("name: main", "name: nodnsc");
    l.node.apply(&third, f).unwrap();
    assert!(l.node.wait_until(WAIT, running("nodns")));
    let mounts =
        l.rt.0
            .lock()
            .unwrap()
            .mounts
            .get("nodnsc")
            .cloned()
            .unwrap();
    assert!(
        !mounts.iter().any(|(_, c)| c == "/etc/resolv.conf"),
        "{mounts:?}"
    );
    let (_, events) = l.node.pod("default", "nodns").unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.reason == "MissingClusterDNS" && e.message.contains("no /usr/sbin/dnsmasq")),
        "{events:?}"
    );
}
