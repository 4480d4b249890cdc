//! Reading a network namespace for the pane: the engine runs the tools
//! inside it, [`super::parse`] makes the view.

use super::parse;
use super::NetView;
use kubelab_sandbox::observe::nettools::{self, NetnsTarget};

/// The pane's view of `target`; `Err` when the namespace itself is gone.
pub fn read(target: &NetnsTarget) -> Result<NetView, String> {
    if let Err(e) = std::fs::File::open(&target.net) {
        return Err(format!("{}: {e}", target.net.display()));
    }
    let raw = nettools::net_raw(target);
    let s = |r: &Result<String, nettools::ToolError>| match r {
        Ok(s) => Ok(s.clone()),
        Err(e) => Err(e.to_string()),
    };
    let (ip, fdb, nft, ct) = (s(&raw.ip), s(&raw.fdb), s(&raw.nft), s(&raw.conntrack));
    // iptables-nft's view only when `iptables` made tables in the ruleset.
    let ipt = match &nft {
        Ok(n) if parse::nft(n).1 => Some(s(&nettools::iptables_save(target))),
        _ => None,
    };
    Ok(parse::view(
        r(&ip),
        r(&fdb),
        r(&nft),
        ipt.as_ref().map(r),
        r(&ct),
    ))
}

fn r(x: &Result<String, String>) -> Result<&str, &str> {
    match x {
        Ok(s) => Ok(s),
        Err(e) => Err(e),
    }
}
