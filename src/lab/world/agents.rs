//! The node agents of a world's nodes with `pods = true` (docs/worlds.md,
//! "Pods in a world"): one `kubelab node` per such node, which the world's
//! keeper starts beside the node and stops before the world ends. Its Pods
//! live in the node's network namespace, on the bridge `cni0` with the
//! node's `pod_cidr` (the first address is the bridge's, the Pods'
//! gateway), as flannel and kubenet lay a node out; the world routes
//! nothing between nodes' Pod subnets: lessons build that.
//!
//! Each agent has a directory of its own in the world's runtime directory,
//! `node-NAME-…`, marked as a lab node's, which the agent removes when it
//! stops: its state (socket, volumes, logs) and its log.

use kubelab_sandbox::world::NodeAgent;
use kubelab_sandbox::world_spec::WorldSpec;
use std::io;
use std::path::{Path, PathBuf};

/// The bridge a world's node attaches its Pods to.
pub const BRIDGE: &str = "cni0";

/// The agents of `spec`'s nodes with Pods, their directories made in
/// `world_dir`; `kubelab`: the binary run as `kubelab node`. An error
/// removes what was made. [`remove_dirs`] removes them if the world does
/// not start.
pub fn node_agents(
    spec: &WorldSpec,
    world_dir: &Path,
    kubelab: &Path,
) -> io::Result<Vec<NodeAgent>> {
    let mut agents = Vec::new();
    if spec.nodes.iter().any(|n| n.pods) {
        let dirs = [PathBuf::from(kubelab_node::cni::DEBIAN_PLUGIN_DIR)];
        let missing = kubelab_node::sandbox_runtime::network::missing_plugins(&dirs);
        if !missing.is_empty() {
            return Err(io::Error::other(format!(
                "nodes with pods = true need the CNI plugins {} in {} (apt install \
                 containernetworking-plugins)",
                missing.join(", "),
                kubelab_node::cni::DEBIAN_PLUGIN_DIR
            )));
        }
    }
    for n in spec.nodes.iter().filter(|n| n.pods) {
        match agent(n.name.as_str(), &n.pod_cidr.to_string(), world_dir, kubelab) {
            Ok(a) => agents.push(a),
            Err(e) => {
                remove_dirs(&agents);
                return Err(io::Error::new(
                    e.kind(),
                    format!("node {}'s agent: {e}", n.name.as_str()),
                ));
            }
        }
    }
    Ok(agents)
}

/// Removes the directories of agents that never ran.
pub fn remove_dirs(agents: &[NodeAgent]) {
    for a in agents {
        if let Some(d) = a.log.parent() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn agent(name: &str, pod_cidr: &str, world_dir: &Path, kubelab: &Path) -> io::Result<NodeAgent> {
    use std::os::unix::fs::DirBuilderExt;
    kubelab_sandbox::world::ensure_dir(world_dir)?;
    let dir = make_dir(world_dir, name)?;
    let made = (|| {
        std::fs::write(
            dir.join(crate::lab::node::LAB_DIR_MARKER),
            b"a lab world's node directory: removed when its node stops\n",
        )?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.join("state"))?;
        write_scripts(&dir.join("bin"), kubelab)
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    let state = dir.join("state");
    let suffix = dir
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.rsplit('-').next())
        .unwrap_or("world")
        .to_string();
    let s = |p: &Path| p.display().to_string();
    let args = vec![
        "node".into(),
        "--name".into(),
        name.into(),
        "--state-dir".into(),
        s(&state),
        "--pod-cidr".into(),
        pod_cidr.into(),
        "--bridge".into(),
        BRIDGE.into(),
        // Two worlds (or a world and a lab) naming a node alike never
        // share cgroups.
        "--cgroup-key".into(),
        format!("{name}-w{suffix}"),
        // ConfigMap edits reach running Pods while the learner watches.
        "--sync-frequency".into(),
        "2s".into(),
        // `down` pulls the plug on the world's machines.
        "--shutdown-grace-period".into(),
        "0s".into(),
        "--lifeline".into(),
        "--remove-when-done".into(),
        s(&dir),
    ];
    Ok(NodeAgent {
        node: name.to_string(),
        program: kubelab.to_path_buf(),
        args,
        ready_path: state.join(kubelab_node::api::metrics::METRICS_SOCKET),
        log: dir.join("node.log"),
        exec_env: vec![("KUBELAB_NODE_DIR".into(), s(&state))],
        exec_path: vec![dir.join("bin")],
    })
}

/// `bin/kubelab` and `bin/kubectl` (kubectl's spelling of `kubelab pod`,
/// src/commands/kubectl.rs), first on the node's `PATH` in `world exec`
/// and in a lesson's node shells and checks.
fn write_scripts(bin: &Path, kubelab: &Path) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new().mode(0o755).create(bin)?;
    let exe = shell_quote(&kubelab.display().to_string());
    for (name, body) in [
        ("kubelab", format!("#!/bin/sh\nexec {exe} \"$@\"\n")),
        (
            "kubectl",
            format!(
                "#!/bin/sh\n# kubectl's spelling of `kubelab pod`\nexec {exe} kubectl \"$@\"\n"
            ),
        ),
    ] {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(bin.join(name))?
            .write_all(body.as_bytes())?;
    }
    Ok(())
}

/// `s` as one word for /bin/sh.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `world_dir/node-NAME-<pid>x<n>x<nanos>`, new, mode 0700.
fn make_dir(world_dir: &Path, name: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    static RUNS: AtomicU32 = AtomicU32::new(0);
    let mut last = None;
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let dir = world_dir.join(format!("node-{name}-{}x{n}x{nanos:x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name for the node's directory")))
}
