//! The helper modes that work inside a holder's namespaces: exec a program
//! there (`ENTER_ARG <pid> -- PROGRAM ARGS…`, how CNI plugins are run), or
//! run one network check there and print its outcome as JSON
//! (`CHECK_ARG <pid> <timeout ms> <check JSON>`). Both run straight from
//! [`crate::dispatch`], single-threaded, as `setns` into a user namespace
//! requires.

use super::check::{self, CheckOutcome, NetCheck};
use crate::sys;
use std::fs;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

/// Exit code for a helper that could not enter or was called wrongly.
const EXIT_USAGE: i32 = 125;

fn ns_ino(pid: &str, ns: &str) -> io::Result<u64> {
    fs::metadata(format!("/proc/{pid}/ns/{ns}")).map(|m| m.ino())
}

/// Joins the user namespace of holder `pid` (if it is not ours) and then
/// its network namespace. Both are opened before the first `setns`, while
/// /proc is still read as the caller.
///
/// Host root never joins a user namespace: it holds every capability over
/// the namespaces of its descendants already (a lab world's node belongs
/// to the world's user namespace), and a root node's Pods have user
/// namespaces of the host's (root's id-mapped sandboxes), which a plugin
/// inside the world's could not configure.
///
/// `target` is a PID, or `PID:INODE` for a namespace that is somebody
/// else's ([`super::NodeNetns::join`]): the network namespace opened must
/// be that one (checked on the open descriptor, so a PID reused since is
/// refused, never entered), else the error is [`io::ErrorKind::NotFound`].
pub(crate) fn join(target: &str) -> io::Result<()> {
    let (pid, want_ino) = match target.split_once(':') {
        Some((p, ino)) => (
            p,
            Some(ino.parse::<u64>().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{target:?} is not PID:INODE"),
                )
            })?),
        ),
        None => (target, None),
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{pid:?} is not a process id"),
        ));
    }
    let open = |ns: &str| -> io::Result<OwnedFd> {
        fs::File::open(format!("/proc/{pid}/ns/{ns}"))
            .map(OwnedFd::from)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "open /proc/{pid}/ns/{ns}: {e} (is the node's namespace holder running?)"
                    ),
                )
            })
    };
    let user = if sys::geteuid() != 0 && ns_ino(pid, "user")? != ns_ino("self", "user")? {
        Some(open("user")?)
    } else {
        None
    };
    let net = open("net")?;
    if let Some(want) = want_ino {
        let got = fs::File::from(net.try_clone()?).metadata()?.ino();
        if got != want {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the node's network namespace is gone (process {pid} is another's now)"),
            ));
        }
    }
    if let Some(user) = &user {
        sys::setns(user.as_fd(), libc::CLONE_NEWUSER).map_err(|e| {
            io::Error::new(e.kind(), format!("join the node's user namespace: {e}"))
        })?;
    }
    sys::setns(net.as_fd(), libc::CLONE_NEWNET)
        .map_err(|e| io::Error::new(e.kind(), format!("join the node's network namespace: {e}")))
}

/// `ENTER_ARG <pid> -- PROGRAM ARGS…`: joins, then execs PROGRAM with this
/// process's environment and standard streams.
pub(crate) fn enter_main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(2).collect();
    let (pid, rest) = match args.as_slice() {
        [pid, sep, program, rest @ ..] if sep == "--" => (pid, (program, rest)),
        _ => {
            eprintln!("usage: {} <pid> -- PROGRAM [ARGS…]", super::ENTER_ARG);
            return EXIT_USAGE;
        }
    };
    if let Err(e) = join(&pid.to_string_lossy()) {
        eprintln!("kubelab: {e}");
        return EXIT_USAGE;
    }
    let e = std::process::Command::new(rest.0).args(rest.1).exec();
    eprintln!("kubelab: exec {}: {e}", rest.0.to_string_lossy());
    if e.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    }
}

/// `CHECK_ARG <pid> <timeout ms> <check JSON>`: joins, runs the check,
/// prints its [`CheckOutcome`] as one JSON line.
pub(crate) fn check_main() -> i32 {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let outcome = match args.as_slice() {
        [pid, ms, spec] => match (ms.parse::<u64>(), serde_json::from_str::<NetCheck>(spec)) {
            (Ok(ms), Ok(c)) => match join(pid) {
                Ok(()) => check::run(&c, Duration::from_millis(ms)),
                Err(e) => CheckOutcome {
                    success: false,
                    message: e.to_string(),
                    status: None,
                },
            },
            _ => CheckOutcome {
                success: false,
                message: "bad check arguments".into(),
                status: None,
            },
        },
        _ => {
            eprintln!(
                "usage: {} <pid> <timeout ms> <check JSON>",
                super::CHECK_ARG
            );
            return EXIT_USAGE;
        }
    };
    match serde_json::to_string(&outcome) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(_) => EXIT_USAGE,
    }
}

#[cfg(test)]
mod tests {
    use super::join;
    use std::io::ErrorKind;

    #[test]
    fn a_namespace_that_is_not_the_one_named_is_never_entered() {
        // Our own PID with an inode that is not our network namespace's:
        // what a holder's PID reused by another process looks like.
        let me = std::process::id();
        let e = join(&format!("{me}:1")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert!(e.to_string().contains("is gone"), "{e}");
        for bad in ["", "x", "12:", "12:x", ":5", "-1"] {
            assert_eq!(
                join(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
    }
}
