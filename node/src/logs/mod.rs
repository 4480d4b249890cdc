//! Container logs in the CRI format, laid out as the kubelet lays them out.
//!
//! Each line of a log file is `<RFC3339Nano time> <stdout|stderr> <F|P> <content>`
//! (CRI `LogTagFull`/`LogTagPartial`, see `kubernetes/cri-api`'s
//! `runtime/v1/constants.go` and the kubelet-cri-logging design). Files live
//! at `<root>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log`, as the
//! kubelet's `/var/log/pods`: one file per container instance, so the
//! previous instance stays readable after a restart (`--previous`).
//!
//! - [`splitter`]: containerd's line splitting; [`writer`]: files, the
//!   kubelet's rotation, the pumps from a container's pipes.
//! - [`reader`]: parsing, tail, timestamps; [`follow`](mod@follow): `-f`.
//!
//! Log content is raw container output; callers sanitize it before showing it
//! on a terminal.

pub mod follow;
pub mod reader;
pub mod splitter;
pub mod timestamp;
pub mod writer;

use std::path::{Path, PathBuf};

pub use follow::{follow, FollowEnd};
pub use reader::{parse_line, read_log, LogRead, LogRecord, ParseError, ReadOptions};
pub use splitter::{LineSplitter, DEFAULT_MAX_LINE};
pub use timestamp::Timestamp;
pub use writer::{pump, rotated_files, LogFile, PumpStats, RotationPolicy, SharedLog};

/// The stream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// `F`: the record ends a line. `P`: the line goes on in the next record of
/// the same stream (cut at the maximum line length, or output that ended
/// without a newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    Full,
    Partial,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Full => "F",
            Tag::Partial => "P",
        }
    }
}

/// A path component from a manifest that is not safe in a log path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} cannot be used in a log path: it must be non-empty, not `.` or `..`, without `/` or NUL, at most 253 bytes")]
pub struct BadComponent {
    pub what: &'static str,
    pub value: String,
}

/// Where the node keeps container logs (the kubelet's `/var/log/pods`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLayout {
    root: PathBuf,
}

impl LogLayout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LogLayout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<namespace>_<name>_<uid>`, the Pod's log directory.
    pub fn pod_dir(&self, namespace: &str, name: &str, uid: &str) -> Result<PathBuf, BadComponent> {
        check("namespace", namespace)?;
        check("pod name", name)?;
        check("pod uid", uid)?;
        Ok(self.root.join(format!("{namespace}_{name}_{uid}")))
    }

    /// `<pod dir>/<container>/<restart_count>.log`.
    pub fn container_log(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        container: &str,
        restart_count: u32,
    ) -> Result<PathBuf, BadComponent> {
        check("container name", container)?;
        Ok(self
            .pod_dir(namespace, name, uid)?
            .join(container)
            .join(format!("{restart_count}.log")))
    }

    /// `--previous`: the log of the last terminated instance, i.e. of
    /// `restart_count - 1`. `Ok(None)` when the container never restarted
    /// (kubectl: "previous terminated container … not found").
    pub fn previous(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        container: &str,
        restart_count: u32,
    ) -> Result<Option<PathBuf>, BadComponent> {
        match restart_count.checked_sub(1) {
            Some(prev) => self
                .container_log(namespace, name, uid, container, prev)
                .map(Some),
            None => {
                check("container name", container)?;
                Ok(None)
            }
        }
    }
}

fn check(what: &'static str, value: &str) -> Result<(), BadComponent> {
    let bad = value.is_empty()
        || value == "."
        || value == ".."
        || value.len() > 253
        || value.contains(['/', '\0']);
    if bad {
        Err(BadComponent {
            what,
            value: value.to_string(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_the_kubelets() {
        let l = LogLayout::new("/var/log/pods");
        assert_eq!(
            l.container_log("default", "web", "1234-ab", "nginx", 2)
                .unwrap(),
            Path::new("/var/log/pods/default_web_1234-ab/nginx/2.log")
        );
        assert_eq!(
            l.previous("default", "web", "1234-ab", "nginx", 2).unwrap(),
            Some(PathBuf::from(
                "/var/log/pods/default_web_1234-ab/nginx/1.log"
            ))
        );
        assert_eq!(
            l.previous("default", "web", "1234-ab", "nginx", 0).unwrap(),
            None
        );
    }

    #[test]
    fn hostile_names_cannot_leave_the_log_root() {
        let l = LogLayout::new("/var/log/pods");
        for (ns, name, c) in [
            ("..", "p", "c"),
            ("ns", "a/../../etc", "c"),
            ("ns", "p", ".."),
            ("ns", "p", ""),
            ("n\0s", "p", "c"),
        ] {
            let err = l.container_log(ns, name, "uid", c, 0).unwrap_err();
            assert!(
                err.to_string().contains("cannot be used in a log path"),
                "{err}"
            );
        }
        assert!(l.previous("ns", "p", "uid", "../x", 0).is_err());
    }

    #[test]
    fn a_restarted_container_keeps_its_previous_log() {
        let dir = tempfile::tempdir().unwrap();
        let l = LogLayout::new(dir.path());
        for restart in 0..2u32 {
            let path = l.container_log("ns", "p", "u", "c", restart).unwrap();
            let log = LogFile::open(&path, None).unwrap().shared();
            pump(
                format!("run {restart}\n").as_bytes(),
                Stream::Stdout,
                &log,
                DEFAULT_MAX_LINE,
            );
        }
        let prev = l.previous("ns", "p", "u", "c", 1).unwrap().unwrap();
        let read = read_log(&prev, &ReadOptions::default()).unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.records[0].content, b"run 0");
    }
}
