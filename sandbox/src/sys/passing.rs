//! Descriptors passed between processes over unix sockets (SCM_RIGHTS): the
//! PTY master to the caller, cgroup files, a network namespace and detached
//! mounts between the supervisor and PID 1.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A connected pair of close-on-exec unix sockets for passing descriptors.
pub fn fd_socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(io::Error::from)
}

pub fn send_fd(sock: RawFd, fd: RawFd) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [io::IoSlice::new(b"F")];
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock, &iov, &cmsg, MsgFlags::empty(), None)
        .map(drop)
        .map_err(io::Error::from)
}

/// Receives one descriptor; None when the other side closed without sending.
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut buf = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(io::Error::from)?;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                // SAFETY: the kernel just installed this descriptor for us.
                return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
    }
    Ok(None)
}

/// Most descriptors one message carries: the kernel's SCM_MAX_FD (a `tasks`
/// file per v1 hierarchy, or an OCI image's layers as detached mounts).
pub const MAX_PASSED_FDS: usize = 253;

/// Sends one message (`data`, at least one byte) with `fds` attached as
/// SCM_RIGHTS (none: a plain message). MSG_NOSIGNAL: a peer that already
/// exited gives EPIPE instead of killing the sender.
pub fn send_with_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    if fds.len() > MAX_PASSED_FDS {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let iov = [io::IoSlice::new(data)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsg: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    sendmsg::<()>(sock, &iov, cmsg, MsgFlags::MSG_NOSIGNAL, None)
        .map(drop)
        .map_err(io::Error::from)
}

/// Receives one message into `buf` and the descriptors attached to it
/// (close-on-exec). `(0, [])`: the other side closed without sending.
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut space = nix::cmsg_space!([RawFd; MAX_PASSED_FDS]);
    let msg = loop {
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => break r.map_err(io::Error::from)?,
        }
    };
    let n = msg.bytes;
    let mut fds = Vec::new();
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::ScmRights(raw) = c {
            for fd in raw {
                // SAFETY: the kernel just installed these descriptors for us
                // and nothing else refers to them.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    Ok((n, fds))
}

#[cfg(test)]
mod passing_tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;

    #[test]
    fn several_descriptors_travel_in_one_message() {
        let (a, b) = fd_socketpair().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<std::fs::File> = (0..3)
            .map(|i| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .read(true)
                    .write(true)
                    .open(dir.path().join(format!("f{i}")))
                    .unwrap()
            })
            .collect();
        let raw: Vec<RawFd> = files.iter().map(|f| f.as_raw_fd()).collect();
        send_with_fds(a.as_raw_fd(), b"g", &raw).unwrap();
        send_with_fds(a.as_raw_fd(), b"ok", &[]).unwrap();
        let mut buf = [0u8; 8];
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], got.len()), (&b"g"[..], 3));
        // Each received descriptor is the same open file as the one sent.
        for (i, fd) in got.into_iter().enumerate() {
            std::fs::File::from(fd)
                .write_all(format!("{i}").as_bytes())
                .unwrap();
            let mut f = &files[i];
            f.rewind().unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            assert_eq!(s, i.to_string());
        }
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..n], got.len()), (&b"ok"[..], 0));
        drop(a);
        let (n, got) = recv_with_fds(b.as_fd(), &mut buf).unwrap();
        assert_eq!((n, got.len()), (0, 0), "EOF once the peer is gone");
    }

    #[test]
    fn sending_to_a_closed_peer_fails_instead_of_killing_us() {
        let (a, b) = fd_socketpair().unwrap();
        drop(b);
        let e = send_with_fds(a.as_raw_fd(), b"g", &[]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }
}
