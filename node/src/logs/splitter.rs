//! Cutting a byte stream into CRI records, as containerd's CRI logger does
//! (`internal/cri/io/logger.go`, `redirectLogs`): a line ends at `\n` (a
//! `\r\n` ending loses its `\r`), a line longer than the maximum is cut into
//! `P` records of exactly the maximum length followed by an `F` record with
//! the rest, and output that ends without a newline is a `P` record.

use super::Tag;

/// containerd's default `max_container_log_line_size`.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024;

/// Cuts a byte stream into CRI records (see the module doc).
#[derive(Debug)]
pub struct LineSplitter {
    max_len: usize,
    buf: Vec<u8>,
    /// A `\r` held back: it is dropped if a `\n` follows.
    pending_cr: bool,
}

impl LineSplitter {
    /// `max_len` is clamped to at least 1: output is always bounded.
    pub fn new(max_len: usize) -> Self {
        LineSplitter {
            max_len: max_len.max(1),
            buf: Vec::new(),
            pending_cr: false,
        }
    }

    /// Feeds bytes; calls `out` for each record that is complete.
    pub fn push(&mut self, data: &[u8], out: &mut dyn FnMut(Tag, &[u8])) {
        for &c in data {
            if c == b'\n' {
                self.pending_cr = false;
                out(Tag::Full, &self.buf);
                self.buf.clear();
                continue;
            }
            if std::mem::take(&mut self.pending_cr) {
                self.content(b'\r', out);
            }
            if c == b'\r' {
                self.pending_cr = true;
            } else {
                self.content(c, out);
            }
        }
    }

    /// End of stream: what is left is a partial line.
    pub fn finish(&mut self, out: &mut dyn FnMut(Tag, &[u8])) {
        if std::mem::take(&mut self.pending_cr) {
            self.content(b'\r', out);
        }
        if !self.buf.is_empty() {
            out(Tag::Partial, &self.buf);
            self.buf.clear();
        }
    }

    fn content(&mut self, c: u8, out: &mut dyn FnMut(Tag, &[u8])) {
        if self.buf.len() == self.max_len {
            out(Tag::Partial, &self.buf);
            self.buf.clear();
        }
        self.buf.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<(Tag, Vec<u8>)> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut push = |t: Tag, c: &[u8]| out.push((t, c.to_vec()));
        for c in chunks {
            s.push(c, &mut push);
        }
        s.finish(&mut push);
        out
    }

    fn recs(v: &[(Tag, &str)]) -> Vec<(Tag, Vec<u8>)> {
        v.iter().map(|(t, s)| (*t, s.as_bytes().to_vec())).collect()
    }

    #[test]
    fn splits_like_containerd() {
        use Tag::{Full as F, Partial as P};
        assert_eq!(split(16, &[b"a\nbc\n"]), recs(&[(F, "a"), (F, "bc")]));
        // An empty line is an F record with empty content.
        assert_eq!(split(16, &[b"\n"]), recs(&[(F, "")]));
        // CRLF loses its CR, a lone CR stays.
        assert_eq!(split(16, &[b"a\r\nb\rc\n"]), recs(&[(F, "a"), (F, "b\rc")]));
        // Chunk boundaries do not matter, also between \r and \n.
        assert_eq!(
            split(16, &[b"ab\r", b"\ncd", b"e\n"]),
            recs(&[(F, "ab"), (F, "cde")])
        );
        // No newline at the end: P.
        assert_eq!(split(16, &[b"a\nrest"]), recs(&[(F, "a"), (P, "rest")]));
        assert_eq!(split(16, &[b"x\r"]), recs(&[(P, "x\r")]));
        // Longer than the maximum: P chunks of exactly max, then F.
        assert_eq!(
            split(4, &[b"abcdefghij\n"]),
            recs(&[(P, "abcd"), (P, "efgh"), (F, "ij")])
        );
        // Exactly the maximum is one F record, also with CRLF.
        assert_eq!(split(4, &[b"abcd\n"]), recs(&[(F, "abcd")]));
        assert_eq!(split(4, &[b"abcd\r\n"]), recs(&[(F, "abcd")]));
        assert_eq!(
            split(4, &[b"abcdefgh\n"]),
            recs(&[(P, "abcd"), (F, "efgh")])
        );
        assert_eq!(split(4, &[b"abcd"]), recs(&[(P, "abcd")]));
        // Nothing in, nothing out.
        assert_eq!(split(4, &[]), recs(&[]));
    }
}
