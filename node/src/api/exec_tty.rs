//! `exec -it` over the socket: the node starts the command on a PTY in the
//! container and hands the PTY's master end to the client with SCM_RIGHTS
//! (client and node are the same user on the same host: the socket is
//! 0600 in a 0700 directory). The client then relays its own terminal to
//! the master directly — keystrokes, output and window size need no
//! protocol of ours — and the node only waits for the exit code, killing
//! the command if the client goes away first.

use super::server::write_reply;
use super::{Reply, Request, MAX_REPLY, SOCKET};
use crate::runtime::TtyExec;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{BufRead, BufReader, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often the node looks at the command and the client.
const POLL: Duration = Duration::from_millis(50);

/// The node's side, after `Node::exec_tty`.
pub(super) fn serve(
    mut conn: UnixStream,
    stop: &AtomicBool,
    started: Result<Box<dyn TtyExec>, String>,
) {
    let mut process = match started {
        Ok(p) => p,
        Err(message) => {
            let _ = write_reply(&mut conn, &Reply::Error { message });
            return;
        }
    };
    let Some(master) = process.take_master() else {
        let _ = process.kill();
        let message = "the runtime gave no terminal".to_string();
        let _ = write_reply(&mut conn, &Reply::Error { message });
        return;
    };
    if let Err(e) = send_attached(&conn, &master) {
        let _ = process.kill();
        let _ = write_reply(&mut conn, &Reply::Error { message: e });
        return;
    }
    // Only the client holds the terminal now: when the command and its
    // children end, the client's reads of the master end too.
    drop(master);
    let gone = Arc::new(AtomicBool::new(false));
    if let Ok(mut peer) = conn.try_clone() {
        let gone = gone.clone();
        std::thread::spawn(move || {
            // The client sends nothing more; EOF (or an error other than
            // the idle timeout) means it went away.
            let mut byte = [0u8; 1];
            loop {
                match peer.read(&mut byte) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
                    Err(_) => break,
                }
            }
            gone.store(true, Ordering::SeqCst);
        });
    }
    let exit_code = loop {
        match process.try_wait() {
            Ok(Some(code)) => break code,
            Ok(None) => {}
            Err(_) => break process.kill().unwrap_or(137),
        }
        if gone.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
            let _ = process.kill();
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
        std::thread::sleep(POLL);
    };
    let _ = write_reply(&mut conn, &Reply::Exited { exit_code });
    // Ends the watching thread's read too, whatever the client does.
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// `{"kind":"attached"}\n` with the master end as ancillary data.
fn send_attached(conn: &UnixStream, master: &OwnedFd) -> Result<(), String> {
    let mut line = serde_json::to_vec(&Reply::Attached {}).map_err(|e| e.to_string())?;
    line.push(b'\n');
    let fds = [master.as_fd()];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err("no room for the terminal's descriptor".into());
    }
    let sent = rustix::net::sendmsg(
        conn,
        &[IoSlice::new(&line)],
        &mut control,
        SendFlags::empty(),
    )
    .map_err(|e| format!("handing the terminal to the client: {e}"))?;
    if sent != line.len() {
        return Err("handing the terminal to the client: short write".into());
    }
    Ok(())
}

/// The client's side: an attached session.
pub struct Attached {
    /// The PTY's master end in the container: relay a terminal to it.
    pub master: OwnedFd,
    conn: BufReader<UnixStream>,
}

impl Attached {
    /// Waits for the command's exit code (after the master's end of file).
    pub fn exit_code(mut self) -> Result<i32, String> {
        let mut buf = Vec::new();
        (&mut self.conn)
            .take(MAX_REPLY as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("reading from the node: {e}"))?;
        match serde_json::from_slice::<Reply>(&buf) {
            Ok(Reply::Exited { exit_code }) => Ok(exit_code),
            Ok(Reply::Error { message }) => Err(message),
            Ok(other) => Err(format!("unexpected answer from the node: {other:?}")),
            Err(_) if buf.is_empty() => {
                Err("the node closed the connection before the exit code".into())
            }
            Err(e) => Err(format!("bad answer from the node: {e}")),
        }
    }
}

/// Sends an [`Request::ExecTty`] and receives the terminal.
pub fn attach(state_dir: &Path, req: &Request) -> Result<Attached, String> {
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
    // The first answer is one line, read byte-exact so that nothing after it
    // is consumed; the descriptor comes with its first byte.
    let mut first = Vec::new();
    let mut master = None;
    loop {
        let mut byte = [0u8; 1];
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let got = rustix::net::recvmsg(
            &conn,
            &mut [IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .map_err(|e| format!("reading from the node: {e}"))?;
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = msg {
                for fd in fds {
                    // Any descriptor past the first is dropped (closed).
                    master.get_or_insert(fd);
                }
            }
        }
        if got.bytes == 0 {
            return Err("the node closed the connection without an answer".into());
        }
        if byte[0] == b'\n' {
            break;
        }
        first.push(byte[0]);
        if first.len() > MAX_REPLY {
            return Err("the node's answer is too large".into());
        }
    }
    match serde_json::from_slice::<Reply>(&first) {
        Ok(Reply::Attached {}) => {}
        Ok(Reply::Error { message }) => return Err(message),
        Ok(other) => return Err(format!("unexpected answer from the node: {other:?}")),
        Err(e) => return Err(format!("bad answer from the node: {e}")),
    }
    let master = master.ok_or("the node sent no terminal")?;
    Ok(Attached {
        master,
        conn: BufReader::new(conn),
    })
}
