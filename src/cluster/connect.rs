//! Finding the cluster as kubectl does: `$KUBECONFIG` (a `:`-list, merged,
//! first file wins) else `~/.kube/config`; the current context unless
//! `--context` names another. The learner's kubeconfig is only read: lab
//! shells get a small overlay file that adds a context with the lab's
//! namespace in front of it.

use super::error::{bounded, one_line, ClusterError};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bound on connecting to the API server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on every request that is not a watch.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The cluster a lab will use, resolved before anything touches it.
#[derive(Clone)]
pub struct Target {
    pub context: String,
    pub cluster: String,
    pub user: String,
    pub server: String,
    /// The kubeconfig files read, in merge order (empty when built from a
    /// bare [`kube::Config`], as tests do).
    pub kubeconfig_paths: Vec<PathBuf>,
    config: kube::Config,
}

impl std::fmt::Debug for Target {
    // No credentials in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("context", &self.context)
            .field("server", &self.server)
            .finish()
    }
}

/// The kubeconfig files kubectl would read, existing or not.
pub fn kubeconfig_paths() -> Vec<PathBuf> {
    if let Some(v) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths;
        }
    }
    std::env::var_os("HOME")
        .map(|h| vec![Path::new(&h).join(".kube").join("config")])
        .unwrap_or_default()
}

impl Target {
    /// Resolves the cluster from the kubeconfig files kubectl would read
    /// and `context` (else the current context). Reads files only: no
    /// request goes to the cluster.
    pub async fn resolve(context: Option<&str>) -> Result<Target, ClusterError> {
        Target::resolve_from(kubeconfig_paths(), context).await
    }

    /// As [`Target::resolve`], from the kubeconfig files `paths` (those
    /// that exist), merged as kubectl merges them.
    pub async fn resolve_from(
        paths: Vec<PathBuf>,
        context: Option<&str>,
    ) -> Result<Target, ClusterError> {
        let paths: Vec<PathBuf> = paths.into_iter().filter(|p| p.exists()).collect();
        if paths.is_empty() {
            return Err(ClusterError::NoCluster);
        }
        let mut merged = Kubeconfig::default();
        for p in &paths {
            let one = Kubeconfig::read_from(p).map_err(|e| {
                ClusterError::Kubeconfig(format!("{}: {}", p.display(), one_line(&e.to_string())))
            })?;
            merged = merged
                .merge(one)
                .map_err(|e| ClusterError::Kubeconfig(one_line(&e.to_string())))?;
        }
        Target::from_kubeconfig(merged, context, paths).await
    }

    /// Resolves `context` (else the current one) in an already-read kubeconfig.
    pub async fn from_kubeconfig(
        kc: Kubeconfig,
        context: Option<&str>,
        paths: Vec<PathBuf>,
    ) -> Result<Target, ClusterError> {
        let name = context
            .map(str::to_string)
            .or_else(|| kc.current_context.clone())
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ClusterError::Kubeconfig(
                    "no current-context; pass --context NAME or run `kubectl config use-context`"
                        .into(),
                )
            })?;
        let ctx = kc
            .contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.clone())
            .ok_or_else(|| {
                let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
                ClusterError::Kubeconfig(format!(
                    "context `{}` is not in the kubeconfig (it has: {})",
                    one_line(&name),
                    one_line(&known.join(", "))
                ))
            })?;
        let opts = KubeConfigOptions {
            context: Some(name.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| ClusterError::Kubeconfig(one_line(&e.to_string())))?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        Ok(Target {
            context: name,
            cluster: ctx.cluster.clone(),
            user: ctx.user.clone().unwrap_or_default(),
            server: config.cluster_url.to_string(),
            kubeconfig_paths: paths,
            config,
        })
    }

    /// A target from a ready config (tests: a recorded API on 127.0.0.1).
    pub fn from_config(context: &str, mut config: kube::Config) -> Target {
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        Target {
            context: context.to_string(),
            cluster: context.to_string(),
            user: String::new(),
            server: config.cluster_url.to_string(),
            kubeconfig_paths: Vec::new(),
            config,
        }
    }

    /// One line naming the cluster, shown before a lab first touches it.
    pub fn describe(&self) -> String {
        format!(
            "context {} · cluster {} · {}",
            one_line(&self.context),
            one_line(&self.cluster),
            one_line(&self.server)
        )
    }

    /// A client for this cluster (no request is made yet).
    pub fn client(&self) -> Result<kube::Client, ClusterError> {
        kube::Client::try_from(self.config.clone())
            .map_err(|e| ClusterError::Kubeconfig(one_line(&super::error::error_chain(&e))))
    }

    /// The API server's version (`/version`), bounded.
    pub async fn server_version(
        &self,
        client: &kube::Client,
    ) -> Result<k8s_openapi::apimachinery::pkg::version::Info, ClusterError> {
        bounded(
            "GET /version",
            &self.server,
            CALL_TIMEOUT,
            client.apiserver_version(),
        )
        .await
    }

    /// Writes `dir/kubeconfig`, an overlay with one context — the target's
    /// cluster and user with `namespace` — as current context, and returns
    /// the environment for a lab shell: `KUBECONFIG` (overlay first, then
    /// the learner's files, which are never written), `KUBELAB_NAMESPACE`
    /// and `KUBELAB_CONTEXT`.
    pub fn lab_env(&self, namespace: &str, dir: &Path) -> std::io::Result<Vec<(String, String)>> {
        let ctx_name = format!("kubelab/{namespace}");
        // JSON is YAML: kubectl reads it; no YAML writer needed.
        let overlay = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": ctx_name,
            "contexts": [{
                "name": ctx_name,
                "context": {"cluster": self.cluster, "user": self.user, "namespace": namespace},
            }],
        });
        let path = dir.join("kubeconfig");
        crate::atomic_write::write_atomic(
            &path,
            serde_json::to_string_pretty(&overlay)?.as_bytes(),
            0o600,
        )?;
        let mut list = vec![path];
        list.extend(self.kubeconfig_paths.iter().cloned());
        let joined = std::env::join_paths(&list)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        Ok(vec![
            ("KUBECONFIG".into(), joined.to_string_lossy().into_owned()),
            ("KUBELAB_NAMESPACE".into(), namespace.into()),
            ("KUBELAB_CONTEXT".into(), ctx_name),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: kind-kind
clusters:
- name: kind-kind
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
- name: k3s
  cluster:
    server: https://10.0.0.2:6443
    insecure-skip-tls-verify: true
contexts:
- name: kind-kind
  context: {cluster: kind-kind, user: kind-kind}
- name: k3s
  context: {cluster: k3s, user: admin, namespace: team}
users:
- name: kind-kind
  user: {token: abc}
- name: admin
  user: {token: def}
"#;

    #[tokio::test]
    async fn current_context_or_the_one_asked_for() {
        let kc = Kubeconfig::from_yaml(KUBECONFIG).unwrap();
        let t = Target::from_kubeconfig(kc.clone(), None, vec![])
            .await
            .unwrap();
        assert_eq!(t.context, "kind-kind");
        assert_eq!(t.server, "https://127.0.0.1:6443/");
        assert!(t.describe().contains("kind-kind"));
        let t = Target::from_kubeconfig(kc.clone(), Some("k3s"), vec![])
            .await
            .unwrap();
        assert_eq!((t.cluster.as_str(), t.user.as_str()), ("k3s", "admin"));
        let e = Target::from_kubeconfig(kc, Some("nope"), vec![])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("`nope`"), "{e}");
        assert!(e.to_string().contains("kind-kind, k3s"), "{e}");
    }

    #[tokio::test]
    async fn broken_kubeconfig_is_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, "clusters: [ {name: 1").unwrap();
        let e = match Kubeconfig::read_from(&p) {
            Err(e) => ClusterError::Kubeconfig(e.to_string()),
            Ok(kc) => Target::from_kubeconfig(kc, None, vec![]).await.unwrap_err(),
        };
        assert!(e.to_string().starts_with("kubeconfig unusable"), "{e}");
        let no_ctx = Kubeconfig::from_yaml("apiVersion: v1\nkind: Config\n").unwrap();
        let e = Target::from_kubeconfig(no_ctx, None, vec![])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--context"), "{e}");
    }

    #[tokio::test]
    async fn lab_env_puts_an_overlay_in_front_and_leaves_the_learners_file() {
        let dir = tempfile::tempdir().unwrap();
        let learner = dir.path().join("learner-config");
        std::fs::write(&learner, KUBECONFIG).unwrap();
        let before = std::fs::read(&learner).unwrap();
        let kc = Kubeconfig::read_from(&learner).unwrap();
        let t = Target::from_kubeconfig(kc, Some("k3s"), vec![learner.clone()])
            .await
            .unwrap();
        let labdir = dir.path().join("lab");
        std::fs::create_dir(&labdir).unwrap();
        let env = t.lab_env("kubelab-deploy", &labdir).unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).unwrap().1.clone();
        let list: Vec<PathBuf> = std::env::split_paths(&get("KUBECONFIG")).collect();
        assert_eq!(list, vec![labdir.join("kubeconfig"), learner.clone()]);
        assert_eq!(get("KUBELAB_NAMESPACE"), "kubelab-deploy");
        // kubectl's merge: the overlay's current-context wins and names the
        // learner's cluster and user with the lab's namespace.
        let overlay = Kubeconfig::read_from(&list[0]).unwrap();
        let merged = overlay
            .merge(Kubeconfig::read_from(&learner).unwrap())
            .unwrap();
        assert_eq!(
            merged.current_context.as_deref(),
            Some("kubelab/kubelab-deploy")
        );
        let c = merged.contexts[0].context.clone().unwrap();
        assert_eq!(
            (
                c.cluster.as_str(),
                c.user.as_deref(),
                c.namespace.as_deref()
            ),
            ("k3s", Some("admin"), Some("kubelab-deploy"))
        );
        assert_eq!(std::fs::read(&learner).unwrap(), before, "never written");
    }
}
