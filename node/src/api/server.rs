//! The node's side of the socket: one thread per connection (at most
//! [`MAX_CONNECTIONS`]), each answering one request.

use super::{Reply, Request, MAX_REQUEST, SOCKET};
use crate::agent::Node;
use crate::logs::{self, ReadOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::listen::Listening;
pub use super::listen::MAX_CONNECTIONS;
/// A client that sends nothing for this long is dropped.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `exec` (the client may ask for less).
pub const MAX_EXEC: Duration = Duration::from_secs(300);

/// A serving socket; dropping it stops accepting and removes the socket.
pub struct Server(Listening);

/// Creates the state directory (0700, ours) and binds its socket. A live
/// node already there is an error; a stale socket is replaced.
pub fn bind(state_dir: &Path) -> std::io::Result<(UnixListener, PathBuf)> {
    bind_socket(state_dir, SOCKET)
}

/// [`bind`] for the socket `name` in the state directory.
pub fn bind_socket(state_dir: &Path, name: &str) -> std::io::Result<(UnixListener, PathBuf)> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)?;
    let meta = std::fs::symlink_metadata(state_dir)?;
    // The directory must be ours and private, or another user could swap
    // the socket for theirs.
    let uid = rustix::process::geteuid().as_raw();
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} must be a directory owned by you with mode 0700; fix it (chmod 700) or choose another --state-dir",
                state_dir.display()
            ),
        ));
    }
    let path = state_dir.join(name);
    if std::fs::symlink_metadata(&path).is_ok() {
        if UnixStream::connect(&path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "a node is already running with {}; stop it or choose another --state-dir",
                    path.display()
                ),
            ));
        }
        std::fs::remove_file(&path)?;
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, path))
}

impl Server {
    /// Serves `node` on the socket in its state directory.
    pub fn start(node: Node) -> std::io::Result<Server> {
        let (listener, path) = bind(&node.config().state_dir)?;
        let busy = |conn: &mut UnixStream| {
            let _ = write_reply(
                conn,
                &Reply::Error {
                    message: "the node is busy; try again".into(),
                },
            );
        };
        Listening::start(listener, path, busy, move |conn, stop| {
            serve_one(&node, conn, stop)
        })
        .map(Server)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

pub(super) fn write_reply(w: &mut impl Write, r: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(r).map_err(std::io::Error::other)?;
    line.push(b'\n');
    w.write_all(&line)?;
    w.flush()
}

/// Reads one request line of at most [`MAX_REQUEST`] bytes.
pub fn read_request(conn: &UnixStream) -> Result<Request, String> {
    let mut line = Vec::new();
    BufReader::new(conn.take(MAX_REQUEST as u64 + 1))
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    if line.len() > MAX_REQUEST {
        return Err(format!("the request is larger than {MAX_REQUEST} bytes"));
    }
    if line.last() != Some(&b'\n') {
        return Err("the request must be one JSON line ending in a newline".into());
    }
    serde_json::from_slice(&line).map_err(|e| format!("bad request: {e}"))
}

fn serve_one(node: &Node, mut conn: UnixStream, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
    let req = match read_request(&conn) {
        Ok(r) => r,
        Err(message) => {
            let _ = write_reply(&mut conn, &Reply::Error { message });
            return;
        }
    };
    let reply = match req {
        Request::Logs {
            name,
            namespace,
            container,
            previous,
            follow,
            tail,
        } => {
            return logs_reply(
                node,
                &mut conn,
                stop,
                &namespace,
                &name,
                container.as_deref(),
                previous,
                follow,
                tail,
            );
        }
        Request::ExecTty {
            name,
            namespace,
            container,
            argv,
            rows,
            cols,
        } => {
            let started =
                node.exec_tty(&namespace, &name, container.as_deref(), &argv, (rows, cols));
            return super::exec_tty::serve(conn, stop, started);
        }
        other => answer(node, other),
    };
    let _ = write_reply(&mut conn, &reply);
}

/// The answer to every request but `logs`.
pub fn answer(node: &Node, req: Request) -> Reply {
    let err = |message: String| Reply::Error { message };
    match req {
        Request::Apply { file, text } => match node.apply(&text, Path::new(&file)) {
            Ok(lines) => Reply::Messages { lines },
            Err(e) => err(e),
        },
        Request::Get {
            name: None,
            namespace,
        } => Reply::Pods {
            pods: node
                .pods()
                .into_iter()
                .filter(|p| p.metadata.namespace.as_deref() == Some(namespace.as_str()))
                .collect(),
        },
        Request::Get {
            name: Some(name),
            namespace,
        } => match node.pod(&namespace, &name) {
            Ok((pod, _)) => Reply::Pods { pods: vec![pod] },
            Err(e) => err(e),
        },
        Request::Describe { name, namespace } => match node.pod(&namespace, &name) {
            Ok((pod, events)) => Reply::Text {
                text: crate::agent::describe::describe_with_devices(
                    &pod,
                    &events,
                    &node.pod_devices(pod.metadata.uid.as_deref().unwrap_or_default()),
                    crate::agent::now_utc(),
                ),
            },
            Err(e) => err(e),
        },
        Request::Exec {
            name,
            namespace,
            container,
            argv,
            timeout_secs,
        } => {
            let timeout = timeout_secs
                .map(Duration::from_secs)
                .unwrap_or(MAX_EXEC)
                .min(MAX_EXEC);
            match node.exec(&namespace, &name, container.as_deref(), &argv, timeout) {
                Ok((exit_code, out, errout)) => Reply::Exec {
                    exit_code,
                    stdout: String::from_utf8_lossy(&out).into_owned(),
                    stderr: String::from_utf8_lossy(&errout).into_owned(),
                },
                Err(e) => err(e),
            }
        }
        Request::Delete {
            name,
            namespace,
            grace_seconds,
        } => match node.delete(&namespace, &name, grace_seconds) {
            Ok(line) => Reply::Messages { lines: vec![line] },
            Err(e) => err(e),
        },
        Request::Top {} => Reply::Top {
            rows: super::top::rows(node),
        },
        Request::Inspect {
            namespace,
            selected,
        } => {
            let selected = selected
                .as_ref()
                .map(|p| (p.namespace.as_str(), p.name.as_str()));
            let (pods, truncated, detail) =
                super::inspect::inspect(node, namespace.as_deref(), selected);
            Reply::Inspect {
                pods,
                truncated,
                detail,
            }
        }
        Request::GetServices { name, namespace } => {
            let pairs = node.services_with_endpoints();
            let (services, endpoints): (Vec<_>, Vec<_>) = pairs
                .into_iter()
                .filter(|(s, _)| {
                    s.metadata.namespace.as_deref() == Some(namespace.as_str())
                        && name
                            .as_ref()
                            .is_none_or(|n| s.metadata.name.as_ref() == Some(n))
                })
                .unzip();
            match (&name, services.is_empty()) {
                (Some(n), true) => err(format!("services {n:?} not found")),
                _ => Reply::Services {
                    services,
                    endpoints,
                },
            }
        }
        Request::DescribeService { name, namespace } => {
            match node.services_with_endpoints().into_iter().find(|(s, _)| {
                s.metadata.namespace.as_deref() == Some(namespace.as_str())
                    && s.metadata.name.as_deref() == Some(name.as_str())
            }) {
                Some((svc, ep)) => Reply::Text {
                    text: crate::service::printer::describe(&svc, Some(&ep)),
                },
                None => err(format!("services {name:?} not found")),
            }
        }
        Request::DeleteService { name, namespace } => {
            match node.delete_service(&namespace, &name) {
                Ok(line) => Reply::Messages { lines: vec![line] },
                Err(e) => err(e),
            }
        }
        Request::Logs { .. } => err("logs are streamed".into()),
        Request::ExecTty { .. } => err("exec -it holds its connection".into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn logs_reply(
    node: &Node,
    conn: &mut UnixStream,
    stop: &AtomicBool,
    namespace: &str,
    name: &str,
    container: Option<&str>,
    previous: bool,
    follow: bool,
    tail: Option<usize>,
) {
    let (path, running) = match node.log_file(namespace, name, container, previous) {
        Ok(x) => x,
        Err(message) => {
            let _ = write_reply(conn, &Reply::Error { message });
            return;
        }
    };
    let opts = ReadOptions { tail, since: None };
    let data = |r: &logs::LogRecord| String::from_utf8_lossy(&r.render(false)).into_owned();
    if follow && running {
        let mut keep = || {
            !stop.load(Ordering::SeqCst) && node.still_writing(namespace, name, container, &path)
        };
        let mut on = |r: logs::LogRecord| write_reply(conn, &Reply::Log { data: data(&r) }).is_ok();
        // Reading stops when the client goes (a failed write).
        let end = logs::follow(&path, &opts, Duration::from_millis(200), &mut keep, &mut on);
        let last = match end {
            Ok(_) => Reply::End {},
            Err(e) => Reply::Error {
                message: format!("reading the log: {e}"),
            },
        };
        let _ = write_reply(conn, &last);
        return;
    }
    match logs::read_log(&path, &opts) {
        Ok(read) => {
            // One reply per record keeps every line bounded.
            for r in &read.records {
                if write_reply(conn, &Reply::Log { data: data(r) }).is_err() {
                    return;
                }
            }
            let _ = write_reply(conn, &Reply::End {});
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = write_reply(conn, &Reply::End {});
        }
        Err(e) => {
            let _ = write_reply(
                conn,
                &Reply::Error {
                    message: format!("reading the log {}: {e}", path.display()),
                },
            );
        }
    }
}
