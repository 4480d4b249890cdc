//! A node's own network namespace (`kubelab_sandbox::net`): held by a small
//! process, entered by helpers, checked from inside, gone with its handle —
//! and, rootless, owned by a user namespace of its own. The host's links
//! never change.

mod common;
use common::*;
use kubelab_sandbox::net::{NetCheck, NodeNetns, NodeNetnsOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn host_links() -> Vec<String> {
    let out = Command::new("ip")
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

fn ino(path: &str) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn missing_tools() -> Option<String> {
    if !kubelab_sandbox::is_root() {
        return Some("needs root to make a network namespace without a user namespace".into());
    }
    for t in ["/bin/busybox", "/usr/bin/ip", "/sbin/ip", "/bin/ip"] {
        if t == "/bin/busybox" && !Path::new(t).exists() {
            return Some("no /bin/busybox (apt-get install busybox-static)".into());
        }
    }
    if !["/usr/bin/ip", "/sbin/ip", "/bin/ip", "/usr/sbin/ip"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        return Some("no `ip` (apt-get install iproute2)".into());
    }
    None
}

#[test]
fn the_node_namespace_is_its_own_and_goes_with_its_handle() {
    if skip(missing_tools()) {
        return;
    }
    let before = host_links();
    let netns = NodeNetns::start(&NodeNetnsOptions {
        helper_exe: helper(),
        user_namespace: false,
    })
    .unwrap();
    let pid = netns.pid();
    assert_ne!(
        ino(&format!("/proc/{pid}/ns/net")),
        ino("/proc/self/ns/net")
    );
    assert_eq!(
        ino(&format!("/proc/{pid}/ns/user")),
        ino("/proc/self/ns/user")
    );
    assert!(netns.userns_path().is_none());

    // Links made through the enter helper are the node's, not the host's.
    let st = netns
        .command("ip")
        .args(["link", "add", "kltest0", "type", "bridge"])
        .status()
        .unwrap();
    assert!(st.success());
    let out = netns.command("ip").args(["-o", "link"]).output().unwrap();
    let links = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(links.contains("kltest0"), "{links}");
    assert!(links.contains("lo: <LOOPBACK,UP"), "lo is up: {links}");
    assert!(!host_links().contains(&"kltest0".to_string()));

    // Checks run inside: a host listener is not reachable there...
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let tcp = NetCheck::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    let o = netns.check(&tcp, Duration::from_secs(2));
    assert!(!o.success && o.message.contains("refused"), "{o:?}");
    // ...one inside is.
    let www = tempfile::tempdir().unwrap();
    let mut server = netns
        .command("busybox")
        .args(["httpd", "-f", "-p", &format!("127.0.0.1:{port}"), "-h"])
        .arg(www.path())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the server in the node namespace", 10, || {
        netns.check(&tcp, Duration::from_secs(1)).success
    });
    let http = NetCheck::Http {
        host: "127.0.0.1".into(),
        port,
        path: "/missing".into(),
        headers: vec![],
    };
    let o = netns.check(&http, Duration::from_secs(2));
    assert_eq!(o.message, "HTTP probe failed with statuscode: 404", "{o:?}");
    let _ = server.kill();
    let _ = server.wait();
    // An entered program that does not exist: 127, like a shell.
    let st = netns.command("/nonexistent/prog").status().unwrap();
    assert_eq!(st.code(), Some(127));

    drop(netns);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the holder was reaped"
    );
    assert_eq!(host_links(), before, "the host's links changed");
}

#[test]
fn a_rootless_holder_owns_its_namespace_through_a_user_namespace() {
    if skip(userns_unavailable()) {
        return;
    }
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: needs root to switch to uid {NOBODY}");
        return;
    }
    use std::os::unix::process::CommandExt;
    // The holder mode as an unprivileged user starts it (what
    // NodeNetns::start runs with `user_namespace: true`).
    let mut holder = Command::new(helper())
        .args(["__kubelab-netns-holder", "--userns"])
        .env_clear()
        .current_dir("/")
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.trim() != "ready" {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut holder.stderr.take().unwrap(), &mut err).unwrap();
        panic!("holder as nobody failed: {line:?} {err}");
    }
    let pid = holder.id();
    assert_ne!(
        ino(&format!("/proc/{pid}/ns/user")),
        ino("/proc/self/ns/user")
    );
    assert_ne!(
        ino(&format!("/proc/{pid}/ns/net")),
        ino("/proc/self/ns/net")
    );
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", "65534", "1"]
    );
    // As nobody, the enter helper gets root over that namespace: it can
    // make a link there.
    let out = Command::new(helper())
        .args([
            "__kubelab-netns-enter",
            &pid.to_string(),
            "--",
            "ip",
            "link",
            "add",
            "kltest1",
            "type",
            "bridge",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!host_links().contains(&"kltest1".to_string()));
    // Closing its stdin (what the caller's death does) ends it.
    drop(holder.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if holder.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the holder outlived its lifeline"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn only_a_rootless_infra_is_made_in_a_parent_user_namespace() {
    if !kubelab_sandbox::is_root() {
        eprintln!("SKIP: checks what root is refused");
        return;
    }
    use kubelab_sandbox::pod::{JoinNamespaces, PodOptions};
    use kubelab_sandbox::spec::Namespace;
    let mut s = spec(&["true"]);
    s.namespaces = vec![Namespace::User, Namespace::Net, Namespace::Pid];
    // Root's sandboxes map an unprivileged host range written from the
    // host's user namespace; nesting them would drop that, so it is refused
    // (as is a container, which joins its infra's namespace instead).
    for join in [
        None,
        Some(JoinNamespaces {
            pid: std::process::id(),
            share_pid: false,
            host_ipc: false,
            host_network: false,
        }),
    ] {
        let pod = PodOptions {
            parent_userns: Some("/proc/self/ns/user".into()),
            pause: join.is_none(),
            join,
            ..PodOptions::default()
        };
        let e = kubelab_sandbox::Sandbox::spawn_in_pod(
            &s,
            &opts(kubelab_sandbox::StdioMode::Null),
            &pod,
        )
        .expect_err("refused");
        assert!(e.to_string().contains("rootless Pod's infra only"), "{e}");
    }
}
