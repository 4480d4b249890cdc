//! The socket API through a real unix socket, and hostile clients.

use super::client::{call, request};
use super::server::Server;
use super::{Reply, Request, MAX_REQUEST, SOCKET};
use crate::agent::tests::{lab, row};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n    image: busybox\n";

fn raw(state: &std::path::Path, bytes: &[u8]) -> Reply {
    let mut c = UnixStream::connect(state.join(SOCKET)).unwrap();
    // The node may answer (and close) before reading everything.
    let _ = c.write_all(bytes);
    let _ = c.shutdown(std::net::Shutdown::Write);
    let mut line = String::new();
    BufReader::new(c).read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

#[test]
fn apply_get_logs_delete_round_trip() {
    let l = lab();
    let server = Server::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    let mode = std::fs::metadata(server.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let r = request(
        &state,
        &Request::Apply {
            file: "web.yaml".into(),
            text: POD.into(),
        },
    )
    .unwrap();
    assert_eq!(
        r,
        Reply::Messages {
            lines: vec!["pod/web created".into()]
        }
    );
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));

    match request(
        &state,
        &Request::Get {
            name: None,
            namespace: "default".into(),
        },
    )
    .unwrap()
    {
        Reply::Pods { pods } => {
            assert_eq!(pods.len(), 1);
            assert_eq!(
                pods[0].status.as_ref().unwrap().phase.as_deref(),
                Some("Running")
            );
        }
        other => panic!("{other:?}"),
    }
    let mut logs = Vec::new();
    let req = Request::Logs {
        name: "web".into(),
        namespace: "default".into(),
        container: None,
        previous: false,
        follow: false,
        tail: None,
    };
    call(&state, &req, &mut |r| {
        logs.push(r);
        true
    })
    .unwrap();
    assert_eq!(
        logs,
        [
            Reply::Log {
                data: "hello from main\n".into()
            },
            Reply::End {}
        ]
    );

    match request(
        &state,
        &Request::Describe {
            name: "web".into(),
            namespace: "default".into(),
        },
    )
    .unwrap()
    {
        Reply::Text { text } => {
            assert!(text.starts_with("Name:             web\n"), "{text}");
            assert!(text.contains("Started container main"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    match request(
        &state,
        &Request::Exec {
            name: "web".into(),
            namespace: "default".into(),
            container: None,
            argv: vec!["id".into()],
            timeout_secs: None,
        },
    )
    .unwrap()
    {
        Reply::Exec {
            exit_code, stdout, ..
        } => assert_eq!((exit_code, stdout.as_str()), (0, "ran id\n")),
        other => panic!("{other:?}"),
    }
    let r = request(
        &state,
        &Request::Delete {
            name: "web".into(),
            namespace: "default".into(),
            grace_seconds: Some(0),
        },
    )
    .unwrap();
    assert_eq!(
        r,
        Reply::Messages {
            lines: vec!["pod \"web\" deleted".into()]
        }
    );
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    match request(
        &state,
        &Request::Get {
            name: Some("web".into()),
            namespace: "default".into(),
        },
    )
    .unwrap()
    {
        Reply::Error { message } => assert_eq!(message, "pods \"web\" not found"),
        other => panic!("{other:?}"),
    }
    let bad = request(
        &state,
        &Request::Apply {
            file: "bad.yaml".into(),
            text: "kind: Deployment\n".into(),
        },
    )
    .unwrap();
    assert!(
        matches!(bad, Reply::Error { ref message } if message.starts_with("bad.yaml:1:")),
        "{bad:?}"
    );
}

#[test]
fn hostile_clients_get_an_error_and_the_node_keeps_serving() {
    let l = lab();
    let _server = Server::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    let is_error =
        |r: &Reply, want: &str| matches!(r, Reply::Error { message } if message.contains(want));

    let r = raw(&state, b"{not json\n");
    assert!(is_error(&r, "bad request"), "{r:?}");
    let r = raw(&state, b"{\"op\":\"get\",\"evil\":1}\n");
    assert!(is_error(&r, "unknown field"), "{r:?}");
    let r = raw(&state, b"{\"op\":\"get\"}");
    assert!(is_error(&r, "one JSON line"), "{r:?}");
    let big = vec![b'x'; MAX_REQUEST + 10];
    let r = raw(&state, &big);
    assert!(is_error(&r, "larger than"), "{r:?}");

    // hostPath escapes are refused at apply, naming the field.
    let escape = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  volumes:\n  - name: root\n    hostPath:\n      path: /etc\n  containers:\n  - name: main\n    image: busybox\n";
    let r = request(
        &state,
        &Request::Apply {
            file: "x.yaml".into(),
            text: escape.into(),
        },
    )
    .unwrap();
    assert!(is_error(&r, "hostPath.path"), "{r:?}");
    let sub = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sub\nspec:\n  volumes:\n  - name: d\n    emptyDir: {}\n  containers:\n  - name: main\n    image: busybox\n    volumeMounts:\n    - name: d\n      mountPath: /d\n      subPath: ../../../etc\n";
    let r = request(
        &state,
        &Request::Apply {
            file: "y.yaml".into(),
            text: sub.into(),
        },
    )
    .unwrap();
    assert!(is_error(&r, "subPath"), "{r:?}");

    let r = request(
        &state,
        &Request::Get {
            name: None,
            namespace: "default".into(),
        },
    )
    .unwrap();
    assert_eq!(r, Reply::Pods { pods: vec![] });
    // A second node on the same state directory is refused.
    match Server::start(l.node.clone()) {
        Err(e) => assert!(e.to_string().contains("already running"), "{e}"),
        Ok(_) => panic!("a second server started"),
    }
}

#[test]
fn inspect_lists_pods_and_details_the_selected_one() {
    use super::inspect::MAX_EVENTS;
    use super::PodRef;
    let l = lab();
    let _server = Server::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    let two = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n    image: busybox\n  - name: side\n    image: busybox\n";
    let r = request(
        &state,
        &Request::Apply {
            file: "web.yaml".into(),
            text: two.into(),
        },
    )
    .unwrap();
    assert!(matches!(r, Reply::Messages { .. }), "{r:?}");
    assert!(l
        .node
        .wait_until(WAIT, |st| row(st, "web").is_some_and(|r| r.ready == "2/2")));
    let ask = |selected: Option<PodRef>, namespace: Option<String>| match request(
        &state,
        &Request::Inspect {
            namespace,
            selected,
        },
    )
    .unwrap()
    {
        Reply::Inspect {
            pods,
            truncated,
            detail,
        } => (pods, truncated, detail),
        other => panic!("{other:?}"),
    };
    let web = PodRef {
        namespace: "default".into(),
        name: "web".into(),
    };
    let (pods, truncated, detail) = ask(Some(web.clone()), None);
    assert_eq!(pods.len(), 1);
    assert!(!truncated);
    let d = detail.expect("the selected Pod's details");
    assert_eq!((d.namespace.as_str(), d.name.as_str()), ("default", "web"));
    assert_eq!(Some(d.uid.as_str()), pods[0].metadata.uid.as_deref());
    // The fake runtime's infra is PID 1, its containers 4242.
    assert_eq!(d.infra_pid, Some(1));
    let names: Vec<(&str, u32, bool)> = d
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.pid, c.init))
        .collect();
    assert_eq!(names, [("main", 4242, false), ("side", 4242, false)]);
    assert!(d.events.iter().any(|e| e.reason == "Started"), "{d:?}");
    assert!(d.events.len() <= MAX_EVENTS);

    // Another namespace lists nothing; a Pod that is not there has no detail.
    let (pods, _, detail) = ask(
        Some(PodRef {
            namespace: "default".into(),
            name: "gone".into(),
        }),
        Some("kube-system".into()),
    );
    assert!(pods.is_empty() && detail.is_none());
    // Older clients' requests are unchanged; the new one is one JSON line.
    let r = raw(
        &state,
        b"{\"op\":\"inspect\",\"selected\":{\"name\":\"web\"}}\n",
    );
    assert!(
        matches!(&r, Reply::Inspect { detail: Some(d), .. } if d.name == "web"),
        "{r:?}"
    );
    let r = raw(
        &state,
        b"{\"op\":\"inspect\",\"selected\":{\"name\":\"web\",\"x\":1}}\n",
    );
    assert!(matches!(r, Reply::Error { .. }), "{r:?}");
}

/// Sends `request` raw to the metrics socket; the whole answer.
fn http(state: &std::path::Path, request: &[u8]) -> String {
    use std::io::Read;
    let mut c = UnixStream::connect(state.join(super::metrics::METRICS_SOCKET)).unwrap();
    let _ = c.write_all(request);
    // A reset after the answer (the node closed with our bytes unread) is
    // the end, as for curl.
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = c.read(&mut buf) {
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn metrics_are_served_over_http_on_a_unix_socket() {
    use super::metrics::{MetricsServer, MAX_HEAD};
    // A cgroup v2 directory per container, as the runtime makes them.
    let cg = tempfile::tempdir().unwrap();
    let pod_dir = cg
        .path()
        .join("kubelab/node-node1/kubepods/besteffort/podU");
    let main = pod_dir.join("main");
    std::fs::create_dir_all(&main).unwrap();
    for (file, text) in [
        ("cpu.stat", "usage_usec 1500000\n"),
        ("memory.current", "4194304\n"),
        ("memory.stat", "anon 1048576\ninactive_file 0\n"),
        ("memory.max", "max\n"),
        ("cgroup.procs", "42\n"),
        ("pids.current", "1\n"),
        ("pids.max", "max\n"),
        ("memory.events", "oom_kill 0\n"),
    ] {
        std::fs::write(main.join(file), text).unwrap();
    }
    let l = lab();
    l.rt.0.lock().unwrap().pod_cgroup_dirs = vec![pod_dir.clone()];
    let _api = Server::start(l.node.clone()).unwrap();
    let server = MetricsServer::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    assert_eq!(
        std::fs::metadata(server.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    l.node.apply(POD, std::path::Path::new("web.yaml")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));

    let answer = http(&state, b"GET /metrics HTTP/1.1\r\nHost: node\r\n\r\n");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
        "{head}"
    );
    let line = body
        .lines()
        .find(|l| l.starts_with("container_memory_usage_bytes{"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        line.starts_with(r#"container_memory_usage_bytes{container="main",id="/kubelab/node-node1/kubepods/besteffort/podU/main",image="busybox",name="main-"#),
        "{line}"
    );
    assert!(
        line.contains(r#"namespace="default",pod="web"} 4.194304e+06 "#),
        "{line}"
    );
    assert!(body.contains("# TYPE container_cpu_usage_seconds_total counter\n"));
    assert!(body.contains("container_start_time_seconds{"));

    // HEAD: the same head, no body.
    let answer = http(&state, b"HEAD /metrics HTTP/1.0\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\n"),
        "{answer}"
    );
    // Everything else is an HTTP error, and the node keeps serving.
    assert!(http(&state, b"GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    let answer = http(&state, b"DELETE /metrics HTTP/1.1\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 405 ") && answer.contains("\r\nAllow: GET, HEAD\r\n"),
        "{answer}"
    );
    assert!(http(&state, b"hello\r\n\r\n").starts_with("HTTP/1.1 400 "));
    let mut huge = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    huge.resize(MAX_HEAD * 2, b'a');
    assert!(http(&state, &huge).starts_with("HTTP/1.1 431 "));
    // Connections are bounded: idle ones hold every slot, the next is told.
    let idle: Vec<UnixStream> = (0..super::server::MAX_CONNECTIONS)
        .map(|_| UnixStream::connect(server.path()).unwrap())
        .collect();
    let busy = (0..100).find_map(|_| {
        let a = http(&state, b"GET /metrics HTTP/1.1\r\n\r\n");
        a.starts_with("HTTP/1.1 503 ").then_some(a)
    });
    assert!(busy.is_some(), "no 503 with every slot taken");
    drop(idle);
    let ok = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        http(&state, b"GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 ")
    });
    assert!(ok, "served again once the idle clients left");
    let path = server.path().to_path_buf();
    drop(server);
    assert!(!path.exists(), "the socket is removed with the server");
    // A server whose socket file was removed under it still stops.
    let server = MetricsServer::start(l.node.clone()).unwrap();
    std::fs::remove_file(server.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = tx.send(());
    });
    assert!(rx.recv_timeout(WAIT).is_ok(), "dropping the server hangs");
}

#[test]
fn exec_tty_hands_the_terminal_over_and_returns_the_exit_code() {
    use super::exec_tty::attach;
    use std::io::Read;
    let l = lab();
    let _server = Server::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    l.node.apply(POD, std::path::Path::new("web.yaml")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    l.rt.0.lock().unwrap().exec_code.insert("main".into(), 7);
    let req = |name: &str| Request::ExecTty {
        name: name.into(),
        namespace: "default".into(),
        container: None,
        argv: vec!["sh".into()],
        rows: 33,
        cols: 101,
    };
    let session = attach(&state, &req("web")).unwrap();
    // The descriptor received is the runtime's terminal.
    let mut out = String::new();
    std::fs::File::from(session.master.try_clone().unwrap())
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "ran sh 33x101\r\n");
    assert_eq!(session.exit_code(), Ok(7));
    // Errors come back as errors, without a terminal.
    let e = attach(&state, &req("nope")).err().unwrap();
    assert!(e.contains("not found"), "{e}");
}

#[test]
fn a_server_whose_socket_was_removed_still_stops() {
    let l = lab();
    let server = Server::start(l.node.clone()).unwrap();
    std::fs::remove_file(server.path()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(server);
        let _ = tx.send(());
    });
    assert!(rx.recv_timeout(WAIT).is_ok(), "dropping the server hangs");
}

#[test]
fn services_round_trip_through_the_socket() {
    let l = lab();
    let _server = Server::start(l.node.clone()).unwrap();
    let state = l.node.config().state_dir.clone();
    // `kubectl create service clusterip web --tcp=80:8080 --dry-run=client -o yaml`
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: null\n  labels:\n    app: web\n  name: web\nspec:\n  ports:\n  - name: 80-8080\n    port: 80\n    protocol: TCP\n    targetPort: 8080\n  selector:\n    app: web\n  type: ClusterIP\nstatus:\n  loadBalancer: {}\n";
    let r = request(
        &state,
        &Request::Apply {
            file: "web.yaml".into(),
            text: svc.into(),
        },
    )
    .unwrap();
    assert_eq!(
        r,
        Reply::Messages {
            lines: vec!["service/web created".into()]
        }
    );
    let get = |name: Option<&str>, namespace: &str| {
        request(
            &state,
            &Request::GetServices {
                name: name.map(String::from),
                namespace: namespace.into(),
            },
        )
        .unwrap()
    };
    match get(None, "default") {
        Reply::Services {
            services,
            endpoints,
        } => {
            assert_eq!(services.len(), 1);
            assert_eq!(
                services[0].spec.as_ref().unwrap().cluster_ip.as_deref(),
                Some("10.96.0.1")
            );
            assert_eq!(endpoints[0].metadata.name.as_deref(), Some("web"));
            assert_eq!(endpoints[0].subsets, None, "no Pod matches");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(get(None, "other"), Reply::Services { services, .. } if services.is_empty()));
    assert!(
        matches!(get(Some("nope"), "default"), Reply::Error { message } if message.contains("not found"))
    );
    match request(
        &state,
        &Request::DescribeService {
            name: "web".into(),
            namespace: "default".into(),
        },
    )
    .unwrap()
    {
        Reply::Text { text } => {
            assert!(text.contains("IP:                10.96.0.1\n"), "{text}");
            assert!(
                text.contains("Port:              80-8080  80/TCP\n"),
                "{text}"
            );
            assert!(text.contains("Endpoints:         <none>\n"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    let r = request(
        &state,
        &Request::DeleteService {
            name: "web".into(),
            namespace: "default".into(),
        },
    )
    .unwrap();
    assert_eq!(
        r,
        Reply::Messages {
            lines: vec!["service \"web\" deleted".into()]
        }
    );
    assert!(
        matches!(get(None, "default"), Reply::Services { services, .. } if services.is_empty())
    );
}
