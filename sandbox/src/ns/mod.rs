//! Linux namespaces: the user namespace and its id maps ([`idmap`],
//! [`userns`]), the network namespace made beside PID 1 ([`netns`]), and
//! joining a running sandbox's namespaces ([`enter`]). The mechanisms only;
//! which process does what, and when, is `process/`'s business.

pub(crate) mod enter;
pub(crate) mod holder;
pub mod idmap;
pub(crate) mod netns;
pub(crate) mod userns;
