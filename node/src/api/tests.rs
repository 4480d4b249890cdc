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
