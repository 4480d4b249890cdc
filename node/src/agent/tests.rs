//! The agent's logic against the fake runtime (no kernel work).

use super::fake::{Call, FakeRuntime};
use super::{Node, NodeConfig, NodeThread, State};
use crate::restart::BackOffConfig;
use crate::status::printer::pod_row;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

pub(crate) struct Lab {
    pub dir: tempfile::TempDir,
    pub rt: FakeRuntime,
    pub node: Node,
    pub thread: Option<NodeThread>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            t.stop();
        }
    }
}

pub(crate) fn lab_with(edit: impl FnOnce(&mut NodeConfig, &Path)) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = NodeConfig::new("node1", &dir.path().join("state"));
    cfg.images.busybox = true;
    cfg.tick = Duration::from_millis(10);
    cfg.static_poll = Duration::from_millis(20);
    cfg.backoff = BackOffConfig::scaled_down(1000);
    edit(&mut cfg, dir.path());
    let rt = FakeRuntime::default();
    let node = Node::new(cfg, Box::new(rt.clone()));
    let thread = Some(node.spawn());
    Lab {
        dir,
        rt,
        node,
        thread,
    }
}

pub(crate) fn lab() -> Lab {
    lab_with(|_, _| {})
}

pub(crate) fn row(st: &State, name: &str) -> Option<crate::status::printer::PodRow> {
    st.find("default", name)
        .map(|p| pod_row(&p.pod, super::now_utc()))
}

fn pod(name: &str, policy: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: {policy}\n{extra_spec}  containers:\n  - name: main\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n"
    )
}

/// The UID the node gave Pod `name` of the default namespace.
fn uid_of(l: &Lab, name: &str) -> String {
    l.node.pod("default", name).unwrap().0.metadata.uid.unwrap()
}

fn apply(l: &Lab, text: &str) {
    l.node.apply(text, Path::new("pod.yaml")).expect("applied");
}

#[test]
fn init_containers_run_in_order_then_the_containers() {
    let l = lab();
    {
        let mut s = l.rt.0.lock().unwrap();
        s.exit_on_start.insert("first".into(), 0);
        s.exit_on_start.insert("second".into(), 0);
    }
    let init = "  initContainers:\n  - name: first\n    image: busybox\n  - name: second\n    image: busybox\n";
    apply(&l, &pod("web", "Always", init));
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    let order: Vec<String> =
        l.rt.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Start { container, .. } => Some(container),
                _ => None,
            })
            .collect();
    assert_eq!(order, ["first", "second", "main"]);
    assert!(matches!(l.rt.calls()[0], Call::RunSandbox(ref n) if n == "web"));
    let (p, _) = l.node.pod("default", "web").unwrap();
    let s = p.status.unwrap();
    assert_eq!(s.phase.as_deref(), Some("Running"));
    let inits = s.init_container_statuses.unwrap();
    assert!(inits.iter().all(|c| c
        .state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .unwrap()
        .exit_code
        == 0));
}

#[test]
fn a_running_init_container_is_not_ready_and_the_pod_shows_init_0_of_1() {
    let l = lab();
    let init = "  initContainers:\n  - name: prep\n    image: busybox\n";
    apply(&l, &pod("web", "Always", init));
    let prep_running = |st: &State| {
        st.find("default", "web").is_some_and(|p| {
            p.pod
                .status
                .as_ref()
                .and_then(|s| s.init_container_statuses.as_ref())
                .and_then(|s| s[0].state.as_ref())
                .is_some_and(|s| s.running.is_some())
        })
    };
    assert!(l.node.wait_until(WAIT, prep_running), "prep never ran");
    assert!(
        l.node.wait_until(WAIT, |st| prep_running(st)
            && row(st, "web").is_some_and(|r| r.status == "Init:0/1")),
        "{:?}",
        l.node.pod("default", "web").map(|(p, _)| p.status)
    );
    let (p, _) = l.node.pod("default", "web").unwrap();
    let s = p.status.unwrap();
    let prep = &s.init_container_statuses.unwrap()[0];
    assert!(prep.state.as_ref().unwrap().running.is_some());
    assert!(!prep.ready, "ready only once it exited 0");
    assert_eq!(prep.started, Some(true));
    let init = s
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Initialized")
        .unwrap();
    assert_eq!(
        (init.status.as_str(), init.reason.as_deref()),
        ("False", Some("ContainersNotInitialized"))
    );
}

#[test]
fn a_container_is_still_being_created_until_its_post_start_hook_returns() {
    let l = lab();
    l.rt.0.lock().unwrap().hold_exec = true;
    // Let the hook go however the test ends, so a failing assertion fails
    // instead of waiting for a node that cannot stop.
    struct Release(FakeRuntime);
    impl Drop for Release {
        fn drop(&mut self) {
            let mut s = self.0 .0.lock().unwrap_or_else(|p| p.into_inner());
            s.hold_exec = false;
        }
    }
    let _release = Release(l.rt.clone());
    let hook = "    lifecycle:\n      postStart:\n        exec:\n          command: [\"sh\", \"-c\", \"sleep 2\"]\n";
    let text = format!("{}{hook}", pod("web", "Always", ""));
    apply(&l, &text);
    let hook_running = || {
        l.rt.calls()
            .iter()
            .any(|c| matches!(c, Call::Exec { container, .. } if container == "main"))
    };
    let deadline = std::time::Instant::now() + WAIT;
    while !hook_running() {
        assert!(std::time::Instant::now() < deadline, "the hook never ran");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // The kubelet starts the container and runs the hook in one step.
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "ContainerCreating" && r.ready == "0/1")));
    let (p, _) = l.node.pod("default", "web").unwrap();
    assert_eq!(p.status.unwrap().phase.as_deref(), Some("Pending"));
    l.rt.0.lock().unwrap().hold_exec = false;
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
}

#[test]
fn a_failed_init_container_under_never_fails_the_pod() {
    let l = lab();
    l.rt.0
        .lock()
        .unwrap()
        .exit_on_start
        .insert("setup".into(), 2);
    apply(
        &l,
        &pod(
            "job",
            "Never",
            "  initContainers:\n  - name: setup\n    image: busybox\n",
        ),
    );
    assert!(l
        .node
        .wait_until(WAIT, |st| st.find("default", "job").is_some_and(|p| p
            .pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            == Some("Failed"))));
    assert_eq!(l.rt.starts_of("setup"), 1);
    assert_eq!(l.rt.starts_of("main"), 0);
    let r = l.node.wait_until(WAIT, |st| {
        row(st, "job").is_some_and(|r| r.status == "Init:Error")
    });
    assert!(r, "{:?}", row(&l.node.inner.state.lock().unwrap(), "job"));
}

#[test]
fn always_restarts_with_back_off_and_shows_crash_loop_back_off() {
    let l = lab_with(|c, _| c.backoff = BackOffConfig::scaled_down(50));
    l.rt.0
        .lock()
        .unwrap()
        .exit_on_start
        .insert("main".into(), 1);
    apply(&l, &pod("crash", "Always", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "crash")
        .is_some_and(|r| r.status == "CrashLoopBackOff" && !r.restarts.starts_with('0'))));
    let (p, events) = l.node.pod("default", "crash").unwrap();
    let cs = &p.status.unwrap().container_statuses.unwrap()[0];
    let w = cs.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert!(
        w.message.as_deref().unwrap().starts_with("back-off "),
        "{w:?}"
    );
    assert_eq!(
        cs.last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        1
    );
    assert!(events.iter().any(|e| e.reason == "BackOff"));
    // The back-off doubles: it keeps restarting, more slowly.
    assert!(l.node.wait_until(WAIT, |_| l.rt.starts_of("main") >= 3));
}

#[test]
fn on_failure_restarts_only_failures_and_never_restarts_nothing() {
    let l = lab();
    l.rt.0
        .lock()
        .unwrap()
        .exit_on_start
        .insert("main".into(), 0);
    apply(&l, &pod("ok", "OnFailure", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "ok")
        .is_some_and(|r| r.status == "Completed")));
    assert_eq!(l.rt.starts_of("main"), 1);

    let l = lab();
    l.rt.0
        .lock()
        .unwrap()
        .exit_on_start
        .insert("main".into(), 3);
    apply(&l, &pod("retry", "OnFailure", ""));
    assert!(l.node.wait_until(WAIT, |_| l.rt.starts_of("main") >= 2));

    let l = lab();
    l.rt.0
        .lock()
        .unwrap()
        .exit_on_start
        .insert("main".into(), 3);
    apply(&l, &pod("once", "Never", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "once")
        .is_some_and(|r| r.status == "Error")));
    assert_eq!(l.rt.starts_of("main"), 1);
}

#[test]
fn a_failing_exec_liveness_probe_restarts_the_container() {
    let l = lab();
    l.rt.0.lock().unwrap().exec_code.insert("main".into(), 1);
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sick\nspec:\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: main\n    image: busybox\n    livenessProbe:\n      exec:\n        command: [\"cat\", \"/tmp/healthy\"]\n      periodSeconds: 1\n      failureThreshold: 1\n";
    apply(&l, text);
    assert!(l.node.wait_until(WAIT, |st| st
        .find("default", "sick")
        .is_some_and(|p| p.containers[0].restart_count() >= 1)));
    let calls = l.rt.calls();
    assert!(calls.contains(&Call::Exec {
        container: "main".into(),
        argv: vec!["cat".into(), "/tmp/healthy".into()]
    }));
    assert!(calls.contains(&Call::Stop {
        container: "main".into(),
        grace: Duration::from_secs(5)
    }));
    let (_, events) = l.node.pod("default", "sick").unwrap();
    assert!(events
        .iter()
        .any(|e| e.reason == "Unhealthy" && e.message.starts_with("Liveness probe failed: ")));
    assert!(events
        .iter()
        .any(|e| e.reason == "Killing" && e.message.contains("failed liveness probe")));
}

#[test]
fn delete_honours_the_grace_period_and_runs_pre_stop_first() {
    let l = lab();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  terminationGracePeriodSeconds: 7\n  containers:\n  - name: main\n    image: busybox\n    lifecycle:\n      preStop:\n        exec:\n          command: [\"sh\", \"-c\", \"echo bye\"]\n";
    apply(&l, text);
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    assert_eq!(
        l.node.delete("default", "web", None).unwrap(),
        "pod \"web\" deleted"
    );
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    let calls = l.rt.calls();
    let pre = calls
        .iter()
        .position(|c| matches!(c, Call::Exec { argv, .. } if argv[0] == "sh"))
        .expect("preStop ran");
    let stop = calls
        .iter()
        .position(|c| matches!(c, Call::Stop { .. }))
        .expect("stopped");
    assert!(pre < stop);
    match &calls[stop] {
        // preStop took almost nothing of the 7 s.
        Call::Stop { grace, .. } => assert!(
            *grace > Duration::from_secs(6) && *grace <= Duration::from_secs(7),
            "{grace:?}"
        ),
        _ => unreachable!(),
    }
    assert!(matches!(calls.last(), Some(Call::RemoveSandbox(_))));

    // An explicit grace wins.
    apply(&l, &pod("quick", "Always", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "quick")
        .is_some_and(|r| r.status == "Running")));
    l.node.delete("default", "quick", Some(3)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    assert!(l.rt.calls().contains(&Call::Stop {
        container: "main".into(),
        grace: Duration::from_secs(3)
    }));
    assert!(l
        .node
        .delete("default", "quick", None)
        .unwrap_err()
        .contains("not found"));
}

#[test]
fn static_manifests_start_replace_and_stop_their_pods() {
    let l = lab_with(|c, dir| {
        std::fs::create_dir(dir.join("manifests")).unwrap();
        c.manifests = Some(dir.join("manifests"));
    });
    let file = l.dir.path().join("manifests/web.yaml");
    std::fs::write(&file, pod("web", "Always", "")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "web-node1")
        .is_some_and(|r| r.status == "Running")));
    let first = l
        .node
        .pod("default", "web-node1")
        .unwrap()
        .0
        .metadata
        .uid
        .unwrap();
    // Hidden files (editors' swap files) are not read.
    std::fs::write(l.dir.path().join("manifests/.web.yaml.swp"), "garbage").unwrap();
    // A static Pod cannot be deleted through the API.
    assert!(l
        .node
        .delete("default", "web-node1", None)
        .unwrap_err()
        .contains("static Pod"));

    std::fs::write(&file, pod("web", "OnFailure", "")).unwrap();
    let replaced = |st: &State| {
        st.pods.len() == 1
            && st
                .find("default", "web-node1")
                .is_some_and(|p| p.uid() != first && p.containers[0].running.is_some())
    };
    assert!(l.node.wait_until(WAIT, replaced));
    assert!(l
        .rt
        .calls()
        .iter()
        .any(|c| matches!(c, Call::RemoveSandbox(id) if id.contains(&first))));

    std::fs::remove_file(&file).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));

    // Removed and put back: the same UID starts again (whether the old
    // instance is already gone or still stopping: see `Msg::PodGone`).
    let text = pod("back", "Always", "");
    std::fs::write(&file, &text).unwrap();
    assert!(l.node.wait_until(WAIT, |st| row(st, "back-node1")
        .is_some_and(|r| r.status == "Running")));
    let sandboxes = |rt: &FakeRuntime| {
        rt.calls()
            .iter()
            .filter(|c| matches!(c, Call::RunSandbox(n) if n == "back-node1"))
            .count()
    };
    std::fs::remove_file(&file).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st
        .find("default", "back-node1")
        .is_none_or(|p| p.deleting.is_some())));
    std::fs::write(&file, &text).unwrap();
    assert!(l.node.wait_until(WAIT, |st| sandboxes(&l.rt) == 2
        && row(st, "back-node1").is_some_and(|r| r.status == "Running")));
    std::fs::remove_file(&file).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));

    // A bad file is reported once, naming it.
    std::fs::write(&file, "kind: Deployment\n").unwrap();
    assert!(l.node.wait_until(WAIT, |st| !st.messages.is_empty()));
    let msgs = l.node.take_messages();
    assert!(msgs[0].contains("web.yaml:1:"), "{msgs:?}");
}

#[test]
fn apply_refuses_what_the_node_cannot_do_and_changes_to_a_pod() {
    let l = lab();
    // Without a Pod network, tcpSocket probes cannot reach the Pod.
    l.rt.0.lock().unwrap().no_network = Some("no CNI plugin bridge in /usr/lib/cni".into());
    let tcp = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\nspec:\n  containers:\n  - name: main\n    image: busybox\n    ports:\n    - containerPort: 80\n    readinessProbe:\n      tcpSocket:\n        port: 80\n";
    let e = l.node.apply(tcp, Path::new("t.yaml")).unwrap_err();
    assert!(
        e.starts_with("t.yaml:1: spec.containers[0].readinessProbe: tcpSocket needs a Pod IP the node can reach, and no CNI plugin bridge in /usr/lib/cni;"),
        "{e}"
    );
    l.rt.0.lock().unwrap().no_network = None;
    apply(&l, &pod("web", "Always", ""));
    assert_eq!(
        l.node
            .apply(&pod("web", "Always", ""), Path::new("p.yaml"))
            .unwrap(),
        ["pod/web unchanged"]
    );
    let e = l
        .node
        .apply(&pod("web", "Never", ""), Path::new("p.yaml"))
        .unwrap_err();
    assert!(e.contains("delete it first"), "{e}");
}

#[test]
fn logs_and_previous_come_from_the_instances_files() {
    let l = lab();
    apply(&l, &pod("web", "Always", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    let (path, running) = l.node.log_file("default", "web", None, false).unwrap();
    assert!(running);
    assert!(path.ends_with("main/0.log"), "{}", path.display());
    assert!(l
        .node
        .log_file("default", "web", None, true)
        .unwrap_err()
        .contains("previous terminated container"));
    l.rt.exit("main", 1);
    assert!(l.node.wait_until(WAIT, |st| st
        .find("default", "web")
        .is_some_and(|p| p.containers[0].restart_count() == 1)));
    let (prev, _) = l
        .node
        .log_file("default", "web", Some("main"), true)
        .unwrap();
    assert!(prev.ends_with("main/0.log"));
    assert!(l
        .node
        .log_file("default", "web", Some("nope"), false)
        .unwrap_err()
        .contains("choose one of: [main]"));
}

#[test]
fn volume_paths_never_follow_links_out() {
    use super::volumes::{confined_join, host_path};
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("allowed");
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
    let roots = vec![crate::manifest::HostPathRoot::same(&root)];
    // A root shown at another path: that path is its directory here.
    let shown = vec![crate::manifest::HostPathRoot {
        path: "/mnt/disks".into(),
        dir: root.clone(),
    }];
    assert_eq!(
        host_path(&shown, "/mnt/disks/data", false).unwrap(),
        root.join("data").canonicalize().unwrap()
    );
    assert!(host_path(&shown, "/mnt/disks/out/passwd", false).is_err());
    assert!(host_path(&shown, root.join("data").to_str().unwrap(), false).is_err());
    // A directory the node makes takes its parent's mode (and owner).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("data"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let made = host_path(&shown, "/mnt/disks/data/web-0/x", true).unwrap();
    let mode = std::fs::metadata(&made).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o1777, "{mode:o}");
    assert!(host_path(&roots, root.join("data").to_str().unwrap(), false).is_ok());
    let e = host_path(&roots, root.join("out/passwd").to_str().unwrap(), false).unwrap_err();
    assert!(e.contains("symbolic link"), "{e}");
    assert!(host_path(&roots, "/etc", false)
        .unwrap_err()
        .contains("not under"));
    // subPath inside a volume: a link planted by a container is refused.
    let vol = d.path().join("vol");
    std::fs::create_dir(&vol).unwrap();
    std::os::unix::fs::symlink("/", vol.join("escape")).unwrap();
    assert!(confined_join(&vol, "escape/etc", true)
        .unwrap_err()
        .contains("symbolic link"));
    assert!(confined_join(&vol, "../x", true).is_err());
    assert_eq!(
        confined_join(&vol, "new/dir", true).unwrap(),
        vol.join("new/dir")
    );
    assert!(vol.join("new/dir").is_dir());
}

#[test]
fn projected_volumes_swap_data_atomically() {
    let l = lab();
    let state = l.node.config().state_dir.clone();
    std::fs::create_dir_all(state.join("configmaps/app")).unwrap();
    std::fs::write(state.join("configmaps/app/color"), "blue").unwrap();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: vols\n  labels:\n    tier: web\nspec:\n  volumes:\n  - name: cfg\n    configMap:\n      name: app\n  - name: info\n    downwardAPI:\n      items:\n      - path: labels\n        fieldRef:\n          fieldPath: metadata.labels\n  - name: scratch\n    emptyDir: {}\n  containers:\n  - name: main\n    image: busybox\n    volumeMounts:\n    - name: cfg\n      mountPath: /cfg\n    - name: info\n      mountPath: /info\n    - name: scratch\n      mountPath: /s\n      subPath: sub\n";
    apply(&l, text);
    assert!(l.node.wait_until(WAIT, |st| row(st, "vols")
        .is_some_and(|r| r.status == "Running")));
    let uid = uid_of(&l, "vols");
    let vols = state.join("pods").join(&uid).join("volumes");
    let cfg = vols.join("kubernetes.io~configmap/cfg");
    assert_eq!(std::fs::read_to_string(cfg.join("color")).unwrap(), "blue");
    assert!(std::fs::symlink_metadata(cfg.join("..data"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_link(cfg.join("color")).unwrap(),
        Path::new("..data/color")
    );
    assert_eq!(
        std::fs::read_to_string(vols.join("kubernetes.io~downward-api/info/labels")).unwrap(),
        "tier=\"web\""
    );
    assert!(vols.join("kubernetes.io~empty-dir/scratch/sub").is_dir());
    // Writable by every container whatever its uid, as the kubelet makes it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(vols.join("kubernetes.io~empty-dir/scratch"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o777, "emptyDir mode {mode:o}");
    // An update swaps `..data` to a new directory.
    let before = std::fs::read_link(cfg.join("..data")).unwrap();
    std::fs::write(state.join("configmaps/app/color"), "green").unwrap();
    let pod = l.node.pod("default", "vols").unwrap().0;
    super::volumes::prepare(
        &l.rt,
        &state,
        &[],
        &pod,
        &super::build::node_facts(l.node.config()),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(cfg.join("color")).unwrap(), "green");
    assert_ne!(std::fs::read_link(cfg.join("..data")).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(&cfg).unwrap().count(),
        3,
        "old data removed"
    );
    // The mounts handed to the runtime.
    l.node.delete("default", "vols", Some(0)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    assert!(
        !state.join("pods").join(&uid).exists(),
        "volumes removed with the Pod"
    );
}

#[test]
fn a_new_node_removes_the_volumes_a_killed_one_left() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("keep"), "host file").unwrap();
    let l = lab_with(|cfg, _| {
        let old = cfg
            .state_dir
            .join("pods/old-uid/volumes/kubernetes.io~empty-dir/data");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("f"), "left by a killed node").unwrap();
        // A link planted in a volume is removed, not followed.
        std::os::unix::fs::symlink(outside.path(), old.join("out")).unwrap();
    });
    let state = l.node.config().state_dir.clone();
    assert!(!state.join("pods/old-uid").exists());
    assert!(outside.path().join("keep").exists());
    // A memory volume's tmpfs is unmounted before the removal.
    assert!(l.rt.calls().contains(&Call::Unmount(
        state.join("pods/old-uid/volumes/kubernetes.io~empty-dir/data")
    )));
}

#[test]
fn memory_volume_size_is_the_kubelets() {
    use super::volumes::memory_volume_size;
    let parse = |text: &str| {
        let images = crate::manifest::image::ImageCatalog {
            busybox: true,
            ..Default::default()
        };
        let opts = crate::manifest::ParseOptions {
            images: &images,
            node_name: None,
            host_path_roots: &[],
        };
        crate::manifest::parse_str(text, Path::new("m.yaml"), opts)
            .unwrap()
            .remove(0)
            .pod
    };
    let gi = 1i64 << 30;
    let best_effort = parse("apiVersion: v1\nkind: Pod\nmetadata: {name: m, uid: 0b5e7a5e-1111-4222-8333-444455556666}\nspec:\n  containers:\n  - {name: a, image: busybox}\n");
    // No limit anywhere: the node's allocatable memory.
    assert_eq!(
        memory_volume_size(&best_effort, None, 4 * gi).unwrap(),
        4 << 30
    );
    assert_eq!(
        memory_volume_size(&best_effort, Some("16Mi"), 4 * gi).unwrap(),
        16 << 20
    );
    // A sizeLimit above what the node has, or zero, lowers nothing.
    assert_eq!(
        memory_volume_size(&best_effort, Some("8Gi"), 4 * gi).unwrap(),
        4 << 30
    );
    assert_eq!(
        memory_volume_size(&best_effort, Some("0"), 4 * gi).unwrap(),
        4 << 30
    );
    // The pod cgroup's memory limit (every container limited) caps it.
    let limited = parse("apiVersion: v1\nkind: Pod\nmetadata: {name: m, uid: 0b5e7a5e-1111-4222-8333-444455556666}\nspec:\n  containers:\n  - {name: a, image: busybox, resources: {limits: {memory: 64Mi}}}\n  - {name: b, image: busybox, resources: {limits: {memory: 32Mi}}}\n");
    assert_eq!(
        memory_volume_size(&limited, None, 4 * gi).unwrap(),
        96 << 20
    );
    assert_eq!(
        memory_volume_size(&limited, Some("128Mi"), 4 * gi).unwrap(),
        96 << 20
    );
    assert_eq!(
        memory_volume_size(&limited, Some("1Mi"), 4 * gi).unwrap(),
        1 << 20
    );
    // One container without a limit: the pod cgroup has none (Burstable).
    let partly = parse("apiVersion: v1\nkind: Pod\nmetadata: {name: m, uid: 0b5e7a5e-1111-4222-8333-444455556666}\nspec:\n  containers:\n  - {name: a, image: busybox, resources: {limits: {memory: 64Mi}}}\n  - {name: b, image: busybox}\n");
    assert_eq!(memory_volume_size(&partly, None, 4 * gi).unwrap(), 4 << 30);
}

#[test]
fn memory_volumes_are_mounted_by_the_runtime_and_unmounted_before_removal() {
    let l = lab();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: mem\nspec:\n  volumes:\n  - name: cache\n    emptyDir:\n      medium: Memory\n      sizeLimit: 16Mi\n  - name: disk\n    emptyDir: {}\n  containers:\n  - name: main\n    image: busybox\n    volumeMounts:\n    - {name: cache, mountPath: /cache}\n    - {name: disk, mountPath: /disk}\n";
    apply(&l, text);
    assert!(l.node.wait_until(WAIT, |st| row(st, "mem")
        .is_some_and(|r| r.status == "Running")));
    let uid = uid_of(&l, "mem");
    let dirs = l
        .node
        .config()
        .state_dir
        .join("pods")
        .join(&uid)
        .join("volumes/kubernetes.io~empty-dir");
    let mounts: Vec<Call> =
        l.rt.calls()
            .into_iter()
            .filter(|c| matches!(c, Call::MountMemory { .. }))
            .collect();
    assert!(!mounts.is_empty());
    // Only the memory volume, at its directory, with the sizeLimit.
    for m in &mounts {
        assert_eq!(
            *m,
            Call::MountMemory {
                dir: dirs.join("cache"),
                size: 16 << 20
            }
        );
    }
    l.node.delete("default", "mem", Some(0)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    let calls = l.rt.calls();
    let unmount = calls
        .iter()
        .position(|c| *c == Call::Unmount(dirs.join("cache")))
        .expect("the memory volume is unmounted");
    let last_mount = calls
        .iter()
        .rposition(|c| matches!(c, Call::MountMemory { .. }))
        .unwrap();
    assert!(unmount > last_mount);
    assert!(!dirs.exists(), "volumes removed with the Pod");
}

#[test]
fn the_nodes_log_rotation_reaches_the_runtime() {
    // Smaller than the fake container's one line: it rotates at once.
    let l = lab_with(|cfg, _| {
        cfg.log_rotation = crate::logs::RotationPolicy {
            max_size: 10,
            max_files: 2,
        }
    });
    apply(&l, &pod("web", "Always", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "web")
        .is_some_and(|r| r.status == "Running")));
    let (path, _) = l.node.log_file("default", "web", None, false).unwrap();
    let rotated = crate::logs::rotated_files(&path).unwrap();
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    // `<n>.log.<YYYYmmdd-HHMMSS>`, as the kubelet names them.
    let name = rotated[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let stamp = name
        .strip_prefix("0.log.")
        .unwrap_or_else(|| panic!("{name}"));
    assert!(
        stamp.len() == 15
            && stamp.as_bytes()[8] == b'-'
            && stamp.chars().filter(char::is_ascii_digit).count() == 14,
        "{name}"
    );
    assert!(std::fs::read_to_string(&rotated[0])
        .unwrap()
        .ends_with(" stdout F hello from main\n"));
    // `logs` reads the current file, empty since the rotation.
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn a_running_pods_config_map_follows_its_source() {
    // The kubelet's periodic sync, shortened: an edit of the config map
    // reaches the running container's volume with no restart.
    let l = lab_with(|cfg, _| cfg.sync_frequency = Duration::from_millis(30));
    let state = l.node.config().state_dir.clone();
    std::fs::create_dir_all(state.join("configmaps/app")).unwrap();
    std::fs::write(state.join("configmaps/app/color"), "blue").unwrap();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: live\nspec:\n  volumes:\n  - name: cfg\n    configMap:\n      name: app\n  containers:\n  - name: main\n    image: busybox\n    volumeMounts:\n    - name: cfg\n      mountPath: /cfg\n";
    apply(&l, text);
    assert!(l.node.wait_until(WAIT, |st| row(st, "live")
        .is_some_and(|r| r.status == "Running")));
    let uid = uid_of(&l, "live");
    let cfg = state
        .join("pods")
        .join(&uid)
        .join("volumes/kubernetes.io~configmap/cfg");
    assert_eq!(std::fs::read_to_string(cfg.join("color")).unwrap(), "blue");
    let before = std::fs::read_link(cfg.join("..data")).unwrap();
    std::fs::write(state.join("configmaps/app/color"), "green").unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while std::fs::read_to_string(cfg.join("color")).unwrap_or_default() != "green" {
        assert!(
            std::time::Instant::now() < deadline,
            "the edit never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_ne!(std::fs::read_link(cfg.join("..data")).unwrap(), before);
    // Same container instance: nothing restarted.
    assert_eq!(row_restarts(&l, "live"), 0);
    // A source that goes bad is a warning; the Pod keeps running.
    std::fs::remove_dir_all(state.join("configmaps/app")).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st
        .find("default", "live")
        .is_some_and(|p| p.events.iter().any(|e| e.reason == "FailedMount"))));
    assert!(l.node.wait_until(WAIT, |st| row(st, "live")
        .is_some_and(|r| r.status == "Running")));
    l.node.delete("default", "live", Some(0)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
}

fn row_restarts(l: &Lab, name: &str) -> i32 {
    l.node
        .pod("default", name)
        .unwrap()
        .0
        .status
        .and_then(|s| s.container_statuses)
        .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum())
}

fn non_root_pod(name: &str, security_context: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [\"sleep\", \"1000\"]\n    securityContext: {security_context}\n"
    )
}

#[test]
fn run_as_non_root_refuses_uid_0_with_create_container_config_error() {
    let l = lab();
    apply(
        &l,
        &non_root_pod("zero", "{runAsNonRoot: true, runAsUser: 0}"),
    );
    apply(&l, &non_root_pod("unset", "{runAsNonRoot: true}"));
    apply(
        &l,
        &non_root_pod("ok", "{runAsNonRoot: true, runAsUser: 1000}"),
    );
    for name in ["zero", "unset"] {
        assert!(
            l.node.wait_until(WAIT, |st| row(st, name)
                .is_some_and(|r| r.status == "CreateContainerConfigError")),
            "{:?}",
            row(&l.node.inner.state.lock().unwrap(), name)
        );
    }
    assert!(l.node.wait_until(WAIT, |st| row(st, "ok")
        .is_some_and(|r| r.status == "Running")));
    // The reason's message is in the Failed event (the status moves on to
    // the back-off between retries).
    let (_, events) = l.node.pod("default", "zero").unwrap();
    assert!(
        events.iter().any(|e| e.reason == "Failed"
            && e.message
                .starts_with("Error: container's runAsUser breaks non-root policy")),
        "{events:?}"
    );
    // Only "ok"'s container ever reached the runtime.
    assert_eq!(l.rt.starts_of("main"), 1);
}

#[test]
fn host_namespaces_and_aliases_are_validated_as_the_api_server_does() {
    let l = lab();
    let refuse = |extra: &str| {
        l.node
            .apply(&pod("h", "Always", extra), Path::new("h.yaml"))
            .unwrap_err()
    };
    // The node's namespaces: hostPID always, hostNetwork when the node
    // has a network namespace of its own to share.
    for (name, extra) in [("hn", "  hostNetwork: true\n"), ("hp", "  hostPID: true\n")] {
        l.node
            .apply(&pod(name, "Always", extra), Path::new("h.yaml"))
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
    l.rt.0.lock().unwrap().no_network = Some("no CNI plugin bridge in /usr/lib/cni".into());
    let e = refuse("  hostNetwork: true\n");
    assert!(
        e.contains("spec.hostNetwork: the Pod would join the node's network namespace, and no CNI plugin bridge"),
        "{e}"
    );
    l.rt.0.lock().unwrap().no_network = None;
    let e = refuse("  hostPID: true\n  shareProcessNamespace: true\n");
    assert!(
        e.contains("ShareProcessNamespace and HostPID cannot both be enabled"),
        "{e}"
    );
    let e = refuse("  hostAliases:\n  - ip: 10.1.2\n    hostnames: [a.b]\n");
    assert!(e.contains("spec.hostAliases[0].ip: Invalid value"), "{e}");
    let e = refuse("  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [\"A_B\"]\n");
    assert!(
        e.contains("spec.hostAliases[0].hostnames[0]: Invalid value"),
        "{e}"
    );
    apply(
        &l,
        &pod(
            "ok",
            "Always",
            "  hostIPC: true\n  hostAliases:\n  - ip: \"2001:db8::1\"\n    hostnames: [v6.local]\n",
        ),
    );
}

#[test]
fn what_the_kernel_did_not_take_is_a_warning_event() {
    // e.g. a host whose root lacks CAP_SYS_RESOURCE: the infra's
    // oom_score_adj stays as it was, and `describe` says so.
    let l = lab();
    l.rt.0.lock().unwrap().resource_note =
        Some("oom_score_adj -998 not set: Permission denied".into());
    apply(
        &l,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n    image: busybox\n",
    );
    assert!(l
        .node
        .wait_until(WAIT, |st| st.find("default", "web").is_some_and(|p| p
            .events
            .iter()
            .any(|e| {
                e.reason == "ResourcesNotApplied"
                    && e.message == "pod sandbox: oom_score_adj -998 not set: Permission denied"
            }))));
    l.node.delete("default", "web", Some(0)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
}

#[test]
fn a_stopping_node_takes_no_new_pods_so_its_shutdown_ends() {
    // A lab's node whose lifeline closed while it was starting: a static
    // manifest read after the stop began used to start a Pod the shutdown
    // loop then waited for forever.
    let l = lab_with(|c, dir| {
        std::fs::create_dir(dir.join("manifests")).unwrap();
        c.manifests = Some(dir.join("manifests"));
    });
    apply(&l, &pod("api", "Always", ""));
    assert!(l.node.wait_until(WAIT, |st| row(st, "api")
        .is_some_and(|r| r.status == "Running")));
    l.node.begin_shutdown();
    let dir = l.dir.path().join("manifests");
    std::fs::write(dir.join("late.yaml"), pod("late", "Always", "")).unwrap();
    l.node.scan_static(&dir);
    assert!(
        l.node.pod("default", "late-node1").is_err(),
        "a static Pod was added while stopping"
    );
    let e = l
        .node
        .apply(&pod("late2", "Always", ""), Path::new("p.yaml"))
        .unwrap_err();
    assert!(e.contains("stopping"), "{e}");
    // The Pod that was there goes, and nothing replaces it.
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
}

const FLEX_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: flex\nspec:\n  volumes:\n  - name: cache\n    flexVolume:\n      driver: kubelab/tmpfs\n      options: {size: 16m}\n  containers:\n  - name: main\n    image: busybox\n    volumeMounts:\n    - {name: cache, mountPath: /cache}\n";

fn flex_lab() -> Lab {
    lab_with(|c, dir| c.volume_plugin_dir = Some(dir.join("plugins")))
}

#[test]
fn flex_volumes_are_mounted_before_the_containers_and_unmounted_after() {
    let l = flex_lab();
    apply(&l, FLEX_POD);
    assert!(l.node.wait_until(WAIT, |st| row(st, "flex")
        .is_some_and(|r| r.status == "Running")));
    let uid = uid_of(&l, "flex");
    let dir = format!("/var/lib/kubelet/pods/{uid}/volumes/kubelab~tmpfs/cache");
    let calls = l.rt.calls();
    let at = |want: &dyn Fn(&Call) -> bool| calls.iter().position(want);
    let plugins = at(&|c| matches!(c, Call::StartVolumePlugins(_))).expect("plugin sandbox");
    let init = at(&|c| *c == Call::VolumePlugin(vec!["init".into()])).expect("init");
    let mount = at(&|c| matches!(c, Call::VolumePlugin(a) if a[0] == "mount" && a[1] == dir))
        .expect("mount at the kubelet's path");
    let start = at(&|c| matches!(c, Call::Start { .. })).expect("the container started");
    assert!(plugins < init && init < mount && mount < start, "{calls:?}");
    let Call::VolumePlugin(args) = &calls[mount] else {
        unreachable!()
    };
    assert!(
        args[2].contains(r#""size":"16m""#)
            && args[2].contains(r#""kubernetes.io/pod.name":"flex""#)
    );
    let Call::StartVolumePlugins(cfg) = &calls[plugins] else {
        unreachable!()
    };
    assert_eq!(
        cfg.volume_dirs[0].1,
        Path::new(&format!(
            "/var/lib/kubelet/pods/{uid}/volumes/kubelab~tmpfs"
        ))
    );
    assert_eq!(cfg.plugin_dir.0, l.dir.path().join("plugins"));
    l.node.delete("default", "flex", Some(0)).unwrap();
    assert!(l.node.wait_until(WAIT, |st| st.pods.is_empty()));
    let calls = l.rt.calls();
    let unmount = calls
        .iter()
        .position(|c| *c == Call::VolumePlugin(vec!["unmount".into(), dir.clone()]))
        .expect("unmount");
    let stop = calls
        .iter()
        .position(|c| matches!(c, Call::Stop { .. }))
        .unwrap();
    let removed = calls
        .iter()
        .position(|c| matches!(c, Call::RemoveSandbox(_)))
        .unwrap();
    assert!(stop < unmount && unmount < removed, "{calls:?}");
}

#[test]
fn a_driver_failure_is_a_failed_mount_and_no_container_starts() {
    let l = flex_lab();
    l.rt.0.lock().unwrap().driver_replies.insert(
        "mount".into(),
        r#"{"status": "Failure", "message": "size 'lots' is not a tmpfs size"}"#.into(),
    );
    apply(&l, FLEX_POD);
    assert!(l
        .node
        .wait_until(WAIT, |st| st.find("default", "flex").is_some_and(|p| p
            .events
            .iter()
            .any(|e| e.reason == "FailedMount"
                && e.message
                    .contains("MountVolume.SetUp failed for volume \"cache\"")
                && e.message.contains("is not a tmpfs size")))));
    let calls = l.rt.calls();
    assert!(!calls.iter().any(|c| matches!(c, Call::Start { .. })));
    assert!(calls.iter().any(|c| matches!(c, Call::RemoveSandbox(_))));
}

#[test]
fn a_driver_that_wants_attach_or_prints_more_than_json_is_refused() {
    for (verb, reply, why) in [
        ("init", r#"{"status": "Success"}"#, "wants attach/detach"),
        (
            "mount",
            "mounting\n{\"status\": \"Success\"}",
            "not one JSON object",
        ),
    ] {
        let l = flex_lab();
        l.rt.0
            .lock()
            .unwrap()
            .driver_replies
            .insert(verb.into(), reply.into());
        apply(&l, FLEX_POD);
        assert!(l
            .node
            .wait_until(WAIT, |st| st.find("default", "flex").is_some_and(|p| p
                .events
                .iter()
                .any(|e| e.reason == "FailedMount" && e.message.contains(why)))));
    }
}

#[test]
fn a_node_without_a_plugin_dir_refuses_flex_volumes_at_apply() {
    let l = lab();
    let e = l.node.apply(FLEX_POD, Path::new("pod.yaml")).unwrap_err();
    assert!(e.contains("--volume-plugin-dir"), "{e}");
}
