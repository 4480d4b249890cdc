//! The cgroup tree and values the kubelet (cgroupfs driver) and the runtime
//! give a Pod, as a typed plan the node applies later (v1 or v2 files).
//!
//! Layout: `kubepods/pod<UID>` (Guaranteed), `kubepods/burstable/pod<UID>`,
//! `kubepods/besteffort/pod<UID>`; below the pod cgroup one cgroup per
//! container. containerd names those by container ID; kubelab names them by
//! container name (readable in a lesson, unique within a Pod), and the infra
//! process `_infra` (a leading `_` is never a valid container name).
//!
//! Sources (kubernetes/kubernetes): `pkg/kubelet/cm/helpers_linux.go`
//! (`MilliCPUToShares`, `MilliCPUToQuota`, `ResourceConfigForPod`),
//! `pkg/kubelet/kuberuntime/kuberuntime_container_linux.go`
//! (`calculateLinuxResources`), `pkg/kubelet/cm/qos_container_manager_linux.go`;
//! runc/opencontainers-cgroups `ConvertCPUSharesToCgroupV2Value` for v2.

use crate::qos::{oom_score_adj, ContainerResources, PodResources, QosClass, INFRA_OOM_SCORE_ADJ};

/// Kernel bounds on cpu.shares (`MinShares`, `MaxShares`).
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;
/// `QuotaPeriod`: 100 ms in µs.
pub const QUOTA_PERIOD_US: u64 = 100_000;
/// `MinQuotaPeriod`: the kernel refuses a quota under 1 ms.
pub const MIN_QUOTA_US: i64 = 1_000;
/// The infra process's cgroup, next to the containers'.
pub const INFRA_CGROUP: &str = "_infra";
/// The root of the Pod tree (under kubelab's own subtree).
pub const KUBEPODS: &str = "kubepods";

/// `MilliCPUToShares`: `milli*1024/1000`, clamped to [2, 262144]; 0 → 2.
pub fn milli_cpu_to_shares(milli_cpu: i64) -> u64 {
    if milli_cpu <= 0 {
        return MIN_SHARES;
    }
    let shares = (i128::from(milli_cpu) * 1024 / 1000) as u128;
    shares.clamp(u128::from(MIN_SHARES), u128::from(MAX_SHARES)) as u64
}

/// `MilliCPUToQuota` with the 100 ms period: `milli*period/1000`, at least
/// 1 ms; `None` for no limit (0).
pub fn milli_cpu_to_quota(milli_cpu: i64) -> Option<i64> {
    if milli_cpu <= 0 {
        return None;
    }
    let quota = i128::from(milli_cpu) * i128::from(QUOTA_PERIOD_US) / 1000;
    Some(quota.clamp(i128::from(MIN_QUOTA_US), i128::from(i64::MAX)) as i64)
}

/// How cpu.shares become cgroup v2 cpu.weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightFormula {
    /// `1 + ((shares-2)*9999)/262142`: runc < 1.3.2 and the kubelet's own
    /// pod cgroups through Kubernetes 1.34 (maps the default 1024 to 39).
    #[default]
    Linear,
    /// runc >= 1.3.2 / crun >= 1.23 (opencontainers/runc#4785): a quadratic
    /// in log2(shares) that maps 2→1, 1024→100, 262144→10000.
    Quadratic,
}

/// cpu.shares → cpu.weight.
pub fn shares_to_weight(shares: u64, formula: WeightFormula) -> u64 {
    if shares == 0 {
        return 0;
    }
    match formula {
        WeightFormula::Linear => {
            let s = shares.clamp(MIN_SHARES, MAX_SHARES);
            1 + ((s - 2) * 9999) / 262_142
        }
        WeightFormula::Quadratic => {
            if shares <= 2 {
                return 1;
            }
            if shares >= MAX_SHARES {
                return 10_000;
            }
            let l = (shares as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}

/// Values for one cgroup; `None` leaves the kernel default (unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupLimits {
    pub cpu_shares: Option<u64>,
    /// CFS quota in µs per [`QUOTA_PERIOD_US`].
    pub cpu_quota_us: Option<i64>,
    pub memory_limit_bytes: Option<i64>,
    pub pids_max: Option<i64>,
}

impl CgroupLimits {
    /// (file, value) pairs for cgroup v1 controllers, in write order.
    pub fn v1_files(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = self.cpu_shares {
            out.push(("cpu.shares", s.to_string()));
        }
        if let Some(q) = self.cpu_quota_us {
            out.push(("cpu.cfs_period_us", QUOTA_PERIOD_US.to_string()));
            out.push(("cpu.cfs_quota_us", q.to_string()));
        }
        if let Some(m) = self.memory_limit_bytes {
            out.push(("memory.limit_in_bytes", m.to_string()));
        }
        if let Some(p) = self.pids_max {
            out.push(("pids.max", p.to_string()));
        }
        out
    }

    /// (file, value) pairs for cgroup v2, in write order.
    pub fn v2_files(&self, formula: WeightFormula) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = self.cpu_shares {
            out.push(("cpu.weight", shares_to_weight(s, formula).to_string()));
        }
        if let Some(q) = self.cpu_quota_us {
            out.push(("cpu.max", format!("{q} {QUOTA_PERIOD_US}")));
        }
        if let Some(m) = self.memory_limit_bytes {
            out.push(("memory.max", m.to_string()));
        }
        if let Some(p) = self.pids_max {
            out.push(("pids.max", p.to_string()));
        }
        out
    }
}

/// One cgroup of the plan: its path under the node's cgroup root, its values
/// and the `oom_score_adj` of the processes put in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupNode {
    pub path: Vec<String>,
    pub limits: CgroupLimits,
    pub oom_score_adj: Option<i32>,
}

/// Everything the node writes for one Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupPlan {
    pub qos: QosClass,
    pub pod: CgroupNode,
    pub infra: CgroupNode,
    /// Init containers first, then containers, each with its name.
    pub containers: Vec<(String, CgroupNode)>,
}

/// What the plan needs to know about the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeCapacity {
    /// Memory capacity, for Burstable `oom_score_adj`.
    pub memory_bytes: i64,
    /// `--pod-max-pids` (None = unlimited, the kubelet's default -1).
    pub pod_pids_limit: Option<i64>,
}

/// The QoS tier cgroup of a class: `["kubepods"]`, `["kubepods","burstable"]`
/// or `["kubepods","besteffort"]`.
pub fn qos_tier_path(qos: QosClass) -> Vec<String> {
    let mut p = vec![KUBEPODS.to_string()];
    match qos {
        QosClass::Guaranteed => {}
        QosClass::Burstable => p.push("burstable".into()),
        QosClass::BestEffort => p.push("besteffort".into()),
    }
    p
}

/// The pod cgroup's name, `pod<UID>` (`GetPodContainerName`, cgroupfs).
pub fn pod_cgroup_name(uid: &str) -> String {
    format!("pod{uid}")
}

/// `ResourceConfigForPod`: the pod cgroup's values.
pub fn pod_limits(res: &PodResources, qos: QosClass, node: &NodeCapacity) -> CgroupLimits {
    let (cpu_req, _) = res.pod_requests();
    let (cpu_lim, mem_lim) = res.pod_limits();
    let (cpu_declared, mem_declared) = res.limits_declared();
    let mut out = CgroupLimits {
        pids_max: node.pod_pids_limit,
        ..CgroupLimits::default()
    };
    match qos {
        QosClass::Guaranteed => {
            out.cpu_shares = Some(milli_cpu_to_shares(cpu_req));
            out.cpu_quota_us = milli_cpu_to_quota(cpu_lim);
            out.memory_limit_bytes = Some(mem_lim);
        }
        QosClass::Burstable => {
            out.cpu_shares = Some(milli_cpu_to_shares(cpu_req));
            if cpu_declared {
                out.cpu_quota_us = milli_cpu_to_quota(cpu_lim);
            }
            if mem_declared {
                out.memory_limit_bytes = Some(mem_lim);
            }
        }
        QosClass::BestEffort => out.cpu_shares = Some(MIN_SHARES),
    }
    out
}

/// `calculateLinuxResources`: a container cgroup's values. Shares from the
/// request (or the limit when only a limit is set), quota from the limit,
/// memory limit when non-zero.
pub fn container_limits(c: &ContainerResources) -> CgroupLimits {
    let cpu_req = c.cpu_request_milli.unwrap_or(0);
    let cpu_lim = c.cpu_limit_milli.unwrap_or(0);
    let shares_from = if cpu_req == 0 && cpu_lim != 0 {
        cpu_lim
    } else {
        cpu_req
    };
    CgroupLimits {
        cpu_shares: Some(milli_cpu_to_shares(shares_from)),
        cpu_quota_us: milli_cpu_to_quota(cpu_lim),
        memory_limit_bytes: c.memory_limit_bytes.filter(|m| *m != 0),
        pids_max: None,
    }
}

/// The whole plan for a Pod with UID `uid`. The UID and the container
/// names become path segments: they are checked again here (UUID-like,
/// DNS-1123 labels) so no Pod can name a cgroup outside its own.
pub fn plan(uid: &str, res: &PodResources, node: &NodeCapacity) -> Result<CgroupPlan, String> {
    use crate::manifest::names;
    names::uid(uid).map_err(|e| format!("pod UID {}: {e}", crate::manifest::quote(uid)))?;
    for c in res.init_containers.iter().chain(&res.containers) {
        names::dns1123_label(&c.name)
            .map_err(|e| format!("container name {}: {e}", crate::manifest::quote(&c.name)))?;
    }
    let qos = res.qos_class();
    let mut pod_path = qos_tier_path(qos);
    pod_path.push(pod_cgroup_name(uid));
    let child = |name: &str| {
        let mut p = pod_path.clone();
        p.push(name.to_string());
        p
    };
    let containers = res
        .init_containers
        .iter()
        .chain(&res.containers)
        .map(|c| {
            let node_for = CgroupNode {
                path: child(&c.name),
                limits: container_limits(c),
                oom_score_adj: Some(oom_score_adj(
                    qos,
                    c.memory_request_bytes.unwrap_or(0),
                    node.memory_bytes,
                )),
            };
            (c.name.clone(), node_for)
        })
        .collect();
    Ok(CgroupPlan {
        qos,
        pod: CgroupNode {
            path: pod_path.clone(),
            limits: pod_limits(res, qos, node),
            oom_score_adj: None,
        },
        // containerd gives the sandbox container cpu.shares 2
        // (`defaultSandboxCPUshares`) and oom_score_adj -998.
        infra: CgroupNode {
            path: child(INFRA_CGROUP),
            limits: CgroupLimits {
                cpu_shares: Some(MIN_SHARES),
                ..CgroupLimits::default()
            },
            oom_score_adj: Some(INFRA_OOM_SCORE_ADJ),
        },
        containers,
    })
}

/// The QoS tier cgroups' own values (`qos_container_manager_linux.go`
/// `setCPUCgroupConfig`): besteffort gets cpu.shares 2, burstable the shares
/// of the summed CPU requests of all Burstable Pods on the node.
pub fn tier_limits(pods: &[&PodResources]) -> [(QosClass, CgroupLimits); 2] {
    let burstable_milli = pods
        .iter()
        .filter(|p| p.qos_class() == QosClass::Burstable)
        .fold(0i64, |a, p| a.saturating_add(p.pod_requests().0));
    let shares = |s| CgroupLimits {
        cpu_shares: Some(s),
        ..CgroupLimits::default()
    };
    [
        (
            QosClass::Burstable,
            shares(milli_cpu_to_shares(burstable_milli)),
        ),
        (QosClass::BestEffort, shares(MIN_SHARES)),
    ]
}
