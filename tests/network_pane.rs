//! The network pane against real namespaces: a node namespace with a veth
//! to a peer namespace, a bridge, a VXLAN and an nft rule with a counter;
//! after one ping the model shows the links (VNI), the neighbour, the FDB
//! entry and, in the packet view, the counters the ping moved. As root, and
//! rootless (an unprivileged user's own user + network namespace, observed
//! by that user). Namespaces live only as long as their holder processes:
//! nothing is left behind, even when a test fails.

use kubelab::panes::inspect::net::packet::Tracker;
use kubelab::panes::inspect::net::source::read;
use kubelab::panes::inspect::net::{Hop, NetView};
use kubelab_sandbox::observe::nettools::{find_tool, NetnsTarget};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;
/// Set in the re-run of this binary that observes as the unprivileged user.
const CHILD_ENV: &str = "KUBELAB_NETPANE_OBSERVE_PID";

/// A process holding a network namespace (and a user namespace when
/// rootless); killed and reaped on drop, which frees the namespace and its
/// links.
struct Holder(Child);

impl Holder {
    fn start(uid: Option<u32>) -> Holder {
        let mut cmd = Command::new("unshare");
        if uid.is_some() {
            cmd.args(["--user", "--map-root-user"]);
        }
        cmd.args(["--net", "sh", "-c", "echo ready; read x"])
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if let Some(u) = uid {
            cmd.uid(u).gid(u);
        }
        let mut child = cmd.spawn().expect("run unshare");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let h = Holder(child);
        assert_eq!(line.trim(), "ready", "unshare failed");
        h
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Runs `script` inside the namespace (as its user when rootless).
    fn sh(&self, script: &str, uid: Option<u32>) {
        let pid = self.pid().to_string();
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &pid]);
        if uid.is_some() {
            cmd.args(["-U", "--preserve-credentials"]);
        }
        cmd.args(["-n", "sh", "-ec", script]).current_dir("/");
        if let Some(u) = uid {
            cmd.uid(u).gid(u);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn missing() -> Option<String> {
    if !kubelab_sandbox::is_root() {
        return Some("needs root to make network namespaces and veth pairs".into());
    }
    for (tool, pkg) in [
        ("ip", "iproute2"),
        ("bridge", "iproute2"),
        ("nft", "nftables"),
        ("ping", "iputils-ping"),
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
    ] {
        if find_tool(tool).is_none() {
            return Some(format!("no `{tool}` (apt-get install {pkg})"));
        }
    }
    None
}

fn skip(why: Option<String>) -> bool {
    if let Some(w) = why {
        eprintln!("SKIP: {w}");
        return true;
    }
    false
}

fn host_links() -> Vec<String> {
    let out = Command::new("ip").args(["-o", "link"]).output().unwrap();
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect();
    v.sort();
    v
}

/// The node's links: a bridge with a VXLAN port, an nft counter on the
/// echo requests it sends.
const NODE_SETUP: &str = "
ip link set lo up
ip link add br0 type bridge
ip link add vx0 type vxlan id 42 remote 10.9.9.2 dstport 4789 dev va
ip link set vx0 master br0
ip link set br0 up
ip link set vx0 up
bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.9.3
nft add table inet lab
nft add chain inet lab out '{ type filter hook output priority 0; }'
nft add rule inet lab out icmp type echo-request counter
";

fn link<'a>(v: &'a NetView, name: &str) -> &'a kubelab::panes::inspect::net::LinkRow {
    v.links
        .rows
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no link {name}: {:?}", v.links.rows))
}

fn rule_moved(v: &NetView) -> bool {
    v.packet.iter().any(|h| {
        matches!(h, Hop::Rule { text, packets, .. } if text.contains("echo-request") && *packets >= 1)
    })
}

#[test]
fn the_pane_shows_links_neighbours_fdb_and_the_path_of_a_ping() {
    if skip(missing()) {
        return;
    }
    let before = host_links();
    let node = Holder::start(None);
    let peer = Holder::start(None);
    node.sh(
        &format!(
            "ip link add va type veth peer name vb
             ip link set vb netns {}
             ip addr add 10.9.9.1/24 dev va
             ip link set va up",
            peer.pid()
        ),
        None,
    );
    peer.sh(
        "ip addr add 10.9.9.2/24 dev vb; ip link set vb up; ip link set lo up",
        None,
    );
    node.sh(NODE_SETUP, None);
    let target = NetnsTarget::of_pid(node.pid());
    assert!(
        target.user.is_none(),
        "root never takes a sandbox's user namespace's credentials for its tools"
    );
    let mut tracker = Tracker::default();
    let t0 = Instant::now();
    let mut v = read(&target).unwrap();
    tracker.update(&mut v, t0);
    assert!(v.links.why.is_none(), "{:?}", v.links.why);
    let vx = link(&v, "vx0");
    assert_eq!(vx.kind, "vxlan");
    assert!(vx
        .vxlan
        .as_deref()
        .unwrap()
        .starts_with("vni 42 remote 10.9.9.2 dstport 4789"));
    assert_eq!(vx.master.as_deref(), Some("br0"));
    let va = link(&v, "va");
    assert_eq!(va.kind, "veth");
    assert!(
        va.peer.as_deref().is_some_and(|p| p.starts_with("if")),
        "the peer is in another namespace: {:?}",
        va.peer
    );
    assert!(
        v.fdb
            .rows
            .iter()
            .any(|e| e.starts_with("00:00:00:00:00:00 dev vx0 dst 10.9.9.3")),
        "{:?}",
        v.fdb.rows
    );
    assert!(v.addrs.rows.contains(&"10.9.9.1/24 dev va".to_string()));
    assert!(v
        .routes
        .rows
        .iter()
        .any(|r| r.starts_with("10.9.9.0/24 dev va")));

    node.sh("ping -c1 -W2 10.9.9.2 >/dev/null", None);
    let mut v = read(&target).unwrap();
    tracker.update(&mut v, t0 + Duration::from_millis(250));
    assert!(
        v.neigh
            .rows
            .iter()
            .any(|n| n.starts_with("10.9.9.2 dev va lladdr ")),
        "the ping resolved its neighbour: {:?}",
        v.neigh.rows
    );
    let counted = v
        .rules
        .rows
        .iter()
        .find(|r| r.text.contains("echo-request"))
        .unwrap();
    assert!(counted.counter.is_some_and(|(p, _)| p >= 1), "{counted:?}");
    assert!(rule_moved(&v), "{:?}", v.packet);
    let out = v
        .packet
        .iter()
        .position(|h| matches!(h, Hop::Out { link, .. } if link == "va"));
    let came = v
        .packet
        .iter()
        .position(|h| matches!(h, Hop::In { link, .. } if link == "va"));
    let rule = v.packet.iter().position(|h| matches!(h, Hop::Rule { .. }));
    assert!(
        out.is_some() && came.is_some(),
        "request out, reply in on va: {:?}",
        v.packet
    );
    assert!(
        rule < out,
        "the output rule comes before the link it left by: {:?}",
        v.packet
    );

    drop(node);
    drop(peer);
    assert_eq!(
        host_links(),
        before,
        "nothing appeared in the host namespace"
    );
    assert!(
        read(&target).is_err(),
        "the namespace is gone with its holder"
    );
}

#[test]
fn rootless_the_user_observes_its_own_namespace() {
    if skip(missing()) {
        return;
    }
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--net", "true"])
        .uid(NOBODY)
        .gid(NOBODY)
        .current_dir("/")
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: an unprivileged user cannot make a user namespace here");
        return;
    }
    let node = Holder::start(Some(NOBODY));
    node.sh(
        "ip link add va type veth peer name vb
         ip addr add 10.9.9.1/24 dev va
         ip link set va up; ip link set vb up",
        Some(NOBODY),
    );
    node.sh(NODE_SETUP, Some(NOBODY));
    // This test binary again, as the unprivileged user, runs the observer.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "observe_as_the_caller",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, node.pid().to_string())
        .uid(NOBODY)
        .gid(NOBODY)
        .current_dir("/")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OBSERVED as uid 65534"), "{text}");
}

/// Run by `rootless_the_user_observes_its_own_namespace` (as the
/// unprivileged user, with the holder's PID in the environment): observes,
/// pings, observes again. Alone it says it has nothing to do.
#[test]
fn observe_as_the_caller() {
    let Some(pid) = std::env::var(CHILD_ENV).ok().and_then(|p| p.parse().ok()) else {
        eprintln!("SKIP: only run by the rootless test, as the unprivileged user");
        return;
    };
    let target = NetnsTarget::of_pid(pid);
    assert!(
        target.user.is_some(),
        "the namespace is owned by another user namespace"
    );
    let mut tracker = Tracker::default();
    let t0 = Instant::now();
    let mut v = read(&target).unwrap();
    tracker.update(&mut v, t0);
    for s in [&v.links.why, &v.fdb.why, &v.rules.why] {
        assert!(s.is_none(), "{s:?}");
    }
    assert!(link(&v, "vx0")
        .vxlan
        .as_deref()
        .unwrap()
        .starts_with("vni 42"));
    assert!(v
        .fdb
        .rows
        .iter()
        .any(|e| e.contains("dev vx0 dst 10.9.9.3")));
    let ping = Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-U",
            "--preserve-credentials",
            "-n",
            "ping",
            "-c1",
            "-W2",
            "10.9.9.1",
        ])
        .output()
        .unwrap();
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stderr)
    );
    let mut v = read(&target).unwrap();
    tracker.update(&mut v, t0 + Duration::from_millis(250));
    assert!(rule_moved(&v), "{:?}", v.packet);
    assert!(
        v.packet
            .iter()
            .any(|h| matches!(h, Hop::Out { link, .. } if link == "lo")),
        "a ping to our own address goes through lo: {:?}",
        v.packet
    );
    println!("OBSERVED as uid {}", unsafe_free_uid());
}

/// Our uid, from /proc (no libc in this crate's tests).
fn unsafe_free_uid() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}
