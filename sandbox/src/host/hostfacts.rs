//! Facts about the host that some labs depend on and that `kubelab doctor`
//! and `kubelab test` report: a *static* busybox to build a rootfs from, and
//! whether tmpfs keeps the `user.*` xattrs an overlay inside a user
//! namespace needs.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Where the labs copy busybox from when they build a rootfs by hand.
pub const BUSYBOX: &str = "/bin/busybox";

/// Whether `path` is a statically linked ELF program: one without a
/// `PT_INTERP` program header, so it still runs after `chroot` or
/// `pivot_root` into a tree with no dynamic loader and no libc.
/// `Err` says why not (missing, not ELF, dynamically linked).
pub fn static_elf(path: &Path) -> Result<(), String> {
    const PT_INTERP: u32 = 3;
    let mut head = Vec::with_capacity(64 * 1024);
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let not_elf = || format!("{} is not an ELF program", path.display());
    if head.len() < 64 || &head[..4] != b"\x7fELF" {
        return Err(not_elf());
    }
    let little = match head[5] {
        1 => true,
        2 => false,
        _ => return Err(not_elf()),
    };
    let num = |at: usize, len: usize| -> Option<u64> {
        let b = head.get(at..at + len)?;
        let mut v = 0u64;
        for i in 0..len {
            let byte = if little { b[len - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    // (e_phoff, e_phentsize, e_phnum) for ELF32 and ELF64.
    let (phoff, phentsize, phnum) = match head[4] {
        1 => (num(0x1c, 4), num(0x2a, 2), num(0x2c, 2)),
        2 => (num(0x20, 8), num(0x36, 2), num(0x38, 2)),
        _ => return Err(not_elf()),
    };
    let (phoff, phentsize, phnum) = (
        phoff.ok_or_else(not_elf)?,
        phentsize.ok_or_else(not_elf)?,
        phnum.ok_or_else(not_elf)?,
    );
    for i in 0..phnum {
        let at = i
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(not_elf)?;
        // Program headers lie in the first pages of every real binary.
        let p_type = num(at, 4).ok_or_else(not_elf)?;
        if p_type == u64::from(PT_INTERP) {
            return Err(format!(
                "{} is dynamically linked: after chroot it finds no loader or libc",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Whether tmpfs on this kernel keeps `user.*` extended attributes, which
/// an overlay mounted inside a user namespace stores its metadata in
/// (`-o userxattr`). tmpfs gained them in Linux 6.6. `Err` names the
/// running kernel.
pub fn tmpfs_user_xattrs() -> Result<(), String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(|e| format!("cannot read the kernel version: {e}"))?;
    kernel_at_least(release.trim(), (6, 6))
}

/// Whether this user may open `/dev/net/tun`, as a process in a lab
/// world's node does to make a TUN device (the node's user namespace does
/// not change who may open a host device file). Opening alone makes no
/// device. `Err` says why not and what to do.
pub fn tun_usable() -> Result<(), String> {
    const TUN: &str = "/dev/net/tun";
    match std::fs::OpenOptions::new().read(true).write(true).open(TUN) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let mode = std::fs::metadata(TUN)
                .map(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    format!("{:o}", m.permissions().mode() & 0o777)
                })
                .unwrap_or_else(|_| "?".into());
            Err(format!(
                "{TUN} is mode {mode} on this host, so only root may open it \
                 (Debian and Ubuntu ship it 0666: `sudo chmod 0666 {TUN}`, or run as root)"
            ))
        }
        Err(e) => Err(format!(
            "cannot open {TUN}: {e} (a kernel without CONFIG_TUN, or no /dev/net/tun: `sudo modprobe tun`)"
        )),
    }
}

fn kernel_at_least(release: &str, want: (u32, u32)) -> Result<(), String> {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if have >= want {
        Ok(())
    } else {
        Err(format!(
            "tmpfs keeps user.* xattrs (needed for an overlay with -o userxattr on tmpfs) \
             since Linux {}.{}; this kernel is {release}",
            want.0, want.1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_compare_numerically() {
        assert!(kernel_at_least("6.18.44-fc-v1272", (6, 6)).is_ok());
        assert!(kernel_at_least("6.6.0", (6, 6)).is_ok());
        assert!(kernel_at_least("7.0.1", (6, 6)).is_ok());
        let old = kernel_at_least("5.15.0-91-generic", (6, 6)).unwrap_err();
        assert!(old.contains("5.15.0-91-generic"), "{old}");
        assert!(kernel_at_least("6.1.0-27-amd64", (6, 6)).is_err());
    }

    #[test]
    fn static_and_dynamic_programs_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("script");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        assert!(static_elf(&script).unwrap_err().contains("not an ELF"));
        assert!(static_elf(&dir.path().join("missing")).is_err());
        // A minimal static ELF64: a header and one PT_LOAD program header.
        let mut elf = vec![0u8; 64 + 56];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2; // ELFCLASS64
        elf[5] = 1; // little-endian
        elf[0x20] = 64; // e_phoff
        elf[0x36] = 56; // e_phentsize
        elf[0x38] = 1; // e_phnum
        elf[64] = 1; // PT_LOAD
        let stat = dir.path().join("static");
        std::fs::write(&stat, &elf).unwrap();
        assert_eq!(static_elf(&stat), Ok(()));
        elf[64] = 3; // PT_INTERP: a dynamically linked program
        std::fs::write(&stat, &elf).unwrap();
        let why = static_elf(&stat).unwrap_err();
        assert!(why.contains("dynamically linked"), "{why}");
        // A header that points its program headers past the file is not ELF.
        elf[0x20] = 0xff;
        elf[0x21] = 0xff;
        std::fs::write(&stat, &elf).unwrap();
        assert!(static_elf(&stat).unwrap_err().contains("not an ELF"));
    }
}
