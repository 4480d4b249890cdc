//! Resolving and creating paths *inside* a directory tree that may be
//! hostile: an image layer being unpacked, a foreign rootfs before
//! `pivot_root`. A plain `dir.join(path)` follows the tree's symlinks as
//! the host sees them, so `etc -> /etc` in an image would make kubelab write
//! the host's /etc. Here every path is resolved relative to a directory fd
//! with `openat2(RESOLVE_IN_ROOT)`: symlinks (absolute ones included) and
//! `..` are resolved as if the directory were `/`, the way the sandbox sees
//! them after `pivot_root`. Objects are then created with `*at()` calls on
//! the parent's fd, never following a symlink in the last component.
//!
//! Kernels without openat2 (< 5.6) get a walk component by component with
//! `O_NOFOLLOW`: safe, but a path through a symlink is refused with a clear
//! error instead of being followed.

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once openat2 returned ENOSYS (or was filtered): use the fallback.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// A directory that paths are resolved inside of.
pub(crate) struct InRoot {
    fd: OwnedFd,
}

/// The normal components of `rel`: a leading `/` and `.` are dropped (the
/// path is taken relative to the root); `..` is refused, because no path
/// kubelab or a well-formed image writes needs it.
pub(crate) fn components(rel: &Path) -> io::Result<Vec<&OsStr>> {
    let mut v = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => v.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} has a `..` component", shown(rel)),
                ))
            }
        }
    }
    Ok(v)
}

/// A path from a hostile tree, fit for an error message: quoted, control
/// characters escaped (no terminal escape sequences), at most 200 chars.
pub(crate) fn shown(p: &Path) -> String {
    let s = format!("{:?}", p.as_os_str());
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn join(comps: &[&OsStr]) -> PathBuf {
    let mut p = PathBuf::from(".");
    for c in comps {
        p.push(c);
    }
    p
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

impl InRoot {
    /// Opens `dir`, which itself is trusted (kubelab made it or was given it).
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        let fd = rfs::open(dir, dir_flags(), Mode::empty())?;
        Ok(Self { fd })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens `comps` resolved inside the root (symlinks included).
    fn resolve(&self, comps: &[&OsStr], flags: OFlags) -> io::Result<OwnedFd> {
        let path = join(comps);
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            let how = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
            // EAGAIN: a concurrent rename raced the lookup; the kernel asks
            // for a retry rather than risk a wrong answer.
            for _ in 0..32 {
                match rfs::openat2(&self.fd, &path, flags, Mode::empty(), how) {
                    Err(Errno::AGAIN) => continue,
                    Err(Errno::NOSYS) | Err(Errno::PERM) if !self.openat2_works() => break,
                    r => return r.map_err(Into::into),
                }
            }
            if !NO_OPENAT2.load(Ordering::Relaxed) {
                return Err(io::Error::other(format!(
                    "{}: the path kept changing while being resolved",
                    shown(&path)
                )));
            }
        }
        self.walk_nofollow(comps, flags)
    }

    /// Whether openat2 is usable at all (ENOSYS before 5.6, EPERM under some
    /// container seccomp profiles); remembers a "no".
    fn openat2_works(&self) -> bool {
        let ok = !matches!(
            rfs::openat2(
                &self.fd,
                ".",
                dir_flags(),
                Mode::empty(),
                ResolveFlags::IN_ROOT
            ),
            Err(Errno::NOSYS) | Err(Errno::PERM)
        );
        if !ok {
            NO_OPENAT2.store(true, Ordering::Relaxed);
        }
        ok
    }

    /// The fallback: each component opened with O_NOFOLLOW; a symlink on
    /// the way is an error, never followed.
    fn walk_nofollow(&self, comps: &[&OsStr], flags: OFlags) -> io::Result<OwnedFd> {
        let mut cur = rfs::openat(&self.fd, ".", dir_flags(), Mode::empty())?;
        for (i, c) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let f = if last { flags } else { dir_flags() };
            cur = match rfs::openat(&cur, *c, f | OFlags::NOFOLLOW, Mode::empty()) {
                Err(Errno::LOOP) | Err(Errno::NOTDIR)
                    if rfs::statat(&cur, *c, AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode).is_symlink()) =>
                {
                    return Err(io::Error::other(format!(
                        "{} goes through a symbolic link; following it safely needs \
                         openat2 (Linux >= 5.6), which this kernel lacks",
                        shown(&join(&comps[..=i]))
                    )));
                }
                r => r?,
            };
        }
        Ok(cur)
    }

    /// The directory `rel` (resolved inside the root), or an error.
    pub(crate) fn dir(&self, rel: &Path) -> io::Result<OwnedFd> {
        self.resolve(&components(rel)?, dir_flags())
    }

    /// The directory `rel`, creating missing components with `mode`.
    pub(crate) fn mkdir_all(&self, rel: &Path, mode: u32) -> io::Result<OwnedFd> {
        self.mkdir_comps(&components(rel)?, mode)
    }

    fn mkdir_comps(&self, comps: &[&OsStr], mode: u32) -> io::Result<OwnedFd> {
        let owned = comps.iter().map(|c| c.to_os_string()).collect();
        self.mkdir_owned(owned, mode, 0)
    }

    /// Creates what is missing, left to right. A dangling symlink on the
    /// way is followed (inside the root) by creating its target, as the
    /// sandbox would see it; `depth` bounds symlink chains like ELOOP does.
    fn mkdir_owned(&self, comps: Vec<OsString>, mode: u32, depth: u32) -> io::Result<OwnedFd> {
        let refs: Vec<&OsStr> = comps.iter().map(|c| c.as_os_str()).collect();
        match self.resolve(&refs, dir_flags()) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && !comps.is_empty() => {
                let (last, parent) = comps.split_last().expect("not empty");
                let p = self.mkdir_owned(parent.to_vec(), mode, depth)?;
                match rfs::mkdirat(&p, last, Mode::from_raw_mode(mode)) {
                    Ok(()) => return self.resolve(&refs, dir_flags()),
                    Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                let target = match rfs::readlinkat(&p, last, Vec::new()) {
                    Ok(t) if depth < 40 => t,
                    _ => return self.resolve(&refs, dir_flags()),
                };
                // Where the dangling link points, with `..` clamped at the root.
                let mut next: Vec<OsString> = if target.as_bytes().starts_with(b"/") {
                    Vec::new()
                } else {
                    parent.to_vec()
                };
                for c in Path::new(OsStr::from_bytes(target.as_bytes())).components() {
                    match c {
                        Component::Normal(n) => next.push(n.to_os_string()),
                        Component::ParentDir => {
                            next.pop();
                        }
                        _ => {}
                    }
                }
                self.mkdir_owned(next, mode, depth + 1)
            }
            r => r,
        }
    }

    /// The parent directory of `rel` (created when `create` is Some(mode))
    /// and the last component's name, which the caller uses with `*at()`.
    pub(crate) fn parent(
        &self,
        rel: &Path,
        create: Option<u32>,
    ) -> io::Result<(OwnedFd, OsString)> {
        let comps = components(rel)?;
        let Some((last, parent)) = comps.split_last() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names the root itself", shown(rel)),
            ));
        };
        let fd = match create {
            Some(mode) => self.mkdir_comps(parent, mode)?,
            None => self.resolve(parent, dir_flags())?,
        };
        Ok((fd, last.to_os_string()))
    }

    /// Creates the file `rel` with `data` unless something (a file, a
    /// directory, a symlink, even a dangling one) is already there.
    /// Returns whether it wrote. Parent directories must exist.
    pub(crate) fn create_new_file(&self, rel: &Path, data: &[u8], mode: u32) -> io::Result<bool> {
        let (dir, name) = self.parent(rel, None)?;
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rfs::openat(&dir, &name, flags, Mode::from_raw_mode(mode)) {
            Err(Errno::EXIST) => return Ok(false),
            r => r?,
        };
        io::Write::write_all(&mut std::fs::File::from(fd), data)?;
        Ok(true)
    }
}

/// The type of `name` in `dir`, not following a symlink; None if absent.
pub(crate) fn file_type_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<FileType>> {
    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes `name` in `dir` whatever it is (a directory recursively),
/// never following a symlink: only what is inside `dir` goes.
pub(crate) fn remove_all_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rfs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {}
        Err(e) => return Err(e.into()),
    }
    let flags = dir_flags() | OFlags::NOFOLLOW;
    let sub = match rfs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(&sub)? {
        let entry = entry?;
        let n = entry.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    for n in names {
        remove_all_at(sub.as_fd(), &n)?;
    }
    match rfs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_and_dotdot_symlinks_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let (root, victim) = (t.path().join("root"), t.path().join("victim"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&victim).unwrap();
        symlink(&victim, root.join("abs")).unwrap();
        symlink("../../victim", root.join("rel")).unwrap();
        let r = InRoot::open(&root).unwrap();
        for link in ["abs", "rel"] {
            r.mkdir_all(&Path::new(link).join("made"), 0o755).unwrap();
        }
        assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
        // `/victim` inside the root, `victim` at its top via `..` clamping.
        assert!(root
            .join(t.path().strip_prefix("/").unwrap())
            .join("victim/made")
            .is_dir());
        assert!(root.join("victim/made").is_dir());
    }

    #[test]
    fn a_new_file_never_goes_through_a_final_symlink() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let victim = t.path().join("victim");
        symlink(&victim, root.join("etc/hostname")).unwrap();
        let r = InRoot::open(&root).unwrap();
        assert!(!r
            .create_new_file(Path::new("/etc/hostname"), b"x", 0o644)
            .unwrap());
        assert!(!victim.exists());
        assert!(r
            .create_new_file(Path::new("etc/other"), b"x", 0o644)
            .unwrap());
    }

    #[test]
    fn without_openat2_a_symlink_on_the_way_is_refused_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        symlink(t.path(), root.join("out")).unwrap();
        let r = InRoot::open(&root).unwrap();
        let comps = |p: &'static str| components(Path::new(p)).unwrap();
        assert!(r.walk_nofollow(&comps("a/b"), dir_flags()).is_ok());
        let e = r
            .walk_nofollow(&comps("out/root"), dir_flags())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("\"./out\" goes through a symbolic link"),
            "{e}"
        );
        let e = r.walk_nofollow(&comps("a/out"), dir_flags()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn paths_in_messages_are_escaped_and_bounded() {
        assert_eq!(shown(Path::new("a\x1b[31mb")), "\"a\\u{1b}[31mb\"");
        assert_eq!(
            shown(&Path::new("x").join("y".repeat(500))).chars().count(),
            201
        );
    }

    #[test]
    fn remove_all_stays_inside() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let victim = t.path().join("victim");
        std::fs::create_dir_all(root.join("d/e")).unwrap();
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("keep"), "x").unwrap();
        symlink(&victim, root.join("d/e/link")).unwrap();
        let r = InRoot::open(&root).unwrap();
        remove_all_at(r.fd(), OsStr::new("d")).unwrap();
        assert!(!root.join("d").exists());
        assert!(victim.join("keep").exists());
    }
}
