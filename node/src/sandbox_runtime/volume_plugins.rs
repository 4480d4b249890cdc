//! A Pod's volume plugin sandbox: where the node runs its FlexVolume
//! drivers (`crate::agent::flex_volume` speaks their protocol).
//!
//! The kubelet runs a driver as root on the node, in the host's mount
//! namespace. kubelab's node is host root in a classroom, and a driver is
//! a file a learner (or a course) wrote, so it runs instead as root of the
//! Pod's own user namespace — what a privileged container of the Pod may do
//! — in a sandbox with the host's programs (the `host` rootfs), the plugin
//! directory read-only, the log folder and the Pod's volume folders. Its
//! mounts stay in its mount namespace: each container clones them from
//! there ([`kubelab_sandbox::pod::ForeignBinds`]). It ends with the Pod, and
//! its mounts with it.

use crate::runtime::{PodSandbox, VolumePluginConfig};
use kubelab_sandbox::cgroup::Cgroup;
use kubelab_sandbox::pod::{GivenCgroup, JoinNamespaces, PodOptions};
use kubelab_sandbox::spec::{Mount, Namespace, Rootfs, Spec};
use kubelab_sandbox::{ExecRequest, Sandbox, SpawnOptions};
use std::io;
use std::path::Path;
use std::time::Duration;

/// The sandbox's spec: host programs, a PID namespace and a mount
/// namespace of its own, held by `sleep` as PID 1 (exec'd in the Pod's user
/// namespace, so a container's PID 1, root there, may open its
/// `/proc/<pid>/ns/mnt`; kubelab's own PID 1 was exec'd in the host's).
fn spec(config: &VolumePluginConfig) -> Spec {
    let bind =
        |(source, target): &(std::path::PathBuf, std::path::PathBuf), readonly| Mount::Bind {
            source: source.clone(),
            target: target.clone(),
            readonly,
        };
    let mut mounts = vec![bind(&config.plugin_dir, true), bind(&config.log_dir, false)];
    mounts.extend(config.volume_dirs.iter().map(|d| bind(d, false)));
    Spec {
        namespaces: vec![Namespace::Mount, Namespace::Pid, Namespace::User],
        hostname: None,
        rootfs: Rootfs::Host,
        mounts,
        command: vec!["sleep".into(), "infinity".into()],
        // Root of the Pod's user namespace with all its capabilities: a
        // driver mounts.
        privileged: true,
        init: false,
        ..Spec::default()
    }
}

/// Starts it beside the Pod's infra (`pod`), in the infra's cgroup.
pub(super) fn start(
    opts: &SpawnOptions,
    pod: &PodSandbox,
    join: JoinNamespaces,
    cgroup: Option<Cgroup>,
    config: &VolumePluginConfig,
) -> io::Result<Sandbox> {
    let mut opts = opts.clone();
    opts.id = Some(format!("vol-{}", kubelab_sandbox::runtime::new_id()));
    let pod_opts = PodOptions {
        join: Some(join),
        cgroup: cgroup.map(|join| GivenCgroup { join, own: None }),
        ..PodOptions::default()
    };
    let mut sandbox = Sandbox::spawn_in_pod(&spec(config), &opts, &pod_opts).map_err(|e| {
        io::Error::other(format!(
            "start the volume plugin sandbox of Pod sandbox {}: {e}",
            pod.id
        ))
    })?;
    drop(sandbox.take_stdin());
    Ok(sandbox)
}

/// One driver call, as its root.
pub(super) fn call(
    pid: u32,
    helper_exe: &Path,
    argv: &[String],
    timeout: Duration,
) -> io::Result<(i32, Vec<u8>, Vec<u8>)> {
    let req = ExecRequest {
        command: argv.to_vec(),
        env: Vec::new(),
        workdir: Some("/".into()),
        privileged: true,
        // A driver stuck in a loop is stopped well before the call's timeout.
        cpu_seconds: Some(10),
        identity: Default::default(),
    };
    super::container::exec_bounded(pid, &req, helper_exe, timeout)
}
