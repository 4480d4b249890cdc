//! The re-executed side of a sandbox: the supervisor and the sandbox's PID 1.
//!
//! ```text
//! caller (multi-threaded, e.g. tokio)
//!  └─ supervisor  `<exe> __sandbox-init`, single-threaded; owns the cgroup,
//!     │           joins the new user namespace, keeps a private mount namespace
//!     │           holding the staging tmpfs (overlay upper), watches the
//!     │           lifeline pipe: EOF = the caller died -> kill everything.
//!     └─ init     PID 1 of the new PID namespace: builds the rootfs, pivots,
//!        │        drops privileges, then reaps zombies and forwards signals.
//!        └─ payload (PID 2): the spec's command.
//! ```

use crate::cgroup::{self, Cgroup};
use crate::error::{Error, EXIT_CANNOT_EXEC, EXIT_NOT_FOUND, EXIT_SETUP_FAILED};
use crate::protocol::{InitConfig, Report, Slim, CONFIG_ENV, SUPERVISE_ARG};
use crate::runtime::{self, State};
use crate::spec::{Namespace, Spec};
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// Signals the supervisor and init pass on to the payload.
pub(crate) const FORWARDED: &[libc::c_int] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

pub(crate) fn read_config<T: serde::de::DeserializeOwned>() -> Result<T, String> {
    let raw = std::env::var(CONFIG_ENV).map_err(|_| format!("{CONFIG_ENV} is not set"))?;
    std::env::remove_var(CONFIG_ENV);
    serde_json::from_str(&raw).map_err(|e| format!("bad {CONFIG_ENV}: {e}"))
}

/// Entry point of `<exe> __sandbox-init`. Returns the process exit code.
pub fn supervisor_main() -> i32 {
    let cfg: InitConfig = match read_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab sandbox init: {e} (this mode is internal to kubelab)");
            return EXIT_SETUP_FAILED;
        }
    };
    supervisor_run(cfg)
}

/// The supervisor proper: exec'd by [`supervisor_main`], or forked directly by
/// a single-threaded caller (see `spawn::fork_supervisor`).
pub(crate) fn supervisor_run(cfg: InitConfig) -> i32 {
    crate::trace::set(cfg.trace);
    crate::trace::mark("supervisor: config read");
    let status = cfg.status_fd;
    // Our own session: terminal signals go to the caller, which forwards
    // them on purpose, instead of hitting every process twice.
    let _ = sys::setsid();
    let lifeline = match sys::adopt_fd(cfg.lifeline_fd) {
        Ok(f) => f,
        Err(e) => {
            Report::Failed(Error::new("spawn", format!("lifeline pipe: {e}"))).send(status);
            return EXIT_SETUP_FAILED;
        }
    };
    let _ = sys::set_cloexec(status, true);
    let mut st = State {
        id: cfg.id.clone(),
        supervisor_pid: sys::getpid(),
        // (Read when the state is first written: on v1 after the clone.)
        supervisor_start: 0,
        ..State::default()
    };
    // The cgroup is created inside run_supervisor (v1: after the clone);
    // whatever exists by the time it returns is removed below.
    let mut cg = None;
    let code = match run_supervisor(&cfg, &mut st, &mut cg, lifeline) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code;
            Report::Failed(e).send(status);
            code
        }
    };
    crate::trace::mark("supervisor: payload exited");
    clean_up(cg.as_ref(), &cfg.sandbox_dir);
    code
}

/// After PID 1 is gone: removes the cgroup, the staging tmpfs and the
/// runtime entry.
fn clean_up(cg: Option<&Cgroup>, sandbox_dir: &Path) {
    if let Some(cg) = cg {
        for p in cg.destroy() {
            eprintln!("kubelab: could not remove cgroup {p}");
        }
    }
    crate::trace::mark("supervisor: cgroup removed");
    let _ = sys::umount_detach(&sandbox_dir.join("fs"));
    crate::trace::mark("supervisor: staging unmounted");
    runtime::remove_entry(sandbox_dir);
    crate::trace::mark("supervisor: cleaned up");
}

/// How long a sandbox runs before a forked supervisor re-executes itself as
/// the small helper: short runs (a check, `kubelab run -- true`) never pay
/// for the exec, long ones give back their copy of the caller's memory.
pub(crate) const SLIM_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// Replaces this supervisor with `exe __sandbox-supervise`, handing over
/// PID 1 (still our child after exec), the lifeline and the cleanup duties.
/// Blocked and pending signals survive the exec and reach the new signalfd.
/// Returns only if the exec failed (then this process supervises on).
fn slim_down(exe: &Path, state: &Slim) -> std::io::Error {
    if let Err(e) = sys::set_cloexec(state.lifeline_fd, false) {
        return e;
    }
    let json = match serde_json::to_string(state) {
        Ok(j) => j,
        Err(e) => return std::io::Error::other(e),
    };
    crate::trace::mark("supervisor: re-exec as the small helper");
    let argv = ["kubelab-init".to_string(), SUPERVISE_ARG.to_string()];
    let e = sys::exec_keeping_signals(exe, &argv, &[(CONFIG_ENV.to_string(), json)]);
    let _ = sys::set_cloexec(state.lifeline_fd, true);
    e
}

/// Entry point of `<helper> __sandbox-supervise`: a slimmed supervisor.
pub fn slim_supervisor_main() -> i32 {
    let st: Slim = match read_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelab sandbox supervisor: {e} (this mode is internal to kubelab)");
            return EXIT_SETUP_FAILED;
        }
    };
    crate::trace::set(st.trace);
    crate::trace::mark("supervisor: running as the small helper");
    let _ = sys::prctl(libc::PR_SET_NAME, c"kubelab-init".as_ptr() as libc::c_ulong);
    let lifeline = sys::adopt_fd(st.lifeline_fd).ok();
    if let Some(l) = &lifeline {
        let _ = sys::set_cloexec(l.as_raw_fd(), true);
    }
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    let code = match sys::block_signals(&sigs).and_then(|set| sys::signalfd(&set)) {
        Ok(sfd) => supervise(st.child, &sfd, lifeline.as_ref()),
        Err(_) => {
            // Cannot watch signals: still wait, so the cleanup happens.
            let _ = sys::waitpid(st.child, 0);
            EXIT_SETUP_FAILED
        }
    };
    crate::trace::mark("supervisor: payload exited");
    clean_up(st.cgroup.as_ref(), &st.sandbox_dir);
    code
}

fn clone_flags(spec: &Spec) -> libc::c_int {
    let mut f = 0;
    for ns in &spec.namespaces {
        f |= match ns {
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Mount => libc::CLONE_NEWNS,
            // The user namespace is the supervisor's own; cgroup is unshared
            // by init once it sits in its cgroup; the network namespace is
            // made by the supervisor after the clone (see [`make_netns`]).
            Namespace::Net | Namespace::User | Namespace::Cgroup => 0,
        };
    }
    f
}

fn enter_userns(uid: u32, gid: u32) -> Result<(), Error> {
    sys::unshare(libc::CLONE_NEWUSER).map_err(|e| {
        Error::new(
            "namespaces.user",
            format!(
                "cannot create a user namespace: {e}; run `kubelab doctor` \
                 (user.max_user_namespaces, kernel.unprivileged_userns_clone, \
                 Ubuntu's kernel.apparmor_restrict_unprivileged_userns)"
            ),
        )
    })?;
    let w = |f: &str, v: String| {
        fs::write(format!("/proc/self/{f}"), v)
            .map_err(|e| Error::new("namespaces.user", format!("write /proc/self/{f}: {e}")))
    };
    w("setgroups", "deny".into())?;
    w("uid_map", format!("0 {uid} 1\n"))?;
    w("gid_map", format!("0 {gid} 1\n"))?;
    Ok(())
}

/// Writes the runtime state (the sweep's only record of a crashed
/// supervisor's cgroup), filling in our start time on first use.
fn save_state(st: &mut State, sandbox_dir: &Path) {
    if st.supervisor_start == 0 {
        st.supervisor_start = runtime::start_time(st.supervisor_pid).unwrap_or(0);
    }
    let _ = st.write(sandbox_dir);
}

/// Creates the sandbox cgroup from `plan`; on failure says why in `note`.
fn create_cgroup(
    cfg: &InitConfig,
    plan: &cgroup::Plan,
    slot: &mut Option<Cgroup>,
    note: &mut Option<String>,
) {
    match plan.create(&cfg.id, &cfg.spec.limits) {
        Ok(mut c) => {
            *note = cgroup::swap_note(&c, &cfg.spec.limits);
            // Hybrid: keep the cgroup2 part made before the clone.
            if let Some(pre) = slot.take() {
                c.created.extend(pre.created);
                c.unified = c.unified.or(pre.unified);
            }
            *slot = Some(c);
        }
        Err(why) => *note = Some(why),
    }
    crate::trace::mark("supervisor: cgroup created");
}

/// Kills and reaps PID 1 after a setup error of the supervisor's own.
fn abort_child(pid: libc::pid_t, e: Error) -> Error {
    let _ = sys::kill(pid, libc::SIGKILL);
    let _ = sys::waitpid(pid, 0);
    e
}

fn run_supervisor(
    cfg: &InitConfig,
    st: &mut State,
    cg_slot: &mut Option<Cgroup>,
    lifeline: OwnedFd,
) -> Result<i32, Error> {
    let want = cfg.want_cgroup || !cfg.spec.limits.is_empty();
    let mut note = (!want).then(|| "no cgroup requested".to_string());
    // Every hierarchy, freezer included even with a PID namespace: the
    // sandbox must sit in its own cgroup wherever it could mount cgroupfs
    // (see [`crate::cgroup_tree`]), and the freezer makes the kill race-free.
    // (Read before entering the user namespace: the plan keeps our real uid
    // for its error messages.)
    let mut plan = want.then(|| {
        cgroup::plan(cfg.cgroup_version, true)
            .with_v2_parent(cfg.cgroup_parent.clone(), cfg.cgroup_parent_note.clone())
    });
    // v1: the cgroup is created after the clone, while PID 1 builds its
    // rootfs (~0.6 ms off the critical path); PID 1 moves itself in before
    // the payload starts. v2 clones PID 1 straight into it, so it must exist
    // first.
    let after_clone = plan.as_ref().is_some_and(|p| p.version() == Some(1));
    let mut join = cgroup::Join::default();
    // Hybrid: the cgroup2 part now, PID 1 is cloned straight into it.
    if let Some(made) = plan
        .as_mut()
        .filter(|_| after_clone)
        .and_then(|p| p.create_unified(&cfg.id))
    {
        match made {
            Ok(c) => {
                if let Some(d) = &c.unified {
                    join.dir =
                        Some(fs::File::open(d).map_err(|e| Error::io("cgroup", d.display(), e))?);
                }
                st.cgroup = Some(c.clone());
                *cg_slot = Some(c);
                save_state(st, &cfg.sandbox_dir);
            }
            Err(why) => note = Some(why),
        }
    }
    if let Some(p) = plan.as_ref().filter(|_| !after_clone) {
        create_cgroup(cfg, p, cg_slot, &mut note);
        if let Some(c) = cg_slot.as_ref() {
            // Remember it before anything else can fail or be killed: the
            // sweep removes a crashed supervisor's cgroup from this state.
            st.cgroup = Some(c.clone());
            save_state(st, &cfg.sandbox_dir);
            join = cgroup::prepare_join(c, cfg.idmap.is_none())
                .map_err(|e| Error::new("cgroup", e.to_string()))?;
        }
    }
    // Rootless: the supervisor enters the user namespace itself (it may map
    // only its own uid). Root: it stays host root and PID 1 gets the user
    // namespace, with a full unprivileged range (see [`crate::idmap`]).
    if cfg.idmap.is_none() {
        enter_userns(cfg.uid, cfg.gid)?;
    }
    // A private mount namespace holding the staging tmpfs: the overlay upper
    // lives there, readable from the host via /proc/<supervisor>/root.
    let staging = cfg.sandbox_dir.join("fs");
    sys::unshare(libc::CLONE_NEWNS).map_err(|e| Error::new("namespaces.mount", e.to_string()))?;
    sys::mount(
        None,
        Path::new("/"),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .map_err(|e| Error::new("mount", e.to_string()))?;
    fs::create_dir_all(&staging).map_err(|e| Error::io("runtime", staging.display(), e))?;
    // Root: owned by the sandbox's root, who builds the overlay in it.
    let tmpfs_opts = match &cfg.idmap {
        Some(m) => format!("mode=755,uid={},gid={}", m.uid, m.gid),
        None => "mode=755".to_string(),
    };
    sys::mount(
        Some("tmpfs"),
        &staging,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&tmpfs_opts),
    )
    .map_err(|e| Error::new("rootfs", format!("staging tmpfs: {e}")))?;

    // "go" to PID 1 and, on v1, its answer: a socket pair, because the go
    // message carries the cgroup's `tasks` descriptors (SCM_RIGHTS).
    let (go, go_pid1) = sys::fd_socketpair().map_err(|e| Error::new("spawn", e.to_string()))?;
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    let set = sys::block_signals(&sigs).map_err(|e| Error::new("spawn", e.to_string()))?;
    let mut flags = clone_flags(&cfg.spec);
    if cfg.idmap.is_some() {
        // Root-started: the supervisor stays outside the new user namespace,
        // so the network namespace (which must belong to it: sysfs and `ip`
        // inside need that) comes with the clone (see [`make_netns`]).
        flags |= libc::CLONE_NEWUSER;
        if cfg.spec.namespaces.contains(&Namespace::Net) {
            flags |= libc::CLONE_NEWNET;
        }
    }
    crate::trace::mark("supervisor: userns, staging tmpfs ready; clone");
    // v2: straight into the cgroup; if refused, the plain clone below.
    let into_cgroup = join
        .dir
        .as_ref()
        .and_then(|d| sys::clone3_into_cgroup(flags, d.as_fd()).ok());
    let attached = into_cgroup.is_some();
    let pid = into_cgroup
        .map(Ok)
        .unwrap_or_else(|| sys::clone_fork(flags))
        .map_err(|e| {
            Error::new(
                "namespaces",
                format!("clone with namespaces {:?}: {e}", cfg.spec.namespaces),
            )
        })?;
    if pid == 0 {
        drop(go);
        drop(lifeline);
        drop(join);
        let code = pid1_main(cfg, &staging, go_pid1);
        sys::exit_now(code);
    }
    drop(go_pid1);
    // Only PID 1 uses the PTY socket; our copy would delay the caller's EOF.
    if let Some(p) = &cfg.pty {
        if let Ok(f) = sys::adopt_fd(p.sock_fd) {
            drop(f);
        }
    }
    st.init_pid = pid;
    if let Some(m) = &cfg.idmap {
        crate::idmap::hand_over(cfg, pid, m, go.as_fd()).map_err(|e| abort_child(pid, e))?;
    } else if cfg.spec.namespaces.contains(&Namespace::Net) {
        make_netns(go.as_fd()).map_err(|e| abort_child(pid, e))?;
    }
    if let Some(p) = plan.as_ref().filter(|_| after_clone) {
        // In our user namespace now: its root is the caller's uid, which the
        // cgroupfs permission checks see (root stays root, others are refused
        // as before).
        create_cgroup(cfg, p, cg_slot, &mut note);
        if let Some(c) = cg_slot.as_ref() {
            join = cgroup::prepare_join(c, cfg.idmap.is_none())
                .map_err(|e| abort_child(pid, Error::new("cgroup", e.to_string())))?;
        }
    }
    // One state write with everything (v1: the cgroup exists from here on).
    st.cgroup = cg_slot.clone();
    save_state(st, &cfg.sandbox_dir);
    if !attached && join.tasks.is_empty() && cg_slot.as_ref().is_some_and(|c| c.version == 2) {
        // v2 whose clone3 was refused: the slow path (see [`cgroup::Join`]).
        let moved = join
            .procs_or_open(cg_slot.as_ref())
            .and_then(|p| cgroup::attach(p, pid));
        if let Err(e) = moved {
            note = Some(format!("could not move the sandbox into its cgroup: {e}"));
        }
    }
    let unified = cg_slot.as_ref().and_then(|c| c.unified.clone());
    if let Some(u) = unified.filter(|_| !attached) {
        // Hybrid whose clone3 was refused: the cgroup2 part the slow way.
        let moved = fs::write(u.join("cgroup.procs"), pid.to_string());
        if let Err(e) = moved {
            note = Some(format!(
                "could not move the sandbox into {}: {e}",
                u.display()
            ));
        }
    }
    // v1: PID 1 writes "0" to these `tasks` files itself (the cheap move)
    // once its rootfs is built, then answers.
    let tasks: Vec<RawFd> = join.tasks.iter().map(|f| f.as_raw_fd()).collect();
    let go_sent = sys::send_with_fds(go.as_raw_fd(), b"g", &tasks).is_ok();
    crate::trace::mark("supervisor: go sent");
    // The payload's stdio belongs to the sandbox; holding it here would delay
    // the caller's EOF / PTY hangup until the supervisor exits.
    if let Ok(null) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        // (The trace keeps stderr, accepting that delay.)
        let keep = if crate::trace::enabled() { 2 } else { 3 };
        for fd in 0..keep {
            let _ = sys::dup2(null.as_raw_fd(), fd);
        }
    }
    if go_sent && !tasks.is_empty() {
        match await_answer(&go, &lifeline, pid) {
            Some(a) if a == b"ok" => {}
            Some(why) => {
                // PID 1 could not move itself: the slow path, then let it go on.
                let moved = join
                    .procs_or_open(cg_slot.as_ref())
                    .and_then(|p| cgroup::attach(p, pid));
                if let Err(e) = moved {
                    note = Some(format!(
                        "could not move the sandbox into its cgroup: {e} ({})",
                        String::from_utf8_lossy(&why)
                    ));
                }
                let _ = sys::send_with_fds(go.as_raw_fd(), b"g", &[]);
            }
            // PID 1 ended during setup; it reported why itself.
            None => {}
        }
        crate::trace::mark("supervisor: PID 1 in its cgroup");
    }
    drop(join);
    drop(go);
    Report::Started {
        init_pid: pid,
        cgroup: cg_slot.clone(),
        cgroup_note: note,
    }
    .send(cfg.status_fd);
    // SAFETY-free close: the status fd number is ours; dropping an adopted fd.
    if let Ok(f) = sys::adopt_fd(cfg.status_fd) {
        drop(f);
    }
    crate::trace::mark("supervisor: started");
    let sfd = sys::signalfd(&set).map_err(|e| Error::new("spawn", e.to_string()))?;
    if let Some(exe) = &cfg.slim_exe {
        let deadline = std::time::Instant::now() + SLIM_AFTER;
        if let Some(code) = supervise_until(pid, &sfd, Some(&lifeline), Some(deadline)) {
            return Ok(code);
        }
        let state = Slim {
            child: pid,
            lifeline_fd: lifeline.as_raw_fd(),
            cgroup: cg_slot.clone(),
            sandbox_dir: cfg.sandbox_dir.clone(),
            trace: cfg.trace,
        };
        let e = slim_down(exe, &state);
        crate::trace::mark(&format!("supervisor: stays as it is ({e})"));
    }
    // From here on this process only waits; give the setup's heap back.
    sys::trim_heap();
    Ok(supervise(pid, &sfd, Some(&lifeline)))
}

/// Creates the sandbox's network namespace and sends it to PID 1 (message
/// "n"), which joins it before mounting /sys. Creating a network namespace
/// is the slowest part of a clone (~0.55 ms here); done by the supervisor
/// after the clone, it overlaps with PID 1's rootfs build instead of
/// delaying PID 1's start. The supervisor ends up in that namespace too,
/// which costs nothing: it makes no connections and lives exactly as long
/// as the sandbox. (Rootless only: a root-started supervisor stays outside
/// the sandbox's user namespace and could not own one; PID 1 is cloned into
/// a new network namespace instead — measured no slower than a helper
/// process making it in parallel on a 2-core host.)
fn make_netns(go: BorrowedFd<'_>) -> Result<(), Error> {
    let e =
        |what: &str, err: std::io::Error| Error::new("namespaces.net", format!("{what}: {err}"));
    sys::unshare(libc::CLONE_NEWNET).map_err(|err| e("new network namespace", err))?;
    let ns = fs::File::open("/proc/self/ns/net").map_err(|err| e("/proc/self/ns/net", err))?;
    sys::send_with_fds(go.as_raw_fd(), b"n", &[ns.as_raw_fd()])
        .map_err(|err| e("pass it to PID 1", err))?;
    crate::trace::mark("supervisor: network namespace sent");
    Ok(())
}

/// PID 1: joins the network namespace the supervisor made ([`make_netns`])
/// and brings its loopback up.
fn join_netns(go: BorrowedFd<'_>) -> Result<(), Error> {
    let mut b = [0u8; 1];
    let ns = match sys::recv_with_fds(go, &mut b) {
        Ok((1, mut fds)) if b == *b"n" && fds.len() == 1 => fds.remove(0),
        _ => return Err(Error::new("spawn", "the supervisor went away during setup")),
    };
    sys::setns(ns.as_fd(), libc::CLONE_NEWNET)
        .map_err(|e| Error::new("namespaces.net", format!("join: {e}")))?;
    sys::loopback_up().map_err(|e| Error::new("namespaces.net", format!("lo up: {e}")))?;
    crate::trace::mark("pid1: network namespace joined");
    Ok(())
}

/// Waits for PID 1's answer to a go with cgroup descriptors ("ok", or why
/// it could not join). None: PID 1 exited first. Keeps watching the lifeline
/// meanwhile (the rootfs build comes first): if the caller dies, PID 1 is
/// killed, as [`supervise`] would.
fn await_answer(go: &OwnedFd, lifeline: &OwnedFd, pid: libc::pid_t) -> Option<Vec<u8>> {
    let mut watch = vec![go.as_raw_fd(), lifeline.as_raw_fd()];
    loop {
        let ready = sys::poll_read(&watch, -1).ok()?;
        if ready.first() == Some(&true) {
            let mut buf = [0u8; 512];
            return match sys::recv_with_fds(go.as_fd(), &mut buf) {
                Ok((n @ 1.., _)) => Some(buf[..n].to_vec()),
                _ => None,
            };
        }
        if ready.get(1) == Some(&true) {
            let _ = sys::kill(pid, libc::SIGKILL);
            watch.truncate(1);
        }
    }
}

/// Waits for `child`, forwarding signals to it; kills it when the lifeline
/// reports the caller's death. Returns the child's shell-style exit code.
pub(crate) fn supervise(child: libc::pid_t, sfd: &OwnedFd, lifeline: Option<&OwnedFd>) -> i32 {
    supervise_until(child, sfd, lifeline, None).unwrap_or(EXIT_SETUP_FAILED)
}

/// [`supervise`] that gives up at `deadline` (`None`) if the child still
/// runs and the lifeline is still open (a sandbox being torn down is waited
/// for to the end).
fn supervise_until(
    child: libc::pid_t,
    sfd: &OwnedFd,
    lifeline: Option<&OwnedFd>,
    deadline: Option<std::time::Instant>,
) -> Option<i32> {
    let mut fds = vec![sfd.as_raw_fd()];
    if let Some(l) = lifeline {
        fds.push(l.as_raw_fd());
    }
    let mut lifeline_open = lifeline.is_some();
    loop {
        if let Ok((p, status)) = sys::waitpid(child, libc::WNOHANG) {
            if p == child {
                return Some(sys::exit_code(status));
            }
        } else {
            return Some(EXIT_SETUP_FAILED);
        }
        let mut timeout_ms = 1000;
        if let Some(d) = deadline.filter(|_| lifeline_open) {
            let left = d.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            timeout_ms = timeout_ms.min(left.as_millis() as i32 + 1);
        }
        let watch = if lifeline_open { &fds[..] } else { &fds[..1] };
        let ready = sys::poll_read(watch, timeout_ms).unwrap_or_default();
        if ready.first() == Some(&true) {
            for s in sys::read_signals(sfd.as_fd()) {
                if s != libc::SIGCHLD {
                    let _ = sys::kill(child, s);
                }
            }
        }
        if ready.get(1) == Some(&true) {
            // EOF (or any byte) on the lifeline: the caller is gone or wants
            // the sandbox dead. Killing PID 1 tears down the PID namespace.
            let _ = sys::kill(child, libc::SIGKILL);
            lifeline_open = false;
        }
    }
}

/// PID 1 of the sandbox. Returns its exit code (the payload's).
fn pid1_main(cfg: &InitConfig, staging: &Path, go: OwnedFd) -> i32 {
    let status = cfg.status_fd;
    // Die with the supervisor, then check it did not die before we got here.
    crate::trace::mark("pid1: start");
    // Root-started: first the maps and uid 0 of our user namespace (a
    // credential change clears the death signal, so that comes after).
    let prepared = match &cfg.idmap {
        Some(_) => match crate::idmap::receive(&cfg.spec, go.as_fd()) {
            Ok(p) => Some(p),
            Err(e) => {
                let code = e.exit_code;
                Report::Failed(e).send(status);
                return code;
            }
        },
        None => None,
    };
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    match setup_and_start(cfg, staging, go, prepared) {
        Ok(payload) => {
            // The status fd must not stay open in PID 1, or the caller would
            // wait for EOF forever.
            if let Ok(f) = sys::adopt_fd(status) {
                drop(f);
            }
            sys::trim_heap();
            reap_loop(payload)
        }
        Err(e) => {
            let code = e.exit_code;
            Report::Failed(e).send(status);
            code
        }
    }
}

fn setup_and_start(
    cfg: &InitConfig,
    staging: &Path,
    go: OwnedFd,
    prepared: Option<crate::idmap::Prepared>,
) -> Result<libc::pid_t, Error> {
    let spec = &cfg.spec;
    if spec.namespaces.contains(&Namespace::Uts) {
        let h = spec.hostname.clone().unwrap_or_else(|| "kubelab".into());
        sys::sethostname(&h).map_err(|e| Error::new("hostname", format!("`{h}`: {e}")))?;
    }
    let want_net = spec.namespaces.contains(&Namespace::Net);
    let mut net = || match (want_net, cfg.idmap.is_some()) {
        (false, _) => Ok(()),
        (true, false) => join_netns(go.as_fd()),
        // Root-started: cloned into it; only the loopback is down.
        (true, true) => {
            sys::loopback_up().map_err(|e| Error::new("namespaces.net", format!("lo up: {e}")))
        }
    };
    if spec.namespaces.contains(&Namespace::Mount) {
        crate::rootfs::build(cfg, staging, &mut net, prepared)?;
    } else {
        net()?;
    }
    crate::trace::mark("pid1: rootfs built");
    // The supervisor creates the cgroup meanwhile (v1), so the rootfs work
    // above overlaps with it; its go carries the `tasks` files to join.
    // EOF means the supervisor died before that: give up.
    let gone = || Error::new("spawn", "the supervisor went away during setup");
    let mut b = [0u8; 1];
    let tasks = match sys::recv_with_fds(go.as_fd(), &mut b) {
        Ok((1, tasks)) => tasks,
        _ => return Err(gone()),
    };
    if !tasks.is_empty() {
        // Into the cgroup before the payload exists: still single-threaded,
        // so this is the cheap self-move (see [`cgroup::Join`]).
        let mut files: Vec<fs::File> = tasks.into_iter().map(fs::File::from).collect();
        let joined = cgroup::join_self(&mut files);
        drop(files);
        let answer = match &joined {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("PID 1 joining by itself: {e}"),
        };
        sys::send_with_fds(go.as_raw_fd(), answer.as_bytes(), &[]).map_err(|_| gone())?;
        if joined.is_err() {
            // The supervisor tries the slow way and says when it is done.
            match sys::recv_with_fds(go.as_fd(), &mut b) {
                Ok((1, _)) => {}
                _ => return Err(gone()),
            }
        }
        crate::trace::mark("pid1: joined its cgroup");
    }
    drop(go);
    if spec.namespaces.contains(&Namespace::Cgroup) {
        sys::unshare(libc::CLONE_NEWCGROUP)
            .map_err(|e| Error::new("namespaces.cgroup", e.to_string()))?;
    }
    let slave = match &cfg.pty {
        Some(p) => Some(make_pty(p)?),
        None => None,
    };
    let env = payload_env(spec, cfg.pty.is_some());
    let argv = command_or_shell(spec);
    finish_privileges(spec.privileged)?;
    let _ = sys::prctl(libc::PR_SET_DUMPABLE, 0);
    let _ = sys::prctl(libc::PR_SET_NAME, c"kubelab-init".as_ptr() as libc::c_ulong);
    crate::trace::mark("pid1: exec payload");
    if !spec.init {
        // The command becomes PID 1 itself; its exec closes the status pipe.
        let e = start_payload(&argv, &env, spec.workdir.as_deref(), slave.as_ref());
        return Err(e);
    }
    match sys::fork().map_err(|e| Error::new("spawn", e.to_string()))? {
        0 => {
            let e = start_payload(&argv, &env, spec.workdir.as_deref(), slave.as_ref());
            Report::Failed(e.clone()).send(cfg.status_fd);
            sys::exit_now(e.exit_code)
        }
        pid => Ok(pid),
    }
}

/// Allocates the PTY in the current (sandbox) mount namespace, sends the
/// master to the caller and returns the slave for the payload.
pub(crate) fn make_pty(req: &crate::protocol::PtyRequest) -> Result<OwnedFd, Error> {
    let sock = sys::adopt_fd(req.sock_fd).map_err(|e| Error::new("pty", format!("socket: {e}")))?;
    let (master, slave) = sys::open_pty_here(req.rows, req.cols)
        .map_err(|e| Error::new("pty", format!("open /dev/ptmx: {e}")))?;
    sys::send_fd(sock.as_raw_fd(), master.as_raw_fd())
        .map_err(|e| Error::new("pty", format!("send master: {e}")))?;
    Ok(slave)
}

/// Drops capabilities (unless privileged), sets no_new_privs and installs
/// the seccomp filter ([`crate::seccomp`]).
pub(crate) fn finish_privileges(privileged: bool) -> Result<(), Error> {
    if !privileged {
        sys::drop_caps(sys::DEFAULT_CAPS)
            .map_err(|e| Error::new("capabilities", format!("drop: {e}")))?;
    }
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
        .map_err(|e| Error::new("capabilities", format!("no_new_privs: {e}")))?;
    crate::seccomp::install().map_err(|e| Error::new("seccomp", format!("install filter: {e}")))
}

pub(crate) fn command_or_shell(spec: &Spec) -> Vec<String> {
    if spec.command.is_empty() {
        vec!["/bin/sh".into()]
    } else {
        spec.command.clone()
    }
}

pub(crate) fn payload_env(spec: &Spec, pty: bool) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOME".into(), "/root".into()),
        ("USER".into(), "root".into()),
        (
            "HOSTNAME".into(),
            spec.hostname.clone().unwrap_or_else(|| "kubelab".into()),
        ),
    ];
    if pty {
        env.push(("TERM".into(), "xterm-256color".into()));
    }
    for (k, v) in &spec.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// In the forked child: becomes the payload. Only returns the error on failure.
pub(crate) fn start_payload(
    argv: &[String],
    env: &[(String, String)],
    workdir: Option<&Path>,
    pty_slave: Option<&OwnedFd>,
) -> Error {
    sys::reset_signals();
    let _ = sys::setsid();
    if let Some(s) = pty_slave {
        for fd in 0..3 {
            if let Err(e) = sys::dup2(s.as_raw_fd(), fd) {
                return Error::new("pty", format!("dup2: {e}"));
            }
        }
        if let Err(e) = sys::set_controlling_tty(0) {
            return Error::new("pty", format!("set controlling terminal: {e}"));
        }
    }
    if let Some(w) = workdir {
        if let Err(e) = std::env::set_current_dir(w) {
            return Error::new("workdir", format!("{}: {e}", w.display()));
        }
    }
    let e = sys::execvpe(argv, env);
    let name = &argv[0];
    match e.raw_os_error() {
        Some(libc::ENOENT) => Error::new(
            "command",
            format!(
                "`{name}` not found inside the sandbox (searched PATH /usr/local/sbin:/usr/local/bin:\
                 /usr/sbin:/usr/bin:/sbin:/bin); check the name or pick a rootfs that has it"
            ),
        )
        .with_code(EXIT_NOT_FOUND),
        Some(libc::EACCES) | Some(libc::ENOEXEC) => Error::new(
            "command",
            format!("`{name}` cannot be executed: {e}; is it an executable file?"),
        )
        .with_code(EXIT_CANNOT_EXEC),
        _ => Error::new("command", format!("exec `{name}`: {e}")).with_code(EXIT_CANNOT_EXEC),
    }
}

/// PID 1's job: reap every child, forward signals to the payload, and exit
/// with the payload's status once it is gone.
fn reap_loop(payload: libc::pid_t) -> i32 {
    let sigs: Vec<libc::c_int> = FORWARDED.iter().copied().chain([libc::SIGCHLD]).collect();
    // Signals were blocked by the supervisor before clone and stay blocked here.
    let set = match sys::block_signals(&sigs) {
        Ok(s) => s,
        Err(_) => return EXIT_SETUP_FAILED,
    };
    let sfd = match sys::signalfd(&set) {
        Ok(f) => f,
        Err(_) => return EXIT_SETUP_FAILED,
    };
    let mut result = None;
    loop {
        loop {
            match sys::waitpid(-1, libc::WNOHANG) {
                Ok((0, _)) => break,
                Ok((p, status)) => {
                    if p == payload {
                        result = Some(sys::exit_code(status));
                    }
                }
                Err(_) => break, // ECHILD: nobody left
            }
        }
        if let Some(code) = result {
            return code;
        }
        let ready = sys::poll_read(&[sfd.as_raw_fd()], 1000).unwrap_or_default();
        if ready.first() == Some(&true) {
            for s in sys::read_signals(sfd.as_fd()) {
                if s != libc::SIGCHLD {
                    let _ = sys::kill(payload, s);
                }
            }
        }
    }
}
