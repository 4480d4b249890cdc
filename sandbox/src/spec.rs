//! The sandbox spec: what a lesson's front matter (or `kubelab run`) asks for.
//!
//! It is plain serde data with `deny_unknown_fields`, so a typo in a lesson is an
//! error that names the field instead of a silently ignored setting.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// One sandbox: namespaces, root filesystem, mounts, limits and the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Namespaces to create. Defaults to all of them. `user` is always added:
    /// root inside a sandbox is never root on the host.
    #[serde(default = "Namespace::all")]
    pub namespaces: Vec<Namespace>,
    /// Hostname inside the sandbox (needs the `uts` namespace).
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub rootfs: Rootfs,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory inside the sandbox.
    #[serde(default)]
    pub workdir: Option<PathBuf>,
    /// Program and arguments. Empty means the default shell (`/bin/sh`).
    #[serde(default)]
    pub command: Vec<String>,
    /// Keep every capability inside the sandbox's user namespace (still never
    /// host root). Lets lessons run `mount` or `unshare` inside. Default: the
    /// capability set a container gets.
    #[serde(default)]
    pub privileged: bool,
    /// Run kubelab's small init as PID 1 (reaps zombies, forwards signals) with
    /// the command as PID 2. `false`: the command itself is PID 1, as in a
    /// plain `docker run` (then `echo $$` prints 1 inside).
    #[serde(default = "yes")]
    pub init: bool,
    /// Who the payload runs as and which capabilities it keeps (a
    /// container's `securityContext`). Default: uid/gid 0, the default set.
    #[serde(default)]
    pub identity: Identity,
    /// Mount `/` read-only once every mount is in place (`/dev`, `/proc`,
    /// tmpfs mounts and writable binds stay writable), as
    /// `readOnlyRootFilesystem` does.
    #[serde(default)]
    pub readonly_rootfs: bool,
    /// Targets of `mounts` binds that receive mounts made later on the
    /// host under their source (rslave: `mountPropagation:
    /// HostToContainer`). Every other bind is rprivate, so nothing made on
    /// the host after the start shows inside.
    #[serde(default)]
    pub slave_binds: Vec<PathBuf>,
}

/// The payload's ids and capabilities inside the sandbox's user namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// uid inside the sandbox (default 0); it must be mapped in the
    /// sandbox's user namespace: root-started sandboxes map 0..65536,
    /// rootless ones uid 0 only.
    #[serde(default)]
    pub user: Option<u32>,
    /// gid inside the sandbox (default 0), mapped like `user`.
    #[serde(default)]
    pub group: Option<u32>,
    /// Capability names added to the default set (`NET_ADMIN` or
    /// `CAP_NET_ADMIN`, or `ALL`); ignored when privileged, as containerd does.
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// Capability names dropped from it, or `ALL`.
    #[serde(default)]
    pub cap_drop: Vec<String>,
}

impl Identity {
    /// Whether it asks for anything but the defaults.
    pub fn is_default(&self) -> bool {
        *self == Identity::default()
    }
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            namespaces: Namespace::all(),
            hostname: None,
            rootfs: Rootfs::default(),
            mounts: Vec::new(),
            limits: Limits::default(),
            env: BTreeMap::new(),
            workdir: None,
            command: Vec::new(),
            privileged: false,
            init: true,
            identity: Identity::default(),
            readonly_rootfs: false,
            slave_binds: Vec::new(),
        }
    }
}

/// The Linux namespace types a sandbox can have of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Pid,
    Uts,
    Ipc,
    Mount,
    Net,
    User,
    Cgroup,
}

impl Namespace {
    pub const ALL: [Namespace; 7] = [
        Namespace::Pid,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Mount,
        Namespace::Net,
        Namespace::User,
        Namespace::Cgroup,
    ];

    pub fn all() -> Vec<Namespace> {
        Self::ALL.to_vec()
    }

    /// The name used in `/proc/PID/ns/` and in specs.
    pub fn name(self) -> &'static str {
        match self {
            Namespace::Pid => "pid",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Mount => "mnt",
            Namespace::Net => "net",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
        }
    }
}

impl FromStr for Namespace {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        Ok(match s {
            "pid" => Namespace::Pid,
            "uts" => Namespace::Uts,
            "ipc" => Namespace::Ipc,
            "mount" | "mnt" => Namespace::Mount,
            "net" | "network" => Namespace::Net,
            "user" => Namespace::User,
            "cgroup" => Namespace::Cgroup,
            other => {
                return Err(SpecError::new(
                    "namespaces",
                    format!(
                        "unknown namespace `{other}`; use one of pid, uts, ipc, mount, net, user, cgroup"
                    ),
                ))
            }
        })
    }
}

/// Where the sandbox's `/` comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Rootfs {
    /// A read-only view of the host's /usr, /bin, /lib*, /sbin and a minimal /etc,
    /// with a writable overlay upper on tmpfs.
    #[default]
    Host,
    /// A static busybox from the host (`/bin/busybox`), with its applets linked.
    Busybox,
    /// A directory used as the (read-only) lower layer.
    Dir(PathBuf),
    /// An OCI image layout directory; its layers become overlay lower layers.
    Oci(PathBuf),
}

impl FromStr for Rootfs {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        match s {
            "" => Err(SpecError::new(
                "rootfs",
                "empty rootfs; use host, busybox, a directory, or oci:DIR",
            )),
            "host" => Ok(Rootfs::Host),
            "busybox" => Ok(Rootfs::Busybox),
            _ => match s.strip_prefix("oci:") {
                Some(dir) if !dir.is_empty() => Ok(Rootfs::Oci(PathBuf::from(dir))),
                Some(_) => Err(SpecError::new(
                    "rootfs",
                    "`oci:` needs a directory, e.g. oci:./image",
                )),
                None => Ok(Rootfs::Dir(PathBuf::from(s))),
            },
        }
    }
}

impl fmt::Display for Rootfs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rootfs::Host => f.write_str("host"),
            Rootfs::Busybox => f.write_str("busybox"),
            Rootfs::Dir(p) => write!(f, "{}", p.display()),
            Rootfs::Oci(p) => write!(f, "oci:{}", p.display()),
        }
    }
}

impl Serialize for Rootfs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rootfs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An extra mount inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Mount {
    /// Bind a host path. Read-only unless `readonly = false`.
    Bind {
        source: PathBuf,
        target: PathBuf,
        #[serde(default = "yes")]
        readonly: bool,
    },
    /// A fresh tmpfs, optionally with a size limit.
    Tmpfs {
        target: PathBuf,
        #[serde(default)]
        size: Option<ByteSize>,
    },
}

fn yes() -> bool {
    true
}

impl Mount {
    /// Parses the `-v SRC:DST[:ro|rw]` form of `kubelab run`. Without a mode the
    /// bind is read-write, as in `docker run -v`.
    pub fn parse_volume(s: &str) -> Result<Mount, SpecError> {
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, readonly) = match parts.as_slice() {
            [src, dst] => (*src, *dst, false),
            [src, dst, "ro"] => (*src, *dst, true),
            [src, dst, "rw"] => (*src, *dst, false),
            [_, _, mode] => {
                return Err(SpecError::new(
                    "volume",
                    format!("unknown mode `{mode}` in `{s}`; use ro or rw"),
                ))
            }
            _ => {
                return Err(SpecError::new(
                    "volume",
                    format!("`{s}` is not SRC:DST[:ro|rw]"),
                ))
            }
        };
        if src.is_empty() || !dst.starts_with('/') {
            return Err(SpecError::new(
                "volume",
                format!("`{s}`: SRC must be a host path and DST an absolute path inside"),
            ));
        }
        Ok(Mount::Bind {
            source: PathBuf::from(src),
            target: PathBuf::from(dst),
            readonly,
        })
    }
}

/// Resource limits, applied through cgroups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Memory limit, e.g. "64M".
    #[serde(default)]
    pub memory: Option<ByteSize>,
    /// CPU quota in cores, e.g. 0.2 for a fifth of one core.
    #[serde(default)]
    pub cpus: Option<Cpus>,
    /// Maximum number of processes (tasks).
    #[serde(default)]
    pub pids: Option<u64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpus.is_none() && self.pids.is_none()
    }
}

/// A CPU quota in cores, validated to be > 0 and finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cpus(f64);

impl Cpus {
    pub fn new(cores: f64) -> Result<Cpus, SpecError> {
        if cores.is_finite() && cores > 0.0 && cores <= 1024.0 {
            Ok(Cpus(cores))
        } else {
            Err(SpecError::new(
                "cpus",
                format!("`{cores}` is not a CPU count; use a number of cores above 0, e.g. 0.2"),
            ))
        }
    }
    pub fn cores(self) -> f64 {
        self.0
    }
}

impl FromStr for Cpus {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Cpus, SpecError> {
        let v: f64 = s.trim().parse().map_err(|_| {
            SpecError::new(
                "cpus",
                format!("`{s}` is not a number of cores; write e.g. 0.2 or 1.5"),
            )
        })?;
        Cpus::new(v)
    }
}

impl<'de> Deserialize<'de> for Cpus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Cpus::new(v).map_err(serde::de::Error::custom)
    }
}

/// A size in bytes, written like `64M`, `1G`, `512K` or a plain byte count.
/// Suffixes are binary (K = 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<ByteSize, SpecError> {
        let bad = || {
            SpecError::new(
                "size",
                format!("`{s}` is not a size; write a number with an optional K, M or G suffix, e.g. 64M"),
            )
        };
        let t = s.trim();
        let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, suffix) = t.split_at(digits_end);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let mult: u64 = match suffix.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "K" | "KB" | "KI" | "KIB" => 1 << 10,
            "M" | "MB" | "MI" | "MIB" => 1 << 20,
            "G" | "GB" | "GI" | "GIB" => 1 << 30,
            _ => return Err(bad()),
        };
        let bytes = n.checked_mul(mult).ok_or_else(bad)?;
        if bytes == 0 {
            return Err(SpecError::new(
                "size",
                format!("`{s}` is zero; give a positive size"),
            ));
        }
        Ok(ByteSize(bytes))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b % (1 << 30) == 0 {
            write!(f, "{}G", b >> 30)
        } else if b % (1 << 20) == 0 {
            write!(f, "{}M", b >> 20)
        } else if b % (1 << 10) == 0 {
            write!(f, "{}K", b >> 10)
        } else {
            write!(f, "{b}")
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) if n > 0 => Ok(ByteSize(n as u64)),
            Raw::Int(n) => Err(serde::de::Error::custom(format!(
                "`{n}` is not a size; give a positive size such as \"64M\""
            ))),
            Raw::Str(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A spec error that names the field at fault and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: &'static str,
    pub message: String,
}

impl SpecError {
    pub fn new(field: &'static str, message: impl Into<String>) -> SpecError {
        SpecError {
            field,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!("64M".parse::<ByteSize>().unwrap(), ByteSize(64 << 20));
        assert_eq!("512k".parse::<ByteSize>().unwrap(), ByteSize(512 << 10));
        assert_eq!("4096".parse::<ByteSize>().unwrap(), ByteSize(4096));
        assert!("64XB".parse::<ByteSize>().is_err());
        assert!("-1".parse::<ByteSize>().is_err());
        assert!("0".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize(64 << 20).to_string(), "64M");
    }

    #[test]
    fn cpus_must_be_positive() {
        assert_eq!("0.2".parse::<Cpus>().unwrap().cores(), 0.2);
        assert!("-1".parse::<Cpus>().is_err());
        assert!("0".parse::<Cpus>().is_err());
        assert!("lots".parse::<Cpus>().is_err());
    }

    #[test]
    fn spec_from_toml_rejects_unknown_fields() {
        let ok: Spec = toml::from_str(
            r#"
            hostname = "lab"
            rootfs = "oci:img"
            command = ["/bin/sh"]
            [limits]
            memory = "64M"
            cpus = 0.2
            pids = 32
            [[mounts]]
            type = "tmpfs"
            target = "/scratch"
            size = "16M"
            "#,
        )
        .unwrap();
        assert_eq!(ok.rootfs, Rootfs::Oci("img".into()));
        assert_eq!(ok.limits.memory, Some(ByteSize(64 << 20)));
        assert_eq!(ok.namespaces.len(), 7);
        let err = toml::from_str::<Spec>("hostnme = \"x\"").unwrap_err();
        assert!(err.to_string().contains("hostnme"), "{err}");
        let err = toml::from_str::<Spec>("namespaces = [\"pidd\"]").unwrap_err();
        assert!(err.to_string().contains("pidd"), "{err}");
    }

    #[test]
    fn volumes_parse_like_docker() {
        assert_eq!(
            Mount::parse_volume("/srv:/data:ro").unwrap(),
            Mount::Bind {
                source: "/srv".into(),
                target: "/data".into(),
                readonly: true
            }
        );
        assert!(Mount::parse_volume("/srv:data").is_err());
        assert!(Mount::parse_volume("/srv:/data:xx").is_err());
    }
}
