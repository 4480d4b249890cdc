//! The node's Services: what the API server (ClusterIP allocation,
//! validation against the other Services), the endpoints controller and
//! kube-proxy do for them, on one node.
//!
//! Services are kept with the node's Pods ([`super::State::services`]).
//! After every sync the loop computes each Service's Endpoints from the
//! Pods and, when they or the Services changed, hands the whole plan to
//! the runtime ([`crate::runtime::Runtime::sync_services`]), which rewrites
//! its nat chains and DNS records at once, as kube-proxy's
//! `syncProxyRules` does.

use super::{now_time, Node, State};
use crate::service::endpoints::{endpoints, plan};
use crate::service::manifest::ManifestService;
use crate::service::{ServicePlan, MAX_SERVICES};
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

/// How soon a failed sync of the data plane is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// What the data plane was last told.
#[derive(Default)]
pub(crate) struct DataPlane {
    applied: Option<ServicePlan>,
    failed: Option<(ServicePlan, Instant, String)>,
}

fn key(svc: &Service) -> (String, String) {
    (
        svc.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        svc.metadata.name.clone().unwrap_or_default(),
    )
}

fn not_found(name: &str) -> String {
    format!("services {name:?} not found")
}

fn cluster_ip(svc: &Service) -> Option<&str> {
    svc.spec.as_ref()?.cluster_ip.as_deref()
}

impl Node {
    /// Checks `svcs` against the node's Services and adds or updates them
    /// (under the caller's lock, after the Pods were checked).
    pub(crate) fn check_services(
        &self,
        st: &State,
        svcs: &mut [ManifestService],
        file: &Path,
    ) -> Result<(), String> {
        let cidr = self.inner.config.service_cidr;
        let mut problems = Vec::new();
        let mut used: BTreeSet<Ipv4Addr> = st
            .services
            .values()
            .filter_map(|s| cluster_ip(s)?.parse().ok())
            .collect();
        let mut new = 0;
        for ms in svcs.iter_mut() {
            let at = format!("{}:{}", file.display(), ms.line);
            let k = key(&ms.service);
            let old = st.services.get(&k);
            new += usize::from(old.is_none());
            let spec = ms.service.spec.get_or_insert_with(Default::default);
            let old_ip = old.and_then(cluster_ip);
            match (spec.cluster_ip.as_deref(), old_ip) {
                (None, Some(ip)) => spec.cluster_ip = Some(ip.to_string()),
                (Some(want), Some(had)) if want != had => problems.push(format!(
                    "{at}: The Service {:?} is invalid: spec.clusterIP: Invalid value: {want:?}: field is immutable (it is {had}); delete the Service first",
                    k.1
                )),
                (Some(_), Some(_)) | (Some("None"), None) => {}
                (Some(want), None) => {
                    let ip: Ipv4Addr = want.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
                    if let Some(why) = cidr.refuse(ip) {
                        problems.push(format!("{at}: The Service {:?} is invalid: spec.clusterIP: Invalid value: {want:?}: {why}", k.1));
                    } else if !used.insert(ip) {
                        problems.push(format!("{at}: The Service {:?} is invalid: spec.clusterIP: Invalid value: {want:?}: provided IP is already allocated; leave clusterIP out to get a free one", k.1));
                    }
                }
                (None, None) => match cidr.allocate(&used) {
                    Some(ip) => {
                        used.insert(ip);
                        spec.cluster_ip = Some(ip.to_string());
                    }
                    None => problems.push(format!(
                        "{at}: the service CIDR {cidr} is full; delete a Service or start the node with a larger --service-cidr"
                    )),
                },
            }
            if let Some(ip) = spec.cluster_ip.clone() {
                spec.cluster_ips = Some(vec![ip]);
            }
        }
        if st.services.len() + new > MAX_SERVICES {
            problems.push(format!(
                "{}: this node keeps at most {MAX_SERVICES} Services; delete some first",
                file.display()
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Stores checked Services; the lines `kubectl apply` prints.
    pub(crate) fn store_services(st: &mut State, svcs: Vec<ManifestService>) -> Vec<String> {
        let mut out = Vec::new();
        for ms in svcs {
            let mut svc = ms.service;
            let k = key(&svc);
            match st.services.get(&k) {
                Some(old) if old.spec == svc.spec && old.metadata.labels == svc.metadata.labels => {
                    out.push(format!("service/{} unchanged", k.1));
                    continue;
                }
                Some(old) => {
                    svc.metadata.creation_timestamp = old.metadata.creation_timestamp.clone();
                    svc.metadata.uid = old.metadata.uid.clone();
                    out.push(format!("service/{} configured", k.1));
                }
                None => {
                    svc.metadata.creation_timestamp = Some(now_time());
                    svc.metadata.uid = Some(super::random_uid());
                    out.push(format!("service/{} created", k.1));
                }
            }
            st.services.insert(k, svc);
        }
        out
    }

    /// `kubectl delete service NAME`.
    pub fn delete_service(&self, namespace: &str, name: &str) -> Result<String, String> {
        let mut st = self.lock();
        st.services
            .remove(&(namespace.to_string(), name.to_string()))
            .ok_or_else(|| not_found(name))?;
        drop(st);
        self.kick();
        Ok(format!("service \"{name}\" deleted"))
    }

    /// Every Service, by namespace and name.
    pub fn services(&self) -> Vec<Service> {
        self.lock().services.values().cloned().collect()
    }

    /// One Service.
    pub fn service(&self, namespace: &str, name: &str) -> Result<Service, String> {
        self.lock()
            .services
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    /// Every Service's Endpoints, as they are now.
    pub fn endpoints(&self) -> Vec<Endpoints> {
        self.services_with_endpoints()
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// Every Service with its Endpoints, by namespace and name.
    pub fn services_with_endpoints(&self) -> Vec<(Service, Endpoints)> {
        let st = self.lock();
        let pods: Vec<Pod> = st.pods.values().map(|p| p.pod.clone()).collect();
        st.services
            .values()
            .map(|s| (s.clone(), endpoints(s, &pods, &self.inner.config.name)))
            .collect()
    }

    /// After a sync: the data plane is told about a changed plan (outside
    /// the lock: iptables-restore takes a while).
    pub(crate) fn sync_services(&self) {
        let plan = {
            let st = self.lock();
            if st.services.is_empty() && st.dataplane.applied.is_none() {
                return;
            }
            let pods: Vec<Pod> = st.pods.values().map(|p| p.pod.clone()).collect();
            let pairs: Vec<(Service, Endpoints)> = st
                .services
                .values()
                .map(|s| (s.clone(), endpoints(s, &pods, &self.inner.config.name)))
                .collect();
            let plan = plan(&pairs);
            if st.dataplane.applied.as_ref() == Some(&plan) {
                return;
            }
            if let Some((p, at, _)) = &st.dataplane.failed {
                if *p == plan && at.elapsed() < RETRY {
                    return;
                }
            }
            plan
        };
        let result = self.inner.runtime.sync_services(&plan);
        let mut st = self.lock();
        match result {
            Ok(()) => {
                st.dataplane.applied = Some(plan);
                st.dataplane.failed = None;
            }
            Err(e) => {
                let said = st
                    .dataplane
                    .failed
                    .as_ref()
                    .is_some_and(|(_, _, before)| *before == e);
                if !said {
                    st.message(format!("services: {e}"));
                }
                st.dataplane.failed = Some((plan, Instant::now(), e));
            }
        }
    }
}
