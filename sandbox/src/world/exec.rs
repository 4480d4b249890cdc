//! `kubelab world exec`'s helper: joins the world's user namespace, a
//! node's network, UTS and mount namespaces (its `/sys`, its own `/run`:
//! `ns::machine_mounts`) and the world's PID namespace, then runs the
//! command as its child and exits with its code.

use super::CONFIG_ENV;
use crate::net::ip::TOOL_PATH;
use crate::sys;
use serde::{Deserialize, Serialize};
use std::os::fd::AsFd;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExecConfig {
    pub init_pid: i32,
    /// The node's holder (the init itself for the underlay).
    pub node_pid: i32,
    pub user_ns_ino: Option<u64>,
    pub node: String,
    pub argv: Vec<String>,
}

/// Entry of the exec helper mode.
pub fn exec_main() -> i32 {
    let Some(cfg) = std::env::var(CONFIG_ENV)
        .ok()
        .and_then(|j| serde_json::from_str::<ExecConfig>(&j).ok())
    else {
        eprintln!("kubelab world exec: no configuration");
        return crate::error::EXIT_SETUP_FAILED;
    };
    std::env::remove_var(CONFIG_ENV);
    if let Err(e) = enter(&cfg) {
        eprintln!("kubelab world exec {}: {e}", cfg.node);
        return crate::error::EXIT_SETUP_FAILED;
    }
    run(&cfg)
}

fn enter(cfg: &ExecConfig) -> Result<(), String> {
    // A PID reused since `up` belongs to somebody else: both processes
    // must still be in the world's user namespace.
    for p in [cfg.init_pid, cfg.node_pid] {
        if cfg.user_ns_ino.is_none() || super::ns_ino(p, "user") != cfg.user_ns_ino {
            return Err("the world is not running any more".into());
        }
    }
    // A node keeps one mount namespace for all that runs there (its holder
    // made it); the underlay (init itself) has none, so each command run
    // there gets a /sys of its own, as `ip netns exec` gives.
    let node = cfg.node_pid != cfg.init_pid;
    crate::ns::enter::join_node(cfg.init_pid, cfg.node_pid, node)?;
    if node {
        Ok(())
    } else {
        crate::ns::enter::own_sysfs()
    }
}

/// Forks the command (the fork lands in the world's PID namespace), passes
/// SIGTERM and SIGHUP on, leaves SIGINT and SIGQUIT to the terminal (the
/// command gets them itself) and exits with the command's code.
fn run(cfg: &ExecConfig) -> i32 {
    let fwd = [libc::SIGTERM, libc::SIGHUP];
    let all = [
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGCHLD,
    ];
    let Ok(set) = sys::block_signals(&all) else {
        return crate::error::EXIT_SETUP_FAILED;
    };
    let Ok(sfd) = sys::signalfd(&set) else {
        return crate::error::EXIT_SETUP_FAILED;
    };
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k != "PATH" && k != "KUBELAB_WORLD_NODE")
        .collect();
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    for d in TOOL_PATH.split(':') {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    env.push(("PATH".into(), dirs.join(":")));
    env.push(("KUBELAB_WORLD_NODE".into(), cfg.node.clone()));
    let child = match sys::fork() {
        Ok(0) => {
            drop(sfd);
            sys::reset_signals();
            let e = sys::execvpe(&cfg.argv, &env);
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                crate::error::EXIT_NOT_FOUND
            } else {
                crate::error::EXIT_CANNOT_EXEC
            };
            eprintln!("kubelab world exec: {}: {e}", cfg.argv[0]);
            sys::exit_now(code);
        }
        Ok(p) => p,
        Err(e) => {
            eprintln!("kubelab world exec: fork: {e}");
            return crate::error::EXIT_SETUP_FAILED;
        }
    };
    loop {
        match sys::waitpid(child, libc::WNOHANG) {
            Ok((p, st)) if p == child => return sys::exit_code(st),
            Ok(_) => {}
            Err(_) => return crate::error::EXIT_SETUP_FAILED,
        }
        let _ = sys::poll_read(&[sfd.as_fd()], -1);
        for s in sys::read_signals(sfd.as_fd()) {
            if fwd.contains(&s) {
                let _ = sys::kill(child, s);
            }
        }
    }
}
