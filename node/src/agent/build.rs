//! From a Pod to the runtime's requests (`PodSandboxConfig`,
//! `ContainerConfig`): every value is decided here, with the crate's pure
//! modules, so the runtime only applies them.

use super::NodeConfig;
use crate::cgroup_plan::{self, CgroupNode};
use crate::downward::{self, NodeFacts};
use crate::manifest::image::Image;
use crate::qos::{PodResources, QosClass};
use crate::runtime::{ContainerConfig, Mount, PodSandboxConfig, Propagation};
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The facts the downward API reads.
pub fn node_facts(config: &NodeConfig) -> NodeFacts {
    NodeFacts {
        node_name: config.name.clone(),
        host_ip: None,
        pod_ip: None,
        allocatable_milli_cpu: config.allocatable_milli_cpu,
        allocatable_memory_bytes: config.capacity.memory_bytes,
        allocatable_ephemeral_bytes: 0,
    }
}

/// `RunPodSandbox`'s request. `others`: the resources of the node's other
/// Pods (the burstable tier's shares are their sum).
pub fn sandbox_config(
    pod: &Pod,
    config: &NodeConfig,
    others: &[PodResources],
) -> Result<PodSandboxConfig, String> {
    let res = PodResources::from_pod(pod).map_err(|e| e.to_string())?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let plan = cgroup_plan::plan(&uid, &res, &config.capacity)?;
    let mut all: Vec<&PodResources> = others.iter().collect();
    all.push(&res);
    let tier_cgroup = match plan.qos {
        QosClass::Guaranteed => CgroupNode {
            path: cgroup_plan::qos_tier_path(QosClass::Guaranteed),
            limits: Default::default(),
            oom_score_adj: None,
        },
        qos => {
            let limits = cgroup_plan::tier_limits(&all)
                .into_iter()
                .find(|(q, _)| *q == qos)
                .map(|(_, l)| l)
                .unwrap_or_default();
            CgroupNode {
                path: cgroup_plan::qos_tier_path(qos),
                limits,
                oom_score_adj: None,
            }
        }
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    Ok(PodSandboxConfig {
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        hostname: spec.hostname.clone().unwrap_or_else(|| name.clone()),
        name,
        uid,
        share_process_namespace: spec.share_process_namespace.unwrap_or(false),
        host_ipc: spec.host_ipc.unwrap_or(false),
        host_network: spec.host_network.unwrap_or(false),
        host_pid: spec.host_pid.unwrap_or(false),
        tier_cgroup,
        pod_cgroup: plan.pod,
        infra_cgroup: plan.infra,
    })
}

/// `CreateContainer`'s request for container `c` of `pod`.
pub fn container_config(
    pod: &Pod,
    c: &Container,
    image: &Image,
    config: &NodeConfig,
    volumes: &BTreeMap<String, PathBuf>,
    restart_count: u32,
    (pod_ip, host_ip): (Option<IpAddr>, Option<IpAddr>),
) -> Result<ContainerConfig, String> {
    let res = PodResources::from_pod(pod).map_err(|e| e.to_string())?;
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let plan = cgroup_plan::plan(&uid, &res, &config.capacity)?;
    let cgroup = plan
        .containers
        .into_iter()
        .find(|(n, _)| *n == c.name)
        .map(|(_, n)| n)
        .ok_or_else(|| format!("no cgroup planned for container {:?}", c.name))?;
    let facts = NodeFacts {
        pod_ip: pod_ip.map(|ip| ip.to_string()),
        host_ip: host_ip.map(|ip| ip.to_string()),
        ..node_facts(config)
    };
    let env = downward::container_env(pod, c, &facts)?;
    let (command, args) = downward::command_and_args(c, &env);
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = c.security_context.as_ref();
    let id = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    let caps = sc.and_then(|s| s.capabilities.as_ref());
    let run_as_user = id(sc
        .and_then(|s| s.run_as_user)
        .or_else(|| pod_sc.and_then(|s| s.run_as_user)));
    let non_root = sc
        .and_then(|s| s.run_as_non_root)
        .or_else(|| pod_sc.and_then(|s| s.run_as_non_root))
        .unwrap_or(false);
    check_non_root(non_root, run_as_user, pod, &c.name)?;
    let log_path = config
        .logs()
        .container_log(
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            pod.metadata.name.as_deref().unwrap_or_default(),
            &uid,
            &c.name,
            restart_count,
        )
        .map_err(|e| e.to_string())?;
    Ok(ContainerConfig {
        name: c.name.clone(),
        image: image.clone(),
        argv: command.into_iter().chain(args).collect(),
        env,
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        run_as_user,
        run_as_group: id(sc
            .and_then(|s| s.run_as_group)
            .or_else(|| pod_sc.and_then(|s| s.run_as_group))),
        read_only_root_filesystem: sc
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false),
        privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
        capabilities_add: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
        capabilities_drop: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
        mounts: super::volumes::mounts(pod, c, volumes)?,
        cgroup,
        log_path,
        log_rotation: Some(config.log_rotation),
        devices: Vec::new(),
    })
}

/// The Pod's managed `/etc/hosts` bound read-write (as the kubelet's),
/// unless the container mounts something at `/etc/hosts` itself.
pub fn with_etc_hosts(mut mounts: Vec<Mount>, etc_hosts: Option<&Path>) -> Vec<Mount> {
    let own = mounts
        .iter()
        .any(|m| Path::new(&m.container_path) == Path::new("/etc/hosts"));
    if let (Some(path), false) = (etc_hosts, own) {
        mounts.push(Mount {
            host_path: path.to_path_buf(),
            container_path: "/etc/hosts".into(),
            read_only: false,
            propagation: Propagation::None,
            in_volume_plugin: None,
        });
    }
    mounts
}

/// `runAsNonRoot`, checked as the kubelet's `verifyRunAsNonRoot` does
/// before it creates the container (CreateContainerConfigError). kubelab
/// runs every image as uid 0 unless `runAsUser` says otherwise (it does
/// not read an image's `USER`), so without `runAsUser` the image "will run
/// as root".
fn check_non_root(
    non_root: bool,
    run_as_user: Option<u32>,
    pod: &Pod,
    container: &str,
) -> Result<(), String> {
    if !non_root {
        return Ok(());
    }
    let at = format!(
        "pod: {:?}, container: {container}",
        format!(
            "{}_{}({})",
            pod.metadata.name.as_deref().unwrap_or_default(),
            pod.metadata.namespace.as_deref().unwrap_or("default"),
            pod.metadata.uid.as_deref().unwrap_or_default()
        )
    );
    match run_as_user {
        Some(0) => Err(format!(
            "container's runAsUser breaks non-root policy ({at}); set runAsUser to a non-zero uid"
        )),
        Some(_) => Ok(()),
        None => Err(format!(
            "container has runAsNonRoot and image will run as root ({at}); set runAsUser to a non-zero uid"
        )),
    }
}

/// What this node cannot run, found at apply time (rather than as a probe
/// that silently never works). `network`: whether Pods get an IP the node
/// reaches (`Err`: why not), which `tcpSocket` and `httpGet` need.
pub fn unsupported(pod: &Pod, network: Result<(), String>) -> Vec<String> {
    let mut out = super::volumes::unsupported(pod);
    let Some(spec) = &pod.spec else { return out };
    if spec.host_network == Some(true) {
        if let Err(why) = &network {
            out.push(format!("spec.hostNetwork: the Pod would join the node's network namespace, and {why}; leave it unset"));
        }
    }
    if spec.dns_policy.as_deref() == Some("None") {
        out.push("spec.dnsPolicy: None needs spec.dnsConfig, which this node does not support; use ClusterFirst (the cluster DNS) or Default (the image's /etc/resolv.conf)".into());
    }
    let no_net = |at: &str, what: &str, why: &str| {
        format!("{at}: {what} needs a Pod IP the node can reach, and {why}; use an exec handler instead, e.g. `wget -q -O- http://localhost:PORT/`")
    };
    let https = |at: &str| {
        format!("{at}.httpGet.scheme: HTTPS is not supported by this node (it has no TLS client); use HTTP or an exec handler")
    };
    for (i, c) in spec.containers.iter().enumerate() {
        for (kind, p) in super::state::probes_of(c) {
            let field = match kind {
                crate::probe::ProbeKind::Liveness => "livenessProbe",
                crate::probe::ProbeKind::Readiness => "readinessProbe",
                crate::probe::ProbeKind::Startup => "startupProbe",
            };
            let at = format!("spec.containers[{i}].{field}");
            let what = if p.tcp_socket.is_some() {
                "tcpSocket"
            } else if p.http_get.is_some() {
                "httpGet"
            } else {
                continue;
            };
            if let Err(why) = &network {
                out.push(no_net(&at, what, why));
            } else if p.http_get.as_ref().and_then(|h| h.scheme.as_deref()) == Some("HTTPS") {
                out.push(https(&at));
            }
        }
        if let Some(l) = &c.lifecycle {
            for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
                let Some(h) = h else { continue };
                let at = format!("spec.containers[{i}].lifecycle.{field}");
                if let Some(g) = &h.http_get {
                    if let Err(why) = &network {
                        out.push(no_net(&at, "httpGet", why));
                    } else if g.scheme.as_deref() == Some("HTTPS") {
                        out.push(https(&at));
                    }
                } else if h.exec.is_none() {
                    out.push(format!("{at}: only `exec` and `httpGet` hooks are supported by this node yet; use an exec hook"));
                }
            }
        }
    }
    out
}
