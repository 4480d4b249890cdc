//! A recorded Kubernetes API on 127.0.0.1 for tests: it answers the real
//! kube-rs client (its HTTP, its query strings, its watch decoding) with
//! responses written in the format a real API server returns.
//!
//! Routes are tried in order; each answers once unless `repeat`, or closes
//! the connection (`close`). A watch request no route answers stays open
//! and silent, as a quiet watch does; any other unanswered request gets the
//! server's 404 Status. `stop` takes the whole server away mid-test.

use super::Target;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
    /// Substrings the query string must contain (`watch=true`, …).
    pub query: Vec<&'static str>,
    pub status: u16,
    pub body: String,
    pub repeat: bool,
    /// Close the connection instead of answering (a server that dies
    /// mid-request, a proxy that cuts a watch).
    pub close: bool,
}

impl Route {
    pub fn get(path: &str, body: &str) -> Route {
        Route {
            method: "GET",
            path: path.to_string(),
            query: Vec::new(),
            status: 200,
            body: body.to_string(),
            repeat: false,
            close: false,
        }
    }
    pub fn method(mut self, m: &'static str) -> Route {
        self.method = m;
        self
    }
    pub fn query(mut self, q: &'static str) -> Route {
        self.query.push(q);
        self
    }
    pub fn status(mut self, s: u16) -> Route {
        self.status = s;
        self
    }
    pub fn repeat(mut self) -> Route {
        self.repeat = true;
        self
    }
    pub fn close(mut self) -> Route {
        self.close = true;
        self
    }
}

/// A `Status` body as the API server sends with an error code.
pub fn status_body(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    })
    .to_string()
}

struct Shared {
    routes: Vec<(Route, bool)>,
    log: Vec<String>,
}

pub struct Server {
    pub addr: std::net::SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(routes: Vec<Route>) -> Server {
        Server::start_at("127.0.0.1:0".parse().unwrap(), routes).await
    }

    /// A server on `addr` (the address of one that was stopped: the
    /// cluster coming back).
    pub async fn start_at(addr: std::net::SocketAddr, routes: Vec<Route>) -> Server {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared {
            routes: routes.into_iter().map(|r| (r, false)).collect(),
            log: Vec::new(),
        }));
        let s = shared.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                conns.spawn(serve(sock, s.clone()));
            }
        });
        Server { addr, shared, task }
    }

    /// A target for the real client, over plain HTTP to this server,
    /// resolved from a kubeconfig as a learner's would be.
    pub async fn target(&self) -> Target {
        let kc = kube::config::Kubeconfig::from_yaml(&format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: recorded\n\
             clusters: [{{name: recorded, cluster: {{server: 'http://{}'}}}}]\n\
             contexts: [{{name: recorded, context: {{cluster: recorded, user: learner}}}}]\n\
             users: [{{name: learner, user: {{token: recorded-token}}}}]\n",
            self.addr
        ))
        .unwrap();
        Target::from_kubeconfig(kc, None, Vec::new()).await.unwrap()
    }

    /// The cluster goes away: the listener and every connection close
    /// (what the client sees is a refused connection from now on).
    pub async fn stop(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }

    /// Requests seen, as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().unwrap().log.clone()
    }

    /// Adds routes while the server runs (the next answers of a story).
    pub fn push(&self, r: Route) {
        self.shared.lock().unwrap().routes.push((r, false));
    }
}

async fn serve(mut sock: TcpStream, shared: Arc<Mutex<Shared>>) {
    loop {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("").to_string();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let found = {
            let mut s = shared.lock().unwrap();
            s.log.push(format!("{method} {target}"));
            let hit = s.routes.iter_mut().find(|(r, used)| {
                (r.repeat || !*used)
                    && r.method == method
                    && r.path == path
                    && r.query.iter().all(|q| query.contains(q))
            });
            hit.map(|(r, used)| {
                *used = true;
                r.clone()
            })
        };
        let (status, body) = match found {
            Some(r) if r.close => return,
            Some(r) => (r.status, r.body),
            None if query.contains("watch=true") => {
                // A quiet watch: hold the connection until the client goes.
                let _ = sock.read(&mut chunk).await;
                return;
            }
            None => (
                404,
                status_body(404, "NotFound", &format!("{path} not found")),
            ),
        };
        let resp = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}
