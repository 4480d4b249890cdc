//! `kubectl logs -f`: following a CRI log file as it grows and rotates.
//!
//! The kubelet waits with fsnotify and a one-second forced check; this polls
//! at a caller-chosen interval, which is simpler and enough for a lab node.
//! Unlike the kubelet, it carries on across a rotation of the file: the rest
//! of the old file is read, then the files written after it, in order.
//! Content is raw container output (see [`super::reader`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::reader::{parse_line, LineReader, LogRecord, ReadOptions};

/// The file written after the one with inode `ino`: the next rotated file,
/// or the current log. `None` when `ino` is the current log (no rotation).
fn next_in_chain(path: &Path, ino: u64) -> io::Result<Option<File>> {
    match std::fs::metadata(path) {
        Ok(m) if m.ino() == ino => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let mut chain = super::writer::rotated_files(path)?;
    chain.push(path.to_path_buf());
    let at = chain
        .iter()
        .position(|p| std::fs::metadata(p).is_ok_and(|m| m.ino() == ino));
    // Our file was already removed as excess: carry on with the oldest left.
    let next = at.map_or(0, |i| i + 1);
    for candidate in &chain[next..] {
        match File::open(candidate) {
            Ok(f) => return Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// How a follow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowEnd {
    /// `keep_going` said stop (the container ended, or the reader was asked
    /// to stop); everything written before that was delivered.
    Stopped,
    /// `on_record` returned false.
    Consumer,
}

/// `kubectl logs -f`: delivers the (tailed) records already in the file,
/// then new ones as the file grows, polling every `poll`; when the file is
/// rotated, the rest of the old file is read and then the new one from its
/// start. Before each wait, `keep_going` is asked (e.g. "is the container
/// still running and nobody pressed Ctrl-C"); on false, what is in the file
/// is delivered and the follow ends. Garbage lines are skipped.
pub fn follow(
    path: &Path,
    opts: &ReadOptions,
    poll: Duration,
    keep_going: &mut dyn FnMut() -> bool,
    on_record: &mut dyn FnMut(LogRecord) -> bool,
) -> io::Result<FollowEnd> {
    let file = File::open(path)?;
    let mut ino = file.metadata()?.ino();
    let mut lines = LineReader::new(file);
    // The tail of what is already there.
    let mut backlog = VecDeque::new();
    while let Some(line) = lines.next_line()? {
        if let Some(Ok(r)) = line.as_deref().map(parse_line) {
            backlog.push_back(r);
            if opts.tail.is_some_and(|n| backlog.len() > n) {
                backlog.pop_front();
            }
        }
    }
    let wanted = |r: &LogRecord| opts.since.is_none_or(|s| r.time >= s);
    for r in backlog {
        if wanted(&r) && !on_record(r) {
            return Ok(FollowEnd::Consumer);
        }
    }
    loop {
        let last_round = !keep_going();
        // Drain the open file, then see whether it was rotated or truncated.
        loop {
            while let Some(line) = lines.next_line()? {
                if let Some(Ok(r)) = line.as_deref().map(parse_line) {
                    if wanted(&r) && !on_record(r) {
                        return Ok(FollowEnd::Consumer);
                    }
                }
            }
            let Some(next) = next_in_chain(path, ino)? else {
                break;
            };
            ino = next.metadata()?.ino();
            lines = LineReader::new(next);
        }
        let pos = lines.reader.stream_position()?;
        if lines.reader.get_ref().metadata()?.len() < pos {
            // Truncated in place (copytruncate): start over.
            lines.reader.seek(SeekFrom::Start(0))?;
            lines.pending.clear();
            continue;
        }
        if last_round {
            return Ok(FollowEnd::Stopped);
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::writer::{LogFile, RotationPolicy};
    use crate::logs::{Stream, Tag};
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::Instant;

    const T: &str = "2016-10-06T00:17:09.669794202Z";

    /// Runs `follow` in a thread; records arrive on the channel.
    fn spawn_follow(
        path: std::path::PathBuf,
        tail: Option<usize>,
    ) -> (
        mpsc::Receiver<LogRecord>,
        Arc<AtomicBool>,
        std::thread::JoinHandle<io::Result<FollowEnd>>,
    ) {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            follow(
                &path,
                &ReadOptions { tail, since: None },
                Duration::from_millis(5),
                &mut || !stop2.load(Ordering::SeqCst),
                &mut |r| tx.send(r).is_ok(),
            )
        });
        (rx, stop, handle)
    }

    fn expect(rx: &mpsc::Receiver<LogRecord>, want: &str) {
        let r = rx.recv_timeout(Duration::from_secs(10)).expect(want);
        assert_eq!(String::from_utf8_lossy(&r.content), want);
    }

    #[test]
    fn follow_sees_growth_and_rotation_then_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        let policy = RotationPolicy {
            max_size: 300,
            max_files: 4,
        };
        let mut log = LogFile::open(&path, Some(policy)).unwrap();
        for i in 0..3 {
            log.write_record(Stream::Stdout, Tag::Full, format!("old {i}").as_bytes())
                .unwrap();
        }
        let (rx, stop, handle) = spawn_follow(path.clone(), Some(1));
        expect(&rx, "old 2");
        // Enough lines to rotate three times while following; all arrive in order.
        for i in 0..20 {
            log.write_record(Stream::Stderr, Tag::Full, format!("new {i}").as_bytes())
                .unwrap();
            if i % 5 == 4 {
                for j in i - 4..=i {
                    expect(&rx, &format!("new {j}"));
                }
            }
        }
        assert!(rotated_count(&path) >= 1);
        stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !handle.is_finished() {
            assert!(Instant::now() < deadline, "follow did not stop");
            std::thread::yield_now();
        }
        assert_eq!(handle.join().unwrap().unwrap(), FollowEnd::Stopped);
        assert!(rx.try_recv().is_err(), "nothing extra");
    }

    fn rotated_count(path: &Path) -> usize {
        crate::logs::writer::rotated_files(path).unwrap().len()
    }

    #[test]
    fn follow_waits_for_the_end_of_an_incomplete_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.log");
        std::fs::write(
            &p,
            format!(
                "{T} stdout F first
{T} stdout F sec"
            ),
        )
        .unwrap();
        let (rx, stop, handle) = spawn_follow(p.clone(), None);
        expect(&rx, "first");
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"ond\n").unwrap();
        expect(&rx, "second");
        stop.store(true, Ordering::SeqCst);
        assert_eq!(handle.join().unwrap().unwrap(), FollowEnd::Stopped);
    }
}
