//! The node's Prometheus endpoint: `GET /metrics` over HTTP/1.1 on
//! `metrics.sock` in the state directory (mode 0600 in the 0700 directory,
//! as `node.sock`), answering the cAdvisor-named families of
//! [`crate::metrics`] for every running container, read from its cgroup.
//!
//! One request per connection (`Connection: close`), the request head at
//! most [`MAX_HEAD`] bytes, at most [`super::server::MAX_CONNECTIONS`]
//! served at once (more get `503`), an idle client dropped after
//! [`super::server::IO_TIMEOUT`] — the API socket's bounds.

use super::listen::Listening;
use super::server::{bind_socket, IO_TIMEOUT};
use crate::agent::{Node, RunningContainer};
use crate::metrics::{render, ContainerLabels, ContainerSample, CONTENT_TYPE};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// The socket's file name in the state directory.
pub const METRICS_SOCKET: &str = "metrics.sock";
/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;

/// A serving metrics socket; dropping it stops accepting and removes it.
pub struct MetricsServer(Listening);

impl MetricsServer {
    /// Serves `node`'s metrics on `metrics.sock` in its state directory
    /// (after [`super::server::Server::start`], which checks the directory).
    pub fn start(node: Node) -> std::io::Result<MetricsServer> {
        let (listener, path) = bind_socket(&node.config().state_dir, METRICS_SOCKET)?;
        let busy = |conn: &mut UnixStream| {
            let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
            let _ = respond(conn, 503, "the node is busy; try again\n", &[], true);
        };
        Listening::start(listener, path, busy, move |conn, _stop| {
            serve_one(&node, conn)
        })
        .map(MetricsServer)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

fn serve_one(node: &Node, mut conn: UnixStream) {
    let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
    let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
    let head = match read_head(&mut conn) {
        Ok(h) => h,
        Err((status, why)) => {
            let _ = respond(&mut conn, status, &format!("{why}\n"), &[], true);
            return;
        }
    };
    let (status, body, extra, with_body): (u16, String, &[(&str, &str)], bool) = match route(&head)
    {
        Route::Metrics { head_only } => (200, scrape(node), &[], !head_only),
        Route::NotFound => (404, "only /metrics is served here\n".into(), &[], true),
        Route::Method => (
            405,
            "only GET and HEAD\n".into(),
            &[("Allow", "GET, HEAD")],
            true,
        ),
        Route::Bad(why) => (400, format!("{why}\n"), &[], true),
    };
    let _ = respond(&mut conn, status, &body, extra, with_body);
    close_gently(conn);
}

/// Ends the answer with a FIN and reads (boundedly) what the client still
/// sends, so that unread bytes do not turn the close into a reset that
/// could discard the answer on the client's side.
fn close_gently(mut conn: UnixStream) {
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(1)));
    let mut left = 64 * 1024usize;
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = conn.read(&mut buf) {
        left = left.saturating_sub(n);
        if left == 0 {
            break;
        }
    }
}

/// Reads up to the blank line that ends the request head.
fn read_head(conn: &mut UnixStream) -> Result<String, (u16, String)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() > MAX_HEAD {
            return Err((431, format!("the request head is over {MAX_HEAD} bytes")));
        }
        match conn.read(&mut buf) {
            Ok(0) => return Err((400, "the request ended before its blank line".into())),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err((408, format!("reading the request: {e}"))),
        }
    }
    String::from_utf8(head).map_err(|_| (400, "the request head is not UTF-8".to_string()))
}

#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics { head_only: bool },
    NotFound,
    Method,
    Bad(&'static str),
}

fn route(head: &str) -> Route {
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::Bad("the request line must be `METHOD /path HTTP/1.1`");
    };
    if !version.starts_with("HTTP/1.") {
        return Route::Bad("only HTTP/1.x is spoken here");
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Route::Method,
    };
    let path = target.split('?').next().unwrap_or_default();
    if path == "/metrics" {
        Route::Metrics { head_only }
    } else {
        Route::NotFound
    }
}

fn respond(
    conn: &mut UnixStream,
    status: u16,
    body: &str,
    extra: &[(&str, &str)],
    with_body: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let content_type = if status == 200 {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    if with_body {
        out.push_str(body);
    }
    conn.write_all(out.as_bytes())?;
    conn.flush()
}

/// The exposition of every running container that has cgroups.
pub fn scrape(node: &Node) -> String {
    let samples: Vec<ContainerSample> = node
        .running_containers()
        .iter()
        .filter_map(sample)
        .collect();
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .ok();
    render(&samples, now_ms)
}

/// One container's sample: its cgroup is `<pod cgroup>/<container name>`
/// in every hierarchy (a rootless node's Pods have none: no sample).
fn sample(c: &RunningContainer) -> Option<ContainerSample> {
    let dirs: Vec<PathBuf> = c
        .pod_cgroup_dirs
        .iter()
        .map(|d| d.join(&c.container))
        .collect();
    // Gone already (the container is ending): nothing to read.
    if !dirs.iter().all(|d| d.is_dir()) {
        return None;
    }
    let stats = super::top::read(&dirs)?;
    Some(ContainerSample {
        labels: ContainerLabels {
            container: c.container.clone(),
            pod: c.pod.clone(),
            namespace: c.namespace.clone(),
            id: dirs.first().map(|d| cgroup_id(d)).unwrap_or_default(),
            name: c.id.clone(),
            image: c.image.clone(),
        },
        stats,
        start_time_seconds: Some(c.started_at.0.timestamp_millis() as f64 / 1000.0),
    })
}

/// cAdvisor's `id`: the cgroup's path from its hierarchy's root, here from
/// kubelab's subtree (`/kubelab/node-N/kubepods/…/<container>`).
fn cgroup_id(dir: &Path) -> String {
    let parts: Vec<_> = dir
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let from = parts.iter().position(|p| p == "kubelab").unwrap_or(0);
    format!("/{}", parts[from..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics { head_only: false }
        );
        assert_eq!(
            route("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Route::Metrics { head_only: true }
        );
        assert_eq!(route("GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(route("POST /metrics HTTP/1.1\r\n\r\n"), Route::Method);
        assert!(matches!(route("GET /metrics\r\n\r\n"), Route::Bad(_)));
        assert!(matches!(
            route("GET /metrics HTTP/2\r\n\r\n"),
            Route::Bad(_)
        ));
    }

    #[test]
    fn cgroup_ids_start_at_kubelabs_subtree() {
        assert_eq!(
            cgroup_id(Path::new(
                "/sys/fs/cgroup/cpu,cpuacct/kubelab/node-a/kubepods/besteffort/podU/web"
            )),
            "/kubelab/node-a/kubepods/besteffort/podU/web"
        );
        assert_eq!(
            cgroup_id(Path::new("/sys/fs/cgroup/kubelab/node-a/kubepods/podU/web")),
            "/kubelab/node-a/kubepods/podU/web"
        );
    }
}
