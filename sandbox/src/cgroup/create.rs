//! Creating a sandbox's cgroup: which hierarchies ([`Plan`]), the
//! `kubelab/<id>` directories, the limits (per version in [`super::v1`] and
//! [`super::v2`]), and whether the memory limit leaves swap open.

use super::files::mkdir_sandbox;
use super::handle::Cgroup;
use super::hierarchy::{proc_cgroup, Hierarchy};
use super::v2::V2Parent;
use super::{tree, v1, v2};
use crate::spec::Limits;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a sandbox runs without cgroup limits, with what would enable them.
pub type NoCgroupReason = String;

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
    let mut hs = tree::all_hierarchies();
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
            v1::create(&mut cg, &v1, &own, id, limits, uid)
        } else if let Some(h) = hs.iter().find(|h| h.version == 2) {
            cg.version = 2;
            v2::create(&mut cg, h, &own, id, limits, uid, &self.v2)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
