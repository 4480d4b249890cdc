//! Turning what a raw syscall returns into an `io::Result`, and paths into
//! the C strings it takes.

use std::ffi::CString;
use std::io;

pub fn cstr(p: impl AsRef<std::ffi::OsStr>) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_ref().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

pub(super) fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Repeats a call that may do part of `len` bytes (write, getrandom) from
/// the offset reached so far until all are done, retrying EINTR.
pub(super) fn until_done(len: usize, mut call: impl FnMut(usize) -> isize) -> io::Result<()> {
    let mut off = 0;
    while off < len {
        let r = call(off);
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        off += r as usize;
    }
    Ok(())
}
