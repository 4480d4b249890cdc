//! The Pod pane's inspector against a real `kubelab node` (root): a
//! two-container Pod shares net/ipc/uts with its infra process and not its
//! mount namespace, its QoS class and cgroup path are the kubelet's, /proc
//! discovery (the cluster view) finds the same processes, and a node that
//! goes away is a message. Nothing is left afterwards.

use kubelab::panes::pods::discover;
use kubelab::panes::pods::model::{Listing, NoProcs, PodDetail, PodKey, PodsData};
use kubelab::panes::pods::probe::CpuMemo;
use kubelab::panes::pods::sampler::{sample, PodSource};
use kubelab_node::api::{client, Reply, Request};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sleep", "300"]
    resources:
      limits: {cpu: 500m, memory: 64Mi}
  - name: side
    image: busybox
    command: ["sh", "-c", "exec sleep 300"]
"#;

fn skip_reason() -> Option<&'static str> {
    if !rustix::process::geteuid().is_root() {
        return Some("a node's Pods need root (cgroups at explicit paths)");
    }
    if !Path::new("/bin/busybox").is_file() {
        return Some("no static /bin/busybox (apt-get install busybox-static)");
    }
    if kubelab_sandbox::cgroup::mode() == kubelab_sandbox::cgroup::Mode::None {
        return Some("no cgroup filesystem mounted");
    }
    None
}

/// A `kubelab node` child; stopped (SIGTERM: every Pod deleted) on drop.
struct Node {
    child: Child,
    name: String,
    state: PathBuf,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
        let name = format!("podpane{}", std::process::id());
        let child = Command::new(env!("CARGO_BIN_EXE_kubelab"))
            .args(["node", "--name", &name, "--state-dir"])
            .arg(&state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let node = Node {
            child,
            name,
            state,
            _dir: dir,
        };
        assert!(
            poll(Duration::from_secs(20), || node
                .state
                .join("node.sock")
                .exists()),
            "the node did not start"
        );
        node
    }

    fn stop(&mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

fn poll(timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn key() -> PodKey {
    PodKey {
        namespace: "default".into(),
        name: "web".into(),
    }
}

fn detail(d: &PodsData) -> Option<&PodDetail> {
    d.detail.as_ref()?.as_ref().ok()
}

/// Processes whose cgroup names the node `name` (none once it stopped).
fn processes_of(name: &str) -> Vec<u32> {
    let needle = format!("/node-{name}/");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
                .is_ok_and(|c| c.contains(&needle))
        })
        .collect()
}

#[test]
fn the_inspector_shows_a_real_pods_sharing_qos_and_cgroup() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIP: {why}");
        return;
    }
    let mut node = Node::start();
    let file = node.state.parent().unwrap().join("web.yaml");
    std::fs::write(&file, POD).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(["pod", "apply", "--state-dir"])
        .arg(&node.state)
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    let source = PodSource::Node {
        state_dir: node.state.clone(),
    };
    let mut memo = CpuMemo::default();
    let mut last = PodsData::default();
    let ready = poll(Duration::from_secs(30), || {
        last = sample(&source, Some(&key()), &mut memo, chrono_now());
        detail(&last)
            .is_some_and(|d| d.row.ready == "2/2" && d.containers.iter().all(|c| c.pid.is_some()))
    });
    assert!(ready, "{last:#?}");
    let d = detail(&last).unwrap().clone();
    match &last.listing {
        Listing::Pods { rows, .. } => assert_eq!(rows[0].status, "Running"),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.qos, "Burstable");
    assert_eq!(d.ns_columns, ["main", "side"]);
    let ns = d.namespaces.as_ref().unwrap();
    for row in ns {
        for i in 0..2 {
            let shared = row.shared(i);
            match row.kind {
                "net" | "ipc" | "uts" => assert_eq!(shared, Some(true), "{row:?}"),
                "mnt" => assert_eq!(shared, Some(false), "{row:?}"),
                _ => {}
            }
        }
    }
    let cg = d.cgroup.as_ref().unwrap();
    assert!(
        cg.path.ends_with(&format!(
            "/kubelab/node-{}/kubepods/burstable/pod{}",
            node.name, d.uid
        )),
        "{cg:?}"
    );
    assert!(cg.pids.unwrap_or(0) >= 3, "pause and two sleeps: {cg:?}");
    assert!(cg.memory.is_some(), "{cg:?}");
    assert!(
        d.events.iter().any(|e| e.reason == "Started"),
        "{:?}",
        d.events
    );

    // The cluster view: the same Pod found from its UID in /proc.
    let pod = match client::request(
        &node.state,
        &Request::Get {
            name: Some("web".into()),
            namespace: "default".into(),
        },
    )
    .unwrap()
    {
        Reply::Pods { mut pods } => pods.remove(0),
        other => panic!("{other:?}"),
    };
    let hs = kubelab_sandbox::cgroup::hierarchies();
    let found = discover::find(Path::new("/proc"), &hs, &pod).unwrap();
    let pids: Vec<(String, u32)> = d
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.pid.unwrap()))
        .collect();
    assert_eq!(found.containers, pids);
    assert_eq!(
        found.cgroup_path.as_deref(),
        Some(cg.path.as_str()),
        "{found:?}"
    );
    let infra = found.infra_pid.expect("the pause process");
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{infra}/comm"))
            .unwrap()
            .trim(),
        "kubelab-pause"
    );
    assert!(!found.cgroup_dirs.is_empty(), "{found:?}");

    // The node goes away: a message, nothing left.
    node.stop();
    let after = sample(&source, Some(&key()), &mut memo, chrono_now());
    assert!(
        matches!(&after.listing, Listing::Unavailable(why) if why.contains("cannot reach a node")),
        "{after:?}"
    );
    let gone = poll(Duration::from_secs(10), || {
        processes_of(&node.name).is_empty() && found.cgroup_dirs.iter().all(|d| !d.exists())
    });
    assert!(gone, "left behind: {:?}", processes_of(&node.name));
    assert_eq!(
        discover::find(Path::new("/proc"), &hs, &pod),
        Err(NoProcs::OtherNode)
    );
}

fn chrono_now() -> k8s_openapi::chrono::DateTime<k8s_openapi::chrono::Utc> {
    k8s_openapi::chrono::Utc::now()
}
