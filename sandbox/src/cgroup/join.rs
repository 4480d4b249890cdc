//! Moving processes into a sandbox's cgroup: the cheap ways ([`Join`]) and
//! `cgroup.procs` as the fallback.

use super::handle::Cgroup;
use std::fs;
use std::io::{self, Write};

/// Opens the `cgroup.procs` files of a sandbox cgroup for writing. Writes through
/// these descriptors are checked against the opener's credentials, so they keep
/// working after the supervisor has entered its user namespace.
pub fn open_procs(cg: &Cgroup) -> io::Result<Vec<fs::File>> {
    cg.join_dirs()
        .iter()
        .chain(cg.unified.iter())
        .map(|d| {
            fs::OpenOptions::new()
                .write(true)
                .open(d.join("cgroup.procs"))
        })
        .collect()
}

pub fn attach(files: &mut [fs::File], pid: i32) -> io::Result<()> {
    for f in files {
        f.write_all(pid.to_string().as_bytes())?;
    }
    Ok(())
}

/// How a sandbox's PID 1 gets into its cgroup, opened by the supervisor
/// before it enters its user namespace (writes are checked against the
/// opener's credentials, so these keep working afterwards).
///
/// The obvious way, writing PID 1's pid into `cgroup.procs` of every
/// hierarchy, takes the kernel's global cgroup threadgroup lock for writing,
/// which waits for an RCU grace period: 5-17 ms per spawn measured on this
/// kind of host, most of a spawn. Instead:
/// * v2: the supervisor clones PID 1 straight into the cgroup
///   (`clone3(CLONE_INTO_CGROUP)`), which only takes that lock for reading;
/// * v1: PID 1, still single-threaded, moves itself by writing `0` to each
///   hierarchy's `tasks` file; the kernel skips the global lock when a
///   thread moves only itself (0.03 ms per hierarchy).
///
/// `procs` is the slow fallback if either is refused (older kernels).
#[derive(Debug, Default)]
pub(crate) struct Join {
    pub tasks: Vec<fs::File>,
    pub dir: Option<fs::File>,
    pub procs: Vec<fs::File>,
}

/// `eager_procs`: open the fallback's `cgroup.procs` files now (a supervisor
/// about to enter its user namespace); else [`Join::procs_or_open`] opens
/// them only if a fallback is needed (a supervisor that stays host root).
pub(crate) fn prepare_join(cg: &Cgroup, eager_procs: bool) -> io::Result<Join> {
    let mut j = Join {
        procs: if eager_procs {
            open_procs(cg)?
        } else {
            Vec::new()
        },
        ..Join::default()
    };
    if cg.version == 2 {
        if let Some(d) = cg.join_dirs().first() {
            j.dir = Some(fs::File::open(d)?);
        }
    } else {
        j.tasks = cg
            .join_dirs()
            .iter()
            .map(|d| fs::OpenOptions::new().write(true).open(d.join("tasks")))
            .collect::<io::Result<_>>()?;
    }
    Ok(j)
}

impl Join {
    /// The `cgroup.procs` files of `cg` for the slow path, opened now if
    /// [`prepare_join`] did not.
    pub(crate) fn procs_or_open(&mut self, cg: Option<&Cgroup>) -> io::Result<&mut [fs::File]> {
        if self.procs.is_empty() {
            if let Some(c) = cg {
                self.procs = open_procs(c)?;
            }
        }
        Ok(&mut self.procs)
    }
}

/// v1: moves the calling (single-threaded) process into every `tasks` file's
/// cgroup. Children forked afterwards inherit the cgroups.
pub(crate) fn join_self(tasks: &mut [fs::File]) -> io::Result<()> {
    for f in tasks {
        f.write_all(b"0")?;
    }
    Ok(())
}
