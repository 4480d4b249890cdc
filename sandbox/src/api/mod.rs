//! The crate's public face: [`spawn::Sandbox`] (start, observe, signal,
//! wait, kill), [`exec`] into a running sandbox, and [`front`], a sandbox in
//! the foreground as `kubelab run` shows it. Everything below is reached
//! through here or through the re-exports in `lib.rs`.

pub mod exec;
pub mod front;
mod handoff;
pub mod spawn;
mod validate;
