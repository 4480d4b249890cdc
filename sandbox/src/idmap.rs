//! The user-namespace id mapping of a sandbox started by root.
//!
//! Rootless, the supervisor maps sandbox uid 0 to the caller's uid (the only
//! map an unprivileged process may write for itself). Root used to do the
//! same, `0 0 1`, which made sandbox root *host* root for every check that
//! only compares uids (global sysctls, signals to host processes, files
//! reachable through a mount). Now a sandbox started by root maps its ids
//! 0..65536 to an unprivileged host range ([`for_root`]); the whole range,
//! so `useradd`, `apt` (user `_apt`) or `su nobody` work inside.
//!
//! A process cannot write a foreign or multi-id map for a user namespace it
//! has just entered (user_namespaces(7): the writer needs CAP_SETUID in the
//! *parent* namespace). So, as runc does, the supervisor stays in the host's
//! user namespace, keeps host root (its cgroups, runtime entry and cleanup
//! need it), clones PID 1 into a new user namespace and writes PID 1's maps
//! ([`write_maps`]); PID 1 then switches to uid/gid 0 of its namespace
//! ([`become_root`]).
//!
//! Files the supervisor hands over (the rootfs's lower layers, read-only bind
//! sources) come as detached mounts, id-mapped with PID 1's user namespace
//! where the filesystem supports it ([`detached`]): host uid 0 shows as
//! sandbox uid 0, and a root-only host directory (a 0700 temp dir) needs no
//! traversal rights from the unprivileged sandbox. Writable binds are never
//! id-mapped: a file the sandbox writes there gets the mapped host uid
//! (`base` + the sandbox uid), never a host-root owner.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Ids per sandbox: the whole 16-bit range, as podman and LXC map by default.
pub const COUNT: u32 = 65536;

/// First host id of the default range when `/etc/subuid` has no line for
/// root: 0x70000000 = 1879048192. Chosen above everything that hands out
/// ids on a usual host: login users (1000...60000), shadow's automatic
/// subordinate ranges (`useradd`: SUB_UID_MIN 100000 .. SUB_UID_MAX
/// 600100000), LXD/Incus (1000000 + 10^9), systemd-nspawn's container ranges
/// (524288 .. 0x6FFFFFFF), and below systemd's special ranges near 2^31.
/// [`for_root`] still moves up past any range a host lists, so a host user
/// or another tool's containers never share these ids.
pub const DEFAULT_BASE: u32 = 0x7000_0000;

/// Highest base [`for_root`] moves the default to (systemd's special ranges start at 0x7FFE0000).
const DEFAULT_LAST: u32 = 0x7FFD_0000;

/// Sandbox ids 0..count are host ids uid.. / gid.. .
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    pub uid: u32,
    pub gid: u32,
    pub count: u32,
}

/// The range root's sandboxes use: root's own entry in `/etc/subuid` and
/// `/etc/subgid` (`root:<start>:<count>` with count >= 65536) when present,
/// else [`DEFAULT_BASE`], moved up by 65536 while it overlaps any range or
/// id those files, `/etc/passwd` or `/etc/group` list. Every root sandbox on
/// a host shares it (one range per kubelab user, as podman's rootful default).
pub fn for_root() -> IdMap {
    let read = |p: &str| crate::sys::read_small(Path::new(p)).unwrap_or_default();
    let (subuid, subgid) = (read("/etc/subuid"), read("/etc/subgid"));
    if let (Some(uid), Some(gid)) = (own_range(&subuid), own_range(&subgid)) {
        return IdMap {
            uid,
            gid,
            count: COUNT,
        };
    }
    let mut taken = sub_ranges(&subuid);
    taken.extend(sub_ranges(&subgid));
    taken.extend(db_ids(&read("/etc/passwd")));
    taken.extend(db_ids(&read("/etc/group")));
    let base = pick_base(&taken);
    IdMap {
        uid: base,
        gid: base,
        count: COUNT,
    }
}

/// Root's first range of at least [`COUNT`] ids in a subuid/subgid file.
fn own_range(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        let (name, start, count) = (f.next()?, f.next()?, f.next()?);
        let (start, count) = (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?);
        ((name == "root" || name == "0") && count >= COUNT && start > 0)
            .then_some(start)
            .filter(|s| s.checked_add(COUNT).is_some())
    })
}

/// Every `name:start:count` range of a subuid/subgid file, as [start, end).
fn sub_ranges(text: &str) -> Vec<(u64, u64)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':').skip(1);
            let start = f.next()?.parse::<u64>().ok()?;
            let count = f.next()?.parse::<u64>().ok()?;
            Some((start, start + count))
        })
        .collect()
}

/// The ids of `/etc/passwd` or `/etc/group` (third field), as 1-id ranges.
fn db_ids(text: &str) -> Vec<(u64, u64)> {
    text.lines()
        .filter_map(|l| l.split(':').nth(2)?.parse::<u64>().ok())
        .map(|id| (id, id + 1))
        .collect()
}

fn pick_base(taken: &[(u64, u64)]) -> u32 {
    let mut base = DEFAULT_BASE;
    while base <= DEFAULT_LAST {
        let (b, e) = (base as u64, base as u64 + COUNT as u64);
        if !taken.iter().any(|&(s, t)| s < e && b < t) {
            return base;
        }
        base += COUNT;
    }
    DEFAULT_BASE
}

/// Writes PID `pid`'s uid and gid maps (the caller is root in the parent
/// user namespace). `setgroups` stays `allow`: with a full range written by
/// a privileged parent the sandbox may manage its own groups (apt, su).
pub(crate) fn write_maps(pid: libc::pid_t, m: &IdMap) -> io::Result<()> {
    for (file, base) in [("uid_map", m.uid), ("gid_map", m.gid)] {
        let p = format!("/proc/{pid}/{file}");
        fs::write(&p, format!("0 {base} {}\n", m.count))
            .map_err(|e| io::Error::new(e.kind(), format!("write {p}: {e}")))?;
    }
    Ok(())
}

/// After joining or being cloned into a user namespace with a full map: take
/// uid/gid 0 of that namespace (host root's ids are unmapped there, and a
/// file created with them would belong to host root) and drop host root's
/// supplementary groups. Capabilities survive (0 is the namespace's root).
/// A no-op for a rootless sandbox, whose caller already is its uid 0.
pub(crate) fn become_root() -> io::Result<()> {
    // SAFETY: plain syscalls with integer arguments.
    unsafe {
        if libc::setresgid(0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        // EPERM where setgroups is denied (rootless): nothing to drop then.
        let _ = libc::setgroups(0, std::ptr::null());
        if libc::setresuid(0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;

/// A detached copy of the mount at `path` (with its submounts if
/// `recursive`), id-mapped through `userns` when given and the filesystem
/// supports it (else plain: the caller decides whether that is acceptable).
/// Returns the mount and whether it is id-mapped.
pub(crate) fn detached(
    path: &Path,
    recursive: bool,
    userns: Option<BorrowedFd<'_>>,
) -> io::Result<(OwnedFd, bool)> {
    let c = crate::sys::cstr(path)?;
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    let flags = OPEN_TREE_CLONE | rec | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: c is a valid C string; open_tree returns a new descriptor.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(r as RawFd) };
    let Some(ns) = userns else {
        return Ok((fd, false));
    };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: ns.as_raw_fd() as u64,
    };
    // SAFETY: valid descriptors, an empty C path, and a fully initialised
    // mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint | rec,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == 0 {
        return Ok((fd, true));
    }
    // Not supported by this filesystem (or kernel): the plain clone.
    drop(fd);
    // SAFETY: as above.
    let r = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok((unsafe { OwnedFd::from_raw_fd(r as RawFd) }, false))
}

/// Whether a descriptor (e.g. a detached mount) is a directory.
pub(crate) fn is_dir(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: an all-zero stat is a valid out buffer; fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out pointer.
    let r = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// What the supervisor hands PID 1 with the "u" message: detached mounts of
/// the overlay's lower layers (bottom last, the order of `lowerdir`) and of
/// every bind source (in the spec's order).
pub(crate) struct Prepared {
    pub lowers: Vec<OwnedFd>,
    pub binds: Vec<OwnedFd>,
}

impl Prepared {
    /// PID 1: attaches the lower layers under the staging tmpfs (mount
    /// namespace of its own) and returns their paths for `lowerdir`.
    pub(crate) fn attach_lowers(&self, staging: &Path) -> io::Result<Vec<std::path::PathBuf>> {
        let mut out = Vec::with_capacity(self.lowers.len());
        for (i, fd) in self.lowers.iter().enumerate() {
            let p = staging.join(format!("layer-{i}"));
            fs::create_dir(&p)?;
            crate::sys::move_mount_to(std::os::fd::AsFd::as_fd(fd), &p)?;
            out.push(p);
        }
        Ok(out)
    }
}

/// Supervisor, right after cloning PID 1 into its new user namespace:
/// writes the maps, prepares the mounts PID 1 could not open as an
/// unprivileged uid (see the module doc) and sends them with "u" on `go`.
pub(crate) fn hand_over(
    cfg: &crate::protocol::InitConfig,
    pid: libc::pid_t,
    map: &IdMap,
    go: BorrowedFd<'_>,
) -> Result<(), crate::Error> {
    use crate::spec::{Mount, Namespace, Rootfs};
    let e = |what: String| crate::Error::new("namespaces.user", what);
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
    let mut fds: Vec<OwnedFd> = Vec::new();
    if cfg.spec.namespaces.contains(&Namespace::Mount) {
        let ns = fs::File::open(format!("/proc/{pid}/ns/user"))
            .map_err(|err| e(format!("/proc/{pid}/ns/user: {err}")))?;
        let ns = std::os::fd::AsFd::as_fd(&ns);
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
                .map_err(|err| crate::Error::new("rootfs", format!("{}: {err}", l.display())))?;
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
                    crate::Error::new(
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
    }
    if fds.len() > crate::sys::MAX_PASSED_FDS {
        return Err(crate::Error::new(
            "rootfs",
            format!(
                "{} layers and bind mounts: at most {}",
                fds.len(),
                crate::sys::MAX_PASSED_FDS
            ),
        ));
    }
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    crate::sys::send_with_fds(go.as_raw_fd(), b"u", &raw)
        .map_err(|err| crate::Error::new("spawn", format!("hand over to PID 1: {err}")))?;
    crate::trace::mark("supervisor: PID 1's mounts handed over");
    Ok(())
}

/// PID 1 of a root-started sandbox: waits for the supervisor's "u" (maps
/// written, mounts prepared), becomes uid/gid 0 of its user namespace and
/// sorts the descriptors into a [`Prepared`].
pub(crate) fn receive(
    spec: &crate::spec::Spec,
    go: BorrowedFd<'_>,
) -> Result<Prepared, crate::Error> {
    let mut b = [0u8; 1];
    let mut fds = match crate::sys::recv_with_fds(go, &mut b) {
        Ok((1, fds)) if b == *b"u" => fds,
        _ => {
            return Err(crate::Error::new(
                "spawn",
                "the supervisor went away during setup",
            ))
        }
    };
    become_root().map_err(|e| crate::Error::new("namespaces.user", format!("setresuid 0: {e}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_own_subuid_line_wins() {
        let t = "alice:100000:65536\nroot:200000:65536\n";
        assert_eq!(own_range(t), Some(200000));
        assert_eq!(own_range("0:300000:70000\n"), Some(300000));
        // Too small a range, or somebody else's, is not root's.
        assert_eq!(own_range("root:200000:1000\nbob:1:65536\n"), None);
        assert_eq!(own_range("garbage\n\n"), None);
    }

    #[test]
    fn the_default_moves_past_every_listed_range_and_id() {
        assert_eq!(pick_base(&[]), DEFAULT_BASE);
        let b = DEFAULT_BASE as u64;
        let taken = sub_ranges("x:1879048192:65536\ny:1879113800:10\n");
        assert_eq!(pick_base(&taken), DEFAULT_BASE + 2 * COUNT);
        let ids = db_ids(&format!("u:x:{}:1::/:/bin/sh\n", b + 5));
        assert_eq!(pick_base(&ids), DEFAULT_BASE + COUNT);
        // Ranges below and above do not move it.
        let taken = sub_ranges("a:100000:65536\nb:1000000:1000000000\n");
        assert_eq!(pick_base(&taken), DEFAULT_BASE);
    }
}
