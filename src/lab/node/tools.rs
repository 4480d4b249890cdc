//! What every sandbox of a node lab sees (lessons/README.md, "Node labs"):
//! `kubelab` and `kubectl` on `PATH`, `KUBELAB_NODE_DIR`, and the node's
//! directories where a kubeadm node has them.
//!
//! The binary is bound in as it is, with the shared libraries it runs with
//! and their loader beside it, and started through that loader: so it runs
//! in a `busybox` rootfs (no `/lib`) as in a `host` one, and the lesson's
//! rootfs stays as it was (nothing is added to its `/lib`). `kubectl` is a
//! two-line script calling `kubelab kubectl`.
//!
//! Read-only binds of a root-started sandbox are id-mapped (host root shows
//! as the sandbox's root), so the node's root-owned 0700 state directory and
//! its 0600 socket are reachable from inside; writable binds are not, so the
//! writable directories are given to the sandboxes' root range first
//! ([`give_writable_dirs_to_sandboxes`]). A connect(2) needs write permission
//! on the socket only, which a read-only mount does not take away.

use super::LabNode;
use kubelab_sandbox::spec::{Mount, Spec};
use std::io;
use std::path::{Path, PathBuf};

/// Where `kubelab` and `kubectl` are inside (first on `PATH`).
pub const BIN: &str = "/opt/kubelab/bin";
/// The kubelab binary itself, inside.
const EXE: &str = "/opt/kubelab/libexec/kubelab";
/// Its shared libraries and loader, inside.
const LIB: &str = "/opt/kubelab/lib";
/// The node's state directory, inside (`KUBELAB_NODE_DIR`).
pub const NODE_DIR: &str = "/run/kubelab/node";
/// The sandboxes' `PATH` when the lesson sets none (the engine's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The files bound into a node lab's sandboxes.
#[derive(Debug, Clone)]
pub struct Tools {
    exe: PathBuf,
    /// Shared libraries the binary runs with (host paths).
    libs: Vec<PathBuf>,
    /// The dynamic loader's file name among `libs` (none: a static binary).
    loader: Option<String>,
    /// The scripts' folder on the host (bound at [`BIN`]).
    bin: PathBuf,
}

impl Tools {
    /// The tools for `kubelab` (this binary), scripts kept in `dir/bin`.
    pub fn new(kubelab: &Path, dir: &Path) -> io::Result<Tools> {
        let exe = kubelab.canonicalize().map_err(|e| {
            io::Error::other(format!("the kubelab binary {}: {e}", kubelab.display()))
        })?;
        let maps = std::fs::read_to_string("/proc/self/maps")?;
        let libs = shared_libraries(&maps, &exe);
        let loader = libs
            .iter()
            .filter_map(|l| l.file_name()?.to_str())
            .find(|n| n.starts_with("ld-"))
            .map(str::to_string);
        Ok(Tools {
            exe,
            libs,
            loader,
            bin: dir.join("bin"),
        })
    }

    /// The `kubelab` and `kubectl` scripts.
    pub fn scripts(&self) -> [(&'static str, String); 2] {
        let run = match &self.loader {
            Some(ld) => format!("exec {LIB}/{ld} --library-path {LIB} {EXE} \"$@\""),
            None => format!("exec {EXE} \"$@\""),
        };
        [
            ("kubelab", format!("#!/bin/sh\n{run}\n")),
            (
                "kubectl",
                format!(
                    "#!/bin/sh\n# kubectl's spelling of `kubelab pod` (src/commands/kubectl.rs)\n\
                     exec {BIN}/kubelab kubectl \"$@\"\n"
                ),
            ),
        ]
    }

    /// Writes the scripts into their folder on the host.
    pub fn write_scripts(&self) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&self.bin)?;
        for (name, text) in self.scripts() {
            let p = self.bin.join(name);
            std::fs::write(&p, text)?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    }

    /// `spec` with the binds and environment of a node lab's sandbox.
    pub fn apply(&self, spec: &Spec, node: &LabNode) -> Spec {
        let bind = |source: PathBuf, target: &str, readonly: bool| Mount::Bind {
            source,
            target: PathBuf::from(target),
            readonly,
        };
        let state = node.state_dir();
        let mut s = spec.clone();
        s.mounts.push(bind(self.bin.clone(), BIN, true));
        s.mounts.push(bind(self.exe.clone(), EXE, true));
        for lib in &self.libs {
            if let Some(name) = lib.file_name().and_then(|n| n.to_str()) {
                s.mounts
                    .push(bind(lib.clone(), &format!("{LIB}/{name}"), true));
            }
        }
        s.mounts.extend([
            bind(state.clone(), NODE_DIR, true),
            bind(node.manifests_dir(), "/etc/kubernetes/manifests", false),
            bind(state.join("logs"), "/var/log/pods", true),
            bind(state.join("pods"), "/var/lib/kubelet/pods", true),
            bind(state.join("configmaps"), "/etc/kubelab/configmaps", false),
            bind(state.join("secrets"), "/etc/kubelab/secrets", false),
            bind(node.disks_dir(), super::DISKS, false),
            // FlexVolume: the drivers the node runs, and their logs.
            bind(
                node.volume_plugins_dir(),
                kubelab_node::agent::flex_volume::PLUGIN_DIR,
                false,
            ),
            bind(
                state.join(kubelab_node::agent::flex_volume::LOG_SUBDIR),
                kubelab_node::agent::flex_volume::LOG_DIR,
                false,
            ),
        ]);
        let path = s
            .env
            .get("PATH")
            .cloned()
            .unwrap_or_else(|| DEFAULT_PATH.into());
        s.env.insert("PATH".into(), format!("{BIN}:{path}"));
        s.env.insert("KUBELAB_NODE_DIR".into(), NODE_DIR.into());
        s
    }
}

/// The shared objects mapped into this process (`/proc/self/maps`): the
/// libraries the kubelab binary runs with, and their loader.
pub fn shared_libraries(maps: &str, exe: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for line in maps.lines() {
        let Some(at) = line.find('/') else { continue };
        let path = &line[at..];
        if path.ends_with(" (deleted)") {
            continue;
        }
        let p = PathBuf::from(path);
        let is_so = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(".so"));
        if is_so && p != exe && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Gives the directories sandboxes write to (manifests, ConfigMaps,
/// Secrets) to the root of root-started sandboxes (their id range's first
/// uid and gid): a writable bind is not id-mapped, so only that owner may
/// write there from inside. Rootless, the learner owns them already.
pub fn give_writable_dirs_to_sandboxes(dirs: &[PathBuf]) -> io::Result<()> {
    if !rustix::process::geteuid().is_root() {
        return Ok(());
    }
    let map = kubelab_sandbox::idmap::for_root();
    let owner = (
        Some(rustix::fs::Uid::from_raw(map.uid)),
        Some(rustix::fs::Gid::from_raw(map.gid)),
    );
    for d in dirs {
        chown_tree(d, owner)?;
    }
    Ok(())
}

/// `chown -R` without following links (the tree was just made by kubelab).
fn chown_tree(
    p: &Path,
    owner: (Option<rustix::fs::Uid>, Option<rustix::fs::Gid>),
) -> io::Result<()> {
    use rustix::fs::{chownat, AtFlags, CWD};
    chownat(CWD, p, owner.0, owner.1, AtFlags::SYMLINK_NOFOLLOW)?;
    if std::fs::symlink_metadata(p)?.is_dir() {
        for e in std::fs::read_dir(p)? {
            chown_tree(&e?.path(), owner)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_are_the_mapped_shared_objects_once() {
        let maps = "\
55d0-55d1 r--p 00000000 fe:01 1 /work/target/debug/kubelab
7f00-7f01 r--p 00000000 fe:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f01-7f02 r-xp 00001000 fe:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f03-7f04 r--p 00000000 fe:01 3 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f05-7f06 rw-p 00000000 00:00 0 [heap]
7f07-7f08 r--p 00000000 fe:01 4 /tmp/old.so.1 (deleted)
7f09-7f0a r--p 00000000 00:00 0 [vdso]
";
        let libs = shared_libraries(maps, Path::new("/work/target/debug/kubelab"));
        assert_eq!(
            libs,
            [
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
            ]
        );
    }

    #[test]
    fn the_scripts_run_the_binary_through_its_loader() {
        let t = Tools {
            exe: "/k".into(),
            libs: vec!["/lib/ld-linux-x86-64.so.2".into()],
            loader: Some("ld-linux-x86-64.so.2".into()),
            bin: "/b".into(),
        };
        let [(n1, kubelab), (n2, kubectl)] = t.scripts();
        assert_eq!((n1, n2), ("kubelab", "kubectl"));
        assert!(kubelab.ends_with(
            "exec /opt/kubelab/lib/ld-linux-x86-64.so.2 --library-path /opt/kubelab/lib /opt/kubelab/libexec/kubelab \"$@\"\n"
        ));
        assert!(kubectl.ends_with("exec /opt/kubelab/bin/kubelab kubectl \"$@\"\n"));
        let t = Tools { loader: None, ..t };
        assert!(t.scripts()[0]
            .1
            .contains("exec /opt/kubelab/libexec/kubelab \"$@\""));
    }
}
