//! cgroups v1, v2 and hybrid: detection, one cgroup per sandbox, limits, stats,
//! and whole-cgroup kill + removal.
//!
//! Layout: the sandbox cgroup is `<parent>/kubelab/<id>` in every hierarchy used,
//! where `<parent>` is the cgroup kubelab itself runs in (v1, and v2 rootless
//! with delegation) or the root (v2 as root). The `kubelab` directory is removed
//! again when it becomes empty, so nothing named kubelab outlives the sandboxes.

use crate::spec::Limits;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Only the unified hierarchy.
    V2,
    /// Only v1 controller hierarchies.
    V1,
    /// v1 controllers plus a (controller-less) cgroup2 mount.
    Hybrid,
    /// No cgroup filesystem mounted.
    None,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::V2 => "v2 (unified)",
            Mode::V1 => "v1 (legacy)",
            Mode::Hybrid => "hybrid (v1 controllers + empty v2)",
            Mode::None => "none",
        }
    }
}

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub mount: PathBuf,
    /// The mount's root inside the hierarchy (`/` unless bind-mounted in a container).
    pub root: String,
    pub version: u8,
    /// v1: the controllers bound to this hierarchy; v2: `cgroup.controllers` of the mount root.
    pub controllers: Vec<String>,
}

const V1_CONTROLLERS: [&str; 5] = ["memory", "cpu", "cpuacct", "pids", "freezer"];

/// Reads the cgroup mounts of this process's mount namespace.
pub fn hierarchies() -> Vec<Hierarchy> {
    let text = crate::sys::read_small(Path::new("/proc/self/mountinfo")).unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let mount = PathBuf::from(unescape(l[4]));
        let root = unescape(l[3]);
        match r[0] {
            "cgroup2" => {
                let controllers = fs::read_to_string(mount.join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(String::from)
                    .collect();
                out.push(Hierarchy {
                    mount,
                    root,
                    version: 2,
                    controllers,
                });
            }
            "cgroup" => {
                let controllers = r[2]
                    .split(',')
                    .filter(|o| V1_CONTROLLERS.contains(o))
                    .map(String::from)
                    .collect::<Vec<_>>();
                if !controllers.is_empty() {
                    out.push(Hierarchy {
                        mount,
                        root,
                        version: 1,
                        controllers,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

pub(crate) fn unescape(s: &str) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .ok()
                .and_then(|t| u8::from_str_radix(t, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Detects the cgroup mode of this host.
pub fn mode() -> Mode {
    let hs = hierarchies();
    let v1 = hs.iter().any(|h| h.version == 1);
    let v2 = hs.iter().any(|h| h.version == 2);
    match (v1, v2) {
        (true, true) => Mode::Hybrid,
        (true, false) => Mode::V1,
        (false, true) => Mode::V2,
        (false, false) => Mode::None,
    }
}

/// The cgroup path of `pid` in each hierarchy, from `/proc/PID/cgroup`:
/// (hierarchy id, controllers, path).
pub(crate) fn proc_cgroup(pid: &str) -> io::Result<Vec<(String, Vec<String>, String)>> {
    let text = crate::sys::read_small(Path::new(&format!("/proc/{pid}/cgroup")))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let id = it.next()?.to_string();
            let ctrls = it.next()?;
            let path = it.next()?.to_string();
            Some((
                id,
                ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| c.trim_start_matches("name=").to_string())
                    .collect(),
                path,
            ))
        })
        .collect())
}

/// Directory of a process's cgroup within hierarchy `h`.
pub(crate) fn dir_in(h: &Hierarchy, entries: &[(String, Vec<String>, String)]) -> Option<PathBuf> {
    let path = if h.version == 2 {
        entries.iter().find(|(id, _, _)| id == "0")?.2.clone()
    } else {
        entries
            .iter()
            .find(|(_, c, _)| h.controllers.iter().any(|hc| c.contains(hc)))?
            .2
            .clone()
    };
    let rel = path
        .strip_prefix(h.root.trim_end_matches('/'))
        .unwrap_or(&path)
        .trim_start_matches('/')
        .to_string();
    Some(if rel.is_empty() {
        h.mount.clone()
    } else {
        h.mount.join(rel)
    })
}

/// The cgroup directories of one sandbox (or of any process, for observation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    /// 1 or 2.
    pub version: u8,
    pub memory: Option<PathBuf>,
    pub cpu: Option<PathBuf>,
    pub cpuacct: Option<PathBuf>,
    pub pids: Option<PathBuf>,
    pub freezer: Option<PathBuf>,
    /// Directories kubelab created for this sandbox (removed at teardown).
    pub created: Vec<PathBuf>,
    /// Where the sandbox's processes go, one per hierarchy of `version`:
    /// `kubelab/<id>/payload` below the limits, or `kubelab/<id>` in a
    /// hierarchy without limits (see [`crate::cgroup_tree`]).
    #[serde(default)]
    pub payload: Vec<PathBuf>,
    /// Hybrid host: the sandbox's cgroup in the controller-less cgroup2.
    #[serde(default)]
    pub unified: Option<PathBuf>,
}

impl Cgroup {
    /// The cgroups `pid` is in, for the controllers kubelab reports on.
    /// On a hybrid host the v1 controllers win (the v2 mount has none).
    /// A sandbox's `kubelab/<id>/payload` is reported as `kubelab/<id>`,
    /// where its limits are.
    pub fn of_pid(pid: u32) -> io::Result<Cgroup> {
        let entries = proc_cgroup(&pid.to_string())?;
        let hs = hierarchies();
        let mut cg = Cgroup::default();
        let v1: Vec<&Hierarchy> = hs.iter().filter(|h| h.version == 1).collect();
        let dir_in = |h: &Hierarchy, e: &[(String, Vec<String>, String)]| {
            dir_in(h, e).map(crate::cgroup_tree::lift_payload)
        };
        if !v1.is_empty() {
            cg.version = 1;
            for h in v1 {
                let dir = dir_in(h, &entries);
                for c in &h.controllers {
                    cg.set(c, dir.clone());
                }
            }
        } else if let Some(h) = hs.iter().find(|h| h.version == 2) {
            cg.version = 2;
            let dir = dir_in(h, &entries);
            for c in ["memory", "cpu", "cpuacct", "pids", "freezer"] {
                cg.set(c, dir.clone());
            }
        }
        Ok(cg)
    }

    fn set(&mut self, controller: &str, dir: Option<PathBuf>) {
        match controller {
            "memory" => self.memory = dir,
            "cpu" => self.cpu = dir,
            "cpuacct" => self.cpuacct = dir,
            "pids" => self.pids = dir,
            "freezer" => self.freezer = dir,
            _ => {}
        }
    }

    /// Every distinct directory (one per hierarchy).
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = [
            &self.memory,
            &self.cpu,
            &self.cpuacct,
            &self.pids,
            &self.freezer,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The directories a process of the sandbox joins (one per hierarchy of
    /// `version`): the payload cgroups, or (older state) the limits' ones.
    pub fn join_dirs(&self) -> Vec<PathBuf> {
        if self.payload.is_empty() {
            self.dirs()
        } else {
            self.payload.clone()
        }
    }

    /// Current usage and limits. Missing files read as zero / no limit.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        if self.version == 2 {
            if let Some(d) = &self.memory {
                s.memory_current = read_u64(d, "memory.current");
                s.memory_peak = read_u64(d, "memory.peak");
                s.memory_max = read_limit(d, "memory.max");
                let ev = read_kv(d, "memory.events");
                s.oom_events = kv(&ev, "oom");
                s.oom_kills = kv(&ev, "oom_kill");
            }
            if let Some(d) = &self.cpu {
                let st = read_kv(d, "cpu.stat");
                s.cpu_usage_usec = kv(&st, "usage_usec");
                s.cpu_throttled_usec = kv(&st, "throttled_usec");
                s.cpu_nr_throttled = kv(&st, "nr_throttled");
                s.cpu_quota = fs::read_to_string(d.join("cpu.max"))
                    .ok()
                    .and_then(|t| parse_cpu_max(&t));
            }
            if let Some(d) = &self.pids {
                s.pids_current = read_u64(d, "pids.current");
                s.pids_max = read_limit(d, "pids.max");
                s.pids_limit_hits = kv(&read_kv(d, "pids.events"), "max");
            }
        } else {
            if let Some(d) = &self.memory {
                s.memory_current = read_u64(d, "memory.usage_in_bytes");
                s.memory_peak = read_u64(d, "memory.max_usage_in_bytes");
                // v1 reports "no limit" as a huge page-aligned number.
                s.memory_max = read_limit(d, "memory.limit_in_bytes").filter(|&v| v < (1 << 62));
                let oc = read_kv(d, "memory.oom_control");
                s.oom_kills = kv(&oc, "oom_kill");
                // v1 has no separate "oom" counter; the failcnt counts limit hits.
                s.oom_events = s.oom_kills.max(kv(&oc, "under_oom"));
            }
            if let Some(d) = &self.cpuacct {
                s.cpu_usage_usec = read_u64(d, "cpuacct.usage") / 1000;
            }
            if let Some(d) = &self.cpu {
                let st = read_kv(d, "cpu.stat");
                s.cpu_throttled_usec = kv(&st, "throttled_time") / 1000;
                s.cpu_nr_throttled = kv(&st, "nr_throttled");
                let quota = fs::read_to_string(d.join("cpu.cfs_quota_us"))
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .unwrap_or(-1);
                let period = read_u64(d, "cpu.cfs_period_us");
                if quota > 0 && period > 0 {
                    s.cpu_quota = Some(quota as f64 / period as f64);
                }
            }
            if let Some(d) = &self.pids {
                s.pids_current = read_u64(d, "pids.current");
                s.pids_max = read_limit(d, "pids.max");
                s.pids_limit_hits = kv(&read_kv(d, "pids.events"), "max");
            }
        }
        s
    }

    /// Host PIDs of every process in the sandbox cgroup.
    pub fn pids_in(&self) -> Vec<i32> {
        let mut out = Vec::new();
        for d in self.created_or_dirs() {
            if let Ok(t) = fs::read_to_string(d.join("cgroup.procs")) {
                out.extend(t.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn created_or_dirs(&self) -> Vec<PathBuf> {
        if self.created.is_empty() {
            self.dirs()
        } else {
            self.created.clone()
        }
    }

    /// Kills every process in the cgroup: `cgroup.kill` on v2; freeze, SIGKILL
    /// everything, thaw on v1 (so a fork bomb cannot outrun the kill loop).
    pub fn kill_all(&self) {
        if self.version == 2 {
            if let Some(d) = &self.pids.clone().or(self.memory.clone()) {
                if fs::write(d.join("cgroup.kill"), "1").is_ok() {
                    return;
                }
            }
            for _ in 0..50 {
                let pids = self.pids_in();
                if pids.is_empty() {
                    return;
                }
                let _ = fs::write(
                    self.pids.clone().unwrap_or_default().join("cgroup.freeze"),
                    "1",
                );
                for p in pids {
                    let _ = crate::sys::kill(p, libc::SIGKILL);
                }
                let _ = fs::write(
                    self.pids.clone().unwrap_or_default().join("cgroup.freeze"),
                    "0",
                );
            }
            return;
        }
        if self.pids_in().is_empty() {
            return;
        }
        let freezer = self.freezer.clone();
        if let Some(f) = &freezer {
            let _ = fs::write(f.join("freezer.state"), "FROZEN");
            let deadline = Instant::now() + Duration::from_millis(500);
            while Instant::now() < deadline {
                match fs::read_to_string(f.join("freezer.state")) {
                    Ok(s) if s.trim() == "FROZEN" => break,
                    Ok(_) => std::thread::sleep(Duration::from_millis(2)),
                    Err(_) => break,
                }
            }
        }
        for _ in 0..50 {
            let pids = self.pids_in();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                let _ = crate::sys::kill(p, libc::SIGKILL);
            }
            if let Some(f) = &freezer {
                let _ = fs::write(f.join("freezer.state"), "THAWED");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if let Some(f) = &freezer {
            let _ = fs::write(f.join("freezer.state"), "THAWED");
        }
    }

    /// Kills what is left and removes the directories kubelab created, then the
    /// `kubelab` parents if they became empty. Returns what could not be removed.
    pub fn destroy(&self) -> Vec<String> {
        if self.created.is_empty() {
            return Vec::new();
        }
        // No kill_all up front: usually the cgroup is empty by now (a PID
        // namespace dies with its PID 1 before the supervisor reaps it), and
        // its rmdir is the check: EBUSY = still populated, kill and retry.
        // That saves reading every cgroup.procs on each sandbox exit.
        let mut problems = Vec::new();
        // Children (payload) before their parents.
        let mut created = self.created.clone();
        created.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in &created {
            let deadline = Instant::now() + Duration::from_secs(2);
            let mut first = true;
            loop {
                match fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        self.kill_all();
                        if !first {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        first = false;
                    }
                    Err(e) => {
                        problems.push(format!("{}: {e}", d.display()));
                        break;
                    }
                }
            }
            if let Some(parent) = d.parent() {
                if parent.file_name().is_some_and(|n| n == "kubelab") {
                    // Fails harmlessly while other sandboxes still use it.
                    let _ = fs::remove_dir(parent);
                }
            }
        }
        problems
    }
}

/// One sample of a sandbox's cgroup counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub memory_current: u64,
    pub memory_peak: u64,
    /// None: no limit.
    pub memory_max: Option<u64>,
    pub oom_kills: u64,
    /// Times the cgroup hit its memory limit and ran the OOM path (v2 `oom`).
    pub oom_events: u64,
    pub cpu_usage_usec: u64,
    pub cpu_throttled_usec: u64,
    pub cpu_nr_throttled: u64,
    /// Quota in cores; None: no limit.
    pub cpu_quota: Option<f64>,
    pub pids_current: u64,
    pub pids_max: Option<u64>,
    /// How often a fork failed because of pids.max.
    pub pids_limit_hits: u64,
}

fn read_u64(d: &Path, f: &str) -> u64 {
    fs::read_to_string(d.join(f))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn read_limit(d: &Path, f: &str) -> Option<u64> {
    fs::read_to_string(d.join(f))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

fn read_kv(d: &Path, f: &str) -> Vec<(String, u64)> {
    fs::read_to_string(d.join(f))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn kv(v: &[(String, u64)], k: &str) -> u64 {
    v.iter().find(|(a, _)| a == k).map(|(_, b)| *b).unwrap_or(0)
}

fn parse_cpu_max(t: &str) -> Option<f64> {
    let mut it = t.split_whitespace();
    let q = it.next()?;
    let p: f64 = it.next()?.parse().ok()?;
    if q == "max" {
        return None;
    }
    Some(q.parse::<f64>().ok()? / p)
}

/// Why a sandbox runs without cgroup limits, with what would enable them.
pub type NoCgroupReason = String;

const CPU_PERIOD_US: u64 = 100_000;

/// Creates `kubelab/<id>` in every hierarchy kubelab uses and applies `limits`.
/// On failure nothing is left behind and the reason says how to get limits.
pub fn create(id: &str, limits: &Limits) -> Result<Cgroup, NoCgroupReason> {
    create_with(id, limits, None)
}

/// Like [`create`]; `version` forces v1 or v2 (e.g. the empty v2 of a hybrid
/// host, to exercise the v2 mechanics there).
pub fn create_with(
    id: &str,
    limits: &Limits,
    version: Option<u8>,
) -> Result<Cgroup, NoCgroupReason> {
    create_for(id, limits, version, true)
}

/// Like [`create_with`]; without `freezer` a v1 host's freezer-only hierarchy
/// is left out. The freezer only makes the whole-cgroup kill race-free, which
/// a sandbox with its own PID namespace does not need: when its PID 1 dies the
/// kernel kills every process of the namespace, and none can leave it.
/// One hierarchy less is a mkdir and an rmdir less per sandbox.
pub fn create_for(
    id: &str,
    limits: &Limits,
    version: Option<u8>,
    freezer: bool,
) -> Result<Cgroup, NoCgroupReason> {
    plan(version, freezer).create(id, limits)
}

/// The hierarchies a sandbox cgroup will use, decided before anything is
/// created: the supervisor needs the version before it clones PID 1 (v2:
/// the cgroup must exist to clone into it; v1: it is created meanwhile).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    hs: Vec<Hierarchy>,
    /// Rootless v2: the caller's systemd scope, or why it has none.
    v2: V2Parent,
    /// Our effective uid when planning: [`Plan::create`] may run in the
    /// sandbox's user namespace, where it reads 0 even for a rootless caller.
    uid: u32,
}

/// See [`create_for`] for `version` and `freezer`.
pub(crate) fn plan(version: Option<u8>, freezer: bool) -> Plan {
    let mut hs = crate::cgroup_tree::all_hierarchies();
    if let Some(v) = version {
        hs.retain(|h| h.version == v);
    }
    if !freezer {
        hs.retain(|h| !(h.version == 1 && h.controllers.iter().all(|c| c == "freezer")));
    }
    Plan {
        hs,
        v2: V2Parent::default(),
        uid: crate::sys::geteuid(),
    }
}

impl Plan {
    /// Rootless v2: put `kubelab/<id>` below the caller's systemd scope
    /// (`given`), or say in the error why there is none.
    pub(crate) fn with_v2_parent(
        mut self,
        given: Option<PathBuf>,
        why_not: Option<String>,
    ) -> Plan {
        self.v2 = V2Parent { given, why_not };
        self
    }

    /// 1 or 2, the version [`Plan::create`] will use; None: no hierarchy.
    pub(crate) fn version(&self) -> Option<u8> {
        if self.hs.iter().any(|h| h.version == 1) {
            Some(1)
        } else if self.hs.iter().any(|h| h.version == 2) {
            Some(2)
        } else {
            None
        }
    }

    /// Hybrid host, root: creates the sandbox's cgroup in the controller-less
    /// cgroup2 now (the supervisor clones PID 1 straight into it; v2 has no
    /// cheap self-move) and leaves the v1 hierarchies to [`Plan::create`].
    /// None: nothing to do (not hybrid, or not root).
    pub(crate) fn create_unified(&mut self, id: &str) -> Option<Result<Cgroup, NoCgroupReason>> {
        let hybrid = self.hs.iter().any(|h| h.version == 1);
        let at = self.hs.iter().position(|h| h.version == 2)?;
        if !hybrid || self.uid != 0 {
            return None;
        }
        let h = self.hs.remove(at);
        let mut cg = Cgroup {
            version: 1,
            ..Cgroup::default()
        };
        Some(match mkdir_sandbox(&h.mount, id, &mut cg) {
            Ok(dir) => {
                cg.unified = Some(dir);
                Ok(cg)
            }
            Err(e) => Err(format!(
                "cannot create a cgroup in {}: {e}",
                h.mount.display()
            )),
        })
    }

    /// Creates `kubelab/<id>` in the planned hierarchies and applies `limits`.
    /// On failure nothing is left behind and the reason says how to get limits.
    pub(crate) fn create(&self, id: &str, limits: &Limits) -> Result<Cgroup, NoCgroupReason> {
        let hs = &self.hs;
        let own = proc_cgroup("self").map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
        let uid = self.uid;
        let v1: Vec<&Hierarchy> = if hs.iter().any(|h| h.version == 1) {
            hs.iter().collect()
        } else {
            Vec::new()
        };
        let mut cg = Cgroup::default();
        let result = if !v1.is_empty() {
            cg.version = 1;
            create_v1(&mut cg, &v1, &own, id, limits, uid)
        } else if let Some(h) = hs.iter().find(|h| h.version == 2) {
            cg.version = 2;
            create_v2(&mut cg, h, &own, id, limits, uid, &self.v2)
        } else {
            return Err(
                "no cgroup filesystem is mounted; mount cgroup2 at /sys/fs/cgroup \
                        (mount -t cgroup2 none /sys/fs/cgroup) to get limits"
                    .into(),
            );
        };
        match result {
            Ok(()) => Ok(cg),
            Err(e) => {
                cg.destroy();
                Err(e)
            }
        }
    }
}

/// Whether the memory limit leaves swap open, said only when it matters (the
/// host has swap): then a memory hog could swap instead of being OOM-killed
/// at its limit. [`create`] sets `memory.swap.max = 0` (v2) and
/// `memory.memsw.limit_in_bytes` = the limit (v1) where the files exist; they
/// are missing when the kernel's swap accounting is off.
pub fn swap_note(cg: &Cgroup, limits: &Limits) -> Option<String> {
    limits.memory?;
    let d = cg.memory.as_ref()?;
    // The cgroup files first: when they close the gap (the usual case) the
    // host's swap does not matter, and a spawn skips asking for it.
    let note = swap_gap(cg.version, d)?;
    let swap = crate::sys::swap_total().unwrap_or(0);
    (swap > 0).then_some(note)
}

/// What leaves swap open for a memory limit in cgroup `d`, if anything.
fn swap_gap(version: u8, d: &Path) -> Option<String> {
    const FIX: &str = "enable swap accounting (kernel parameter swapaccount=1) or turn swap off \
                       (swapoff -a)";
    if version == 2 {
        return match fs::read_to_string(d.join("memory.swap.max")) {
            Ok(t) if t.trim() == "0" => None,
            Ok(t) => Some(format!(
                "memory.swap.max of {} is `{}`, not 0: the sandbox may swap instead of being \
                 OOM-killed at its memory limit",
                d.display(),
                t.trim()
            )),
            Err(_) => Some(format!(
                "swap accounting is off (no memory.swap.max in {}): the sandbox may swap \
                 instead of being OOM-killed at its memory limit; {FIX}",
                d.display()
            )),
        };
    }
    if d.join("memory.memsw.limit_in_bytes").exists() {
        return None;
    }
    let swappiness = fs::read_to_string(d.join("memory.swappiness")).ok();
    Some(if swappiness.as_deref().map(str::trim) == Some("0") {
        format!(
            "swap accounting is off (no memory.memsw.limit_in_bytes in {}): the memory limit \
             covers RAM only; memory.swappiness=0 keeps the sandbox out of swap, so it is \
             still OOM-killed at the limit; {FIX}",
            d.display()
        )
    } else {
        format!(
            "swap accounting is off (no memory.memsw.limit_in_bytes in {}) and \
             memory.swappiness could not be set to 0: the sandbox may swap instead of being \
             OOM-killed at its memory limit; {FIX}",
            d.display()
        )
    })
}

fn mkdir_sandbox(parent: &Path, id: &str, cg: &mut Cgroup) -> io::Result<PathBuf> {
    let base = parent.join("kubelab");
    let dir = base.join(id);
    // The sandbox's own directory first: the `kubelab` parent usually exists
    // already (one mkdir instead of mkdir parent, EEXIST, stat, mkdir).
    // Another sandbox may remove the empty parent between our creating it
    // and our mkdir, so retry a few times.
    for _ in 0..5 {
        match fs::create_dir(&dir) {
            Ok(()) => {
                cg.created.push(dir.clone());
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&base) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "the kubelab cgroup parent kept disappearing",
    ))
}

fn write_file(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(dir.join(file))
        .map_err(|e| format!("open {}: {e}", dir.join(file).display()))?;
    f.write_all(value.as_bytes())
        .map_err(|e| format!("write `{value}` to {}: {e}", dir.join(file).display()))
}

fn create_v1(
    cg: &mut Cgroup,
    v1: &[&Hierarchy],
    own: &[(String, Vec<String>, String)],
    id: &str,
    limits: &Limits,
    uid: u32,
) -> Result<(), String> {
    for h in v1 {
        let parent = dir_in(h, own)
            .ok_or_else(|| format!("this process has no cgroup in {}", h.mount.display()))?;
        if h.version == 2 {
            // Hybrid, through the public API: the controller-less cgroup2.
            let dir = mkdir_sandbox(&h.mount, id, cg)
                .map_err(|e| format!("cannot create a cgroup in {}: {e}", h.mount.display()))?;
            cg.unified = Some(dir);
            continue;
        }
        let dir = mkdir_sandbox(&parent, id, cg).map_err(|e| {
            if uid != 0 {
                format!(
                    "cgroup v1 ({}) is not writable by uid {uid}: {e}; cgroup v1 has no safe \
                     delegation, so limits need root (sudo kubelab ...) or a cgroup v2 host",
                    parent.display()
                )
            } else {
                format!("cannot create a cgroup in {}: {e}", parent.display())
            }
        })?;
        if h.controllers.iter().any(|c| c == "cpuset") {
            // (The `kubelab` parent may be new: made by mkdir_sandbox.)
            if let Some(base) = dir.parent() {
                crate::cgroup_tree::cpuset_parent(base)?;
            }
            crate::cgroup_tree::fill_cpuset(&dir)?;
        }
        for c in &h.controllers {
            cg.set(c, Some(dir.clone()));
        }
        // One level in v1 (see [`crate::cgroup_tree`] for why).
        cg.payload.push(dir);
    }
    if let Some(m) = limits.memory {
        let d = cg
            .memory
            .clone()
            .ok_or("limits.memory: the v1 memory controller is not mounted")?;
        write_file(&d, "memory.limit_in_bytes", &m.0.to_string())?;
        // Without swap accounting a hog would swap instead of being OOM-killed.
        if d.join("memory.memsw.limit_in_bytes").exists() {
            write_file(&d, "memory.memsw.limit_in_bytes", &m.0.to_string())?;
        }
        let _ = write_file(&d, "memory.swappiness", "0");
    }
    if let Some(c) = limits.cpus {
        let d = cg
            .cpu
            .clone()
            .ok_or("limits.cpus: the v1 cpu controller is not mounted")?;
        let quota = ((c.cores() * CPU_PERIOD_US as f64).round() as u64).max(1000);
        write_file(&d, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
        write_file(&d, "cpu.cfs_quota_us", &quota.to_string())?;
    }
    if let Some(p) = limits.pids {
        let d = cg
            .pids
            .clone()
            .ok_or("limits.pids: the v1 pids controller is not mounted")?;
        write_file(&d, "pids.max", &p.to_string())?;
    }
    Ok(())
}

/// Where a rootless v2 sandbox's `kubelab/<id>` goes when the caller chose:
/// its systemd scope, or why it has none (see [`crate::cgroup_delegation`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct V2Parent {
    pub given: Option<PathBuf>,
    pub why_not: Option<String>,
}

fn create_v2(
    cg: &mut Cgroup,
    h: &Hierarchy,
    own: &[(String, Vec<String>, String)],
    id: &str,
    limits: &Limits,
    uid: u32,
    v2: &V2Parent,
) -> Result<(), String> {
    let own_dir = dir_in(h, own).ok_or("this process has no cgroup v2 path")?;
    // Root uses the hierarchy root; others the caller's systemd scope, else
    // the highest delegated ancestor.
    let parent = if uid == 0 {
        h.mount.clone()
    } else if let Some(scope) = &v2.given {
        if !crate::cgroup_delegation::delegated_to(scope, uid) {
            return Err(format!(
                "the systemd scope {} is not delegated to uid {uid}",
                scope.display()
            ));
        }
        scope.clone()
    } else {
        crate::cgroup_delegation::delegated_ancestor(h, &own_dir, uid).ok_or_else(|| {
            let scope = v2
                .why_not
                .as_ref()
                .map(|w| format!("no delegated systemd scope either ({w}); "))
                .unwrap_or_default();
            let fix = if v2
                .why_not
                .as_ref()
                .is_some_and(|w| w.contains("no user D-Bus"))
            {
                "start your systemd user manager (sudo loginctl enable-linger $USER, then log \
                 in again) or run inside a delegated scope: \
                 systemd-run --user --scope -p Delegate=yes kubelab ..., or run as root"
            } else {
                "run kubelab inside a delegated scope: \
                 systemd-run --user --scope -p Delegate=yes kubelab ..., or run as root"
            };
            format!(
                "cgroup v2 is not delegated to uid {uid} (own cgroup {} is not owned by you); \
                 {scope}{fix}",
                own_dir.display()
            )
        })?
    };
    let wanted: Vec<&str> = [
        limits.memory.map(|_| "memory"),
        limits.cpus.map(|_| "cpu"),
        limits.pids.map(|_| "pids"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let available = fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
    for w in &wanted {
        if !available.split_whitespace().any(|a| a == *w) {
            return Err(format!(
                "the `{w}` controller is not available in {} (cgroup.controllers: `{}`); \
                 delegate it (systemd: {}) or run as root",
                parent.display(),
                available.trim(),
                crate::cgroup_delegation::DELEGATE_FIX
            ));
        }
    }
    let enable = |dir: &Path| -> Result<(), String> {
        for c in ["memory", "cpu", "pids"] {
            if available.split_whitespace().any(|a| a == c) {
                let r = write_file(dir, "cgroup.subtree_control", &format!("+{c}"));
                if let Err(e) = r {
                    if wanted.contains(&c) {
                        return Err(format!(
                            "{e} (a cgroup v2 with processes of its own cannot delegate \
                             controllers; run kubelab in a leaf cgroup below a delegated one)"
                        ));
                    }
                }
            }
        }
        Ok(())
    };
    enable(&parent)?;
    let dir = mkdir_sandbox(&parent, id, cg)
        .map_err(|e| format!("cannot create a cgroup in {}: {e}", parent.display()))?;
    enable(dir.parent().unwrap_or(&parent))?;
    for c in ["memory", "cpu", "cpuacct", "pids", "freezer"] {
        cg.set(c, Some(dir.clone()));
    }
    // The processes go one level down (no controller enabled there: the
    // sandbox sees no limit files at all, see [`crate::cgroup_tree`]).
    let payload = dir.join(crate::cgroup_tree::PAYLOAD);
    fs::create_dir(&payload)
        .map_err(|e| format!("cannot create a cgroup {}: {e}", payload.display()))?;
    cg.created.push(payload.clone());
    cg.payload.push(payload);
    if let Some(m) = limits.memory {
        write_file(&dir, "memory.max", &m.0.to_string())?;
        if dir.join("memory.swap.max").exists() {
            let _ = write_file(&dir, "memory.swap.max", "0");
        }
    }
    if let Some(c) = limits.cpus {
        let quota = ((c.cores() * CPU_PERIOD_US as f64).round() as u64).max(1000);
        write_file(&dir, "cpu.max", &format!("{quota} {CPU_PERIOD_US}"))?;
    }
    if let Some(p) = limits.pids {
        write_file(&dir, "pids.max", &p.to_string())?;
    }
    Ok(())
}

/// Opens the `cgroup.procs` files of a sandbox cgroup for writing. Writes through
/// these descriptors are checked against the opener's credentials, so they keep
/// working after the supervisor has entered its user namespace.
pub fn open_procs(cg: &Cgroup) -> io::Result<Vec<fs::File>> {
    cg.join_dirs()
        .iter()
        .chain(cg.unified.iter())
        .map(|d| {
            fs::OpenOptions::new()
                .write(true)
                .open(d.join("cgroup.procs"))
        })
        .collect()
}

pub fn attach(files: &mut [fs::File], pid: i32) -> io::Result<()> {
    for f in files {
        f.write_all(pid.to_string().as_bytes())?;
    }
    Ok(())
}

/// How a sandbox's PID 1 gets into its cgroup, opened by the supervisor
/// before it enters its user namespace (writes are checked against the
/// opener's credentials, so these keep working afterwards).
///
/// The obvious way, writing PID 1's pid into `cgroup.procs` of every
/// hierarchy, takes the kernel's global cgroup threadgroup lock for writing,
/// which waits for an RCU grace period: 5-17 ms per spawn measured on this
/// kind of host, most of a spawn. Instead:
/// * v2: the supervisor clones PID 1 straight into the cgroup
///   (`clone3(CLONE_INTO_CGROUP)`), which only takes that lock for reading;
/// * v1: PID 1, still single-threaded, moves itself by writing `0` to each
///   hierarchy's `tasks` file; the kernel skips the global lock when a
///   thread moves only itself (0.03 ms per hierarchy).
///
/// `procs` is the slow fallback if either is refused (older kernels).
#[derive(Debug, Default)]
pub(crate) struct Join {
    pub tasks: Vec<fs::File>,
    pub dir: Option<fs::File>,
    pub procs: Vec<fs::File>,
}

/// `eager_procs`: open the fallback's `cgroup.procs` files now (a supervisor
/// about to enter its user namespace); else [`Join::procs_or_open`] opens
/// them only if a fallback is needed (a supervisor that stays host root).
pub(crate) fn prepare_join(cg: &Cgroup, eager_procs: bool) -> io::Result<Join> {
    let mut j = Join {
        procs: if eager_procs {
            open_procs(cg)?
        } else {
            Vec::new()
        },
        ..Join::default()
    };
    if cg.version == 2 {
        if let Some(d) = cg.join_dirs().first() {
            j.dir = Some(fs::File::open(d)?);
        }
    } else {
        j.tasks = cg
            .join_dirs()
            .iter()
            .map(|d| fs::OpenOptions::new().write(true).open(d.join("tasks")))
            .collect::<io::Result<_>>()?;
    }
    Ok(j)
}

impl Join {
    /// The `cgroup.procs` files of `cg` for the slow path, opened now if
    /// [`prepare_join`] did not.
    pub(crate) fn procs_or_open(&mut self, cg: Option<&Cgroup>) -> io::Result<&mut [fs::File]> {
        if self.procs.is_empty() {
            if let Some(c) = cg {
                self.procs = open_procs(c)?;
            }
        }
        Ok(&mut self.procs)
    }
}

/// v1: moves the calling (single-threaded) process into every `tasks` file's
/// cgroup. Children forked afterwards inherit the cgroups.
pub(crate) fn join_self(tasks: &mut [fs::File]) -> io::Result<()> {
    for f in tasks {
        f.write_all(b"0")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_parses() {
        assert_eq!(parse_cpu_max("20000 100000\n"), Some(0.2));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
    }

    #[test]
    fn mountinfo_unescapes() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn sandbox_dir_is_made_with_or_without_the_kubelab_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let mut cg = Cgroup::default();
        // No parent yet: created on ENOENT.
        let a = mkdir_sandbox(tmp.path(), "a", &mut cg).unwrap();
        assert_eq!(a, tmp.path().join("kubelab/a"));
        // Parent present: straight in.
        let b = mkdir_sandbox(tmp.path(), "b", &mut cg).unwrap();
        assert!(b.is_dir());
        assert_eq!(cg.created, vec![a, b]);
        // A clash is an error, not a silent reuse of another sandbox's dir.
        let e = mkdir_sandbox(tmp.path(), "b", &mut cg).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        // A parent that cannot be made is reported.
        let e = mkdir_sandbox(&tmp.path().join("missing"), "c", &mut cg).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn swap_gap_is_named_only_when_the_cgroup_leaves_one() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::write(d.join("memory.swappiness"), "0\n").unwrap();
        let note = swap_gap(1, d).expect("no memsw file: a gap");
        assert!(
            note.contains("swappiness=0 keeps the sandbox out of swap"),
            "{note}"
        );
        fs::write(d.join("memory.memsw.limit_in_bytes"), "1").unwrap();
        assert_eq!(swap_gap(1, d), None);
        fs::write(d.join("memory.swap.max"), "0\n").unwrap();
        assert_eq!(swap_gap(2, d), None);
        fs::write(d.join("memory.swap.max"), "max\n").unwrap();
        assert!(swap_gap(2, d).is_some_and(|n| n.contains("`max`, not 0")));
    }

    #[test]
    fn this_host_has_a_mode() {
        // Whatever the host, detection must not panic and must agree with hierarchies().
        let m = mode();
        let hs = hierarchies();
        assert_eq!(m == Mode::None, hs.is_empty());
    }
}
