//! Observation for the panes and `kubelab inspect`: namespaces, processes,
//! mounts, the overlay upper dir and the network namespace of a sandbox —
//! all read from /proc and the filesystem. [`inspect`] gives one value of
//! them (or of the cgroup) by name; [`nettools`] runs iproute2, nftables and
//! conntrack inside a network namespace for the network pane's details.

pub mod inspect;
pub mod nettools;

use crate::spec::Namespace;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Inode of namespace `ns` of process `pid` ("self" works too).
pub fn ns_inode(pid: &str, ns: Namespace) -> io::Result<u64> {
    let link = fs::read_link(format!("/proc/{pid}/ns/{}", ns.name()))?;
    let s = link.to_string_lossy();
    s.rsplit_once('[')
        .and_then(|(_, r)| r.trim_end_matches(']').parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected ns link {s}")))
}

/// One namespace type with its inode on the host (this process) and in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsPair {
    pub ns: Namespace,
    pub host: Option<u64>,
    pub sandbox: Option<u64>,
}

impl NsPair {
    /// True when the sandbox has its own namespace of this type.
    pub fn isolated(&self) -> bool {
        self.host.is_some() && self.sandbox.is_some() && self.host != self.sandbox
    }
}

/// Namespace inodes, host vs sandbox, for every type.
pub fn namespaces(init_pid: u32) -> Vec<NsPair> {
    let member = crate::ns::enter::readable_member(init_pid as i32).to_string();
    Namespace::ALL
        .iter()
        .map(|&ns| NsPair {
            ns,
            host: ns_inode("self", ns).ok(),
            sandbox: ns_inode(&member, ns).ok(),
        })
        .collect()
}

/// A process of the sandbox, seen from the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcInfo {
    pub host_pid: i32,
    /// The PID inside the sandbox (last entry of NSpid).
    pub ns_pid: i32,
    /// The full NSpid chain, outermost first.
    pub nspid: Vec<i32>,
    pub ppid: i32,
    pub comm: String,
    pub cmdline: String,
    pub state: String,
    /// Resident memory in KiB.
    pub rss_kib: u64,
    /// Host uid.
    pub uid: u32,
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
}

/// The NSpid chain of a process.
pub fn nspid(pid: i32) -> io::Result<Vec<i32>> {
    let st = fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status_field(&st, "NSpid")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect())
}

pub fn proc_info(pid: i32) -> io::Result<ProcInfo> {
    let st = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let chain: Vec<i32> = status_field(&st, "NSpid")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = cmd
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let num = |k: &str| -> u64 {
        status_field(&st, k)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(ProcInfo {
        host_pid: pid,
        ns_pid: chain.last().copied().unwrap_or(pid),
        nspid: chain,
        ppid: num("PPid") as i32,
        comm: status_field(&st, "Name").unwrap_or("").to_string(),
        cmdline,
        state: status_field(&st, "State").unwrap_or("").to_string(),
        rss_kib: num("VmRSS"),
        uid: num("Uid") as u32,
    })
}

/// Every process in the sandbox's PID namespace (PID 1 included), sorted by
/// in-sandbox PID.
pub fn processes(init_pid: u32) -> Vec<ProcInfo> {
    let init = init_pid as i32;
    let member = crate::ns::enter::readable_member(init);
    let target = ns_inode(&member.to_string(), Namespace::Pid).ok();
    let own = ns_inode("self", Namespace::Pid).ok();
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let same = pid == init
            || match (target, ns_inode(&pid.to_string(), Namespace::Pid).ok()) {
                (Some(t), Some(p)) => t == p && target != own,
                _ => false,
            };
        if same {
            if let Ok(info) = proc_info(pid) {
                out.push(info);
            }
        }
    }
    out.sort_by_key(|p| (p.ns_pid, p.host_pid));
    out
}

/// One line of a mount table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountEntry {
    pub target: String,
    pub fstype: String,
    pub source: String,
    pub options: String,
}

/// The mount table as the sandbox sees it.
pub fn mounts(pid: u32) -> io::Result<Vec<MountEntry>> {
    let text = fs::read_to_string(format!("/proc/{pid}/mountinfo"))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(MountEntry {
                target: crate::sys::unescape_mountinfo(l.get(4)?),
                options: l.get(5)?.to_string(),
                fstype: r.first()?.to_string(),
                source: crate::sys::unescape_mountinfo(r.get(1)?),
            })
        })
        .collect())
}

/// What a path in the overlay upper dir means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpperKind {
    File,
    Dir,
    /// A directory that hides the lower layer's contents.
    OpaqueDir,
    Symlink,
    /// A 0/0 character device: the file was deleted in the sandbox.
    Whiteout,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpperEntry {
    /// Path as seen inside the sandbox (`/etc/hosts`).
    pub path: String,
    pub kind: UpperKind,
    pub size: u64,
}

fn is_opaque(p: &Path) -> bool {
    ["user.overlay.opaque", "trusted.overlay.opaque"]
        .into_iter()
        .any(|name| {
            let mut buf = [0u8; 4];
            matches!(rustix::fs::lgetxattr(p, name, &mut buf), Ok(n) if n > 0 && buf[0] == b'y')
        })
}

/// Everything in the overlay upper dir: the sandbox's changes to its rootfs.
pub fn upper_listing(upper: &Path) -> io::Result<Vec<UpperEntry>> {
    let mut out = Vec::new();
    walk(upper, upper, &mut out, 0)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<UpperEntry>, depth: usize) -> io::Result<()> {
    if depth > 32 || out.len() > 10_000 {
        return Ok(());
    }
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let md = fs::symlink_metadata(&p)?;
        let ft = md.file_type();
        let kind = if ft.is_char_device() && md.rdev() == 0 {
            UpperKind::Whiteout
        } else if ft.is_dir() {
            if is_opaque(&p) {
                UpperKind::OpaqueDir
            } else {
                UpperKind::Dir
            }
        } else if ft.is_symlink() {
            UpperKind::Symlink
        } else if ft.is_file() {
            UpperKind::File
        } else {
            UpperKind::Other
        };
        let rel = p.strip_prefix(base).unwrap_or(&p);
        out.push(UpperEntry {
            path: format!("/{}", rel.display()),
            kind,
            size: if ft.is_file() { md.len() } else { 0 },
        });
        if ft.is_dir() {
            walk(base, &p, out, depth + 1)?;
        }
    }
    Ok(())
}

/// A network interface inside the sandbox's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    /// Administratively up (IFF_UP), read from the sandbox's own /sys.
    pub up: bool,
    /// 0 when unknown.
    pub mtu: u32,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Addresses in CIDR form (IPv4 and IPv6).
    pub addresses: Vec<String>,
}

/// An IPv4 route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: String,
    pub gateway: Option<String>,
    pub device: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetInfo {
    pub links: Vec<Link>,
    pub routes: Vec<Route>,
}

fn hex_ipv4(h: &str) -> Option<std::net::Ipv4Addr> {
    let v = u32::from_str_radix(h, 16).ok()?;
    Some(std::net::Ipv4Addr::from(v.swap_bytes()))
}

/// Links, addresses and routes of the network namespace `pid` is in, parsed
/// from /proc/PID/net (dev, if_inet6, route, fib_trie).
pub fn network(pid: u32) -> io::Result<NetInfo> {
    let base = PathBuf::from(format!("/proc/{pid}/net"));
    let dev = fs::read_to_string(base.join("dev"))?;
    let mut links: Vec<Link> = dev
        .lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let f: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            Some(Link {
                name: name.trim().to_string(),
                up: false,
                mtu: 0,
                rx_bytes: *f.first()?,
                tx_bytes: *f.get(8)?,
                addresses: Vec::new(),
            })
        })
        .collect();
    let mut routes = Vec::new();
    if let Ok(rt) = fs::read_to_string(base.join("route")) {
        for l in rt.lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                continue;
            }
            let (Some(dst), Some(gw), Some(mask)) =
                (hex_ipv4(f[1]), hex_ipv4(f[2]), hex_ipv4(f[7]))
            else {
                continue;
            };
            let plen = u32::from(mask).count_ones();
            routes.push(Route {
                destination: if plen == 0 {
                    "default".into()
                } else {
                    format!("{dst}/{plen}")
                },
                gateway: (!gw.is_unspecified()).then(|| gw.to_string()),
                device: f[0].to_string(),
            });
        }
    }
    // IPv4 addresses: /proc has no per-interface list, so match the local
    // addresses of fib_trie against the connected routes' subnets (and lo).
    if let Ok(fib) = fs::read_to_string(base.join("fib_trie")) {
        let mut last_ip: Option<std::net::Ipv4Addr> = None;
        let mut locals = Vec::new();
        for l in fib.lines() {
            let t = l.trim_start_matches([' ', '|', '-', '+']).trim();
            if let Ok(ip) = t.parse::<std::net::Ipv4Addr>() {
                last_ip = Some(ip);
            } else if t.starts_with("/32 host LOCAL") {
                if let Some(ip) = last_ip {
                    if !locals.contains(&ip) {
                        locals.push(ip);
                    }
                }
            }
        }
        for ip in locals {
            let mut placed = false;
            for r in &routes {
                if let Some((net, plen)) = r.destination.split_once('/') {
                    let (Ok(net), Ok(plen)) =
                        (net.parse::<std::net::Ipv4Addr>(), plen.parse::<u32>())
                    else {
                        continue;
                    };
                    let mask = if plen == 0 {
                        0
                    } else {
                        u32::MAX << (32 - plen)
                    };
                    if u32::from(ip) & mask == u32::from(net) && r.gateway.is_none() {
                        if let Some(link) = links.iter_mut().find(|k| k.name == r.device) {
                            link.addresses.push(format!("{ip}/{plen}"));
                            placed = true;
                            break;
                        }
                    }
                }
            }
            if !placed && ip.is_loopback() {
                if let Some(link) = links.iter_mut().find(|k| k.name == "lo") {
                    link.addresses.push(format!("{ip}/8"));
                }
            }
        }
    }
    if let Ok(v6) = fs::read_to_string(base.join("if_inet6")) {
        for l in v6.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 || f[0].len() != 32 {
                continue;
            }
            let Ok(v) = u128::from_str_radix(f[0], 16) else {
                continue;
            };
            let plen = u32::from_str_radix(f[2], 16).unwrap_or(128);
            let ip = std::net::Ipv6Addr::from(v);
            if let Some(link) = links.iter_mut().find(|k| k.name == f[5]) {
                link.addresses.push(format!("{ip}/{plen}"));
            }
        }
    }
    // Flags and MTU from the sysfs the sandbox mounted in its own netns.
    let member = crate::ns::enter::readable_member(pid as i32);
    for link in &mut links {
        let dir = PathBuf::from(format!("/proc/{member}/root/sys/class/net/{}", link.name));
        if let Ok(f) = fs::read_to_string(dir.join("flags")) {
            link.up = u32::from_str_radix(f.trim().trim_start_matches("0x"), 16)
                .map(|v| v & 1 != 0)
                .unwrap_or(false);
        }
        link.mtu = fs::read_to_string(dir.join("mtu"))
            .ok()
            .and_then(|m| m.trim().parse().ok())
            .unwrap_or(0);
    }
    links.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(NetInfo { links, routes })
}

/// What one process has used, from `/proc/PID/stat`: the figures a cgroup
/// would sum, for a sandbox that has no cgroup (limits unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcUsage {
    /// User + system CPU time, its waited-for children's included (so the
    /// time of a finished command is not lost while its shell lives).
    pub cpu_usec: u64,
    /// Threads: what `pids.current` counts.
    pub threads: u64,
}

/// [`ProcUsage`] of `pid`.
pub fn proc_usage(pid: i32) -> io::Result<ProcUsage> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&stat, clock_ticks())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/PID/stat"))
}

/// USER_HZ: the unit of the times in `/proc/PID/stat`.
fn clock_ticks() -> u64 {
    match rustix::param::clock_ticks_per_second() {
        0 => 100,
        t => t,
    }
}

/// Fields after `comm` (which may hold spaces and parentheses, hence the
/// last `)`): utime, stime, cutime, cstime are fields 14–17, num_threads 20.
fn parse_stat(stat: &str, ticks: u64) -> Option<ProcUsage> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let field =
        |n: usize| -> Option<u64> { f.get(n - 3)?.parse::<i64>().ok().map(|v| v.max(0) as u64) };
    let total = field(14)? + field(15)? + field(16)? + field(17)?;
    Some(ProcUsage {
        cpu_usec: total.saturating_mul(1_000_000) / ticks.max(1),
        threads: field(20)?,
    })
}

#[cfg(test)]
mod usage_tests {
    #[test]
    fn stat_times_sum_user_system_and_reaped_children() {
        // comm with a space and a parenthesis; times in ticks of 100 Hz.
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 30 20 20 0 3 0 100 0 0";
        let u = super::parse_stat(stat, 100).unwrap();
        assert_eq!(u.cpu_usec, 2_500_000);
        assert_eq!(u.threads, 3);
        assert_eq!(super::parse_stat("garbage", 100), None);
        let me = super::proc_usage(std::process::id() as i32).unwrap();
        assert!(me.threads >= 1);
    }
}
