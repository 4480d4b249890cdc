//! kubelab-sandbox: real Linux namespaces and cgroups for live labs.
//!
//! # Public API (stable for the app and the panes)
//!
//! ```no_run
//! use kubelab_sandbox::{Sandbox, SpawnOptions, StdioMode, spec::Spec, exec::ExecRequest};
//!
//! fn main() {
//!     // 1. FIRST line of main(), before any thread exists: the helper modes.
//!     if let Some(code) = kubelab_sandbox::dispatch() {
//!         std::process::exit(code);
//!     }
//!     // 2. Spawn from any thread (tokio included): the namespace work happens in
//!     //    a re-executed, single-threaded helper (`/proc/self/exe __sandbox-init`).
//!     let spec: Spec = toml::from_str("hostname = \"lab\"\n[limits]\nmemory = \"64M\"").unwrap();
//!     let opts = SpawnOptions { stdio: StdioMode::Pty { rows: 24, cols: 80 }, ..Default::default() };
//!     let mut sb = Sandbox::spawn(&spec, &opts).unwrap();   // Err: field + fix
//!     let master = sb.take_pty_master().unwrap();            // read/write the shell
//!     Sandbox::resize_pty(&master, 40, 120).unwrap();        // TIOCSWINSZ
//!     let pid = sb.pid();                                    // host PID of PID 1
//!     let env = sb.check_env();                              // KUBELAB_PID, _CGROUP_*, _UPPER
//!     // 3. Exec (checks, a second shell): joins every namespace + the cgroup.
//!     let (code, out, _err) = sb.exec(&ExecRequest::shell("hostname"), StdioMode::Piped)
//!         .unwrap().output().unwrap();
//!     // 4. Observe.
//!     let stats = sb.cgroup().map(|c| c.stats());           // memory/cpu/pids/oom
//!     let ns = kubelab_sandbox::observe::namespaces(pid);    // host vs sandbox inodes
//!     let procs = kubelab_sandbox::observe::processes(pid);  // host PID + NSpid
//!     let mounts = kubelab_sandbox::observe::mounts(pid);
//!     let upper = sb.upper_dir().map(|u| kubelab_sandbox::observe::upper_listing(&u));
//!     let net = kubelab_sandbox::observe::network(pid);
//!     // 5. End: kill() or drop; wait() returns the payload's exit code.
//!     sb.kill().unwrap();
//! #   let _ = (code, out, env, stats, ns, procs, mounts, upper, net, master);
//! }
//! ```
//!
//! * [`Sandbox::spawn`] returns after the payload was exec'd; setup errors
//!   (bad rootfs, command not found...) come back as [`Error`] with the field,
//!   a fix and an exit code (125 setup, 126 cannot exec, 127 not found), and
//!   nothing is left behind.
//! * Blocking calls (`spawn`, `wait`, `exec`, `output`) are meant for
//!   `spawn_blocking` or a plain thread in async code.
//! * Cleanup: drop/kill closes the lifeline pipe; the supervisor kills PID 1
//!   (the kernel then kills the whole PID namespace), kills the cgroup,
//!   removes it and the runtime entry. If the caller dies (even SIGKILL), the
//!   lifeline hits EOF and the same happens. Leftovers of a killed supervisor
//!   are swept at the next spawn ([`runtime::sweep`]).
//! * Spec knobs beyond the lesson basics: `init` (default true: kubelab's
//!   init is PID 1 and the command PID 2; `false`: the command is PID 1, as in
//!   `docker run` — `kubelab run` uses that unless `--init`) and `privileged`
//!   (keep all capabilities inside the user namespace, e.g. for `mount` or
//!   `unshare` in a lesson; default: the Docker capability set).
//! * Root inside is never host root. Rootless: sandbox uid 0 is the
//!   invoking uid (one id mapped, `setgroups` denied). Started by root:
//!   sandbox ids 0..65536 map to an unprivileged host range (root's
//!   `/etc/subuid` line, else 0x70000000 moved past every listed range; see
//!   [`idmap`]); the supervisor stays host root and writes PID 1's maps.
//!   no_new_privs always; PID 1 is not dumpable; runc's masked and
//!   read-only `/proc`/`/sys` paths in every sandbox (`masks`).
//! * cgroups: v1 (and hybrid: v1 wins) under the caller's own cgroup, v2 at
//!   the root (root) or the highest delegated ancestor (rootless), always
//!   named `.../kubelab/<id>`; PID 1 sits in its own cgroup in every
//!   mounted hierarchy before it unshares its cgroup namespace, and on v2 in
//!   the child `kubelab/<id>/payload` below the limits ([`cgroup::tree`]).
//!   A rootless kubelab on v2 whose own cgroup is not delegated (a
//!   desktop terminal's `session-N.scope`) asks its systemd user manager
//!   for a transient scope with `Delegate=yes` and moves itself into it
//!   ([`cgroup::systemd_scope`], [`cgroup::delegation`]).
//!   Without permission the sandbox runs without limits and
//!   [`Sandbox::cgroup_note`] says why and what would fix it.
//! * Spawn cost: `KUBELAB_SANDBOX_TRACE=1` prints a timestamped timeline of
//!   one spawn from the caller, supervisor and PID 1 ([`trace`]). PID 1 enters
//!   its cgroup without the kernel's slow global lock (v2: `CLONE_INTO_CGROUP`;
//!   v1: it moves itself via `tasks`, see `cgroup::Join`); the `host`/`busybox`
//!   rootfs skeleton is built once per runtime dir (`.skel-*`, kept, keyed on
//!   the host files it copies; built by the supervisor when root started
//!   the sandbox, and handed to PID 1 as an id-mapped mount).
//! * Pods ([`pod`]): [`Sandbox::spawn_in_pod`] runs a Pod's infra
//!   (`kubelab-pause`, holding user/net/ipc/uts and pid) or a container that
//!   joins those namespaces with a mount (and pid) namespace of its own, in
//!   a cgroup at a path the caller made ([`pod::cgroups::create_path`]).
//! * Tests and other programs re-exec a different binary with
//!   [`SpawnOptions::helper_exe`] (it must call [`dispatch`] first). kubelab
//!   ships a small one, `kubelab-helper`, installed beside it
//!   ([`front::helper_beside_current_exe`]): supervisors, exec helpers and
//!   `kubelab run`'s foreground process ([`front`]) then do not carry a copy
//!   of the whole app.
//! * Lab worlds ([`world`], [`world_spec`]): several nodes, each a network
//!   namespace, on an underlay namespace with a bridge, inside one user
//!   namespace; `world::up` returns once they are wired, `world::down` and
//!   a killed world process leave nothing.
//!
//! # Layout
//!
//! Folders by concern, in layers that only import downwards (see the
//! sandbox section of docs/ARCHITECTURE.md): `sys` (syscall wrappers) at the
//! bottom; `spec`, `error`, `trace`; then `ns`, `cgroup`, `rootfs`, `pod` and
//! `net` (namespaces, cgroups, the root filesystem, Pod members, a node's
//! own network namespace); `process` (the supervisor, PID 1, the exec
//! helper and their protocol), `observe` and `host` (read-only views, `kubelab doctor`); and
//! `api` (the [`Sandbox`] handle, [`exec`], [`front`]) at the top. The public
//! paths below are re-exports; where a module lives is not part of the API.

mod api;
pub mod cgroup;
mod error;
mod host;
pub mod net;
mod ns;
pub mod observe;
pub mod pod;
mod process;
mod rootfs;
pub mod spec;
mod sys;
pub mod trace;
pub mod world;
pub mod world_spec;

pub use api::{exec, front, spawn};
pub use cgroup::delegation as cgroup_delegation;
pub use error::{Error, EXIT_CANNOT_EXEC, EXIT_NOT_FOUND, EXIT_SETUP_FAILED};
pub use exec::{ExecProcess, ExecRequest};
pub use host::{doctor, hostfacts};
pub use ns::idmap;
pub use observe::inspect;
pub use process::{rlimit, runtime};
pub use rootfs::oci;
pub use spawn::{Sandbox, Signaller, SpawnOptions, StdioMode};

use process::protocol;

/// Runs the helper mode this process was re-executed for, if any. Call it as
/// the very first thing in `main` (before threads or an async runtime start):
/// `if let Some(code) = kubelab_sandbox::dispatch() { std::process::exit(code) }`.
pub fn dispatch() -> Option<i32> {
    if pod::pause::is_pause() {
        return Some(pod::pause::pause_main());
    }
    let arg = std::env::args_os().nth(1)?;
    if arg == protocol::INIT_ARG {
        Some(process::supervisor::supervisor_main())
    } else if arg == protocol::EXEC_ARG {
        Some(process::exec_helper::exec_main())
    } else if arg == protocol::SUPERVISE_ARG {
        Some(process::supervisor::slim_supervisor_main())
    } else if arg == front::RUN_ARG {
        Some(front::helper_main())
    } else if arg == world::KEEPER_ARG {
        Some(world::keeper_main())
    } else if arg == world::EXEC_ARG {
        Some(world::exec_main())
    } else if arg == cgroup::systemd_scope::SCOPE_ARG {
        Some(cgroup::systemd_scope::helper_main())
    } else if arg == net::HOLDER_ARG {
        Some(net::holder::holder_main())
    } else if arg == net::ENTER_ARG {
        Some(net::enter::enter_main())
    } else if arg == net::CHECK_ARG {
        Some(net::enter::check_main())
    } else if arg == net::FORWARD_ARG {
        Some(net::forward::forward_main())
    } else if arg == net::DAEMON_ARG {
        Some(net::daemon::daemon_main())
    } else {
        None
    }
}

/// Whether this process runs as root on the host.
pub fn is_root() -> bool {
    sys::geteuid() == 0
}
