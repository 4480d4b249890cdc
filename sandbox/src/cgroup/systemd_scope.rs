//! Rootless cgroup v2 limits on systemd hosts: a transient scope with
//! `Delegate=yes` from the user's own systemd manager, as rootless podman and
//! crun get one (`StartTransientUnit` on the user bus).
//!
//! An ordinary user's terminal sits in `session-N.scope`, owned by root and
//! not delegated, so kubelab may create no cgroup there. The user's manager
//! (`user@UID.service`) is delegated the controllers, and hands a scope of
//! its own to whoever asks with `Delegate=yes`; everything below that scope
//! is then ours to create, limit and remove.
//!
//! Which process goes into the scope: the kubelab process itself (the
//! caller of [`crate::Sandbox::spawn`]), once, lazily at its first sandbox
//! that wants a cgroup. It is the cheapest choice: no extra process, every
//! supervisor it starts afterwards inherits the cgroup, and the scope lives
//! exactly as long as kubelab and its sandboxes. systemd stops the scope
//! and removes its cgroup when the last of them exits (a scope cannot
//! outlive its processes); kubelab removes its own `kubelab/<id>` cgroups as
//! it does everywhere. Layout:
//!
//! ```text
//! user@UID.service/app.slice/kubelab-<pid>-<n>.scope/   (Delegate=yes, ours)
//!     caller/           the kubelab process (a leaf: v2 allows no
//!                       processes beside enabled controllers)
//!     kubelab/<id>/     limits, as on the other paths ([`crate::cgroup`])
//! ```
//!
//! The D-Bus conversation runs in a short-lived exec'd helper
//! ([`SCOPE_ARG`]), never in the caller: zbus's blocking API runs its own
//! executor threads, and the caller may be a single-threaded program that
//! forks its supervisors (see `spawn::fork_ok`). The helper is bounded by
//! `alarm(2)`, so a hung bus costs at most [`TIMEOUT_SECS`].

use super::hierarchy::{dir_in, hierarchies, proc_cgroup};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use zbus::zvariant::{OwnedObjectPath, Value};

/// argv[1] of the helper that talks to the user's systemd manager.
pub const SCOPE_ARG: &str = "__systemd-scope";
/// The caller's leaf inside its scope.
pub const CALLER_LEAF: &str = "caller";
/// The whole D-Bus exchange (connect, start, wait for the job) must finish
/// within this many seconds.
pub const TIMEOUT_SECS: u32 = 10;

const DEST: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// The user bus: `$DBUS_SESSION_BUS_ADDRESS`, else the socket systemd's
/// user manager (dbus-user-session, dbus-broker) keeps at
/// `$XDG_RUNTIME_DIR/bus`, else `/run/user/<uid>/bus` (a `su`/`sudo -u`
/// shell has no XDG_RUNTIME_DIR but may still have a user manager).
pub fn user_bus_address(
    env_addr: Option<&str>,
    runtime_dir: Option<&str>,
    uid: u32,
    is_socket: impl Fn(&Path) -> bool,
) -> Result<String, String> {
    if let Some(a) = env_addr.filter(|a| !a.is_empty()) {
        return Ok(a.to_string());
    }
    let mut tried = Vec::new();
    let fallback = format!("/run/user/{uid}");
    for dir in runtime_dir
        .filter(|d| !d.is_empty())
        .into_iter()
        .chain([fallback.as_str()])
    {
        let bus = Path::new(dir).join("bus");
        if is_socket(&bus) {
            return Ok(format!("unix:path={}", bus.display()));
        }
        tried.push(bus.display().to_string());
    }
    tried.dedup();
    Err(format!(
        "no user D-Bus (DBUS_SESSION_BUS_ADDRESS is unset and there is no socket at {}): \
         your systemd user manager is not running for this login",
        tried.join(" or ")
    ))
}

fn is_socket(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false)
}

/// `kubelab-<pid>-<n>.scope`: unique per process and attempt.
pub fn unit_name(pid: u32, n: u32) -> String {
    format!("kubelab-{pid}-{n}.scope")
}

/// The body of `StartTransientUnit(s name, s mode, a(sv) properties,
/// a(sa(sv)) aux)`: `pid` in a delegated scope, mode `fail` (never replace
/// a job already queued for that name).
#[allow(clippy::type_complexity)]
pub fn start_body(
    unit: &str,
    pid: u32,
) -> (
    &str,
    &'static str,
    Vec<(&'static str, Value<'static>)>,
    Vec<(&'static str, Vec<(&'static str, Value<'static>)>)>,
) {
    let props = vec![
        (
            "Description",
            Value::from(format!("kubelab sandboxes of process {pid}")),
        ),
        ("PIDs", Value::from(vec![pid])),
        ("Delegate", Value::from(true)),
    ];
    (unit, "fail", props, Vec::new())
}

/// The outcome of our job, if `msg` is the `JobRemoved(u id, o job, s unit,
/// s result)` signal for `job`: `done` is success, anything else (`failed`,
/// `timeout`, `canceled`, `dependency`, `skipped`) is not.
pub fn job_outcome(job: &str, msg: &zbus::Message) -> Option<Result<(), String>> {
    let h = msg.header();
    if h.member().map(|m| m.as_str()) != Some("JobRemoved")
        || h.interface().map(|i| i.as_str()) != Some(MANAGER)
    {
        return None;
    }
    let (_, path, unit, result): (u32, OwnedObjectPath, String, String) =
        msg.body().deserialize().ok()?;
    if path.as_str() != job {
        return None;
    }
    Some(if result == "done" {
        Ok(())
    } else {
        Err(format!(
            "systemd's job for {} ended with `{}`",
            bounded(&unit),
            bounded(&result)
        ))
    })
}

/// Bounded and printable: D-Bus strings end up in a learner's terminal.
fn bounded(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Asks the user's manager for `unit` holding `pid`, and waits for its job.
fn start_scope(unit: &str, pid: u32) -> Result<(), String> {
    let addr = user_bus_address(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().as_deref(),
        std::env::var("XDG_RUNTIME_DIR").ok().as_deref(),
        crate::sys::geteuid(),
        is_socket,
    )?;
    let conn = zbus::blocking::connection::Builder::address(addr.as_str())
        .and_then(|b| b.build())
        .map_err(|e| format!("cannot connect to the user D-Bus at {addr}: {e}"))?;
    // Subscribed before the call, so the job's end cannot slip past.
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .sender(DEST)
        .and_then(|b| b.interface(MANAGER))
        .and_then(|b| b.member("JobRemoved"))
        .map_err(|e| e.to_string())?
        .build();
    let signals = zbus::blocking::MessageIterator::for_match_rule(rule, &conn, Some(64))
        .map_err(|e| format!("cannot subscribe to systemd's JobRemoved signal: {e}"))?;
    let reply = conn
        .call_method(
            Some(DEST),
            PATH,
            Some(MANAGER),
            "StartTransientUnit",
            &start_body(unit, pid),
        )
        .map_err(|e| {
            format!(
                "the user's systemd manager refused a delegated scope: {}",
                bounded(&e.to_string())
            )
        })?;
    let job: OwnedObjectPath = reply
        .body()
        .deserialize()
        .map_err(|e| format!("StartTransientUnit answered without a job path: {e}"))?;
    for msg in signals {
        let msg = msg.map_err(|e| format!("reading the user D-Bus: {e}"))?;
        if let Some(outcome) = job_outcome(job.as_str(), &msg) {
            return outcome;
        }
    }
    Err("the user D-Bus closed before systemd reported the scope's job".into())
}

/// The helper process: `<exe> __systemd-scope <pid> <unit>`. Prints `ok` or
/// the reason on stdout; exits 0 on success.
pub fn helper_main() -> i32 {
    // SAFETY: alarm only arms a timer; SIGALRM's default action ends this
    // short-lived process, which bounds a hung bus.
    unsafe { libc::alarm(TIMEOUT_SECS) };
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(pid), Some(unit)) = (args.first().and_then(|p| p.parse().ok()), args.get(1)) else {
        println!("usage: {SCOPE_ARG} <pid> <unit>");
        return 2;
    };
    match start_scope(unit, pid) {
        Ok(()) => {
            println!("ok");
            0
        }
        Err(e) => {
            println!("{e}");
            1
        }
    }
}

/// This process's scope, once made (or why none could be).
static SCOPE: Mutex<Option<Result<PathBuf, String>>> = Mutex::new(None);
static ATTEMPT: Mutex<u32> = Mutex::new(0);

/// The delegated scope this process sits in, made on first use by running
/// `helper` (an executable that calls [`crate::dispatch`]) and moving this
/// process into its `caller` leaf. A failure is remembered: later sandboxes
/// do not wait for the bus again.
pub fn ensure(helper: &Path) -> Result<PathBuf, String> {
    let mut slot = SCOPE.lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(Ok(scope)) if own_v2_cgroup().as_deref() == Some(&scope.join(CALLER_LEAF)) => {
            return Ok(scope.clone())
        }
        Some(Err(e)) => return Err(e.clone()),
        // None, or moved out of the scope since (then a new one).
        _ => {}
    }
    let r = make(helper);
    *slot = Some(r.clone());
    r
}

/// The scope made by [`ensure`] in this process, if any (no bus traffic).
pub fn current() -> Option<Result<PathBuf, String>> {
    SCOPE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn own_v2_cgroup() -> Option<PathBuf> {
    let h = hierarchies().into_iter().find(|h| h.version == 2)?;
    dir_in(&h, &proc_cgroup("self").ok()?)
}

fn make(helper: &Path) -> Result<PathBuf, String> {
    let pid = std::process::id();
    let n = {
        let mut a = ATTEMPT.lock().unwrap_or_else(|e| e.into_inner());
        *a += 1;
        *a
    };
    let unit = unit_name(pid, n);
    let mut child = Command::new(helper)
        .arg(SCOPE_ARG)
        .arg(pid.to_string())
        .arg(&unit)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", helper.display()))?;
    let mut said = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = out.take(4096).read_to_string(&mut said);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {}: {e}", helper.display()))?;
    let said = bounded(said.trim());
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        return Err(if status.signal() == Some(libc::SIGALRM) {
            format!("the user's systemd manager did not set up {unit} within {TIMEOUT_SECS}s")
        } else if said.is_empty() {
            format!(
                "{} {SCOPE_ARG} failed ({status}); does its main() call kubelab_sandbox::dispatch()?",
                helper.display()
            )
        } else {
            said
        });
    }
    // systemd moved us into the scope; we go one level down, into a leaf,
    // so the scope itself can enable controllers for its children.
    let here = own_v2_cgroup().ok_or("this process has no cgroup v2 path")?;
    if here.file_name().and_then(|n| n.to_str()) != Some(unit.as_str()) {
        return Err(format!(
            "systemd started {unit}, but this process is in {}, not in it",
            here.display()
        ));
    }
    let leaf = here.join(CALLER_LEAF);
    std::fs::create_dir(&leaf).map_err(|e| format!("mkdir {}: {e}", leaf.display()))?;
    // "0": the writing process, all its threads.
    std::fs::write(leaf.join("cgroup.procs"), "0")
        .map_err(|e| format!("cannot move into {}: {e}", leaf.display()))?;
    Ok(here)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_address_prefers_the_environment_then_the_runtime_dir() {
        let none = |_: &Path| false;
        assert_eq!(
            user_bus_address(Some("unix:path=/x/bus"), Some("/run/user/7"), 7, none).unwrap(),
            "unix:path=/x/bus"
        );
        let only = |p: &Path| p == Path::new("/r/bus");
        assert_eq!(
            user_bus_address(None, Some("/r"), 7, only).unwrap(),
            "unix:path=/r/bus"
        );
        // An empty variable counts as unset; /run/user/<uid> is the last try.
        let run = |p: &Path| p == Path::new("/run/user/7/bus");
        assert_eq!(
            user_bus_address(Some(""), Some(""), 7, run).unwrap(),
            "unix:path=/run/user/7/bus"
        );
        let e = user_bus_address(None, Some("/r"), 7, none).unwrap_err();
        assert!(
            e.contains("/r/bus or /run/user/7/bus") && e.contains("no user D-Bus"),
            "{e}"
        );
    }

    #[test]
    fn start_transient_unit_message_has_systemds_signature() {
        let msg = zbus::Message::method_call(PATH, "StartTransientUnit")
            .and_then(|b| b.destination(DEST))
            .and_then(|b| b.interface(MANAGER))
            .and_then(|b| b.build(&start_body("kubelab-42-1.scope", 42)))
            .unwrap();
        let body = msg.body();
        assert_eq!(body.signature().to_string(), "(ssa(sv)a(sa(sv)))");
        #[allow(clippy::type_complexity)]
        let (name, mode, props, aux): (
            String,
            String,
            Vec<(String, zbus::zvariant::OwnedValue)>,
            Vec<(String, Vec<(String, zbus::zvariant::OwnedValue)>)>,
        ) = body.deserialize().unwrap();
        assert_eq!(
            (name.as_str(), mode.as_str()),
            ("kubelab-42-1.scope", "fail")
        );
        assert!(aux.is_empty());
        let prop = |k: &str| {
            props
                .iter()
                .find(|(n, _)| n == k)
                .unwrap_or_else(|| panic!("no {k} in {props:?}"))
                .1
                .clone()
        };
        assert_eq!(Vec::<u32>::try_from(prop("PIDs")).unwrap(), vec![42]);
        assert!(bool::try_from(prop("Delegate")).unwrap());
        assert_eq!(unit_name(42, 1), "kubelab-42-1.scope");
    }

    fn job_removed(job: &str, result: &str) -> zbus::Message {
        zbus::Message::signal(PATH, MANAGER, "JobRemoved")
            .and_then(|b| {
                b.build(&(
                    7u32,
                    zbus::zvariant::ObjectPath::try_from(job).unwrap(),
                    "kubelab-42-1.scope",
                    result,
                ))
            })
            .unwrap()
    }

    #[test]
    fn only_our_jobs_end_counts_and_only_done_is_success() {
        let ours = "/org/freedesktop/systemd1/job/7";
        assert_eq!(job_outcome(ours, &job_removed(ours, "done")), Some(Ok(())));
        let e = job_outcome(ours, &job_removed(ours, "failed"))
            .unwrap()
            .unwrap_err();
        assert!(
            e.contains("kubelab-42-1.scope") && e.contains("`failed`"),
            "{e}"
        );
        assert_eq!(
            job_outcome(
                ours,
                &job_removed("/org/freedesktop/systemd1/job/8", "done")
            ),
            None
        );
        // Another signal of the manager is not a job's end.
        let other = zbus::Message::signal(PATH, MANAGER, "UnitNew")
            .and_then(|b| {
                b.build(&(
                    "x.scope",
                    zbus::zvariant::ObjectPath::try_from(ours).unwrap(),
                ))
            })
            .unwrap();
        assert_eq!(job_outcome(ours, &other), None);
    }

    #[test]
    fn strings_from_the_bus_are_bounded_and_printable() {
        let s = bounded(&format!("a\x1b[2Jb{}", "x".repeat(500)));
        assert!(s.starts_with("a?[2Jb") && s.chars().count() == 200, "{s}");
    }
}
