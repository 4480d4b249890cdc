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
//! where the filesystem supports it (`rootfs/handed.rs`,
//! handed over by `process/handover.rs`): host uid 0 shows as
//! sandbox uid 0, and a root-only host directory (a 0700 temp dir) needs no
//! traversal rights from the unprivileged sandbox. Writable binds are never
//! id-mapped: a file the sandbox writes there gets the mapped host uid
//! (`base` + the sandbox uid), never a host-root owner.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io;

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
    use rustix::process::{Gid, Uid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    // rustix changes the calling thread's credentials only (glibc's
    // set*id broadcast to every thread); the callers, PID 1 and the exec
    // helper, are single-threaded.
    set_thread_res_gid(Gid::ROOT, Gid::ROOT, Gid::ROOT)?;
    // EPERM where setgroups is denied (rootless): nothing to drop then.
    let _ = set_thread_groups(&[]);
    set_thread_res_uid(Uid::ROOT, Uid::ROOT, Uid::ROOT)?;
    Ok(())
}

/// Whether `id` is inside one of the ranges of a `uid_map`/`gid_map` text
/// (lines `inside outside count`).
pub fn maps(map: &str, id: u32) -> bool {
    map.lines().any(|l| {
        let f: Vec<u64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        matches!(f[..], [start, _, count] if (id as u64) >= start && (id as u64) < start + count)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_mapped_only_inside_a_range() {
        let rootless = "         0       1000          1\n";
        assert!(maps(rootless, 0));
        assert!(!maps(rootless, 1000));
        let root = "0 1879048192 65536\n";
        assert!(maps(root, 65535) && !maps(root, 65536));
        assert!(!maps("", 0));
    }

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
