//! kubelab: an interactive terminal course on containers and Kubernetes.
#![forbid(unsafe_code)]

pub mod app;
pub mod atomic_write;
pub mod authoring;
pub mod classroom;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod course;
pub mod diagnostic;
pub mod doc;
pub mod i18n;
pub mod lab;
pub mod lint;
pub mod locale;
pub mod panes;
pub mod progress;
pub mod render;
pub mod terminal;
pub mod ui;
pub mod wrap;

/// Parses the command line and runs it; returns the process exit code.
pub fn main_entry() -> i32 {
    use clap::Parser;
    cli::dispatch(cli::Cli::parse())
}
