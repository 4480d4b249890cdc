//! Descriptors passed between processes over unix sockets (SCM_RIGHTS): the
//! PTY master to the caller, cgroup files, a network namespace and detached
//! mounts between the supervisor and PID 1.

use rustix::net::{
    recvmsg, sendmsg, AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags,
    SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd};

/// A connected pair of close-on-exec unix sockets for passing descriptors.
pub fn fd_socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(io::Error::from)
}

pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut cmsg = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    cmsg.push(SendAncillaryMessage::ScmRights(&fds));
    sendmsg(
        sock,
        &[io::IoSlice::new(b"F")],
        &mut cmsg,
        SendFlags::empty(),
    )
    .map(drop)
    .map_err(io::Error::from)
}

/// Receives one descriptor; None when the other side closed without sending.
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    let mut buf = [0u8; 1];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut cmsg = RecvAncillaryBuffer::new(&mut space);
    recvmsg(
        sock,
        &mut [io::IoSliceMut::new(&mut buf)],
        &mut cmsg,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    for m in cmsg.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = m {
            if let Some(fd) = fds.next() {
                return Ok(Some(fd));
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
pub fn send_with_fds(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    if fds.len() > MAX_PASSED_FDS {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_PASSED_FDS))];
    let mut cmsg = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !cmsg.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::from_raw_os_error(libc::E2BIG));
    }
    sendmsg(
        sock,
        &[io::IoSlice::new(data)],
        &mut cmsg,
        SendFlags::NOSIGNAL,
    )
    .map(drop)
    .map_err(io::Error::from)
}

/// Receives one message into `buf` and the descriptors attached to it
/// (close-on-exec). `(0, [])`: the other side closed without sending.
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_PASSED_FDS))];
    let mut cmsg = RecvAncillaryBuffer::new(&mut space);
    let msg = loop {
        match recvmsg(
            sock,
            &mut [io::IoSliceMut::new(buf)],
            &mut cmsg,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            r => break r?,
        }
    };
    let mut fds = Vec::new();
    for m in cmsg.drain() {
        if let RecvAncillaryMessage::ScmRights(got) = m {
            fds.extend(got);
        }
    }
    Ok((msg.bytes, fds))
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
        let raw: Vec<BorrowedFd> = files.iter().map(|f| f.as_fd()).collect();
        send_with_fds(a.as_fd(), b"g", &raw).unwrap();
        send_with_fds(a.as_fd(), b"ok", &[]).unwrap();
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
        let e = send_with_fds(a.as_fd(), b"g", &[]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }
}
