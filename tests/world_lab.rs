//! `[world]` labs end to end: `kubelab test` on a course whose lesson runs
//! in a two-node lab world. The solutions ping node2 from node1 over the
//! underlay and build a VXLAN overlay between them with `ip link add vxlan0
//! type vxlan id 42 …`, typed into node shells; the checks (in node1 and
//! node2) fail on a fresh world and pass after. Two such lessons run at once
//! (same node names, same subnets: separate worlds), rootless too, and
//! afterwards — also after `kill -9` of kubelab — no world process, runtime
//! folder, host link or mount is left.

mod common;
use common::lab_run::{self, assert_nothing_left, passed_or_skip};
use common::{kubelab, one_lesson_course};
use std::path::Path;
use std::process::{Command, Stdio};

/// An uid no account uses, for the rootless run.
const ROOTLESS_UID: u32 = 61_998;

const LESSON: &str = r#"+++
id = "01-a"
title = "Two nodes"
panes = ["shell@node1", "shell@node2", "network@node1"]
requires = ["ip", "ping"]

[world]
underlay = "192.168.50.0/24"

[[world.nodes]]
name = "node1"

[[world.nodes]]
name = "node2"
+++

# Two nodes

## The underlay

```sh solution
ping -c1 -W2 192.168.50.12
```

```sh check id=neighbour
# title: node1 knows node2's MAC address
# hint: ping node2 (192.168.50.12) from node1
ip neigh show 192.168.50.12 dev eth0 | grep -q lladdr || { echo "no neighbour entry for node2 yet"; exit 1; }
```

## A VXLAN overlay

```sh solution node=node1
ip link add vxlan0 type vxlan id 42 remote 192.168.50.12 dstport 4789 dev eth0
ip addr add 10.42.0.1/24 dev vxlan0
ip link set vxlan0 up
```

```sh solution node=node2
ip link add vxlan0 type vxlan id 42 remote 192.168.50.11 dstport 4789 dev eth0
ip addr add 10.42.0.2/24 dev vxlan0
ip link set vxlan0 up
```

```sh check id=overlay node=node1
# title: node1 reaches node2 over the overlay
# hint: a vxlan0 on both nodes, VNI 42, each with the other as remote
ip -d link show vxlan0 2>/dev/null | grep -q 'vxlan id 42' || { echo "no vxlan0 with VNI 42 on node1"; exit 1; }
ping -c1 -W2 10.42.0.2 >/dev/null || { echo "10.42.0.2 does not answer"; exit 1; }
```

```sh check id=remote node=node2
# title: node2's vxlan0 sends to node1
# hint: remote 192.168.50.11 on node2
ip -d link show vxlan0 2>/dev/null | grep -q 'remote 192.168.50.11' || { echo "node2 has no vxlan0 to node1"; exit 1; }
```
"#;

/// [`LESSON`] twice, under two ids: `kubelab test -j 2` runs both worlds
/// at once.
fn write_two_lesson_course(dir: &Path) {
    let b = LESSON.replace("id = \"01-a\"", "id = \"02-b\"");
    common::course_of(dir, &[("A", "01-a", LESSON), ("B", "02-b", &b)]);
}

/// What a run of kubelab with process id `pid` may have left: its worlds'
/// runtime folders, processes started with them (the keeper, the world's
/// init and node holders carry the folder in their environment), mounts
/// naming them, and links in the host's namespace that a world makes.
fn leftovers(pid: u32, links_before: &[String]) -> Vec<String> {
    let tag = format!("kubelab-world-lab-{pid}x");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&tag) {
                out.push(format!("folder {}", e.path().display()));
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
            if String::from_utf8_lossy(&env).contains(&tag) {
                let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
                out.push(format!(
                    "process {} {}",
                    e.file_name().to_string_lossy(),
                    comm.trim()
                ));
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    out.extend(
        mounts
            .lines()
            .filter(|l| l.contains("kubelab-world-lab"))
            .map(|l| format!("mount {l}")),
    );
    for l in common::host_links() {
        let worldish = l == "vxlan0" || l == "br0" || l.starts_with("veth-node");
        if worldish && !links_before.contains(&l) {
            out.push(format!("host link {l}"));
        }
    }
    out
}

fn kubelab_test(course: &Path, data: &Path) -> Command {
    lab_run::kubelab_test(course, data, "KUBELAB_WORLD_DIR")
}

#[test]
fn two_world_labs_at_once_pass_and_leave_nothing() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_two_lesson_course(course.path());
    let links = common::host_links();
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
    // `kubelab test` waited for each world's end; only the reaping of the
    // detached keeper by the host's init may lag.
    assert_nothing_left(10, || leftovers(pid, &links));
}

#[test]
fn the_example_lesson_lints_clean_and_a_bad_node_is_named() {
    let course = tempfile::tempdir().unwrap();
    one_lesson_course(course.path(), LESSON);
    let lint = |dir: &Path| {
        Command::new(kubelab())
            .arg("--course")
            .arg(dir)
            .arg("lint")
            .output()
            .unwrap()
    };
    let out = lint(course.path());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("01-a.md:"), "{text}");
    let bad = LESSON.replace(
        "```sh check id=remote node=node2",
        "```sh check id=remote node=node3",
    );
    one_lesson_course(course.path(), &bad);
    let out = lint(course.path());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("check names node `node3`, which [world] does not declare"),
        "{text}"
    );
}

#[test]
fn translations_share_one_world() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    one_lesson_course(course.path(), LESSON);
    let zh = course.path().join("zh/src");
    std::fs::create_dir_all(&zh).unwrap();
    std::fs::write(
        course.path().join("zh/book.toml"),
        "[book]\ntitle = \"T\"\nlanguage = \"zh\"\n",
    )
    .unwrap();
    std::fs::write(zh.join("SUMMARY.md"), "# 目录\n\n- [A](01-a.md)\n").unwrap();
    // Its own words, the same world and solutions: one run of the lab.
    let zh_lesson = LESSON
        .replace("# Two nodes", "# 两个节点")
        .replace("## The underlay", "## 底层网络")
        .replace("## A VXLAN overlay", "## VXLAN 覆盖网络")
        .replace(
            "no neighbour entry for node2 yet",
            "node1 还没有 node2 的邻居表项",
        );
    std::fs::write(zh.join("01-a.md"), zh_lesson).unwrap();
    let out = kubelab_test(course.path(), data.path())
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("\"skip\"") {
        eprintln!("SKIP: this host cannot run the lab: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let reports = v["lessons"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "{text}");
    assert!(reports.iter().all(|r| r["status"] == "pass"), "{text}");
    let shared: Vec<&serde_json::Value> = reports
        .iter()
        .filter(|r| r.get("shared_with").is_some())
        .collect();
    assert_eq!(shared.len(), 1, "one world for both languages: {text}");
    let zh_reason = reports
        .iter()
        .find(|r| r["lang"] == "zh")
        .map(|r| r["checks"][0]["fresh_reason"].clone());
    assert_eq!(
        zh_reason,
        Some(serde_json::json!("node1 还没有 node2 的邻居表项")),
        "{text}"
    );
}

#[test]
fn checks_fail_on_a_fresh_world() {
    // The same lesson without its solutions: every check must fail (the
    // harness reports the step's checks still failing after its settle
    // time), so the checks prove what the solutions did.
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let unsolved = LESSON
        .split("```sh solution")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                // Drop the solution's body up to its closing fence.
                part.split_once("```\n")
                    .map_or("", |(_, rest)| rest)
                    .to_string()
            }
        })
        .collect::<String>();
    assert!(!unsolved.contains("solution"), "{unsolved}");
    one_lesson_course(course.path(), &unsolved);
    let out = kubelab_test(course.path(), data.path())
        .arg("--json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("\"skip\"") {
        eprintln!("SKIP: this host cannot run the lab: {text}");
        return;
    }
    assert!(!out.status.success(), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    let checks = v
        .pointer("/lessons/0/checks")
        .or_else(|| v.pointer("/0/checks"))
        .and_then(|c| c.as_array())
        .unwrap_or_else(|| panic!("no checks in {text}"))
        .clone();
    assert_eq!(checks.len(), 3, "{text}");
    for c in checks {
        assert_eq!(c["failed_first"], true, "{c}");
        assert_eq!(c["passed_after"], false, "{c}");
    }
}

#[test]
fn kill_9_of_kubelab_leaves_nothing() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    one_lesson_course(course.path(), LESSON);
    let links = common::host_links();
    let mut child = kubelab_test(course.path(), data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Once the world runs (its keeper carries the run's folder in its
    // environment).
    let world_runs = || {
        leftovers(pid, &links)
            .iter()
            .any(|l| l.starts_with("process"))
    };
    if !lab_run::kill_9_once_running(&mut child, "its world", 60, world_runs) {
        return;
    }
    // The lifeline closed: the keeper ends the world and removes its
    // record. The empty runtime folder is the next run's to sweep (its
    // kubelab is gone): checked, then swept as that run would.
    let tag = format!("kubelab-world-lab-{pid}x");
    let processes_or_links = || {
        leftovers(pid, &links)
            .into_iter()
            .filter(|l| !l.starts_with("folder"))
            .collect::<Vec<_>>()
    };
    assert_nothing_left(10, processes_or_links);
    for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with(&tag) {
            assert!(
                !e.path().join("world.json").exists(),
                "a record of a world is left in {}",
                e.path().display()
            );
        }
    }
    kubelab::lab::world::sweep_stale_run_dirs(&std::env::temp_dir());
    assert_nothing_left(0, || leftovers(pid, &links));
}

#[test]
fn a_world_lab_passes_rootless() {
    let course = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    one_lesson_course(course.path(), LESSON);
    let links = common::host_links();
    let Some((pid, out)) = lab_run::rootless_kubelab_test(course.path(), data.path(), ROOTLESS_UID)
    else {
        return;
    };
    if passed_or_skip(&out, "rootless kubelab test").is_none() {
        return;
    }
    // The detached keeper's zombie waits for the host's init: bounded.
    assert_nothing_left(10, || {
        let mut left = leftovers(pid, &links);
        left.extend(lab_run::processes_of(ROOTLESS_UID));
        left
    });
}

#[test]
fn sandboxes_only_starts_no_world() {
    use kubelab::course::model::Lang;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("01-a.md");
    std::fs::write(&path, LESSON).unwrap();
    let lesson = kubelab::course::lesson::parse_text(LESSON, &path, Lang::En)
        .lesson
        .expect("the lesson parses");
    let factory = Arc::new(kubelab::lab::engine::EngineFactory::with_helper(kubelab()));
    let text = kubelab::panes::text::text(Lang::En);
    // The learner answered "s": the world's shells and checks would run
    // as them on their files, so nothing of the world may start.
    let lab = kubelab::lab::live::LiveLab::start_declining_host(
        Arc::new(lesson),
        factory,
        kubelab(),
        Arc::new(|| {}),
        text,
        Some("declined"),
    );
    assert!(lab.world.is_none());
    assert!(lab.cells.is_empty() && lab.shells.is_empty());
    assert_eq!(lab.errors, [text.world_declined.to_string()]);
    drop(lab);
    assert!(
        !std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .any(|e| e
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("kubelab-world-lab-{}x", std::process::id()))),
        "a world folder was made"
    );
}

#[test]
fn help_lists_f8_where_a_world_lab_has_several_shells() {
    use kubelab::app::PaneHost;
    use kubelab::course::model::Lang;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("01-a.md");
    let help = |lesson_text: &str| {
        std::fs::write(&path, lesson_text).unwrap();
        let lesson = kubelab::course::lesson::parse_text(lesson_text, &path, Lang::En)
            .lesson
            .expect("the lesson parses");
        let factory = Arc::new(kubelab::lab::engine::EngineFactory::with_helper(kubelab()));
        let mut host = kubelab::lab::host::LabHost::new(
            factory,
            kubelab(),
            kubelab::lab::trust::TrustState::Trusted,
        );
        host.lesson_opened(Some(&lesson));
        let keys = [Lang::En, Lang::Zh].map(|l| host.help_keys(l));
        // Tears the world down (if it started) before the next lesson.
        host.shutdown();
        keys
    };
    let [en, zh] = help(LESSON);
    assert!(
        en.contains(&(
            "F8".into(),
            "show the next node's shell (lab worlds)".into()
        )),
        "{en:?}"
    );
    assert!(
        zh.contains(&("F8".into(), "显示下一个节点的终端（实验世界）".into())),
        "{zh:?}"
    );
    // One node shell: F8 has nothing to switch to, so help does not list it.
    let one_shell = LESSON.replace(
        r#"panes = ["shell@node1", "shell@node2", "network@node1"]"#,
        r#"panes = ["shell@node1", "network@node1"]"#,
    );
    assert_ne!(one_shell, LESSON);
    let [en, _] = help(&one_shell);
    assert!(!en.iter().any(|(k, _)| k == "F8"), "{en:?}");
}
