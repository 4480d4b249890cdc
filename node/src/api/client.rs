//! The CLI's side of the socket.

use super::{Reply, Request, MAX_REPLY, SOCKET};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Sends `req` to the node serving `state_dir` and hands each reply to
/// `on_reply` until the final one (or until it returns false).
pub fn call(
    state_dir: &Path,
    req: &Request,
    on_reply: &mut dyn FnMut(Reply) -> bool,
) -> Result<(), String> {
    let path = state_dir.join(SOCKET);
    let mut conn = UnixStream::connect(&path).map_err(|e| {
        format!(
            "cannot reach a node at {} ({e}); start one with `kubelab node` (same --state-dir)",
            path.display()
        )
    })?;
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
    let mut out = None;
    call(state_dir, req, &mut |r| {
        out = Some(r);
        true
    })?;
    out.ok_or_else(|| "no answer from the node".into())
}
