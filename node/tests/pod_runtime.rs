//! The sandbox runtime runs a real Pod as the kubelet lays it out: two
//! busybox containers sharing the infra's net/ipc/uts (not its mount
//! namespace), an emptyDir seen by both, the plan's cgroup values, an OOM
//! kill, CRI logs, nothing left after removal or after a SIGKILL.
//!
//! `harness = false`: the binary's main calls `kubelab_sandbox::dispatch()`
//! first, so it can be the sandbox helper itself (`/proc/self/exe`).

use k8s_openapi::api::core::v1::Pod;
use kubelab_node::cgroup_plan::{
    plan, qos_tier_path, tier_limits, CgroupNode, CgroupPlan, NodeCapacity,
};
use kubelab_node::logs::{read_log, LogLayout, ReadOptions, Stream};
use kubelab_node::manifest::image::ImageCatalog;
use kubelab_node::manifest::{parse_str, ParseOptions};
use kubelab_node::qos::PodResources;
use kubelab_node::runtime::{
    ContainerConfig, Mount, PodSandboxConfig, Propagation, Runtime, VolumePluginConfig,
};
use kubelab_node::sandbox_runtime::{SandboxRuntime, SandboxRuntimeOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const UID: &str = "0b5e7a5e-1111-4222-8333-444455556666";

const MANIFEST: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: two
  namespace: default
  uid: 0b5e7a5e-1111-4222-8333-444455556666
spec:
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo hello-out; echo hello-err >&2; echo shared-by-two > /data/f; exec sleep 300"]
    resources:
      requests: {cpu: 100m, memory: 32Mi}
      limits: {cpu: 500m, memory: 64Mi}
  - name: reader
    image: busybox
    command: ["sh", "-c", "while ! [ -f /data/f ]; do sleep 0.05; done; cat /data/f; exec sleep 300"]
    resources:
      requests: {cpu: 250m, memory: 16Mi}
      limits: {memory: 64Mi}
  - name: hog
    image: busybox
    command: ["sh", "-c", "x=$(tr '\\0' a < /dev/zero); echo survived"]
    resources:
      limits: {memory: 24Mi}
"#;

fn main() {
    if let Some(code) = kubelab_sandbox::dispatch() {
        std::process::exit(code);
    }
    match std::env::args().nth(1).as_deref() {
        Some("sigkill-child") => return sigkill_child(),
        Some("rootless-child") => return rootless_child(),
        _ => {}
    }
    if let Some(why) = skip_reason() {
        println!("SKIP: {why}");
        return;
    }
    // Every case's (and child's) temporary folders go in here, so that what
    // one leaves behind shows at the end. Traversable (not listable) by
    // uid 65534: the rootless case's folder is inside.
    let scratch = tempfile::Builder::new()
        .prefix("pod-runtime-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    // Single-threaded still: nothing reads the environment meanwhile.
    std::env::set_var("TMPDIR", scratch.path());
    if std::env::var_os("POD_RUNTIME_ONLY_DEVICES").is_some() {
        devices_deny_a_host_path_and_allow_an_allocated_one();
        return;
    }
    pod_lays_out_like_the_kubelet();
    shared_process_namespace_has_pause_as_pid_1();
    memory_volume_is_one_tmpfs_of_its_size();
    container_logs_rotate_as_the_kubelets();
    sigkill_of_the_node_leaves_nothing();
    rootless_pod_joins_the_infra();
    security_context_applies_in_the_kernel();
    host_to_container_sees_later_host_mounts();
    volume_plugin_mounts_reach_containers_not_the_host();
    devices_deny_a_host_path_and_allow_an_allocated_one();
    nothing_is_left_in(scratch.path());
    println!("pod_runtime: all cases passed");
}

/// Fails listing whatever the cases left in `scratch` (their temporary
/// folders, log files a container opened, ...).
fn nothing_is_left_in(scratch: &Path) {
    let left: Vec<String> = walkdir(scratch);
    assert!(
        left.is_empty(),
        "left in {}:\n{}",
        scratch.display(),
        left.join("\n")
    );
    println!("ok: nothing_is_left_in_the_temporary_directory");
}

/// Every path below `dir`.
fn walkdir(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path().display().to_string());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walkdir(&e.path()));
        }
    }
    out
}

fn skip_reason() -> Option<String> {
    if !kubelab_sandbox::is_root() {
        return Some(
            "Pods need cgroups at explicit paths; run as root (cgroup v1 here cannot be delegated)"
                .into(),
        );
    }
    if !Path::new("/bin/busybox").is_file() {
        return Some("no static /bin/busybox (apt-get install busybox-static)".into());
    }
    if kubelab_sandbox::cgroup::mode() == kubelab_sandbox::cgroup::Mode::None {
        return Some("no cgroup filesystem mounted".into());
    }
    None
}

/// CAP_SYS_RESOURCE (bit 24) in our effective set.
fn has_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .unwrap_or(0);
    eff & (1 << 24) != 0
}

fn parse_pod() -> Pod {
    let images = ImageCatalog {
        busybox: true,
        ..ImageCatalog::default()
    };
    let opts = ParseOptions {
        images: &images,
        node_name: None,
        host_path_roots: &[],
    };
    let mut pods = parse_str(MANIFEST, Path::new("two.yaml"), opts).expect("manifest parses");
    pods.remove(0).pod
}

fn node_capacity() -> NodeCapacity {
    NodeCapacity {
        memory_bytes: 8 << 30,
        pod_pids_limit: Some(1024),
    }
}

fn runtime(name: &str) -> SandboxRuntime {
    let mut o = SandboxRuntimeOptions::new(name);
    o.runtime_dir = Some(PathBuf::from("/run/kubelab-test-node"));
    SandboxRuntime::new(o).expect("runtime")
}

fn sandbox_config(res: &PodResources, p: &CgroupPlan) -> PodSandboxConfig {
    let tier = tier_limits(&[res])
        .into_iter()
        .find(|(q, _)| *q == p.qos)
        .map(|(_, l)| l)
        .unwrap_or_default();
    PodSandboxConfig {
        namespace: "default".into(),
        name: "two".into(),
        uid: UID.into(),
        hostname: "two".into(),
        share_process_namespace: false,
        host_ipc: false,
        host_network: false,
        host_pid: false,
        tier_cgroup: CgroupNode {
            path: qos_tier_path(p.qos),
            limits: tier,
            oom_score_adj: None,
        },
        pod_cgroup: p.pod.clone(),
        infra_cgroup: p.infra.clone(),
    }
}

fn container_config(
    pod: &Pod,
    p: &CgroupPlan,
    name: &str,
    logs: &LogLayout,
    data: &Path,
) -> ContainerConfig {
    let spec = pod.spec.as_ref().unwrap();
    let c = spec.containers.iter().find(|c| c.name == name).unwrap();
    ContainerConfig {
        name: name.into(),
        image: kubelab_node::manifest::image::Image::Busybox,
        argv: c.command.clone().unwrap_or_default(),
        env: Vec::new(),
        working_dir: None,
        run_as_user: None,
        run_as_group: None,
        read_only_root_filesystem: false,
        privileged: false,
        capabilities_add: Vec::new(),
        capabilities_drop: Vec::new(),
        mounts: vec![Mount {
            host_path: data.to_path_buf(),
            container_path: "/data".into(),
            read_only: false,
            propagation: Propagation::None,
            in_volume_plugin: None,
        }],
        cgroup: p
            .containers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone(),
        log_path: logs.container_log("default", "two", UID, name, 0).unwrap(),
        log_rotation: None,
        devices: Vec::new(),
    }
}

fn ns_ino(pid: u32, ns: &str) -> u64 {
    std::fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/ns/{ns}: {e}"))
        .ino()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn records(path: &Path) -> Vec<(Stream, String)> {
    read_log(path, &ReadOptions::default())
        .map(|r| {
            r.records
                .into_iter()
                .map(|r| (r.stream, String::from_utf8_lossy(&r.content).into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The cgroup directory of `pid` in the v1 hierarchy holding `controller`
/// (v2: the unified one).
fn cgroup_dir(pid: u32, controller: &str) -> PathBuf {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let v1 = text.lines().find_map(|l| {
        let mut it = l.splitn(3, ':');
        let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
        ctrls
            .split(',')
            .any(|c| c == controller)
            .then(|| path.to_string())
    });
    match v1 {
        Some(p) => mount_of(controller).join(p.trim_start_matches('/')),
        None => {
            let p = text.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
            PathBuf::from("/sys/fs/cgroup").join(p.trim_start_matches('/'))
        }
    }
}

fn mount_of(controller: &str) -> PathBuf {
    kubelab_sandbox::cgroup::hierarchies()
        .into_iter()
        .find(|h| h.version == 1 && h.controllers.iter().any(|c| c == controller))
        .map(|h| h.mount)
        .unwrap()
}

fn read_trim(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

/// The plan's values are what the kernel holds, level by level.
fn assert_cgroup_values(pid: u32, node: &CgroupNode, pod: &CgroupNode) {
    let v2 = kubelab_sandbox::cgroup::mode() == kubelab_sandbox::cgroup::Mode::V2;
    for controller in ["memory", "cpu", "pids"] {
        let dir = cgroup_dir(pid, controller);
        let want_tail: PathBuf = node.path.iter().collect();
        assert!(
            dir.ends_with(&want_tail),
            "{} is not …/{}",
            dir.display(),
            want_tail.display()
        );
        let parent = dir.parent().unwrap();
        for (n, d) in [(node, dir.as_path()), (pod, parent)] {
            let files = if v2 {
                n.limits.v2_files(Default::default())
            } else {
                n.limits.v1_files()
            };
            for (f, v) in files {
                if f.starts_with(controller) {
                    assert_eq!(read_trim(d, f), v, "{} {f}", d.display());
                }
            }
        }
    }
    let adj = read_trim(Path::new(&format!("/proc/{pid}")), "oom_score_adj");
    assert_eq!(
        adj,
        node.oom_score_adj.unwrap().to_string(),
        "oom_score_adj of {pid}"
    );
}

fn pod_lays_out_like_the_kubelet() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("empty-dir");
    std::fs::create_dir(&data).unwrap();
    // The kubelet makes emptyDir 0777: any uid of the Pod may write.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let rt = runtime(&format!("t{}", std::process::id()));
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("run pod sandbox");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", sb.infra_pid)).unwrap();
    assert!(
        cmdline.starts_with(b"kubelab-pause\0"),
        "infra cmdline {:?}",
        String::from_utf8_lossy(&cmdline)
    );
    let cfg = |n| container_config(&pod, &p, n, &logs, &data);
    let mut writer = rt
        .start_container(&sb, &cfg("writer"))
        .expect("start writer");
    let mut reader = rt
        .start_container(&sb, &cfg("reader"))
        .expect("start reader");

    for c in [&writer, &reader] {
        for ns in ["net", "ipc", "uts", "user"] {
            assert_eq!(
                ns_ino(c.pid(), ns),
                ns_ino(sb.infra_pid, ns),
                "{ns} of {}",
                c.pid()
            );
        }
        for ns in ["mnt", "pid"] {
            assert_ne!(
                ns_ino(c.pid(), ns),
                ns_ino(sb.infra_pid, ns),
                "{ns} of {}",
                c.pid()
            );
        }
    }
    assert_ne!(ns_ino(writer.pid(), "mnt"), ns_ino(reader.pid(), "mnt"));

    // emptyDir: the reader prints what the writer wrote.
    let reader_log = cfg("reader").log_path;
    wait_for("the reader to see the writer's file", 20, || {
        records(&reader_log)
            .iter()
            .any(|(s, l)| *s == Stream::Stdout && l == "shared-by-two")
            .then_some(())
    });
    // CRI logs, both streams of the writer.
    let writer_log = cfg("writer").log_path;
    let text = std::fs::read_to_string(&writer_log).unwrap();
    for l in text.lines() {
        let parts: Vec<&str> = l.splitn(4, ' ').collect();
        assert_eq!(parts.len(), 4, "CRI line {l:?}");
        assert!(parts[0].contains('T') && parts[0].ends_with('Z'), "{l:?}");
        assert!(
            ["stdout", "stderr"].contains(&parts[1]) && ["F", "P"].contains(&parts[2]),
            "{l:?}"
        );
    }
    let recs = records(&writer_log);
    assert!(
        recs.contains(&(Stream::Stdout, "hello-out".into())),
        "{recs:?}"
    );
    assert!(
        recs.contains(&(Stream::Stderr, "hello-err".into())),
        "{recs:?}"
    );

    // The kernel holds the plan's values.
    for (c, name) in [(&writer, "writer"), (&reader, "reader")] {
        let node = &p.containers.iter().find(|(n, _)| n == name).unwrap().1;
        assert_cgroup_values(c.pid(), node, &p.pod);
    }
    let infra_adj = read_trim(
        Path::new(&format!("/proc/{}", sb.infra_pid)),
        "oom_score_adj",
    );
    if has_sys_resource() {
        assert_eq!(infra_adj, p.infra.oom_score_adj.unwrap().to_string());
    } else {
        // Lowering oom_score_adj needs CAP_SYS_RESOURCE; the infra keeps ours.
        println!("SKIP: infra oom_score_adj -998: this root lacks CAP_SYS_RESOURCE");
        assert_eq!(
            infra_adj,
            read_trim(Path::new("/proc/self"), "oom_score_adj")
        );
    }

    // exec joins the container (its mount namespace: the emptyDir at /data).
    let (code, out, _) = writer
        .exec_sync(&["cat".into(), "/data/f".into()], Duration::from_secs(10))
        .expect("exec");
    assert_eq!((code, out.as_slice()), (0, &b"shared-by-two\n"[..]));

    // Past its memory limit: OOMKilled.
    let mut hog = rt.start_container(&sb, &cfg("hog")).expect("start hog");
    let exit = wait_for("the hog to be OOM-killed", 30, || hog.try_wait().unwrap());
    assert!(exit.oom_killed, "hog exit {exit:?}");
    assert_eq!(exit.signal, Some(9), "{exit:?}");

    let mut pids = vec![sb.infra_pid, writer.pid(), reader.pid()];
    let started = Instant::now();
    // `sleep` as PID 1 ignores SIGTERM: SIGKILL after the grace period.
    let e = writer.stop(Duration::from_millis(300)).unwrap();
    assert_eq!((e.signal, e.oom_killed), (Some(9), false), "{e:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    reader.stop(Duration::from_millis(300)).unwrap();
    pids.push(hog.pid());
    let pod_dirs = sb.pod_cgroup_dirs.clone();
    assert!(!pod_dirs.is_empty() && pod_dirs.iter().all(|d| d.is_dir()));
    rt.remove_pod_sandbox(&sb).expect("remove pod sandbox");
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is left"
        );
    }
    for d in &pod_dirs {
        assert!(!d.exists(), "cgroup {} is left", d.display());
        // The node's subtree goes with its last Pod.
        let node_dir = d
            .ancestors()
            .find(|a| {
                a.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("node-t"))
            })
            .unwrap();
        assert!(!node_dir.exists(), "cgroup {} is left", node_dir.display());
    }
    println!("ok: pod_lays_out_like_the_kubelet");
}

fn shared_process_namespace_has_pause_as_pid_1() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let rt = runtime(&format!("s{}", std::process::id()));
    let mut config = sandbox_config(&res, &p);
    config.share_process_namespace = true;
    let sb = rt.run_pod_sandbox(&config).expect("run pod sandbox");
    let mut c = rt
        .start_container(
            &sb,
            &container_config(&pod, &p, "reader", &logs, tmp.path()),
        )
        .expect("start");
    for ns in ["pid", "net", "ipc", "uts"] {
        assert_eq!(ns_ino(c.pid(), ns), ns_ino(sb.infra_pid, ns), "{ns}");
    }
    assert_ne!(ns_ino(c.pid(), "mnt"), ns_ino(sb.infra_pid, "mnt"));
    let (code, out, err) = c
        .exec_sync(
            &["cat".into(), "/proc/1/cmdline".into()],
            Duration::from_secs(10),
        )
        .expect("exec");
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(out, b"kubelab-pause\0");
    // exec -it: a PTY of the asked size, output through its master end.
    let argv = [
        "sh".to_string(),
        "-c".into(),
        "stty size; tty; exit 3".into(),
    ];
    let mut tty = c.exec_tty(&argv, 33, 101).expect("exec on a tty");
    let master = tty.take_master().expect("the master end");
    let mut out = Vec::new();
    // EIO once the last slave descriptor is closed: the end of the output.
    let _ = std::io::Read::read_to_end(&mut std::fs::File::from(master), &mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("33 101\r\n/dev/pts/"), "{out:?}");
    let code = wait_for("the tty exec to end", 10, || tty.try_wait().unwrap());
    assert_eq!(code, 3);
    c.stop(Duration::from_millis(100)).unwrap();
    rt.remove_pod_sandbox(&sb).unwrap();
    assert!(!Path::new(&format!("/proc/{}", sb.infra_pid)).exists());
    println!("ok: shared_process_namespace_has_pause_as_pid_1");
}

/// Unmounts a memory volume and removes its Pod sandbox, even when an
/// assertion fails first.
struct MemoryVolumeGuard<'a> {
    rt: &'a SandboxRuntime,
    dir: PathBuf,
    sandbox: Option<kubelab_node::runtime::PodSandbox>,
}

impl Drop for MemoryVolumeGuard<'_> {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            let _ = self.rt.remove_pod_sandbox(&sb);
        }
        let _ = self.rt.unmount_volume(&self.dir);
    }
}

fn is_mount_point(dir: &Path) -> bool {
    let up = std::fs::metadata(dir.parent().unwrap()).unwrap().dev();
    std::fs::metadata(dir).is_ok_and(|m| m.dev() != up)
}

fn memory_volume_is_one_tmpfs_of_its_size() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let cache = tmp.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let rt = runtime(&format!("m{}", std::process::id()));
    let mut guard = MemoryVolumeGuard {
        rt: &rt,
        dir: cache.clone(),
        sandbox: None,
    };
    rt.mount_memory_volume(&cache, 1 << 20)
        .expect("mount tmpfs");
    // Prepared again for the next container: still one mount.
    rt.mount_memory_volume(&cache, 1 << 20)
        .expect("mount again");
    assert!(is_mount_point(&cache));
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("run pod sandbox");
    guard.sandbox = Some(sb.clone());
    let mut cfg = container_config(&pod, &p, "reader", &logs, &cache);
    cfg.argv = vec!["sleep".into(), "300".into()];
    let mut a = rt.start_container(&sb, &cfg).expect("start a");
    cfg.name = "writer".into();
    cfg.log_path = logs
        .container_log("default", "two", UID, "writer", 0)
        .unwrap();
    let mut b = rt.start_container(&sb, &cfg).expect("start b");
    let sh = |c: &dyn kubelab_node::runtime::Container, script: &str| {
        let argv = ["sh".to_string(), "-c".into(), script.into()];
        let (code, out, err) = c.exec_sync(&argv, Duration::from_secs(20)).expect("exec");
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    };
    // The container sees a tmpfs of 1 MiB at /data (df: 1K blocks).
    let (code, out, err) = sh(&*a, "grep ' /data ' /proc/mounts; df -k /data | tail -1");
    // Writable by any uid, sticky, as a tmpfs root is (and the kubelet's).
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o1777, "{mode:o}");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("tmpfs /data tmpfs "), "{out}");
    assert!(out.contains("size=1024k"), "{out}");
    assert_eq!(
        out.lines().nth(1).unwrap().split_whitespace().nth(1),
        Some("1024"),
        "{out}"
    );
    // Writing past the size fails with ENOSPC.
    let (code, _, err) = sh(&*a, "dd if=/dev/zero of=/data/big bs=1024 count=2048");
    assert_ne!(code, 0, "2 MiB fitted in a 1 MiB tmpfs");
    assert!(err.contains("No space left on device"), "{err}");
    // The other container shares the same tmpfs.
    let (code, out, err) = sh(&*b, "ls -l /data/big | awk '{print $5}'");
    assert_eq!(code, 0, "{err}");
    let kept: u64 = out.trim().parse().unwrap_or_else(|_| panic!("{out}"));
    assert!(kept > 0 && kept <= 1 << 20, "{kept}");
    a.stop(Duration::from_millis(100)).unwrap();
    b.stop(Duration::from_millis(100)).unwrap();
    drop(guard);
    assert!(!is_mount_point(&cache), "the tmpfs is left mounted");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    // Unmounting what holds no mount, or is gone, is fine.
    rt.unmount_volume(&cache).unwrap();
    rt.unmount_volume(&tmp.path().join("gone")).unwrap();
    println!("ok: memory_volume_is_one_tmpfs_of_its_size");
}

fn container_logs_rotate_as_the_kubelets() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let rt = runtime(&format!("l{}", std::process::id()));
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("run pod sandbox");
    let mut cfg = container_config(&pod, &p, "reader", &logs, tmp.path());
    // ~48 bytes a CRI line: 300 lines rotate a 1 KiB log about 14 times.
    cfg.argv = vec![
        "sh".into(),
        "-c".into(),
        "i=1; while [ $i -le 300 ]; do echo line-$i; i=$((i+1)); done".into(),
    ];
    cfg.log_rotation = Some(kubelab_node::logs::RotationPolicy {
        max_size: 1024,
        max_files: 3,
    });
    let mut c = rt.start_container(&sb, &cfg).expect("start");
    let exit = wait_for("the writer to finish", 30, || c.try_wait().unwrap());
    rt.remove_pod_sandbox(&sb).unwrap();
    assert_eq!(exit.exit_code, 0, "{exit:?}");
    let rotated = kubelab_node::logs::rotated_files(&cfg.log_path).unwrap();
    // At most max_files, the current one included.
    assert_eq!(rotated.len(), 2, "{rotated:?}");
    for r in &rotated {
        let name = r.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("0.log.20"), "{name}");
        assert!(std::fs::metadata(r).unwrap().len() >= 1024, "{name}");
    }
    assert!(std::fs::metadata(&cfg.log_path).unwrap().len() < 1024);
    // Oldest kept file first, then the current one: the last lines in order.
    let mut lines = Vec::new();
    for f in rotated.iter().chain([&cfg.log_path]) {
        lines.extend(records(f).into_iter().map(|(_, l)| l));
    }
    let first: usize = lines[0].strip_prefix("line-").unwrap().parse().unwrap();
    assert!(first > 1, "nothing was dropped: {lines:?}");
    let want: Vec<String> = (first..=300).map(|i| format!("line-{i}")).collect();
    assert_eq!(lines, want);
    println!("ok: container_logs_rotate_as_the_kubelets");
}

/// Child mode: a node process with one running Pod, killed by the parent.
/// Its folder (logs, the Pod's volume) is the parent's: a killed process
/// cannot remove one.
fn sigkill_child() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let dir = PathBuf::from(std::env::args_os().nth(2).expect("the folder to use"));
    let logs = LogLayout::new(dir.join("logs"));
    let rt = runtime(&format!("k{}", std::process::id()));
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("run pod sandbox");
    let c = rt
        .start_container(&sb, &container_config(&pod, &p, "reader", &logs, &dir))
        .expect("start");
    println!(
        "{} {} {}",
        sb.infra_pid,
        c.pid(),
        sb.pod_cgroup_dirs[0].display()
    );
    std::thread::sleep(Duration::from_secs(600));
}

fn sigkill_of_the_node_leaves_nothing() {
    use std::io::BufRead;
    // The child's folder: it is killed, so it is this process's to remove.
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("/proc/self/exe")
        .arg("sigkill-child")
        .arg(tmp.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "child said {line:?}");
    let pod_dir = PathBuf::from(parts[2]);
    assert!(pod_dir.is_dir());
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for("the Pod to go after SIGKILL", 20, || {
        let gone = parts[..2]
            .iter()
            .all(|p| !Path::new(&format!("/proc/{p}")).exists());
        (gone && !pod_dir.exists()).then_some(())
    });
    println!("ok: sigkill_of_the_node_leaves_nothing");
}

const NOBODY: u32 = 65534;

/// Rootless: the same binary as uid 65534 runs a Pod (see [`rootless_child`]).
fn rootless_pod_joins_the_infra() {
    use std::os::unix::process::CommandExt;
    let rt = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(rt.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let out = std::process::Command::new("/proc/self/exe")
        .arg("rootless-child")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_RUNTIME_DIR", rt.path())
        .env("TMPDIR", rt.path())
        .current_dir("/")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "rootless child: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok: rootless") || stdout.contains("SKIP:"),
        "{stdout}"
    );
}

/// As uid 65534: infra + two containers sharing net/ipc/uts/user, not mnt;
/// the emptyDir; nothing left after removal.
fn rootless_child() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("empty-dir");
    std::fs::create_dir(&data).unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let mut o = SandboxRuntimeOptions::new(&format!("r{}", std::process::id()));
    o.runtime_dir = Some(tmp.path().join("run"));
    let rt = SandboxRuntime::new(o).unwrap();
    let sb = match rt.run_pod_sandbox(&sandbox_config(&res, &p)) {
        Ok(sb) => sb,
        Err(e) if e.to_string().contains("user namespace") => {
            println!("SKIP: rootless Pods: {e}");
            return;
        }
        Err(e) => panic!("run pod sandbox: {e}"),
    };
    if let Some(note) = rt.cgroup_note(&sb.id) {
        println!("note: {note}");
    }
    let cfg = |n| container_config(&pod, &p, n, &logs, &data);
    let mut writer = rt
        .start_container(&sb, &cfg("writer"))
        .expect("start writer");
    let mut reader = rt
        .start_container(&sb, &cfg("reader"))
        .expect("start reader");
    for c in [&writer, &reader] {
        for ns in ["net", "ipc", "uts", "user"] {
            assert_eq!(ns_ino(c.pid(), ns), ns_ino(sb.infra_pid, ns), "{ns}");
        }
        assert_ne!(ns_ino(c.pid(), "mnt"), ns_ino(sb.infra_pid, "mnt"));
    }
    let mut as_1000 = cfg("hog");
    as_1000.run_as_user = Some(1000);
    let err = match rt.start_container(&sb, &as_1000) {
        Ok(_) => panic!("a rootless Pod ran uid 1000, which its user namespace does not map"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("securityContext.runAsUser 1000 is not mapped"),
        "{err}"
    );
    let reader_log = cfg("reader").log_path;
    wait_for("the reader to see the writer's file", 20, || {
        records(&reader_log)
            .iter()
            .any(|(s, l)| *s == Stream::Stdout && l == "shared-by-two")
            .then_some(())
    });
    let pids = [sb.infra_pid, writer.pid(), reader.pid()];
    writer.stop(Duration::from_millis(100)).unwrap();
    reader.stop(Duration::from_millis(100)).unwrap();
    rt.remove_pod_sandbox(&sb).unwrap();
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is left"
        );
    }
    println!("ok: rootless pod joins the infra");
}

/// The default capability numbers of an unprivileged container (the
/// sandbox's `DEFAULT_CAPS`, containerd's default set).
const DEFAULT_CAPS: [u32; 14] = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];

fn mask(caps: &[u32]) -> u64 {
    caps.iter().fold(0, |m, c| m | 1 << c)
}

/// `CapXxx:` of a `/proc/<pid>/status` text.
fn cap_field(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|h| u64::from_str_radix(h.trim_start_matches(':').trim(), 16).ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

fn exec_ok(c: &dyn kubelab_node::runtime::Container, script: &str) -> (i32, String, String) {
    let argv = ["sh".to_string(), "-c".into(), script.into()];
    let (code, out, err) = c.exec_sync(&argv, Duration::from_secs(20)).expect("exec");
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// Removes a Pod sandbox even when an assertion fails first.
struct SandboxGuard<'a> {
    rt: &'a SandboxRuntime,
    sandbox: Option<kubelab_node::runtime::PodSandbox>,
}

impl Drop for SandboxGuard<'_> {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            let _ = self.rt.remove_pod_sandbox(&sb);
        }
    }
}

/// securityContext: runAsUser/runAsGroup inside the Pod's user namespace
/// (for the command and its execs), capabilities add/drop on the bounding
/// and effective sets, readOnlyRootFilesystem with a writable volume.
fn security_context_applies_in_the_kernel() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("empty-dir");
    std::fs::create_dir(&data).unwrap();
    // An emptyDir is world-writable (0777), as the kubelet makes it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let rt = runtime(&format!("c{}", std::process::id()));
    let mut guard = SandboxGuard {
        rt: &rt,
        sandbox: None,
    };
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("sandbox");
    guard.sandbox = Some(sb.clone());

    // A: uid 1000 gid 2000, NET_ADMIN added, CHOWN dropped.
    let mut a = container_config(&pod, &p, "writer", &logs, &data);
    a.argv = vec![
        "sh".into(),
        "-c".into(),
        "id -u > /data/a-uid; exec sleep 300".into(),
    ];
    a.run_as_user = Some(1000);
    a.run_as_group = Some(2000);
    a.capabilities_add = vec!["NET_ADMIN".into()];
    a.capabilities_drop = vec!["CAP_CHOWN".into()];
    let mut a = rt.start_container(&sb, &a).expect("start A");
    wait_for("A's uid file", 20, || {
        std::fs::read_to_string(data.join("a-uid"))
            .ok()
            .filter(|s| s.ends_with('\n'))
    });
    assert_eq!(
        std::fs::read_to_string(data.join("a-uid")).unwrap(),
        "1000\n"
    );
    let (code, out, err) = exec_ok(&*a, "id -u; id -g; id -G; grep Cap /proc/self/status");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1000"), "{out}");
    assert_eq!(lines.next(), Some("2000"), "{out}");
    assert_eq!(lines.next(), Some("2000"), "no supplementary groups: {out}");
    let mut bnd: Vec<u32> = DEFAULT_CAPS.iter().copied().filter(|c| *c != 0).collect();
    bnd.push(12);
    assert_eq!(cap_field(&out, "CapBnd"), mask(&bnd), "{out}");
    // A uid other than 0 keeps no effective capability (as runc's).
    assert_eq!(cap_field(&out, "CapEff"), 0, "{out}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", a.pid())).unwrap();
    assert_eq!(cap_field(&status, "CapBnd"), mask(&bnd));
    // no_new_privs always (allowPrivilegeEscalation: false is the default here).
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");

    // B: uid 0, read-only rootfs, every capability dropped but NET_ADMIN.
    let mut b = container_config(&pod, &p, "reader", &logs, &data);
    b.argv = vec!["sleep".into(), "300".into()];
    b.read_only_root_filesystem = true;
    b.capabilities_add = vec!["NET_ADMIN".into()];
    b.capabilities_drop = vec!["ALL".into()];
    let mut b = rt.start_container(&sb, &b).expect("start B");
    let (code, out, err) = exec_ok(&*b, "id -u; grep Cap /proc/self/status");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0\n"), "{out}");
    assert_eq!(cap_field(&out, "CapEff"), 1 << 12, "{out}");
    assert_eq!(cap_field(&out, "CapBnd"), 1 << 12, "{out}");
    let (code, _, err) = exec_ok(&*b, "touch /new-file");
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    let (code, _, err) = exec_ok(&*b, "echo w > /data/b && cat /data/b");
    assert_eq!(code, 0, "the volume stays writable: {err}");
    assert_eq!(std::fs::read_to_string(data.join("b")).unwrap(), "w\n");

    // An unknown capability name is refused, naming it.
    let mut bad = container_config(&pod, &p, "hog", &logs, &data);
    bad.capabilities_add = vec!["NET_ADMINN".into()];
    let err = match rt.start_container(&sb, &bad) {
        Ok(mut c) => {
            // The helper reports it when the payload would start.
            let exit = wait_for("the bad container to end", 20, || c.try_wait().unwrap());
            panic!("started with an unknown capability: {exit:?}")
        }
        Err(e) => e.to_string(),
    };
    assert!(err.contains("NET_ADMINN"), "{err}");

    a.stop(Duration::from_millis(100)).unwrap();
    b.stop(Duration::from_millis(100)).unwrap();
    let sb = guard.sandbox.take().unwrap();
    rt.remove_pod_sandbox(&sb).unwrap();
    assert!(!Path::new(&format!("/proc/{}", sb.infra_pid)).exists());
    println!("ok: security_context_applies_in_the_kernel");
}

fn run(cmd: &str, args: &[&str]) {
    let st = std::process::Command::new(cmd).args(args).status().unwrap();
    assert!(st.success(), "{cmd} {args:?}: {st}");
}

/// Undoes the test's host mounts (deepest first) even when an assertion
/// fails first.
struct HostMounts(Vec<PathBuf>);

impl Drop for HostMounts {
    fn drop(&mut self) {
        for m in self.0.iter().rev() {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(m)
                .status();
        }
    }
}

/// mountPropagation: a tmpfs mounted on the node under a hostPath after
/// the container started shows at its HostToContainer mount, not at its
/// None mount; a private host mount is refused for HostToContainer, and
/// Bidirectional always.
fn host_to_container_sees_later_host_mounts() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let host = tmp.path().join("host-path");
    std::fs::create_dir_all(host.join("later")).unwrap();
    let mut mounts = HostMounts(Vec::new());
    // The hostPath on a private mount of its own first.
    run(
        "mount",
        &["--bind", host.to_str().unwrap(), host.to_str().unwrap()],
    );
    mounts.0.push(host.clone());
    run("mount", &["--make-private", host.to_str().unwrap()]);
    let rt = runtime(&format!("p{}", std::process::id()));
    let mut guard = SandboxGuard {
        rt: &rt,
        sandbox: None,
    };
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("sandbox");
    guard.sandbox = Some(sb.clone());
    let mut cfg = container_config(&pod, &p, "reader", &logs, &host);
    cfg.argv = vec!["sleep".into(), "300".into()];
    let mount = |at: &str, propagation| Mount {
        host_path: host.clone(),
        container_path: at.into(),
        read_only: false,
        propagation,
        in_volume_plugin: None,
    };
    cfg.mounts = vec![mount("/h2c", Propagation::HostToContainer)];
    let err = rt
        .start_container(&sb, &cfg)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("HostToContainer for /h2c") && err.contains("private"),
        "{err}"
    );
    cfg.mounts = vec![mount("/both", Propagation::Bidirectional)];
    cfg.privileged = true;
    let err = rt
        .start_container(&sb, &cfg)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("Bidirectional for /both"), "{err}");
    cfg.privileged = false;

    run("mount", &["--make-shared", host.to_str().unwrap()]);
    cfg.mounts = vec![
        mount("/h2c", Propagation::HostToContainer),
        mount("/none", Propagation::None),
    ];
    let mut c = rt.start_container(&sb, &cfg).expect("start");
    let (code, out, err) = exec_ok(&*c, "ls /h2c/later /none/later");
    assert_eq!((code, out.contains("marker")), (0, false), "{out}{err}");
    // After the start, on the node: a tmpfs under the hostPath.
    let later = host.join("later");
    run(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=1m",
            "later",
            later.to_str().unwrap(),
        ],
    );
    mounts.0.push(later.clone());
    std::fs::write(later.join("marker"), "from the node\n").unwrap();
    let (code, out, err) = exec_ok(&*c, "cat /h2c/later/marker");
    assert_eq!(
        code, 0,
        "HostToContainer must see the node's later mount: {err}"
    );
    assert_eq!(out, "from the node\n");
    let (code, out, _) = exec_ok(&*c, "cat /none/later/marker");
    assert_ne!(code, 0, "None must not see the node's later mount: {out}");
    let (code, out, err) = exec_ok(&*c, "ls -A /none/later");
    assert_eq!(
        (code, out.as_str()),
        (0, ""),
        "None shows the directory as it was: {err}"
    );
    c.stop(Duration::from_millis(100)).unwrap();
    let sb = guard.sandbox.take().unwrap();
    rt.remove_pod_sandbox(&sb).unwrap();
    drop(mounts);
    assert!(!is_mount_point(&host), "the test's host mounts are left");
    println!("ok: host_to_container_sees_later_host_mounts");
}

/// A FlexVolume driver's mount, made in the Pod's volume plugin sandbox as
/// root of the Pod's user namespace, reaches the containers that bind it,
/// read-only where asked, and never the host's mount table; the sandbox
/// and the mount go with the Pod.
fn volume_plugin_mounts_reach_containers_not_the_host() {
    let pod = parse_pod();
    let res = PodResources::from_pod(&pod).unwrap();
    let p = plan(UID, &res, &node_capacity()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = LogLayout::new(tmp.path().join("logs"));
    let (plugins, log_dir, vols) = (
        tmp.path().join("plugins"),
        tmp.path().join("flexlog"),
        tmp.path().join("vols"),
    );
    for d in [&plugins, &log_dir, &vols] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::create_dir(vols.join("cache")).unwrap();
    let inner = PathBuf::from(format!("/var/lib/kubelet/pods/{UID}/volumes/t~fs"));
    let rt = runtime(&format!("f{}", std::process::id()));
    let sb = rt
        .run_pod_sandbox(&sandbox_config(&res, &p))
        .expect("run pod sandbox");
    let mut guard = SandboxGuard {
        rt: &rt,
        sandbox: Some(sb.clone()),
    };
    let config = VolumePluginConfig {
        plugin_dir: (
            plugins.clone(),
            "/opt/libexec/kubernetes/kubelet-plugins/volume/exec".into(),
        ),
        log_dir: (log_dir.clone(), "/var/log/flexvolume".into()),
        volume_dirs: vec![(vols.clone(), inner.clone())],
    };
    rt.start_volume_plugins(&sb, &config)
        .expect("volume plugin sandbox");
    let call = |script: &str| {
        let argv = ["/bin/sh".to_string(), "-c".into(), script.into()];
        let (code, out, err) = rt
            .volume_plugin_call(&sb, &argv, Duration::from_secs(20))
            .expect("driver call");
        (
            code,
            String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err),
        )
    };
    let (code, out) = call(&format!(
        "head -n1 /proc/self/uid_map; mount -t tmpfs -o size=1m flexcase {}/cache && echo hi > {}/cache/f",
        inner.display(),
        inner.display()
    ));
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.split_whitespace()
            .collect::<Vec<_>>()
            .starts_with(&["0", "0", "4294967295"]),
        "the driver ran as host root: {out}"
    );
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !host.contains("flexcase"),
        "the driver's mount is in the host's mount table"
    );
    let mut cfg = container_config(&pod, &p, "reader", &logs, &vols);
    cfg.argv = vec!["sleep".into(), "300".into()];
    cfg.mounts = vec![
        Mount {
            host_path: vols.join("cache"),
            container_path: "/cache".into(),
            read_only: false,
            propagation: Propagation::None,
            in_volume_plugin: Some(inner.join("cache")),
        },
        Mount {
            host_path: vols.join("cache"),
            container_path: "/ro".into(),
            read_only: true,
            propagation: Propagation::None,
            in_volume_plugin: Some(inner.join("cache")),
        },
    ];
    let mut c = rt.start_container(&sb, &cfg).expect("start");
    let (code, out, err) = exec_ok(
        &*c,
        "grep -E ' /(cache|ro) ' /proc/mounts; cat /cache/f; touch /ro/x",
    );
    assert!(out.contains("flexcase /cache tmpfs rw"), "{out}{err}");
    assert!(out.contains("flexcase /ro tmpfs ro"), "{out}{err}");
    assert!(out.contains("hi"), "{out}{err}");
    assert_ne!(code, 0, "a read-only bind was writable");
    c.stop(Duration::from_millis(100)).unwrap();
    rt.remove_pod_sandbox(&guard.sandbox.take().unwrap())
        .expect("remove");
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!host.contains("flexcase"));
    assert_eq!(
        std::fs::read_dir(vols.join("cache")).unwrap().count(),
        0,
        "the tmpfs's file reached the host"
    );
    println!("ok: volume_plugin_mounts_reach_containers_not_the_host");
}

const DEVICE_PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: hostdev}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "300"]
    volumeMounts: [{name: fuse, mountPath: /dev/fuse}]
  volumes:
  - name: fuse
    hostPath: {path: /dev/fuse, type: CharDevice}
---
apiVersion: v1
kind: Pod
metadata: {name: plugin-a}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["sleep", "300"]
    resources:
      limits: {kubelab.io/fuse: 1}
"#;

fn more_fuse(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: c\n    \
         image: busybox\n    command: [\"sleep\", \"300\"]\n    resources:\n      limits: {{kubelab.io/fuse: 1}}\n"
    )
}

fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn events_of(node: &kubelab_node::agent::Node, pods: &[&str]) -> Vec<String> {
    pods.iter()
        .flat_map(|p| {
            node.pod("default", p)
                .map(|(_, ev)| ev)
                .unwrap_or_default()
                .into_iter()
                .map(move |e| format!("{p}: {} {}", e.reason, e.message))
        })
        .collect()
}

/// The open got past the device cgroup: it opened, or the kernel has no
/// FUSE driver (ENODEV comes after the cgroup's check; a denial is EPERM).
fn assert_passes_the_cgroup(out: &str) {
    assert!(!out.contains("Operation not permitted"), "{out}");
    if out.contains("No such device") {
        println!("note: no FUSE driver in this kernel: the allowed open ends in ENODEV");
    } else {
        assert!(out.contains("opened"), "{out}");
    }
}

fn running(node: &kubelab_node::agent::Node, name: &str) -> bool {
    node.pod("default", name).is_ok_and(|(p, _)| {
        p.status
            .and_then(|s| s.container_statuses)
            .is_some_and(|cs| {
                cs.iter()
                    .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
            })
    })
}

fn sh(node: &kubelab_node::agent::Node, pod: &str, script: &str) -> (i32, String) {
    let argv = ["sh".to_string(), "-c".into(), script.into()];
    let (code, out, err) = node
        .exec("default", pod, None, &argv, Duration::from_secs(20))
        .expect("exec");
    let text = String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err);
    (code, text)
}

/// The device cgroup: a `hostPath` CharDevice is denied (EPERM) though its
/// file is the same device with the same owner as the one the device plugin
/// gives; an allocated device opens; the third Pod over a capacity of 2 is
/// not admitted until a Pod holding one is deleted.
fn devices_deny_a_host_path_and_allow_an_allocated_one() {
    use kubelab_node::agent::{devices, Node, NodeConfig};
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    let fuse = devices::kind("fuse").unwrap();
    let host = devices::host_node_path(&state, fuse);
    devices::make_node(&host, fuse, devices::pod_root()).unwrap();
    let mut config = NodeConfig::new("dev", &state);
    config.images.busybox = true;
    config.device_plugins = vec![("fuse".into(), 2)];
    config.backoff = kubelab_node::restart::BackOffConfig::scaled_down(50);
    config.host_path_roots = vec![kubelab_node::manifest::HostPathRoot {
        path: PathBuf::from("/dev/fuse"),
        dir: host.clone(),
    }];
    let node = Node::new(
        config,
        Box::new(runtime(&format!("d{}", std::process::id()))),
    );
    let thread = node.spawn();
    let applied = node
        .apply(DEVICE_PODS, Path::new("devices.yaml"))
        .expect("apply");
    assert_eq!(applied.len(), 2, "{applied:?}");
    let up = wait_until(30, || {
        running(&node, "hostdev") && running(&node, "plugin-a")
    });
    assert!(
        up,
        "Pods not running: {:#?} {:#?} {:?}",
        events_of(&node, &["hostdev", "plugin-a"]),
        node.pods()
            .iter()
            .map(|p| (p.metadata.name.clone(), p.status.clone()))
            .collect::<Vec<_>>(),
        node.take_messages()
    );

    let (code, out) = sh(
        &node,
        "hostdev",
        "ls -ln /dev/fuse; exec 3<>/dev/fuse && echo opened",
    );
    assert_ne!(
        code, 0,
        "a hostPath device opened without a device rule: {out}"
    );
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(out.contains("10,"), "the same device is there: {out}");

    let (_, out) = sh(
        &node,
        "plugin-a",
        "echo ids=$KUBELAB_FUSE_DEVICES; exec 3<>/dev/fuse && echo opened",
    );
    assert!(out.contains("ids=fuse-0"), "{out}");
    assert_passes_the_cgroup(&out);
    // The default list still opens.
    let (code, out) = sh(&node, "plugin-a", "head -c1 /dev/zero | wc -c");
    assert_eq!((code, out.trim()), (0, "1"));

    node.apply(&more_fuse("plugin-b"), Path::new("b.yaml"))
        .unwrap();
    wait_for("plugin-b running", 30, || {
        running(&node, "plugin-b").then_some(())
    });
    node.apply(&more_fuse("plugin-c"), Path::new("c.yaml"))
        .unwrap();
    wait_for("plugin-c refused", 30, || {
        let (_, events) = node.pod("default", "plugin-c").ok()?;
        events
            .iter()
            .find(|e| e.reason == devices::UNEXPECTED_ADMISSION_ERROR)
            .map(|e| {
                assert!(
                    e.message.contains("Insufficient kubelab.io/fuse"),
                    "{}",
                    e.message
                )
            })
    });
    assert!(!running(&node, "plugin-c"));
    assert_eq!(node.device_capacity(), [("kubelab.io/fuse", 2, 0)]);

    node.delete("default", "plugin-a", Some(0)).unwrap();
    wait_for(
        "plugin-c admitted once plugin-a's device is free",
        40,
        || running(&node, "plugin-c").then_some(()),
    );
    let (_, out) = sh(
        &node,
        "plugin-c",
        "echo ids=$KUBELAB_FUSE_DEVICES; exec 3<>/dev/fuse && echo opened",
    );
    assert!(out.contains("ids=fuse-0"), "{out}");
    assert_passes_the_cgroup(&out);

    thread.stop();
    assert_eq!(node.device_capacity(), [("kubelab.io/fuse", 2, 2)]);
    std::fs::remove_file(&host).unwrap();
    let left: Vec<String> = walkdir(&state)
        .into_iter()
        .filter(|p| !p.ends_with("/dev") && !p.contains("/logs"))
        .collect();
    assert!(
        left.iter().all(|p| !p.contains("/pods/")),
        "a Pod's folder (its device nodes) was left: {left:?}"
    );
    println!("ok: devices_deny_a_host_path_and_allow_an_allocated_one");
}
