//! Cluster labs from the lab runner's side: which cluster (`--context`),
//! whether one answers, and running a `kind=cluster` check from blocking
//! code (the runner's worker threads, never the UI task).

use super::connect::Target;
use super::error::{one_line, ClusterError};
use crate::course::model::ClusterReq;
use std::sync::OnceLock;

static CONTEXT: OnceLock<Option<String>> = OnceLock::new();

/// Records `--context` once, at start-up.
pub fn set_context(ctx: Option<String>) {
    let _ = CONTEXT.set(ctx.filter(|c| !c.is_empty()));
}

/// The context asked for with `--context`, if any.
pub fn context() -> Option<&'static str> {
    CONTEXT.get().and_then(|c| c.as_deref())
}

/// Runs `f` on a fresh single-thread runtime in its own thread: callable
/// from any thread, inside a tokio runtime or not.
pub fn block_on<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the cluster client: {e}"))?;
        Ok(rt.block_on(f()))
    })
    .join()
    .map_err(|_| "the cluster client stopped unexpectedly".to_string())?
}

/// The cluster, if one answers: resolved and `/version` asked (bounded),
/// and each resource `req` lists served. The error is the SKIP reason.
pub async fn available(req: &ClusterReq) -> Result<(Target, String), ClusterError> {
    let target = Target::resolve(context()).await?;
    let client = target.client()?;
    let version = target.server_version(&client).await?.git_version;
    for r in &req.resources {
        let (plural, group) = r.split_once('.').unwrap_or((r.as_str(), ""));
        let what = format!("discover {r}");
        let served = if group.is_empty() {
            super::error::bounded(
                &what,
                &target.server,
                super::connect::CALL_TIMEOUT,
                client.list_core_api_resources("v1"),
            )
            .await?
            .resources
        } else {
            let groups = super::error::bounded(
                &what,
                &target.server,
                super::connect::CALL_TIMEOUT,
                client.list_api_groups(),
            )
            .await?;
            let Some(gv) = groups
                .groups
                .iter()
                .find(|g| g.name == group)
                .and_then(|g| g.preferred_version.clone())
            else {
                return Err(ClusterError::NotFound(format!(
                    "API group {group} (for {r}); this cluster does not serve it"
                )));
            };
            super::error::bounded(
                &what,
                &target.server,
                super::connect::CALL_TIMEOUT,
                client.list_api_group_resources(&gv.group_version),
            )
            .await?
            .resources
        };
        if !served.iter().any(|s| s.name == plural) {
            return Err(ClusterError::NotFound(format!(
                "resource {r}; this cluster does not serve it"
            )));
        }
    }
    Ok((target, version))
}

static RESETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Asks that the next [`prepare_blocking`] for `lesson` first reset it
/// (delete its namespace and labelled cluster objects). Called by the
/// reader's reset, which must not wait on the API itself.
pub fn request_reset(lesson: &str) {
    let mut r = RESETS.lock().unwrap_or_else(|p| p.into_inner());
    if !r.iter().any(|l| l == lesson) {
        r.push(lesson.to_string());
    }
}

fn take_reset(lesson: &str) -> bool {
    let mut r = RESETS.lock().unwrap_or_else(|p| p.into_inner());
    let before = r.len();
    r.retain(|l| l != lesson);
    r.len() != before
}

/// What a cluster lab's sandboxes get: the cluster it uses (one line, for
/// the learner to see) and the environment for its shells.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub describe: String,
    pub namespace: String,
    pub env: Vec<(String, String)>,
}

/// Resolves the cluster, makes sure the lab's namespace exists (kubelab's,
/// labelled) and writes the overlay kubeconfig into `dir`. Bounded; called
/// off the UI thread (a sandbox's launch).
pub async fn prepare(
    target: &Target,
    lesson: &str,
    dir: &std::path::Path,
) -> Result<Prepared, ClusterError> {
    let client = target.client()?;
    let namespace = super::lab_namespace(lesson);
    super::namespace::ensure(target, &client, &namespace, lesson).await?;
    std::fs::create_dir_all(dir)
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        })
        .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", dir.display())))?;
    let mut env = target
        .lab_env(&namespace, dir)
        .map_err(|e| ClusterError::Kubeconfig(format!("{}: {e}", dir.display())))?;
    env.push(("KUBELAB_CLUSTER".into(), target.describe()));
    Ok(Prepared {
        describe: target.describe(),
        namespace,
        env,
    })
}

/// [`prepare`] from blocking code, with the cluster `--context` names and
/// the overlay under the data directory (`cluster/<namespace>/`).
pub fn prepare_blocking(lesson: &str) -> Result<Prepared, String> {
    let dir = crate::progress::data_dir(None)
        .map_err(|e| e.to_string())?
        .join("cluster")
        .join(super::lab_namespace(lesson));
    let reset = take_reset(lesson);
    let lesson = lesson.to_string();
    let ctx = context().map(str::to_string);
    block_on(move || {
        Box::pin(async move {
            let target = Target::resolve(ctx.as_deref()).await?;
            if reset {
                let client = target.client()?;
                let ns = super::lab_namespace(&lesson);
                super::namespace::reset(&target, &client, &ns, &lesson).await?;
            }
            prepare(&target, &lesson, &dir).await
        })
    })?
    .map_err(|e| e.to_string())
}

/// Whether a cluster answers with every resource `req` lists: its one-line
/// description and version, or why not — the reason `kubelab test` gives
/// when it skips a cluster lab (`needs a cluster: …`).
pub fn answers(req: &ClusterReq) -> Result<String, String> {
    let req = req.clone();
    match block_on(move || Box::pin(async move { available(&req).await })) {
        Ok(Ok((t, version))) => Ok(format!("{} ({version})", t.describe())),
        Ok(Err(e @ ClusterError::NoCluster)) => Err(e.to_string()),
        Ok(Err(e)) => Err(format!("needs a cluster: {e}")),
        Err(e) => Err(format!("needs a cluster: {e}")),
    }
}

/// Resets `lesson` from blocking code: deletes its namespace (if kubelab's)
/// and its labelled cluster-scoped objects, then waits up to `wait` for the
/// namespace to be gone. Returns what was deleted, as `kind/name`.
pub fn reset_blocking(lesson: &str, wait: std::time::Duration) -> Result<Vec<String>, String> {
    let lesson = lesson.to_string();
    let ctx = context().map(str::to_string);
    block_on(move || {
        Box::pin(async move {
            let target = Target::resolve(ctx.as_deref()).await?;
            let client = target.client()?;
            let ns = super::lab_namespace(&lesson);
            let removed = super::namespace::reset(&target, &client, &ns, &lesson).await?;
            super::namespace::wait_gone(&target, &client, &ns, wait).await?;
            Ok::<_, ClusterError>(removed.objects)
        })
    })?
    .map_err(|e| e.to_string())
}

/// The spec a cluster lab's sandbox starts with: the lesson's, plus the
/// cluster's environment from [`prepare`]. The reader's sandboxes and
/// `kubelab test`'s both go through here, so both get the same variables.
///
/// With a mount namespace of its own the sandbox would not see the files
/// `KUBECONFIG` lists (the overlay in the data directory, the learner's
/// `~/.kube/config`), nor the files those point to (minikube's and
/// kubeadm's certificates and keys, a token file): each one that exists is
/// bound read-only at the same path, so kubectl inside reads what kubelab
/// resolved.
pub fn lab_spec(
    spec: &kubelab_sandbox::spec::Spec,
    env: &[(String, String)],
) -> kubelab_sandbox::spec::Spec {
    use kubelab_sandbox::spec::{Mount, Namespace};
    let mut spec = spec.clone();
    spec.env.extend(env.iter().cloned());
    if !spec.namespaces.contains(&Namespace::Mount) {
        return spec;
    }
    let configs: Vec<std::path::PathBuf> = env
        .iter()
        .filter(|(k, _)| k == "KUBECONFIG")
        .flat_map(|(_, v)| std::env::split_paths(v).collect::<Vec<_>>())
        .collect();
    let referenced: Vec<std::path::PathBuf> = configs
        .iter()
        .filter(|f| f.is_file())
        .flat_map(|f| files_named_in(f))
        .take(MAX_REFERENCED_FILES)
        .collect();
    for file in configs.into_iter().chain(referenced) {
        let taken = spec.mounts.iter().any(|m| match m {
            Mount::Bind { target, .. } | Mount::Tmpfs { target, .. } => *target == file,
        });
        if file.is_absolute() && file.is_file() && !taken {
            spec.mounts.push(Mount::Bind {
                source: file.clone(),
                target: file,
                readonly: true,
            });
        }
    }
    spec
}

/// Most files one lab's kubeconfigs may point to (certificates, keys,
/// token files) that are bound into its sandboxes.
const MAX_REFERENCED_FILES: usize = 32;

/// The files a kubeconfig points to, as absolute paths (relative ones are
/// read from the kubeconfig's folder, as kubectl does). A file kube cannot
/// parse names none: kubectl inside says what is wrong with it.
fn files_named_in(kubeconfig: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(cfg) = kube::config::Kubeconfig::read_from(kubeconfig) else {
        return Vec::new();
    };
    let clusters = cfg
        .clusters
        .iter()
        .filter_map(|c| c.cluster.as_ref()?.certificate_authority.clone());
    let users = cfg
        .auth_infos
        .iter()
        .filter_map(|a| a.auth_info.as_ref())
        .flat_map(|a| {
            [&a.client_certificate, &a.client_key, &a.token_file]
                .into_iter()
                .flatten()
                .cloned()
        });
    clusters
        .chain(users)
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

/// Runs a `kind=cluster` check in `lesson`'s namespace: (passed, reason).
pub fn run_check(body: &str, lesson: &str) -> (bool, Option<String>) {
    let check = match super::check::parse(body) {
        Ok(c) => c,
        Err(e) => return (false, Some(e)),
    };
    let ns = super::lab_namespace(lesson);
    let ctx = context().map(str::to_string);
    let out = block_on(move || {
        Box::pin(async move {
            let target = Target::resolve(ctx.as_deref()).await?;
            let client = target.client()?;
            super::check::run(&check, &target, &client, &ns).await
        })
    });
    match out {
        Ok(Ok(Ok(()))) => (true, None),
        Ok(Ok(Err(why))) => (false, Some(why)),
        Ok(Err(e)) => (false, Some(e.to_string())),
        Err(e) => (false, Some(one_line(&e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_with_no_cluster_fails_with_the_reason_not_a_panic() {
        let out = block_on(|| {
            Box::pin(async { Target::resolve(Some("no-such-context-kubelab-test")).await })
        })
        .unwrap();
        // No kubeconfig here, or one without that context: either way a
        // message that says what to do.
        let e = out.unwrap_err().to_string();
        assert!(
            e.contains("needs a cluster") || e.contains("no-such-context-kubelab-test"),
            "{e}"
        );
        let (passed, reason) = run_check("object = \"web\"", "x");
        assert!(!passed);
        assert!(reason.unwrap().contains("kind/name"));
    }

    #[tokio::test]
    async fn prepare_makes_the_namespace_and_the_shell_environment() {
        use crate::cluster::recorded::{status_body, Route, Server};
        let ns = "/api/v1/namespaces/kubelab-rollout";
        let created = serde_json::json!({"kind": "Namespace", "apiVersion": "v1",
            "metadata": {"name": "kubelab-rollout", "uid": "u", "resourceVersion": "9",
                         "labels": {"app.kubernetes.io/managed-by": "kubelab", "kubelab.dev/lesson": "rollout"}}});
        let srv = Server::start(vec![
            Route::get(ns, &status_body(404, "NotFound", "not found")).status(404),
            Route::get("/api/v1/namespaces", &created.to_string())
                .method("POST")
                .status(201),
        ])
        .await;
        let t = srv.target().await;
        let dir = tempfile::tempdir().unwrap();
        let p = prepare(&t, "rollout", &dir.path().join("lab"))
            .await
            .unwrap();
        assert_eq!(p.namespace, "kubelab-rollout");
        assert!(p.describe.starts_with("context recorded"));
        let get = |k: &str| p.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("KUBELAB_NAMESPACE").as_deref(), Some("kubelab-rollout"));
        assert!(get("KUBECONFIG").unwrap().ends_with("lab/kubeconfig"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("lab/kubeconfig"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the overlay is private");
    }

    #[test]
    fn lab_spec_adds_the_variables_and_binds_the_kubeconfig_files_read_only() {
        use kubelab_sandbox::spec::{Mount, Namespace, Spec};
        let dir = tempfile::tempdir().unwrap();
        let overlay = dir.path().join("kubeconfig");
        let learner = dir.path().join("learner");
        std::fs::write(&overlay, "{}").unwrap();
        // minikube's shape: certificates named by path, one relative to
        // the kubeconfig's folder, one absolute, one key missing.
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        let ca = dir.path().join("certs/ca.crt");
        let client = dir.path().join("client.crt");
        std::fs::write(&ca, "ca").unwrap();
        std::fs::write(&client, "crt").unwrap();
        std::fs::write(
            &learner,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: mk\n  cluster:\n    \
                 server: https://192.168.49.2:8443\n    certificate-authority: certs/ca.crt\n\
                 users:\n- name: mk\n  user:\n    client-certificate: {}\n    \
                 client-key: {}/gone.key\ncontexts: []\n",
                client.display(),
                dir.path().display()
            ),
        )
        .unwrap();
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&overlay, &missing, &learner]).unwrap();
        let env = vec![
            (
                "KUBECONFIG".to_string(),
                list.to_string_lossy().into_owned(),
            ),
            ("KUBELAB_NAMESPACE".to_string(), "kubelab-x".to_string()),
        ];
        let spec: Spec = toml::from_str("env = { OWN = \"kept\" }").unwrap();
        assert!(spec.namespaces.contains(&Namespace::Mount));
        let got = lab_spec(&spec, &env);
        assert_eq!(got.env["OWN"], "kept");
        assert_eq!(got.env["KUBELAB_NAMESPACE"], "kubelab-x");
        assert_eq!(got.env["KUBECONFIG"], list.to_string_lossy());
        let binds: Vec<(&std::path::Path, bool)> = got
            .mounts
            .iter()
            .filter_map(|m| match m {
                Mount::Bind {
                    source,
                    target,
                    readonly,
                } if source == target => Some((target.as_path(), *readonly)),
                _ => None,
            })
            .collect();
        assert_eq!(
            binds,
            [
                (overlay.as_path(), true),
                (learner.as_path(), true),
                (ca.as_path(), true),
                (client.as_path(), true)
            ],
            "the missing files are left out; what the kubeconfig names is bound"
        );
        // Sharing the host's mounts, the sandbox sees the files already.
        let shared: Spec = toml::from_str("namespaces = [\"pid\", \"user\"]").unwrap();
        assert!(lab_spec(&shared, &env).mounts.is_empty());
    }

    #[test]
    fn a_reset_request_is_taken_once() {
        request_reset("lab-a");
        request_reset("lab-a");
        assert!(!take_reset("lab-b"));
        assert!(take_reset("lab-a"));
        assert!(!take_reset("lab-a"));
    }

    #[test]
    fn block_on_works_inside_a_runtime() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let v = rt.block_on(async { block_on(|| Box::pin(async { 7 })).unwrap() });
        assert_eq!(v, 7);
    }
}
