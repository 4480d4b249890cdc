//! A Service's Endpoints, as the endpoints controller computes them: the
//! Pods of its namespace whose labels its selector matches and that have
//! an IP, `addresses` when Ready (readiness probes count) and
//! `notReadyAddresses` otherwise; each port's `targetPort` resolved per Pod
//! (a named one through the Pod's container ports: a Pod without that port
//! is no endpoint of that port). Terminating Pods are no endpoints.

use super::{Backend, PlanPort, PlanService, ServicePlan};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Whether `pod`'s labels match every entry of a non-empty `selector`.
pub fn selects(selector: Option<&BTreeMap<String, String>>, pod: &Pod) -> bool {
    let Some(sel) = selector.filter(|s| !s.is_empty()) else {
        return false;
    };
    let labels = pod.metadata.labels.as_ref();
    sel.iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The Pod's Ready condition.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_ip(pod: &Pod) -> Option<Ipv4Addr> {
    pod.status.as_ref()?.pod_ip.as_deref()?.parse().ok()
}

/// The Pod's port for `target` (a number as is; a name through its
/// containers' ports of that protocol).
fn resolve(pod: &Pod, target: &IntOrString, protocol: &str) -> Option<u16> {
    match target {
        IntOrString::Int(n) => u16::try_from(*n).ok().filter(|p| *p > 0),
        IntOrString::String(name) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| {
                p.name.as_deref() == Some(name)
                    && p.protocol.as_deref().unwrap_or("TCP") == protocol
            })
            .and_then(|p| u16::try_from(p.container_port).ok()),
    }
}

/// A Pod's resolved ports: (port name, port, protocol) per Service port.
type PortsKey = Vec<(String, u16, String)>;

/// The Endpoints object of `svc` among `pods` (any namespace; only its
/// own are considered).
pub fn endpoints(svc: &Service, pods: &[Pod], node_name: &str) -> Endpoints {
    let namespace = svc
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let spec = svc.spec.clone().unwrap_or_default();
    let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
    let ports = spec.ports.unwrap_or_default();
    // Pods with the same resolved ports share a subset, as the controller
    // groups them.
    let mut subsets: BTreeMap<PortsKey, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    for pod in pods {
        if pod.metadata.namespace.as_deref().unwrap_or("default") != namespace
            || pod.metadata.deletion_timestamp.is_some()
            || !selects(spec.selector.as_ref(), pod)
        {
            continue;
        }
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        let Some(ip) = pod_ip(pod) else { continue };
        let key: PortsKey = ports
            .iter()
            .filter_map(|p| {
                let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
                let target = p.target_port.clone().unwrap_or(IntOrString::Int(p.port));
                let port = resolve(pod, &target, &proto)?;
                Some((p.name.clone().unwrap_or_default(), port, proto))
            })
            .collect();
        if key.is_empty() && !ports.is_empty() {
            continue;
        }
        let addr = EndpointAddress {
            ip: ip.to_string(),
            node_name: Some(node_name.to_string()),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                namespace: Some(namespace.clone()),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let entry = subsets.entry(key).or_default();
        if publish_not_ready || pod_ready(pod) {
            entry.0.push(addr);
        } else {
            entry.1.push(addr);
        }
    }
    let by_ip = |a: &EndpointAddress| a.ip.parse::<Ipv4Addr>().ok();
    let subsets: Vec<EndpointSubset> = subsets
        .into_iter()
        .map(|(key, (mut ready, mut not_ready))| {
            ready.sort_by_key(by_ip);
            not_ready.sort_by_key(by_ip);
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!key.is_empty()).then(|| {
                    key.into_iter()
                        .map(|(name, port, protocol)| EndpointPort {
                            name: (!name.is_empty()).then_some(name),
                            port: i32::from(port),
                            protocol: Some(protocol),
                            ..Default::default()
                        })
                        .collect()
                }),
            }
        })
        .collect();
    Endpoints {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: Some(namespace),
            labels: svc.metadata.labels.clone(),
            ..Default::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    }
}

/// The data plane's view of Services and their Endpoints.
pub fn plan(services: &[(Service, Endpoints)]) -> ServicePlan {
    let mut out = Vec::new();
    for (svc, ep) in services {
        let spec = svc.spec.clone().unwrap_or_default();
        let cluster_ip = spec
            .cluster_ip
            .as_deref()
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok());
        let subsets = ep.subsets.as_deref().unwrap_or_default();
        let mut ready_ips: Vec<Ipv4Addr> = subsets
            .iter()
            .flat_map(|s| s.addresses.iter().flatten())
            .filter_map(|a| a.ip.parse().ok())
            .collect();
        ready_ips.sort();
        ready_ips.dedup();
        let ports = spec
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let name = p.name.unwrap_or_default();
                let protocol = p.protocol.unwrap_or_else(|| "TCP".into());
                let mut backends: Vec<Backend> = subsets
                    .iter()
                    .flat_map(|s| {
                        let port = s.ports.iter().flatten().find(|ep| {
                            ep.name.as_deref().unwrap_or_default() == name
                                && ep.protocol.as_deref() == Some(protocol.as_str())
                        });
                        s.addresses.iter().flatten().filter_map(move |a| {
                            Some(Backend {
                                ip: a.ip.parse().ok()?,
                                port: u16::try_from(port?.port).ok()?,
                            })
                        })
                    })
                    .collect();
                backends.sort();
                PlanPort {
                    name,
                    port: u16::try_from(p.port).unwrap_or(0),
                    protocol,
                    backends,
                }
            })
            .collect();
        out.push(PlanService {
            namespace: svc
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: svc.metadata.name.clone().unwrap_or_default(),
            cluster_ip,
            ports,
            ready_ips,
        });
    }
    ServicePlan { services: out }
}
