//! The kubelet's network probes (`pkg/probe/tcp`, `pkg/probe/http`): a TCP
//! connect, or an HTTP/1.1 GET whose status 200–399 is success, each within
//! one deadline for resolving, connecting, sending and reading. Pure std;
//! which namespace it runs in is the caller's choice ([`super::NodeNetns::check`]).
//!
//! Redirects are not followed: a 3xx answer is already success, as the
//! kubelet counts a redirect to another host. Only the status line and the
//! headers are read, at most [`MAX_HEAD`] bytes.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Most bytes of an HTTP answer's head read.
pub const MAX_HEAD: usize = 16 * 1024;
/// The kubelet's User-Agent (`kube-probe/<major>.<minor>`).
const USER_AGENT: &str = "kube-probe/1.34";

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetCheck {
    /// `tcpSocket`: success when a connection is accepted.
    Tcp { host: String, port: u16 },
    /// `httpGet` with scheme HTTP.
    Http {
        host: String,
        port: u16,
        path: String,
        /// `httpHeaders`, in order; a `Host` header replaces the default.
        headers: Vec<(String, String)>,
    },
}

/// A check's result, with the kubelet's wording on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub success: bool,
    pub message: String,
    /// The HTTP status, when an answer came (a lifecycle hook's GET counts
    /// any answer, as the kubelet's does).
    #[serde(default)]
    pub status: Option<u16>,
}

fn fail(message: String) -> CheckOutcome {
    CheckOutcome {
        success: false,
        message,
        status: None,
    }
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, String> {
    let target = host_port(host, port);
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("dial tcp {target}: lookup {host}: {e}"))?
        .collect();
    let mut last = format!("dial tcp {target}: no address");
    for addr in addrs {
        let Some(t) = left(deadline) else {
            return Err(format!("dial tcp {target}: i/o timeout"));
        };
        match TcpStream::connect_timeout(&addr, t) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(format!("dial tcp {addr}: i/o timeout"))
            }
            Err(e) => last = format!("dial tcp {addr}: connect: {}", short(&e)),
        }
    }
    Err(last)
}

/// The error text without Rust's " (os error N)".
fn short(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s.to_lowercase(),
    }
}

/// Runs `check` within `timeout`.
pub fn run(check: &NetCheck, timeout: Duration) -> CheckOutcome {
    let deadline = Instant::now() + timeout;
    match check {
        NetCheck::Tcp { host, port } => match connect(host, *port, deadline) {
            Ok(_) => CheckOutcome {
                success: true,
                message: String::new(),
                status: None,
            },
            Err(e) => fail(e),
        },
        NetCheck::Http {
            host,
            port,
            path,
            headers,
        } => http_get(host, *port, path, headers, deadline),
    }
}

/// A request-target or header piece must not break the request's framing.
fn valid_field(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f)
}

fn valid_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The request bytes, or why it cannot be sent.
pub fn request(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if host.is_empty() || !valid_field(host) || host.contains([' ', '\t', '/']) {
        return Err(format!("host {host:?}: not a host name or address"));
    }
    if !valid_field(&path) || path.contains(' ') {
        return Err(format!(
            "path {path:?}: spaces and control characters are not allowed"
        ));
    }
    let mut host_header = host_port(host, port);
    let mut extra = String::new();
    for (name, value) in headers {
        if !valid_header_name(name) || !valid_field(value) {
            return Err(format!("header {name:?}: not a valid HTTP header"));
        }
        if name.eq_ignore_ascii_case("host") {
            host_header = value.clone();
        } else {
            extra.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let has = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host_header}\r\n");
    if !has("user-agent") {
        req.push_str(&format!("User-Agent: {USER_AGENT}\r\n"));
    }
    if !has("accept") {
        req.push_str("Accept: */*\r\n");
    }
    req.push_str(&extra);
    req.push_str("Connection: close\r\n\r\n");
    Ok(req.into_bytes())
}

/// The status code of an HTTP/1.x status line.
pub fn status_code(head: &[u8]) -> Option<u16> {
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

fn http_get(
    host: &str,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    deadline: Instant,
) -> CheckOutcome {
    let url = format!("http://{}{}", host_port(host, port), path);
    let timed_out = || {
        fail(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        ))
    };
    let req = match request(host, port, path, headers) {
        Ok(r) => r,
        Err(e) => return fail(format!("Get {url:?}: {e}")),
    };
    let mut stream = match connect(host, port, deadline) {
        Ok(s) => s,
        Err(e) => return fail(format!("Get {url:?}: {e}")),
    };
    let Some(t) = left(deadline) else {
        return timed_out();
    };
    if stream.set_write_timeout(Some(t)).is_err() || stream.write_all(&req).is_err() {
        return fail(format!(
            "Get {url:?}: the connection was closed while sending"
        ));
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() >= MAX_HEAD {
            break;
        }
        let Some(t) = left(deadline) else {
            return timed_out();
        };
        let _ = stream.set_read_timeout(Some(t));
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n.min(MAX_HEAD - head.len())]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return timed_out()
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return fail(format!("Get {url:?}: read: {}", short(&e))),
        }
    }
    match status_code(&head) {
        Some(code) => CheckOutcome {
            success: (200..400).contains(&code),
            message: if (200..400).contains(&code) {
                format!("HTTP probe succeeded with statuscode: {code}")
            } else {
                format!("HTTP probe failed with statuscode: {code}")
            },
            status: Some(code),
        },
        None if head.is_empty() => fail(format!("Get {url:?}: EOF")),
        None => fail(format!("Get {url:?}: malformed HTTP response")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server answering `answer` after reading the request head;
    /// returns its port and a handle giving back what it read.
    fn serve(answer: &'static [u8]) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            let mut b = [0u8; 1024];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut b).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&b[..n]);
            }
            if !answer.is_empty() {
                s.write_all(answer).unwrap();
            }
            got
        });
        (port, t)
    }

    fn http(port: u16, headers: Vec<(String, String)>, timeout_ms: u64) -> CheckOutcome {
        let c = NetCheck::Http {
            host: "127.0.0.1".into(),
            port,
            path: "/healthz".into(),
            headers,
        };
        run(&c, Duration::from_millis(timeout_ms))
    }

    #[test]
    fn http_success_is_200_to_399_and_sends_the_kubelets_request() {
        let (port, t) = serve(b"HTTP/1.1 204 No Content\r\n\r\n");
        let o = http(port, vec![("X-Probe".into(), "1".into())], 5000);
        assert!(o.success, "{o:?}");
        let req = String::from_utf8(t.join().unwrap()).unwrap();
        assert!(req.starts_with("GET /healthz HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{req}"
        );
        assert!(req.contains("User-Agent: kube-probe/"), "{req}");
        assert!(req.contains("X-Probe: 1\r\n"), "{req}");
        let (port, _t) = serve(b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n");
        assert!(http(port, vec![], 5000).success);
    }

    #[test]
    fn http_failures_say_why() {
        let (port, _t) = serve(b"HTTP/1.1 500 Internal Server Error\r\n\r\n");
        let o = http(port, vec![], 5000);
        assert!(!o.success);
        assert_eq!(o.message, "HTTP probe failed with statuscode: 500");
        assert_eq!(o.status, Some(500));
        let (port, _t) = serve(b"SSH-2.0-OpenSSH\r\n\r\n");
        assert!(http(port, vec![], 5000).message.contains("malformed"));
        // A server that never answers: the timeout is honoured.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let started = Instant::now();
        let o = http(port, vec![], 300);
        assert!(!o.success && o.message.contains("deadline"), "{o:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        drop(l);
    }

    #[test]
    fn header_injection_is_refused() {
        for (n, v) in [("X-A", "1\r\nEvil: yes"), ("X A", "1"), ("", "1")] {
            let e = request("h", 80, "/", &[(n.into(), v.into())]).unwrap_err();
            assert!(e.contains("not a valid HTTP header"), "{e}");
        }
        assert!(request("h", 80, "/a b", &[]).is_err());
        assert!(request("h\r\nX: y", 80, "/", &[]).is_err());
        assert!(request("", 80, "/", &[]).is_err());
        assert!(request("h", 80, "/a\r\nX: y", &[]).is_err());
        let r =
            String::from_utf8(request("::1", 8080, "x", &[("Host".into(), "web".into())]).unwrap())
                .unwrap();
        assert!(r.starts_with("GET /x HTTP/1.1\r\nHost: web\r\n"), "{r}");
    }

    #[test]
    fn tcp_connects_or_says_refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let ok = run(
            &NetCheck::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            Duration::from_secs(2),
        );
        assert!(ok.success, "{ok:?}");
        drop(l);
        let o = run(
            &NetCheck::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            Duration::from_secs(2),
        );
        assert!(!o.success);
        assert!(o.message.contains("connection refused"), "{o:?}");
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(status_code(b"HTTP/1.1 200\r\n"), Some(200));
        assert_eq!(status_code(b"HTTP/2 200\r\n"), None);
        assert_eq!(status_code(b"HTTP/1.1 2000 OK\r\n"), None);
        assert_eq!(status_code(b"HTTP/1.1 200 OK"), None);
    }
}
