//! What a node of a world may do on this kernel and host: each network
//! feature the chapters use, tried for real in a node of a one-node world
//! (a network namespace owned by the world's user namespace), as the
//! calling user. `kubelab doctor` prints them; docs/worlds.md tabulates
//! them for root and rootless.

use super::{down, up, UpOptions};
use crate::error::Error;
use crate::world_spec::WorldSpec;
use std::path::Path;

/// How one feature fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Works,
    Fails,
    /// The command-line tool that drives it is not installed.
    NoTool,
}

/// One feature tried in a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// `world: vxlan`, …
    pub name: &'static str,
    pub outcome: Outcome,
    /// The tool's first line of complaint, the tool that is missing, or
    /// what worked.
    pub detail: String,
    /// The Debian package of the tool.
    pub package: &'static str,
}

/// (name, tool, Debian package, shell commands that exercise the feature).
const PROBES: &[(&str, &str, &str, &str)] = &[
    ("world: veth", "ip", "iproute2", "ip link add kl-v0 type veth peer name kl-v1"),
    ("world: bridge", "ip", "iproute2", "ip link add kl-br0 type bridge"),
    (
        "world: vxlan",
        "ip",
        "iproute2",
        "ip link add kl-vx0 type vxlan id 42 dstport 4789 dev eth0",
    ),
    ("world: dummy", "ip", "iproute2", "ip link add kl-d0 type dummy"),
    (
        "world: ipip",
        "ip",
        "iproute2",
        "ip link add kl-ipip0 type ipip remote 192.0.2.1",
    ),
    (
        "world: macvlan",
        "ip",
        "iproute2",
        "ip link add kl-mv0 link eth0 type macvlan mode bridge",
    ),
    ("world: tun", "ip", "iproute2", "ip tuntap add mode tun kl-tun0"),
    (
        "world: nftables",
        "nft",
        "nftables",
        "nft add table inet kl && nft 'add chain inet kl out { type nat hook output priority -100; }' \
         && nft add rule inet kl out ip daddr 10.96.0.1 tcp dport 80 dnat ip to 10.244.1.2:80",
    ),
    (
        "world: iptables",
        "iptables",
        "iptables",
        "iptables -t nat -N KL-SVC && iptables -t nat -A OUTPUT -d 10.96.0.1/32 -p tcp \
         --dport 80 -j KL-SVC && iptables -t nat -A KL-SVC -p tcp -m statistic --mode random \
         --probability 0.5 -j DNAT --to-destination 10.244.1.2:80 && iptables -V",
    ),
    (
        "world: iptables-legacy",
        "iptables-legacy",
        "iptables",
        "iptables-legacy -t nat -N KL-SVC && iptables-legacy -t nat -A OUTPUT -d 10.96.0.1/32 \
         -p tcp --dport 80 -j KL-SVC && iptables-legacy -t nat -A KL-SVC -p tcp -m statistic \
         --mode random --probability 0.5 -j DNAT --to-destination 10.244.1.2:80",
    ),
    ("world: ipvs", "ipvsadm", "ipvsadm", "ipvsadm -A -t 10.96.0.1:80 -s rr"),
    ("world: conntrack", "conntrack", "conntrack", "conntrack -L"),
    (
        "world: ip_forward",
        "sysctl",
        "procps",
        "sysctl -w net.ipv4.ip_forward=1 && test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 1",
    ),
];

/// The probe as one shell script: a line `INDEX|CODE|FIRST LINE` per
/// feature (`CODE` is `notool` when the tool is missing).
fn script() -> String {
    let mut s = String::new();
    for (i, (_, tool, _, cmds)) in PROBES.iter().enumerate() {
        s.push_str(&format!(
            "if ! command -v {tool} >/dev/null 2>&1; then echo '{i}|notool|'; else \
             out=$( {{ {cmds}; }} 2>&1 ); rc=$?; \
             echo \"{i}|$rc|$(printf '%s' \"$out\" | tr '\\n' ' ' | cut -c1-200)\"; fi\n"
        ));
    }
    s
}

/// Brings up a one-node world in a directory of its own under `scratch`,
/// tries every feature in its node and takes it down again.
pub fn probe(helper_exe: &Path, scratch: &Path) -> Result<Vec<Fact>, Error> {
    let spec: WorldSpec = serde_json::from_str(r#"{"nodes":[{"name":"probe"}]}"#)
        .map_err(|e| Error::new("world", e.to_string()))?;
    let dir = scratch.join(format!("probe-{}", crate::sys::getpid()));
    let opts = UpOptions {
        name: "doctor-probe".into(),
        source: "kubelab doctor".into(),
        dir: dir.clone(),
        helper_exe: helper_exe.to_path_buf(),
        agents: Vec::new(),
    };
    let st = up(&spec, &opts)?;
    let argv = ["/bin/sh".to_string(), "-c".to_string(), script()];
    let out = super::exec_command(&st, "probe", &argv, helper_exe).and_then(|mut c| {
        c.stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Error::new("world", format!("run the probe: {e}")))
    });
    let stopped = down(&dir);
    let _ = std::fs::remove_file(dir.join("lock"));
    let _ = std::fs::remove_dir(&dir);
    stopped?;
    let out = out?;
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

fn parse(out: &str) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (i, (name, tool, package, _)) in PROBES.iter().enumerate() {
        let line = out
            .lines()
            .find(|l| l.split('|').next() == Some(i.to_string().as_str()));
        let mut parts = line.unwrap_or("").splitn(3, '|').skip(1);
        let (code, msg) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("").trim(),
        );
        let (outcome, detail) = match code {
            "0" => (Outcome::Works, format!("works in a world's node ({tool})")),
            "notool" => (Outcome::NoTool, format!("`{tool}` is not installed")),
            "" => (Outcome::Fails, "the probe did not report".to_string()),
            _ => (Outcome::Fails, msg.to_string()),
        };
        let detail = if *name == "world: iptables" && outcome == Outcome::Works {
            let backend = if msg.contains("nf_tables") {
                "nf_tables"
            } else {
                "legacy"
            };
            format!("works in a world's node (iptables, {backend} backend)")
        } else {
            detail
        };
        facts.push(Fact {
            name,
            outcome,
            detail,
            package,
        });
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lines_become_facts() {
        // By name: the probes' order changes as features are added.
        let at = |n: &str| PROBES.iter().position(|p| p.0 == n).unwrap();
        let out = format!(
            "{}|0|\n{}|2|RTNETLINK answers: Operation not permitted\n{}|notool|\n{}|0|iptables v1.8.9 (nf_tables)\n",
            at("world: veth"),
            at("world: bridge"),
            at("world: ipvs"),
            at("world: iptables"),
        );
        let f = parse(&out);
        assert_eq!(f.len(), PROBES.len());
        let by = |n: &str| f.iter().find(|x| x.name == n).unwrap();
        assert_eq!(by("world: veth").outcome, Outcome::Works);
        assert_eq!(by("world: bridge").outcome, Outcome::Fails);
        assert!(by("world: bridge").detail.contains("not permitted"));
        let ipvs = by("world: ipvs");
        assert_eq!((ipvs.outcome, ipvs.package), (Outcome::NoTool, "ipvsadm"));
        assert!(by("world: iptables").detail.contains("nf_tables backend"));
        // A feature the probe never reported on is not "works".
        assert_eq!(by("world: vxlan").outcome, Outcome::Fails);
    }
}
