//! Running kubelab for a class: progress exports, their hashes and the
//! instructor's report (the lock is `crate::lock`).
pub mod export;
pub mod hash;
pub mod report;
