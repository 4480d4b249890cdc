//! Two Pods on one node talk through the real CNI bridge.
//!
//! Debian's `bridge`, `host-local`, `portmap` and `loopback` plugins run
//! inside a throwaway "node" network namespace (held by a `sleep` under
//! `unshare --net`), each Pod has its own namespace held the same way, and
//! the IPAM state lives in a temp dir. The host's network namespace is never
//! touched: the test checks its links are the same before and after.
//! Needs root, util-linux (`unshare`, `nsenter`), iproute2 and busybox.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kubelab_node::cni::network::{add, del};
use kubelab_node::cni::{
    default_bridge_conflist, loopback_conflist, Attachment, Launcher, PluginRunner,
    DEBIAN_PLUGIN_DIR,
};

/// A process holding a new network namespace; killed on drop.
struct NetnsHolder {
    child: Child,
}

impl NetnsHolder {
    fn start() -> NetnsHolder {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare");
        let holder = NetnsHolder { child };
        // unshare execs sleep once the namespace exists: wait for that.
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let exe = std::fs::read_link(format!("/proc/{}/exe", holder.child.id()));
            let ns = std::fs::read_link(holder.netns());
            if exe.is_ok_and(|e| e.ends_with("sleep")) && ns.is_ok_and(|n| n != ours) {
                break;
            }
            assert!(Instant::now() < deadline, "unshare --net did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        holder
    }

    fn netns(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.child.id()))
    }

    /// Runs a command inside this namespace; (success, stdout + stderr).
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.netns().display()))
            .arg("--")
            .args(args)
            .output()
            .expect("nsenter");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    fn links(&self) -> String {
        self.run(&["ip", "-o", "link", "show"]).1
    }
}

impl Drop for NetnsHolder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn host_links() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect();
    names.sort();
    names
}

fn missing_prerequisite() -> Option<String> {
    if !is_root() {
        return Some("needs root to create network namespaces".into());
    }
    for plugin in ["bridge", "host-local", "portmap", "loopback"] {
        if !Path::new(DEBIAN_PLUGIN_DIR).join(plugin).exists() {
            return Some(format!(
                "no CNI {plugin} plugin in {DEBIAN_PLUGIN_DIR} (apt-get install containernetworking-plugins)"
            ));
        }
    }
    for tool in ["unshare", "nsenter", "ip", "busybox", "sleep"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

fn is_root() -> bool {
    // Without a libc dependency here: the effective uid from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(String::from))
        .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        .unwrap_or(false)
}

#[test]
fn two_pods_ping_each_other_through_the_bridge_and_del_frees_everything() {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIP: {why}");
        return;
    }
    let host_before = host_links();
    let tmp = tempfile::tempdir().unwrap();
    let ipam_dir = tmp.path().join("ipam");
    let node = NetnsHolder::start();
    let pods = [NetnsHolder::start(), NetnsHolder::start()];

    let mut runner = PluginRunner::new(vec![PathBuf::from(DEBIAN_PLUGIN_DIR)]);
    runner.timeout = Duration::from_secs(30);
    runner.launcher = Launcher::nsenter_net(&node.netns());
    let net = default_bridge_conflist("10.244.7.0/24", &ipam_dir).unwrap();
    let lo = loopback_conflist();

    let attachments: Vec<Attachment> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Attachment::for_pod(
                "default",
                &format!("pod{i}"),
                &format!("uid-{i}"),
                &format!("sandbox{i}"),
                p.netns(),
            )
        })
        .collect();
    let mut results = Vec::new();
    for att in &attachments {
        add(&runner, &lo, att).unwrap();
        results.push(add(&runner, &net, att).unwrap());
    }
    let ips: Vec<String> = results
        .iter()
        .map(|r| r.pod_ip().expect("a Pod IP").to_string())
        .collect();
    for ip in &ips {
        assert!(ip.starts_with("10.244.7."), "{ip} outside the Pod CIDR");
        // host-local's reservation, in our directory.
        assert!(
            ipam_dir.join("kubelab").join(ip).exists(),
            "no IPAM state for {ip}"
        );
    }
    assert_ne!(ips[0], ips[1]);
    // The bridge is in the node's namespace, eth0 and lo up in each Pod's.
    assert!(node.links().contains("kubelab0"), "{}", node.links());
    for p in &pods {
        let links = p.links();
        assert!(links.contains("eth0@"), "{links}");
        assert!(links.contains("lo: <LOOPBACK,UP"), "{links}");
    }
    let (ok, out) = pods[0].run(&["busybox", "ping", "-c", "1", "-W", "5", &ips[1]]);
    assert!(ok, "pod0 cannot ping pod1 at {}: {out}", ips[1]);
    let (ok, out) = pods[1].run(&["busybox", "ping", "-c", "1", "-W", "5", &ips[0]]);
    assert!(ok, "pod1 cannot ping pod0 at {}: {out}", ips[0]);

    // DEL: the interface goes and the address is released.
    del(&runner, &net, &attachments[0], Some(&results[0])).unwrap();
    del(&runner, &lo, &attachments[0], None).unwrap();
    assert!(!pods[0].links().contains("eth0"), "{}", pods[0].links());
    assert!(!ipam_dir.join("kubelab").join(&ips[0]).exists());
    // A second DEL is fine (idempotent), and so is one after the Pod's
    // namespace is gone.
    del(&runner, &net, &attachments[0], Some(&results[0])).unwrap();
    let [pod0, pod1] = pods;
    drop(pod0);
    drop(pod1);
    del(&runner, &net, &attachments[1], Some(&results[1])).unwrap();
    assert!(!ipam_dir.join("kubelab").join(&ips[1]).exists());
    drop(node);
    assert_eq!(
        host_links(),
        host_before,
        "the host's network namespace changed"
    );
}
