//! Reading /proc and cgroupfs files: one `read` for a small file, and
//! mountinfo's octal escapes.

use std::io;
use std::path::Path;

/// Reads a small file (a /proc or cgroupfs file) in one `read` of a 4 KiB
/// buffer, growing only if needed. These files report size 0, so
/// `fs::read_to_string` starts at 32 bytes and needs ~8 reads for a
/// mountinfo.
pub fn read_small(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(4096);
    loop {
        let len = buf.len();
        if buf.capacity() - len < 1024 {
            buf.reserve(buf.capacity());
        }
        let spare = buf.capacity() - len;
        buf.resize(len + spare, 0);
        match f.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                break;
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => return Err(e),
        }
    }
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Undoes mountinfo's escapes: space, tab, newline and backslash are written
/// as `\ooo`.
pub fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .ok()
                .and_then(|t| u8::from_str_radix(t, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_small_reads_a_whole_proc_file() {
        let small = read_small(Path::new("/proc/self/mountinfo")).unwrap();
        let std = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert_eq!(small, std);
        // Longer than the first 4 KiB buffer.
        let big = "x".repeat(10_000);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big"), &big).unwrap();
        assert_eq!(read_small(&dir.path().join("big")).unwrap(), big);
    }

    #[test]
    fn mountinfo_unescapes() {
        assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
    }
}
