//! A TCP port inside a holder's network namespace forwarded to a Unix
//! socket on the host's filesystem: how a node serves its `metrics.sock`
//! on an address Pods reach (the kubelet's read-only port 10255, where a
//! Prometheus Pod scrapes). The helper (`FORWARD_ARG <pid> <port>
//! <socket>`) joins the holder's namespaces, listens on `0.0.0.0:<port>`
//! there (so on the bridge's address once the bridge has one), prints
//! `ready`, and copies each connection to a fresh connection to the socket
//! until its stdin, a pipe from the caller, closes: it ends with the node
//! however the node ends.
//!
//! Bounds: at most [`MAX_CONNECTIONS`] at once (more are closed at once),
//! each direction idle at most [`IO_TIMEOUT`], at most [`MAX_BYTES`] each
//! way. A Pod reaches nothing else through it: the socket path is fixed by
//! the caller.

use super::FORWARD_ARG;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Longest a connection may stay idle in either direction.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes copied each way per connection.
pub const MAX_BYTES: u64 = 64 << 20;

const READY: &str = "ready";

/// A running forwarder; dropping it stops it.
#[derive(Debug)]
pub struct Forwarder {
    child: Child,
    lifeline: Option<ChildStdin>,
}

impl Forwarder {
    /// Starts `helper_exe FORWARD_ARG <holder> <port> <socket>` and waits
    /// until it listens.
    pub fn start(
        helper_exe: &Path,
        holder_pid: u32,
        port: u16,
        socket: &Path,
    ) -> io::Result<Forwarder> {
        let mut child = Command::new(helper_exe)
            .arg(FORWARD_ARG)
            .arg(holder_pid.to_string())
            .arg(port.to_string())
            .arg(socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir("/")
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("start the port forwarder: {e}")))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out.take(64)).read_line(&mut line);
        }
        let mut f = Forwarder {
            lifeline: child.stdin.take(),
            child,
        };
        if line.trim_end() != READY {
            let mut err = String::new();
            if let Some(e) = f.child.stderr.take() {
                let _ = e.take(1024).read_to_string(&mut err);
            }
            drop(f);
            let err: String = err
                .trim()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(io::Error::other(format!(
                "the port forwarder failed: {}",
                if err.is_empty() {
                    "it exited without a word"
                } else {
                    &err
                }
            )));
        }
        f.child.stderr.take();
        Ok(f)
    }

    /// The helper's host PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The helper (argv: `FORWARD_ARG <pid> <port> <socket>`); its exit code.
pub(crate) fn forward_main() -> i32 {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let [pid, port, socket] = args.as_slice() else {
        eprintln!("usage: {FORWARD_ARG} <pid> <port> <socket>");
        return 125;
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("kubelab: {port:?} is not a port");
        return 125;
    };
    // Single-threaded until here: setns into a user namespace needs it.
    if let Err(e) = super::enter::join(pid) {
        eprintln!("kubelab: {e}");
        return 125;
    }
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kubelab: listen on port {port} in the node's network namespace: {e}");
            return 1;
        }
    };
    println!("{READY}");
    let _ = io::stdout().flush();
    // The lifeline: EOF on stdin (the caller closed it, or died) ends us.
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        let mut stdin = io::stdin();
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
    let socket = PathBuf::from(socket);
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let (active, socket) = (active.clone(), socket.clone());
        std::thread::spawn(move || {
            let _ = relay(conn, &socket);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    0
}

/// Copies `tcp` to a new connection to `socket` and back, until both
/// directions ended, one failed, or idled past [`IO_TIMEOUT`].
fn relay(tcp: TcpStream, socket: &Path) -> io::Result<()> {
    let unix = UnixStream::connect(socket)?;
    let t = Some(IO_TIMEOUT);
    tcp.set_read_timeout(t)?;
    tcp.set_write_timeout(t)?;
    unix.set_read_timeout(t)?;
    unix.set_write_timeout(t)?;
    let (mut tcp_r, mut unix_w) = (tcp.try_clone()?, unix.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = io::copy(&mut (&mut tcp_r).take(MAX_BYTES), &mut unix_w);
        let _ = rustix::net::shutdown(unix_w.as_fd(), rustix::net::Shutdown::Write);
    });
    let (mut unix_r, mut tcp_w) = (unix, tcp);
    let _ = io::copy(&mut (&mut unix_r).take(MAX_BYTES), &mut tcp_w);
    let _ = tcp_w.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}
