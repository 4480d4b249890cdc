//! The CLI's side of the socket.

use super::{Reply, Request, MAX_REPLY, SOCKET};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The state directory a node and its clients agree on when none is given:
/// `$KUBELAB_NODE_DIR`, else `$XDG_RUNTIME_DIR/kubelab-node`, else
/// `/tmp/kubelab-node-<uid>`.
pub fn default_state_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    if let Some(d) = std::env::var_os("KUBELAB_NODE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(d).join("kubelab-node");
    }
    // The server refuses a directory that is not ours and private.
    PathBuf::from(format!(
        "/tmp/kubelab-node-{}",
        rustix::process::geteuid().as_raw()
    ))
}

/// Sends `req` to the node serving `state_dir` and hands each reply to
/// `on_reply` until the final one (or until it returns false).
pub fn call(
    state_dir: &Path,
    req: &Request,
    on_reply: &mut dyn FnMut(Reply) -> bool,
) -> Result<(), String> {
    call_with(state_dir, req, None, on_reply)
}

fn call_with(
    state_dir: &Path,
    req: &Request,
    timeout: Option<Duration>,
    on_reply: &mut dyn FnMut(Reply) -> bool,
) -> Result<(), String> {
    let path = state_dir.join(SOCKET);
    let mut conn = UnixStream::connect(&path).map_err(|e| {
        format!(
            "cannot reach a node at {} ({e}); start one with `kubelab node` (same --state-dir)",
            path.display()
        )
    })?;
    conn.set_read_timeout(timeout)
        .and_then(|()| conn.set_write_timeout(timeout))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut line = serde_json::to_vec(req).map_err(|e| e.to_string())?;
    line.push(b'\n');
    conn.write_all(&line)
        .map_err(|e| format!("sending to the node: {e}"))?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut buf = Vec::new();
        (&mut reader)
            .take(MAX_REPLY as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("reading from the node: {e}"))?;
        if buf.is_empty() {
            return Err("the node closed the connection without an answer".into());
        }
        if buf.len() > MAX_REPLY {
            return Err("the node's answer is too large".into());
        }
        let reply: Reply =
            serde_json::from_slice(&buf).map_err(|e| format!("bad answer from the node: {e}"))?;
        let last = reply.is_final();
        if !on_reply(reply) || last {
            return Ok(());
        }
    }
}

/// One request, one final reply (every request but `logs`).
pub fn request(state_dir: &Path, req: &Request) -> Result<Reply, String> {
    request_with(state_dir, req, None)
}

/// [`request`], giving up when the node sends nothing for `timeout` (a
/// stopped node must not hold a caller that polls it).
pub fn request_timeout(
    state_dir: &Path,
    req: &Request,
    timeout: Duration,
) -> Result<Reply, String> {
    request_with(state_dir, req, Some(timeout))
}

fn request_with(
    state_dir: &Path,
    req: &Request,
    timeout: Option<Duration>,
) -> Result<Reply, String> {
    let mut out = None;
    call_with(state_dir, req, timeout, &mut |r| {
        out = Some(r);
        true
    })?;
    out.ok_or_else(|| "no answer from the node".into())
}
