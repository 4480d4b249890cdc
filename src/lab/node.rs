//! A `[node]` lab's own `kubelab node` (lessons/README.md, "Node labs").
//!
//! One node per lesson session — the reader's lab of the lesson on screen,
//! or one `kubelab test` run — in a directory of its own under the temporary
//! directory: `state/` (socket, volumes, logs, ConfigMaps, Secrets) and
//! `manifests/` (static Pods). It runs as a child process, `kubelab node …
//! --lifeline`, whose standard input is a pipe only kubelab holds: closing
//! it, or kubelab dying in any way (even `kill -9`: the kernel closes a dead
//! process's pipes), makes the node delete every Pod with its grace period
//! and remove its directory. No `unsafe`, no parent-death signal (which
//! would fire when the *thread* that started the node ends).
//!
//! The node's cgroup subtree is `kubelab/node-<name>-<suffix>`, the suffix
//! taken from its directory's random name, so parallel runs of two lessons
//! both naming their node `node1` never share cgroups; learners still see
//! `node1` (static Pods are `<pod>-node1`).
//!
//! [`NodeFactory`] wraps the lab's sandbox factory: every sandbox of the
//! lesson starts with what [`tools`] adds (kubectl, the node's directories).

pub mod lint;
pub mod tools;

use super::backend::LabSandbox;
use super::harness::SandboxFactory;
use crate::course::model::{Lesson, NodeReq, Requirement};
use crate::panes::pty::PtySize;
use kubelab_node::api::client::request;
use kubelab_node::api::{Reply, Request};
use kubelab_sandbox::spec::Spec;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The file that marks a directory made for a lab's node: `kubelab node
/// --remove-when-done DIR` removes only a directory holding it.
pub const LAB_DIR_MARKER: &str = ".kubelab-lab-node";

/// Where a lab node's local disks are, for its Pods' `hostPath` and in the
/// lab's sandboxes alike ([`LabNode::disks_dir`]).
pub const DISKS: &str = "/mnt/disks";

/// How long the node may take to answer on its socket after it started.
pub const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long a stopping node may take (every Pod's grace period, 30 s by
/// default, plus margin) before it is killed.
pub const STOP_DEADLINE: Duration = Duration::from_secs(45);

/// How long each Pod may take to end when the reader stops the lab's node
/// (leaving the lesson, quitting): the kubelet's `shutdownGracePeriod`
/// caps every Pod's own grace period the same way. A `sleep` that ignores
/// SIGTERM would otherwise hold the learner's quit for its 30 s.
pub const READER_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running lab node; dropping it stops the node and waits (bounded).
pub struct LabNode {
    name: String,
    dir: PathBuf,
    tools: tools::Tools,
    child: Mutex<Option<(Child, Option<ChildStdin>)>>,
}

impl LabNode {
    /// Starts the node of `lesson` (which has `[node]`) with the kubelab
    /// binary `kubelab`: makes its directory, copies the ConfigMaps and
    /// Secrets in, starts `kubelab node` and waits until its socket answers.
    /// Its Pods get at most [`READER_SHUTDOWN_GRACE`] when it stops.
    pub fn start(kubelab: &Path, lesson: &Lesson) -> io::Result<LabNode> {
        LabNode::start_with_grace(kubelab, lesson, READER_SHUTDOWN_GRACE)
    }

    /// [`LabNode::start`], its Pods getting at most `shutdown_grace` to end
    /// when it stops (`kubelab test`: none, nothing watches them then).
    pub fn start_with_grace(
        kubelab: &Path,
        lesson: &Lesson,
        shutdown_grace: Duration,
    ) -> io::Result<LabNode> {
        let req = lesson.front.node.clone().unwrap_or_default();
        let root = crate::course::files::include_root(&lesson.path, None);
        let seed = crate::course::node::read_seed(&lesson.path, &root, &req)
            .map_err(|e| io::Error::other(format!("{}: {e}", lesson.path.display())))?;
        sweep_stale_lab_dirs(&std::env::temp_dir());
        let dir = make_lab_dir()?;
        let tools = match tools::Tools::new(kubelab, &dir) {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        // From here on dropping `node` stops it and removes the directory.
        let mut node = LabNode {
            name: req.name.clone(),
            tools,
            dir,
            child: Mutex::new(None),
        };
        node.prepare(&seed)?;
        node.spawn(kubelab, &req, shutdown_grace)?;
        node.wait_ready()?;
        Ok(node)
    }

    /// The node's name as learners see it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's state directory (its socket, volumes, logs, objects).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The static Pods' directory.
    pub fn manifests_dir(&self) -> PathBuf {
        self.dir.join("manifests")
    }

    /// The node's local disks: `hostPath` under [`DISKS`] in a Pod is this
    /// folder, which every sandbox of the lab sees at that path (a Pod's
    /// data that outlives the Pod, StatefulSet and local-volume labs).
    pub fn disks_dir(&self) -> PathBuf {
        self.dir.join("disks")
    }

    /// The node's FlexVolume drivers (`--volume-plugin-dir`), which every
    /// sandbox of the lab sees, writable, where the drivers see it.
    pub fn volume_plugins_dir(&self) -> PathBuf {
        self.dir.join("volume-plugins")
    }

    /// The lab's directory (removed when the node stops).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `spec` with what every sandbox of a node lab gets (see [`tools`]).
    pub fn sandbox_spec(&self, spec: &Spec) -> Spec {
        self.tools.apply(spec, self)
    }

    fn prepare(&mut self, seed: &crate::course::node::Seed) -> io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::write(
            self.dir.join(LAB_DIR_MARKER),
            b"a lab's node directory: removed when its node stops\n",
        )?;
        let mut private = std::fs::DirBuilder::new();
        private.mode(0o700);
        private.create(self.state_dir())?;
        let mut open = std::fs::DirBuilder::new();
        open.mode(0o755);
        // Bind sources must exist before the node makes them.
        for sub in ["pods", "logs", "configmaps", "secrets"] {
            open.create(self.state_dir().join(sub))?;
        }
        open.create(self.manifests_dir())?;
        open.create(self.disks_dir())?;
        open.create(self.volume_plugins_dir())?;
        {
            // The drivers' log folder: they run as the Pods' root.
            use std::os::unix::fs::PermissionsExt;
            let logs = self
                .state_dir()
                .join(kubelab_node::agent::flex_volume::LOG_SUBDIR);
            open.create(&logs)?;
            std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o1777))?;
        }
        for (kind, objects) in [("configmaps", &seed.configmaps), ("secrets", &seed.secrets)] {
            for o in objects {
                let d = self.state_dir().join(kind).join(&o.name);
                open.create(&d)?;
                for (key, data) in &o.data {
                    std::fs::write(d.join(key), data)?;
                }
            }
        }
        tools::give_writable_dirs_to_sandboxes(&[
            self.manifests_dir(),
            self.disks_dir(),
            self.volume_plugins_dir(),
            self.state_dir().join("configmaps"),
            self.state_dir().join("secrets"),
        ])?;
        self.tools.write_scripts()
    }

    fn spawn(&self, kubelab: &Path, req: &NodeReq, shutdown_grace: Duration) -> io::Result<()> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(self.dir.join("node.log"))?;
        let suffix = self
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("kubelab-node-"))
            .unwrap_or("lab")
            .to_string();
        let mut cmd = Command::new(kubelab);
        cmd.arg("node")
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--manifests")
            .arg(self.manifests_dir())
            .arg("--name")
            .arg(&req.name)
            .arg("--backoff-divisor")
            .arg(req.backoff_divisor.to_string())
            // Edits of /etc/kubelab/configmaps reach running Pods while the
            // learner watches (the kubelet takes up to a minute and more).
            .arg("--sync-frequency")
            .arg("2s")
            .arg("--allow-host-path")
            .arg(format!("{DISKS}={}", self.disks_dir().display()))
            .arg("--volume-plugin-dir")
            .arg(self.volume_plugins_dir())
            .arg("--cgroup-key")
            .arg(format!("{}-{suffix}", req.name))
            .arg("--shutdown-grace-period")
            .arg(format!("{}ms", shutdown_grace.as_millis()))
            .args(device_args(req, &self.state_dir()))
            .arg("--lifeline")
            .arg("--remove-when-done")
            .arg(&self.dir)
            .env_remove("KUBELAB_NODE_DIR")
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Only the lifeline ends it: not the terminal's Ctrl-C or hangup.
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| io::Error::other(format!("starting `kubelab node`: {e}")))?;
        let lifeline = child.stdin.take();
        *self.lock() = Some((child, lifeline));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Child, Option<ChildStdin>)>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Polls the node's socket until it answers, the node exits (its log
    /// says why) or [`START_DEADLINE`] passes.
    fn wait_ready(&self) -> io::Result<()> {
        let deadline = Instant::now() + START_DEADLINE;
        let state = self.state_dir();
        loop {
            let ask = Request::Get {
                name: None,
                namespace: "default".into(),
            };
            if let Ok(Reply::Pods { .. }) = request(&state, &ask) {
                return Ok(());
            }
            let exited = match self.lock().as_mut() {
                Some((c, _)) => c.try_wait()?,
                None => None,
            };
            if let Some(status) = exited {
                return Err(io::Error::other(format!(
                    "the lab's node stopped at start ({status}): {}",
                    self.log_tail(600)
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "the lab's node did not answer within {} s: {}",
                    START_DEADLINE.as_secs(),
                    self.log_tail(600)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of the node's log, one line, at most `max` bytes.
    pub fn log_tail(&self, max: u64) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("node.log")) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = f.seek(io::SeekFrom::Start(len.saturating_sub(max)));
            let _ = f.take(max).read_to_string(&mut text);
        }
        let text = text.trim();
        if text.is_empty() {
            "(it printed nothing)".into()
        } else {
            crate::sanitize::line(&text.replace('\n', " ⏎ ")).into_owned()
        }
    }

    /// Stops the node: closes the lifeline (every Pod deleted with its grace
    /// period), waits up to [`STOP_DEADLINE`], then kills it; removes the
    /// lab's directory if the node could not. Idempotent.
    pub fn stop(&self) {
        let Some((mut child, lifeline)) = self.lock().take() else {
            return;
        };
        drop(lifeline);
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    // Its Pods' supervisors see the node's end and tear
                    // their sandboxes and cgroups down themselves.
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if self.dir.exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for LabNode {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The prefix of a lab node's folder; `<pid>x…` follows, the kubelab
/// that made it ([`super::run_dirs`]).
const LAB_DIR_PREFIX: &str = "kubelab-node-";

/// A new private directory `kubelab-node-<unique>` in the temporary
/// directory.
fn make_lab_dir() -> io::Result<PathBuf> {
    super::run_dirs::make(LAB_DIR_PREFIX, "the lab's node directory")
}

/// Removes what lab nodes left when both kubelab and its node were killed
/// (a node whose kubelab died stops and removes its folder itself): every
/// `kubelab-node-<pid>x…` folder of ours, marked by kubelab, whose kubelab
/// (`<pid>`) is gone and whose node no longer answers. A folder of a live
/// kubelab — a parallel `kubelab test` starting its node — is never touched.
pub fn sweep_stale_lab_dirs(tmp: &Path) {
    super::run_dirs::sweep(tmp, LAB_DIR_PREFIX, |dir| {
        let marked = std::fs::symlink_metadata(dir.join(LAB_DIR_MARKER)).is_ok_and(|m| m.is_file());
        // A node that still answers removes its folder itself when done.
        let sock = dir.join("state").join(kubelab_node::api::SOCKET);
        marked && std::os::unix::net::UnixStream::connect(&sock).is_err()
    });
}

/// The state of the node a reader's lab starts in the background.
enum Slot {
    Starting,
    Ready(Arc<LabNode>),
    Failed(String),
}

/// A lab node started on a helper thread (the UI never waits for it); the
/// sandboxes' starts wait for it.
pub struct NodeSlot {
    state: Mutex<Slot>,
    ready: Condvar,
}

impl NodeSlot {
    /// Starts the node of `lesson` on its own thread.
    pub fn start(kubelab: PathBuf, lesson: Arc<Lesson>) -> Arc<NodeSlot> {
        let slot = Arc::new(NodeSlot {
            state: Mutex::new(Slot::Starting),
            ready: Condvar::new(),
        });
        let s = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("lab-node".into())
            .spawn(move || {
                let r = LabNode::start(&kubelab, &lesson);
                let mut st = s.state.lock().unwrap_or_else(|e| e.into_inner());
                *st = match r {
                    Ok(n) => Slot::Ready(Arc::new(n)),
                    Err(e) => Slot::Failed(e.to_string()),
                };
                drop(st);
                s.ready.notify_all();
            });
        if let Err(e) = spawned {
            *slot.state.lock().unwrap_or_else(|e| e.into_inner()) =
                Slot::Failed(format!("cannot start the lab's node: {e}"));
        }
        slot
    }

    /// A slot holding a node already running (`kubelab test`).
    pub fn ready(node: Arc<LabNode>) -> Arc<NodeSlot> {
        Arc::new(NodeSlot {
            state: Mutex::new(Slot::Ready(node)),
            ready: Condvar::new(),
        })
    }

    /// The node once it is up (waits for it, bounded).
    pub fn wait(&self) -> io::Result<Arc<LabNode>> {
        let deadline = Instant::now() + START_DEADLINE + Duration::from_secs(5);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match &*st {
                Slot::Ready(n) => return Ok(n.clone()),
                Slot::Failed(e) => return Err(io::Error::other(e.clone())),
                Slot::Starting => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::other("the lab's node is still starting"));
            }
            st = self
                .ready
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The node if it is up now (never waits).
    pub fn get(&self) -> Option<Arc<LabNode>> {
        match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            Slot::Ready(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// Stops the node (waiting for a start in progress first): it is gone,
    /// with its directory, when this returns, unless a sandbox still holds
    /// it (then the last holder stops it).
    pub fn stop(&self) {
        let node = {
            let _ = self.wait();
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match std::mem::replace(&mut *st, Slot::Failed("the lab was stopped".into())) {
                Slot::Ready(n) => Some(n),
                _ => None,
            }
        };
        if let Some(n) = node {
            n.stop();
        }
    }
}

/// The lab's sandbox factory with the node's tools and directories added
/// to every sandbox it starts.
/// `I` is the inner factory: an `Arc` (the reader) or a reference
/// (`kubelab test`).
pub struct NodeFactory<I> {
    pub inner: I,
    pub node: Arc<NodeSlot>,
    /// A two-track lesson's cluster sandbox: no node tools in it (its
    /// `kubectl` is the real one, src/course/track.rs).
    pub except: Option<String>,
}

impl<I> SandboxFactory for NodeFactory<I>
where
    I: std::ops::Deref + Sync,
    I::Target: SandboxFactory,
{
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        if self.except.as_deref() == Some(name) {
            return self.inner.start(name, spec, console);
        }
        let node = self.node.wait()?;
        self.inner.start(name, &node.sandbox_spec(spec), console)
    }

    fn unmet(&self, req: Requirement) -> Option<String> {
        self.inner.unmet(req)
    }
}

/// `[node] devices`: the node's device plugin, and its own device node of
/// each kind offered as a `hostPath` at the kind's path (`/dev/fuse`), so
/// a lesson can show the same device denied without the plugin.
fn device_args(req: &NodeReq, state: &Path) -> Vec<String> {
    use kubelab_node::agent::devices;
    let mut out = Vec::new();
    for (name, count) in &req.devices {
        let Some(k) = devices::kind(name) else {
            continue;
        };
        out.push("--device-plugin".to_string());
        out.push(format!("{name}={count}"));
        out.push("--allow-host-path".to_string());
        out.push(format!(
            "{}={}",
            k.container_path,
            devices::host_node_path(state, k).display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::model::Lang;

    /// A lesson with `front` (TOML) written at `dir/l.md`.
    fn lesson(dir: &Path, front: &str) -> Lesson {
        let text = format!("+++\nid = \"l\"\n{front}\n+++\n# L\n");
        let path = dir.join("l.md");
        std::fs::write(&path, &text).unwrap();
        crate::course::lesson::parse_text(&text, &path, Lang::En)
            .lesson
            .expect("the lesson parses")
    }

    /// The tests that look for this process's lab folders, one at a time.
    static FOLDERS: Mutex<()> = Mutex::new(());

    fn lab_dirs_of_this_process() -> Vec<PathBuf> {
        let tag = format!("kubelab-node-{}x", std::process::id());
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&tag))
            .map(|e| e.path())
            .collect()
    }

    #[test]
    fn a_node_that_dies_at_start_says_why_and_leaves_no_folder() {
        let _one = FOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        let d = tempfile::tempdir().unwrap();
        let l = lesson(d.path(), "[node]\n[sandboxes.main]");
        // Stands in for kubelab: prints a reason and exits.
        let fake = d.path().join("fake-kubelab");
        std::fs::write(&fake, "#!/bin/sh\necho \"no node today: $*\" >&2\nexit 3\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = LabNode::start(&fake, &l)
            .err()
            .expect("must fail")
            .to_string();
        assert!(e.contains("stopped at start"), "{e}");
        assert!(e.contains("no node today: node --state-dir"), "{e}");
        assert!(e.contains("--cgroup-key node1-"), "{e}");
        assert!(e.contains("--lifeline"), "{e}");
        assert!(
            lab_dirs_of_this_process().is_empty(),
            "{:?}",
            lab_dirs_of_this_process()
        );
        // Through the slot, as the reader's sandboxes meet it.
        let slot = NodeSlot::start(fake.clone(), Arc::new(l));
        let e = slot.wait().err().expect("must fail").to_string();
        assert!(e.contains("stopped at start"), "{e}");
        slot.stop();
    }

    #[test]
    fn a_bad_folder_fails_before_anything_starts() {
        let _one = FOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        let d = tempfile::tempdir().unwrap();
        let l = lesson(
            d.path(),
            "[node]\nconfigmaps = { app = \"files/none\" }\n[sandboxes.main]",
        );
        let e = LabNode::start(Path::new("/nonexistent/kubelab"), &l)
            .err()
            .expect("must fail")
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(lab_dirs_of_this_process().is_empty());
    }

    #[test]
    fn the_sweep_removes_only_folders_of_dead_kubelabs() {
        let tmp = tempfile::tempdir().unwrap();
        let make = |name: &str, marked: bool| {
            let d = tmp.path().join(name);
            std::fs::create_dir_all(d.join("state")).unwrap();
            if marked {
                std::fs::write(d.join(LAB_DIR_MARKER), "").unwrap();
            }
            d
        };
        // pid 0 is never a process; this process is alive.
        let dead = make("kubelab-node-0x0x1", true);
        let live = make(&format!("kubelab-node-{}x0x1", std::process::id()), true);
        let unmarked = make("kubelab-node-0x0x2", false);
        let other = make("kubelab-node-zzz", true);
        let serving = make("kubelab-node-0x0x3", true);
        let _listener = std::os::unix::net::UnixListener::bind(
            serving.join("state").join(kubelab_node::api::SOCKET),
        )
        .unwrap();
        sweep_stale_lab_dirs(tmp.path());
        assert!(!dead.exists());
        for kept in [live, unmarked, other, serving] {
            assert!(kept.exists(), "{}", kept.display());
        }
    }

    #[test]
    fn lab_folders_are_private_and_unique() {
        let _one = FOLDERS.lock().unwrap_or_else(|e| e.into_inner());
        let a = make_lab_dir().unwrap();
        let b = make_lab_dir().unwrap();
        assert_ne!(a, b);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&a).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::remove_dir(a).unwrap();
        std::fs::remove_dir(b).unwrap();
    }
}
