//! Which device nodes a cgroup's processes may open or make: runc's default
//! allow list plus what the caller adds, everything else denied. v1 writes
//! it into the `devices` controller ([`super::devices_v1`]); v2 has no such
//! controller and runs a `BPF_PROG_TYPE_CGROUP_DEVICE` program instead
//! ([`super::devices_v2`]). Set on a cgroup before any process joins it.

use super::handle::Cgroup;
use std::io;

/// `c`, `b`, or `a` (both) in the kernel's rule syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Char,
    Block,
    All,
}

/// One allow rule: a kind, a major and minor (`None`: any), and the
/// access (`r`, `w`, `m` for mknod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub read: bool,
    pub write: bool,
    pub mknod: bool,
}

impl DeviceRule {
    /// A char device `major:minor` with read and write (a device plugin's
    /// answer; no mknod: the node made the node file).
    pub fn char_rw(major: u32, minor: u32) -> DeviceRule {
        DeviceRule {
            kind: DeviceKind::Char,
            major: Some(major),
            minor: Some(minor),
            read: true,
            write: true,
            mknod: false,
        }
    }

    /// The rule as the v1 files and `devices.list` spell it: `c 1:3 rwm`.
    pub fn line(&self) -> String {
        let kind = match self.kind {
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
            DeviceKind::All => 'a',
        };
        let num = |n: Option<u32>| n.map_or("*".to_string(), |n| n.to_string());
        let mut access = String::new();
        for (on, c) in [(self.read, 'r'), (self.write, 'w'), (self.mknod, 'm')] {
            if on {
                access.push(c);
            }
        }
        format!("{kind} {}:{} {access}", num(self.major), num(self.minor))
    }
}

const fn dev(
    kind: DeviceKind,
    major: Option<u32>,
    minor: Option<u32>,
    rwm: [bool; 3],
) -> DeviceRule {
    DeviceRule {
        kind,
        major,
        minor,
        read: rwm[0],
        write: rwm[1],
        mknod: rwm[2],
    }
}

const M: [bool; 3] = [false, false, true];
const RWM: [bool; 3] = [true, true, true];
use DeviceKind::{Block, Char};

/// What every container may use, as runc's `specconv.AllowedDevices`
/// (containerd's CRI default): mknod of any device (opening it is
/// another matter), the null/zero/full/random/urandom/tty/ptmx nodes and
/// the pty slaves.
pub const DEFAULT_ALLOWED: &[DeviceRule] = &[
    dev(Char, None, None, M),
    dev(Block, None, None, M),
    dev(Char, Some(1), Some(3), RWM),
    dev(Char, Some(1), Some(5), RWM),
    dev(Char, Some(1), Some(7), RWM),
    dev(Char, Some(1), Some(8), RWM),
    dev(Char, Some(1), Some(9), RWM),
    dev(Char, Some(5), Some(0), RWM),
    dev(Char, Some(5), Some(2), RWM),
    dev(Char, Some(136), None, RWM),
];

/// [`DEFAULT_ALLOWED`] followed by `extra`.
pub fn with_defaults(extra: &[DeviceRule]) -> Vec<DeviceRule> {
    DEFAULT_ALLOWED.iter().chain(extra).cloned().collect()
}

/// Denies every device to `cg` except `allowed`, in each hierarchy it
/// lives in. Must run before a process joins `cg`: a process already
/// inside may have opened what the rules deny.
pub fn restrict(cg: &Cgroup, allowed: &[DeviceRule]) -> io::Result<()> {
    if cg.version == 2 {
        let dir = cg
            .created
            .first()
            .ok_or_else(|| io::Error::other("the cgroup has no directory"))?;
        return super::devices_v2::restrict(dir, allowed);
    }
    let dir = cg
        .created
        .iter()
        .find(|d| d.join("devices.allow").exists())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "the cgroup v1 devices controller is not mounted",
            )
        })?;
    super::devices_v1::restrict(dir, allowed)
}

/// Whether [`restrict`] can work on the cgroups [`super::nested`] makes
/// (`version`: forced, else as detected; hybrid uses v1): v1 needs the
/// `devices` controller mounted, v2 the right to load a BPF program (root
/// with CAP_BPF or CAP_SYS_ADMIN). `Err`: why not.
pub fn can_restrict(version: Option<u8>) -> Result<(), String> {
    let hs = super::tree::all_hierarchies();
    let v1 = version != Some(2) && hs.iter().any(|h| h.version == 1);
    if v1 {
        return if hs
            .iter()
            .any(|h| h.version == 1 && h.controllers.iter().any(|c| c == "devices"))
        {
            Ok(())
        } else {
            Err("the cgroup v1 devices controller is not mounted".into())
        };
    }
    if bpf_capable() {
        Ok(())
    } else {
        Err(
            "loading a cgroup v2 device program needs CAP_BPF in the host's user \
             namespace (root)"
                .into(),
        )
    }
}

/// CAP_BPF (39) or CAP_SYS_ADMIN (21) effective, in the initial user
/// namespace (bpf(2) asks the host's, never a user namespace's).
fn bpf_capable() -> bool {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let initial = read("/proc/self/uid_map")
        .split_whitespace()
        .collect::<Vec<_>>()
        == ["0", "0", "4294967295"];
    let eff = read("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or(0);
    initial && eff & ((1 << 39) | (1 << 21)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_spelled_as_the_kernel_lists_them() {
        let lines: Vec<String> = DEFAULT_ALLOWED.iter().map(DeviceRule::line).collect();
        assert_eq!(lines[0], "c *:* m");
        assert_eq!(lines[1], "b *:* m");
        assert!(lines.contains(&"c 1:3 rwm".to_string()));
        assert!(lines.contains(&"c 136:* rwm".to_string()));
        assert_eq!(DeviceRule::char_rw(10, 229).line(), "c 10:229 rw");
        // Nothing outside the list: no fuse, no memory (1:1), no block device.
        assert!(!lines
            .iter()
            .any(|l| l.starts_with("c 10:") || l == "c 1:1 rwm"));
        assert!(!lines.iter().any(|l| l.starts_with('a')));
    }
}
