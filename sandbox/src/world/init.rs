//! The world's init: PID 1 of the world's PID namespace, root of its user
//! namespace, living in the underlay network namespace. It starts a holder
//! per node, wires them to the underlay's bridge with `ip`, reports, then
//! reaps until its keeper goes away.

use crate::net::ip;
use crate::ns::holder;
use crate::sys;
use crate::world_spec::WorldSpec;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::fs;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Init's answer to the keeper.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum InitReport {
    /// Each node holder's PID in the world's PID namespace, in node order.
    Ready(Vec<i32>),
    Failed(String),
}

/// Runs in the child the keeper cloned; returns its exit code.
pub(crate) fn init_main(spec: &WorldSpec, go: OwnedFd, report: OwnedFd, lifeline: OwnedFd) -> i32 {
    // Dies with the keeper; the lifeline covers a keeper that died before
    // this was armed.
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    let _ = sys::prctl(
        libc::PR_SET_NAME,
        c"kubelab-world-i".as_ptr() as libc::c_ulong,
    );
    // The keeper's stdout is `up`'s pipe: nothing here may hold it open.
    if let Ok(null) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            let _ = sys::dup2_stdio(null.as_fd(), fd);
        }
    }
    let mut b = [0u8; 1];
    if !matches!(sys::read_fd(go.as_fd(), &mut b), Ok(1)) {
        return 1; // the keeper went away before writing our id maps
    }
    drop(go);
    let r = match build(spec) {
        Ok(pids) => InitReport::Ready(pids),
        Err(e) => InitReport::Failed(e),
    };
    let failed = matches!(r, InitReport::Failed(_));
    if let Ok(j) = serde_json::to_string(&r) {
        let _ = sys::write_fd(report.as_raw_fd(), j.as_bytes());
    }
    drop(report);
    if failed {
        return 1;
    }
    reap_until_eof(lifeline)
}

/// The underlay's bridge with the gateway address, and one veth pair per
/// node: `veth-NAME` on the bridge, `eth0` in the node with its address and
/// a default route via the gateway.
fn build(spec: &WorldSpec) -> Result<Vec<i32>, String> {
    sys::loopback_up().map_err(|e| format!("underlay: lo up: {e}"))?;
    // `world exec underlay` shows where it is.
    sys::sethostname(super::UNDERLAY).map_err(|e| format!("underlay: sethostname: {e}"))?;
    let prefix = spec.underlay.prefix;
    let gw = spec.gateway();
    let mut under = String::new();
    let _ = writeln!(under, "link add {} type bridge", super::BRIDGE);
    let _ = writeln!(under, "addr add {gw}/{prefix} dev {}", super::BRIDGE);
    let _ = writeln!(under, "link set {} up", super::BRIDGE);
    let mut holders = Vec::new();
    for n in &spec.nodes {
        let h = holder::spawn(
            libc::CLONE_NEWNET | libc::CLONE_NEWUTS | libc::CLONE_NEWNS,
            Some(n.name.as_str()),
        )
        .map_err(|e| format!("node {}: {e}", n.name))?;
        let _ = writeln!(
            under,
            "link add veth-{} type veth peer name eth0 netns {}",
            n.name, h.pid
        );
        let _ = writeln!(under, "link set veth-{} master {}", n.name, super::BRIDGE);
        let _ = writeln!(under, "link set veth-{} up", n.name);
        holders.push(h);
    }
    ip::batch(&under, None).map_err(|e| format!("underlay: {e}"))?;
    for (n, h) in spec.nodes.iter().zip(&holders) {
        let netns = h
            .netns
            .as_ref()
            .ok_or_else(|| format!("node {}: no network namespace", n.name))?;
        let script = format!(
            "addr add {}/{prefix} dev eth0\nlink set eth0 up\nroute add default via {gw}\n",
            n.address
        );
        ip::batch(&script, Some(netns.as_fd())).map_err(|e| format!("node {}: {e}", n.name))?;
    }
    Ok(holders.iter().map(|h| h.pid).collect())
}

/// PID 1's loop: reap every child (holders, and the processes `world exec`
/// left here when their parent went), until the keeper's lifeline closes.
fn reap_until_eof(lifeline: OwnedFd) -> i32 {
    let Ok(set) = sys::block_signals(&[libc::SIGCHLD]) else {
        return 1;
    };
    let Ok(sfd) = sys::signalfd(&set) else {
        return 1;
    };
    sys::trim_heap();
    loop {
        while let Ok((p, _)) = sys::waitpid(-1, libc::WNOHANG) {
            if p == 0 {
                break;
            }
        }
        let Ok(ready) = sys::poll_read(&[sfd.as_fd(), lifeline.as_fd()], -1) else {
            continue;
        };
        if ready.get(1) == Some(&true) {
            let mut b = [0u8; 1];
            if matches!(sys::read_fd(lifeline.as_fd(), &mut b), Ok(0) | Err(_)) {
                return 0;
            }
        }
        if ready.first() == Some(&true) {
            let _ = sys::read_signals(sfd.as_fd());
        }
    }
}
