//! cgroups v1, v2 and hybrid: detection, one cgroup per sandbox, limits, stats,
//! and whole-cgroup kill + removal.
//!
//! Layout: the sandbox cgroup is `<parent>/kubelab/<id>` in every hierarchy used,
//! where `<parent>` is the cgroup kubelab itself runs in (v1, and v2 rootless
//! with delegation) or the root (v2 as root). The `kubelab` directory is removed
//! again when it becomes empty, so nothing named kubelab outlives the sandboxes.
//!
//! Files, lowest first (each imports only files above it in this list):
//! * `hierarchy.rs`: the mounted hierarchies and a process's place in them;
//!   [`tree`]: where in each tree a sandbox sits, so it can neither raise its
//!   limits nor leave them; `stats.rs`: the counters and their readers;
//! * `handle.rs`: a sandbox's [`Cgroup`] directories; `files.rs`: making
//!   `kubelab/<id>` and writing limits; `owner.rs`: whether a cgroup is
//!   delegated to a user;
//! * [`nested`]: cgroups at a path the caller chooses below `kubelab/` (a
//!   Pod's `kubepods/…/pod<UID>/<container>`), created level by level and
//!   removed as a tree;
//! * `v1.rs` and `v2.rs`: each version's limits, counters and kill, behind
//!   the same three functions (`create`, `stats`, `kill_all`), chosen by
//!   [`Cgroup::version`] in `ops.rs` (which also tears a cgroup down);
//! * [`devices`]: which device nodes a cgroup may open (runc's default
//!   list and the caller's), `devices_v1.rs` the v1 controller's files,
//!   `devices_v2.rs` the v2 BPF program assembled and attached;
//! * `create.rs`: the plan of hierarchies and the creation; `join.rs`:
//!   moving PID 1 or an exec in;
//! * [`systemd_scope`] and [`delegation`]: where a rootless v2
//!   `kubelab/<id>` may go, one [`delegation::LimitsPath`] per way (root, a
//!   delegated ancestor, a systemd scope, none).

mod create;
pub mod delegation;
pub mod devices;
mod devices_v1;
mod devices_v2;
mod files;
mod handle;
mod hierarchy;
mod join;
pub mod nested;
mod ops;
mod owner;
mod stats;
pub mod systemd_scope;
pub mod tree;
mod v1;
mod v2;

pub use create::{create, create_for, create_with, swap_note, NoCgroupReason};
pub(crate) use create::{plan, Plan};
pub use handle::Cgroup;
pub(crate) use hierarchy::{dir_in as hierarchy_dir_in, proc_cgroup as hierarchy_proc_cgroup};
pub use hierarchy::{hierarchies, mode, Hierarchy, Mode};
pub use join::{attach, open_procs};
pub(crate) use join::{join_self, prepare_join, Join};
pub use stats::Stats;
