//! The "u" step of a root-started spawn: the supervisor writes PID 1's id
//! maps and hands it the mounts it could not open as an unprivileged uid
//! ([`hand_over`]); PID 1 takes them and becomes its namespace's root
//! ([`receive`]). See [`crate::ns::idmap`] for why.

use super::protocol::InitConfig;
use crate::error::Error;
use crate::ns::idmap::{become_root, write_maps, IdMap};
use crate::rootfs::handed::{detached, Prepared};
use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Supervisor, right after cloning PID 1 into its new user namespace:
/// writes the maps, prepares the mounts PID 1 could not open as an
/// unprivileged uid (see the module doc) and sends them with "u" on `go`.
pub(crate) fn hand_over(
    cfg: &InitConfig,
    pid: libc::pid_t,
    map: &IdMap,
    go: BorrowedFd<'_>,
) -> Result<(), Error> {
    use crate::spec::Namespace;
    let e = |what: String| Error::new("namespaces.user", what);
    write_maps(pid, map).map_err(|err| {
        e(format!(
            "{err}: root's sandboxes map their ids to host ids {}..{} (uid) and {}..{} \
             (gid), which this user namespace may not hand out (inside a container?); \
             put a range it owns in /etc/subuid and /etc/subgid (`root:START:65536`), \
             or run kubelab as an ordinary user (rootless)",
            map.uid,
            map.uid as u64 + map.count as u64,
            map.gid,
            map.gid as u64 + map.count as u64
        ))
    })?;
    crate::trace::mark("supervisor: PID 1's id maps written");
    let fds = if cfg.spec.namespaces.contains(&Namespace::Mount) {
        let ns = fs::File::open(format!("/proc/{pid}/ns/user"))
            .map_err(|err| e(format!("/proc/{pid}/ns/user: {err}")))?;
        prepare(cfg, std::os::fd::AsFd::as_fd(&ns))?
    } else {
        Vec::new()
    };
    send(go, fds)
}

/// The detached mounts PID 1 attaches (lower layers, bind sources),
/// id-mapped through the user namespace `ns` where the filesystem allows.
/// Also used by a Pod container's root supervisor, with the Pod's user
/// namespace, before it joins it (see [`crate::pod`]).
pub(crate) fn prepare(cfg: &InitConfig, ns: BorrowedFd<'_>) -> Result<Vec<OwnedFd>, Error> {
    use crate::spec::{Mount, Rootfs};
    let mut fds: Vec<OwnedFd> = Vec::new();
    let lowers: Vec<std::path::PathBuf> = match &cfg.spec.rootfs {
        // The shared skeleton lives in the runtime dir, which only host
        // root may write: built here. None: PID 1 builds a private one.
        Rootfs::Host | Rootfs::Busybox => cfg
            .sandbox_dir
            .parent()
            .and_then(|rd| crate::rootfs::skeleton_cache(rd, &cfg.spec.rootfs, &cfg.id).ok())
            .into_iter()
            .collect(),
        Rootfs::Dir(d) => vec![d.clone()],
        Rootfs::Oci(_) => cfg.oci_layers.iter().rev().cloned().collect(),
    };
    let skeleton = matches!(cfg.spec.rootfs, Rootfs::Host | Rootfs::Busybox);
    for l in &lowers {
        let (fd, mapped) = detached(l, false, Some(ns))
            .map_err(|err| Error::new("rootfs", format!("{}: {err}", l.display())))?;
        if skeleton && !mapped {
            // A filesystem without id-mapped mounts: host root's
            // skeleton would be `nobody`'s inside (/root unreadable);
            // PID 1 builds a private one instead.
            crate::trace::mark("supervisor: skeleton not id-mappable here");
            continue;
        }
        fds.push(fd);
    }
    for m in &cfg.spec.mounts {
        if let Mount::Bind {
            source, readonly, ..
        } = m
        {
            // Writable binds stay un-mapped (see the module doc).
            let userns = readonly.then_some(ns);
            let (fd, _) = detached(source, true, userns).map_err(|err| {
                Error::new(
                    "mounts",
                    format!(
                        "bind source {}: {err}; create it or fix the path",
                        source.display()
                    ),
                )
            })?;
            fds.push(fd);
        }
    }
    Ok(fds)
}

/// Sends PID 1 its "u" with the prepared mounts.
pub(crate) fn send(go: BorrowedFd<'_>, fds: Vec<OwnedFd>) -> Result<(), Error> {
    if fds.len() > crate::sys::MAX_PASSED_FDS {
        return Err(Error::new(
            "rootfs",
            format!(
                "{} layers and bind mounts: at most {}",
                fds.len(),
                crate::sys::MAX_PASSED_FDS
            ),
        ));
    }
    let borrowed: Vec<BorrowedFd> = fds.iter().map(|f| f.as_fd()).collect();
    crate::sys::send_with_fds(go, b"u", &borrowed)
        .map_err(|err| Error::new("spawn", format!("hand over to PID 1: {err}")))?;
    crate::trace::mark("supervisor: PID 1's mounts handed over");
    Ok(())
}

/// PID 1 of a root-started sandbox: waits for the supervisor's "u" (maps
/// written, mounts prepared), becomes uid/gid 0 of its user namespace and
/// sorts the descriptors into a [`Prepared`].
pub(crate) fn receive(spec: &crate::spec::Spec, go: BorrowedFd<'_>) -> Result<Prepared, Error> {
    let mut b = [0u8; 1];
    let mut fds = match crate::sys::recv_with_fds(go, &mut b) {
        Ok((1, fds)) if b == *b"u" => fds,
        _ => return Err(Error::new("spawn", "the supervisor went away during setup")),
    };
    become_root().map_err(|e| Error::new("namespaces.user", format!("setresuid 0: {e}")))?;
    let binds = spec
        .mounts
        .iter()
        .filter(|m| matches!(m, crate::spec::Mount::Bind { .. }))
        .count()
        .min(fds.len());
    let binds_fds = fds.split_off(fds.len() - binds);
    Ok(Prepared {
        lowers: fds,
        binds: binds_fds,
    })
}
