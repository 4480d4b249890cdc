//! What the host offers the sandboxes: facts some labs depend on
//! ([`hostfacts`]) and `kubelab doctor`'s checks with their fixes
//! ([`doctor`]). Read-only; never starts a sandbox itself.

pub mod doctor;
pub mod hostfacts;
