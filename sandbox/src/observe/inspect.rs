//! `kubelab inspect --pid PID FIELD`: one value, the same numbers the panes
//! show, independent of the cgroup version.

use super as observe;
use crate::cgroup::Cgroup;
use crate::spec::Namespace;

/// Every field `inspect` knows.
pub const FIELDS: &[&str] = &[
    "memory.current",
    "memory.peak",
    "memory.max",
    "oom_kills",
    "cpu.usage_usec",
    "cpu.throttled_usec",
    "cpu.quota",
    "pids.current",
    "pids.max",
    "ns.pid",
    "ns.uts",
    "ns.ipc",
    "ns.mnt",
    "ns.net",
    "ns.user",
    "ns.cgroup",
    "nspid",
];

/// Why a field could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    UnknownField(String),
    Failed(String),
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InspectError::UnknownField(x) => {
                write!(f, "unknown field `{x}`; known fields: {}", FIELDS.join(" "))
            }
            InspectError::Failed(m) => f.write_str(m),
        }
    }
}

fn opt(v: Option<u64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "max".into())
}

/// Reads `field` for process `pid`.
pub fn field(pid: u32, field: &str) -> Result<String, InspectError> {
    if !FIELDS.contains(&field) {
        return Err(InspectError::UnknownField(field.to_string()));
    }
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(InspectError::Failed(format!("no process with PID {pid}")));
    }
    if let Some(ns) = field.strip_prefix("ns.") {
        let ns: Namespace = ns
            .parse()
            .map_err(|e: crate::spec::SpecError| InspectError::Failed(e.to_string()))?;
        let member = crate::ns::enter::readable_member(pid as i32);
        return observe::ns_inode(&member.to_string(), ns)
            .map(|i| i.to_string())
            .map_err(|e| InspectError::Failed(format!("/proc/{pid}/ns/{}: {e}", ns.name())));
    }
    if field == "nspid" {
        return observe::nspid(pid as i32)
            .map(|v| {
                v.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .map_err(|e| InspectError::Failed(format!("/proc/{pid}/status: {e}")));
    }
    let cg = Cgroup::of_pid(pid)
        .map_err(|e| InspectError::Failed(format!("/proc/{pid}/cgroup: {e}")))?;
    let s = cg.stats();
    Ok(match field {
        "memory.current" => s.memory_current.to_string(),
        "memory.peak" => s.memory_peak.to_string(),
        "memory.max" => opt(s.memory_max),
        "oom_kills" => s.oom_kills.to_string(),
        "cpu.usage_usec" => s.cpu_usage_usec.to_string(),
        "cpu.throttled_usec" => s.cpu_throttled_usec.to_string(),
        "cpu.quota" => s
            .cpu_quota
            .map(|q| format!("{}", (q * 1000.0).round() / 1000.0))
            .unwrap_or_else(|| "max".into()),
        "pids.current" => s.pids_current.to_string(),
        "pids.max" => opt(s.pids_max),
        _ => return Err(InspectError::UnknownField(field.to_string())),
    })
}
