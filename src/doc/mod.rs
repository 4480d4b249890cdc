//! The lesson document: Markdown parsed into kubelab's own IR, with source lines.
//!
//! `ir` holds the types (the contract between the parser and the renderer);
//! `parse` turns a lesson body into a [`ir::Doc`]; `fence` reads interactive
//! markers from fence info strings; `quiz` reads ```` ```toml quiz ```` bodies;
//! `cluster_check` reads the bodies of cluster checks.
pub mod cluster_check;
pub mod fence;
pub mod html;
pub mod ir;
pub mod parse;
pub mod quiz;

pub use parse::{parse_body, Parsed};
