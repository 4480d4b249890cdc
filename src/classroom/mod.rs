//! Running kubelab for a class: `--lock`, progress exports and the roster.
pub mod export;
pub mod hash;
pub mod report;
