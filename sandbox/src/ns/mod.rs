//! Linux namespaces: the user namespace and its id maps ([`idmap`],
//! [`userns`]), the network namespace made beside PID 1 ([`netns`]), and
//! joining a running sandbox's namespaces ([`enter`]), and a lab world
//! node's mount namespace ([`machine_mounts`]). The mechanisms only;
//! which process does what, and when, is `process/`'s business.

pub(crate) mod enter;
pub(crate) mod holder;
pub mod idmap;
pub(crate) mod machine_mounts;
pub(crate) mod netns;
pub(crate) mod userns;
