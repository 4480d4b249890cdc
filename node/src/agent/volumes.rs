//! A Pod's volumes on the node, laid out as the kubelet lays them out:
//! `<state>/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>`.
//!
//! - `emptyDir`: an empty directory; with `medium: Memory` the runtime
//!   mounts a tmpfs on it (its size as the kubelet's
//!   `calculateEmptyDirMemorySize`), unmounted before the Pod's directory
//!   is removed;
//! - `configMap` / `secret`: the node has no API server, so their data are
//!   local files: `<state>/configmaps/<name>/<key>` and
//!   `<state>/secrets/<name>/<key>` (one regular file per key);
//! - `downwardAPI`, `configMap`, `secret`: projected with the kubelet's
//!   AtomicWriter — files in a hidden `..<stamp>` directory, the `..data`
//!   symlink swapped to it by `rename(2)`, and each top-level name a symlink
//!   through `..data`, so a reader never sees half an update;
//! - `hostPath`: only under the node's allowed roots, resolved component
//!   by component refusing every symlink, so no path can lead out;
//! - `subPath`: resolved the same way inside its volume (created when
//!   missing, as the kubelet does).

use crate::downward::{downward_file, NodeFacts};
use crate::manifest::HostPathRoot;
use crate::runtime::{Mount, Propagation, Runtime};
use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Largest configMap or secret (the API's own limit).
pub const MAX_DATA_BYTES: u64 = 1024 * 1024;

/// The kubelet's plugin directory names.
fn plugin_dir(v: &Volume) -> Option<&'static str> {
    if v.empty_dir.is_some() {
        Some("kubernetes.io~empty-dir")
    } else if v.config_map.is_some() {
        Some("kubernetes.io~configmap")
    } else if v.secret.is_some() {
        Some("kubernetes.io~secret")
    } else if v.downward_api.is_some() {
        Some("kubernetes.io~downward-api")
    } else {
        None
    }
}

/// What this node cannot do with a volume, found at apply time.
pub fn unsupported(pod: &Pod) -> Vec<String> {
    let mut out = Vec::new();
    for (i, v) in pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .enumerate()
    {
        if plugin_dir(v).is_none() && v.host_path.is_none() && v.flex_volume.is_none() {
            out.push(format!(
                "spec.volumes[{i}]: volume {:?} has no source this node supports (emptyDir, hostPath, configMap, secret, downwardAPI, flexVolume)",
                v.name
            ));
        }
        let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
        if v.flex_volume.is_some() && host_network {
            out.push(format!(
                "spec.volumes[{i}]: flexVolume volume {:?} in a hostNetwork Pod: not supported by this node; leave hostNetwork unset",
                v.name
            ));
        }
    }
    out
}

/// Where a Pod's volumes live.
pub fn pod_dir(state_dir: &Path, uid: &str) -> PathBuf {
    state_dir.join("pods").join(uid)
}

/// Removes what Pods of an earlier run of this node left under `pods/`
/// (the kubelet's orphaned-pod cleanup): no Pod outlives its node, since
/// the runtime's sweep ends them, so after a `kill -9` their volumes (and
/// memory volumes' tmpfs) would otherwise stay forever. Links are removed,
/// never followed.
pub fn remove_orphans(runtime: &dyn Runtime, state_dir: &Path) {
    let Ok(entries) = fs::read_dir(state_dir.join("pods")) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let _ = match e.file_type() {
            Ok(t) if t.is_dir() => remove_pod_dir(runtime, &p),
            _ => fs::remove_file(&p).map_err(|e| e.to_string()),
        };
    }
}

/// Removes a Pod's directory: first the tmpfs of its memory volumes, so
/// the removal never empties a volume it then cannot remove. A volume that
/// stays mounted keeps the whole directory, and the error says why.
pub fn remove_pod_dir(runtime: &dyn Runtime, dir: &Path) -> Result<(), String> {
    let empty_dirs = dir.join("volumes").join("kubernetes.io~empty-dir");
    let mut problems = Vec::new();
    if let Ok(entries) = fs::read_dir(&empty_dirs) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if let Err(err) = runtime.unmount_volume(&e.path()) {
                    problems.push(err.to_string());
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(format!("{} kept: {}", dir.display(), problems.join("; ")));
    }
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("{}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// The size of an emptyDir `medium: Memory` tmpfs, as the kubelet's
/// `calculateEmptyDirMemorySize` (pkg/volume/emptydir/empty_dir.go): the
/// node's allocatable memory, lowered to the Pod's memory limit (the pod
/// cgroup's, when it has one), lowered to the volume's `sizeLimit`; a zero
/// limit lowers nothing.
pub fn memory_volume_size(
    pod: &Pod,
    size_limit: Option<&str>,
    allocatable: i64,
) -> Result<u64, String> {
    let mut size = allocatable;
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let res = crate::qos::PodResources::from_pod(pod).map_err(|e| e.to_string())?;
    let capacity = crate::cgroup_plan::NodeCapacity {
        memory_bytes: allocatable,
        pod_pids_limit: None,
    };
    let plan = crate::cgroup_plan::plan(uid, &res, &capacity)?;
    if let Some(m) = plan.pod.limits.memory_limit_bytes {
        if m > 0 && m <= size {
            size = m;
        }
    }
    if let Some(text) = size_limit {
        let q = crate::quantity::Quantity::parse(text)
            .map_err(|e| format!("emptyDir.sizeLimit {text:?}: {e}"))?;
        let v = q.value();
        if v > 0 && v <= size {
            size = v;
        }
    }
    u64::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("emptyDir medium Memory: no memory to give it (size {size})"))
}

/// Creates or refreshes every volume of `pod`; returns each volume's host
/// path by name.
pub fn prepare(
    runtime: &dyn Runtime,
    state_dir: &Path,
    host_path_roots: &[HostPathRoot],
    pod: &Pod,
    facts: &NodeFacts,
) -> Result<BTreeMap<String, PathBuf>, String> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    crate::manifest::names::uid(uid).map_err(|e| format!("pod UID: {e}"))?;
    let mut out = BTreeMap::new();
    for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        crate::manifest::names::dns1123_label(&v.name)
            .map_err(|e| format!("volume name {:?}: {e}", v.name))?;
        if let Some(h) = &v.host_path {
            let create = h.type_.as_deref() == Some("DirectoryOrCreate");
            let dir = host_path(host_path_roots, &h.path, create)?;
            if h.type_.as_deref() == Some("CharDevice") {
                char_device(&dir, &h.path)?;
            }
            out.insert(v.name.clone(), dir);
            continue;
        }
        if let Some(f) = &v.flex_volume {
            // The driver's mount directory; what it mounts there lives in
            // the Pod's volume plugin sandbox (see `flex_volume`).
            let dir = pod_dir(state_dir, uid)
                .join("volumes")
                .join(super::flex_volume::escaped(&f.driver))
                .join(&v.name);
            fs::create_dir_all(&dir)
                .map_err(|e| format!("volume {:?}: {}: {e}", v.name, dir.display()))?;
            out.insert(v.name.clone(), dir);
            continue;
        }
        let Some(plugin) = plugin_dir(v) else {
            return Err(format!("volume {:?} has no supported source", v.name));
        };
        let dir = pod_dir(state_dir, uid)
            .join("volumes")
            .join(plugin)
            .join(&v.name);
        fs::create_dir_all(&dir)
            .map_err(|e| format!("volume {:?}: {}: {e}", v.name, dir.display()))?;
        let in_memory = v
            .empty_dir
            .as_ref()
            .is_some_and(|e| e.medium.as_deref() == Some("Memory"));
        // A memory volume's root is its tmpfs's (1777, as the kubelet's):
        // chmod would reach through the mount once it is there.
        if v.empty_dir.is_some() && !in_memory {
            // As the kubelet: world-writable, so every container of the Pod
            // can write it whatever uid it runs as (sandbox root is not host
            // root, and need not own the node's files).
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o777))
                .map_err(|e| format!("volume {:?}: {}: {e}", v.name, dir.display()))?;
        }
        if let Some(e) = v
            .empty_dir
            .as_ref()
            .filter(|e| e.medium.as_deref() == Some("Memory"))
        {
            let limit = e.size_limit.as_ref().map(|q| q.0.as_str());
            let size = memory_volume_size(pod, limit, facts.allocatable_memory_bytes)
                .map_err(|e| format!("volume {:?}: {e}", v.name))?;
            runtime
                .mount_memory_volume(&dir, size)
                .map_err(|e| format!("volume {:?}: {e}", v.name))?;
        }
        project_into(state_dir, pod, v, &dir, facts)?;
        out.insert(v.name.clone(), dir);
    }
    Ok(out)
}

/// Writes a configMap, secret or downwardAPI volume's files into `dir`
/// (swapping `..data` only when they changed); other volumes: nothing.
fn project_into(
    state_dir: &Path,
    pod: &Pod,
    v: &Volume,
    dir: &Path,
    facts: &NodeFacts,
) -> Result<(), String> {
    let files = if let Some(cm) = &v.config_map {
        let data = local_data(
            state_dir,
            "configmaps",
            &cm.name,
            cm.optional.unwrap_or(false),
        )?;
        project(&data, cm.items.as_deref(), cm.default_mode.unwrap_or(0o644))?
    } else if let Some(s) = &v.secret {
        let name = s.secret_name.clone().unwrap_or_default();
        let data = local_data(state_dir, "secrets", &name, s.optional.unwrap_or(false))?;
        project(&data, s.items.as_deref(), s.default_mode.unwrap_or(0o644))?
    } else if let Some(d) = &v.downward_api {
        let mut files = BTreeMap::new();
        for item in d.items.iter().flatten() {
            check_relative(&item.path)?;
            let content = downward_file(pod, item, facts)?;
            let mode = item.mode.or(d.default_mode).unwrap_or(0o644);
            files.insert(item.path.clone(), (content.into_bytes(), mode));
        }
        files
    } else {
        return Ok(());
    };
    atomic_write(dir, &files)
}

/// Whether `pod` has volumes whose files follow their source (configMap,
/// secret, downwardAPI): the sync loop refreshes those while it runs.
pub fn has_projected(pod: &Pod) -> bool {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| v.config_map.is_some() || v.secret.is_some() || v.downward_api.is_some())
}

/// The kubelet's periodic remount of a running Pod's configMap, secret and
/// downwardAPI volumes (`syncFrequency`): each is written again from its
/// source, its `..data` swapped only when a file changed, so containers see
/// an edit without a restart. Only volumes already made are touched.
pub fn refresh_projected(state_dir: &Path, pod: &Pod, facts: &NodeFacts) -> Result<(), String> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    crate::manifest::names::uid(uid).map_err(|e| format!("pod UID: {e}"))?;
    for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let Some(plugin) = plugin_dir(v) else {
            continue;
        };
        if v.empty_dir.is_some() || v.host_path.is_some() {
            continue;
        }
        crate::manifest::names::dns1123_label(&v.name)
            .map_err(|e| format!("volume name {:?}: {e}", v.name))?;
        let dir = pod_dir(state_dir, uid)
            .join("volumes")
            .join(plugin)
            .join(&v.name);
        // Never made (the Pod has not started a container yet), or a link
        // planted in its place: leave it to the next container start.
        if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        project_into(state_dir, pod, v, &dir, facts)
            .map_err(|e| format!("volume {:?}: {e}", v.name))?;
    }
    Ok(())
}

/// The mounts of one container, `subPath` applied.
pub fn mounts(
    pod: &Pod,
    c: &Container,
    volumes: &BTreeMap<String, PathBuf>,
) -> Result<Vec<Mount>, String> {
    let flex = super::flex_volume::inner_paths(pod);
    let mut out = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let base = volumes
            .get(&m.name)
            .ok_or_else(|| format!("volumeMount {:?}: no such volume", m.name))?;
        let in_volume_plugin = flex.get(&m.name).cloned();
        if in_volume_plugin.is_some() && m.sub_path.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(format!(
                "volumeMount {:?}: subPath of a flexVolume volume is not supported by this node; mount the whole volume",
                m.name
            ));
        }
        let host_path = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            Some(sub) => {
                check_relative(sub)?;
                confined_join(base, sub, true)
                    .map_err(|e| format!("volumeMount {:?} subPath {sub:?}: {e}", m.name))?
            }
            None => base.clone(),
        };
        let propagation = match m.mount_propagation.as_deref() {
            Some("HostToContainer") => Propagation::HostToContainer,
            Some("Bidirectional") => Propagation::Bidirectional,
            _ => Propagation::None,
        };
        out.push(Mount {
            host_path,
            container_path: m.mount_path.clone(),
            read_only: m.read_only.unwrap_or(false),
            propagation,
            in_volume_plugin,
        });
    }
    Ok(out)
}

/// A relative path without `..`, `.` or an absolute start.
fn check_relative(p: &str) -> Result<(), String> {
    let path = Path::new(p);
    if p.is_empty()
        || p.contains('\0')
        || !path.components().all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "path {p:?} must be relative, without `..` or `.`; write a path inside the volume"
        ));
    }
    Ok(())
}

/// `base/rel`, walked one component at a time: a symlink anywhere is
/// refused (it could point out of `base`); missing directories are created
/// when `create`.
pub fn confined_join(base: &Path, rel: &str, create: bool) -> Result<PathBuf, String> {
    let mut cur = base.to_path_buf();
    for comp in Path::new(rel).components() {
        let Component::Normal(part) = comp else {
            return Err("`..`, `.` and absolute paths are not allowed".into());
        };
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symbolic link; the node does not follow links in volume paths",
                    cur.display()
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                fs::create_dir(&cur).map_err(|e| format!("{}: {e}", cur.display()))?;
                like_parent(&cur).map_err(|e| format!("{}: {e}", cur.display()))?;
            }
            Err(e) => return Err(format!("{}: {e}", cur.display())),
        }
    }
    Ok(cur)
}

/// A directory the node made inside a tree (`DirectoryOrCreate`, a
/// `subPath`) gets the owner and mode of the directory it is in: a lab's
/// disks belong to the sandboxes' mapped root, which Pods run as too, and
/// a folder only the node's root could write would be of no use to them.
fn like_parent(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    let m = fs::symlink_metadata(parent)?;
    // Through a descriptor of the directory itself: a link swapped in
    // for it meanwhile (its parent may be the sandboxes' to write) is
    // refused, never followed to what it names.
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(m.mode() & 0o7777))?;
    let owner = (
        Some(rustix::fs::Uid::from_raw(m.uid())),
        Some(rustix::fs::Gid::from_raw(m.gid())),
    );
    match rustix::fs::fchown(&fd, owner.0, owner.1) {
        // Not root: it is ours, as its parent most likely is.
        Ok(()) | Err(rustix::io::Errno::PERM) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `type: CharDevice`, as the kubelet's hostPath type checker says it.
fn char_device(real: &Path, path: &str) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    match fs::symlink_metadata(real) {
        Ok(m) if m.file_type().is_char_device() => Ok(()),
        _ => Err(format!(
            "hostPath type check failed: {path} is not a character device"
        )),
    }
}

/// A `hostPath` under one of `roots` (a directory, or a single file such as
/// a device node), resolved without following links.
pub fn host_path(roots: &[HostPathRoot], path: &str, create: bool) -> Result<PathBuf, String> {
    let p = Path::new(path);
    let root = roots.iter().find(|r| p.starts_with(&r.path)).ok_or_else(|| {
        format!("hostPath {path:?} is not under a directory this node allows; start the node with it allowed")
    })?;
    // The root itself is the node's own configuration: resolve it once.
    let real_root = fs::canonicalize(&root.dir)
        .map_err(|e| format!("hostPath root {}: {e}", root.dir.display()))?;
    let rest = p.strip_prefix(&root.path).unwrap_or(Path::new(""));
    let rest = rest.to_string_lossy();
    if rest.is_empty() {
        return Ok(real_root);
    }
    confined_join(&real_root, &rest, create).map_err(|e| format!("hostPath {path:?}: {e}"))
}

/// The keys of a local configMap or secret: one regular file each.
fn local_data(
    state_dir: &Path,
    kind: &str,
    name: &str,
    optional: bool,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    crate::manifest::names::dns1123_subdomain(name)
        .map_err(|e| format!("{kind} name {name:?}: {e}"))?;
    let dir = state_dir.join(kind).join(name);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && optional => {
            return Ok(BTreeMap::new())
        }
        Err(e) => {
            return Err(format!(
                "{kind} {name:?} not found ({e}): on this node, put one file per key in {}",
                dir.display()
            ))
        }
    };
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let key = entry.file_name().to_string_lossy().into_owned();
        let meta = entry
            .metadata()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if !meta.file_type().is_file() || key.starts_with("..") {
            continue; // only regular files are keys (no links out of the dir)
        }
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            return Err(format!("{kind} {name:?}: key {key:?} is not a valid key (letters, digits, `-`, `_`, `.`); rename the file"));
        }
        let mut data = Vec::new();
        // The listing's check again at the open: the name may have become
        // a link or a FIFO since (a lab's sandboxes write these folders).
        super::local_file::open_plain_file(&entry.path())
            .and_then(|f| f.take(MAX_DATA_BYTES + 1).read_to_end(&mut data))
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        total += data.len() as u64;
        if total > MAX_DATA_BYTES {
            return Err(format!(
                "{kind} {name:?} holds more than {MAX_DATA_BYTES} bytes; make it smaller"
            ));
        }
        out.insert(key, data);
    }
    Ok(out)
}

/// The files of a configMap/secret volume: every key, or just `items`.
fn project(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: i32,
) -> Result<BTreeMap<String, (Vec<u8>, i32)>, String> {
    let mut out = BTreeMap::new();
    match items {
        None => {
            for (k, v) in data {
                out.insert(k.clone(), (v.clone(), default_mode));
            }
        }
        Some(items) => {
            for it in items {
                check_relative(&it.path)?;
                let v = data
                    .get(&it.key)
                    .ok_or_else(|| format!("key {:?} is not in the data", it.key))?;
                out.insert(
                    it.path.clone(),
                    (v.clone(), it.mode.unwrap_or(default_mode)),
                );
            }
        }
    }
    Ok(out)
}

/// The kubelet's AtomicWriter: writes `files` into a fresh hidden
/// directory and swaps `..data` to it in one rename; does nothing when the
/// content is unchanged.
pub fn atomic_write(dir: &Path, files: &BTreeMap<String, (Vec<u8>, i32)>) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let data_link = dir.join("..data");
    if unchanged(&data_link, files) {
        return Ok(());
    }
    let old_target = fs::read_link(&data_link).ok();
    let stamp = format!(
        "..{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let ts_dir = dir.join(&stamp);
    fs::create_dir(&ts_dir).map_err(|e| err(&ts_dir, e))?;
    for (rel, (content, mode)) in files {
        let p = ts_dir.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
        }
        fs::write(&p, content).map_err(|e| err(&p, e))?;
        fs::set_permissions(&p, fs::Permissions::from_mode((*mode as u32) & 0o777))
            .map_err(|e| err(&p, e))?;
    }
    let tmp = dir.join("..data_tmp");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&stamp, &tmp).map_err(|e| err(&tmp, e))?;
    fs::rename(&tmp, &data_link).map_err(|e| err(&data_link, e))?;
    // The user-visible names, each through `..data`.
    let tops: std::collections::BTreeSet<String> = files
        .keys()
        .filter_map(|k| Path::new(k).components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for top in &tops {
        let link = dir.join(top);
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new("..data").join(top), &link)
                .map_err(|e| err(&link, e))?;
        }
    }
    for entry in fs::read_dir(dir).map_err(|e| err(dir, e))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !tops.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old_target {
        if old != Path::new(&stamp) && old.to_string_lossy().starts_with("..") {
            let _ = fs::remove_dir_all(dir.join(old));
        }
    }
    Ok(())
}

fn unchanged(data_link: &Path, files: &BTreeMap<String, (Vec<u8>, i32)>) -> bool {
    if fs::read_link(data_link).is_err() {
        return false;
    }
    let mut count = 0;
    let all_same = files.iter().all(|(rel, (content, _))| {
        count += 1;
        fs::read(data_link.join(rel)).is_ok_and(|c| &c == content)
    });
    all_same && count_files(data_link) == count
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count_files(&e.path()),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}
