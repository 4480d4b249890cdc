//! Lab worlds (issue 19) on real namespaces: two nodes on the underlay,
//! a VXLAN overlay and host-gw routes built with `ip` between them, and
//! nothing in the host's network namespace during or after, even when the
//! world's process is killed.

mod common;

use kubelab_sandbox::world::{self, UpOptions, WorldState};
use kubelab_sandbox::world_spec::WorldSpec;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const TWO_NODES: &str = r#"{"underlay":"192.168.50.0/24","pods":false,"nodes":[
  {"name":"node1","pod_cidr":"10.244.1.0/24"},{"name":"node2","pod_cidr":"10.244.2.0/24"}]}"#;

fn two_nodes() -> WorldSpec {
    serde_json::from_str(TWO_NODES).unwrap()
}

/// The links of the host's network namespace (this test's).
fn host_links() -> BTreeSet<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .expect("ip -o link");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect()
}

/// Fails if a link appeared in the host's namespace since `before` that a
/// world or these tests make (`veth-*`, `br0`, `eth0@…`, `vxlan0`, `cni0`,
/// `kl-*`). Other processes on a shared test host may add links of their
/// own meanwhile: those are only reported.
fn assert_no_world_link(before: &BTreeSet<String>) {
    let now = host_links();
    let new: Vec<&String> = now.difference(before).collect();
    let ours = |n: &str| {
        let base = n.split('@').next().unwrap_or(n);
        base.starts_with("veth-")
            || base.starts_with("kl-")
            || ["br0", "vxlan0", "cni0"].contains(&base)
            || (base == "eth0" && !before.iter().any(|b| b.split('@').next() == Some("eth0")))
    };
    let bad: Vec<&&String> = new.iter().filter(|n| ours(n)).collect();
    assert!(bad.is_empty(), "links in the host's namespace: {bad:?}");
    if !new.is_empty() {
        eprintln!("note: links that other processes added meanwhile: {new:?}");
    }
}

fn skip_reason() -> Option<String> {
    if let Some(w) = common::userns_unavailable() {
        return Some(w);
    }
    if kubelab_sandbox::world::default_dir().as_os_str().is_empty() {
        return Some("no runtime directory".into());
    }
    let ip_ok = std::process::Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    (!ip_ok).then(|| "iproute2's `ip` is not installed".into())
}

fn have(tool: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(tool).exists())
}

/// A world brought up in its own runtime directory, taken down on drop
/// (also when an assertion failed).
struct World {
    dir: tempfile::TempDir,
    st: WorldState,
}

impl World {
    fn up(spec: &WorldSpec) -> World {
        let dir = tempfile::tempdir().unwrap();
        let st = world::up(spec, &opts(dir.path())).expect("world up");
        World { dir, st }
    }

    /// `sh -c cmd` in `node`: (exit code, stdout + stderr).
    fn sh(&self, node: &str, cmd: &str) -> (i32, String) {
        let argv = ["/bin/sh", "-c", cmd].map(String::from);
        let out = world::exec_command(&self.st, node, &argv, &common::helper())
            .unwrap()
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn ok(&self, node: &str, cmd: &str) -> String {
        let (code, out) = self.sh(node, cmd);
        assert_eq!(code, 0, "{node}: {cmd}\n{out}");
        out
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // A world that `down` could not end is a leak: a failure, unless
        // the test is failing already.
        let res = world::down(self.dir.path());
        let left = world::running(self.dir.path());
        if !std::thread::panicking() {
            assert!(res.is_ok(), "world down: {res:?}");
            assert!(matches!(left, Ok(None)), "still up after down: {left:?}");
        }
    }
}

fn opts(dir: &Path) -> UpOptions {
    UpOptions {
        name: "two-nodes".into(),
        source: "test".into(),
        dir: dir.to_path_buf(),
        helper_exe: common::helper(),
        agents: Vec::new(),
    }
}

/// Polls `cond` until it holds or `limit` passes.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The PIDs of every process in the user namespace with inode `ino`.
fn processes_in_userns(ino: u64) -> Vec<i32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| std::fs::metadata(format!("/proc/{p}/ns/user")).is_ok_and(|m| m.ino() == ino))
        .collect()
}

#[test]
fn two_nodes_reach_each_other_over_the_underlay_vxlan_and_host_gw() {
    if common::skip(skip_reason()) {
        return;
    }
    let before = host_links();
    let w = World::up(&two_nodes());
    assert_no_world_link(&before);

    // Each node looks like a cloud VM: its name, eth0 with its address, a
    // default route via the underlay's gateway, and its own /sys.
    let out = w.ok(
        "node1",
        "hostname; ip -4 -o addr show dev eth0; ip route show default; ls /sys/class/net",
    );
    assert!(out.starts_with("node1\n"), "{out}");
    assert!(out.contains("inet 192.168.50.11/24"), "{out}");
    assert!(out.contains("default via 192.168.50.1 dev eth0"), "{out}");
    let sys_links: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(
        sys_links.contains(&"eth0") && sys_links.contains(&"lo"),
        "{out}"
    );
    let under = w.ok("underlay", "ip -o link show master br0");
    assert!(
        under.contains("veth-node1") && under.contains("veth-node2"),
        "{under}"
    );

    // A node's root has no capability over the host's network namespace:
    // making a link there, or moving one there, by its /proc path fails.
    let host_ns = format!("/proc/{}/ns/net", std::process::id());
    let (code, out) = w.sh(
        "node1",
        &format!("ip link add kl-esc0 type veth peer name kl-esc1 netns {host_ns}"),
    );
    assert_ne!(code, 0, "a link was put into the host's namespace: {out}");
    let (code, out) = w.sh(
        "node1",
        &format!("ip link add kl-esc2 type bridge && ip link set kl-esc2 netns {host_ns}"),
    );
    assert_ne!(code, 0, "a link was moved into the host's namespace: {out}");
    // iproute2 cannot even open the host's namespace (no ptrace right over
    // this process from inside the world).
    assert!(out.contains("netns"), "{out}");
    assert_no_world_link(&before);

    if !have("ping") {
        eprintln!(
            "SKIP: ping is not installed (apt install iputils-ping): the reachability checks"
        );
        return;
    }
    w.ok("node1", "ping -c1 -W5 192.168.50.12");
    w.ok("node2", "ping -c1 -W5 192.168.50.1");

    // A flannel-style overlay: VNI 42 over the underlay, 10.42.0.0/24 on top.
    for (node, me, peer) in [
        ("node1", "1", "192.168.50.12"),
        ("node2", "2", "192.168.50.11"),
    ] {
        w.ok(
            node,
            &format!(
                "ip link add vxlan0 type vxlan id 42 remote {peer} dstport 4789 dev eth0 && \
                 ip addr add 10.42.0.{me}/24 dev vxlan0 && ip link set vxlan0 up"
            ),
        );
    }
    w.ok("node1", "ping -c1 -W5 10.42.0.2");
    let fdb = w.ok("node1", "bridge fdb show dev vxlan0");
    assert!(fdb.contains("dst 192.168.50.12"), "{fdb}");

    // host-gw: node2's Pod subnet routed via node2's underlay address. The
    // address sits on a bridge with no ports, as flannel's cni0 before any
    // Pod (this kernel has no `dummy` links: CONFIG_DUMMY is off).
    w.ok(
        "node2",
        "ip link add cni0 type bridge && ip addr add 10.244.2.1/24 dev cni0 && ip link set cni0 up",
    );
    w.ok("node1", "ip route add 10.244.2.0/24 via 192.168.50.12");
    w.ok("node1", "ping -c1 -W5 10.244.2.1");
    // Without the route, nothing: the address is not on the underlay.
    w.ok("node1", "ip route del 10.244.2.0/24");
    let (code, _) = w.sh("node1", "ping -c1 -W1 10.244.2.1");
    assert_ne!(code, 0, "10.244.2.1 reachable without a route?");

    assert_no_world_link(&before);
    let st = w.st.clone();
    let dir = w.dir.path().to_path_buf();
    let stopped = world::down(&dir).unwrap().expect("a running world");
    assert_eq!(stopped.name, "two-nodes");
    assert!(world::running(&dir).unwrap().is_none());
    assert!(processes_in_userns(st.user_ns_ino.unwrap()).is_empty());
    assert_no_world_link(&before);
    drop(w);
}

#[test]
fn a_node_is_one_machine_whose_mounts_outlive_a_command_but_not_the_world() {
    if common::skip(skip_reason()) {
        return;
    }
    let name = format!("kl-test-{}", std::process::id());
    let host_file = Path::new("/run/netns").join(&name);
    let before = host_mounts();
    let shared_folder;
    {
        let w = World::up(&two_nodes());
        // `ip netns add` bind-mounts under /run/netns: the node's own /run.
        w.ok("node1", &format!("ip netns add {name}"));
        let listed = w.ok("node1", "ip netns list");
        assert!(listed.contains(&name), "the next command sees it: {listed}");
        let inside = w.ok(
            "node1",
            &format!("ip netns exec {name} ip -o link | wc -l; ls /sys/class/net"),
        );
        assert!(
            inside.starts_with("1\n"),
            "only lo in the new netns: {inside}"
        );
        assert!(
            inside.contains("eth0"),
            "/sys shows the node's links: {inside}"
        );
        // /proc is the world's PID namespace's: PIDs and /proc agree (CNI
        // plugins open /proc/<their pid>/task/<tid>/ns/net).
        let pids = w.ok("node1", "echo $$; cut -d' ' -f4 /proc/self/stat");
        let pids: Vec<&str> = pids.lines().collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        assert_eq!(pids[0], pids[1], "the shell's PID is cat's parent in /proc");
        let other = w.ok("node2", "ip netns list; echo END");
        assert!(!other.contains(&name), "node2 is another machine: {other}");
        assert!(
            !host_file.exists(),
            "{} appeared on the host",
            host_file.display()
        );
        // The host's /run is still seen through the node's (bound back).
        let shared = w.ok("node1", "ls /run");
        let host_entry = std::fs::read_dir("/run")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .find(|n| n != "netns" && n != "xtables.lock");
        if let Some(entry) = host_entry {
            assert!(
                shared.contains(&entry),
                "{entry} missing from the node's /run: {shared}"
            );
        }
        // One folder all nodes share ($KUBELAB_WORLD_SHARED), gone with
        // the world.
        let folder = w.ok(
            "node1",
            "echo note > \"$KUBELAB_WORLD_SHARED/n\"; echo $KUBELAB_WORLD_SHARED",
        );
        assert_eq!(w.ok("node2", "cat \"$KUBELAB_WORLD_SHARED/n\""), "note\n");
        shared_folder = std::path::PathBuf::from(folder.trim());
    }
    let folder = shared_folder;
    assert!(!folder.exists(), "{} outlived the world", folder.display());
    assert!(!host_file.exists());
    assert_eq!(host_mounts(), before, "a mount was left on the host");
}

#[test]
fn up_twice_is_an_error_naming_the_running_world() {
    if common::skip(skip_reason()) {
        return;
    }
    let w = World::up(&two_nodes());
    let e = world::up(&two_nodes(), &opts(w.dir.path())).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("\"two-nodes\"") && msg.contains("already up"),
        "{msg}"
    );
    assert!(msg.contains("world down"), "{msg}");
    // The first one still works.
    assert_eq!(w.ok("node2", "hostname").trim(), "node2");
    // Unknown nodes are named with the ones that exist.
    let argv = vec!["true".to_string()];
    let e = world::exec_command(&w.st, "node3", &argv, &common::helper()).unwrap_err();
    assert!(e.to_string().contains("node1, node2"), "{e}");
}

#[test]
fn kill_9_of_the_world_process_leaves_no_process_namespace_or_link() {
    if common::skip(skip_reason()) {
        return;
    }
    let before = host_links();
    let mounts_before = host_mounts();
    let w = World::up(&two_nodes());
    let st = w.st.clone();
    // A process running in a node (a learner's shell) must go too.
    let argv = ["sleep", "1000"].map(String::from);
    let mut sleeper = world::exec_command(&st, "node1", &argv, &common::helper())
        .unwrap()
        .spawn()
        .unwrap();
    let ino = st.user_ns_ino.expect("user namespace inode");
    assert!(
        eventually(Duration::from_secs(5), || processes_in_userns(ino).len()
            >= 4),
        "init, two holders and sleep: {:?}",
        processes_in_userns(ino)
    );
    // The namespaces' inodes, to see them go.
    let net_inos: Vec<u64> = st
        .node_pids
        .iter()
        .chain([&st.init_pid])
        .filter_map(|p| ns_ino(*p, "net"))
        .collect();
    assert_eq!(net_inos.len(), 3);

    kubelab_sandbox_kill(st.keeper_pid);
    // The exec helper (our child, outside the world's PID namespace) sees
    // its command die and exits; reaped here, it is no zombie in the
    // world's user namespace either.
    assert!(eventually(Duration::from_secs(10), || sleeper
        .try_wait()
        .unwrap()
        .is_some()));
    assert!(
        eventually(Duration::from_secs(10), || processes_in_userns(ino)
            .is_empty()),
        "left after kill -9: {:?}",
        processes_in_userns(ino)
    );
    // No process anywhere is in one of the world's network namespaces
    // (one still exiting may hold it a moment: wait, with a deadline).
    let in_world_net = || -> Vec<i32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|p| ns_ino(*p, "net").is_some_and(|i| net_inos.contains(&i)))
            .collect()
    };
    assert!(
        eventually(Duration::from_secs(10), || in_world_net().is_empty()),
        "left in the world's network namespaces: {:?}",
        in_world_net()
    );
    assert_no_world_link(&before);
    // `exec` mounted the node's /sys in a mount namespace of its own only.
    assert_eq!(host_mounts(), mounts_before);
    // The stale record is noticed and removed; a new world can come up.
    assert!(world::running(w.dir.path()).unwrap().is_none());
    assert!(!WorldState::path(w.dir.path()).exists());
    let again = world::up(&two_nodes(), &opts(w.dir.path())).expect("up after a kill");
    assert_ne!(again.keeper_pid, st.keeper_pid);
    drop(w); // takes `again` down (same directory)
    assert_no_world_link(&before);
}

/// The mounts at /sys in this process's (the host's) mount namespace:
/// `exec` mounts a node's sysfs there, in a mount namespace of its own.
fn host_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some("/sys"))
        .map(String::from)
        .collect()
}

fn ns_ino(pid: i32, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

fn kubelab_sandbox_kill(pid: i32) {
    let ok = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -9 {pid}");
}

#[test]
fn a_rootless_world_works_the_same() {
    if common::skip(skip_reason()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!(
            "SKIP: needs root to switch to uid {}; already unprivileged: the other tests cover this uid",
            common::NOBODY
        );
        return;
    }
    let before = host_links();
    let vx = |peer: &str, me: &str| {
        format!(
            "ip link add vxlan0 type vxlan id 42 remote {peer} dstport 4789 dev eth0 && \
             ip addr add 10.42.0.{me}/24 dev vxlan0 && ip link set vxlan0 up && echo VXLAN-OK"
        )
    };
    let ping = |to: &str| {
        if have("ping") {
            format!("ping -c1 -W5 {to} >/dev/null && echo PING-OK {to}")
        } else {
            "echo SKIP-PING".to_string()
        }
    };
    let steps = [
        ("node1", "id -u; hostname; cat /proc/self/uid_map; ip -4 -o addr show dev eth0".to_string()),
        ("node1", ping("192.168.50.12")),
        ("node1", vx("192.168.50.12", "1")),
        ("node2", vx("192.168.50.11", "2")),
        ("node1", ping("10.42.0.2")),
        (
            "node2",
            "ip link add cni0 type bridge && ip addr add 10.244.2.1/24 dev cni0 && ip link set cni0 up"
                .to_string(),
        ),
        ("node1", "ip route add 10.244.2.0/24 via 192.168.50.12".to_string()),
        ("node1", ping("10.244.2.1")),
        // A learner may not write the host's /run: the node has its own.
        ("node1", "ip netns add kl-rootless && echo NETNS-ADDED".to_string()),
        ("node1", "ip netns list | sed 's/^/NETNS: /'".to_string()),
    ];
    let mut args = vec!["world-smoke".to_string(), TWO_NODES.to_string()];
    for (n, c) in &steps {
        args.push(n.to_string());
        args.push(c.clone());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = common::helper_as_nobody(&argv);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out.matches("EXIT 0").count(), steps.len(), "{out}\n{err}");
    assert!(
        out.contains("\n0\nnode1\n") || out.starts_with("0\nnode1\n"),
        "root in the world: {out}"
    );
    assert!(out.contains(&format!("0      {}", common::NOBODY)), "{out}");
    assert!(out.contains("inet 192.168.50.11/24"), "{out}");
    assert_eq!(out.matches("VXLAN-OK").count(), 2, "{out}\n{err}");
    assert!(out.contains("NETNS-ADDED"), "{out}\n{err}");
    assert!(
        out.contains("NETNS: kl-rootless"),
        "a later command of the node sees it: {out}"
    );
    if out.contains("SKIP-PING") {
        eprintln!("SKIP (part): ping is not installed (apt install iputils-ping)");
    } else {
        for to in ["192.168.50.12", "10.42.0.2", "10.244.2.1"] {
            assert!(out.contains(&format!("PING-OK {to}")), "{to}: {out}\n{err}");
        }
    }
    assert_no_world_link(&before);
}

#[test]
fn a_rootless_world_killed_with_9_leaves_nothing() {
    if common::skip(skip_reason()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!(
            "SKIP: needs root to switch to uid {} and kill its world",
            common::NOBODY
        );
        return;
    }
    let before = host_links();
    let (code, out, err) = common::helper_as_nobody(&["world-up", TWO_NODES]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let json = out
        .lines()
        .find_map(|l| l.strip_prefix("STATE "))
        .unwrap_or_else(|| panic!("no state: {out}\n{err}"));
    let st: WorldState = serde_json::from_str(json).unwrap();
    let ino = st.user_ns_ino.expect("user namespace inode");
    assert_eq!(processes_in_userns(ino).len(), 3, "init and two holders");
    assert!(st.is_running());
    kubelab_sandbox_kill(st.keeper_pid);
    assert!(
        eventually(Duration::from_secs(10), || processes_in_userns(ino)
            .is_empty()),
        "left after kill -9: {:?}",
        processes_in_userns(ino)
    );
    assert_no_world_link(&before);
}

#[test]
fn the_kernel_facts_probe_tries_each_feature_and_leaves_nothing() {
    use kubelab_sandbox::world::facts::{probe, Outcome};
    if common::skip(skip_reason()) {
        return;
    }
    let before = host_links();
    let scratch = tempfile::tempdir().unwrap();
    let facts = probe(&common::helper(), scratch.path()).expect("probe");
    let by = |n: &str| facts.iter().find(|f| f.name == n).unwrap().outcome;
    // A world is built from veths and a bridge: they must work.
    assert_eq!(by("world: veth"), Outcome::Works, "{facts:?}");
    assert_eq!(by("world: bridge"), Outcome::Works, "{facts:?}");
    // One line a fact, as `kubelab doctor` says it: the VM suite collects
    // them (as root and as its test user) into its report.
    let role = std::env::var("KUBELAB_VM").unwrap_or_else(|_| {
        (if kubelab_sandbox::is_root() {
            "root"
        } else {
            "rootless"
        })
        .into()
    });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    for f in &facts {
        let outcome = match f.outcome {
            Outcome::Works => "works",
            Outcome::Fails => "fails",
            Outcome::NoTool => "no-tool",
        };
        println!(
            "WORLD-FACT {role} {} | {} | {outcome} | {}",
            kernel.trim(),
            f.name,
            f.detail
        );
        assert!(!f.detail.is_empty(), "{f:?}");
        assert_ne!(f.detail, "the probe did not report", "{f:?}");
    }
    assert_no_world_link(&before);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}
