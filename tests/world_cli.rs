//! `kubelab world` as authors and scripts use it: up (twice: an error naming
//! the running world), exec, status, down, a bad world file; each run in a
//! runtime directory of its own (`KUBELAB_WORLD_DIR`), nothing left in the
//! host's network namespace.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kubelab(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBELAB_WORLD_DIR", dir)
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run kubelab")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn host_links() -> String {
    let o = Command::new("ip").args(["-o", "link"]).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Takes the world down even when an assertion failed.
struct Down<'a>(&'a Path);
impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = kubelab(self.0, &["world", "down"]);
    }
}

#[test]
fn up_exec_status_down_from_the_example_file() {
    if std::fs::read_to_string("/proc/sys/user/max_user_namespaces").is_ok_and(|s| s.trim() == "0")
        || Command::new("ip").arg("-V").output().is_err()
    {
        eprintln!("SKIP: user namespaces or iproute2 missing here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let before = host_links();
    let _down = Down(&dir);
    let file = "examples/worlds/two-nodes.toml";
    let o = kubelab(&dir, &["world", "up", file]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("world two-nodes is up"), "{out}");
    assert!(
        out.contains("node1") && out.contains("192.168.50.11/24"),
        "{out}"
    );
    assert!(
        out.contains("node2") && out.contains("192.168.50.12/24"),
        "{out}"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "runtime dir mode {mode:o}");
    }
    assert_eq!(host_links(), before);

    let o = kubelab(&dir, &["world", "up", file]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(
        out.contains("\"two-nodes\"") && out.contains("already up"),
        "{out}"
    );

    let o = kubelab(
        &dir,
        &[
            "world", "exec", "node2", "--", "ip", "-4", "-o", "addr", "show", "eth0",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("192.168.50.12/24"), "{}", text(&o));
    // The command's exit code comes back.
    let o = kubelab(
        &dir,
        &["world", "exec", "node1", "--", "sh", "-c", "exit 7"],
    );
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    let o = kubelab(&dir, &["world", "status"]);
    assert!(
        o.status.success() && text(&o).contains("node2"),
        "{}",
        text(&o)
    );

    let o = kubelab(&dir, &["world", "down"]);
    assert!(
        o.status.success() && text(&o).contains("world two-nodes is down"),
        "{}",
        text(&o)
    );
    let o = kubelab(&dir, &["world", "exec", "node1", "--", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no world is up"), "{}", text(&o));
    assert_eq!(host_links(), before);
}

#[test]
fn a_bad_world_file_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[nodes]]\nname = \"node1\"\n\n[[nodes]]\nname = \"node_2\"\n",
    )
    .unwrap();
    let o = kubelab(
        &tmp.path().join("w"),
        &["world", "up", file.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(out.contains("bad.toml:5:"), "{out}");
    assert!(out.contains("DNS label"), "{out}");
}

/// A course of two lessons: `01-world` declares a two-node `[world]`,
/// `02-plain` none.
fn world_and_plain_course(dir: &Path) {
    common::course_of(
        dir,
        &[
            (
                "W",
                "01-world",
                "+++\nid = \"01-world\"\ntitle = \"W\"\npanes = [\"shell@alpha\"]\n\n[world]\nunderlay = \"192.168.77.0/24\"\n\n[[world.nodes]]\nname = \"alpha\"\n\n[[world.nodes]]\nname = \"beta\"\n+++\n\n# W\n",
            ),
            (
                "P",
                "02-plain",
                "+++\nid = \"02-plain\"\ntitle = \"P\"\n+++\n\n# P\n",
            ),
        ],
    );
}

#[test]
fn up_takes_a_lesson_id_or_file_and_names_a_lesson_without_a_world() {
    let tmp = tempfile::tempdir().unwrap();
    let course = tmp.path().join("course");
    world_and_plain_course(&course);
    let dir = tmp.path().join("w");
    let up = |what: &str| {
        let c = course.to_str().unwrap();
        kubelab(&dir, &["--course", c, "world", "up", what])
    };
    // No [world]: by id and by file, the lesson is named.
    for what in [
        "02-plain".to_string(),
        course.join("en/src/02-plain.md").display().to_string(),
    ] {
        let o = up(&what);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let out = text(&o);
        assert!(
            out.contains("lesson `02-plain`") && out.contains("has no [world]"),
            "{out}"
        );
    }
    // Neither a file nor a lesson id: said so, with the nearest id.
    let o = up("01-wrld");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("`01-wrld` is neither a world file nor a lesson id")
            && out.contains("`01-world`"),
        "{out}"
    );
    assert!(!dir.join("world.json").exists());

    if std::fs::read_to_string("/proc/sys/user/max_user_namespaces").is_ok_and(|s| s.trim() == "0")
        || Command::new("ip").arg("-V").output().is_err()
    {
        eprintln!("SKIP: building a lesson's world: user namespaces or iproute2 missing here");
        return;
    }
    let before = host_links();
    let _down = Down(&dir);
    for what in [
        "01-world".to_string(),
        course.join("en/src/01-world.md").display().to_string(),
    ] {
        let o = up(&what);
        assert!(o.status.success(), "{what}: {}", text(&o));
        let out = text(&o);
        assert!(out.contains("world 01-world is up"), "{out}");
        assert!(out.contains("01-world.md"), "{out}");
        assert!(
            out.contains("alpha") && out.contains("192.168.77.11/24"),
            "{out}"
        );
        assert!(
            out.contains("beta") && out.contains("192.168.77.12/24"),
            "{out}"
        );
        let o = kubelab(&dir, &["world", "exec", "beta", "--", "hostname"]);
        assert_eq!(text(&o).trim(), "beta");
        let o = kubelab(&dir, &["world", "down"]);
        assert!(text(&o).contains("world 01-world is down"), "{}", text(&o));
    }
    assert_eq!(host_links(), before);
}

#[test]
fn a_missing_world_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let o = kubelab(
        &tmp.path().join("w"),
        &["world", "up", "no-such-world.toml"],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(
        out.contains("no-such-world.toml") && out.contains("cannot read the world file"),
        "{out}"
    );
}
