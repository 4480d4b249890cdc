//! QoS classes and the numbers the kubelet derives from requests/limits.
//!
//! Sources (kubernetes/kubernetes):
//! - QoS class: `pkg/apis/core/v1/helper/qos/qos.go` (`ComputePodQOS`);
//! - pod requests/limits: `component-helpers/resource/helpers.go`
//!   (`PodRequests`/`PodLimits`: sum of containers, at least the largest init
//!   container);
//! - `oom_score_adj`: `pkg/kubelet/qos/policy.go`
//!   (`GetContainerOOMScoreAdjust`).
//!
//! Requests default to limits (the API server's `SetDefaults_Pod`, repeated by
//! the kubelet in `calculateLinuxResources`): [`PodResources::from_pod`] does
//! it, so a Pod read straight from a manifest gets the same class as on a
//! cluster.

use crate::quantity::{Quantity, QuantityError};
use k8s_openapi::api::core::v1::{Container, Pod};
use std::collections::BTreeMap;

/// `v1.PodQOSClass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    /// The value of `status.qosClass`.
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }
}

/// One container's CPU and memory, after requests defaulted to limits.
/// `None` = not set; QoS treats a zero like an unset value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerResources {
    pub name: String,
    pub cpu_request_milli: Option<i64>,
    pub cpu_limit_milli: Option<i64>,
    pub memory_request_bytes: Option<i64>,
    pub memory_limit_bytes: Option<i64>,
}

/// The resources of a Pod's containers, in the kubelet's units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodResources {
    pub containers: Vec<ContainerResources>,
    pub init_containers: Vec<ContainerResources>,
}

/// A quantity in a Pod that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("container {container:?}, resources.{field}: {source}")]
pub struct ResourceError {
    pub container: String,
    pub field: String,
    #[source]
    pub source: QuantityError,
}

impl ContainerResources {
    pub fn from_container(c: &Container) -> Result<Self, ResourceError> {
        let res = c.resources.as_ref();
        let empty = BTreeMap::new();
        let requests = res.and_then(|r| r.requests.as_ref()).unwrap_or(&empty);
        let limits = res.and_then(|r| r.limits.as_ref()).unwrap_or(&empty);
        let get = |map: &BTreeMap<_, _>,
                   kind: &str,
                   key: &str|
         -> Result<Option<Quantity>, ResourceError> {
            map.get(key)
                .map(
                    |q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity| {
                        Quantity::parse(&q.0)
                    },
                )
                .transpose()
                .map_err(|source| ResourceError {
                    container: c.name.clone(),
                    field: format!("{kind}.{key}"),
                    source,
                })
        };
        let cpu_limit = get(limits, "limits", "cpu")?;
        let mem_limit = get(limits, "limits", "memory")?;
        // Requests default to limits, per resource (SetDefaults_Pod).
        let cpu_request = get(requests, "requests", "cpu")?.or(cpu_limit);
        let mem_request = get(requests, "requests", "memory")?.or(mem_limit);
        Ok(ContainerResources {
            name: c.name.clone(),
            cpu_request_milli: cpu_request.map(|q| q.milli_value()),
            cpu_limit_milli: cpu_limit.map(|q| q.milli_value()),
            memory_request_bytes: mem_request.map(|q| q.value()),
            memory_limit_bytes: mem_limit.map(|q| q.value()),
        })
    }
}

impl PodResources {
    pub fn from_pod(pod: &Pod) -> Result<Self, ResourceError> {
        let Some(spec) = pod.spec.as_ref() else {
            return Ok(PodResources::default());
        };
        let all = |cs: &[Container]| {
            cs.iter()
                .map(ContainerResources::from_container)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(PodResources {
            containers: all(&spec.containers)?,
            init_containers: all(spec.init_containers.as_deref().unwrap_or_default())?,
        })
    }

    /// `ComputePodQOS`: BestEffort without any positive request or limit;
    /// Guaranteed when every container (init containers too) has positive
    /// CPU and memory limits and the summed requests equal the summed limits;
    /// Burstable otherwise.
    pub fn qos_class(&self) -> QosClass {
        let mut req = [0i64; 2];
        let mut lim = [0i64; 2];
        let (mut any_req, mut any_lim) = ([false; 2], [false; 2]);
        let mut guaranteed = true;
        for c in self.containers.iter().chain(&self.init_containers) {
            let r = [c.cpu_request_milli, c.memory_request_bytes];
            let l = [c.cpu_limit_milli, c.memory_limit_bytes];
            for i in 0..2 {
                if let Some(v) = r[i].filter(|v| *v > 0) {
                    req[i] = req[i].saturating_add(v);
                    any_req[i] = true;
                }
                match l[i].filter(|v| *v > 0) {
                    Some(v) => {
                        lim[i] = lim[i].saturating_add(v);
                        any_lim[i] = true;
                    }
                    None => guaranteed = false,
                }
            }
        }
        if !any_req.iter().chain(&any_lim).any(|b| *b) {
            return QosClass::BestEffort;
        }
        // Every resource with a request has an equal limit, and the sets of
        // resources with requests and with limits are the same.
        let same = (0..2).all(|i| any_req[i] == any_lim[i] && (!any_req[i] || req[i] == lim[i]));
        if guaranteed && same {
            QosClass::Guaranteed
        } else {
            QosClass::Burstable
        }
    }

    /// `PodRequests` for CPU (milli) and memory (bytes): the sum over the
    /// containers, raised to the largest init container's request.
    pub fn pod_requests(&self) -> (i64, i64) {
        self.aggregate(|c| c.cpu_request_milli, |c| c.memory_request_bytes)
    }

    /// `PodLimits`, same rule; a container without a limit counts 0 (the
    /// caller decides with [`PodResources::limits_declared`] whether to apply).
    pub fn pod_limits(&self) -> (i64, i64) {
        self.aggregate(|c| c.cpu_limit_milli, |c| c.memory_limit_bytes)
    }

    /// Whether *every* container and init container has a non-zero CPU /
    /// memory limit: only then does the kubelet put a limit on the pod cgroup
    /// of a Burstable Pod (`ResourceConfigForPod`'s `cpuLimitsDeclared`,
    /// `memoryLimitsDeclared`).
    pub fn limits_declared(&self) -> (bool, bool) {
        let all = |f: fn(&ContainerResources) -> Option<i64>| {
            self.containers
                .iter()
                .chain(&self.init_containers)
                .all(|c| f(c).unwrap_or(0) != 0)
        };
        (all(|c| c.cpu_limit_milli), all(|c| c.memory_limit_bytes))
    }

    fn aggregate(
        &self,
        cpu: fn(&ContainerResources) -> Option<i64>,
        mem: fn(&ContainerResources) -> Option<i64>,
    ) -> (i64, i64) {
        let sum = |f: fn(&ContainerResources) -> Option<i64>| {
            self.containers
                .iter()
                .fold(0i64, |a, c| a.saturating_add(f(c).unwrap_or(0)))
        };
        let max_init = |f: fn(&ContainerResources) -> Option<i64>| {
            self.init_containers
                .iter()
                .map(|c| f(c).unwrap_or(0))
                .max()
                .unwrap_or(0)
        };
        (sum(cpu).max(max_init(cpu)), sum(mem).max(max_init(mem)))
    }
}

/// `guaranteedOOMScoreAdj` in policy.go.
pub const GUARANTEED_OOM_SCORE_ADJ: i32 = -997;
/// `besteffortOOMScoreAdj` in policy.go.
pub const BESTEFFORT_OOM_SCORE_ADJ: i32 = 1000;
/// The infra (pause) process: containerd's `defaultSandboxOOMAdj`
/// (`internal/cri/server/podsandbox`), the former kubelet `PodInfraOOMAdj`.
pub const INFRA_OOM_SCORE_ADJ: i32 = -998;

/// `GetContainerOOMScoreAdjust` for a container of a Pod of class `qos`:
/// Guaranteed -997, BestEffort 1000, Burstable
/// `1000 - 1000*memoryRequest/memoryCapacity` (integer division), raised to
/// 3 (`1000 + guaranteedOOMScoreAdj`) and 1000 lowered to 999 so that a
/// Burstable container always ranks between the two other classes.
/// (Node-critical Pods also get -997; kubelab has no priority classes.)
pub fn oom_score_adj(qos: QosClass, memory_request_bytes: i64, memory_capacity_bytes: i64) -> i32 {
    match qos {
        QosClass::Guaranteed => return GUARANTEED_OOM_SCORE_ADJ,
        QosClass::BestEffort => return BESTEFFORT_OOM_SCORE_ADJ,
        QosClass::Burstable => {}
    }
    let capacity = i128::from(memory_capacity_bytes.max(1));
    let adj = 1000 - (1000 * i128::from(memory_request_bytes.max(0))) / capacity;
    let floor = i128::from(1000 + GUARANTEED_OOM_SCORE_ADJ);
    if adj < floor {
        return floor as i32;
    }
    if adj == i128::from(BESTEFFORT_OOM_SCORE_ADJ) {
        return BESTEFFORT_OOM_SCORE_ADJ - 1;
    }
    adj as i32
}
