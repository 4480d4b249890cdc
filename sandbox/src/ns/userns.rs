//! The namespaces a sandbox's PID 1 is cloned with, and a rootless
//! supervisor's own user namespace (its uid as the namespace's root).

use crate::error::Error;
use crate::spec::{Namespace, Spec};
use crate::sys;
use std::fs;

/// The `CLONE_NEW*` flags PID 1 is cloned with for `spec`'s namespaces.
pub(crate) fn clone_flags(spec: &Spec) -> libc::c_int {
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

/// Rootless: puts this process into a new user namespace whose root is the
/// caller's `uid`/`gid` (the only map it may write for itself).
pub(crate) fn enter_userns(uid: u32, gid: u32) -> Result<(), Error> {
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
