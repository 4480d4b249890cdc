//! Subcommands that are not the TUI: each module is one `kubelab <command>`.
pub mod class;
pub mod doctor;
pub mod inspect;
pub mod lint;
pub mod list;
pub mod mdbook;
pub mod mdbook_include;
pub mod mdbook_render;
pub mod new;
pub mod new_course;
pub mod open;
pub mod preview;
pub mod progress;
pub mod progress_export;
pub mod run;
pub mod shell_help;
pub mod test;
