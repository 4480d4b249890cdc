//! What a [`Cgroup`] does differently per version — its counters and the
//! whole-cgroup kill, in `v1.rs` and `v2.rs` — and its teardown.

use super::handle::Cgroup;
use super::stats::Stats;
use super::{v1, v2};
use std::fs;
use std::io;
use std::time::{Duration, Instant};

impl Cgroup {
    /// Current usage and limits. Missing files read as zero / no limit.
    pub fn stats(&self) -> Stats {
        if self.version == 2 {
            v2::stats(self)
        } else {
            v1::stats(self)
        }
    }

    /// Kills every process in the cgroup: `cgroup.kill` on v2; freeze, SIGKILL
    /// everything, thaw on v1 (so a fork bomb cannot outrun the kill loop).
    pub fn kill_all(&self) {
        if self.version == 2 {
            v2::kill_all(self)
        } else {
            v1::kill_all(self)
        }
    }

    /// Kills what is left and removes the directories kubelab created, then the
    /// `kubelab` parents if they became empty. Returns what could not be removed.
    pub fn destroy(&self) -> Vec<String> {
        if self.recursive {
            return super::nested::destroy_tree(self);
        }
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
        super::nested::remove_parents(self);
        problems
    }
}
