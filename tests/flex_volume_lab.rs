//! FlexVolume on a lab's node, end to end and as an attack: a driver
//! written in the learner's sandbox (so, by a course) is run by the node
//! for a Pod's `flexVolume` volume. It must work as the kubelet's calls do
//! (`init`, `mount <dir> <json>`, `unmount <dir>`; the container sees what
//! the driver mounted) and it must stay confined: never host root, never
//! the host's files, never a mount in the host's mount table — also when
//! kubelab runs as root (a classroom), and rootless.

mod common;
use common::lab_run::{self, assert_nothing_left, passed_or_skip};
use common::one_lesson_course;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ROOTLESS_UID: u32 = 61_998;

/// The driver's tmpfs, named so the host's mount table can be searched.
const SOURCE: &str = "flexlab-tmpfs";

const LESSON: &str = r#"+++
id = "01-a"
title = "A FlexVolume driver"
panes = ["shell", "pods"]
requires = ["busybox"]

[node]

[sandboxes.main]
rootfs = "host"
+++

# A driver

```sh solution
D=/opt/libexec/kubernetes/kubelet-plugins/volume/exec/test~tmpfs
mkdir -p $D
cat > $D/tmpfs <<'DRV'
#!/bin/sh
log=/var/log/flexvolume/tmpfs.log
echo "call $*" >> $log
case "$1" in
init) echo '{"status": "Success", "capabilities": {"attach": false}}' ;;
mount)
  echo "uid_map $(head -n1 /proc/self/uid_map | tr -s ' ' | sed 's/^ //')" >> $log
  touch @ESCAPE@/escaped 2>/dev/null && echo "wrote a host file" >> $log
  if mount -t tmpfs -o size=4m @SOURCE@ "$2"; then echo '{"status": "Success"}'
  else echo '{"status": "Failure", "message": "mount failed"}'; fi ;;
unmount)
  if umount "$2"; then echo '{"status": "Success"}'
  else echo '{"status": "Failure", "message": "umount failed"}'; fi ;;
*) echo '{"status": "Not supported"}' ;;
esac
DRV
chmod +x $D/tmpfs
kubectl apply -f - <<'POD'
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo hi > /cache/f; sleep 3600"]
    volumeMounts:
    - name: cache
      mountPath: /cache
  volumes:
  - name: cache
    flexVolume:
      driver: test/tmpfs
      options:
        size: 4m
POD
```

```sh check id=mounted
# hint: kubectl describe pod web
for i in $(seq 100); do
  kubectl exec web -- grep -q '^@SOURCE@ /cache tmpfs' /proc/mounts 2>/dev/null && exit 0
  sleep 0.1
done
kubectl describe pod web
exit 1
```

```sh check id=called-like-the-kubelet
# hint: cat /var/log/flexvolume/tmpfs.log
log=/var/log/flexvolume/tmpfs.log
grep -q '^call init$' $log || exit 1
grep -q '^call mount /var/lib/kubelet/pods/[^/]*/volumes/test~tmpfs/cache {.*"kubernetes.io/pod.name":"web"' $log || exit 1
grep -q '"size":"4m"' $log
```

```sh check id=confined
# hint: the driver runs as root of the Pod's user namespace
log=/var/log/flexvolume/tmpfs.log
grep -q '^uid_map ' $log || exit 1
! grep -q '^uid_map 0 0 4294967295$' $log || { echo "the driver ran as host root"; exit 1; }
! grep -q 'wrote a host file' $log || { echo "the driver reached the host's files"; exit 1; }
```

## Delete it

```sh solution
kubectl delete pod web
```

```sh check id=unmounted
# hint: kubectl delete pod web
for i in $(seq 100); do
  grep -q '^call unmount /var/lib/kubelet/pods/[^/]*/volumes/test~tmpfs/cache$' /var/log/flexvolume/tmpfs.log 2>/dev/null && exit 0
  sleep 0.1
done
exit 1
```
"#;

/// The course, with a world-writable host folder the driver must not
/// reach (so only its view, not file permissions, keeps it out).
fn write_course(course: &Path, escape: &Path) {
    let lesson = LESSON
        .replace("@ESCAPE@", &escape.display().to_string())
        .replace("@SOURCE@", SOURCE);
    one_lesson_course(course, &lesson);
}

fn escape_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// Watches the host's mount table until dropped; true if the driver's
/// tmpfs ever showed there.
struct HostMounts {
    stop: Arc<AtomicBool>,
    seen: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostMounts {
    fn watch() -> HostMounts {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicBool::new(false));
        let (s, n) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let t = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
                if t.contains(SOURCE) {
                    n.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        HostMounts {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn seen(mut self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.seen.load(Ordering::Relaxed)
    }
}

/// The driver never showed in the host's mount table nor wrote the host
/// folder `escape` (checked whether the run passed or not).
fn assert_confined(watch: HostMounts, escape: &Path) {
    assert!(
        !watch.seen(),
        "the driver's tmpfs showed in the host's mount table"
    );
    assert!(
        !escape.join("escaped").exists(),
        "the driver wrote into a host folder"
    );
}

fn leftovers(pid: u32) -> Vec<String> {
    let tag = format!("kubelab-node-{pid}x");
    let mut out: Vec<String> = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&tag))
        .map(|e| format!("folder {}", e.path().display()))
        .collect();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    out.extend(
        mounts
            .lines()
            .filter(|l| l.contains(&tag) || l.contains(SOURCE))
            .map(|l| format!("mount {l}")),
    );
    out
}

#[test]
fn a_course_written_driver_mounts_for_the_pod_and_stays_confined() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let escape = escape_dir();
    write_course(course.path(), escape.path());
    let watch = HostMounts::watch();
    let child = lab_run::kubelab_test(course.path(), data.path(), "KUBELAB_NODE_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    // Before the run's own verdict: an escape is the failure to report.
    assert_confined(watch, escape.path());
    if passed_or_skip(&out, "kubelab test").is_none() {
        return;
    }
    assert_nothing_left(30, || leftovers(pid));
}

#[test]
fn a_flex_volume_lab_passes_rootless() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let escape = escape_dir();
    write_course(course.path(), escape.path());
    let watch = HostMounts::watch();
    let run = lab_run::rootless_kubelab_test(course.path(), data.path(), ROOTLESS_UID);
    assert_confined(watch, escape.path());
    let Some((pid, out)) = run else {
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
