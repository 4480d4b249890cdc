//! Opening a file of a folder someone else may write to: the static
//! manifests folder and the ConfigMap/Secret folders, which a lab's
//! sandboxes write (src/lab/node/tools.rs in the app). Listing the folder
//! and then opening a name is a race: between the two the name can become a
//! link to a file the node may read and the writer may not (a root node
//! would copy it into a volume), or a FIFO that blocks the sync loop
//! forever. So the open itself refuses links and never blocks, and the
//! type is checked on the opened file.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading if it is a regular file, never through a
/// symbolic link at its last component, never blocking on a FIFO.
pub fn open_plain_file(path: &Path) -> io::Result<File> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a regular file", path.display()),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_link_or_a_fifo_swapped_in_is_refused_at_the_open() {
        let d = tempfile::tempdir().unwrap();
        let secret = d.path().join("host-only");
        std::fs::write(&secret, "root's secret").unwrap();
        let key = d.path().join("color");
        std::os::unix::fs::symlink(&secret, &key).unwrap();
        let e = open_plain_file(&key).map(|mut f| {
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            s
        });
        assert!(e.is_err(), "read through a link: {e:?}");
        std::fs::remove_file(&key).unwrap();
        let ok = std::process::Command::new("mkfifo")
            .arg(&key)
            .status()
            .unwrap();
        assert!(ok.success());
        // Would block forever with a plain open.
        let (tx, rx) = std::sync::mpsc::channel();
        let k = key.clone();
        std::thread::spawn(move || {
            let _ = tx.send(open_plain_file(&k).map(drop));
        });
        let r = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the open of a FIFO blocked");
        assert!(r.is_err());
        std::fs::remove_file(&key).unwrap();
        std::fs::write(&key, "blue").unwrap();
        let mut s = String::new();
        open_plain_file(&key)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "blue");
    }
}
