//! The process that holds a node's network namespace, and the caller's
//! handle on it.
//!
//! The holder is this executable re-run in a helper mode: it unshares a
//! network namespace (rootless: a user namespace owning it first, mapping
//! the caller's uid and gid to 0), brings its `lo` up, says `ready` and
//! then only reads its stdin. The handle keeps the other end of that pipe:
//! when the handle is dropped, or the caller dies in any way (`kill -9`
//! included), the kernel closes it, the holder reads EOF and exits, and the
//! namespace goes with every link in it (a bridge, the node-side veths;
//! their peers in Pod namespaces go with them). No signal from the parent
//! is relied on: `PR_SET_PDEATHSIG` fires when the *thread* that started
//! the child ends, which in a multi-threaded caller is too early.
//!
//! The holder runs in its own process group, so a Ctrl-C meant for the
//! caller does not end the namespace before the caller has torn its Pods
//! down (CNI DEL needs it).

use super::check::{CheckOutcome, NetCheck};
use super::{CHECK_ARG, ENTER_ARG, HOLDER_ARG};
use crate::sys;
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Flag of the holder mode: make a user namespace too.
const USERNS_FLAG: &str = "--userns";
/// What the holder prints once the namespace is ready.
const READY: &str = "ready";
/// Most bytes of a check helper's answer read.
const MAX_CHECK_OUTPUT: u64 = 16 * 1024;

/// How a node's network namespace is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNetnsOptions {
    /// The executable re-run as the holder and the enter helpers (it must
    /// call [`crate::dispatch`] first).
    pub helper_exe: PathBuf,
    /// Also a user namespace owning the network namespace (the caller's
    /// uid and gid mapped to 0): what an unprivileged caller needs to
    /// administer it. Root may skip it.
    pub user_namespace: bool,
}

/// A node's own network namespace, alive while this handle is.
#[derive(Debug)]
pub struct NodeNetns {
    /// The holder we started; `None` for a namespace joined
    /// ([`NodeNetns::join`]), whose holder is somebody else's.
    child: Option<Child>,
    pid: u32,
    /// A joined namespace's inode: helpers check they enter that one.
    netns_ino: Option<u64>,
    /// The holder's stdin: closing it ends the holder.
    lifeline: Option<ChildStdin>,
    helper_exe: PathBuf,
    user_namespace: bool,
}

impl NodeNetns {
    /// Starts the holder and waits until its namespace is ready.
    pub fn start(opts: &NodeNetnsOptions) -> io::Result<NodeNetns> {
        let mut cmd = Command::new(&opts.helper_exe);
        cmd.arg(HOLDER_ARG);
        if opts.user_namespace {
            cmd.arg(USERNS_FLAG);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir("/")
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "start the network namespace holder {}: {e}",
                    opts.helper_exe.display()
                ),
            )
        })?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            // The holder prints one short line; bounded in case it is not
            // the program we think.
            let _ = BufReader::new(out.take(64)).read_line(&mut line);
        }
        let lifeline = child.stdin.take();
        let mut netns = NodeNetns {
            pid: child.id(),
            netns_ino: None,
            child: Some(child),
            lifeline,
            helper_exe: opts.helper_exe.clone(),
            user_namespace: opts.user_namespace,
        };
        if line.trim_end() != READY {
            let mut err = String::new();
            if let Some(e) = netns.child.as_mut().and_then(|c| c.stderr.take()) {
                let _ = e.take(4096).read_to_string(&mut err);
            }
            drop(netns);
            return Err(io::Error::other(format!(
                "the network namespace holder failed: {}",
                clean(if err.trim().is_empty() {
                    "it exited without a word"
                } else {
                    err.trim()
                })
            )));
        }
        // Nothing more is read from it; its stderr must not fill a pipe.
        if let Some(c) = netns.child.as_mut() {
            c.stderr.take();
        }
        Ok(netns)
    }

    /// The network namespace of a process somebody else keeps alive (a lab
    /// world's node holder, host PID `pid`), used as [`NodeNetns::start`]'s:
    /// plugins, probes and forwarders enter it. `user_namespace`: the
    /// namespace belongs to a user namespace of ours (the world's) that
    /// rootless Pods' user namespaces are made in
    /// ([`NodeNetns::userns_path`]). Dropping the handle leaves it alone;
    /// its owner ends it.
    pub fn join(pid: u32, helper_exe: PathBuf, user_namespace: bool) -> io::Result<NodeNetns> {
        use std::os::unix::fs::MetadataExt;
        let path = format!("/proc/{pid}/ns/net");
        let md = std::fs::metadata(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{path}: {e} (is the node's namespace holder running?)"),
            )
        })?;
        Ok(NodeNetns {
            child: None,
            pid,
            netns_ino: Some(md.ino()),
            lifeline: None,
            helper_exe,
            user_namespace,
        })
    }

    /// The holder's host PID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How helpers name the namespace: the PID, and for a joined one its
    /// inode too, so that none enters another process's namespace should
    /// the holder be gone and its PID reused.
    fn target(&self) -> String {
        match self.netns_ino {
            Some(ino) => format!("{}:{ino}", self.pid),
            None => self.pid.to_string(),
        }
    }

    /// Whether the namespace still exists: a joined one ends with its
    /// owner (a lab world), whoever holds this handle.
    pub fn is_alive(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match self.netns_ino {
            Some(ino) => std::fs::metadata(format!("/proc/{}/ns/net", self.pid))
                .is_ok_and(|m| m.ino() == ino),
            None => true,
        }
    }

    /// `/proc/<holder>/ns/net`.
    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.pid()))
    }

    /// `/proc/<holder>/ns/user` when the holder made one.
    pub fn userns_path(&self) -> Option<PathBuf> {
        self.user_namespace
            .then(|| PathBuf::from(format!("/proc/{}/ns/user", self.pid())))
    }

    /// A command prefix that runs a program inside the node's namespaces:
    /// `<helper> __kubelab-netns-enter <pid> --` (for the CNI launcher).
    pub fn enter_prefix(&self) -> Vec<OsString> {
        vec![
            self.helper_exe.clone().into_os_string(),
            ENTER_ARG.into(),
            self.target().into(),
            "--".into(),
        ]
    }

    /// `program` to be run inside the node's namespaces.
    pub fn command(&self, program: impl Into<OsString>) -> Command {
        let prefix = self.enter_prefix();
        let mut cmd = Command::new(&prefix[0]);
        cmd.args(&prefix[1..]).arg(program.into());
        cmd
    }

    /// Runs `check` from inside the node's namespaces (a short-lived helper
    /// joins them: a multi-threaded caller cannot). The helper is killed if
    /// it overruns `timeout` by more than a second.
    pub fn check(&self, check: &NetCheck, timeout: Duration) -> CheckOutcome {
        let fail = |message: String| CheckOutcome {
            success: false,
            message,
            status: None,
        };
        let spec = match serde_json::to_string(check) {
            Ok(s) => s,
            Err(e) => return fail(format!("encode the check: {e}")),
        };
        let mut child = match Command::new(&self.helper_exe)
            .arg(CHECK_ARG)
            .arg(self.target())
            .arg(timeout.as_millis().to_string())
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return fail(format!("start the check helper: {e}")),
        };
        let reader = child.stdout.take().map(|out| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = out.take(MAX_CHECK_OUTPUT).read_to_string(&mut text);
                text
            })
        });
        let deadline = Instant::now() + timeout + Duration::from_secs(1);
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return fail(format!("wait for the check helper: {e}")),
            }
        }
        let text = reader.and_then(|t| t.join().ok()).unwrap_or_default();
        serde_json::from_str(text.trim()).unwrap_or_else(|_| {
            fail(format!(
                "the check did not finish within {timeout:?} (its helper was stopped)"
            ))
        })
    }
}

impl Drop for NodeNetns {
    fn drop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return; // joined: its owner ends it
        };
        // EOF on its stdin ends the holder; kill it if it lingers.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(1024)
        .collect()
}

/// The holder process (argv: `HOLDER_ARG [--userns]`); returns its exit
/// code. Single-threaded: it runs straight from [`crate::dispatch`].
pub(crate) fn holder_main() -> i32 {
    let userns = std::env::args().nth(2).as_deref() == Some(USERNS_FLAG);
    match make(userns) {
        Ok(()) => {
            println!("{READY}");
            // Block until the caller closes the pipe (or dies).
            let mut buf = [0u8; 64];
            let mut stdin = io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => return 0,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return 0,
                }
            }
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn make(userns: bool) -> io::Result<()> {
    let ctx =
        |what: &'static str| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    if userns {
        let (uid, gid) = (sys::geteuid(), sys::getgid());
        sys::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET)
            .map_err(ctx("new user and network namespaces"))?;
        // An unprivileged process may map its own ids, once setgroups is off.
        std::fs::write("/proc/self/setgroups", "deny").map_err(ctx("/proc/self/setgroups"))?;
        std::fs::write("/proc/self/uid_map", format!("0 {uid} 1"))
            .map_err(ctx("/proc/self/uid_map"))?;
        std::fs::write("/proc/self/gid_map", format!("0 {gid} 1"))
            .map_err(ctx("/proc/self/gid_map"))?;
    } else {
        sys::unshare(libc::CLONE_NEWNET).map_err(ctx("new network namespace"))?;
    }
    sys::loopback_up().map_err(ctx("bring lo up"))
}
