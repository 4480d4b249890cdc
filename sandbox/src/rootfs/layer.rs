//! Unpacks one OCI layer tarball into a cache directory, treating the
//! tarball as hostile: every path is resolved inside the destination
//! ([`super::inroot`]), so a symlink in the layer (`x -> /victim`) cannot
//! make a later entry (`x/file`, `x/.wh.file`, a hard link to
//! `x/shadow`) touch the host.
//!
//! What is kept and what is not:
//! * Ownership is never taken from the tarball: files belong to whoever
//!   unpacks (root's cache: root; a user's: that user). The sandbox's uid
//!   mapping decides who owns them inside.
//! * Set-uid/set-gid bits are dropped (and the sticky bit on files): an
//!   unpacked image must not hold a set-id binary any host user could run.
//! * Device nodes are skipped (the sandbox gets a fresh /dev); FIFOs are
//!   made. GNU sparse entries and pax `size` overrides (files > 8 GiB) are
//!   refused.
//! * Bounded: entries, total size, path and pax header lengths.
//!
//! Whiteouts (`.wh.NAME`, `.wh..wh..opq`) become overlay whiteouts (0/0
//! char devices) and opaque-directory xattrs.

use super::inroot::{file_type_at, remove_all_at, shown, InRoot};
use rustix::fs::{self as rfs, FileType, Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// At most this many entries in one layer.
pub(crate) const MAX_ENTRIES: u64 = 1_000_000;
/// At most this many bytes of file content in one layer.
pub(crate) const MAX_LAYER_BYTES: u64 = 32 << 30;
/// PATH_MAX: the longest path or link target an entry may name.
const MAX_PATH: usize = 4096;
/// The longest pax extended header read into memory.
const MAX_PAX: u64 = 64 << 10;

fn bad(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Reads a small metadata entry (long name, pax header) into memory, bounded.
fn read_meta(entry: &mut impl Read, size: u64, max: u64, what: &str) -> io::Result<Vec<u8>> {
    if size > max {
        return Err(bad(format!(
            "a {what} header of {size} bytes (at most {max} are accepted)"
        )));
    }
    let mut v = Vec::with_capacity(size as usize);
    entry.take(size).read_to_end(&mut v)?;
    Ok(v)
}

fn path_from(mut bytes: Vec<u8>, what: &str) -> io::Result<PathBuf> {
    // GNU long names end with a NUL.
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    if bytes.is_empty() || bytes.len() > MAX_PATH || bytes.contains(&0) {
        return Err(bad(format!(
            "an entry with a {what} of {} bytes (empty, NUL inside or over {MAX_PATH})",
            bytes.len()
        )));
    }
    Ok(PathBuf::from(OsString::from_vec(bytes)))
}

/// Names carried by extension headers for the next real entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
}

/// Unpacks the tar stream `reader` into `dest` (an empty directory).
pub(crate) fn unpack(reader: impl Read, dest: &Path) -> io::Result<()> {
    let root = InRoot::open(dest)?;
    let mut ar = tar::Archive::new(reader);
    // Raw: long names and pax headers come to us, so their size is checked
    // before anything is read into memory.
    let entries = ar.entries()?.raw(true);
    let mut pending = Pending::default();
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut dirs: Vec<(PathBuf, u32)> = Vec::new();
    for entry in entries {
        let mut entry = entry?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(bad(format!(
                "more than {MAX_ENTRIES} entries; the layer is too large to unpack"
            )));
        }
        let size = entry.header().entry_size()?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::GNULongName => {
                pending.path = Some(read_meta(
                    &mut entry,
                    size,
                    MAX_PATH as u64 + 1,
                    "long name",
                )?);
                continue;
            }
            tar::EntryType::GNULongLink => {
                pending.link = Some(read_meta(
                    &mut entry,
                    size,
                    MAX_PATH as u64 + 1,
                    "long link",
                )?);
                continue;
            }
            tar::EntryType::XHeader => {
                let data = read_meta(&mut entry, size, MAX_PAX, "pax")?;
                for ext in tar::PaxExtensions::new(&data) {
                    let ext = ext?;
                    match ext.key_bytes() {
                        b"path" => pending.path = Some(ext.value_bytes().to_vec()),
                        b"linkpath" => pending.link = Some(ext.value_bytes().to_vec()),
                        b"size"
                        | b"GNU.sparse.size"
                        | b"GNU.sparse.map"
                        | b"GNU.sparse.realsize"
                        | b"GNU.sparse.major" => {
                            return Err(bad(
                                "a file over 8 GiB or a sparse file (pax `size`/`GNU.sparse`); \
                                 such layers are not supported",
                            ))
                        }
                        _ => {}
                    }
                }
                continue;
            }
            tar::EntryType::XGlobalHeader => {
                read_meta(&mut entry, size, MAX_PAX, "pax global")?;
                continue;
            }
            tar::EntryType::GNUSparse => {
                return Err(bad(
                    "a GNU sparse file; export the image again without sparse files",
                ))
            }
            _ => {}
        }
        let raw_path = pending
            .path
            .take()
            .unwrap_or_else(|| entry.header().path_bytes().into_owned());
        let path = path_from(raw_path, "path")?;
        let link = match pending.link.take() {
            Some(l) => Some(l),
            None => entry.header().link_name_bytes().map(|l| l.into_owned()),
        };
        bytes = bytes.saturating_add(size);
        if bytes > MAX_LAYER_BYTES {
            return Err(bad(format!(
                "{}: the layer's files add up to more than {MAX_LAYER_BYTES} bytes \
                 (this one declares {size}); the layer is too large to unpack",
                shown(&path)
            )));
        }
        let mode = entry.header().mode()? & 0o7777;
        let mtime = entry.header().mtime().unwrap_or(0);
        let e = Item {
            kind,
            path: &path,
            link,
            size,
            mode,
            mtime,
        };
        unpack_entry(&root, e, &mut entry, &mut dirs)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", shown(&path))))?;
    }
    if pending.path.is_some() || pending.link.is_some() {
        return Err(bad(
            "the layer ends with a header for an entry that is missing",
        ));
    }
    // Directory modes last (deepest first): a read-only directory must not
    // stop its own entries from being unpacked.
    // A directory a later entry replaced (by a file, a link) is skipped:
    // the last component is never followed.
    for (path, mode) in dirs.iter().rev() {
        let set = || -> io::Result<()> {
            let (parent, name) = match root.parent(path, None) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
                r => r?,
            };
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            match rfs::openat(&parent, &name, flags, Mode::empty()) {
                Ok(fd) => Ok(rfs::fchmod(&fd, Mode::from_raw_mode(mode & 0o1777))?),
                Err(
                    rustix::io::Errno::NOENT | rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR,
                ) => Ok(()),
                Err(e) => Err(e.into()),
            }
        };
        set().map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", shown(path))))?;
    }
    Ok(())
}

/// One real entry's header, after extension headers were applied.
struct Item<'a> {
    kind: tar::EntryType,
    path: &'a Path,
    link: Option<Vec<u8>>,
    size: u64,
    mode: u32,
    mtime: u64,
}

fn unpack_entry(
    root: &InRoot,
    e: Item<'_>,
    content: &mut impl Read,
    dirs: &mut Vec<(PathBuf, u32)>,
) -> io::Result<()> {
    let path = e.path;
    let link = || path_from(e.link.clone().unwrap_or_default(), "link target");
    match e.kind {
        _ if is_whiteout_meta(path) => {}
        _ if is_whiteout(path) => whiteout(root, path)?,
        tar::EntryType::Directory => {
            if super::inroot::components(path)?.is_empty() {
                return Ok(());
            }
            make_dir(root, path)?;
            dirs.push((path.to_path_buf(), e.mode & 0o1777));
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            write_file(root, path, content, e.size, e.mode, e.mtime)?
        }
        tar::EntryType::Symlink => {
            let target = link()?;
            let (dir, name) = replace_at(root, path)?;
            rfs::symlinkat(&target, &dir, &name)?;
        }
        tar::EntryType::Link => {
            // The target, like every path, resolves inside the layer.
            let (tdir, tname) = root.parent(&link()?, None)?;
            let (dir, name) = replace_at(root, path)?;
            rfs::linkat(&tdir, &tname, &dir, &name, rfs::AtFlags::empty())?;
        }
        tar::EntryType::Fifo => {
            let (dir, name) = replace_at(root, path)?;
            let m = Mode::from_raw_mode(e.mode & 0o777);
            rfs::mknodat(&dir, &name, FileType::Fifo, m, 0)?;
        }
        // Device nodes from an image are never created: the sandbox gets
        // its own /dev. Other types carry nothing to unpack.
        _ => {}
    }
    Ok(())
}

fn is_whiteout(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.as_bytes().starts_with(b".wh."))
}

/// aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) other than the opaque
/// marker: not part of the image, skipped as Docker does.
fn is_whiteout_meta(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        let n = n.as_bytes();
        n.starts_with(b".wh..wh.") && n != b".wh..wh..opq"
    })
}

/// `.wh..wh..opq` marks its directory opaque; `.wh.NAME` hides NAME.
fn whiteout(root: &InRoot, path: &Path) -> io::Result<()> {
    let name = path.file_name().expect("checked by is_whiteout").as_bytes();
    let parent = path.parent().unwrap_or(Path::new(""));
    let dir = root.mkdir_all(parent, 0o755)?;
    if name == b".wh..wh..opq" {
        return set_opaque(&dir);
    }
    let hidden = OsStr::from_bytes(&name[4..]);
    if hidden.is_empty() || hidden == "." || hidden == ".." {
        return Err(bad("a whiteout that names no file"));
    }
    remove_all_at(dir.as_fd(), hidden)?;
    rfs::mknodat(&dir, hidden, FileType::CharacterDevice, Mode::empty(), 0)?;
    Ok(())
}

/// The parent of `path` (created) with whatever was at `path` removed.
fn replace_at(root: &InRoot, path: &Path) -> io::Result<(OwnedFd, OsString)> {
    let (dir, name) = root.parent(path, Some(0o755))?;
    remove_all_at(dir.as_fd(), &name)?;
    Ok((dir, name))
}

/// A directory, replacing a non-directory in the way; owner-writable until
/// the final modes are set.
fn make_dir(root: &InRoot, path: &Path) -> io::Result<()> {
    let (dir, name) = root.parent(path, Some(0o755))?;
    match file_type_at(dir.as_fd(), &name)? {
        Some(FileType::Directory) => return Ok(()),
        Some(_) => remove_all_at(dir.as_fd(), &name)?,
        None => {}
    }
    rfs::mkdirat(&dir, &name, Mode::from_raw_mode(0o700))?;
    Ok(())
}

fn write_file(
    root: &InRoot,
    path: &Path,
    entry: &mut impl Read,
    size: u64,
    mode: u32,
    mtime: u64,
) -> io::Result<()> {
    let (dir, name) = replace_at(root, path)?;
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(&dir, &name, flags, Mode::from_raw_mode(0o600))?;
    let mut f = std::fs::File::from(fd);
    let n = io::copy(&mut entry.take(size), &mut f)?;
    if n != size {
        return Err(bad(format!("truncated: {n} of {size} bytes")));
    }
    // No set-id bits, no sticky bit on files, whatever the image says.
    rfs::fchmod(&f, Mode::from_raw_mode(mode & 0o777))?;
    let t = rfs::Timespec {
        tv_sec: i64::try_from(mtime).unwrap_or(0),
        tv_nsec: 0,
    };
    let _ = rfs::futimens(
        &f,
        &rfs::Timestamps {
            last_access: t,
            last_modification: t,
        },
    );
    Ok(())
}

/// Marks a directory opaque for overlayfs (hides lower layers' contents).
/// Both attribute names are set where allowed: `trusted.` for mounts made by
/// host root, `user.` for mounts with `userxattr` in a user namespace.
fn set_opaque(dir: &OwnedFd) -> io::Result<()> {
    let mut last = None;
    let mut ok = false;
    for name in ["user.overlay.opaque", "trusted.overlay.opaque"] {
        match rfs::fsetxattr(dir, name, b"y", rfs::XattrFlags::empty()) {
            Ok(()) => ok = true,
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) if !ok => Err(e.into()),
        _ => Ok(()),
    }
}
