//! The harness on `[cluster]` labs, with a cluster recorded in a folder
//! (a test fake: each "namespace" is a folder that `reset` deletes and
//! `prepare` makes) and stand-in sandboxes (a host `/bin/sh` on a PTY, with
//! the spec's environment): the decision (SKIP or run), the order of reset
//! → prepare → lab → reset, and the environment the sandboxes get.

use super::*;
use crate::course::lesson::parse_text;
use crate::course::model::{ClusterReq, Lang};
use crate::lab::backend::ScriptOutput;
use crate::panes::inspect::model::*;
use crate::panes::inspect::sampler::Observe;
use crate::panes::pty::Spawned;
use std::path::PathBuf;
use std::sync::Mutex;

struct FolderCluster {
    dir: PathBuf,
    answers: Result<String, String>,
    calls: Mutex<Vec<String>>,
}

impl FolderCluster {
    fn new(dir: &Path, answers: Result<&str, &str>) -> FolderCluster {
        FolderCluster {
            dir: dir.to_path_buf(),
            answers: answers.map(str::to_string).map_err(str::to_string),
            calls: Mutex::default(),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl ClusterAccess for FolderCluster {
    fn answers(&self, _req: &ClusterReq) -> Result<String, String> {
        self.record("answers".into());
        self.answers.clone()
    }
    fn reset(&self, lesson: &str, wait: Duration) -> Result<(), String> {
        self.record(format!("reset {lesson} {}s", wait.as_secs()));
        let ns = self.dir.join(crate::cluster::lab_namespace(lesson));
        match std::fs::remove_dir_all(&ns) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
    fn prepare(&self, lesson: &str) -> Result<Vec<(String, String)>, String> {
        self.record(format!("prepare {lesson}"));
        let name = crate::cluster::lab_namespace(lesson);
        let ns = self.dir.join(&name);
        std::fs::create_dir_all(&ns).map_err(|e| e.to_string())?;
        Ok(vec![
            (
                "KUBECONFIG".into(),
                ns.join("kubeconfig").display().to_string(),
            ),
            ("KUBELAB_NAMESPACE".into(), name.clone()),
            ("KUBELAB_CONTEXT".into(), format!("kubelab/{name}")),
            ("KUBELAB_CLUSTER".into(), "context recorded".into()),
        ])
    }
}

struct NoObserver;
impl Observe for NoObserver {
    fn namespaces(&self) -> Result<Vec<NsRow>, String> {
        Err("none".into())
    }
    fn processes(&self) -> Result<Vec<ProcRow>, String> {
        Err("none".into())
    }
    fn cgroup(&self) -> Result<CgroupStats, String> {
        Err("none".into())
    }
    fn filesystem(&self) -> Result<FsView, String> {
        Err("none".into())
    }
    fn network(&self) -> Result<NetView, String> {
        Err("none".into())
    }
}

/// A host shell with the spec's environment; checks run `sh -c` with it.
struct HostSh {
    env: Vec<(String, String)>,
    console: Mutex<Option<Spawned>>,
}

impl LabSandbox for HostSh {
    fn name(&self) -> &str {
        "main"
    }
    fn pid(&self) -> u32 {
        0
    }
    fn take_console(&self) -> Option<Spawned> {
        self.console.lock().unwrap().take()
    }
    fn exec_script(&self, script: &str, _timeout: Duration) -> io::Result<ScriptOutput> {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(self.env.iter().cloned())
            .output()?;
        Ok(ScriptOutput {
            code: out.status.code().unwrap_or(1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            timed_out: false,
        })
    }
    fn host_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn observer(&self) -> Arc<dyn Observe> {
        Arc::new(NoObserver)
    }
}

/// Starts [`HostSh`]s and keeps the environment each was started with.
#[derive(Default)]
struct HostShFactory {
    started: Mutex<Vec<BTreeMap<String, String>>>,
    names: Mutex<Vec<String>>,
}

impl SandboxFactory for HostShFactory {
    fn start(
        &self,
        name: &str,
        spec: &Spec,
        console: Option<PtySize>,
    ) -> io::Result<Box<dyn LabSandbox>> {
        self.started.lock().unwrap().push(spec.env.clone());
        self.names.lock().unwrap().push(name.to_string());
        let env: Vec<(String, String)> = spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let console = match console {
            Some(size) => {
                let mut pty_env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                pty_env.extend([("PS1", "lab$ "), ("ENV", "")]);
                Some(crate::panes::pty::spawn_host(
                    "/bin/sh",
                    &[],
                    &pty_env,
                    size,
                )?)
            }
            None => None,
        };
        Ok(Box::new(HostSh {
            env,
            console: Mutex::new(console),
        }))
    }
    fn unmet(&self, _req: Requirement) -> Option<String> {
        None
    }
}

/// A cluster lab whose solution and check work in the folder of the
/// "namespace" that `KUBECONFIG` lies in: they see the cluster's variables.
fn lesson(id: &str, check: &str) -> Lesson {
    let text = format!(
        "+++\nid = \"{id}\"\ntitle = \"C\"\n\n[cluster]\n\n[sandboxes.main]\nenv = {{ OWN = \"kept\" }}\n+++\n\
         # C\n\n## Make it\n\n\
         ```sh check id=made\n# title: web exists in the lab's namespace\n{check}\n```\n\n\
         ```sh solution\ntouch \"$(dirname \"$KUBECONFIG\")/web\"\n```\n"
    );
    let path = PathBuf::from(format!("/c/en/src/{id}.md"));
    let load = parse_text(&text, &path, Lang::En);
    load.lesson
        .unwrap_or_else(|| panic!("fixture lesson loads: {:?}", load.diagnostics))
}

const MADE: &str = "d=$(dirname \"$KUBECONFIG\")\n\
    [ \"$KUBELAB_CONTEXT\" = \"kubelab/$KUBELAB_NAMESPACE\" ] || { echo wrong context; exit 1; }\n\
    [ \"$(basename \"$d\")\" = \"$KUBELAB_NAMESPACE\" ] || { echo wrong namespace; exit 1; }\n\
    test -f \"$d/web\" || { echo no web yet; exit 1; }";

#[test]
fn without_a_cluster_the_lab_is_skipped_with_the_reason_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let why = "needs a cluster: no kubeconfig found ($KUBECONFIG, ~/.kube/config)";
    let cluster = FolderCluster::new(dir.path(), Err(why));
    let factory = HostShFactory::default();
    let l = lesson("no-cluster", MADE);
    let reports = test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"));
    assert_eq!(reports[0].status, Status::Skip);
    assert_eq!(reports[0].problems, [why]);
    assert_eq!(cluster.calls(), ["answers"], "no reset, no namespace");
    assert!(factory.started.lock().unwrap().is_empty());
}

#[test]
fn with_a_cluster_the_lab_runs_between_two_resets_with_the_readers_environment() {
    let dir = tempfile::tempdir().unwrap();
    // A previous run's object: the first reset must remove it, or the
    // check would pass on the fresh lab.
    let leftover = dir.path().join("kubelab-on-cluster");
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("web"), "").unwrap();
    let cluster = FolderCluster::new(dir.path(), Ok("context recorded (v1.34.0)"));
    let factory = HostShFactory::default();
    let l = lesson("on-cluster", MADE);
    let reports = test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"));
    let r = &reports[0];
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(
        r.checks[0].failed_first && r.checks[0].passed_after,
        "{r:#?}"
    );
    assert_eq!(r.checks[0].fresh_reason.as_deref(), Some("no web yet"));
    assert_eq!(
        cluster.calls(),
        [
            "answers",
            "reset on-cluster 120s",
            "prepare on-cluster",
            "reset on-cluster 120s"
        ]
    );
    assert!(!leftover.exists(), "reset after the run");
    // The sandbox got the lesson's environment plus exactly what the
    // reader gives (crate::cluster::lab::lab_spec).
    let started = factory.started.lock().unwrap();
    assert_eq!(started.len(), 1);
    let prepared = {
        let c = FolderCluster::new(dir.path(), Ok(""));
        let env = c.prepare("on-cluster").unwrap();
        c.reset("on-cluster", Duration::ZERO).unwrap();
        env
    };
    let want = crate::cluster::lab::lab_spec(&l.front.sandboxes["main"], &prepared).env;
    assert_eq!(started[0], want);
    assert_eq!(started[0]["OWN"], "kept");
    assert_eq!(started[0]["KUBELAB_NAMESPACE"], "kubelab-on-cluster");
}

#[test]
fn a_failed_cluster_lab_is_reset_too() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = FolderCluster::new(dir.path(), Ok("context recorded (v1.34.0)"));
    let factory = HostShFactory::default();
    // Passes on the fresh lab (the namespace exists once prepared): a
    // pre-solved lab, which fails.
    let l = lesson("fails", "test -d \"$(dirname \"$KUBECONFIG\")\"");
    let reports = test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"));
    assert_eq!(reports[0].status, Status::Fail, "{:#?}", reports[0]);
    assert_eq!(cluster.calls().last().unwrap(), "reset fails 120s");
    assert!(!dir.path().join("kubelab-fails").exists());
}

#[test]
fn a_reset_that_fails_is_the_labs_problem_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    // The "namespace" is a file: remove_dir_all fails on it, as a reset
    // fails on a cluster that went away.
    std::fs::write(dir.path().join("kubelab-stuck"), "").unwrap();
    let cluster = FolderCluster::new(dir.path(), Ok("context recorded (v1.34.0)"));
    let factory = HostShFactory::default();
    let l = lesson("stuck", MADE);
    let reports = test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"));
    let r = &reports[0];
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert!(
        r.problems[0].starts_with("could not reset the lab's namespace first: "),
        "{r:#?}"
    );
    assert!(factory.started.lock().unwrap().is_empty(), "nothing ran");
    assert_eq!(cluster.calls().len(), 3, "the final reset is tried too");
}

/// A two-track lesson: the node track in `main` (a file in `dir`), the
/// cluster track in `k8s` (the recorded cluster's folder).
fn two_tracks(id: &str, dir: &Path, node_check: &str) -> Lesson {
    let d = dir.display();
    let text = format!(
        "+++\nid = \"{id}\"\ntitle = \"T\"\n\n[cluster]\nsandbox = \"k8s\"\n\n\
         [sandboxes.main]\n[sandboxes.k8s]\n+++\n# T\n\n## Node track\n\n\
         ```sh check id=node\n# title: the node track's file\n{node_check}\n```\n\n\
         ```sh solution\ntouch {d}/node-done\n```\n\n## Cluster track\n\n\
         ```sh check id=made sandbox=k8s\n# title: web exists in the lab's namespace\n{MADE}\n```\n\n\
         ```sh solution sandbox=k8s\ntouch \"$(dirname \"$KUBECONFIG\")/web\"\n```\n"
    );
    let path = PathBuf::from(format!("/c/en/src/{id}.md"));
    let load = parse_text(&text, &path, Lang::En);
    load.lesson
        .unwrap_or_else(|| panic!("fixture lesson loads: {:?}", load.diagnostics))
}

fn node_check(dir: &Path) -> String {
    format!(
        "test -z \"${{KUBECONFIG:-}}\" || {{ echo the node track got the cluster; exit 1; }}\n\
         test -f {}/node-done || {{ echo not yet; exit 1; }}",
        dir.display()
    )
}

#[test]
fn without_a_cluster_a_two_track_lesson_passes_on_its_node_track() {
    let files = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let why = "needs a cluster: no kubeconfig found";
    let cluster = FolderCluster::new(dir.path(), Err(why));
    let factory = HostShFactory::default();
    let l = two_tracks("two-off", files.path(), &node_check(files.path()));
    let r = &test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"))[0];
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    let ids: Vec<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["node"]);
    assert!(r.checks[0].ok(), "{r:#?}");
    assert_eq!(r.skipped_tracks, [format!("cluster track: {why}")]);
    assert_eq!(
        *factory.names.lock().unwrap(),
        ["main"],
        "no cluster sandbox"
    );
    assert_eq!(cluster.calls(), ["answers"]);
}

#[test]
fn with_a_cluster_both_tracks_run_each_in_its_own_sandboxes() {
    let files = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cluster = FolderCluster::new(dir.path(), Ok("context recorded (v1.34.0)"));
    let factory = HostShFactory::default();
    let l = two_tracks("two-on", files.path(), &node_check(files.path()));
    let r = &test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"))[0];
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    let ids: Vec<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["node", "made"]);
    assert!(r.checks.iter().all(CheckReport::ok), "{r:#?}");
    assert!(r.skipped_tracks.is_empty());
    assert_eq!(*factory.names.lock().unwrap(), ["main", "k8s"]);
    let started = factory.started.lock().unwrap();
    assert!(
        !started[0].contains_key("KUBECONFIG"),
        "node track: no cluster"
    );
    assert_eq!(started[1]["KUBELAB_NAMESPACE"], "kubelab-two-on");
    assert_eq!(cluster.calls().last().unwrap(), "reset two-on 120s");
}

#[test]
fn a_failing_node_track_fails_the_lesson_though_the_cluster_track_is_skipped() {
    let files = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cluster = FolderCluster::new(dir.path(), Err("no cluster"));
    let factory = HostShFactory::default();
    let l = two_tracks("two-bad", files.path(), "echo never; exit 1");
    let r = &test_lab_on(&[&l], &factory, &cluster, Path::new("kubelab"))[0];
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert_eq!(r.skipped_tracks.len(), 1);
}
