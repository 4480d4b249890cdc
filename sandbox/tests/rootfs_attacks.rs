//! A foreign rootfs (a directory, an image) whose symlinks point at the
//! host: nothing kubelab writes into it before `pivot_root` may land
//! outside it (issue 14, hole 6).

mod common;
use common::*;
use kubelab_sandbox::spec::Rootfs;
use kubelab_sandbox::{Sandbox, StdioMode};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

fn busybox_missing() -> Option<String> {
    (!Path::new("/bin/busybox").is_file()).then(|| "no static /bin/busybox".to_string())
}

/// A busybox rootfs directory; returns (tempdir, rootfs, victim dir).
fn rootfs_with_victim() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let (root, victim) = (t.path().join("root"), t.path().join("victim"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    symlink("busybox", root.join("bin/sh")).unwrap();
    (t, root, victim)
}

fn run(root: &Path, cmd: &str) -> Result<(i32, String), String> {
    let mut s = spec(&["/bin/sh", "-c", cmd]);
    s.rootfs = Rootfs::Dir(root.to_path_buf());
    let mut sb = Sandbox::spawn(&s, &opts(StdioMode::Piped)).map_err(|e| e.to_string())?;
    let (out, err) = read_all(&mut sb);
    Ok((sb.wait().unwrap(), format!("{out}{err}")))
}

#[test]
fn etc_hostname_pointing_at_the_host_is_not_written() {
    if skip(userns_unavailable()) || skip(busybox_missing()) {
        return;
    }
    let (_t, root, victim) = rootfs_with_victim();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let target = victim.join("nologin");
    symlink(&target, root.join("etc/hostname")).unwrap();
    let r = run(&root, "/bin/busybox cat /etc/hostname 2>&1; echo done");
    assert!(
        !target.exists(),
        "kubelab created the host file {}",
        target.display()
    );
    let (code, out) = r.expect("the sandbox starts");
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("done\n"), "{out}");
}

#[test]
fn an_etc_symlink_to_a_host_dir_is_not_written_into() {
    if skip(userns_unavailable()) || skip(busybox_missing()) {
        return;
    }
    let (_t, root, victim) = rootfs_with_victim();
    symlink(&victim, root.join("etc")).unwrap();
    let r = run(&root, "echo done");
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "wrote into {}",
        victim.display()
    );
    let (code, out) = r.expect("the sandbox starts");
    assert_eq!((code, out.as_str()), (0, "done\n"));
}

#[test]
fn a_mountpoint_symlink_to_the_host_is_refused() {
    if skip(userns_unavailable()) || skip(busybox_missing()) {
        return;
    }
    for dir in ["dev", "proc", "sys"] {
        let (_t, root, victim) = rootfs_with_victim();
        symlink(&victim, root.join(dir)).unwrap();
        let r = run(&root, "echo done");
        assert_eq!(
            std::fs::read_dir(&victim).unwrap().count(),
            0,
            "/{dir}: wrote into the host"
        );
        let e = r.expect_err("a symlinked mountpoint");
        assert!(e.contains(&format!("/{dir} is a symbolic link")), "{e}");
    }
}
