//! The Objects pane in the reader: watches of the lab's namespace on their
//! own small runtime, started off the UI thread, read once per frame.

use super::pane::{self, ObjectsView};
use super::watch::ObjectsWatch;
use super::{ClusterError, Target};
use crate::course::model::Lang;
use crate::panes::pods::{PodKey, PodPane, PodSource};
use crate::panes::session::Notify;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::future::Future;
use std::pin::Pin;
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
    /// The cluster could not be used at all (no or broken kubeconfig).
    Failed(ClusterError),
    /// This machine could not run the client (no thread, no runtime).
    Broken(String),
    Watching(Box<Watching>),
}

/// Finding the cluster, under way.
pub type Resolving = Pin<Box<dyn Future<Output = Result<Target, ClusterError>> + Send>>;

/// Finds the cluster (the kubeconfig, `--context`); tests pass their own.
pub type Resolve = Box<dyn FnOnce() -> Resolving + Send>;

/// A [`Resolve`] from an async function.
pub fn resolver<F>(f: impl FnOnce() -> F + Send + 'static) -> Resolve
where
    F: Future<Output = Result<Target, ClusterError>> + Send + 'static,
{
    Box::new(move || -> Resolving { Box::pin(f()) })
}

/// A live Objects pane; stops its watches when dropped.
pub struct ObjectsPane {
    namespace: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    notify: Notify,
    /// The Pod picked with `[`/`]` (highlighted in the tree).
    selected_pod: Option<String>,
    /// The Pod inspector, while open (Enter on the picked Pod).
    inspector: Option<PodPane>,
}

impl ObjectsPane {
    /// Starts watching the lab namespace of `lesson` on the cluster
    /// `--context` names. Reads only: the namespace is made by the lab's
    /// sandbox (a missing one lists as empty).
    pub fn start(lesson: &str, notify: Notify) -> ObjectsPane {
        let resolve = resolver(|| Target::resolve(super::lab::context()));
        ObjectsPane::start_with(lesson, notify, resolve)
    }

    /// As [`ObjectsPane::start`], finding the cluster with `resolve`.
    pub fn start_with(lesson: &str, notify: Notify, resolve: Resolve) -> ObjectsPane {
        let namespace = super::lab_namespace(lesson);
        let selector = super::lesson_selector(lesson);
        let state = Arc::new(Mutex::new(State::Connecting));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stp, ns) = (state.clone(), stop.clone(), namespace.clone());
        let pane_notify = notify.clone();
        let spawned = std::thread::Builder::new()
            .name("kubelab-objects".into())
            .spawn(move || {
                let next = connect(&ns, &selector, resolve, notify.clone(), &stp);
                let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                if stp.load(Ordering::Acquire) {
                    drop(s);
                    if let State::Watching(w) = next {
                        w.stop();
                    }
                    return;
                }
                *s = next;
                drop(s);
                notify();
            });
        if let Err(e) = spawned {
            *state.lock().unwrap_or_else(|p| p.into_inner()) =
                State::Broken(format!("cannot start a thread: {e}"));
        }
        ObjectsPane {
            namespace,
            state,
            stop,
            notify: pane_notify,
            selected_pod: None,
            inspector: None,
        }
    }

    /// Whether the Pod inspector is open in place of the tree.
    pub fn inspecting(&self) -> bool {
        self.inspector.is_some()
    }

    /// The Pods of the tree, in its order.
    fn pod_names(&self) -> Vec<String> {
        self.view(Lang::En)
            .rows
            .into_iter()
            .filter(|r| r.kind == "pod")
            .map(|r| r.name)
            .collect()
    }

    /// Keys of the pane on show: `]`/`[` pick the next/previous Pod, Enter
    /// inspects it; while inspecting, the inspector's keys (h/←/Backspace
    /// back to the tree). `false`: not the pane's (scrolling, Esc).
    pub fn key(&mut self, key: &KeyEvent) -> bool {
        if let Some(insp) = self.inspector.as_mut() {
            let used = insp.key(key);
            if insp.page() == crate::panes::pods::render::Page::List {
                // Back: the tree again (the inspector's own list is the
                // node's; here the tree is the list).
                self.inspector = None;
            }
            return used;
        }
        match key.code {
            KeyCode::Char(c @ (']' | '[')) => {
                let names = self.pod_names();
                if names.is_empty() {
                    return true;
                }
                let at = self
                    .selected_pod
                    .as_ref()
                    .and_then(|s| names.iter().position(|n| n == s));
                let next = match (at, c) {
                    (None, _) => 0,
                    (Some(i), ']') => (i + 1).min(names.len() - 1),
                    (Some(i), _) => i.saturating_sub(1),
                };
                self.selected_pod = Some(names[next].clone());
                true
            }
            KeyCode::Enter => {
                let Some(name) = self.selected_pod.clone() else {
                    return true;
                };
                let state = self.state.clone();
                let snapshot: super::pod_view::Snapshot =
                    Box::new(
                        move || match &*state.lock().unwrap_or_else(|p| p.into_inner()) {
                            State::Watching(w) => Ok(w.watch.snapshot()),
                            State::Connecting => Err("connecting to the cluster…".into()),
                            State::Failed(e) => Err(e.message(Lang::En)),
                            State::Broken(e) => Err(e.clone()),
                        },
                    );
                let source = PodSource::Cluster(Arc::new(super::pod_view::WatchPods { snapshot }));
                let mut insp = PodPane::start(source, self.notify.clone());
                insp.inspect(PodKey {
                    namespace: self.namespace.clone(),
                    name,
                });
                self.inspector = Some(insp);
                true
            }
            _ => false,
        }
    }

    /// What to draw now, in `lang`.
    pub fn view(&self, lang: Lang) -> ObjectsView {
        let now = k8s_openapi::chrono::Utc::now();
        let failed = |problem: String| ObjectsView {
            namespace: self.namespace.clone(),
            problems: vec![problem],
            ..ObjectsView::default()
        };
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Connecting => ObjectsView {
                namespace: self.namespace.clone(),
                ..ObjectsView::default()
            },
            State::Failed(e) => failed(e.message(lang)),
            State::Broken(e) => failed(e.clone()),
            State::Watching(w) => ObjectsView {
                selected_pod: self.selected_pod.clone(),
                ..ObjectsView::from_watch(&w.watch, &w.target, now, lang)
            },
        }
    }

    /// A few words for the status bar while something is wrong with the
    /// cluster (the pane says the whole of it); `None` while all is well.
    pub fn status_note(&self, lang: Lang) -> Option<String> {
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Connecting => None,
            State::Failed(e) => Some(e.short(lang)),
            State::Broken(e) => Some(super::error::one_line(e)),
            State::Watching(w) => {
                let problems = w.watch.problems();
                let first = problems.first()?.short(lang);
                Some(match problems.len() {
                    1 => first,
                    n => format!("{first} (+{})", n - 1),
                })
            }
        }
    }

    /// Draws the pane `scroll` rows down; returns the scroll used (see
    /// [`pane::render`]).
    pub fn render(
        &self,
        title: &str,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        lang: Lang,
        scroll: usize,
    ) -> usize {
        if let Some(insp) = &self.inspector {
            insp.render(title, area, buf, focused, lang);
            return scroll;
        }
        pane::render(&self.view(lang), title, area, buf, focused, lang, scroll)
    }
}

fn connect(
    ns: &str,
    crd_selector: &str,
    resolve: Resolve,
    notify: Notify,
    stop: &Arc<AtomicBool>,
) -> State {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return State::Broken(format!("cannot start the cluster client: {e}")),
    };
    let found = rt.block_on(async {
        let t = resolve().await?;
        let c = t.client()?;
        Ok::<_, ClusterError>((t, c))
    });
    let (target, client) = match found {
        Ok(v) => v,
        Err(e) => {
            rt.shutdown_background();
            return State::Failed(e);
        }
    };
    let watch = ObjectsWatch::start(rt.handle(), &client, &target.server, ns, Some(crd_selector));
    // Redraw once a second while shown: AGE moves, watches change the tree.
    let stop = stop.clone();
    rt.spawn(async move {
        while !stop.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            notify();
        }
    });
    State::Watching(Box::new(Watching {
        watch,
        rt,
        target: target.describe(),
    }))
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
    use crate::cluster::recorded::{status_body, Route, Server};

    /// Starts the pane of lesson `deploy`; returns it and a flag set on
    /// each redraw request.
    fn pane(resolve: Resolve) -> (ObjectsPane, Arc<AtomicBool>) {
        let notified = Arc::new(AtomicBool::new(false));
        let n = notified.clone();
        let p = ObjectsPane::start_with(
            "deploy",
            Arc::new(move || n.store(true, Ordering::Release)),
            resolve,
        );
        (p, notified)
    }

    async fn eventually(p: &ObjectsPane, what: &str, cond: impl Fn(&ObjectsPane) -> bool) {
        for _ in 0..600 {
            if cond(p) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never happened: {what}: {:?}", p.view(Lang::En).problems);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_broken_kubeconfig_is_said_in_the_pane_and_the_status_note() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "clusters: [ {name: 1").unwrap();
        let paths = vec![path.clone()];
        let (p, _) = pane(resolver(move || Target::resolve_from(paths, None)));
        eventually(&p, "the failure", |p| !p.view(Lang::En).problems.is_empty()).await;
        let v = p.view(Lang::En);
        assert!(
            v.problems[0].starts_with(&format!("kubeconfig unusable: {}", path.display())),
            "{:?}",
            v.problems
        );
        assert!(p.view(Lang::Zh).problems[0].starts_with("kubeconfig 无法使用"));
        assert_eq!(
            p.status_note(Lang::En).as_deref(),
            Some("kubeconfig unusable (see the Objects pane)")
        );
        assert_eq!(
            p.status_note(Lang::Zh).as_deref(),
            Some("kubeconfig 无法使用（见对象窗格）")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_recorded_cluster_in_the_pane_with_a_permission_missing() {
        let mut routes = crate::cluster::watch::tests::full_lists("persistentvolumeclaims");
        routes.push(
            Route::get(
                "/api/v1/namespaces/kubelab-deploy/persistentvolumeclaims",
                &status_body(403, "Forbidden", "persistentvolumeclaims is forbidden"),
            )
            .status(403)
            .repeat(),
        );
        let srv = Server::start(routes).await;
        let target = srv.target().await;
        let (p, notified) = pane(resolver(move || async move { Ok(target) }));
        eventually(&p, "the tree and the problem", |p| {
            let v = p.view(Lang::En);
            v.synced && v.rows.len() > 10 && !v.problems.is_empty()
        })
        .await;
        assert!(notified.load(Ordering::Acquire), "the UI was woken");
        assert_eq!(
            p.status_note(Lang::En).as_deref(),
            Some("cluster: not allowed to list persistentvolumeclaims")
        );
        let v = p.view(Lang::En);
        assert!(v.target.contains("context recorded"), "{}", v.target);
        assert!(v.rows.iter().any(|r| r.kind == "backup"), "CRD objects too");
        assert!(!v.rows.iter().any(|r| r.kind == "pvc"), "none listed");
        drop(p);
    }

    /// `]` picks a Pod, Enter inspects it: the recorded cluster's Pods run
    /// on no process here, which the pane says; `h` is the tree again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_picked_pod_of_another_node_says_so() {
        let mut routes = crate::cluster::watch::tests::full_lists("persistentvolumeclaims");
        routes.push(
            Route::get(
                "/api/v1/namespaces/kubelab-deploy/persistentvolumeclaims",
                &status_body(403, "Forbidden", "persistentvolumeclaims is forbidden"),
            )
            .status(403)
            .repeat(),
        );
        let srv = Server::start(routes).await;
        let target = srv.target().await;
        let (mut p, _) = pane(resolver(move || async move { Ok(target) }));
        eventually(&p, "the tree", |p| p.view(Lang::En).synced).await;
        let key = |c| KeyEvent::new(c, crossterm::event::KeyModifiers::NONE);
        assert!(p.key(&key(KeyCode::Char(']'))));
        let first = p.pod_names()[0].clone();
        assert_eq!(
            p.view(Lang::En).selected_pod.as_deref(),
            Some(first.as_str())
        );
        assert!(p.key(&key(KeyCode::Enter)));
        assert!(p.inspecting());
        let area = Rect::new(0, 0, 60, 10);
        let mut said = String::new();
        for _ in 0..200 {
            let mut buf = Buffer::empty(area);
            p.render("Objects", area, &mut buf, true, Lang::En, 0);
            said = crate::panes::buffer_rows(&buf).join(" ");
            if said.contains("Pod runs on another node") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(said.contains("Pod runs on another node"), "{said}");
        assert!(p.key(&key(KeyCode::Char('h'))));
        assert!(!p.inspecting());
        // Not the pane's: scrolling and Esc go to the reader.
        assert!(!p.key(&key(KeyCode::Char('j'))));
        drop(p);
    }

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
        let v = p.view(Lang::En);
        assert_eq!(v.namespace, "kubelab-rollout");
        // No kubeconfig here (CI) or a cluster that answers (a developer's):
        // either a message, or watches running.
        if let Some(problem) = v.problems.first() {
            assert!(
                problem.contains("cluster") || problem.contains("kubeconfig"),
                "{problem}"
            );
        }
        drop(p);
    }
}
