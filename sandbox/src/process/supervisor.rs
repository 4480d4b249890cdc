//! The supervisor: creates the cgroup, the user and mount namespaces and the
//! staging tmpfs, clones PID 1 ([`super::pid1`]), hands it what it needs,
//! then waits for it and cleans up (as itself, or re-executed as the small
//! helper after [`SLIM_AFTER`]).

use super::payload::FORWARDED;
use super::pid1::pid1_main;
use super::protocol::{read_config, InitConfig, Report, Slim, CONFIG_ENV, SUPERVISE_ARG};
use super::runtime::{self, State};
use super::watch::{supervise, supervise_until};
use crate::cgroup::{self, Cgroup};
use crate::error::{Error, EXIT_SETUP_FAILED};
use crate::ns::netns::make_netns;
use crate::ns::userns::{clone_flags, enter_userns};
use crate::spec::Namespace;
use crate::sys;
use std::fs;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

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
/// a single-threaded caller (see [`super::supervisor_handle::fork_supervisor`]).
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
    let pod = cfg.pod.clone().unwrap_or_default();
    let want = (cfg.want_cgroup || !cfg.spec.limits.is_empty()) && pod.cgroup.is_none();
    let mut note = (!want && pod.cgroup.is_none()).then(|| "no cgroup requested".to_string());
    if let Some(adj) = pod.oom_score_adj {
        // Before any clone: every process of the sandbox inherits it.
        if let Err(e) = crate::pod::set_oom_score_adj(adj) {
            note = Some(format!("oom_score_adj {adj} not set: {e}"));
        }
    }
    // Every hierarchy, freezer included even with a PID namespace: the
    // sandbox must sit in its own cgroup wherever it could mount cgroupfs
    // (see [`crate::cgroup::tree`]), and the freezer makes the kill race-free.
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
    // A cgroup the caller made (a Pod's): joined, removed only if owned.
    let target = pod.cgroup.as_ref().map(|g| g.join.clone());
    if let Some(g) = &pod.cgroup {
        *cg_slot = g.own.clone();
        st.cgroup = g.own.clone();
        save_state(st, &cfg.sandbox_dir);
        join =
            cgroup::prepare_join(&g.join, true).map_err(|e| Error::new("cgroup", e.to_string()))?;
    }
    // Rootless: the supervisor enters the user namespace itself (it may map
    // only its own uid). Root: it stays host root and PID 1 gets the user
    // namespace, with a full unprivileged range (see [`crate::ns::idmap`]).
    // A Pod container: the supervisor joins the infra's namespaces (root:
    // after preparing PID 1's mounts as host root, id-mapped to the Pod).
    let mut handed = None;
    // hostNetwork: into the node's network namespace while we may (see
    // [`crate::pod::join::enter_host_network`]); rootless, as root of the
    // node's user namespace, which the Pod's is then made or found in.
    let mut in_parent = false;
    if let Some(netns) = &pod.host_netns {
        if let (None, Some(parent)) = (&cfg.idmap, &pod.parent_userns) {
            crate::pod::join::enter_parent_userns(parent)?;
            in_parent = true;
        }
        crate::pod::join::enter_host_network(netns)?;
    }
    if let Some(j) = &pod.join {
        if cfg.idmap.is_some() && cfg.spec.namespaces.contains(&Namespace::Mount) {
            let ns = crate::pod::join::open_userns(j)?;
            handed = Some(super::handover::prepare(cfg, ns.as_fd())?);
        } else if cfg.idmap.is_some() {
            handed = Some(Vec::new());
        }
        crate::pod::join::join(j)?;
    } else if let Some(parent) = &pod.parent_userns {
        // A rootless Pod inside a node's user namespace: there our uid is
        // 0 (the node maps it so), and the Pod's namespace maps 0 to 0.
        // (Root's maps are written from the host's; the caller refuses it.)
        if cfg.idmap.is_some() {
            return Err(Error::new(
                "pod",
                "a parent user namespace is rootless only",
            ));
        }
        if !in_parent {
            crate::pod::join::enter_parent_userns(parent)?;
        }
        enter_userns(sys::geteuid(), sys::getgid())?;
    } else if cfg.idmap.is_none() {
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
        // In the Pod's user namespace already: ids are read in it.
        Some(_) if pod.join.is_some() => "mode=755,uid=0,gid=0".to_string(),
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
    if cfg.idmap.is_some() && pod.join.is_none() {
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
    if let Some(fds) = handed {
        super::handover::send(go.as_fd(), fds).map_err(|e| abort_child(pid, e))?;
    } else if let Some(m) = &cfg.idmap {
        super::handover::hand_over(cfg, pid, m, go.as_fd()).map_err(|e| abort_child(pid, e))?;
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
    let joined = target.as_ref().or(cg_slot.as_ref());
    if !attached && join.tasks.is_empty() && joined.is_some_and(|c| c.version == 2) {
        // v2 whose clone3 was refused: the slow path (see [`cgroup::Join`]).
        let moved = join
            .procs_or_open(joined)
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
    let tasks: Vec<BorrowedFd> = join.tasks.iter().map(|f| f.as_fd()).collect();
    let go_sent = sys::send_with_fds(go.as_fd(), b"g", &tasks).is_ok();
    let has_tasks = !tasks.is_empty();
    drop(tasks);
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
            let _ = sys::dup2_stdio(null.as_fd(), fd);
        }
    }
    if go_sent && has_tasks {
        match await_answer(&go, &lifeline, pid) {
            Some(a) if a == b"ok" => {}
            Some(why) => {
                // PID 1 could not move itself: the slow path, then let it go on.
                let moved = join
                    .procs_or_open(target.as_ref().or(cg_slot.as_ref()))
                    .and_then(|p| cgroup::attach(p, pid));
                if let Err(e) = moved {
                    note = Some(format!(
                        "could not move the sandbox into its cgroup: {e} ({})",
                        String::from_utf8_lossy(&why)
                    ));
                }
                let _ = sys::send_with_fds(go.as_fd(), b"g", &[]);
            }
            // PID 1 ended during setup; it reported why itself.
            None => {}
        }
        crate::trace::mark("supervisor: PID 1 in its cgroup");
    }
    drop(join);
    drop(go);
    // A given cgroup is reported without its removal duties: the caller
    // keeps those (the supervisor, if it owns it, does them at the end).
    let reported = match target {
        Some(t) => Some(Cgroup {
            created: Vec::new(),
            parents: Vec::new(),
            recursive: false,
            ..t
        }),
        None => cg_slot.clone(),
    };
    Report::Started {
        init_pid: pid,
        cgroup: reported,
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

/// Waits for PID 1's answer to a go with cgroup descriptors ("ok", or why
/// it could not join). None: PID 1 exited first. Keeps watching the lifeline
/// meanwhile (the rootfs build comes first): if the caller dies, PID 1 is
/// killed, as [`supervise`] would.
fn await_answer(go: &OwnedFd, lifeline: &OwnedFd, pid: libc::pid_t) -> Option<Vec<u8>> {
    let mut watch = vec![go.as_fd(), lifeline.as_fd()];
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
