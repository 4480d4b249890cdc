//! Reading CRI log files back: `kubectl logs` with `--tail`, `--timestamps`,
//! `--since-time` and `--previous` (see [`super::LogLayout::previous`]);
//! `--follow` is in [`super::follow`].
//!
//! As the kubelet (`pkg/kubelet/kuberuntime/logs`), a line that does not
//! parse is skipped (here also counted), `--tail` counts records of the
//! current file, and the output of a record is its content followed by a
//! newline for an `F` record and nothing for a `P` record, prefixed with the
//! kubelet's fixed-width RFC 3339 time with `--timestamps`. Lines longer than
//! [`MAX_LINE`] are skipped as garbage, so a hostile file cannot make the
//! reader allocate without bound.
//!
//! Content is the container's raw bytes: escape sequences and all. A caller
//! that prints it to a terminal must sanitize it first.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use super::timestamp::Timestamp;
use super::{Stream, Tag};

/// Longest CRI line accepted (the writer's lines are ≈ 16 KiB at most).
pub const MAX_LINE: usize = 1024 * 1024;

/// One parsed CRI log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub time: Timestamp,
    pub stream: Stream,
    pub tag: Tag,
    /// Raw bytes, without the line's newline.
    pub content: Vec<u8>,
}

impl LogRecord {
    /// What `kubectl logs` prints for this record.
    pub fn render(&self, timestamps: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.content.len() + 32);
        if timestamps {
            out.extend_from_slice(self.time.rfc3339_nano_fixed().as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(&self.content);
        if self.tag == Tag::Full {
            out.push(b'\n');
        }
        out
    }
}

/// Why a line is not a CRI log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("timestamp is not found")]
    NoTimestamp,
    #[error("unexpected timestamp format (RFC 3339 expected)")]
    BadTimestamp,
    #[error("stream type is not found")]
    NoStream,
    #[error("unexpected stream type (stdout or stderr expected)")]
    BadStream,
    #[error("log tag is not found")]
    NoTag,
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
}

/// Parses one line (without its `\n`). Tags are `F`, `P` or `P:…`/`F:…`
/// (the CRI keeps the part after `:` for later use and ignores it).
pub fn parse_line(line: &[u8]) -> Result<LogRecord, ParseError> {
    if line.len() > MAX_LINE {
        return Err(ParseError::TooLong);
    }
    let (ts, rest) = split_space(line).ok_or(ParseError::NoTimestamp)?;
    let time = std::str::from_utf8(ts)
        .ok()
        .and_then(Timestamp::parse_rfc3339)
        .ok_or(ParseError::BadTimestamp)?;
    let (stream, rest) = split_space(rest).ok_or(ParseError::NoStream)?;
    let stream = match stream {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        _ => return Err(ParseError::BadStream),
    };
    let (tags, content) = split_space(rest).ok_or(ParseError::NoTag)?;
    let first = tags.split(|&c| c == b':').next().unwrap_or_default();
    let tag = if first == b"P" {
        Tag::Partial
    } else {
        Tag::Full
    };
    Ok(LogRecord {
        time,
        stream,
        tag,
        content: content.to_vec(),
    })
}

fn split_space(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|&c| c == b' ')?;
    Some((&b[..i], &b[i + 1..]))
}

/// `kubectl logs` options that shape what is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last N records (`--tail`).
    pub tail: Option<usize>,
    /// Only records at or after this time (`--since-time`, `--since`).
    pub since: Option<Timestamp>,
}

/// The records read, and how many lines were skipped as garbage.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogRead {
    pub records: Vec<LogRecord>,
    pub skipped: usize,
}

/// Reads a whole log file (one container instance, without its rotated files,
/// as the kubelet does).
pub fn read_log(path: &Path, opts: &ReadOptions) -> io::Result<LogRead> {
    let mut lines = LineReader::new(File::open(path)?);
    let mut kept = VecDeque::new();
    let mut skipped = 0;
    let mut accept = |line: Option<Vec<u8>>, kept: &mut VecDeque<LogRecord>| match line
        .as_deref()
        .map(parse_line)
    {
        Some(Ok(r)) if opts.since.is_some_and(|s| r.time < s) => {}
        Some(Ok(r)) => {
            kept.push_back(r);
            if opts.tail.is_some_and(|n| kept.len() > n) {
                kept.pop_front();
            }
        }
        _ => skipped += 1,
    };
    while let Some(line) = lines.next_line()? {
        accept(line, &mut kept);
    }
    // A last line without its newline (the writer died mid-line) still counts.
    if let Some(last) = lines.take_incomplete() {
        accept(Some(last), &mut kept);
    }
    Ok(LogRead {
        records: kept.into(),
        skipped,
    })
}

/// Reads complete lines from a file that may still grow, with a bounded
/// buffer; keeps an incomplete last line for the next call.
pub(super) struct LineReader {
    pub(super) reader: BufReader<File>,
    pub(super) pending: Vec<u8>,
    /// Inside a line already longer than MAX_LINE: drop bytes up to its end.
    discarding: bool,
}

impl LineReader {
    pub(super) fn new(file: File) -> Self {
        LineReader {
            reader: BufReader::new(file),
            pending: Vec::new(),
            discarding: false,
        }
    }

    /// `Some(Some(line))` a line, `Some(None)` a line too long (skipped),
    /// `None` no complete line for now.
    pub(super) fn next_line(&mut self) -> io::Result<Option<Option<Vec<u8>>>> {
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(None);
            }
            let newline = available.iter().position(|&c| c == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            if !self.discarding {
                let body = newline.map_or(available, |i| &available[..i]);
                if self.pending.len() + body.len() > MAX_LINE {
                    self.pending.clear();
                    self.discarding = true;
                } else {
                    self.pending.extend_from_slice(body);
                }
            }
            self.reader.consume(take);
            if newline.is_some() {
                return Ok(Some(if std::mem::take(&mut self.discarding) {
                    None
                } else {
                    Some(std::mem::take(&mut self.pending))
                }));
            }
        }
    }

    fn take_incomplete(&mut self) -> Option<Vec<u8>> {
        if self.discarding || self.pending.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.pending))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const T: &str = "2016-10-06T00:17:09.669794202Z";

    #[test]
    fn parses_the_cri_examples() {
        let r = parse_line(format!("{T} stdout P log content 1").as_bytes()).unwrap();
        assert_eq!(
            (r.stream, r.tag, &r.content[..]),
            (Stream::Stdout, Tag::Partial, &b"log content 1"[..])
        );
        assert_eq!(r.time.rfc3339_nano(), T);
        let r = parse_line(format!("{T} stderr F:future x").as_bytes()).unwrap();
        assert_eq!(
            (r.stream, r.tag, &r.content[..]),
            (Stream::Stderr, Tag::Full, &b"x"[..])
        );
        let r = parse_line(format!("{T} stdout F ").as_bytes()).unwrap();
        assert!(r.content.is_empty());
        assert_eq!(r.render(false), b"\n");
        assert_eq!(r.render(true), format!("{T} \n").as_bytes());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let cases: [(&[u8], ParseError); 6] = [
            (b"", ParseError::NoTimestamp),
            (b"nonsense", ParseError::NoTimestamp),
            (b"yesterday stdout F x", ParseError::BadTimestamp),
            (b"2016-10-06T00:17:09Z stdin F x", ParseError::BadStream),
            (b"2016-10-06T00:17:09Z stdout", ParseError::NoStream),
            (b"2016-10-06T00:17:09Z stdout F", ParseError::NoTag),
        ];
        for (line, err) in cases {
            assert_eq!(parse_line(line), Err(err), "{line:?}");
        }
        assert_eq!(
            parse_line(b"\xff\xfe stdout F x"),
            Err(ParseError::BadTimestamp)
        );
    }

    fn write_file(dir: &Path, text: &[u8]) -> std::path::PathBuf {
        let p = dir.join("0.log");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn read_skips_garbage_tails_and_filters_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = Vec::new();
        for i in 0..5 {
            writeln!(text, "2016-10-06T00:17:0{i}Z stdout F line {i}").unwrap();
            text.extend_from_slice(b"garbage \x1b[31m\n");
        }
        text.extend_from_slice(&vec![b'x'; MAX_LINE + 10]);
        text.extend_from_slice(b"\n2016-10-06T00:17:09Z stderr P no newline");
        let p = write_file(dir.path(), &text);
        let all = read_log(&p, &ReadOptions::default()).unwrap();
        assert_eq!(all.records.len(), 6);
        assert_eq!(all.skipped, 6);
        let out: Vec<u8> = all.records.iter().flat_map(|r| r.render(false)).collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "line 0\nline 1\nline 2\nline 3\nline 4\nno newline"
        );
        let tail = read_log(
            &p,
            &ReadOptions {
                tail: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        let contents: Vec<&[u8]> = tail.records.iter().map(|r| &r.content[..]).collect();
        assert_eq!(contents, [&b"line 4"[..], b"no newline"]);
        let since = Timestamp::parse_rfc3339("2016-10-06T00:17:03Z");
        let recent = read_log(
            &p,
            &ReadOptions {
                since,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(recent.records.len(), 3);
        let tail0 = read_log(
            &p,
            &ReadOptions {
                tail: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(tail0.records.is_empty());
    }
}
