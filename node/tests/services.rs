//! Services on a real node, root and rootless: three busybox web Pods
//! behind a ClusterIP Service (kube-proxy's nat chains in the node's
//! network namespace) and a fourth Pod connecting to it; a Pod that is
//! not Ready gets no traffic; deleting an endpoint rewrites the rules; a
//! Pod reaching its own Service (hairpin) works; the node's dnsmasq
//! answers `web.default.svc.cluster.local` with the ClusterIP and the
//! headless Service's name with the Ready Pods' IPs; after the node stops
//! no dnsmasq, holder or records file is left.
//!
//! `harness = false`: the binary's main calls `kubelab_sandbox::dispatch()`
//! first, so it is also the sandbox helper and the namespace holder.

use kubelab_node::agent::{Node, NodeConfig};
use kubelab_node::cni::DEBIAN_PLUGIN_DIR;
use kubelab_node::runtime::Runtime;
use kubelab_node::sandbox_runtime::network::missing_plugins;
use kubelab_node::sandbox_runtime::{CniOptions, SandboxRuntime, SandboxRuntimeOptions};
use kubelab_node::service::chain_names::{service_chain, service_port_name};
use kubelab_node::status::printer::pod_row;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CIDR: &str = "10.79.0.0/24";
const WAIT: Duration = Duration::from_secs(90);
const NOBODY: u32 = 65534;

fn main() {
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    if std::env::args().nth(1).as_deref() == Some("sigkill-child") {
        let dir = PathBuf::from(std::env::args_os().nth(2).expect("a directory"));
        return sigkill_child(&dir);
    }
    if std::env::args().nth(1).as_deref() == Some("rootless-child") {
        let dir = PathBuf::from(std::env::args_os().nth(2).expect("a directory"));
        scenario(&dir, "rootless");
        println!("PASS");
        return;
    }
    if let Some(why) = skip_reason() {
        println!("SKIP: {why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    scenario(tmp.path(), "root");
    println!("ok: services, root");
    dnsmasq_dies_with_a_killed_node();
    rootless();
    println!("services: all cases passed");
}

fn skip_reason() -> Option<String> {
    if !kubelab_sandbox::is_root() {
        return Some(
            "this test runs a root node and drops a child to uid 65534 for the rootless one".into(),
        );
    }
    let missing = missing_plugins(&[PathBuf::from(DEBIAN_PLUGIN_DIR)]);
    if !missing.is_empty() {
        return Some(format!(
            "no CNI plugin {} in {DEBIAN_PLUGIN_DIR} (apt install containernetworking-plugins)",
            missing.join(", ")
        ));
    }
    for (file, pkg) in [
        ("/bin/busybox", "busybox-static"),
        ("/usr/sbin/iptables-restore", "iptables"),
        ("/usr/sbin/dnsmasq", "dnsmasq-base"),
        ("/usr/bin/nsenter", "util-linux"),
    ] {
        if !Path::new(file).is_file() {
            return Some(format!("no {file} (apt-get install {pkg})"));
        }
    }
    if kubelab_sandbox::cgroup::mode() == kubelab_sandbox::cgroup::Mode::None {
        return Some("no cgroup filesystem mounted".into());
    }
    None
}

fn web_pod(name: &str, answer: &str, ready_probe: &str) -> String {
    format!(
        r#"---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo {answer} > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
{ready_probe}
      periodSeconds: 1
"#
    )
}

fn manifest() -> String {
    let tcp = "      tcpSocket:\n        port: http";
    let never = "      exec:\n        command: [\"cat\", \"/never\"]";
    let mut m = String::new();
    for i in 0..3 {
        m += &web_pod(&format!("web-{i}"), &format!("answer-{i}"), tcp);
    }
    m += &web_pod("slow", "answer-slow", never);
    m += r#"---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sleep", "600"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector:
    app: web
"#;
    m
}

fn exec(n: &Node, pod: &str, argv: &[&str]) -> (i32, String) {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let (code, out, err) = n
        .exec("default", pod, None, &argv, Duration::from_secs(60))
        .unwrap();
    (
        code,
        String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err),
    )
}

fn ip_of(n: &Node, name: &str) -> String {
    let (pod, _) = n.pod("default", name).unwrap();
    pod.status.and_then(|s| s.pod_ip).expect("a Pod IP")
}

fn ready(n: &Node, name: &'static str) -> bool {
    n.wait_until(WAIT, |st| {
        st.find("default", name)
            .is_some_and(|p| pod_row(&p.pod, kubelab_node::agent::now_utc()).ready == "1/1")
    })
}

/// The answers of `count` connections from `pod` to `url`, counted.
fn spread(n: &Node, pod: &str, url: &str, count: usize) -> BTreeMap<String, usize> {
    let script =
        format!("for i in $(seq {count}); do timeout 5 wget -q -O- {url} || echo failed; done");
    let (_, out) = exec(n, pod, &["sh", "-c", &script]);
    let mut m = BTreeMap::new();
    for l in out.lines() {
        *m.entry(l.trim().to_string()).or_default() += 1;
    }
    m
}

/// Polls `f` until it holds or [`WAIT`] passes.
fn eventually(what: &str, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + WAIT;
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Live processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.split_whitespace().next() == Some("Z"));
        if !zombie && String::from_utf8_lossy(&cmd).contains(needle) {
            out.push(pid);
        }
    }
    out
}

/// The nat table of the node's namespace (root only: the rootless node's
/// namespace is read by the root test around it). Found through the
/// holder, this process's child.
fn nat_rules(rootless: bool) -> Option<String> {
    in_node_netns(rootless, &["iptables-save", "-t", "nat"])
}

/// `argv` in the node's network namespace (root only, see [`nat_rules`]).
fn in_node_netns(rootless: bool, argv: &[&str]) -> Option<String> {
    if rootless {
        return None;
    }
    let me = std::process::id().to_string();
    let holder = processes_with("__kubelab-netns-holder")
        .into_iter()
        .find(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1).map(String::from))
                .as_deref()
                == Some(me.as_str())
        })?;
    let out = Command::new("nsenter")
        .arg(format!("--net=/proc/{holder}/ns/net"))
        .args(argv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn start_node(dir: &Path, name: &str) -> (Node, kubelab_node::agent::NodeThread, PathBuf) {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mut o = SandboxRuntimeOptions::new(&format!("svc{name}{}", std::process::id()));
    o.runtime_dir = Some(dir.join("run"));
    o.cache_dir = Some(dir.join("cache"));
    o.cni = Some(CniOptions::new(
        vec![PathBuf::from(DEBIAN_PLUGIN_DIR)],
        CIDR.into(),
        state.join("cni"),
    ));
    let rt = SandboxRuntime::new(o).expect("runtime");
    assert_eq!(rt.pod_network(), Ok(()));
    let mut cfg = NodeConfig::new(name, &state);
    cfg.images.busybox = true;
    cfg.tick = Duration::from_millis(20);
    let n = Node::new(cfg, Box::new(rt));
    let thread = n.spawn();
    (n, thread, state)
}

/// A node with one Pod (so its dnsmasq runs) until it is killed.
fn sigkill_child(dir: &Path) {
    let (n, _thread, state) = start_node(dir, "killed");
    let client = manifest()
        .split("---\n")
        .find(|d| d.contains("name: client"))
        .unwrap()
        .to_string();
    n.apply(&client, Path::new("client.yaml")).unwrap();
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "client").is_some_and(|p| {
            pod_row(&p.pod, kubelab_node::agent::now_utc()).status == "Running"
        })),
        "client runs"
    );
    let (code, out) = exec(
        &n,
        "client",
        &["nslookup", "kubernetes.default.svc.cluster.local"],
    );
    assert_ne!(code, 0, "no such Service: {out}");
    assert!(
        out.contains("10.96.0.10"),
        "the cluster DNS answered: {out}"
    );
    println!("READY {}", state.join("cni").join("dns").display());
    std::thread::sleep(Duration::from_secs(600));
}

/// `kill -9` of a node: its dnsmasq ends too (its helper's lifeline).
fn dnsmasq_dies_with_a_killed_node() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new("/proc/self/exe")
        .arg("sigkill-child")
        .arg(tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(needle) = line.trim().strip_prefix("READY ").map(String::from) else {
        let _ = child.kill();
        let st = child.wait().unwrap();
        panic!("the node failed ({st}): {line}");
    };
    assert_eq!(processes_with(&needle).len(), 2, "dnsmasq and its helper");
    child.kill().unwrap();
    child.wait().unwrap();
    eventually("dnsmasq ends with a killed node", || {
        let left = processes_with(&needle);
        left.is_empty().then_some(()).ok_or(format!("{left:?}"))
    });
    println!("ok: dnsmasq dies with a killed node");
}

fn scenario(dir: &Path, name: &str) {
    let rootless = !kubelab_sandbox::is_root();
    let (n, thread, state) = start_node(dir, name);

    let lines = n
        .apply(&manifest(), Path::new("web.yaml"))
        .expect("applied");
    assert!(
        lines.contains(&"service/web created".to_string()),
        "{lines:?}"
    );
    for p in ["web-0", "web-1", "web-2"] {
        assert!(ready(&n, p), "{p} never became Ready");
    }
    let svc = n.service("default", "web").unwrap();
    let cip = svc.spec.unwrap().cluster_ip.unwrap();
    assert_eq!(
        cip, "10.96.0.1",
        "the first address of the default service CIDR"
    );
    let ips: Vec<String> = (0..3).map(|i| ip_of(&n, &format!("web-{i}"))).collect();
    let slow = ip_of(&n, "slow");

    // Endpoints: the three Ready Pods; `slow` is not Ready.
    let eps = n.endpoints();
    let web_ep = eps
        .iter()
        .find(|e| e.metadata.name.as_deref() == Some("web"))
        .unwrap();
    let subset = &web_ep.subsets.as_ref().unwrap()[0];
    let mut ready_ips: Vec<String> = subset
        .addresses
        .iter()
        .flatten()
        .map(|a| a.ip.clone())
        .collect();
    ready_ips.sort();
    let mut want = ips.clone();
    want.sort();
    assert_eq!(ready_ips, want);
    assert_eq!(subset.not_ready_addresses.as_ref().unwrap()[0].ip, slow);
    assert_eq!(subset.ports.as_ref().unwrap()[0].port, 8080);

    // Without br_netfilter, bridged replies never meet the node's
    // conntrack: switch it off in the node's namespace (root can) so the
    // masquerading is what makes Pod → ClusterIP → Pod work.
    if !rootless && Path::new("/proc/sys/net/bridge/bridge-nf-call-iptables").exists() {
        in_node_netns(
            rootless,
            &[
                "sh",
                "-c",
                "echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables",
            ],
        );
        let now = in_node_netns(
            rootless,
            &["cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"],
        );
        assert_eq!(now.as_deref(), Some("0\n"));
    }
    // 30 connections to the ClusterIP reach every Ready endpoint, never
    // the unready one.
    let url = format!("http://{cip}/");
    eventually("the ClusterIP answers", || {
        let (code, out) = exec(&n, "client", &["timeout", "3", "wget", "-q", "-O-", &url]);
        (code == 0)
            .then_some(())
            .ok_or_else(|| format!("{out}\nnode: {:?}", n.take_messages()))
    });
    let counts = spread(&n, "client", &url, 30);
    assert_eq!(counts.values().sum::<usize>(), 30, "{counts:?}");
    for i in 0..3 {
        assert!(
            counts.get(&format!("answer-{i}")).is_some_and(|c| *c > 0),
            "web-{i} got nothing: {counts:?}"
        );
    }
    assert!(
        !counts.contains_key("answer-slow") && !counts.contains_key("failed"),
        "{counts:?}"
    );

    // Hairpin: web-1 reaching its own Service (and so, sometimes, itself).
    let counts = spread(&n, "web-1", &url, 12);
    assert!(
        !counts.contains_key("failed") && counts.values().sum::<usize>() == 12,
        "{counts:?}"
    );

    // The rules, as a learner reads them.
    if let Some(rules) = nat_rules(rootless) {
        let chain = service_chain(&service_port_name("default", "web", "http"), "TCP");
        for want in [
            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES".to_string(),
            format!("-A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j {chain}"),
            format!("--to-destination {}:8080", ips[0]),
            "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000".to_string(),
        ] {
            assert!(rules.contains(&want), "{want}\nnot in\n{rules}");
        }
        assert!(!rules.contains(&slow), "{rules}");
        assert_eq!(
            rules.matches("-m statistic --mode random").count(),
            2,
            "{rules}"
        );
    }

    // DNS: the ClusterIP, and the headless Service's Ready Pods.
    let (code, conf) = exec(&n, "client", &["cat", "/etc/resolv.conf"]);
    assert_eq!(code, 0, "{conf}");
    assert_eq!(
        conf,
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
        "client's events: {:?}",
        n.pod("default", "client").unwrap().1
    );
    let (code, out) = exec(&n, "client", &["nslookup", "web.default.svc.cluster.local"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("Address: {cip}")), "{out}");
    let lookup = |n: &Node| {
        exec(
            n,
            "client",
            &["nslookup", "web-headless.default.svc.cluster.local"],
        )
        .1
    };
    let out = lookup(&n);
    for ip in &ips {
        assert!(
            out.contains(&format!("Address: {ip}")),
            "{ip} not in\n{out}"
        );
    }
    assert!(!out.contains(&slow), "{out}");
    let (code, out) = exec(
        &n,
        "client",
        &["nslookup", "nothing.default.svc.cluster.local"],
    );
    assert_ne!(code, 0, "an unknown name: {out}");

    // Deleting a Pod rewrites the rules and the records.
    n.delete("default", "web-0", Some(0)).unwrap();
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "web-0").is_none()),
        "web-0 stays"
    );
    eventually("the headless name drops web-0", || {
        let out = lookup(&n);
        (!out.contains(&format!("Address: {}", ips[0])))
            .then_some(())
            .ok_or(out)
    });
    let counts = spread(&n, "client", &url, 20);
    assert_eq!(
        counts.get("answer-1").copied().unwrap_or(0) + counts.get("answer-2").copied().unwrap_or(0),
        20,
        "{counts:?}"
    );
    if let Some(rules) = nat_rules(rootless) {
        assert!(!rules.contains(&ips[0]), "{rules}");
        assert_eq!(
            rules.matches("-m statistic --mode random").count(),
            1,
            "{rules}"
        );
    }

    // Deleting the Service removes its chains.
    n.delete_service("default", "web").unwrap();
    eventually("the ClusterIP goes", || {
        let (code, out) = exec(&n, "client", &["timeout", "2", "wget", "-q", "-O-", &url]);
        (code != 0).then_some(()).ok_or(out)
    });
    if let Some(rules) = nat_rules(rootless) {
        assert!(
            !rules.contains("KUBE-SVC-") && !rules.contains("KUBE-SEP-"),
            "{rules}"
        );
        assert!(rules.contains(":KUBE-SERVICES"), "{rules}");
    }

    // The node stops: nothing of the data plane is left.
    let records = state.join("cni").join("dns");
    assert!(records.join("hosts").is_file());
    let needle = records.to_string_lossy().into_owned();
    // dnsmasq and its helper (whose argv holds dnsmasq's).
    assert_eq!(processes_with(&needle).len(), 2, "dnsmasq and its helper");
    thread.stop();
    drop(n);
    eventually("dnsmasq ends with the node", || {
        let left = processes_with(&needle);
        left.is_empty().then_some(()).ok_or(format!("{left:?}"))
    });
    assert!(!records.exists(), "{} is left", records.display());
}

/// The same as uid 65534: the node's namespace belongs to a user namespace
/// of its own, where dnsmasq must keep the only uid mapped.
fn rootless() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let spawned = Command::new("/proc/self/exe")
        .arg("rootless-child")
        .arg(tmp.path())
        .env_clear()
        .env("TMPDIR", "/tmp")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .current_dir("/")
        .uid(NOBODY)
        .gid(NOBODY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            println!("SKIP: services, rootless: this test binary cannot run as uid {NOBODY}: {e}");
            return;
        }
    };
    let mut err = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = child.wait().unwrap();
    let errors = errors.join().unwrap_or_default();
    assert!(
        status.success() && out.contains("PASS"),
        "the rootless node failed ({status}): {out}{errors}"
    );
    println!("ok: services, rootless");
}
