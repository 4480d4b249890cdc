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

/// Drops every capability outside `keep` from the bounding set and from the
/// effective, permitted and inheritable sets, and clears the ambient set.
pub fn drop_caps(keep: &[u32]) -> io::Result<()> {
    let last = last_cap();
    for cap in 0..=last {
        if !keep.contains(&cap) {
            prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong)?;
        }
    }
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
