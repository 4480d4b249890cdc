//! Writing container output as CRI log lines, with size-based rotation.
//!
//! Lines are cut by [`super::splitter`]. Rotation follows the kubelet's
//! container log manager (`pkg/kubelet/logs`): once the file reaches the
//! maximum size it is renamed to `<name>.<YYYYmmdd-HHMMSS>` and a new file is
//! started; at most `max_files` files exist (the current one included), the
//! oldest go first. Unlike the kubelet, rotated files are not gzipped, and a
//! second rotation within the same second gets a `.N` suffix instead of
//! overwriting the first one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::splitter::LineSplitter;
use super::timestamp::Timestamp;
use super::{Stream, Tag};

/// When to rotate a container's log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Rotate once the file holds at least this many bytes.
    pub max_size: u64,
    /// Files kept, the current one included (≥ 2, as the kubelet requires).
    pub max_files: usize,
}

impl Default for RotationPolicy {
    /// The kubelet's defaults: `containerLogMaxSize: 10Mi`, `containerLogMaxFiles: 5`.
    fn default() -> Self {
        RotationPolicy {
            max_size: 10 * 1024 * 1024,
            max_files: 5,
        }
    }
}

/// One container instance's log file (`<restartCount>.log`), shared by the
/// stdout and stderr pumps through [`SharedLog`].
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: File,
    size: u64,
    policy: Option<RotationPolicy>,
}

/// The log file as the two pumps of a container hold it.
pub type SharedLog = Arc<Mutex<LogFile>>;

impl LogFile {
    /// Opens (appending) or creates the file and its directories.
    /// `policy: None` never rotates.
    pub fn open(path: &Path, policy: Option<RotationPolicy>) -> io::Result<LogFile> {
        if let Some(p) = policy {
            if p.max_files < 2 || p.max_size == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "log rotation needs max_files >= 2 and max_size > 0 (got {} files, {} bytes)",
                        p.max_files, p.max_size
                    ),
                ));
            }
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            size,
            policy,
        })
    }

    pub fn shared(self) -> SharedLog {
        Arc::new(Mutex::new(self))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record, stamped now, as one `write` so that stdout and
    /// stderr lines never interleave inside a line; then rotates if due.
    pub fn write_record(&mut self, stream: Stream, tag: Tag, content: &[u8]) -> io::Result<()> {
        self.write_record_at(Timestamp::now(), stream, tag, content)
    }

    pub fn write_record_at(
        &mut self,
        time: Timestamp,
        stream: Stream,
        tag: Tag,
        content: &[u8],
    ) -> io::Result<()> {
        let head = format!(
            "{} {} {} ",
            time.rfc3339_nano(),
            stream.as_str(),
            tag.as_str()
        );
        let mut line = Vec::with_capacity(head.len() + content.len() + 1);
        line.extend_from_slice(head.as_bytes());
        line.extend_from_slice(content);
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.size += line.len() as u64;
        match self.policy {
            Some(p) if self.size >= p.max_size => self.rotate(p),
            _ => Ok(()),
        }
    }

    fn rotate(&mut self, policy: RotationPolicy) -> io::Result<()> {
        let stamp = Timestamp::now().rotation_suffix();
        // Within one second, number the files after the newest kept one of
        // that second (an older one may have been removed already).
        let last_n = rotated_with_keys(&self.path)?
            .into_iter()
            .filter(|((s, _), _)| *s == stamp)
            .map(|((_, n), _)| n)
            .max();
        let name = match last_n {
            None => format!("{}.{stamp}", self.path.display()),
            Some(n) => format!("{}.{stamp}.{}", self.path.display(), n + 1),
        };
        let target = PathBuf::from(name);
        fs::rename(&self.path, &target)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        let rotated = rotated_files(&self.path)?;
        let excess = rotated.len().saturating_sub(policy.max_files - 1);
        for old in &rotated[..excess] {
            match fs::remove_file(old) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    // containerd creates log files 0640.
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(path)
}

/// The rotated files of `log` (`<log>.<YYYYmmdd-HHMMSS>[.N]`), oldest first.
pub fn rotated_files(log: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(rotated_with_keys(log)?
        .into_iter()
        .map(|(_, p)| p)
        .collect())
}

/// The rotated files of `log` with their sort keys, oldest first.
fn rotated_with_keys(log: &Path) -> io::Result<Vec<((String, u64), PathBuf)>> {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(suffix) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if let Some(key) = rotation_key(suffix) {
            found.push((key, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Sort key of a rotation suffix `YYYYmmdd-HHMMSS[.N]`; `None` for other files.
fn rotation_key(suffix: &str) -> Option<(String, u64)> {
    let (stamp, n) = match suffix.split_once('.') {
        Some((s, n)) => (s, n.parse::<u64>().ok()?),
        None => (suffix, 0),
    };
    let b = stamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 15 && b[8] == b'-' && digits(0..8) && digits(9..15) {
        Some((stamp.to_string(), n))
    } else {
        None
    }
}

/// What a pump did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PumpStats {
    pub records: u64,
    /// Records lost to write errors (the pump keeps draining the stream, as
    /// containerd does, so a full disk never blocks the container).
    pub write_errors: u64,
}

/// Copies a container's stdout or stderr into its log until end of stream.
/// Meant for one thread per stream. A read error ends the stream.
pub fn pump(mut input: impl Read, stream: Stream, log: &SharedLog, max_line: usize) -> PumpStats {
    let mut splitter = LineSplitter::new(max_line);
    let mut stats = PumpStats::default();
    let mut buf = [0u8; 4096];
    let mut emit = |tag: Tag, content: &[u8]| {
        let written = match log.lock() {
            Ok(mut file) => file.write_record(stream, tag, content),
            Err(poisoned) => poisoned.into_inner().write_record(stream, tag, content),
        };
        match written {
            Ok(()) => stats.records += 1,
            Err(_) => stats.write_errors += 1,
        }
    };
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => splitter.push(&buf[..n], &mut emit),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    splitter.finish(&mut emit);
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::DEFAULT_MAX_LINE;

    #[test]
    fn writes_cri_lines_and_rotates_keeping_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ns_pod_uid/c/0.log");
        let policy = RotationPolicy {
            max_size: 200,
            max_files: 3,
        };
        let mut log = LogFile::open(&path, Some(policy)).unwrap();
        let t = Timestamp::parse_rfc3339("2016-10-06T00:17:09.669794202Z").unwrap();
        log.write_record_at(t, Stream::Stdout, Tag::Full, b"hello")
            .unwrap();
        log.write_record_at(t, Stream::Stderr, Tag::Partial, b"wor")
            .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "2016-10-06T00:17:09.669794202Z stdout F hello\n\
             2016-10-06T00:17:09.669794202Z stderr P wor\n"
        );
        // ~50 bytes a line, 200 bytes a file: 40 lines rotate about ten times.
        for i in 0..40 {
            log.write_record(Stream::Stdout, Tag::Full, format!("line {i:02}").as_bytes())
                .unwrap();
        }
        let rotated = rotated_files(&path).unwrap();
        assert_eq!(rotated.len(), 2, "{rotated:?}");
        let mut all = String::new();
        for f in rotated.iter().chain([&path]) {
            let text = fs::read_to_string(f).unwrap();
            assert!(f == &path || text.len() >= 200, "{f:?} rotated early");
            all.push_str(&text);
        }
        let kept: Vec<&str> = all.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
        // The newest lines survive, in order, ending with the last one.
        assert!(kept.len() >= 8, "{kept:?}");
        let first: usize = kept[0].parse().unwrap();
        let expected: Vec<String> = (first..40).map(|i| format!("{i:02}")).collect();
        assert_eq!(kept, expected);
        // Nothing else in the directory.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 3);
    }

    #[test]
    fn rotation_names_sort_by_time_then_sequence() {
        assert_eq!(
            rotation_key("20261206-153850"),
            Some(("20261206-153850".into(), 0))
        );
        assert_eq!(
            rotation_key("20261206-153850.12"),
            Some(("20261206-153850".into(), 12))
        );
        for bad in [
            "",
            "gz",
            "20261206-153850.gz",
            "2026120615385",
            "20261206x153850",
        ] {
            assert_eq!(rotation_key(bad), None, "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        for n in [
            "0.log.20261206-153850.10",
            "0.log.20261206-153850.2",
            "0.log.20261206-153849",
            "1.log",
            "0.log.tmp",
        ] {
            fs::write(dir.path().join(n), "").unwrap();
        }
        let names: Vec<String> = rotated_files(&log)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "0.log.20261206-153849",
                "0.log.20261206-153850.2",
                "0.log.20261206-153850.10"
            ]
        );
    }

    #[test]
    fn rejects_a_policy_the_kubelet_rejects() {
        let dir = tempfile::tempdir().unwrap();
        let bad = RotationPolicy {
            max_size: 10,
            max_files: 1,
        };
        let err = LogFile::open(&dir.path().join("0.log"), Some(bad)).unwrap_err();
        assert!(err.to_string().contains("max_files >= 2"), "{err}");
    }

    #[test]
    fn pump_writes_both_streams_into_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let log = LogFile::open(&path, None).unwrap().shared();
        let out = pump(
            &b"one\ntwo\npart"[..],
            Stream::Stdout,
            &log,
            DEFAULT_MAX_LINE,
        );
        let err = pump(&b"oops\n"[..], Stream::Stderr, &log, DEFAULT_MAX_LINE);
        assert_eq!(
            out,
            PumpStats {
                records: 3,
                write_errors: 0
            }
        );
        assert_eq!(err.records, 1);
        let text = fs::read_to_string(&path).unwrap();
        let tails: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(
            tails,
            [
                "stdout F one",
                "stdout F two",
                "stdout P part",
                "stderr F oops"
            ]
        );
        for l in text.lines() {
            let ts = l.split(' ').next().unwrap();
            assert!(Timestamp::parse_rfc3339(ts).is_some(), "{l}");
        }
    }
}
