//! A sandbox's cgroup directories ([`Cgroup`]): the ones kubelab created,
//! the ones each controller reads, the ones a process joins. What differs
//! per version (stats, kill) and the teardown are in `ops.rs`.

use super::hierarchy::{dir_in, hierarchies, proc_cgroup, Hierarchy};
use super::tree;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::PathBuf;

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
    /// hierarchy without limits (see [`tree`]).
    #[serde(default)]
    pub payload: Vec<PathBuf>,
    /// Hybrid host: the sandbox's cgroup in the controller-less cgroup2.
    #[serde(default)]
    pub unified: Option<PathBuf>,
    /// Remove `created` with every cgroup below it (a Pod's cgroup, see
    /// [`super::nested`]).
    #[serde(default)]
    pub recursive: bool,
    /// Directories above `created` removed too when they are left empty.
    #[serde(default)]
    pub parents: Vec<PathBuf>,
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
            dir_in(h, e).map(tree::lift_payload)
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

    pub(crate) fn set(&mut self, controller: &str, dir: Option<PathBuf>) {
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

    pub(super) fn created_or_dirs(&self) -> Vec<PathBuf> {
        if self.created.is_empty() {
            self.dirs()
        } else {
            self.created.clone()
        }
    }
}
