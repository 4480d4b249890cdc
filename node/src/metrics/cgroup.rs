//! Reading a container's numbers from its cgroup, v1 or v2, as cAdvisor (via
//! runc's cgroup library) reads them.
//!
//! | value | cgroup v1 | cgroup v2 |
//! | --- | --- | --- |
//! | CPU time | `cpuacct.usage` (ns) | `cpu.stat` `usage_usec` |
//! | memory usage | `memory.usage_in_bytes` | `memory.current` |
//! | inactive file (for the working set) | `memory.stat` `total_inactive_file` | `memory.stat` `inactive_file` |
//! | RSS | `memory.stat` `total_rss` | `memory.stat` `anon` |
//! | memory limit | `memory.limit_in_bytes` | `memory.max` (`max` = none) |
//! | processes | `cgroup.procs` lines (pids hierarchy) | `cgroup.procs` lines |
//! | threads, their limit | `pids.current`, `pids.max` | same |
//! | OOM kills | `memory.oom_control` `oom_kill` (Linux ≥ 4.13) | `memory.events` `oom_kill` |
//!
//! A file that is missing (controller not enabled, older kernel) leaves its
//! value unset and the metric is not written; a file that does not parse is
//! an error naming it. Reads are bounded: cgroup files are small, and a
//! learner may own the cgroup directory.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest cgroup file read (`cgroup.procs` of a big container is the largest).
const MAX_FILE: u64 = 4 * 1024 * 1024;

/// One container's numbers. `None`: not available in this cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub cpu_usage_ns: Option<u64>,
    pub memory_usage_bytes: Option<u64>,
    /// `inactive_file` (v2) or `total_inactive_file` (v1).
    pub memory_inactive_file_bytes: Option<u64>,
    pub memory_rss_bytes: Option<u64>,
    /// `u64::MAX` when there is no limit.
    pub memory_limit_bytes: Option<u64>,
    pub processes: Option<u64>,
    pub threads: Option<u64>,
    /// `Some(None)`: the pids controller is there, without a limit.
    pub threads_max: Option<Option<u64>>,
    pub oom_kills: Option<u64>,
}

impl CgroupStats {
    /// cAdvisor's working set: usage minus inactive file, floored at 0; the
    /// usage itself when the inactive file count is unknown.
    pub fn working_set_bytes(&self) -> Option<u64> {
        let usage = self.memory_usage_bytes?;
        Some(match self.memory_inactive_file_bytes {
            Some(inactive) => usage.saturating_sub(inactive),
            None => usage,
        })
    }
}

/// A container's directories in the v1 hierarchies it is accounted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupV1Dirs {
    pub cpuacct: PathBuf,
    pub memory: PathBuf,
    pub pids: PathBuf,
}

/// Reads a cgroup v2 directory.
pub fn read_cgroup_v2(dir: &Path) -> io::Result<CgroupStats> {
    let stat = read_opt(&dir.join("memory.stat"))?;
    Ok(CgroupStats {
        cpu_usage_ns: keyed(dir, "cpu.stat", "usage_usec")?.map(|us| us.saturating_mul(1000)),
        memory_usage_bytes: single(&dir.join("memory.current"))?,
        memory_inactive_file_bytes: lookup(&stat, &dir.join("memory.stat"), "inactive_file")?,
        memory_rss_bytes: lookup(&stat, &dir.join("memory.stat"), "anon")?,
        memory_limit_bytes: limit(&dir.join("memory.max"))?.map(|l| l.unwrap_or(u64::MAX)),
        processes: count_lines(&dir.join("cgroup.procs"))?,
        threads: single(&dir.join("pids.current"))?,
        threads_max: limit(&dir.join("pids.max"))?,
        oom_kills: keyed(dir, "memory.events", "oom_kill")?,
    })
}

/// Reads a container's cgroup v1 directories.
pub fn read_cgroup_v1(dirs: &CgroupV1Dirs) -> io::Result<CgroupStats> {
    let mem = &dirs.memory;
    let stat_path = mem.join("memory.stat");
    let stat = read_opt(&stat_path)?;
    let rss = match lookup(&stat, &stat_path, "total_rss")? {
        Some(v) => Some(v),
        None => lookup(&stat, &stat_path, "rss")?,
    };
    // The kernel's "no limit" is PAGE_COUNTER_MAX pages, near i64::MAX.
    let limit_v1 = single(&mem.join("memory.limit_in_bytes"))?;
    Ok(CgroupStats {
        cpu_usage_ns: single(&dirs.cpuacct.join("cpuacct.usage"))?,
        memory_usage_bytes: single(&mem.join("memory.usage_in_bytes"))?,
        memory_inactive_file_bytes: lookup(&stat, &stat_path, "total_inactive_file")?,
        memory_rss_bytes: rss,
        memory_limit_bytes: limit_v1.map(|v| if v > 1 << 62 { u64::MAX } else { v }),
        processes: count_lines(&dirs.pids.join("cgroup.procs"))?,
        threads: single(&dirs.pids.join("pids.current"))?,
        threads_max: limit(&dirs.pids.join("pids.max"))?,
        oom_kills: keyed(mem, "memory.oom_control", "oom_kill")?,
    })
}

/// The file's text, `None` if it does not exist.
fn read_opt(path: &Path) -> io::Result<Option<String>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(with_path(path, e)),
    };
    let mut text = String::new();
    file.take(MAX_FILE)
        .read_to_string(&mut text)
        .map_err(|e| with_path(path, e))?;
    Ok(Some(text))
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn bad(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what} (not as the kernel writes it)", path.display()),
    )
}

fn number(path: &Path, s: &str) -> io::Result<u64> {
    s.trim()
        .parse()
        .map_err(|_| bad(path, &format!("{:?} is not a number", s.trim())))
}

/// A file holding one number.
fn single(path: &Path) -> io::Result<Option<u64>> {
    read_opt(path)?.map(|t| number(path, &t)).transpose()
}

/// A limit file: a number, or `max` for none (`Some(None)`).
fn limit(path: &Path) -> io::Result<Option<Option<u64>>> {
    match read_opt(path)? {
        None => Ok(None),
        Some(t) if t.trim() == "max" => Ok(Some(None)),
        Some(t) => number(path, &t).map(|n| Some(Some(n))),
    }
}

/// `key value` lines (`memory.stat`, `cpu.stat`, `memory.events`, ...).
fn lookup(text: &Option<String>, path: &Path, key: &str) -> io::Result<Option<u64>> {
    let Some(text) = text else { return Ok(None) };
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if parts.next() == Some(key) {
            let value = parts
                .next()
                .ok_or_else(|| bad(path, &format!("{key} without a value")))?;
            return number(path, value).map(Some);
        }
    }
    Ok(None)
}

fn keyed(dir: &Path, file: &str, key: &str) -> io::Result<Option<u64>> {
    let path = dir.join(file);
    lookup(&read_opt(&path)?, &path, key)
}

fn count_lines(path: &Path) -> io::Result<Option<u64>> {
    Ok(read_opt(path)?.map(|t| t.lines().filter(|l| !l.trim().is_empty()).count() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        fs::create_dir_all(dir).unwrap();
        for (name, text) in files {
            fs::write(dir.join(name), text).unwrap();
        }
    }

    #[test]
    fn reads_v2_as_the_kernel_writes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            &[
                ("cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n"),
                ("memory.current", "10485760\n"),
                ("memory.stat", "anon 4194304\nfile 6291456\nkernel 0\nactive_file 2097152\ninactive_file 4194304\n"),
                ("memory.max", "max\n"),
                ("cgroup.procs", "101\n102\n"),
                ("pids.current", "5\n"),
                ("pids.max", "64\n"),
                ("memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"),
            ],
        );
        let s = read_cgroup_v2(d).unwrap();
        assert_eq!(
            s,
            CgroupStats {
                cpu_usage_ns: Some(2_500_000_000),
                memory_usage_bytes: Some(10_485_760),
                memory_inactive_file_bytes: Some(4_194_304),
                memory_rss_bytes: Some(4_194_304),
                memory_limit_bytes: Some(u64::MAX),
                processes: Some(2),
                threads: Some(5),
                threads_max: Some(Some(64)),
                oom_kills: Some(1),
            }
        );
        assert_eq!(s.working_set_bytes(), Some(6_291_456));
    }

    #[test]
    fn reads_v1_from_three_hierarchies() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = CgroupV1Dirs {
            cpuacct: tmp.path().join("cpuacct/kubepods/pod1/c"),
            memory: tmp.path().join("memory/kubepods/pod1/c"),
            pids: tmp.path().join("pids/kubepods/pod1/c"),
        };
        write(&dirs.cpuacct, &[("cpuacct.usage", "123456789\n")]);
        write(
            &dirs.memory,
            &[
                ("memory.usage_in_bytes", "8192\n"),
                ("memory.limit_in_bytes", "9223372036854771712\n"),
                ("memory.stat", "cache 0\nrss 100\ninactive_file 7\ntotal_cache 0\ntotal_rss 4096\ntotal_inactive_file 10000\n"),
                ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            ],
        );
        write(
            &dirs.pids,
            &[
                ("cgroup.procs", "7\n"),
                ("pids.current", "3\n"),
                ("pids.max", "max\n"),
            ],
        );
        let s = read_cgroup_v1(&dirs).unwrap();
        assert_eq!(s.cpu_usage_ns, Some(123_456_789));
        assert_eq!(
            s.memory_rss_bytes,
            Some(4096),
            "hierarchical total_rss wins"
        );
        assert_eq!(
            s.memory_limit_bytes,
            Some(u64::MAX),
            "the kernel's no-limit value"
        );
        assert_eq!(
            s.working_set_bytes(),
            Some(0),
            "floored at 0 as cAdvisor does"
        );
        assert_eq!(
            (s.processes, s.threads, s.threads_max),
            (Some(1), Some(3), Some(None))
        );
        assert_eq!(s.oom_kills, Some(2));
    }

    #[test]
    fn missing_files_are_unset_and_bad_ones_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        // An old kernel without oom_kill, no pids controller, no memory.stat.
        write(
            d,
            &[
                ("memory.current", "42\n"),
                ("memory.events", "low 0\noom 1\n"),
            ],
        );
        let s = read_cgroup_v2(d).unwrap();
        assert_eq!(s.memory_usage_bytes, Some(42));
        assert_eq!(s.working_set_bytes(), Some(42));
        assert_eq!(
            (s.cpu_usage_ns, s.threads, s.threads_max, s.oom_kills),
            (None, None, None, None)
        );
        write(d, &[("pids.current", "lots\n")]);
        let err = read_cgroup_v2(d).unwrap_err().to_string();
        assert!(
            err.contains("pids.current") && err.contains("\"lots\" is not a number"),
            "{err}"
        );
        write(d, &[("pids.current", "1\n"), ("cpu.stat", "usage_usec\n")]);
        let err = read_cgroup_v2(d).unwrap_err().to_string();
        assert!(
            err.contains("cpu.stat") && err.contains("usage_usec without a value"),
            "{err}"
        );
    }
}
