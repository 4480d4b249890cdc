//! Static Pods: the kubelet's file source (`staticPodPath`). The directory
//! is read every `static_poll`: a new file starts its Pods, a changed file
//! replaces them (the UID is a digest of the content, so a change is a new
//! Pod), a removed file stops them. Hidden files (`.name`) are skipped, as
//! the kubelet does, so editors' temporary files do not start anything; a
//! file that does not parse is reported once and its Pods stopped (the
//! kubelet also drops the Pods of a file it cannot read).

use super::state::Source;
use super::{add_pod, begin_delete, now_rfc3339, Node};
use crate::manifest::{self, static_pod};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

/// At most this many files are read from the directory.
pub const MAX_FILES: usize = 256;

/// What the node last read from one file.
#[derive(Debug, Clone)]
pub struct StaticFile {
    digest: [u8; 32],
    uids: Vec<String>,
}

impl StaticFile {
    /// Makes the next scan read the file again when it lists `uid`.
    pub(crate) fn forget_if_listed(&mut self, uid: &str) -> bool {
        let listed = self.uids.iter().any(|u| u == uid);
        if listed {
            self.digest = [0; 32];
            self.uids.retain(|u| u != uid);
        }
        listed
    }
}

enum Read_ {
    Pods(Vec<manifest::ManifestPod>),
    Bad(String),
}

impl Node {
    pub(crate) fn scan_static_if_due(&self) {
        let Some(dir) = self.inner.config.manifests.clone() else {
            return;
        };
        {
            let mut st = self.lock();
            if st.stopping {
                return;
            }
            let due = st
                .last_static_scan
                .is_none_or(|t| t.elapsed() >= self.inner.config.static_poll);
            if !due {
                return;
            }
            st.last_static_scan = Some(Instant::now());
        }
        self.scan_static(&dir);
    }

    /// Reads the manifests directory once and applies the difference.
    pub fn scan_static(&self, dir: &std::path::Path) {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect(),
            Err(e) => {
                self.lock()
                    .message(format!("manifests directory {}: {e}", dir.display()));
                return;
            }
        };
        files.sort();
        if files.len() > MAX_FILES {
            self.lock().message(format!(
                "manifests directory {}: more than {MAX_FILES} files; only the first {MAX_FILES} are read",
                dir.display()
            ));
            files.truncate(MAX_FILES);
        }
        let known: BTreeMap<PathBuf, [u8; 32]> = self
            .lock()
            .statics
            .iter()
            .map(|(p, f)| (p.clone(), f.digest))
            .collect();
        // Read and parse outside the lock.
        let mut changed = Vec::new();
        for path in &files {
            let mut text = Vec::new();
            // A lab's sandboxes write this folder: no link, no FIFO.
            let read = super::local_file::open_plain_file(path)
                .and_then(|f| f.take(manifest::MAX_FILE_BYTES + 1).read_to_end(&mut text));
            if let Err(e) = read {
                self.lock()
                    .message(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
            let digest: [u8; 32] = Sha256::digest(&text).into();
            if known.get(path) == Some(&digest) {
                continue;
            }
            let parsed = match String::from_utf8(text) {
                Err(_) => Read_::Bad(format!(
                    "{}:1:1: the manifest is not UTF-8 text",
                    path.display()
                )),
                Ok(text) => match manifest::parse_str(&text, path, self.parse_options()) {
                    Err(e) => Read_::Bad(e.to_string()),
                    Ok(mut pods) => {
                        let seen = now_rfc3339();
                        let mut bad = Vec::new();
                        for mp in &mut pods {
                            bad.extend(
                                super::build::unsupported(
                                    &mp.pod,
                                    self.inner.runtime.pod_network(),
                                )
                                .into_iter()
                                .chain(super::flex_volume::unsupported_here(
                                    &mp.pod,
                                    self.inner.config.volume_plugin_dir.as_deref(),
                                ))
                                .map(|p| format!("{}:{}: {p}", path.display(), mp.line)),
                            );
                            if let Err(e) = static_pod::make_static(
                                &mut mp.pod,
                                &self.inner.config.name,
                                path,
                                &seen,
                            ) {
                                bad.push(format!("{}:{}: {e}", path.display(), mp.line));
                            }
                        }
                        if bad.is_empty() {
                            Read_::Pods(pods)
                        } else {
                            Read_::Bad(bad.join("\n"))
                        }
                    }
                },
            };
            changed.push((path.clone(), digest, parsed));
        }
        let present: BTreeSet<&PathBuf> = files.iter().collect();
        let mut st = self.lock();
        // Read while the node began to stop: it adds nothing any more.
        if st.stopping {
            return;
        }
        let gone: Vec<PathBuf> = st
            .statics
            .keys()
            .filter(|p| !present.contains(p))
            .cloned()
            .collect();
        for path in gone {
            if let Some(f) = st.statics.remove(&path) {
                for uid in f.uids {
                    if let Some(e) = st.pods.get_mut(&uid) {
                        begin_delete(e, None);
                    }
                }
            }
        }
        for (path, digest, parsed) in changed {
            let old = st.statics.remove(&path).map(|f| f.uids).unwrap_or_default();
            let pods = match parsed {
                Read_::Pods(p) => p,
                Read_::Bad(msg) => {
                    st.message(msg);
                    Vec::new()
                }
            };
            let new_uids: Vec<String> = pods
                .iter()
                .filter_map(|p| p.pod.metadata.uid.clone())
                .collect();
            for uid in &old {
                if !new_uids.contains(uid) {
                    if let Some(e) = st.pods.get_mut(uid) {
                        begin_delete(e, None);
                    }
                }
            }
            for mp in pods {
                let uid = mp.pod.metadata.uid.clone().unwrap_or_default();
                if !st.pods.contains_key(&uid) {
                    add_pod(&mut st, mp, Source::File(path.clone()));
                }
            }
            st.statics.insert(
                path,
                StaticFile {
                    digest,
                    uids: new_uids,
                },
            );
        }
        drop(st);
        self.kick();
    }
}
