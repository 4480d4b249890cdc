//! `[node]` of the front matter: its values checked with the line they are
//! on, and the ConfigMap and Secret folders it names read as the hostile
//! course files they are — confined to the course folder (a link may not
//! lead out), regular files only, bounded — for lint and for seeding the
//! lab's node (src/lab/node.rs).

use super::files::{self, FileError};
use super::model::NodeReq;
use crate::diagnostic::Diagnostic;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Bytes of one ConfigMap or Secret, all keys together (the node's own
/// bound, so what kubelab seeds the node can always read).
pub const MAX_OBJECT_BYTES: u64 = kubelab_node::agent::volumes::MAX_DATA_BYTES;
/// Files (keys) in one folder.
pub const MAX_KEYS: usize = 64;
/// ConfigMaps plus Secrets one lesson may declare.
pub const MAX_OBJECTS: usize = 32;
/// `backoff_divisor` above this would make CrashLoopBackOff a busy loop.
pub const MAX_BACKOFF_DIVISOR: u32 = 100;

/// The 1-based file line of `[node]`'s `key` in front matter `front` that
/// starts at file line `first_line`: the first line after the `[node`
/// header that mentions it, else the header, else the first line.
pub fn line_of(front: &str, first_line: u32, key: &str) -> u32 {
    let lines: Vec<&str> = front.lines().collect();
    let Some(header) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("[node"))
    else {
        return first_line;
    };
    let hit = lines[header..]
        .iter()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(key)
                || t.contains(&format!("{key} ="))
                || t.contains(&format!("\"{key}\""))
        })
        .map_or(header, |i| header + i);
    first_line + hit as u32
}

/// The values of `[node]` that need more than their TOML type: a node name
/// Kubernetes accepts, a sane back-off divisor, ConfigMap/Secret names and
/// relative folders. `front` is the TOML text (for the line of the fault).
pub fn check(node: &NodeReq, front: &str, first_line: u32, path: &Path) -> Result<(), Diagnostic> {
    let at = |key: &str, message: String| {
        Diagnostic::error(path, line_of(front, first_line, key), 1, message)
    };
    let name = crate::sanitize::line(&node.name);
    if let Err(e) = kubelab_node::manifest::names::dns1123_label(&node.name) {
        return Err(at(
            "name",
            format!(
                "[node] name = \"{name}\": {e}; a node name is a DNS-1123 label, e.g. \"node1\""
            ),
        ));
    }
    if !(1..=MAX_BACKOFF_DIVISOR).contains(&node.backoff_divisor) {
        return Err(at(
            "backoff_divisor",
            format!(
                "[node] backoff_divisor = {}: use 1 (the kubelet's own 10 s … 5 min) up to \
                 {MAX_BACKOFF_DIVISOR}; 10 gives 1 s … 30 s",
                node.backoff_divisor
            ),
        ));
    }
    for (kind, count) in &node.devices {
        if let Err(e) = kubelab_node::agent::devices::check(kind, *count) {
            return Err(at(
                "devices",
                format!("[node] devices: {}", crate::sanitize::line(&e)),
            ));
        }
    }
    if node.configmaps.len() + node.secrets.len() > MAX_OBJECTS {
        return Err(at(
            "configmaps",
            format!("[node] declares more than {MAX_OBJECTS} ConfigMaps and Secrets; keep a lesson's objects few"),
        ));
    }
    for (table, objects) in [("configmaps", &node.configmaps), ("secrets", &node.secrets)] {
        for (obj, dir) in objects {
            let shown = crate::sanitize::line(obj);
            if let Err(e) = kubelab_node::manifest::names::dns1123_subdomain(obj) {
                return Err(at(
                    obj,
                    format!("[node] {table}: name \"{shown}\" {e}; use e.g. \"app-config\""),
                ));
            }
            if dir.as_os_str().is_empty() || dir.is_absolute() {
                return Err(at(
                    obj,
                    format!(
                        "[node] {table}.{shown} = \"{}\": give a folder of the course, relative to \
                         the lesson file (e.g. \"files/{shown}\")",
                        crate::sanitize::line(&dir.display().to_string())
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// One ConfigMap or Secret read from the course: key → bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub name: String,
    pub data: BTreeMap<String, Vec<u8>>,
}

/// What the lab's node starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seed {
    pub configmaps: Vec<Object>,
    pub secrets: Vec<Object>,
}

/// Why a folder of `[node]` cannot be used: the object it is for and what
/// to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    /// The ConfigMap or Secret name (lint finds its line with it).
    pub object: String,
    pub message: String,
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads every folder `node` names, relative to the folder of `lesson`
/// (the lesson file), confined to `course_root`.
pub fn read_seed(lesson: &Path, course_root: &Path, node: &NodeReq) -> Result<Seed, SeedError> {
    let base = lesson.parent().unwrap_or(Path::new("."));
    let mut seed = Seed::default();
    for (table, objects, out) in [
        ("configmaps", &node.configmaps, &mut seed.configmaps),
        ("secrets", &node.secrets, &mut seed.secrets),
    ] {
        for (name, dir) in objects {
            let fail = |message: String| SeedError {
                object: name.clone(),
                message: format!(
                    "[node] {table}.{} = \"{}\": {message}",
                    crate::sanitize::line(name),
                    crate::sanitize::line(&dir.display().to_string())
                ),
            };
            let data = read_folder(&base.join(dir), course_root).map_err(fail)?;
            out.push(Object {
                name: name.clone(),
                data,
            });
        }
    }
    Ok(seed)
}

/// A key of a ConfigMap or Secret: what the node accepts as a file name.
fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && !k.starts_with("..")
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn read_folder(dir: &Path, root: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    if dir.components().any(|c| matches!(c, Component::Prefix(_))) {
        return Err("not a folder path".into());
    }
    let real: PathBuf = files::confine(dir, root).map_err(|e| match e {
        FileError::Missing => "the folder does not exist; create it with one file per key".into(),
        e => format!("the folder {e}"),
    })?;
    if !real.is_dir() {
        return Err("is not a folder; give a folder with one file per key".into());
    }
    let entries = std::fs::read_dir(&real).map_err(|e| format!("cannot list the folder: {e}"))?;
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    for (i, entry) in entries.enumerate() {
        if i >= MAX_KEYS {
            return Err(format!(
                "more than {MAX_KEYS} files; a ConfigMap or Secret holds a few keys"
            ));
        }
        let entry = entry.map_err(|e| format!("cannot list the folder: {e}"))?;
        let key = entry.file_name().to_string_lossy().into_owned();
        if !valid_key(&key) {
            return Err(format!(
                "file \"{}\" is not a valid key (letters, digits, `-`, `_`, `.`); rename it",
                crate::sanitize::line(&key)
            ));
        }
        // A link is followed only to a file inside the course folder.
        let file =
            files::confine(&entry.path(), root).map_err(|e| format!("file \"{key}\" {e}"))?;
        let left = MAX_OBJECT_BYTES - total;
        let bytes = files::read_regular(&file, left).map_err(|e| match e {
            FileError::TooBig(_) => format!(
                "the files together are larger than {}; a ConfigMap or Secret holds at most that",
                super::limits::human(MAX_OBJECT_BYTES)
            ),
            FileError::NotRegular("directory") => {
                format!("\"{key}\" is a folder; keys are the folder's plain files, not subfolders")
            }
            e => format!("file \"{key}\" {e}"),
        })?;
        total += bytes.len() as u64;
        out.insert(key, bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(toml_text: &str) -> Result<NodeReq, String> {
        #[derive(serde::Deserialize)]
        struct F {
            node: NodeReq,
        }
        toml::from_str::<F>(toml_text)
            .map(|f| f.node)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_contracts() {
        let n = node("[node]\n").unwrap();
        assert_eq!((n.name.as_str(), n.backoff_divisor), ("node1", 10));
        assert!(n.configmaps.is_empty() && n.secrets.is_empty());
        assert!(node("[node]\nnmae = \"x\"\n").unwrap_err().contains("nmae"));
    }

    #[test]
    fn bad_values_name_their_line_and_the_fix() {
        let p = Path::new("l.md");
        let front = "id = \"a\"\n[node]\nname = \"Node_1\"\n";
        let e = check(&node(front).unwrap(), front, 2, p).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("DNS-1123"), "{e}");
        let front = "[node]\nname = \"n\"\nbackoff_divisor = 0\n";
        let e = check(&node(front).unwrap(), front, 2, p).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("use 1"), "{e}");
        let front = "[node]\nsecrets = { \"db\" = \"/etc/shadow\" }\n";
        let e = check(&node(front).unwrap(), front, 2, p).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("relative to the lesson"), "{e}");
        let front = "[node]\n[node.configmaps]\n\"Bad_Name\" = \"f\"\n";
        let e = check(&node(front).unwrap(), front, 2, p).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let front = "[node]\nname = \"web-1\"\nconfigmaps = { app = \"files/app\" }\n";
        assert!(check(&node(front).unwrap(), front, 2, p).is_ok());
    }

    #[test]
    fn devices_name_a_kind_of_the_node_s_table_and_a_sane_count() {
        let p = Path::new("l.md");
        let front = "[node]\ndevices = { fuse = 2 }\n";
        check(&node(front).unwrap(), front, 2, p).unwrap();
        for (bad, why) in [
            ("{ mem = 1 }", "not a device kind"),
            ("{ fuse = 0 }", "between 1 and"),
            ("{ fuse = 99 }", "between 1 and"),
        ] {
            let front = format!("[node]\nname = \"n\"\ndevices = {bad}\n");
            let e = check(&node(&front).unwrap(), &front, 2, p).unwrap_err();
            assert_eq!(e.line, 4, "{e}");
            assert!(e.message.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn folders_are_read_bounded_and_confined() {
        let d = tempfile::tempdir().unwrap();
        let course = d.path().join("course");
        let cm = course.join("files/app");
        std::fs::create_dir_all(&cm).unwrap();
        std::fs::write(cm.join("color"), "blue").unwrap();
        std::fs::write(cm.join("size.txt"), "3").unwrap();
        let lesson = course.join("l.md");
        let mut n = NodeReq::default();
        n.configmaps.insert("app".into(), "files/app".into());
        let seed = read_seed(&lesson, &course, &n).unwrap();
        assert_eq!(seed.configmaps[0].data["color"], b"blue");
        assert_eq!(seed.configmaps[0].data.len(), 2);

        // A link out of the course, a folder, a key the node refuses, too big.
        let outside = d.path().join("secret");
        std::fs::write(&outside, "x").unwrap();
        std::os::unix::fs::symlink(&outside, cm.join("leak")).unwrap();
        let e = read_seed(&lesson, &course, &n).unwrap_err();
        assert!(e.message.contains("outside the course"), "{e}");
        assert_eq!(e.object, "app");
        std::fs::remove_file(cm.join("leak")).unwrap();
        std::fs::create_dir(cm.join("sub")).unwrap();
        let e = read_seed(&lesson, &course, &n).unwrap_err();
        assert!(e.message.contains("subfolders"), "{e}");
        std::fs::remove_dir(cm.join("sub")).unwrap();
        std::fs::write(cm.join("bad key"), "x").unwrap();
        assert!(read_seed(&lesson, &course, &n)
            .unwrap_err()
            .message
            .contains("not a valid key"));
        std::fs::remove_file(cm.join("bad key")).unwrap();
        std::fs::write(cm.join("big"), vec![b'x'; MAX_OBJECT_BYTES as usize]).unwrap();
        assert!(read_seed(&lesson, &course, &n)
            .unwrap_err()
            .message
            .contains("larger than"));
        std::fs::remove_file(cm.join("big")).unwrap();
        // The folder itself leading out, or missing.
        n.configmaps.insert("app".into(), "../secret".into());
        assert!(read_seed(&lesson, &course, &n)
            .unwrap_err()
            .message
            .contains("outside the course"));
        n.configmaps.insert("app".into(), "files/none".into());
        assert!(read_seed(&lesson, &course, &n)
            .unwrap_err()
            .message
            .contains("does not exist"));
    }
}
