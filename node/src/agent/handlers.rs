//! What a probe or a lifecycle hook does, decided when the container
//! starts (`exec` in the container; `tcpSocket`/`httpGet` from the node to
//! the Pod's IP, as the kubelet's prober and hook runner do), and running
//! it on a worker thread.

use super::state::SharedContainer;
use crate::runtime::{NetCheck, Runtime};
use k8s_openapi::api::core::v1::{
    Container, HTTPGetAction, LifecycleHandler, Probe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::net::IpAddr;
use std::time::Duration;

/// Output a hook or probe gives in an event, at most.
const MAX_OUTPUT: usize = 1024;

/// A probe's or hook's action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// A command in the container; exit 0 is success.
    Exec(Vec<String>),
    /// A connection from the node's network namespace; `Err`: why it
    /// cannot be made (the Pod has no IP), reported as the failure.
    Net(Result<NetCheck, String>),
}

/// `probe.ResolveContainerPort`: a number, or the named port of `c`.
fn port(p: &IntOrString, c: &Container) -> Result<u16, String> {
    match p {
        IntOrString::Int(n) => {
            u16::try_from(*n).map_err(|_| format!("port {n} is not between 1 and 65535"))
        }
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .and_then(|cp| u16::try_from(cp.container_port).ok())
            .ok_or_else(|| format!("container {:?} has no port named {name:?}", c.name)),
    }
}

/// `host`, else the Pod's IP.
fn host(given: Option<&String>, pod_ip: Option<IpAddr>) -> Result<String, String> {
    match (given.filter(|h| !h.is_empty()), pod_ip) {
        (Some(h), _) => Ok(h.clone()),
        (None, Some(ip)) => Ok(ip.to_string()),
        (None, None) => Err("the Pod has no IP (loopback only), and no `host` is given".into()),
    }
}

fn tcp(t: &TCPSocketAction, c: &Container, pod_ip: Option<IpAddr>) -> Result<NetCheck, String> {
    Ok(NetCheck::Tcp {
        host: host(t.host.as_ref(), pod_ip)?,
        port: port(&t.port, c)?,
    })
}

fn http(h: &HTTPGetAction, c: &Container, pod_ip: Option<IpAddr>) -> Result<NetCheck, String> {
    Ok(NetCheck::Http {
        host: host(h.host.as_ref(), pod_ip)?,
        port: port(&h.port, c)?,
        path: h.path.clone().unwrap_or_else(|| "/".into()),
        headers: h
            .http_headers
            .iter()
            .flatten()
            .map(|x| (x.name.clone(), x.value.clone()))
            .collect(),
    })
}

/// The handler of a probe of container `c`.
pub fn of_probe(p: &Probe, c: &Container, pod_ip: Option<IpAddr>) -> Option<Handler> {
    if let Some(e) = &p.exec {
        return Some(Handler::Exec(e.command.clone().unwrap_or_default()));
    }
    if let Some(t) = &p.tcp_socket {
        return Some(Handler::Net(tcp(t, c, pod_ip)));
    }
    p.http_get
        .as_ref()
        .map(|h| Handler::Net(http(h, c, pod_ip)))
}

/// The handler of a lifecycle hook of container `c`.
pub fn of_hook(h: &LifecycleHandler, c: &Container, pod_ip: Option<IpAddr>) -> Option<Handler> {
    if let Some(e) = &h.exec {
        return Some(Handler::Exec(e.command.clone().unwrap_or_default()));
    }
    h.http_get
        .as_ref()
        .map(|g| Handler::Net(http(g, c, pod_ip)))
}

fn bounded(out: &[u8]) -> String {
    let s = String::from_utf8_lossy(&out[..out.len().min(MAX_OUTPUT)]);
    s.trim_end().to_string()
}

/// An exec hook or probe: Ok on exit 0, else the output that says why.
pub fn run_exec(
    handle: &SharedContainer,
    argv: &[String],
    timeout: Duration,
) -> Result<(), String> {
    let c = handle.lock().unwrap_or_else(|p| p.into_inner());
    match c.exec_sync(argv, timeout) {
        Ok((0, _, _)) => Ok(()),
        Ok((code, out, err)) => {
            let text = if out.is_empty() {
                bounded(&err)
            } else {
                bounded(&out)
            };
            Err(if text.is_empty() {
                format!("command {argv:?} exited with {code}")
            } else {
                text
            })
        }
        Err(e) => Err(format!("command {argv:?}: {e}")),
    }
}

/// Whether a result counts: a probe needs success (TCP accepted, HTTP
/// 200–399); a hook's GET any answer (the kubelet's hook runner only fails
/// on a transport error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Probe,
    Hook,
}

/// Runs `h` within `timeout`; Err holds what the event says.
pub fn run(
    runtime: &dyn Runtime,
    handle: &SharedContainer,
    h: &Handler,
    timeout: Duration,
    use_: Use,
) -> Result<(), String> {
    match h {
        Handler::Exec(argv) => run_exec(handle, argv, timeout),
        Handler::Net(Err(why)) => Err(why.clone()),
        Handler::Net(Ok(check)) => {
            let o = runtime.net_check(check, timeout);
            let ok = match use_ {
                Use::Probe => o.success,
                Use::Hook => o.success || o.status.is_some(),
            };
            if ok {
                Ok(())
            } else {
                Err(o.message)
            }
        }
    }
}
