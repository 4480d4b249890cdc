//! Network worlds: links, addresses and routes between network namespaces.
//! The mechanisms only; who builds which topology is the caller's business
//! (a lab world: `crate::world`).

pub(crate) mod ip;
