//! The progress file: where it lives, atomic saves, and what happens to a
//! file this build cannot read.

use super::{time, Progress, PROGRESS_VERSION};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("no data directory: neither XDG_DATA_HOME nor HOME is set; pass --data-dir DIR")]
    NoDataDir,
    // The io error is part of the message, not a `source`: with both, `{:#}`
    // printed it twice ("Permission denied …: Permission denied …").
    #[error("{path}: {action}: {cause}")]
    Io {
        path: PathBuf,
        action: &'static str,
        cause: std::io::Error,
    },
}

fn io<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(std::io::Error) -> ProgressError + 'a {
    move |cause| ProgressError::Io {
        path: path.to_path_buf(),
        action,
        cause,
    }
}

/// kubelab's data directory: `--data-dir` if given, else
/// `$XDG_DATA_HOME/kubelab` (when absolute), else `$HOME/.local/share/kubelab`.
pub fn data_dir(flag: Option<&Path>) -> Result<PathBuf, ProgressError> {
    data_dir_with(flag, |k| std::env::var_os(k))
}

fn data_dir_with(
    flag: Option<&Path>,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, ProgressError> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    // The XDG spec says relative values are invalid and must be ignored.
    if let Some(x) = var("XDG_DATA_HOME").map(PathBuf::from) {
        if x.is_absolute() {
            return Ok(x.join("kubelab"));
        }
    }
    match var("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/kubelab")),
        None => Err(ProgressError::NoDataDir),
    }
}

/// The key that names a course's progress file: `builtin` for the shipped
/// course, else `<dir name>-<8 hex digits of the canonical path's SHA-256>`
/// so two courses never share a file.
pub fn course_key(course_dir: &Path, builtin: bool) -> String {
    if builtin {
        return "builtin".into();
    }
    let canon = course_dir
        .canonicalize()
        .unwrap_or_else(|_| course_dir.to_path_buf());
    let hash = Sha256::digest(canon.as_os_str().as_encoded_bytes());
    let name: String = canon
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let hex: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
    if name.is_empty() {
        hex
    } else {
        format!("{name}-{hex}")
    }
}

fn file_name(key: &str) -> String {
    if key == "builtin" {
        "progress.json".into()
    } else {
        format!("progress-{key}.json")
    }
}

/// A progress file and its contents.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    pub progress: Progress,
}

/// The result of [`Store::open`].
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Set when an unreadable or future-version file was moved aside; show
    /// it to the learner.
    pub notice: Option<MovedAside>,
}

/// An existing progress file that was renamed instead of being overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedAside {
    pub from: PathBuf,
    pub to: PathBuf,
    pub reason: String,
}

impl fmt::Display for MovedAside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kubelab: progress file {} {}; it was moved to {} and progress starts fresh",
            self.from.display(),
            self.reason,
            self.to.display()
        )
    }
}

impl Store {
    /// Opens the progress of course `key` (see [`course_key`]) in `dir`.
    /// A missing file is an empty progress; a corrupt or newer-version file
    /// is moved aside (see [`Opened::notice`]). Fails only on I/O errors
    /// (e.g. permissions), never by discarding data.
    pub fn open(dir: &Path, key: &str) -> Result<Opened, ProgressError> {
        let path = dir.join(file_name(key));
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Opened {
                    store: Store {
                        path,
                        progress: Progress::default(),
                    },
                    notice: None,
                })
            }
            Err(e) => return Err(io(&path, "cannot read")(e)),
        };
        let problem = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Err(e) => Some(("corrupt".to_string(), format!("is not valid JSON ({e})"))),
            Ok(v) => match v.get("version").and_then(|x| x.as_u64()) {
                None => Some(("corrupt".into(), "has no version number".into())),
                Some(n) if n > u64::from(PROGRESS_VERSION) => Some((
                    format!("v{n}"),
                    format!(
                        "was written by a newer kubelab (format version {n}, this one reads {PROGRESS_VERSION})"
                    ),
                )),
                Some(_) => match serde_json::from_value::<Progress>(v) {
                    Ok(p) => {
                        return Ok(Opened {
                            store: Store { path, progress: p },
                            notice: None,
                        })
                    }
                    Err(e) => Some(("corrupt".into(), format!("cannot be read ({e})"))),
                },
            },
        };
        let (tag, reason) = problem.expect("every path above returns or sets a problem");
        let to = aside_path(&path, &tag);
        std::fs::rename(&path, &to).map_err(io(&path, "cannot move the unreadable file aside"))?;
        let _ = make_private(&to);
        Ok(Opened {
            store: Store {
                path: path.clone(),
                progress: Progress::default(),
            },
            notice: Some(MovedAside {
                from: path,
                to,
                reason,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the progress atomically: a temporary file in the same
    /// directory, flushed to disk, then renamed over the old file.
    pub fn save(&self) -> Result<(), ProgressError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        private_dir(dir).map_err(io(dir, "cannot create the data directory"))?;
        let mut json = serde_json::to_vec_pretty(&self.progress).expect("progress serializes");
        json.push(b'\n');
        crate::atomic_write::write_atomic(&self.path, &json, 0o600)
            .map_err(io(&self.path, "cannot write"))
    }

    /// Copies the current file to `<file>.bak-<time>` (before a full reset),
    /// returning the backup path, or `None` if there was no file.
    pub fn backup(&self) -> Result<Option<PathBuf>, ProgressError> {
        if !self.path.exists() {
            return Ok(None);
        }
        let to = aside_path(&self.path, "bak");
        std::fs::copy(&self.path, &to).map_err(io(&self.path, "cannot back up"))?;
        make_private(&to).map_err(io(&to, "cannot make the backup private"))?;
        Ok(Some(to))
    }
}

/// Creates the data directory (and missing parents) as 0700, and tightens
/// an existing one this user owns that others could read (older kubelab
/// versions made it 0755): progress holds a learner's answers, and a
/// classroom machine is shared. A directory owned by someone else (a
/// teacher's `--data-dir`) is left as its owner set it.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    let mine = meta.uid() == rustix::process::geteuid().as_raw();
    if mine && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes a file readable and writable by its owner only.
fn make_private(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
}

/// `<file>.<tag>-<UTC time>`, with a counter if that name exists already.
fn aside_path(path: &Path, tag: &str) -> PathBuf {
    let base = format!(
        "{}.{tag}-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        time::compact(time::now())
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut candidate = dir.join(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = dir.join(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

#[cfg(test)]
pub(super) fn data_dir_for_test(
    flag: Option<&Path>,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, ProgressError> {
    data_dir_with(flag, var)
}
