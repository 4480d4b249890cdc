//! Masked and read-only kernel interfaces under the sandbox's `/proc` and
//! `/sys`, in every sandbox with a mount namespace, privileged included —
//! the lists of runc's default spec (`runc spec`, 1.1), plus powercap, which
//! newer runc and Docker mask too.
//!
//! * Masked (read as empty): files get `/dev/null` bound over them,
//!   directories an empty read-only tmpfs. They leak host state a container
//!   has no use for: kernel memory (`kcore`), every key on the host (`keys`),
//!   timer and scheduler internals that help timing attacks (`timer_list`,
//!   `sched_debug`, `latency_stats`, `timer_stats`), firmware tables, and
//!   energy counters usable as a side channel (`powercap`).
//! * Read-only: `/proc/sys`, `/proc/sysrq-trigger`, `/proc/irq`, `/proc/bus`,
//!   `/proc/fs` — the knobs of the whole host's kernel. With a network
//!   namespace of its own, `/proc/sys/net` stays writable: those sysctls
//!   belong to the sandbox's namespace (e.g. `net.ipv4.ip_forward` for a
//!   lesson's router).
//!
//! Behind this layer the uid mapping ([`crate::ns::idmap`]) already denies host
//! root's files to a sandbox started by root; a rootless sandbox relies on
//! the same checks. The masks make the answer independent of file modes.

use crate::error::Error;
use std::path::Path;

/// (path below the new root, is a directory).
const MASKED: &[(&str, bool)] = &[
    ("proc/acpi", true),
    ("proc/asound", true),
    ("proc/kcore", false),
    ("proc/keys", false),
    ("proc/latency_stats", false),
    ("proc/timer_list", false),
    ("proc/timer_stats", false),
    ("proc/sched_debug", false),
    ("proc/scsi", true),
    ("sys/firmware", true),
    ("sys/devices/virtual/powercap", true),
];

const READ_ONLY: &[&str] = &[
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "proc/sysrq-trigger",
];

fn gone(e: &std::io::Error) -> bool {
    // (sys::mount keeps the kind, not the errno, in its message.)
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Applies the masks under `root` (before the pivot, after /proc and /sys
/// are mounted there). `own_net`: the sandbox has its own network namespace.
pub(crate) fn apply(root: &Path, own_net: bool) -> Result<(), Error> {
    let fail =
        |p: &Path, e: std::io::Error| Error::new("proc", format!("mask {}: {e}", p.display()));
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    for (rel, dir) in MASKED {
        let p = root.join(rel);
        let r = if *dir {
            crate::sys::mount(
                Some("tmpfs"),
                &p,
                Some("tmpfs"),
                flags | libc::MS_RDONLY,
                Some("mode=555,size=4k"),
            )
        } else {
            crate::sys::mount(Some("/dev/null"), &p, None, libc::MS_BIND, None)
        };
        match r {
            Ok(()) => {}
            // Not on this kernel (or not this kind of node): nothing to hide.
            Err(e) if gone(&e) => {}
            Err(e) => return Err(fail(&p, e)),
        }
    }
    if own_net {
        // A mount of its own first, so the read-only /proc/sys on top
        // (recursive bind, read-only at its top only) leaves it writable.
        let net = root.join("proc/sys/net");
        match crate::sys::mount(
            Some(&net.to_string_lossy()),
            &net,
            None,
            libc::MS_BIND,
            None,
        ) {
            Ok(()) => {}
            Err(e) if gone(&e) => {}
            Err(e) => return Err(fail(&net, e)),
        }
    }
    for rel in READ_ONLY {
        let p = root.join(rel);
        let src = p.to_string_lossy();
        match crate::sys::mount(Some(&src), &p, None, libc::MS_BIND | libc::MS_REC, None) {
            Ok(()) => {}
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(fail(&p, e)),
        }
        let ro = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | flags;
        crate::sys::mount(None, &p, None, ro, None).map_err(|e| fail(&p, e))?;
    }
    Ok(())
}
