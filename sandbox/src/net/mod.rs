//! Network namespaces a program keeps for itself: a node's own network
//! namespace (and, rootless, the user namespace that owns it), held by a
//! small process, entered by the children that need it (CNI plugins,
//! probes), gone with its holder; and the links, addresses and routes
//! between network namespaces.
//!
//! - [`holder`]: the holder process and the caller's handle on it
//!   ([`NodeNetns`]); the namespace lives exactly as long as the caller
//!   keeps the handle and is alive itself (the holder exits when its stdin
//!   closes, so `kill -9` of the caller ends it too).
//! - [`enter`]: a helper mode that joins a holder's namespaces and execs a
//!   program (CNI plugins run through it, so the bridge and the node-side
//!   veths are made in the node's namespace, never the host's).
//! - [`check`]: TCP and HTTP checks (the kubelet's `tcpSocket` and
//!   `httpGet` probes), run by a helper mode inside a holder's namespaces.
//! - [`daemon`]: a long-running program (a node's dnsmasq) started in a
//!   holder's namespaces by a helper that ends it when the caller goes.
//! - [`ip`]: iproute2's `ip -batch` run in a chosen network namespace (lab
//!   worlds wire their nodes with it, see `crate::world`).
//!
//! Lab worlds put several network namespaces in one user namespace and
//! one PID namespace; their node holders are forked by the world's init
//! (`crate::ns::holder`), not re-executed like [`holder`]'s, so that a
//! world costs no exec per node and dies with its init.

pub mod check;
pub mod daemon;
pub(crate) mod enter;
pub mod forward;
pub mod holder;
pub(crate) mod ip;

pub use check::{CheckOutcome, NetCheck};
pub use holder::{NodeNetns, NodeNetnsOptions};
pub use ip::find_ip;

/// argv[1] of the holder process.
pub(crate) const HOLDER_ARG: &str = "__kubelab-netns-holder";
/// argv[1] of the enter-and-exec helper.
pub(crate) const ENTER_ARG: &str = "__kubelab-netns-enter";
/// argv[1] of the port forwarder ([`forward`]).
pub(crate) const FORWARD_ARG: &str = "__kubelab-netns-forward";
/// argv[1] of the daemon helper ([`daemon`]).
pub(crate) const DAEMON_ARG: &str = "__kubelab-netns-daemon";
/// argv[1] of the check helper.
pub(crate) const CHECK_ARG: &str = "__kubelab-netns-check";
