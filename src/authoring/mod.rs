//! Tools for lesson authors: SUMMARY editing for `kubelab new`, and the file
//! watcher behind `kubelab preview`.
pub mod summary_edit;
pub mod watch;
