//! kubelab: an interactive terminal course on containers and Kubernetes.
#![forbid(unsafe_code)]

pub mod app;
pub mod atomic_write;
pub mod authoring;
pub mod classroom;
pub mod cli;
mod cli_zh;
pub mod cluster;
pub mod commands;
pub mod context;
pub mod course;
pub mod diagnostic;
pub mod doc;
pub mod i18n;
pub mod lab;
pub mod limits_off;
pub mod lint;
pub mod locale;
pub mod lock;
pub mod panes;
pub mod picture;
pub mod progress;
pub mod render;
pub mod sanitize;
pub mod terminal;
pub mod terminal_guard;
pub mod ui;
pub mod wrap;

/// Parses the command line and runs it; returns the process exit code.
pub fn main_entry() -> i32 {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Help in the learner's language: clap's text is chosen before parsing.
    let cmd = cli_zh::localize(cli::Cli::command(), cli_zh::early_lang(&args));
    let cli = cmd
        .try_get_matches_from(args)
        .and_then(|m| cli::Cli::from_arg_matches(&m))
        .unwrap_or_else(|e| e.exit());
    cli::dispatch(cli)
}
