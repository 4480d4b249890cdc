//! Inspector panes: namespaces, processes, cgroup, filesystem, network.
//!
//! A [`sampler::Sampler`] thread per sandbox reads the engine's observations
//! at 4 Hz (only for the panes shown) into an [`model::Inspection`]; the UI
//! draws it with [`render::render`]. When a view is unavailable (no cgroup,
//! no network namespace) the pane shows one line saying why, never zeros.
pub mod model;
pub mod net;
pub mod render;
pub mod sampler;
