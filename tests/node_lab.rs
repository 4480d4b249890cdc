//! `[node]` labs end to end: `kubelab test` on a course whose lesson has its
//! own node. Solutions apply a two-container Pod with `kubectl` from a
//! busybox sandbox and write a static Pod into /etc/kubernetes/manifests;
//! checks wait for `2/2 Running`, find `static-node1`, read the node's logs
//! and Pod folders and edit a ConfigMap from a `host` sandbox (a Pod
//! started after the edit sees it). Afterwards
//! nothing of the run is left: no process, cgroup, mount or folder — also
//! after `kill -9` of kubelab, and rootless (as an unprivileged uid).

mod common;
use common::lab_run::{self, assert_nothing_left, passed_or_skip};
use common::one_lesson_course;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An uid no account uses, for the rootless run.
const ROOTLESS_UID: u32 = 61_999;

const LESSON: &str = r#"+++
id = "01-a"
title = "Pods"
panes = ["shell", "pods"]
requires = ["busybox"]

[node]
configmaps = { app-config = "files/app-config" }

[sandboxes.main]
rootfs = "busybox"

[sandboxes.tools]
rootfs = "host"
+++

# Pods

## Run a Pod

```sh solution
cat > /tmp/web.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "sleep 3600"]
    volumeMounts:
    - name: cfg
      mountPath: /config
  - name: side
    image: busybox
    command: ["sh", "-c", "sleep 3600"]
  volumes:
  - name: cfg
    configMap:
      name: app-config
EOF
kubectl apply -f /tmp/web.yaml
```

```sh check id=web-running
# hint: kubectl get pods
kubectl get pod web | grep -q ' 2/2 .*Running'
```

```sh check id=web-config
# hint: kubectl exec web -c app -- cat /config/color
test "$(kubectl exec web -c app -- cat /config/color)" = blue
```

## A static Pod

```sh solution
cat > /etc/kubernetes/manifests/static.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: static
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
EOF
```

```sh check id=static-running
# hint: a manifest in /etc/kubernetes/manifests
kubectl get pod static-node1 | grep -q ' 1/1 .*Running'
```

## The node's folders from a host sandbox

```sh solution sandbox=tools
echo green > /etc/kubelab/configmaps/app-config/color
kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: cfg
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - name: cfg
      mountPath: /config
  volumes:
  - name: cfg
    configMap:
      name: app-config
EOF
```

```sh check id=folders sandbox=tools
# hint: edit /etc/kubelab/configmaps/app-config/color, then start a Pod using it
ls /var/log/pods | grep -q '^default_web_' &&
ls /var/lib/kubelet/pods | grep -q . &&
test "$(kubectl exec cfg -- cat /config/color)" = green
```

## A local disk outlives its Pod

```sh solution
cat > /tmp/disk.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: disk
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo kept > /data/note; exec sleep 3600"]
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    hostPath:
      path: /mnt/disks/web-0
      type: DirectoryOrCreate
EOF
kubectl apply -f /tmp/disk.yaml
until kubectl get pod disk | grep -q Running; do sleep 0.1; done
kubectl delete pod disk --now
```

```sh check id=disk-kept sandbox=tools
# hint: a hostPath volume under /mnt/disks is the node's local disk
test "$(cat /mnt/disks/web-0/note 2>/dev/null)" = kept || { echo "no note on the disk"; exit 1; }
! kubectl get pod disk >/dev/null 2>&1 || { echo "the Pod is still there"; exit 1; }
```
"#;

fn write_course(dir: &Path) {
    one_lesson_course(dir, LESSON);
    let cm = dir.join("en/src/files/app-config");
    std::fs::create_dir_all(&cm).unwrap();
    std::fs::write(cm.join("color"), "blue").unwrap();
}

/// [`write_course`] with a second lesson, the same lab under another id:
/// both nodes are called `node1`, and `kubelab test -j 2` runs them at once.
fn write_two_lesson_course(dir: &Path) {
    write_course(dir);
    let src = dir.join("en/src");
    std::fs::write(
        src.join("02-b.md"),
        LESSON.replace("id = \"01-a\"", "id = \"02-b\""),
    )
    .unwrap();
    std::fs::write(
        src.join("SUMMARY.md"),
        "# Summary\n\n- [A](01-a.md)\n- [B](02-b.md)\n",
    )
    .unwrap();
}

/// What a run of kubelab with process id `pid` may have left: its lab
/// folders, the node's cgroups, processes and mounts naming them.
fn leftovers(pid: u32) -> Vec<String> {
    let tag = format!("kubelab-node-{pid}x");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&tag) {
                out.push(format!("folder {}", e.path().display()));
            }
        }
    }
    let cg_tag = format!("node-node1-{pid}x");
    let mut bases: Vec<PathBuf> = vec![PathBuf::from("/sys/fs/cgroup/kubelab")];
    if let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") {
        bases.extend(rd.flatten().map(|e| e.path().join("kubelab")));
    }
    for b in bases {
        if let Ok(rd) = std::fs::read_dir(&b) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(&cg_tag) {
                    out.push(format!("cgroup {}", e.path().display()));
                }
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmd).contains(&tag) {
                out.push(format!("process {}", e.file_name().to_string_lossy()));
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    out.extend(
        mounts
            .lines()
            .filter(|l| l.contains(&tag))
            .map(|l| format!("mount {l}")),
    );
    out
}

fn kubelab_test(course: &Path, data: &Path) -> Command {
    lab_run::kubelab_test(course, data, "KUBELAB_NODE_DIR")
}

#[test]
fn two_node_labs_at_once_pass_and_leave_nothing() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_two_lesson_course(course.path());
    let child = kubelab_test(course.path(), data.path())
        .args(["--jobs", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let Some(report) = passed_or_skip(&out, "kubelab test") else {
        return;
    };
    assert!(report.contains("PASS 02-b"), "{report}");
    // The node's Pods' supervisors end just after it: poll, bounded.
    assert_nothing_left(30, || leftovers(pid));
}

#[test]
fn kill_9_of_kubelab_leaves_nothing() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_course(course.path());
    let mut child = kubelab_test(course.path(), data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let tag = format!("kubelab-node-{pid}x");
    // Once the node runs a Pod (web's volumes exist).
    let pod_runs = || {
        let Ok(dirs) = std::fs::read_dir(std::env::temp_dir()) else {
            return false;
        };
        dirs.flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&tag))
            .and_then(|lab| std::fs::read_dir(lab.path().join("state/pods")).ok())
            .is_some_and(|mut pods| pods.next().is_some())
    };
    if !lab_run::kill_9_once_running(&mut child, "a Pod on the lab's node", 120, pod_runs) {
        return;
    }
    // The lifeline closed: the node deletes its Pods (grace 1 s) and its folder.
    assert_nothing_left(60, || leftovers(pid));
}

#[test]
fn a_node_lab_passes_rootless() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_course(course.path());
    let Some((pid, out)) = lab_run::rootless_kubelab_test(course.path(), data.path(), ROOTLESS_UID)
    else {
        return;
    };
    if passed_or_skip(&out, "rootless kubelab test").is_none() {
        return;
    }
    assert_nothing_left(30, || {
        let mut left = leftovers(pid);
        left.extend(lab_run::processes_of(ROOTLESS_UID));
        left
    });
}
