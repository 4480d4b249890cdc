//! The Objects pane in the reader: watches of the lab's namespace on their
//! own small runtime, started off the UI thread, read once per frame.

use super::pane::{self, ObjectsView};
use super::watch::ObjectsWatch;
use super::Target;
use crate::course::model::Lang;
use crate::panes::session::Notify;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Watching {
    watch: ObjectsWatch,
    rt: tokio::runtime::Runtime,
    target: String,
}

impl Watching {
    /// Stops the watches, then the runtime, never waiting for it (this may
    /// be the UI thread).
    fn stop(self) {
        drop(self.watch);
        self.rt.shutdown_background();
    }
}

enum State {
    Connecting,
    Failed(String),
    Watching(Box<Watching>),
}

/// A live Objects pane; stops its watches when dropped.
pub struct ObjectsPane {
    namespace: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl ObjectsPane {
    /// Starts watching the lab namespace of `lesson` on the cluster
    /// `--context` names. Reads only: the namespace is made by the lab's
    /// sandbox (a missing one lists as empty).
    pub fn start(lesson: &str, notify: Notify) -> ObjectsPane {
        let namespace = super::lab_namespace(lesson);
        let state = Arc::new(Mutex::new(State::Connecting));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stp, ns) = (state.clone(), stop.clone(), namespace.clone());
        let spawned = std::thread::Builder::new()
            .name("kubelab-objects".into())
            .spawn(move || {
                let next = connect(&ns, notify.clone(), &stp);
                let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                if stp.load(Ordering::Acquire) {
                    drop(s);
                    if let Ok(State::Watching(w)) = next {
                        w.stop();
                    }
                    return;
                }
                *s = next.unwrap_or_else(State::Failed);
                drop(s);
                notify();
            });
        if let Err(e) = spawned {
            *state.lock().unwrap_or_else(|p| p.into_inner()) =
                State::Failed(format!("cannot start a thread: {e}"));
        }
        ObjectsPane {
            namespace,
            state,
            stop,
        }
    }

    /// What to draw now.
    pub fn view(&self) -> ObjectsView {
        let now = k8s_openapi::chrono::Utc::now();
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Connecting => ObjectsView {
                namespace: self.namespace.clone(),
                ..ObjectsView::default()
            },
            State::Failed(e) => ObjectsView {
                namespace: self.namespace.clone(),
                problem: Some(e.clone()),
                ..ObjectsView::default()
            },
            State::Watching(w) => ObjectsView::from_watch(&w.watch, &w.target, now),
        }
    }

    pub fn render(&self, title: &str, area: Rect, buf: &mut Buffer, lang: Lang) {
        pane::render(&self.view(), title, area, buf, false, lang, 0);
    }
}

fn connect(ns: &str, notify: Notify, stop: &Arc<AtomicBool>) -> Result<State, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the cluster client: {e}"))?;
    let ctx = super::lab::context();
    let (target, client) = rt
        .block_on(async {
            let t = Target::resolve(ctx).await?;
            let c = t.client()?;
            Ok::<_, super::ClusterError>((t, c))
        })
        .map_err(|e| e.to_string())?;
    let watch = ObjectsWatch::start(rt.handle(), &client, &target.server, ns);
    // Redraw once a second while shown: AGE moves, watches change the tree.
    let stop = stop.clone();
    rt.spawn(async move {
        while !stop.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            notify();
        }
    });
    Ok(State::Watching(Box::new(Watching {
        watch,
        rt,
        target: target.describe(),
    })))
}

impl Drop for ObjectsPane {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let old = std::mem::replace(
            &mut *self.state.lock().unwrap_or_else(|p| p.into_inner()),
            State::Connecting,
        );
        if let State::Watching(w) = old {
            w.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_cluster_the_pane_says_why_and_drops_cleanly() {
        let notified = Arc::new(AtomicBool::new(false));
        let n = notified.clone();
        let p = ObjectsPane::start(
            "rollout",
            Arc::new(move || n.store(true, Ordering::Release)),
        );
        // Wait on the condition (the connect thread finishing), bounded.
        for _ in 0..400 {
            if notified.load(Ordering::Acquire) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let v = p.view();
        assert_eq!(v.namespace, "kubelab-rollout");
        // No kubeconfig here (CI) or a cluster that answers (a developer's):
        // either a message, or watches running.
        if let Some(problem) = &v.problem {
            assert!(
                problem.contains("cluster") || problem.contains("kubeconfig"),
                "{problem}"
            );
        }
        drop(p);
    }
}
