//! The world's process (`kubelab-world`): starts the world's init in new
//! user, PID, network and UTS namespaces, writes its id maps, records the world,
//! answers `up`, then waits for `down`'s SIGTERM (or init's death).

use super::init::{self, InitReport};
use super::state::{self, WorldState};
use super::{KeeperConfig, UpReport, CONFIG_ENV};
use crate::sys;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

/// Entry of the keeper helper mode; never returns to the caller's main.
pub fn keeper_main() -> i32 {
    let Some(cfg) = std::env::var(CONFIG_ENV)
        .ok()
        .and_then(|j| serde_json::from_str::<KeeperConfig>(&j).ok())
    else {
        return answer(UpReport::Failed(
            "the world's process got no configuration".into(),
        ));
    };
    std::env::remove_var(CONFIG_ENV);
    // Away from the caller: the first fork's parent exits at once (`up`
    // reaps it), this copy is nobody's child to reap, and a session of its
    // own keeps the terminal's Ctrl-C and hangup away.
    match sys::fork() {
        Ok(0) => {}
        Ok(_) => sys::exit_now(0),
        Err(e) => return answer(UpReport::Failed(format!("fork: {e}"))),
    }
    let _ = sys::setsid();
    // It lives on: nothing the caller left open (a jobserver pipe, say)
    // stays open with it.
    sys::close_fds_except(&[0, 1, 2]);
    let _ = sys::prctl(
        libc::PR_SET_NAME,
        c"kubelab-world".as_ptr() as libc::c_ulong,
    );
    match build(&cfg) {
        Ok((st, sfd, lifeline, agents)) => {
            let _ = answer(UpReport::Up(st.clone()));
            quiet_stdio(cfg.tied);
            serve(&cfg, &st, sfd, lifeline, agents)
        }
        Err(e) => answer(UpReport::Failed(e)),
    }
}

/// Writes the one-line report on stdout (the pipe `up` reads).
fn answer(r: UpReport) -> i32 {
    let code = matches!(r, UpReport::Failed(_)) as i32;
    if let Ok(j) = serde_json::to_string(&r) {
        let _ = sys::write_fd(1, j.as_bytes());
    }
    code
}

/// Points stdin, stdout and stderr at /dev/null: `up` has its answer and
/// must see the pipe close. A tied world keeps its stdin: the lifeline.
fn quiet_stdio(tied: bool) {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in (tied as i32)..3 {
            let _ = sys::dup2_stdio(null.as_fd(), fd);
        }
    }
}

type Built = (
    WorldState,
    std::os::fd::OwnedFd,
    std::os::fd::OwnedFd,
    Vec<super::agents::Running>,
);

fn build(cfg: &KeeperConfig) -> Result<Built, String> {
    let sigs = [
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGCHLD,
    ];
    let set = sys::block_signals(&sigs).map_err(|e| format!("block signals: {e}"))?;
    let sfd = sys::signalfd(&set).map_err(|e| format!("signalfd: {e}"))?;
    let (go_r, go_w) = sys::pipe().map_err(|e| e.to_string())?;
    let (rep_r, rep_w) = sys::pipe().map_err(|e| e.to_string())?;
    let (life_r, life_w) = sys::pipe().map_err(|e| e.to_string())?;
    let flags = libc::CLONE_NEWUSER | libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWUTS;
    let pid = sys::clone_fork(flags).map_err(|e| {
        format!(
            "cannot create the world's user, PID and network namespaces: {e}; run \
             `kubelab doctor` (user.max_user_namespaces, kernel.unprivileged_userns_clone)"
        )
    })?;
    if pid == 0 {
        drop((go_w, rep_r, life_w, sfd));
        sys::exit_now(init::init_main(&cfg.spec, go_r, rep_w, life_r));
    }
    drop((go_r, rep_w, life_r));
    let fail = |msg: String| {
        let _ = sys::kill(pid, libc::SIGKILL);
        let _ = sys::waitpid(pid, 0);
        msg
    };
    if let Err(e) = write_maps(pid) {
        return Err(fail(format!("write the world's id maps: {e}")));
    }
    if let Err(e) = sys::write_fd(go_w.as_raw_fd(), b"g") {
        return Err(fail(format!("start the world's init: {e}")));
    }
    drop(go_w);
    let report = match read_report(rep_r.as_fd()) {
        Ok(r) => r,
        Err(e) => return Err(fail(e)),
    };
    let node_pids = match report {
        InitReport::Ready(pids) => pids,
        InitReport::Failed(e) => return Err(fail(e)),
    };
    let host_pids = match host_pids(pid, &node_pids) {
        Ok(p) => p,
        Err(e) => return Err(fail(e)),
    };
    let mut agents = match super::agents::start(&cfg.agents, |node| {
        let i = cfg
            .spec
            .nodes
            .iter()
            .position(|n| n.name.as_str() == node)?;
        host_pids.get(i).copied()
    }) {
        Ok(a) => a,
        Err(e) => return Err(fail(e)),
    };
    let shared = match super::state::make_shared(&cfg.dir) {
        Ok(d) => d,
        Err(e) => {
            super::agents::stop(&mut agents, super::agents::STOP_TIMEOUT);
            return Err(fail(format!("make the world's shared folder: {e}")));
        }
    };
    let me = sys::getpid();
    let st = WorldState {
        name: cfg.name.clone(),
        source: cfg.source.clone(),
        spec: cfg.spec.clone(),
        keeper_pid: me,
        keeper_start: crate::process::runtime::start_time(me).unwrap_or(0),
        init_pid: pid,
        node_pids: host_pids,
        user_ns_ino: super::ns_ino(pid, "user"),
        agents: agents.iter().map(|a| a.process()).collect(),
        shared: Some(shared),
    };
    if let Err(e) = st.write(&cfg.dir) {
        super::agents::stop(&mut agents, super::agents::STOP_TIMEOUT);
        return Err(fail(format!(
            "record the world in {}: {e}",
            cfg.dir.display()
        )));
    }
    Ok((st, sfd, life_w, agents))
}

/// The id maps of the world's user namespace. Rootless: the caller's uid
/// and gid are root there (the only map one may write for oneself). Root:
/// every id maps to itself, so files keep their owners and a node's root is
/// the host's root for files — but holds capabilities only over the
/// world's own namespaces.
fn write_maps(pid: libc::pid_t) -> std::io::Result<()> {
    let w = |file: &str, v: String| std::fs::write(format!("/proc/{pid}/{file}"), v);
    if sys::geteuid() == 0 {
        w("uid_map", "0 0 4294967295\n".into())?;
        w("gid_map", "0 0 4294967295\n".into())
    } else {
        w("setgroups", "deny".into())?;
        w("uid_map", format!("0 {} 1\n", sys::geteuid()))?;
        w("gid_map", format!("0 {} 1\n", sys::getgid()))
    }
}

fn read_report(fd: std::os::fd::BorrowedFd<'_>) -> Result<InitReport, String> {
    let deadline = Instant::now() + super::UP_TIMEOUT;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("building the world took longer than 30 s".into());
        }
        let ready = sys::poll_read(&[fd], left.as_millis() as i32).map_err(|e| e.to_string())?;
        if ready.first() != Some(&true) {
            continue;
        }
        match sys::read_fd(fd, &mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            break;
        }
    }
    serde_json::from_slice(&buf).map_err(|_| "the world's init died while building it".into())
}

/// The host PIDs of init's children whose PIDs in the world's PID
/// namespace are `inner` (the last `NSpid` field of their status).
fn host_pids(init: libc::pid_t, inner: &[i32]) -> Result<Vec<i32>, String> {
    let children =
        std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).unwrap_or_default();
    let mut map = Vec::new();
    for c in children
        .split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
    {
        let status = std::fs::read_to_string(format!("/proc/{c}/status")).unwrap_or_default();
        let ns_pid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|v| v.split_whitespace().last()?.parse::<i32>().ok());
        if let Some(n) = ns_pid {
            map.push((n, c));
        }
    }
    inner
        .iter()
        .map(|i| {
            map.iter()
                .find(|(n, _)| n == i)
                .map(|(_, h)| *h)
                .ok_or_else(|| format!("node holder {i} of the world's init is gone"))
        })
        .collect()
}

/// Waits for `down` (SIGTERM, or SIGINT/SIGHUP/SIGQUIT), init's death or,
/// tied, the end of the caller's lifeline (stdin), then ends the world and
/// removes its record.
fn serve(
    cfg: &KeeperConfig,
    st: &WorldState,
    sfd: std::os::fd::OwnedFd,
    lifeline: std::os::fd::OwnedFd,
    mut agents: Vec<super::agents::Running>,
) -> i32 {
    sys::trim_heap();
    let init = st.init_pid;
    // The plug is pulled: the world's namespaces go first (with init), then
    // the agents stop their Pods, with nothing left to undo in the nodes'
    // namespaces (as after a `kill -9` of the keeper).
    let end = |agents: &mut Vec<super::agents::Running>| {
        let _ = sys::kill(init, libc::SIGKILL);
        let _ = sys::waitpid(init, 0);
        super::agents::stop(agents, super::agents::STOP_TIMEOUT);
    };
    // A tied keeper kept fd 0 (`quiet_stdio`): the caller's lifeline.
    let stdin = std::io::stdin();
    let code = loop {
        let ready = if cfg.tied {
            sys::poll_read(&[sfd.as_fd(), stdin.as_fd()], -1).unwrap_or_default()
        } else {
            sys::poll_read(&[sfd.as_fd()], -1).unwrap_or_default()
        };
        if cfg.tied && ready.get(1) == Some(&true) {
            let mut b = [0u8; 64];
            if !matches!(sys::read_fd(stdin.as_fd(), &mut b), Ok(n) if n > 0) {
                // The caller closed the lifeline or is gone.
                end(&mut agents);
                break 0;
            }
        }
        let sigs = sys::read_signals(sfd.as_fd());
        if sigs.iter().any(|s| *s != libc::SIGCHLD) {
            end(&mut agents);
            break 0;
        }
        if let Ok((p, _)) = sys::waitpid(init, libc::WNOHANG) {
            if p == init {
                // Init died on its own (killed): the world is gone.
                super::agents::stop(&mut agents, super::agents::STOP_TIMEOUT);
                break 1;
            }
        }
    };
    drop(lifeline);
    // Only our own record: a newer world may have replaced it after a
    // `down` that gave up waiting.
    if WorldState::read(&cfg.dir)
        .ok()
        .flatten()
        .is_some_and(|r| r.keeper_pid == st.keeper_pid && r.keeper_start == st.keeper_start)
    {
        state::remove(&cfg.dir);
    }
    code
}
