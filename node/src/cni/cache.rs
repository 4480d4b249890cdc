//! The ADD results a node keeps for DEL and CHECK, as libcni caches them
//! (`/var/lib/cni/results/<network>-<containerID>-<ifname>`, kind
//! `cniCacheV1`), but under the node's own state directory. With it, a node
//! that restarts can still give plugins their `prevResult` on teardown.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::network::Attachment;
use super::result::CniResult;
use super::CniError;

/// Largest cached entry read back.
const MAX_ENTRY: u64 = 1024 * 1024;

/// A directory of cached results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCache {
    dir: PathBuf,
}

impl ResultCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ResultCache { dir: dir.into() }
    }

    /// The entry's file; the attachment must be valid (its ID and interface
    /// name cannot contain `/`), and the network name is validated on load.
    fn path(&self, network: &str, att: &Attachment) -> Result<PathBuf, CniError> {
        att.validate()?;
        if !super::config::valid_name(network) {
            return Err(CniError::invalid(
                "the CNI result cache",
                format!("network name {network:?} is not valid"),
            ));
        }
        Ok(self
            .dir
            .join(format!("{network}-{}-{}", att.container_id, att.ifname)))
    }

    /// Stores `result` (written to a temp file, then renamed: a crash never
    /// leaves half an entry).
    pub fn save(
        &self,
        network: &str,
        att: &Attachment,
        result: &CniResult,
    ) -> Result<(), CniError> {
        let path = self.path(network, att)?;
        let entry = json!({
            "kind": "cniCacheV1",
            "containerId": att.container_id,
            "ifName": att.ifname,
            "networkName": network,
            "result": result.raw,
        });
        let io = |e: io::Error| {
            CniError::invalid(
                &path.display().to_string(),
                format!("cannot write the cached result: {e}"),
            )
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        fs::write(&tmp, entry.to_string()).map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)
    }

    /// The cached result, `None` if there is none.
    pub fn load(&self, network: &str, att: &Attachment) -> Result<Option<CniResult>, CniError> {
        let path = self.path(network, att)?;
        let shown = path.display().to_string();
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CniError::invalid(&shown, format!("cannot read it: {e}"))),
        };
        let mut text = Vec::new();
        file.take(MAX_ENTRY)
            .read_to_end(&mut text)
            .map_err(|e| CniError::invalid(&shown, format!("cannot read it: {e}")))?;
        let entry: Value = serde_json::from_slice(&text).map_err(|e| CniError::Config {
            origin: shown.clone(),
            line: e.line(),
            column: e.column(),
            msg: e.to_string(),
        })?;
        let result = entry.get("result").cloned().unwrap_or(Value::Null);
        let bytes = serde_json::to_vec(&result).unwrap_or_default();
        CniResult::parse(&bytes).map(Some).map_err(|e| {
            CniError::invalid(
                &shown,
                format!("the cached result is not a CNI result ({e}): delete the file"),
            )
        })
    }

    /// Forgets the entry after a successful DEL (the spec requires it).
    pub fn remove(&self, network: &str, att: &Attachment) -> Result<(), CniError> {
        let path = self.path(network, att)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(CniError::invalid(
                &path.display().to_string(),
                format!("cannot remove the cached result: {e}"),
            )),
            _ => Ok(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_removes_results() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = ResultCache::new(tmp.path().join("results"));
        let att = Attachment::for_pod("ns", "p", "u", "sandbox1", "/proc/1/ns/net".into());
        assert_eq!(cache.load("kubelab", &att).unwrap(), None);
        let r = CniResult::parse(
            br#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}],"extra":1}"#,
        )
        .unwrap();
        cache.save("kubelab", &att, &r).unwrap();
        let file = tmp.path().join("results/kubelab-sandbox1-eth0");
        let entry: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(entry["kind"], "cniCacheV1");
        let back = cache.load("kubelab", &att).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(back.raw["extra"], 1);
        cache.remove("kubelab", &att).unwrap();
        cache.remove("kubelab", &att).unwrap();
        assert!(!file.exists());
        assert!(cache.save("../x", &att, &r).is_err());
        fs::create_dir_all(tmp.path().join("results")).unwrap();
        fs::write(&file, "{\n  nope").unwrap();
        let msg = cache.load("kubelab", &att).unwrap_err().to_string();
        assert!(msg.contains("kubelab-sandbox1-eth0:2:"), "{msg}");
    }
}
