//! File watching for `kubelab preview`: a burst of file events (an editor's
//! save is often write + rename + chmod) becomes one [`Reload`] after the
//! files have been quiet for the debounce interval.
//!
//! The parent directory is watched, not the file: editors that save by
//! writing a new file and renaming it over the old one (vim, many IDEs)
//! replace the inode, and a watch on the old inode would go silent.
//!
//! ```no_run
//! # use kubelab::authoring::watch::{watch, Reload};
//! # use std::time::Duration;
//! let (tx, rx) = std::sync::mpsc::channel();
//! let _watch = watch("lessons/en/src/05-process.md".as_ref(), Duration::from_millis(150),
//!                    move |r: Reload| { let _ = tx.send(r); }).unwrap();
//! for reload in rx { /* re-parse reload.paths, redraw */ }
//! ```

use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Files changed in one quiet-terminated burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reload {
    /// Changed files that matter (the lesson, or `.md`/`.toml` in a
    /// watched course), sorted.
    pub paths: Vec<PathBuf>,
}

/// A running watch; dropping it stops watching and ends its thread.
pub struct Watch {
    watcher: Option<notify::RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Dropping the watcher drops the event sender, which ends the thread.
        self.watcher.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What to report for a watched target.
#[derive(Debug, Clone)]
enum Filter {
    /// One lesson file (compared by name inside its directory).
    File(PathBuf),
    /// A course or book directory: lesson and book files below it.
    Dir,
}

impl Filter {
    fn wants(&self, path: &Path) -> bool {
        match self {
            Filter::File(f) => path.file_name() == f.file_name(),
            Filter::Dir => {
                matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "toml"))
                    // mdBook's build output is not the course.
                    && !path.components().any(|c| c.as_os_str() == "book")
            }
        }
    }
}

/// The debounce itself, apart from threads and the file system so it can be
/// tested without timing: changed paths collect until `debounce` has passed
/// since the last one.
#[derive(Debug)]
struct Burst {
    debounce: Duration,
    pending: BTreeSet<PathBuf>,
    deadline: Option<Instant>,
}

impl Burst {
    fn new(debounce: Duration) -> Self {
        Burst {
            debounce,
            pending: BTreeSet::new(),
            deadline: None,
        }
    }

    /// When the current burst ends if nothing else arrives.
    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Changes seen at `now`; an empty set (files nobody asked about) does
    /// not extend the burst.
    fn add(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        let mut any = false;
        for p in paths {
            any = true;
            self.pending.insert(p);
        }
        if any {
            self.deadline = Some(now + self.debounce);
        }
    }

    /// The finished burst, if its quiet time has passed by `now`.
    fn take_due(&mut self, now: Instant) -> Option<Reload> {
        match self.deadline {
            Some(d) if now >= d => {
                self.deadline = None;
                (!self.pending.is_empty()).then(|| Reload {
                    paths: std::mem::take(&mut self.pending).into_iter().collect(),
                })
            }
            _ => None,
        }
    }
}

/// Watches `target` (a lesson file or a course directory) and calls
/// `on_reload` from a background thread once per burst of changes, after
/// `debounce` without further events.
pub fn watch(
    target: &Path,
    debounce: Duration,
    mut on_reload: impl FnMut(Reload) + Send + 'static,
) -> notify::Result<Watch> {
    let (dir, filter, mode) = if target.is_dir() {
        (target.to_path_buf(), Filter::Dir, RecursiveMode::Recursive)
    } else {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (
            parent,
            Filter::File(target.to_path_buf()),
            RecursiveMode::NonRecursive,
        )
    };
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(tx)?;
    watcher.watch(&dir, mode)?;
    let thread = std::thread::Builder::new()
        .name("kubelab-watch".into())
        .spawn(move || {
            let mut burst = Burst::new(debounce);
            loop {
                let got = match burst.deadline() {
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(d) => rx.recv_timeout(d.saturating_duration_since(Instant::now())),
                };
                match got {
                    Ok(Ok(event)) => {
                        if matches!(event.kind, EventKind::Access(_)) {
                            continue;
                        }
                        let wanted = event.paths.into_iter().filter(|p| filter.wants(p));
                        burst.add(wanted, Instant::now());
                    }
                    // A watch error (e.g. the queue overflowed): reload to be safe.
                    Ok(Err(_)) => {
                        let target = match &filter {
                            Filter::File(f) => Some(f.clone()),
                            Filter::Dir => None,
                        };
                        burst.add(target, Instant::now());
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        if let Some(reload) = burst.take_due(Instant::now()) {
                            on_reload(reload);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        })
        .map_err(notify::Error::io)?;
    Ok(Watch {
        watcher: Some(watcher),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBOUNCE: Duration = Duration::from_millis(150);

    /// Collects reloads until none has come for `quiet`: how many reloads a
    /// run of writes makes depends on the scheduler (a CI machine can stall a
    /// thread longer than the debounce), so integration tests only count on
    /// "at least one, and only the files they asked for".
    fn drain(rx: &mpsc::Receiver<Reload>, quiet: Duration) -> Vec<Reload> {
        std::iter::from_fn(|| rx.recv_timeout(quiet).ok()).collect()
    }

    #[test]
    fn changes_closer_than_the_debounce_are_one_burst() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut b = Burst::new(Duration::from_millis(150));
        assert_eq!(b.deadline(), None);
        for i in 0..5u64 {
            b.add([PathBuf::from("05-process.md")], ms(i * 100));
            // Still inside the quiet time of the change before: nothing due.
            assert_eq!(b.take_due(ms(i * 100 + 149)), None);
        }
        assert_eq!(b.deadline(), Some(ms(550)));
        b.add([PathBuf::from("book.toml")], ms(420));
        let r = b.take_due(ms(570)).expect("due after the quiet time");
        assert_eq!(
            r.paths,
            [PathBuf::from("05-process.md"), PathBuf::from("book.toml")]
        );
        assert_eq!(b.deadline(), None);
        assert_eq!(b.take_due(ms(10_000)), None, "a burst reloads once");
    }

    #[test]
    fn changes_to_other_files_neither_reload_nor_extend_a_burst() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut b = Burst::new(Duration::from_millis(150));
        b.add(None, ms(0));
        assert_eq!(b.deadline(), None);
        b.add([PathBuf::from("05-process.md")], ms(10));
        b.add(None, ms(100));
        assert_eq!(b.deadline(), Some(ms(160)));
        assert!(b.take_due(ms(160)).is_some());
    }

    #[test]
    fn a_lesson_file_reloads_on_writes_and_renames_but_not_for_its_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let lesson = dir.path().join("05-process.md");
        std::fs::write(&lesson, "# v1\n").unwrap();
        let (tx, rx) = mpsc::channel();
        let w = watch(&lesson, DEBOUNCE, move |r| {
            let _ = tx.send(r);
        })
        .unwrap();
        let only_the_lesson = |reloads: &[Reload]| {
            reloads
                .iter()
                .flat_map(|r| &r.paths)
                .all(|p| p.file_name() == lesson.file_name())
        };

        for i in 0..5 {
            std::fs::write(&lesson, format!("# v{i}\n")).unwrap();
        }
        let first = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("no reload after writes");
        let mut reloads = vec![first];
        reloads.extend(drain(&rx, DEBOUNCE * 3));
        assert!(only_the_lesson(&reloads), "{reloads:?}");

        // Other files in the directory do not trigger a reload.
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join("06-other.md"), "x").unwrap();
        let stray = drain(&rx, DEBOUNCE * 3);
        assert!(stray.is_empty(), "unexpected reload {stray:?}");

        // Save-by-rename (vim's way) still reloads.
        let tmp = dir.path().join(".05-process.md.swp");
        std::fs::write(&tmp, "# renamed\n").unwrap();
        std::fs::rename(&tmp, &lesson).unwrap();
        let r = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("no reload after rename");
        assert!(
            r.paths.iter().any(|p| p.file_name() == lesson.file_name()),
            "{r:?}"
        );
        drain(&rx, DEBOUNCE * 3);

        // Dropping the watch ends its thread (join in Drop) and the callback.
        drop(w);
        std::fs::write(&lesson, "# after\n").unwrap();
        assert!(rx.recv_timeout(DEBOUNCE * 3).is_err());
    }

    #[test]
    fn a_course_directory_reloads_on_lesson_and_book_files() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("en/src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(dir.path().join("en/book")).unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = watch(dir.path(), DEBOUNCE, move |r| {
            let _ = tx.send(r);
        })
        .unwrap();
        std::fs::write(dir.path().join("en/book/index.md"), "built").unwrap();
        std::fs::write(dir.path().join("en/src/img.png"), "png").unwrap();
        let stray = drain(&rx, DEBOUNCE * 3);
        assert!(stray.is_empty(), "unexpected reload {stray:?}");
        std::fs::write(src.join("SUMMARY.md"), "# Summary\n").unwrap();
        std::fs::write(dir.path().join("en/book.toml"), "[book]\n").unwrap();
        let first = rx.recv_timeout(Duration::from_secs(5)).expect("no reload");
        let mut reloads = vec![first];
        reloads.extend(drain(&rx, DEBOUNCE * 3));
        let names: BTreeSet<_> = reloads
            .iter()
            .flat_map(|r| &r.paths)
            .filter_map(|p| p.file_name())
            .collect();
        let want = ["SUMMARY.md", "book.toml"].map(std::ffi::OsStr::new);
        assert_eq!(names, BTreeSet::from(want), "{reloads:?}");
    }
}
