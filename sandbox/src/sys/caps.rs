//! prctl(2) and capabilities: the bounding, ambient, effective, permitted
//! and inheritable sets a payload keeps.

use super::cvt::check;
use std::io;

/// prctl with one integer argument (name, death signal, dumpable,
/// no_new_privs, bounding-set drops by number), kept as one raw call: the
/// call sites pass the kernel's own constants.
pub fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the options used by this crate take one integer argument.
    check(unsafe {
        libc::prctl(
            option,
            arg,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}

/// Capabilities a container gets by default (the Docker/OCI default set).
pub const DEFAULT_CAPS: &[u32] = &[
    0,  // CAP_CHOWN
    1,  // CAP_DAC_OVERRIDE
    3,  // CAP_FOWNER
    4,  // CAP_FSETID
    5,  // CAP_KILL
    6,  // CAP_SETGID
    7,  // CAP_SETUID
    8,  // CAP_SETPCAP
    10, // CAP_NET_BIND_SERVICE
    13, // CAP_NET_RAW
    18, // CAP_SYS_CHROOT
    27, // CAP_MKNOD
    29, // CAP_AUDIT_WRITE
    31, // CAP_SETFCAP
];

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drops every capability outside `keep` from the bounding set (needs
/// CAP_SETPCAP, so before any uid switch).
pub fn drop_bounding(keep: &[u32]) -> io::Result<()> {
    for cap in 0..=last_cap() {
        if !keep.contains(&cap) {
            prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong)?;
        }
    }
    Ok(())
}

/// Sets the effective, permitted and inheritable sets to `keep` (only
/// lowering is possible) and clears the ambient set.
pub fn set_caps(keep: &[u32]) -> io::Result<()> {
    let last = last_cap();
    let _ = rustix::thread::clear_ambient_capability_set();
    let mut mask = 0u64;
    for &c in keep {
        if c <= last {
            mask |= 1 << c;
        }
    }
    let set = rustix::thread::CapabilitySet::from_bits_retain(mask);
    rustix::thread::set_capabilities(
        None,
        rustix::thread::CapabilitySets {
            effective: set,
            permitted: set,
            inheritable: set,
        },
    )
    .map_err(io::Error::from)
}

/// capabilities(7)'s names by number, without `CAP_` (0..=40, Linux 5.9+).
pub const CAP_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A capability's number from its name, with or without `CAP_`, any case.
pub fn cap_number(name: &str) -> Option<u32> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    CAP_NAMES.iter().position(|n| *n == bare).map(|i| i as u32)
}

/// The capabilities a payload keeps: every one when privileged (add/drop
/// ignored, as containerd does), else [`DEFAULT_CAPS`] changed in
/// containerd's CRI order — `add: [ALL]`, then `drop: [ALL]`, then each
/// named add, then each named drop (so `drop: [ALL], add: [NET_ADMIN]`
/// keeps NET_ADMIN only). An unknown name is an error naming it.
pub fn resolve_caps(privileged: bool, add: &[String], drop: &[String]) -> Result<Vec<u32>, String> {
    let all: Vec<u32> = (0..CAP_NAMES.len() as u32).collect();
    if privileged {
        return Ok(all);
    }
    let is_all = |n: &String| n.trim().eq_ignore_ascii_case("ALL");
    let number = |n: &String| {
        cap_number(n).ok_or_else(|| {
            format!(
                "unknown capability `{}`; use a name from capabilities(7) such as NET_ADMIN, or ALL",
                n.escape_debug()
            )
        })
    };
    let mut keep: Vec<u32> = DEFAULT_CAPS.to_vec();
    if add.iter().any(is_all) {
        keep = all.clone();
    }
    if drop.iter().any(is_all) {
        keep.clear();
    }
    for n in add.iter().filter(|n| !is_all(n)) {
        let c = number(n)?;
        if !keep.contains(&c) {
            keep.push(c);
        }
    }
    for n in drop.iter().filter(|n| !is_all(n)) {
        let c = number(n)?;
        keep.retain(|k| *k != c);
    }
    keep.sort_unstable();
    Ok(keep)
}

/// Switches to `uid`/`gid` of the current user namespace (no supplementary
/// groups), between the bounding-set drop and the final capability sets:
/// `setresuid` needs CAP_SETUID, which `keep` may lack. Leaving uid 0
/// clears the permitted and effective sets, as an exec by that uid would.
pub fn switch_ids(uid: u32, gid: u32) -> io::Result<()> {
    use rustix::process::{Gid, Uid};
    use rustix::thread::{set_thread_groups, set_thread_res_gid, set_thread_res_uid};
    // Single-threaded callers (PID 1, the exec helper's child): rustix
    // changes this thread's credentials only.
    // EPERM where setgroups is denied (rootless): there are none then.
    let _ = set_thread_groups(&[]);
    let g = Gid::from_raw(gid);
    set_thread_res_gid(g, g, g)?;
    let u = Uid::from_raw(uid);
    set_thread_res_uid(u, u, u)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_resolve_with_or_without_the_prefix() {
        assert_eq!(cap_number("NET_ADMIN"), Some(12));
        assert_eq!(cap_number("cap_net_admin"), Some(12));
        assert_eq!(cap_number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(cap_number("NET_ADMINX"), None);
        assert_eq!(CAP_NAMES[21], "SYS_ADMIN");
    }

    #[test]
    fn add_and_drop_follow_containerds_order() {
        let r = |a: &[&str], d: &[&str]| resolve_caps(false, &names(a), &names(d)).unwrap();
        assert_eq!(r(&[], &[]), DEFAULT_CAPS.to_vec());
        assert_eq!(r(&["NET_ADMIN"], &["ALL"]), vec![12]);
        assert_eq!(r(&[], &["ALL"]), Vec::<u32>::new());
        let all_but_chown = r(&["ALL"], &["CAP_CHOWN"]);
        assert_eq!(all_but_chown.len(), CAP_NAMES.len() - 1);
        assert!(!all_but_chown.contains(&0));
        let more = r(&["SYS_TIME"], &["KILL"]);
        assert!(more.contains(&25) && !more.contains(&5));
        assert_eq!(
            resolve_caps(true, &names(&[]), &names(&["ALL"]))
                .unwrap()
                .len(),
            CAP_NAMES.len()
        );
        let e = resolve_caps(false, &names(&["NET_ADMN"]), &[]).unwrap_err();
        assert!(e.contains("NET_ADMN"), "{e}");
    }
}
