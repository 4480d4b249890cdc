//! Lab worlds with `pods = true` end to end (docs/worlds.md, "Pods in a
//! world"): `kubelab world up` of two nodes starts a `kubelab node` per
//! node whose Pods live in that node's network namespace (bridge `cni0`,
//! the node's `pod_cidr`). One busybox httpd Pod per node; a Pod on node1
//! reaches the Pod on node2 once the learner routes between the nodes —
//! host-gw routes first, then a VXLAN overlay — and never before (the
//! world routes nothing itself). Root and rootless; nothing appears in the
//! host's network namespace, and `down` or `kill -9` of the world's keeper
//! leaves no process, cgroup, runtime folder or link.

mod common;
use common::{kubelab, lab_run, one_lesson_course};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// An uid no account uses, for the rootless run.
const ROOTLESS_UID: u32 = 61_997;

const WORLD: &str = r#"pods = true

[[nodes]]
name = "node1"

[[nodes]]
name = "node2"
"#;

/// A Pod serving its own hostname (its name) on port 8080.
fn pod(name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
"#
    )
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Runs kubelab as root or, `uid` given, as that uid, with the world's
/// runtime folder `dir`.
struct Runner {
    dir: PathBuf,
    uid: Option<u32>,
    /// HOME of the rootless run (the sandbox engine's cache is there).
    home: Option<PathBuf>,
    /// The world file and manifests.
    files: PathBuf,
}

/// A failed assertion must not leave the world up: the test's folders go
/// with the panic, its keeper would stay. `down` on an already downed
/// world is a no-op.
impl Drop for Runner {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.run(&["world", "down"]);
        }
    }
}

impl Runner {
    fn cmd(&self) -> Command {
        let mut c = match self.uid {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={uid}"),
                    "--clear-groups",
                ])
                .arg(kubelab());
                c
            }
            None => Command::new(kubelab()),
        };
        if let Some(h) = &self.home {
            c.env("HOME", h);
        }
        c.env("KUBELAB_WORLD_DIR", &self.dir)
            .env("XDG_RUNTIME_DIR", "")
            .env_remove("KUBELAB_NODE_DIR")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// `kubelab world exec NODE -- sh -c SCRIPT`, which must succeed.
    fn sh(&self, node: &str, script: &str) -> String {
        let out = self.run(&["world", "exec", node, "--", "sh", "-c", script]);
        assert!(out.status.success(), "{node}: {script}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What Pod web1 on node1 gets from `url`.
    fn fetch(&self, url: &str) -> Output {
        self.run(&[
            "world", "exec", "node1", "--", "kubectl", "exec", "web1", "--", "wget", "-q", "-O",
            "-", url,
        ])
    }

    /// Whether Pod web1 on node1 gets an answer to one ping to `ip`
    /// within a second.
    fn pings(&self, ip: &str) -> bool {
        self.run(&[
            "world", "exec", "node1", "--", "kubectl", "exec", "web1", "--", "ping", "-c1", "-W1",
            ip,
        ])
        .status
        .success()
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// (command line, SigBlk) of every process whose command line names `dir`.
fn blocked_signals_under(dir: &Path) -> Vec<(String, String)> {
    let needle = dir.to_string_lossy().into_owned();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let p = e.path();
        let Ok(cmd) = std::fs::read(p.join("cmdline")) else {
            continue;
        };
        let args = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if !args.contains(&needle) {
            continue;
        }
        let status = std::fs::read_to_string(p.join("status")).unwrap_or_default();
        if let Some(m) = status.lines().find_map(|l| l.strip_prefix("SigBlk:")) {
            out.push((args, m.trim().to_string()));
        }
    }
    out
}

/// Polls `kubectl get pod NAME -o wide` in `node` until it is Running;
/// returns its IP.
fn wait_running(r: &Runner, node: &str, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = r.run(&[
            "world", "exec", node, "--", "kubectl", "get", "pod", name, "-o", "wide",
        ]);
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        if let Some(line) = s.lines().find(|l| l.starts_with(name)) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.get(2) == Some(&"Running") {
                return f[5].to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name} on {node} is not Running: {}",
            text(&out)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What a world in `dir` may have left: processes carrying `dir` in their
/// environment (keeper, init, holders, node agents and their Pods'
/// supervisors), files in it besides the lock, its agents' cgroups
/// (`cgroups`, see [`agent_cgroups`]), and new host links.
fn leftovers(dir: &Path, cgroups: &[String], links_before: &[String]) -> Vec<String> {
    let tag = dir.display().to_string();
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            // The agents name their folder in their arguments.
            let mut env = std::fs::read(e.path().join("environ")).unwrap_or_default();
            env.extend(std::fs::read(e.path().join("cmdline")).unwrap_or_default());
            if String::from_utf8_lossy(&env).contains(&tag) {
                let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
                out.push(format!(
                    "process {} {}",
                    e.file_name().to_string_lossy(),
                    comm.trim()
                ));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            // The record of a killed world stays until the next command.
            // The record and the shared folder of a killed world stay
            // until the next command reads them (checked below).
            if n != "lock" && n != "world.json" && n != "shared" {
                out.push(format!("file {}", e.path().display()));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        for c in rd.flatten() {
            for name in cgroups {
                let p = c.path().join("kubelab").join(name);
                if p.exists() {
                    out.push(format!("cgroup {}", p.display()));
                }
            }
        }
    }
    let now = common::host_links();
    for l in now.iter().filter(|l| !links_before.contains(l)) {
        out.push(format!("host link {l}"));
    }
    out
}

/// The cgroup names of the running world's node agents: `node-NODE-wSUFFIX`,
/// SUFFIX ending the name of the agent's folder in `dir`.
fn agent_cgroups(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = n.strip_prefix("node-") {
            let (node, suffix) = rest.rsplit_once('-').unwrap();
            out.push(format!("node-{node}-w{suffix}"));
        }
    }
    assert_eq!(out.len(), 2, "{out:?}");
    out
}

fn assert_nothing_left(dir: &Path, cgroups: &[String], links: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = leftovers(dir, cgroups, links);
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "left behind: {left:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Builds the world, one Pod per node, and checks Pod to Pod across the
/// nodes over host-gw routes, then over a VXLAN overlay.
fn pods_reach_each_other(r: &Runner, links: &[String]) -> Vec<String> {
    let file = r.files.join("two.toml");
    std::fs::write(&file, WORLD).unwrap();
    let host_pod = pod("hn").replace("spec:\n", "spec:\n  hostNetwork: true\n");
    for (name, yaml) in [
        ("web1", pod("web1")),
        ("web2", pod("web2")),
        ("hn", host_pod),
    ] {
        let p = r.files.join(format!("{name}.yaml"));
        std::fs::write(&p, yaml).unwrap();
        if let Some(uid) = r.uid {
            std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
        }
    }
    if let Some(uid) = r.uid {
        std::os::unix::fs::chown(&file, Some(uid), Some(uid)).unwrap();
    }
    let up = r.run(&["world", "up", file.to_str().unwrap()]);
    assert!(up.status.success(), "up: {}", text(&up));
    let cgroups = agent_cgroups(&r.dir);
    let table = String::from_utf8_lossy(&up.stdout);
    assert!(
        table
            .lines()
            .filter(|l| l.contains("yes (kubelab node"))
            .count()
            == 2,
        "{table}"
    );
    for (node, name) in [("node1", "web1"), ("node2", "web2")] {
        let y = r.files.join(format!("{name}.yaml"));
        let out = r.run(&[
            "world",
            "exec",
            node,
            "--",
            "kubectl",
            "apply",
            "-f",
            y.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "apply {name}: {}", text(&out));
    }
    let ip1 = wait_running(r, "node1", "web1");
    let ip2 = wait_running(r, "node2", "web2");
    assert!(ip1.starts_with("10.244.1."), "{ip1}");
    assert!(ip2.starts_with("10.244.2."), "{ip2}");
    // The agents and their dnsmasq start with no signal blocked: the
    // keeper's mask (it reads signals from a signalfd) once reached
    // dnsmasq, which then never reloaded the cluster's names on SIGHUP.
    let blocked = blocked_signals_under(&r.dir);
    assert!(
        blocked.iter().any(|(args, _)| args.contains("dnsmasq")),
        "no dnsmasq of the world found: {blocked:?}"
    );
    for (args, mask) in &blocked {
        assert_eq!(mask, "0000000000000000", "{args}");
    }
    // A hostNetwork Pod is the node on the network: the node's address is
    // its IP (as the kubelet reports it), and its hostname is the node's.
    let y = r.files.join("hn.yaml");
    let out = r.run(&[
        "world",
        "exec",
        "node2",
        "--",
        "kubectl",
        "apply",
        "-f",
        y.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "apply hn: {}", text(&out));
    assert_eq!(wait_running(r, "node2", "hn"), "192.168.50.12");
    let hostname = r.run(&[
        "world", "exec", "node2", "--", "kubectl", "exec", "hn", "--", "hostname",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&hostname.stdout).trim(),
        "node2",
        "{}",
        text(&hostname)
    );
    let json = r.run(&[
        "world", "exec", "node1", "--", "kubectl", "get", "pod", "web1", "-o", "json",
    ]);
    assert!(
        text(&json).contains("\"hostIP\": \"192.168.50.11\""),
        "{}",
        text(&json)
    );
    let del = r.run(&[
        "world", "exec", "node2", "--", "kubectl", "delete", "pod", "hn", "--now",
    ]);
    assert!(del.status.success(), "delete hn: {}", text(&del));
    // The Pod's gateway is cni0, the first address of the node's pod_cidr;
    // the node's own routes are as the world made them.
    let routes = r.sh("node1", "ip route");
    assert!(
        routes.contains("default via 192.168.50.1 dev eth0"),
        "{routes}"
    );
    assert!(routes.contains("10.244.1.0/24 dev cni0"), "{routes}");
    assert!(!routes.contains("10.244.2."), "{routes}");
    assert!(r
        .sh("node1", "ip -4 addr show cni0")
        .contains("10.244.1.1/24"));
    let pod_routes = r.run(&[
        "world", "exec", "node1", "--", "kubectl", "exec", "web1", "--", "ip", "route",
    ]);
    let pod_routes = String::from_utf8_lossy(&pod_routes.stdout);
    assert!(
        pod_routes.contains("default via 10.244.1.1"),
        "{pod_routes}"
    );
    let url = format!("http://{ip2}:8080/");
    // The world routes nothing between the nodes' Pod subnets.
    assert!(!r.pings(&ip2), "{ip2} answers without routes");

    // host-gw: each node's Pod subnet via its underlay address.
    r.sh("node1", "ip route add 10.244.2.0/24 via 192.168.50.12");
    r.sh("node2", "ip route add 10.244.1.0/24 via 192.168.50.11");
    let got = r.fetch(&url);
    assert!(got.status.success(), "host-gw: {}", text(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "web2");
    r.sh("node1", "ip route del 10.244.2.0/24");
    r.sh("node2", "ip route del 10.244.1.0/24");
    assert!(!r.pings(&ip2), "routes removed, {ip2} still answers");

    // A VXLAN overlay, flannel's way: vxlan0 holds the subnet's .0, the
    // other node's subnet is routed via its .0 over vxlan0, and the FDB
    // sends to the other node's underlay address.
    for (me, my_ip, my_net, peer_ip, peer_net) in [
        (
            "node1",
            "192.168.50.11",
            "10.244.1.0",
            "192.168.50.12",
            "10.244.2.0",
        ),
        (
            "node2",
            "192.168.50.12",
            "10.244.2.0",
            "192.168.50.11",
            "10.244.1.0",
        ),
    ] {
        r.sh(
            me,
            &format!(
                "ip link add vxlan0 type vxlan id 1 dstport 8472 dev eth0 local {my_ip} && \
                 ip addr add {my_net}/32 dev vxlan0 && ip link set vxlan0 up && \
                 ip route add {peer_net}/24 via {peer_net} dev vxlan0 onlink && \
                 bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst {peer_ip}"
            ),
        );
    }
    let got = r.fetch(&url);
    assert!(got.status.success(), "vxlan: {}", text(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "web2");
    let status = r.run(&["world", "status"]);
    assert!(status.status.success(), "{}", text(&status));
    // Nothing in the host's namespace while it runs.
    let now = common::host_links();
    assert!(
        now.iter().all(|l| links.contains(l)),
        "new host links: {now:?} (before: {links:?})"
    );
    cgroups
}

fn world_dir(uid: Option<u32>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if let Some(uid) = uid {
        std::os::unix::fs::chown(d.path(), Some(uid), Some(uid)).unwrap();
    }
    d
}

fn skip_without_plugins() -> bool {
    let missing: Vec<&str> = ["bridge", "host-local", "loopback", "portmap"]
        .into_iter()
        .filter(|p| !Path::new("/usr/lib/cni").join(p).exists())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIP: CNI plugins {missing:?} are not in /usr/lib/cni (containernetworking-plugins)"
        );
        return true;
    }
    if !Path::new("/bin/busybox").exists() {
        eprintln!("SKIP: /bin/busybox (the busybox image) is missing");
        return true;
    }
    false
}

/// A root test's world folder, its files folder and the runner over them;
/// `None` (with the reason printed) where such a test cannot run.
fn root_runner() -> Option<(tempfile::TempDir, tempfile::TempDir, Runner)> {
    if !is_root() {
        eprintln!("SKIP: as a non-root user see pods_in_a_world_run_rootless (it drops from root)");
        return None;
    }
    if skip_without_plugins() {
        return None;
    }
    let d = world_dir(None);
    let files = tempfile::tempdir().unwrap();
    let r = Runner {
        dir: d.path().to_path_buf(),
        uid: None,
        home: None,
        files: files.path().to_path_buf(),
    };
    Some((d, files, r))
}

#[test]
fn pods_on_two_nodes_reach_each_other_over_host_gw_and_vxlan_and_down_leaves_nothing() {
    let Some((d, _files, r)) = root_runner() else {
        return;
    };
    let links = common::host_links();
    let cgroups = pods_reach_each_other(&r, &links);
    let down = r.run(&["world", "down"]);
    assert!(down.status.success(), "down: {}", text(&down));
    // `down` waits for every process of the world, its agents included.
    let left = leftovers(d.path(), &cgroups, &links);
    assert!(left.is_empty(), "left right after down: {left:#?}");
}

#[test]
fn kill_9_of_the_keeper_leaves_nothing() {
    let Some((d, _files, r)) = root_runner() else {
        return;
    };
    let links = common::host_links();
    let file = r.files.join("two.toml");
    std::fs::write(&file, WORLD).unwrap();
    let up = r.run(&["world", "up", file.to_str().unwrap()]);
    assert!(up.status.success(), "up: {}", text(&up));
    let cgroups = agent_cgroups(d.path());
    let y = r.files.join("web1.yaml");
    std::fs::write(&y, pod("web1")).unwrap();
    let out = r.run(&[
        "world",
        "exec",
        "node1",
        "--",
        "kubectl",
        "apply",
        "-f",
        y.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    wait_running(&r, "node1", "web1");
    // The Pod's cgroup is there (where cgroups are), so its absence below
    // means something.
    let mine = format!(
        "kubelab/{}",
        cgroups
            .iter()
            .find(|c| c.starts_with("node-node1"))
            .unwrap()
    );
    if Path::new("/sys/fs/cgroup/pids/kubelab").is_dir() {
        assert!(
            Path::new("/sys/fs/cgroup/pids").join(&mine).is_dir(),
            "no {mine}"
        );
    }
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("world.json")).unwrap()).unwrap();
    let keeper = st["keeper_pid"].as_i64().unwrap() as i32;
    assert_eq!(st["agents"].as_array().map(|a| a.len()), Some(2), "{st}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(keeper).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    assert_nothing_left(d.path(), &cgroups, &links);
    // The next command notices the killed world.
    let status = r.run(&["world", "status"]);
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(!d.path().join("world.json").exists());
    assert!(!d.path().join("shared").exists());
}

#[test]
fn pods_in_a_world_run_rootless() {
    if !is_root() {
        eprintln!("SKIP: the rootless run drops from root to uid {ROOTLESS_UID}; this test runs as a non-root user already");
        return;
    }
    if skip_without_plugins() {
        return;
    }
    if Command::new("setpriv")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("SKIP: setpriv (util-linux) is needed to drop to an unprivileged uid");
        return;
    }
    let d = world_dir(Some(ROOTLESS_UID));
    let home = world_dir(Some(ROOTLESS_UID));
    let r = Runner {
        dir: d.path().to_path_buf(),
        uid: Some(ROOTLESS_UID),
        home: Some(home.path().to_path_buf()),
        files: home.path().to_path_buf(),
    };
    let reachable = r.run(&["--version"]).status.success();
    if !reachable {
        eprintln!(
            "SKIP: uid {ROOTLESS_UID} cannot run {} (a folder on its path is private)",
            kubelab().display()
        );
        return;
    }
    let links = common::host_links();
    let cgroups = pods_reach_each_other(&r, &links);
    let down = r.run(&["world", "down"]);
    assert!(down.status.success(), "down: {}", text(&down));
    assert_nothing_left(d.path(), &cgroups, &links);
    // The detached keeper's zombie waits for the host's init: bounded.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ps = Command::new("ps")
            .args(["-o", "pid=,args=", "-u", &ROOTLESS_UID.to_string()])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if ps.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes of uid {ROOTLESS_UID}: {ps}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `[world]` lesson with `pods = true`: its node shells and checks have
/// `kubectl` for their node's agent; the solutions start a Pod per node and
/// route the Pod subnets host-gw style; the check pings across.
const LESSON: &str = r#"+++
id = "01-a"
title = "Pods on two nodes"
panes = ["shell@node1", "shell@node2"]
requires = ["ip", "cni-plugins"]

[world]
pods = true

[[world.nodes]]
name = "node1"

[[world.nodes]]
name = "node2"
+++

# Pods on two nodes

```sh solution node=node2
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web2
spec:
  containers:
  - name: web
    image: busybox
    command: ["sleep", "3600"]
EOF
until kubectl get pod web2 | grep -q Running; do sleep 0.1; done
ip route add 10.244.1.0/24 via 192.168.50.11
```

```sh solution node=node1
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web1
spec:
  containers:
  - name: web
    image: busybox
    command: ["sleep", "3600"]
EOF
until kubectl get pod web1 | grep -q Running; do sleep 0.1; done
ip route add 10.244.2.0/24 via 192.168.50.12
```

```sh check id=reach node=node1
# title: the Pod on node1 reaches the Pod on node2
# hint: route 10.244.2.0/24 via node2 (192.168.50.12), and back
kubectl get pod web1 >/dev/null 2>&1 || { echo "no Pod web1 on node1"; exit 1; }
kubectl exec web1 -- ping -c1 -W1 10.244.2.2 >/dev/null || { echo "10.244.2.2 does not answer"; exit 1; }
```
"#;

#[test]
fn a_world_lesson_with_pods_lints_passes_and_leaves_nothing() {
    if skip_without_plugins() {
        return;
    }
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    one_lesson_course(course.path(), LESSON);
    let lint = Command::new(kubelab())
        .arg("--course")
        .arg(course.path())
        .arg("lint")
        .output()
        .unwrap();
    assert!(lint.status.success(), "lint: {}", text(&lint));
    assert!(!text(&lint).contains("01-a.md:"), "{}", text(&lint));
    // Without "cni-plugins" in requires, lint says what to add.
    let bare = tempfile::tempdir().unwrap();
    one_lesson_course(bare.path(), &LESSON.replace(", \"cni-plugins\"", ""));
    let warned = Command::new(kubelab())
        .arg("--course")
        .arg(bare.path())
        .arg("lint")
        .output()
        .unwrap();
    assert!(
        text(&warned).contains("add requires = [\"cni-plugins\"]"),
        "{}",
        text(&warned)
    );
    let links = common::host_links();
    let child = lab_run::kubelab_test(course.path(), data.path(), "KUBELAB_WORLD_DIR")
        .env_remove("KUBELAB_NODE_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    if lab_run::passed_or_skip(&out, "a world lesson with Pods").is_none() {
        return;
    }
    // The lab's world folder, its agents' folders inside, is gone, and so
    // is every process that carried it.
    lab_run::assert_nothing_left(30, || lab_leftovers(pid, true));
    let now = common::host_links();
    assert!(
        now.iter().all(|l| links.contains(l)),
        "new host links: {now:?}"
    );
}

/// What `kubelab test` (process `pid`) may have left of its lab's world:
/// processes naming its runtime folder (environment or arguments: the
/// keeper, init, holders, node agents), node agents' folders in it, the
/// world's record, and (`folders`) the folder itself.
fn lab_leftovers(pid: u32, folders: bool) -> Vec<String> {
    let tag = format!("kubelab-world-lab-{pid}x");
    let mut left = Vec::new();
    for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if !e.file_name().to_string_lossy().starts_with(&tag) {
            continue;
        }
        if folders {
            left.push(format!("folder {}", e.path().display()));
        }
        for inner in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
            let n = inner.file_name().to_string_lossy().into_owned();
            if n.starts_with("node-") || n == "world.json" {
                left.push(format!("{}", inner.path().display()));
            }
        }
    }
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        // The agents name their folder in their arguments.
        let mut b = std::fs::read(e.path().join("environ")).unwrap_or_default();
        b.extend(std::fs::read(e.path().join("cmdline")).unwrap_or_default());
        if String::from_utf8_lossy(&b).contains(&tag) {
            left.push(format!("process {}", e.file_name().to_string_lossy()));
        }
    }
    left
}

#[test]
fn kill_9_of_kubelab_during_a_world_lesson_with_pods_leaves_nothing() {
    if skip_without_plugins() {
        return;
    }
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // Only node2's solution: its Pod runs, then the run waits for a check
    // that cannot pass; kubelab is killed meanwhile.
    let lesson = LESSON.replace(
        "```sh solution node=node1",
        "```sh\n# not run\n```\n\n```sh node=node1",
    );
    one_lesson_course(course.path(), &lesson);
    let links = common::host_links();
    let mut child = lab_run::kubelab_test(course.path(), data.path(), "KUBELAB_WORLD_DIR")
        .env_remove("KUBELAB_NODE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let tag = format!("kubelab-world-lab-{pid}x");
    // Kill it once node2's Pod has a folder in its agent's state (the Pod
    // was admitted), remembering the agents' cgroups.
    let mut cgroups = Vec::new();
    let pod_admitted = || {
        let Some(run) = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&tag))
        else {
            return false;
        };
        let nodes: Vec<PathBuf> = std::fs::read_dir(run.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("node-"))
            })
            .collect();
        let pod_running = nodes.iter().any(|n| {
            std::fs::read_dir(n.join("state/pods")).is_ok_and(|mut rd| rd.next().is_some())
        });
        if nodes.len() == 2 && pod_running {
            cgroups = agent_cgroups(run.path().as_path());
            return true;
        }
        false
    };
    if !lab_run::kill_9_once_running(&mut child, "its world's Pod", 60, pod_admitted) {
        return;
    }
    // The lifeline closed: the keeper stops the agents (their Pods) and
    // ends the world. The empty runtime folder is the next run's to sweep.
    lab_run::assert_nothing_left(30, || {
        let mut left = lab_leftovers(pid, false);
        left.extend(leftovers(Path::new("/nonexistent"), &cgroups, &links));
        left
    });
    kubelab::lab::world::sweep_stale_run_dirs(&std::env::temp_dir());
    assert!(lab_leftovers(pid, true).is_empty());
}
