//! `kubelab test` on a `[cluster]` lab: ask whether a cluster answers (no:
//! SKIP with the reason), reset the lab so a previous run's objects are
//! gone, give the sandboxes the cluster's environment (the reader's own,
//! [`crate::cluster::lab::lab_spec`]), and reset again afterwards — also
//! when the lab failed, panicked or the run was interrupted
//! ([`ResetGuard`], [`reset_interrupted`]).
//!
//! The cluster is behind [`ClusterAccess`] so the harness's decisions can be
//! proven without one; [`KubeconfigCluster`] is the only implementation
//! kubelab ships.

use super::backend::LabSandbox;
use super::harness::SandboxFactory;
use crate::course::model::{ClusterReq, Requirement};
use crate::panes::pty::PtySize;
use kubelab_sandbox::spec::Spec;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a reset waits for the lab's namespace to finish terminating
/// (its finalizers delete every object in it first).
pub const NAMESPACE_GONE: Duration = Duration::from_secs(120);
/// The same wait after Ctrl-C: the learner wants out; the namespace goes on
/// terminating by itself and the next run waits for it.
pub const NAMESPACE_GONE_INTERRUPTED: Duration = Duration::from_secs(20);

/// What `kubelab test` needs from a cluster. Blocking calls, each bounded.
pub trait ClusterAccess: Sync {
    /// The cluster in one line when it answers and serves what `req`
    /// lists; else why not (the SKIP reason).
    fn answers(&self, req: &ClusterReq) -> Result<String, String>;
    /// Deletes the lab's namespace and labelled cluster-scoped objects and
    /// waits up to `wait` for the namespace to be gone.
    fn reset(&self, lesson: &str, wait: Duration) -> Result<(), String>;
    /// Makes the lab's namespace and returns its sandboxes' environment
    /// (`KUBECONFIG`, `KUBELAB_NAMESPACE`, `KUBELAB_CONTEXT`,
    /// `KUBELAB_CLUSTER`).
    fn prepare(&self, lesson: &str) -> Result<Vec<(String, String)>, String>;
}

/// The cluster the kubeconfig (and `--context`) names, as the reader uses it.
pub struct KubeconfigCluster;

impl ClusterAccess for KubeconfigCluster {
    fn answers(&self, req: &ClusterReq) -> Result<String, String> {
        crate::cluster::lab::answers(req)
    }
    fn reset(&self, lesson: &str, wait: Duration) -> Result<(), String> {
        crate::cluster::lab::reset_blocking(lesson, wait).map(drop)
    }
    fn prepare(&self, lesson: &str) -> Result<Vec<(String, String)>, String> {
        crate::cluster::lab::prepare_blocking(lesson).map(|p| p.env)
    }
}

/// Lessons whose cluster lab runs now: what Ctrl-C must reset.
static ACTIVE: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn active() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Resets the lab when dropped (a failed step, a panic) unless
/// [`ResetGuard::finish`] already did; while it lives, the lesson is in
/// the set [`reset_interrupted`] resets on Ctrl-C.
pub struct ResetGuard<'a> {
    cluster: &'a dyn ClusterAccess,
    lesson: String,
    done: bool,
}

impl<'a> ResetGuard<'a> {
    pub fn new(cluster: &'a dyn ClusterAccess, lesson: &str) -> ResetGuard<'a> {
        active().insert(lesson.to_string());
        ResetGuard {
            cluster,
            lesson: lesson.to_string(),
            done: false,
        }
    }

    /// Resets now and says whether that worked.
    pub fn finish(mut self) -> Result<(), String> {
        self.done = true;
        let r = self.cluster.reset(&self.lesson, NAMESPACE_GONE);
        active().remove(&self.lesson);
        r
    }
}

impl Drop for ResetGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.cluster.reset(&self.lesson, NAMESPACE_GONE) {
                eprintln!(
                    "kubelab test: could not reset the cluster lab {}: {}",
                    crate::sanitize::line(&self.lesson),
                    crate::sanitize::line(&e)
                );
            }
            active().remove(&self.lesson);
        }
    }
}

/// The lessons whose cluster lab runs now.
pub fn running() -> Vec<String> {
    active().iter().cloned().collect()
}

/// Ctrl-C during `kubelab test`: resets every cluster lab still running
/// (bounded) and returns what it could not reset, as messages.
pub fn reset_interrupted(cluster: &dyn ClusterAccess) -> Vec<String> {
    running()
        .iter()
        .filter_map(|l| {
            cluster
                .reset(l, NAMESPACE_GONE_INTERRUPTED)
                .err()
                .map(|e| format!("{l}: {e}"))
        })
        .collect()
}

/// One cluster lab at a time per lesson id: two translations that do not
/// share a run ([`super::harness::same_lab`]) would otherwise reset each
/// other's namespace.
pub fn lesson_lock(lesson: &str) -> Arc<Mutex<()>> {
    static LOCKS: Mutex<Option<HashMap<String, Arc<Mutex<()>>>>> = Mutex::new(None);
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    locks
        .get_or_insert_with(HashMap::new)
        .entry(lesson.to_string())
        .or_default()
        .clone()
}

/// A factory whose sandboxes get the cluster's environment.
pub struct ClusterFactory<'a> {
    pub inner: &'a dyn SandboxFactory,
    pub env: Vec<(String, String)>,
}

impl SandboxFactory for ClusterFactory<'_> {
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        let spec = crate::cluster::lab::lab_spec(spec, &self.env);
        self.inner.start(name, &spec, console)
    }
    fn unmet(&self, req: Requirement) -> Option<String> {
        self.inner.unmet(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the calls; resets fail when told to.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
        fail_reset: bool,
    }

    impl ClusterAccess for Recorder {
        fn answers(&self, _req: &ClusterReq) -> Result<String, String> {
            Ok("recorded".into())
        }
        fn reset(&self, lesson: &str, wait: Duration) -> Result<(), String> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("reset {lesson} {}s", wait.as_secs()));
            if self.fail_reset {
                Err("cluster went away".into())
            } else {
                Ok(())
            }
        }
        fn prepare(&self, lesson: &str) -> Result<Vec<(String, String)>, String> {
            self.calls.lock().unwrap().push(format!("prepare {lesson}"));
            Ok(Vec::new())
        }
    }

    #[test]
    fn the_guard_resets_on_drop_and_on_a_panic_once() {
        let rec = Recorder::default();
        drop(ResetGuard::new(&rec, "guard-drop"));
        assert_eq!(*rec.calls.lock().unwrap(), ["reset guard-drop 120s"]);
        assert!(!active().contains("guard-drop"));

        let rec = Recorder::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = ResetGuard::new(&rec, "guard-panic");
            panic!("a step blew up");
        }));
        assert!(r.is_err());
        assert_eq!(*rec.calls.lock().unwrap(), ["reset guard-panic 120s"]);

        let rec = Recorder {
            fail_reset: true,
            ..Recorder::default()
        };
        let g = ResetGuard::new(&rec, "guard-finish");
        assert_eq!(g.finish().unwrap_err(), "cluster went away");
        // finish() reset; the drop after it does not reset again.
        assert_eq!(rec.calls.lock().unwrap().len(), 1);
        assert!(!active().contains("guard-finish"));
    }

    #[test]
    fn an_interrupt_resets_the_labs_still_running_with_the_short_wait() {
        let rec = Recorder::default();
        let g = ResetGuard::new(&rec, "interrupted-lab");
        let other = Recorder {
            fail_reset: true,
            ..Recorder::default()
        };
        let left = reset_interrupted(&other);
        assert!(
            left.iter()
                .any(|m| m == "interrupted-lab: cluster went away"),
            "{left:?}"
        );
        assert!(other
            .calls
            .lock()
            .unwrap()
            .contains(&"reset interrupted-lab 20s".to_string()));
        drop(g);
        assert!(!active().contains("interrupted-lab"));
    }

    #[test]
    fn the_lesson_lock_is_one_per_lesson() {
        let a = lesson_lock("lock-a");
        assert!(Arc::ptr_eq(&a, &lesson_lock("lock-a")));
        assert!(!Arc::ptr_eq(&a, &lesson_lock("lock-b")));
    }
}
