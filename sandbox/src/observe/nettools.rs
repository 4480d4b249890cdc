//! The network pane's raw material: what the real Debian tools (`ip`,
//! `bridge`, `nft`, `conntrack`, `iptables-save`) print when run inside a
//! network namespace, the way a learner would run them there.
//!
//! Why the tools and not a netlink library: they are what the lessons teach
//! (a learner can type the same command and compare), and their JSON covers
//! VXLAN, bridges, FDB and nftables counters that /proc does not. Each run
//! is bounded in time and output; the caller parses the text as hostile.

use crate::net::ip::TOOL_PATH;
use crate::sys;
use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Most bytes read from one tool (a conntrack table of a busy node is cut).
pub const MAX_OUTPUT: usize = 1 << 20;
/// Longest a tool may run before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A network namespace to observe: the abstract data source of the network
/// pane (a sandbox's process, a world node, or a bind-mounted netns file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetnsTarget {
    /// The namespace file, e.g. `/proc/123/ns/net` or `/run/netns/a`.
    pub net: PathBuf,
    /// The user namespace owning it, when it is not ours (rootless: joined
    /// first, for the capabilities over the network namespace).
    pub user: Option<PathBuf>,
}

impl NetnsTarget {
    /// The network namespace of process `pid` (of a child of it when PID 1
    /// of a sandbox hides its links from a rootless caller).
    ///
    /// Root does not join the sandbox's user namespace: it has the
    /// capabilities over every network namespace already, and a tool whose
    /// credentials belonged to the sandbox's user namespace could be traced
    /// by the sandbox's root while it runs as host uid 0. Rootless, the
    /// user namespace is the caller's own: joining it grants nothing the
    /// sandbox does not have.
    pub fn of_pid(pid: u32) -> NetnsTarget {
        let member = crate::ns::enter::readable_member(pid as i32);
        let user = format!("/proc/{member}/ns/user");
        let ino = |p: &str| fs::metadata(p).ok().map(|m| m.ino());
        let theirs = ino(&user);
        let own_user =
            crate::sys::geteuid() != 0 && theirs.is_some() && theirs != ino("/proc/self/ns/user");
        NetnsTarget {
            net: PathBuf::from(format!("/proc/{member}/ns/net")),
            user: own_user.then(|| PathBuf::from(user)),
        }
    }

    /// A namespace file given by path, in our user namespace (or the one
    /// at `user`).
    pub fn at(net: impl Into<PathBuf>, user: Option<PathBuf>) -> NetnsTarget {
        NetnsTarget {
            net: net.into(),
            user,
        }
    }
}

/// Why a tool gave no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// Not installed: the Debian package that has it.
    Missing { tool: String, package: String },
    /// It ran and failed (its message, cut), or could not start.
    Failed(String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Missing { tool, package } => {
                write!(f, "`{tool}` is not installed (apt install {package})")
            }
            ToolError::Failed(e) => f.write_str(e),
        }
    }
}

/// The Debian package of each tool the pane runs.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "ip" | "bridge" => "iproute2",
        "nft" => "nftables",
        "conntrack" => "conntrack",
        "iptables-save" | "ip6tables-save" => "iptables",
        _ => "?",
    }
}

/// `tool` on PATH or in the usual sbin directories.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(TOOL_PATH.split(':'))
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Runs `tool args…` inside `target` with `stdin`, returning its standard
/// output (at most [`MAX_OUTPUT`] bytes, lossy UTF-8), killed after
/// [`TIMEOUT`].
pub fn run_in(
    target: &NetnsTarget,
    tool: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, ToolError> {
    let path = find_tool(tool).ok_or_else(|| ToolError::Missing {
        tool: tool.into(),
        package: package_of(tool).into(),
    })?;
    let open = |p: &Path| {
        fs::File::open(p)
            .map(OwnedFd::from)
            .map_err(|e| ToolError::Failed(format!("open {}: {e}", p.display())))
    };
    // Opened here, while /proc is read as the caller; joined in the child.
    let user = target.user.as_deref().map(open).transpose()?;
    let net = open(&target.net)?;
    let (user_raw, net_raw) = (user.as_ref().map(|f| f.as_raw_fd()), net.as_raw_fd());
    let mut cmd = Command::new(&path);
    cmd.args(args)
        .env("PATH", TOOL_PATH)
        .env("LC_ALL", "C")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own: a timeout ends what it started too (they
        // would hold the output pipe open).
        .process_group(0);
    // SAFETY: the closure only calls setns(2), async-signal-safe, on
    // descriptors kept open (`user`, `net`) until the child has started.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(u) = user_raw {
                sys::setns(BorrowedFd::borrow_raw(u), libc::CLONE_NEWUSER)?;
            }
            sys::setns(BorrowedFd::borrow_raw(net_raw), libc::CLONE_NEWNET)
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| ToolError::Failed(format!("run {tool}: {e}")))?;
    drop((user, net));
    if let (Some(mut w), Some(s)) = (child.stdin.take(), stdin) {
        use std::io::Write;
        let _ = w.write_all(s.as_bytes());
    }
    let bounded = |r: Option<Box<dyn Read + Send>>, max: usize| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(r) = r {
                let _ = r.take(max as u64).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = bounded(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        MAX_OUTPUT,
    );
    let err = bounded(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        4096,
    );
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    match status {
        None => Err(ToolError::Failed(format!(
            "{tool} took longer than {}s",
            TIMEOUT.as_secs()
        ))),
        // Cut at the bound, the tool dies writing more (SIGPIPE): keep
        // what was read.
        Some(s) if s.success() || out.len() == MAX_OUTPUT => {
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        Some(s) => {
            let msg = String::from_utf8_lossy(&err);
            let msg: String = msg.trim().chars().take(200).collect();
            Err(ToolError::Failed(format!("{tool} failed ({s}): {msg}")))
        }
    }
}

/// What the tools print about one network namespace, unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRaw {
    /// `ip -j -s -d -batch -` of `link show`, `address show`,
    /// `route show table all`, `neigh show`: four JSON arrays in a row.
    pub ip: Result<String, ToolError>,
    /// `bridge -j fdb show`.
    pub fdb: Result<String, ToolError>,
    /// `nft -j list ruleset`.
    pub nft: Result<String, ToolError>,
    /// `conntrack -L -o extended`.
    pub conntrack: Result<String, ToolError>,
}

/// The `ip -batch` script whose four JSON arrays [`NetRaw::ip`] holds.
pub const IP_SCRIPT: &str = "link show\naddress show\nroute show table all\nneigh show\n";

/// Reads everything the network pane shows about `target`.
pub fn net_raw(target: &NetnsTarget) -> NetRaw {
    NetRaw {
        ip: run_in(
            target,
            "ip",
            &["-j", "-s", "-d", "-batch", "-"],
            Some(IP_SCRIPT),
        ),
        fdb: run_in(target, "bridge", &["-j", "fdb", "show"], None),
        nft: run_in(target, "nft", &["-j", "list", "ruleset"], None),
        conntrack: run_in(target, "conntrack", &["-L", "-o", "extended"], None),
    }
}

/// `iptables-save -c` inside `target`: iptables-nft's view of the rules,
/// for when the nftables ruleset has tables `iptables` made.
pub fn iptables_save(target: &NetnsTarget) -> Result<String, ToolError> {
    run_in(target, "iptables-save", &["-c"], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Option<NetnsTarget> {
        if crate::sys::geteuid() != 0 {
            println!("SKIP: joining a network namespace (even our own) needs root");
            return None;
        }
        Some(NetnsTarget::at("/proc/self/ns/net", None))
    }

    #[test]
    fn a_missing_tool_names_its_package_and_a_gone_namespace_says_so() {
        let t = NetnsTarget::at("/proc/self/ns/net", None);
        let e = run_in(&t, "kubelab-no-such-tool", &[], None).unwrap_err();
        assert!(matches!(e, ToolError::Missing { .. }), "{e}");
        assert_eq!(package_of("nft"), "nftables");
        assert_eq!(package_of("conntrack"), "conntrack");
        assert_eq!(package_of("bridge"), "iproute2");
        let gone = NetnsTarget::at("/proc/0/ns/net", None);
        let e = run_in(&gone, "sh", &["-c", "true"], None).unwrap_err();
        assert!(e.to_string().contains("/proc/0/ns/net"), "{e}");
    }

    #[test]
    fn output_is_bounded_and_a_hung_tool_is_killed() {
        let Some(t) = ours() else { return };
        let out = run_in(&t, "sh", &["-c", "head -c 3000000 /dev/zero"], None).unwrap();
        assert_eq!(out.len(), MAX_OUTPUT);
        let start = Instant::now();
        let e = run_in(&t, "sh", &["-c", "sleep 30"], None).unwrap_err();
        assert!(e.to_string().contains("took longer"), "{e}");
        assert!(start.elapsed() < TIMEOUT + Duration::from_secs(3));
        let e = run_in(&t, "sh", &["-c", "echo nope >&2; exit 3"], None).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let out = run_in(&t, "cat", &[], Some("in")).unwrap();
        assert_eq!(out, "in");
    }
}
