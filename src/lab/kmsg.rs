//! OOM kills from the kernel log (`/dev/kmsg`).
//!
//! The cgroup's `oom_kill` counter is enough while the sandbox lives, but
//! when the OOM killer picks the sandbox's shell the sandbox ends and its
//! cgroup is removed within milliseconds, usually before the next sample.
//! The kernel also logs every kill with the cgroup and the victim
//! (`oom-kill:…,task_memcg=/…/kubelab/ID,task=bash,pid=1234,…`), and that
//! record outlives the cgroup. Reading it needs root (`dmesg_restrict`);
//! without it the log is simply not used.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Mutex;

/// A reader of kernel log records written after it was opened.
pub struct KernelLog {
    file: Mutex<Option<File>>,
    /// The sandbox's cgroup directories; a kill counts when its
    /// `task_memcg` is the tail of one of them.
    dirs: Vec<String>,
}

/// One OOM kill: the victim's host PID and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedKill {
    pub host_pid: u32,
    pub name: String,
}

impl KernelLog {
    /// Opens `/dev/kmsg` at its end (records from now on), if readable.
    pub fn open(dirs: Vec<PathBuf>) -> KernelLog {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open("/dev/kmsg")
            .and_then(|mut f| f.seek(SeekFrom::End(0)).map(|_| f))
            .ok();
        KernelLog {
            file: Mutex::new(file),
            dirs: dirs
                .iter()
                .map(|d| d.to_string_lossy().into_owned())
                .collect(),
        }
    }

    /// OOM kills in the sandbox's cgroup logged since the last call.
    pub fn new_kills(&self) -> Vec<LoggedKill> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = guard.as_mut() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            // One record per read; EAGAIN: no more for now.
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let rec = String::from_utf8_lossy(&buf[..n]);
                    if let Some(k) = parse_record(&rec).filter(|k| self.ours(&k.1)) {
                        out.push(k.0);
                    }
                }
                // Records were overwritten before we read them: go on.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PIPE.raw_os_error()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        out
    }

    fn ours(&self, memcg: &str) -> bool {
        memcg.len() > 1 && self.dirs.iter().any(|d| d.ends_with(memcg))
    }
}

/// `6,123,456,-;oom-kill:constraint=…,task_memcg=/a/b,task=bash,pid=12,uid=0`
/// → the kill and its `task_memcg`.
pub fn parse_record(rec: &str) -> Option<(LoggedKill, String)> {
    let msg = rec.split_once(';')?.1.lines().next()?;
    let fields = msg.strip_prefix("oom-kill:")?;
    let get = |key: &str| {
        fields
            .split(',')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    };
    let memcg = get("task_memcg").or_else(|| get("oom_memcg"))?;
    Some((
        LoggedKill {
            host_pid: get("pid")?.parse().ok()?,
            name: get("task")?.to_string(),
        },
        memcg.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oom_record_names_the_victim_and_its_cgroup() {
        let rec = "3,1234,3889472438,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),\
                   cpuset=/,mems_allowed=0,oom_memcg=/p/kubelab/f29d,task_memcg=/p/kubelab/f29d,\
                   task=bash,pid=2713,uid=0\n SUBSYSTEM=x\n";
        let (k, memcg) = parse_record(rec).unwrap();
        assert_eq!(
            k,
            LoggedKill {
                host_pid: 2713,
                name: "bash".into()
            }
        );
        assert_eq!(memcg, "/p/kubelab/f29d");
        assert!(parse_record("6,1,2,-;Memory cgroup out of memory: Killed process 2713").is_none());
        let log = KernelLog {
            file: Mutex::new(None),
            dirs: vec!["/sys/fs/cgroup/memory/p/kubelab/f29d".into()],
        };
        assert!(log.ours(&memcg));
        assert!(!log.ours("/p/kubelab/other"));
        assert!(!log.ours("/"));
    }
}
