//! Pod networking on a real node: the agent with the sandbox runtime and
//! Debian's CNI plugins. Two busybox Pods get IPs from the node's Pod CIDR
//! and reach each other through the bridge (ping, HTTP); a `tcpSocket`
//! readiness probe goes Ready once the container listens; a failing
//! `httpGet` liveness probe restarts its container; the Pod IP reaches the
//! downward API. Nothing is ever created in the host's network namespace,
//! and after the node stops — or is killed with SIGKILL — no holder, Pod
//! or link is left. The same again with the node run as uid 65534: the
//! Pods' user namespaces are made inside the node's.
//!
//! `harness = false`: the binary's main calls `kubelab_sandbox::dispatch()`
//! first, so it is also the sandbox helper and the namespace holder.

use kubelab_node::agent::{Node, NodeConfig};
use kubelab_node::api::metrics::{MetricsServer, METRICS_SOCKET};
use kubelab_node::cni::DEBIAN_PLUGIN_DIR;
use kubelab_node::runtime::Runtime;
use kubelab_node::sandbox_runtime::network::missing_plugins;
use kubelab_node::sandbox_runtime::{CniOptions, SandboxRuntime, SandboxRuntimeOptions};
use kubelab_node::status::printer::pod_row;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CIDR: &str = "10.77.0.0/24";
const WAIT: Duration = Duration::from_secs(60);

fn main() {
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    match std::env::args().nth(1).as_deref() {
        Some("sigkill-child") => return sigkill_child(),
        Some("rootless-child") => return rootless_child(),
        _ => {}
    }
    if let Some(why) = skip_reason() {
        println!("SKIP: {why}");
        return;
    }
    let before = host_links();
    two_pods_talk_and_probes_use_the_pod_ip();
    assert_eq!(host_links(), before, "the host's links changed");
    sigkill_of_the_node_leaves_no_namespace();
    assert_eq!(host_links(), before, "the host's links changed");
    without_plugins_pods_get_loopback_only_and_say_why();
    a_rootless_node_networks_its_pods();
    println!("pod_network: all cases passed");
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
    if !Path::new("/bin/busybox").is_file() {
        return Some("no static /bin/busybox (apt-get install busybox-static)".into());
    }
    if kubelab_sandbox::cgroup::mode() == kubelab_sandbox::cgroup::Mode::None {
        return Some("no cgroup filesystem mounted".into());
    }
    if std::process::Command::new("ip")
        .arg("-V")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        return Some("no `ip` (apt-get install iproute2)".into());
    }
    None
}

/// The host's interface names, sorted.
fn host_links() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect();
    v.sort();
    v
}

/// The node's bridge address (the gateway host-local gives [`CIDR`]).
const BRIDGE_IP: &str = "10.77.0.1";

/// A Pod scrapes the node's metrics on the bridge's address, port 10255,
/// as a Prometheus Pod would. `samples`: whether the node's containers
/// have cgroups to read (a rootless node here has none: an empty 200 then,
/// which still went through the forwarder and the socket's HTTP server).
fn scrape_node_metrics(n: &Node, samples: bool) {
    let url = format!("http://{BRIDGE_IP}:10255/metrics");
    let (code, body) = exec(n, "web", &["wget", "-q", "-O-", &url]);
    assert_eq!(code, 0, "wget {url}: {body}");
    assert!(
        !samples
            || body.contains("container_memory_working_set_bytes{") && body.contains("pod=\"web\""),
        "{body}"
    );
}

/// Live (not zombie) port forwarders to `socket`, anyone's children.
fn forwarders(socket: &Path) -> Vec<u32> {
    let socket = socket.as_os_str().as_encoded_bytes();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.split_whitespace().next() == Some("Z"));
        if !zombie && args.contains(&&b"__kubelab-netns-forward"[..]) && args.contains(&socket) {
            out.push(pid);
        }
    }
    out
}

/// Our children running the namespace holder mode.
fn holders() -> Vec<u32> {
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Field 4 (after the parenthesised name) is the parent.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1).map(String::from));
        if ppid.as_deref() == Some(me.as_str())
            && cmd
                .split(|b| *b == 0)
                .any(|a| a == b"__kubelab-netns-holder")
        {
            out.push(pid);
        }
    }
    out
}

fn runtime_options(name: &str, state: &Path) -> SandboxRuntimeOptions {
    let mut o = SandboxRuntimeOptions::new(name);
    o.runtime_dir = Some(PathBuf::from("/run/kubelab-test-node"));
    o.cni = Some(CniOptions::new(
        vec![PathBuf::from(DEBIAN_PLUGIN_DIR)],
        CIDR.into(),
        state.join("cni"),
    ));
    o
}

fn node(name: &str, dir: &Path) -> Node {
    let state = dir.join("state");
    let mut opts = runtime_options(name, &state);
    opts.metrics_socket = Some(state.join(METRICS_SOCKET));
    let rt = SandboxRuntime::new(opts).expect("runtime");
    assert_eq!(rt.pod_network(), Ok(()));
    let mut cfg = NodeConfig::new(name, &state);
    cfg.images.busybox = true;
    cfg.tick = Duration::from_millis(20);
    Node::new(cfg, Box::new(rt))
}

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && sleep 1 && exec httpd -f -p 8080 -h /www"]
    env:
    - name: MY_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      tcpSocket:
        port: http
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 2
  hostIPC: true
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.remote, bar.remote]
  containers:
  - name: main
    image: busybox
    command: ["sleep", "600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: sick
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && exec httpd -f -p 8080 -h /www"]
    livenessProbe:
      httpGet:
        port: 8080
        path: /healthz
      periodSeconds: 1
      failureThreshold: 1
      timeoutSeconds: 2
---
apiVersion: v1
kind: Pod
metadata:
  name: hostnet
spec:
  terminationGracePeriodSeconds: 2
  hostNetwork: true
  hostPID: true
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-the-node > /www/index.html && exec httpd -f -p 18080 -h /www"]
    readinessProbe:
      tcpSocket:
        port: 18080
      periodSeconds: 1
"#;

fn ip_of(n: &Node, name: &str) -> String {
    let (pod, _) = n.pod("default", name).unwrap();
    pod.status.and_then(|s| s.pod_ip).expect("a Pod IP")
}

fn exec(n: &Node, pod: &str, argv: &[&str]) -> (i32, String) {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let (code, out, err) = n
        .exec("default", pod, None, &argv, Duration::from_secs(20))
        .unwrap();
    (
        code,
        String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err),
    )
}

/// What the Pods of `n` (just given [`PODS`]) do over the network: their
/// IPs, Ready by a tcpSocket probe, ping and HTTP between them, the
/// downward API's IP, and a restart by a failing httpGet liveness probe.
/// Returns the IPs of web and client.
fn pods_talk(n: &Node) -> (String, String) {
    n.apply(PODS, Path::new("pods.yaml")).expect("applied");
    let running = |name: &'static str| {
        move |st: &kubelab_node::agent::State| {
            st.find("default", name).is_some_and(|p| {
                pod_row(&p.pod, kubelab_node::agent::now_utc()).status == "Running"
            })
        }
    };
    assert!(n.wait_until(WAIT, running("web")), "web runs");
    assert!(n.wait_until(WAIT, running("client")), "client runs");
    let (web, client) = (ip_of(n, "web"), ip_of(n, "client"));
    for ip in [&web, &client] {
        assert!(ip.starts_with("10.77.0."), "{ip} outside {CIDR}");
    }
    assert_ne!(web, client);
    // The wide row's IP column.
    let (pod, _) = n.pod("default", "web").unwrap();
    assert_eq!(pod_row(&pod, kubelab_node::agent::now_utc()).ip, web);

    // The tcpSocket probe (from the node's namespace to the Pod IP) makes
    // web Ready once httpd listens.
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "web").is_some_and(
            |p| pod_row(&p.pod, kubelab_node::agent::now_utc()).ready == "1/1"
        )),
        "web never became Ready"
    );
    // Pod to Pod through the bridge.
    let (code, out) = exec(n, "client", &["ping", "-c", "1", "-W", "5", &web]);
    assert_eq!(code, 0, "client cannot ping web at {web}: {out}");
    let (code, out) = exec(n, "web", &["ping", "-c", "1", "-W", "5", &client]);
    assert_eq!(code, 0, "web cannot ping client at {client}: {out}");
    let (code, out) = exec(
        n,
        "client",
        &["wget", "-q", "-O-", &format!("http://{web}:8080/")],
    );
    assert_eq!((code, out.trim()), (0, "hello-from-web"));
    // The downward API saw the same IP; eth0 carries it.
    let (_, env) = exec(n, "web", &["sh", "-c", "echo $MY_IP"]);
    assert_eq!(env.trim(), web);
    let (_, addr) = exec(n, "web", &["ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(addr.contains(&format!("{web}/24")), "{addr}");
    // The kubelet's managed /etc/hosts: the Pod's IP and name, hostAliases.
    let (code, hosts) = exec(n, "client", &["cat", "/etc/hosts"]);
    assert_eq!(code, 0, "{hosts}");
    assert!(
        hosts.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"),
        "{hosts}"
    );
    assert!(
        hosts.ends_with(&format!(
            "{client}\tclient\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n"
        )),
        "{hosts}"
    );
    let (_, hosts) = exec(n, "web", &["cat", "/etc/hosts"]);
    assert!(hosts.ends_with(&format!("{web}\tweb\n")), "{hosts}");
    // hostIPC: client is in the node's IPC namespace, web in its own.
    let node_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    let node_ipc = node_ipc.to_string_lossy();
    let (_, ipc) = exec(n, "client", &["readlink", "/proc/self/ns/ipc"]);
    assert_eq!(ipc.trim(), node_ipc, "hostIPC");
    let (_, ipc) = exec(n, "web", &["readlink", "/proc/self/ns/ipc"]);
    assert_ne!(ipc.trim(), node_ipc, "a Pod's own IPC namespace");
    host_network_and_pid(n);

    // httpGet liveness: /healthz is a 404, so the container is restarted.
    assert!(
        n.wait_until(WAIT, |st| st
            .find("default", "sick")
            .is_some_and(|p| p.containers[0].restart_count() >= 1)),
        "sick was never restarted"
    );
    let (_, events) = n.pod("default", "sick").unwrap();
    assert!(
        events.iter().any(|e| e.reason == "Unhealthy"
            && e.message == "Liveness probe failed: HTTP probe failed with statuscode: 404"),
        "{events:?}"
    );
    (web, client)
}

/// hostNetwork and hostPID: the Pod is in the node's network namespace
/// (the holder's: its bridge, its /sys), has the node's address as its IP,
/// is probed on the node's loopback, and Pods reach it at the node's bridge address; it
/// sees the node's processes.
fn host_network_and_pid(n: &Node) {
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "hostnet").is_some_and(
            |p| pod_row(&p.pod, kubelab_node::agent::now_utc()).ready == "1/1"
        )),
        "hostnet never became Ready (tcpSocket on the node's loopback)"
    );
    let (pod, _) = n.pod("default", "hostnet").unwrap();
    // Its IP is the node's (a node alone: its bridge address), as every
    // Pod's hostIP is.
    let status = pod.status.unwrap_or_default();
    assert_eq!(
        status.pod_ip.as_deref(),
        Some(BRIDGE_IP),
        "the node's address"
    );
    assert_eq!(status.host_ip.as_deref(), Some(BRIDGE_IP), "hostIP");
    let held = holders();
    assert_eq!(held.len(), 1, "{held:?}");
    let node_net = std::fs::read_link(format!("/proc/{}/ns/net", held[0])).unwrap();
    let (_, net) = exec(n, "hostnet", &["readlink", "/proc/self/ns/net"]);
    assert_eq!(net.trim(), node_net.to_string_lossy(), "hostNetwork");
    let (code, links) = exec(n, "hostnet", &["ls", "/sys/class/net"]);
    assert_eq!(code, 0, "{links}");
    assert!(links.contains("kubelab0"), "the node's /sys: {links}");
    // The node's hostname too (its UTS namespace: this process's).
    let node_uts = std::fs::read_link("/proc/self/ns/uts").unwrap();
    let (_, uts) = exec(n, "hostnet", &["readlink", "/proc/self/ns/uts"]);
    assert_eq!(uts.trim(), node_uts.to_string_lossy(), "hostNetwork's UTS");
    let (_, links) = exec(n, "hostnet", &["ip", "-o", "link"]);
    assert!(links.contains("kubelab0"), "{links}");
    let (code, out) = exec(
        n,
        "client",
        &["wget", "-q", "-O-", &format!("http://{BRIDGE_IP}:18080/")],
    );
    assert_eq!((code, out.trim()), (0, "hello-from-the-node"));
    // hostPID: the node's PID namespace (this process's); web has its own.
    let node_pid = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let (_, pidns) = exec(n, "hostnet", &["readlink", "/proc/self/ns/pid"]);
    assert_eq!(pidns.trim(), node_pid.to_string_lossy(), "hostPID");
    let me = std::process::id().to_string();
    let (code, _) = exec(n, "hostnet", &["test", "-d", &format!("/proc/{me}")]);
    assert_eq!(code, 0, "hostPID sees the node agent's process {me}");
    let (_, pidns) = exec(n, "web", &["readlink", "/proc/self/ns/pid"]);
    assert_ne!(pidns.trim(), node_pid.to_string_lossy());
}

fn two_pods_talk_and_probes_use_the_pod_ip() {
    let tmp = tempfile::tempdir().unwrap();
    let n = node(&format!("net{}", std::process::id()), tmp.path());
    let thread = n.spawn();
    let state = &n.config().state_dir;
    std::fs::create_dir_all(state).unwrap();
    std::fs::set_permissions(state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let metrics = MetricsServer::start(n.clone()).expect("metrics socket");
    let (_, client) = pods_talk(&n);

    // The node's bridge is in its own namespace: exactly one holder.
    let held = holders();
    assert_eq!(held.len(), 1, "{held:?}");
    let out = std::process::Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", held[0]))
        .args(["ip", "-o", "-4", "addr", "show", "kubelab0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "no kubelab0 in the node's namespace");
    // The node's metrics on the bridge's address, port 10255, from a Pod
    // (a Prometheus Pod's scrape).
    let addr = String::from_utf8_lossy(&out.stdout);
    let bridge_ip = addr
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next())
        .unwrap_or_else(|| panic!("no IPv4 address on kubelab0: {addr}"))
        .to_string();
    // host-local's gateway: the range's first address.
    assert_eq!(bridge_ip, BRIDGE_IP);
    scrape_node_metrics(&n, true);
    // Not on the host: the port is the node's namespace's only.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", 10255)).is_err(),
        "port 10255 is open in the host's network namespace"
    );

    // Deleting a Pod releases its address (CNI DEL).
    let ipam = tmp.path().join("state/cni/ipam/kubelab");
    assert!(ipam.join(&client).exists());
    n.delete("default", "client", Some(1)).unwrap();
    assert!(n.wait_until(WAIT, |st| st.find("default", "client").is_none()));
    assert!(!ipam.join(&client).exists(), "the address was not released");
    drop(metrics);

    thread.stop();
    drop(n);
    let deadline = Instant::now() + WAIT;
    while !holders().is_empty() {
        assert!(Instant::now() < deadline, "the holder outlived the node");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("ok: two_pods_talk_and_probes_use_the_pod_ip");
}

/// Child mode: a node with one Pod, killed by the parent.
/// Its files go to the directory argv[2], the parent's (a killed process
/// cannot remove its own).
fn sigkill_child() {
    let dir = PathBuf::from(std::env::args_os().nth(2).expect("a directory"));
    let mut opts = runtime_options(&format!("k{}", std::process::id()), &dir);
    opts.metrics_socket = Some(dir.join("metrics.sock"));
    let rt = SandboxRuntime::new(opts).unwrap();
    let n = {
        let mut cfg = NodeConfig::new("killed", &dir.join("state"));
        cfg.images.busybox = true;
        cfg.tick = Duration::from_millis(20);
        Node::new(cfg, Box::new(rt))
    };
    let _thread = n.spawn();
    n.apply(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [\"sleep\", \"600\"]\n",
        Path::new("p.yaml"),
    )
    .unwrap();
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "p").is_some_and(|p| p
            .pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_ref())
            .is_some()))
    );
    let holder = holders();
    let (pod, _) = n.pod("default", "p").unwrap();
    println!(
        "{} {}",
        holder.first().copied().unwrap_or(0),
        pod.status.and_then(|s| s.pod_ip).unwrap_or_default()
    );
    std::thread::sleep(Duration::from_secs(600));
}

fn sigkill_of_the_node_leaves_no_namespace() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("/proc/self/exe")
        .arg("sigkill-child")
        .arg(tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 2, "child said {line:?}");
    let holder: u32 = parts[0].parse().unwrap();
    assert!(holder > 0 && parts[1].starts_with("10.77.0."), "{line}");
    let netns = std::fs::read_link(format!("/proc/{holder}/ns/net")).unwrap();
    let socket = tmp.path().join("metrics.sock");
    assert_eq!(forwarders(&socket).len(), 1, "the metrics port's forwarder");
    child.kill().unwrap();
    child.wait().unwrap();
    // The holder reads EOF and exits; the namespace, its bridge and veths
    // go with it. (The zombie may stay until init reaps it: it is dead.)
    let deadline = Instant::now() + WAIT;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{holder}/stat")).unwrap_or_default();
        let alive = state
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next().map(String::from))
            .is_some_and(|s| s != "Z");
        let still_ns =
            std::fs::read_link(format!("/proc/{holder}/ns/net")).ok() == Some(netns.clone());
        if !alive && !still_ns {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the holder survived SIGKILL of its node"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The metrics forwarder reads EOF on its lifeline and exits too.
    let deadline = Instant::now() + WAIT;
    while !forwarders(&socket).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the metrics forwarder survived SIGKILL of its node"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("ok: sigkill_of_the_node_leaves_no_namespace");
}

fn without_plugins_pods_get_loopback_only_and_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("no-plugins");
    std::fs::create_dir(&empty).unwrap();
    let state = tmp.path().join("state");
    let mut o = runtime_options(&format!("lo{}", std::process::id()), &state);
    if let Some(c) = &mut o.cni {
        c.plugin_dirs = vec![empty.clone()];
    }
    let rt = SandboxRuntime::new(o).expect("runtime");
    let why = rt.pod_network().unwrap_err();
    assert!(
        why.contains("apt install containernetworking-plugins"),
        "{why}"
    );
    let mut cfg = NodeConfig::new("lo", &state);
    cfg.images.busybox = true;
    cfg.tick = Duration::from_millis(20);
    let n = Node::new(cfg, Box::new(rt));
    let thread = n.spawn();
    let probe = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\nspec:\n  containers:\n  - name: main\n    image: busybox\n    readinessProbe:\n      tcpSocket:\n        port: 80\n";
    let e = n.apply(probe, Path::new("t.yaml")).unwrap_err();
    assert!(
        e.contains("readinessProbe: tcpSocket needs a Pod IP"),
        "{e}"
    );
    n.apply(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: lo\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox\n    command: [\"sleep\", \"600\"]\n",
        Path::new("lo.yaml"),
    )
    .unwrap();
    assert!(
        n.wait_until(WAIT, |st| st.find("default", "lo").is_some_and(
            |p| pod_row(&p.pod, kubelab_node::agent::now_utc()).status == "Running"
        ))
    );
    let (pod, events) = n.pod("default", "lo").unwrap();
    assert_eq!(pod.status.and_then(|s| s.pod_ip), None);
    assert!(
        events
            .iter()
            .any(|e| e.reason == "NetworkNotReady" && e.message.contains("loopback only")),
        "{events:?}"
    );
    let (_, links) = exec(&n, "lo", &["ip", "-o", "link"]);
    assert_eq!(links.lines().count(), 1, "only lo: {links}");
    assert!(links.contains("lo: <LOOPBACK,UP"), "{links}");
    assert!(holders().is_empty(), "no namespace holder without plugins");
    thread.stop();
    println!("ok: without_plugins_pods_get_loopback_only_and_say_why");
}

const NOBODY: u32 = 65534;

/// Child mode, as uid 65534: a rootless node whose Pods talk, its files in
/// the directory argv[2] (the parent's: this process is killed). Prints
/// `READY <holder pid>` and waits to be killed.
fn rootless_child() {
    let dir = PathBuf::from(std::env::args_os().nth(2).expect("a directory"));
    let state = dir.join("state");
    let mut o = runtime_options(&format!("rl{}", std::process::id()), &state);
    o.runtime_dir = Some(dir.join("run"));
    o.cache_dir = Some(dir.join("cache"));
    o.metrics_socket = Some(state.join(METRICS_SOCKET));
    let rt = SandboxRuntime::new(o).expect("runtime");
    assert_eq!(
        rt.pod_network(),
        Ok(()),
        "a rootless node networks its Pods"
    );
    let mut cfg = NodeConfig::new("rootless", &state);
    cfg.images.busybox = true;
    cfg.tick = Duration::from_millis(20);
    let n = Node::new(cfg, Box::new(rt));
    let _thread = n.spawn();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let _metrics = MetricsServer::start(n.clone()).expect("metrics socket");
    pods_talk(&n);
    // Rootless too: the forwarder joins the node's user and network
    // namespaces and reaches the learner's socket.
    // Whether there are samples (Pods with cgroups) is what the socket
    // itself answers.
    let direct = {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(state.join(METRICS_SOCKET)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: node\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    };
    assert!(direct.starts_with("HTTP/1.1 200"), "{direct}");
    scrape_node_metrics(&n, direct.contains("container_memory_working_set_bytes{"));
    // One holder, and its network namespace belongs to a user namespace
    // of its own (the node's), not the host's.
    let held = holders();
    assert_eq!(held.len(), 1, "{held:?}");
    let ns = |pid: &str, name: &str| std::fs::read_link(format!("/proc/{pid}/ns/{name}")).unwrap();
    assert_ne!(ns(&held[0].to_string(), "user"), ns("self", "user"));
    assert_ne!(ns(&held[0].to_string(), "net"), ns("self", "net"));
    println!("READY {}", held[0]);
    std::thread::sleep(Duration::from_secs(600));
}

/// Why this host forbids unprivileged user namespaces, if it does.
fn unprivileged_userns_off() -> Option<String> {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    for (file, off) in [
        ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
        ("/proc/sys/user/max_user_namespaces", "0"),
        (
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
        ),
    ] {
        if read(file).as_deref() == Some(off) {
            return Some(format!("{file} is {off}: no unprivileged user namespaces"));
        }
    }
    None
}

/// (pid, start time) of `root` and every process below it.
fn family(root: u32) -> Vec<(u32, String)> {
    let mut all = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let f: Vec<String> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        // After the name: state, ppid, …, starttime (field 22 overall).
        if let (Some(ppid), Some(start)) = (f.get(1).and_then(|p| p.parse::<u32>().ok()), f.get(19))
        {
            all.push((pid, ppid, start.clone()));
        }
    }
    let mut out: Vec<(u32, String)> = all
        .iter()
        .filter(|p| p.0 == root)
        .map(|p| (p.0, p.2.clone()))
        .collect();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].0;
        out.extend(
            all.iter()
                .filter(|p| p.1 == parent)
                .map(|p| (p.0, p.2.clone())),
        );
        i += 1;
    }
    out
}

/// Whether that process still runs (a zombie does not).
fn alive(pid: u32, start: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    f.first().is_some_and(|s| *s != "Z") && f.get(19) == Some(&start)
}

/// A node run as uid 65534: its Pods get IPs and talk through the bridge
/// (their user namespaces are made inside the node's, where the plugins
/// are root), probes reach them; the host's links never change, and
/// `kill -9` of the node leaves no process behind.
fn a_rootless_node_networks_its_pods() {
    use std::io::{BufRead, Read};
    use std::os::unix::process::CommandExt;
    if let Some(why) = unprivileged_userns_off() {
        println!("SKIP: a_rootless_node_networks_its_pods: {why}");
        return;
    }
    let before = host_links();
    // Removed by us: the child is killed.
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let spawned = std::process::Command::new("/proc/self/exe")
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
            println!(
                "SKIP: a_rootless_node_networks_its_pods: this test binary cannot run as uid {NOBODY}: {e}"
            );
            return;
        }
    };
    let mut err = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(holder) = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse::<u32>().ok())
    else {
        let st = child.wait().unwrap();
        panic!(
            "the rootless node failed ({st}): {line}{}",
            errors.join().unwrap_or_default()
        );
    };
    let procs = family(child.id());
    assert!(procs.iter().any(|p| p.0 == holder), "{procs:?}");
    assert!(procs.len() > 4, "the node, its holder and Pods: {procs:?}");
    assert_eq!(
        host_links(),
        before,
        "a rootless node changed the host's links"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let left: Vec<_> = procs.iter().filter(|(p, s)| alive(*p, s)).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left after kill -9 of the rootless node: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(host_links(), before, "the host's links changed");
    println!("ok: a_rootless_node_networks_its_pods");
}
