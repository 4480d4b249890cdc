//! prctl(2) and capabilities: the bounding, ambient, effective, permitted
//! and inheritable sets a payload keeps.

use super::cvt::check;
use std::io;

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
    // PR_CAP_AMBIENT_CLEAR_ALL
    let _ = prctl_ambient_clear();
    let mut mask = [0u32; 2];
    for &c in keep {
        if c <= last {
            mask[(c / 32) as usize] |= 1 << (c % 32);
        }
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [
        Data {
            effective: mask[0],
            permitted: mask[0],
            inheritable: mask[0],
        },
        Data {
            effective: mask[1],
            permitted: mask[1],
            inheritable: mask[1],
        },
    ];
    // SAFETY: header and two data structs match the v3 capset ABI.
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn prctl_ambient_clear() -> io::Result<()> {
    // SAFETY: PR_CAP_AMBIENT with PR_CAP_AMBIENT_CLEAR_ALL takes no pointers.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })
    .map(drop)
}
