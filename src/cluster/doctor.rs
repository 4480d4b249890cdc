//! `kubelab doctor`'s cluster section: which cluster, is it there, which
//! version, kubectl and its skew, and the permissions cluster labs need
//! (asked with SelfSubjectAccessReview). Without a cluster: the one-line
//! commands to make one. Never fails doctor: non-cluster labs still run.

use super::connect::{Target, CALL_TIMEOUT};
use super::error::{bounded, one_line, ClusterError};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use kubelab_sandbox::doctor::{Check, Level};
use std::time::Duration;

/// How to get a cluster; kubelab downloads nothing itself.
pub const MAKE_ONE: &str = "make one: `kind create cluster` (kind), \
     `curl -sfL https://get.k3s.io | sh -` (k3s), or `minikube start` (minikube); \
     see docs/cluster.md";

/// (verb, group, resource, namespaced) a cluster lab needs.
pub const NEEDED: &[(&str, &str, &str, bool)] = &[
    ("create", "", "namespaces", false),
    ("delete", "", "namespaces", false),
    ("create", "", "pods", true),
    ("create", "apps", "deployments", true),
    ("create", "", "services", true),
    ("watch", "", "events", true),
];

/// The permissions a lab namespace needs, asked for in this namespace name
/// (reviews need no namespace to exist).
const PROBE_NAMESPACE: &str = "kubelab-doctor";

async fn can(
    client: &kube::Client,
    server: &str,
    verb: &str,
    group: &str,
    resource: &str,
    namespaced: bool,
) -> Result<bool, ClusterError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: namespaced.then(|| PROBE_NAMESPACE.to_string()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let what = "create selfsubjectaccessreviews";
    let r = bounded(
        what,
        server,
        CALL_TIMEOUT,
        api.create(&PostParams::default(), &review),
    )
    .await?;
    Ok(r.status.is_some_and(|s| s.allowed))
}

/// `v1.34.1` → (1, 34).
pub fn minor_of(git_version: &str) -> Option<(u32, u32)> {
    let v = git_version.trim_start_matches('v');
    let mut it = v.split('.');
    let major = it.next()?.parse().ok()?;
    let minor: String = it
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// kubectl's own version (`kubectl version --client -o json`), bounded.
async fn kubectl_version() -> Result<String, String> {
    let out = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::process::Command::new("kubectl")
            .args(["version", "--client", "-o", "json"])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| "`kubectl version` did not finish within 10s".to_string())?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "not on PATH".to_string(),
        _ => e.to_string(),
    })?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| "`kubectl version --client -o json` printed no JSON".to_string())?;
    v.pointer("/clientVersion/gitVersion")
        .and_then(|g| g.as_str())
        .map(one_line)
        .ok_or_else(|| "no clientVersion in `kubectl version` output".into())
}

fn check(name: &'static str, level: Level, detail: String, fix: &str) -> Check {
    Check {
        name,
        level,
        detail,
        fix: fix.to_string(),
    }
}

/// The cluster checks, for `kubelab doctor`. `context` is `--context`.
pub async fn checks(context: Option<&str>) -> Vec<Check> {
    let mut out = Vec::new();
    let kubectl = kubectl_version().await;
    let target = match Target::resolve(context).await {
        Ok(t) => t,
        Err(ClusterError::NoCluster) => {
            out.push(check(
                "cluster",
                Level::Warn,
                "no kubeconfig: cluster labs will be skipped".into(),
                MAKE_ONE,
            ));
            out.push(kubectl_line(&kubectl, None));
            return out;
        }
        Err(e) => {
            out.push(check(
                "cluster",
                Level::Warn,
                e.to_string(),
                "cluster labs are skipped until this is fixed",
            ));
            out.push(kubectl_line(&kubectl, None));
            return out;
        }
    };
    out.extend(target_checks(&target, kubectl).await);
    out
}

/// The checks that talk to a resolved cluster.
pub async fn target_checks(target: &Target, kubectl: Result<String, String>) -> Vec<Check> {
    let mut out = vec![check("cluster context", Level::Ok, target.describe(), "")];
    let client = match target.client() {
        Ok(c) => c,
        Err(e) => {
            out.push(check(
                "cluster",
                Level::Warn,
                e.to_string(),
                "cluster labs are skipped until this is fixed",
            ));
            return out;
        }
    };
    let server = match target.server_version(&client).await {
        Ok(v) => {
            out.push(check(
                "cluster version",
                Level::Ok,
                format!("{} ({})", one_line(&v.git_version), one_line(&v.platform)),
                "",
            ));
            Some(v.git_version)
        }
        Err(e) => {
            out.push(check("cluster", Level::Warn, e.to_string(), MAKE_ONE));
            out.push(kubectl_line(&kubectl, None));
            return out;
        }
    };
    out.push(kubectl_line(&kubectl, server.as_deref()));
    let reviews = NEEDED
        .iter()
        .map(|(verb, group, res, nsd)| can(&client, &target.server, verb, group, res, *nsd));
    let answers = futures_util::future::join_all(reviews).await;
    let mut missing = Vec::new();
    for ((verb, group, res, _), a) in NEEDED.iter().zip(answers) {
        let name = if group.is_empty() {
            res.to_string()
        } else {
            format!("{res}.{group}")
        };
        match a {
            Ok(true) => {}
            Ok(false) => missing.push(format!("{verb} {name}")),
            Err(e) => {
                out.push(check(
                    "cluster rbac",
                    Level::Warn,
                    format!("cannot ask: {e}"),
                    "",
                ));
                return out;
            }
        }
    }
    out.push(if missing.is_empty() {
        check(
            "cluster rbac",
            Level::Ok,
            "may create and delete namespaces, pods, deployments, services".into(),
            "",
        )
    } else {
        check(
            "cluster rbac",
            Level::Warn,
            format!("not allowed: {}", missing.join(", ")),
            "use a context with cluster-admin on a practice cluster (kind, k3s, minikube)",
        )
    });
    out
}

fn kubectl_line(kubectl: &Result<String, String>, server: Option<&str>) -> Check {
    match (kubectl, server.and_then(minor_of)) {
        (Err(e), _) => check(
            "kubectl",
            Level::Warn,
            e.clone(),
            "install kubectl (Debian: `apt-get install kubectl`, or from your cluster's distribution)",
        ),
        (Ok(v), Some((smaj, smin))) => match minor_of(v) {
            Some((cmaj, cmin)) if cmaj == smaj && cmin.abs_diff(smin) <= 1 => {
                check("kubectl", Level::Ok, format!("{v} (server within one minor version)"), "")
            }
            _ => check(
                "kubectl",
                Level::Warn,
                format!("{v} is more than one minor version from the server's"),
                "use a kubectl within one minor version of the cluster",
            ),
        },
        (Ok(v), None) => check("kubectl", Level::Ok, v.clone(), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::recorded::{Route, Server};

    #[test]
    fn versions_and_skew() {
        assert_eq!(minor_of("v1.34.1"), Some((1, 34)));
        assert_eq!(minor_of("v1.31.4+k3s1"), Some((1, 31)));
        assert_eq!(minor_of("garbage"), None);
        let ok = kubectl_line(&Ok("v1.33.0".into()), Some("v1.34.2"));
        assert_eq!(ok.level, Level::Ok);
        let skew = kubectl_line(&Ok("v1.30.0".into()), Some("v1.34.2"));
        assert_eq!(skew.level, Level::Warn);
        let none = kubectl_line(&Err("not on PATH".into()), None);
        assert!(none.fix.contains("apt-get install kubectl"));
    }

    fn review(allowed: bool) -> String {
        serde_json::json!({
            "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": {"resourceAttributes": {"verb": "create", "resource": "namespaces"}},
            "status": {"allowed": allowed}
        })
        .to_string()
    }

    #[tokio::test]
    async fn doctor_reports_version_and_missing_permissions() {
        let version = r#"{"major":"1","minor":"34","emulationMajor":"1","emulationMinor":"34","minCompatibilityMajor":"1","minCompatibilityMinor":"33","gitVersion":"v1.34.1","gitCommit":"93248f9ae092f571eb870b7664c534bfc7d00f03","gitTreeState":"clean","buildDate":"2025-09-09T19:44:50Z","goVersion":"go1.24.6","compiler":"gc","platform":"linux/amd64"}"#;
        let ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        let mut routes = vec![Route::get("/version", version)];
        // Reviews are answered in the order they arrive; deny exactly one
        // by its body is not possible here, so deny all then allow all.
        for _ in NEEDED {
            routes.push(Route::get(ssar, &review(false)).method("POST").status(201));
        }
        let srv = Server::start(routes).await;
        let t = srv.target().await;
        let out = target_checks(&t, Ok("v1.34.0".into())).await;
        let line = |n: &str| out.iter().find(|c| c.name == n).unwrap().clone();
        assert_eq!(line("cluster version").detail, "v1.34.1 (linux/amd64)");
        assert_eq!(line("kubectl").level, Level::Ok);
        let rbac = line("cluster rbac");
        assert_eq!(rbac.level, Level::Warn);
        assert!(
            rbac.detail.contains("create namespaces") && rbac.detail.contains("watch events"),
            "{}",
            rbac.detail
        );
        let posts = srv
            .requests()
            .iter()
            .filter(|r| r.starts_with("POST"))
            .count();
        assert_eq!(posts, NEEDED.len());

        for _ in NEEDED {
            srv.push(Route::get(ssar, &review(true)).method("POST").status(201));
        }
        srv.push(Route::get("/version", version));
        let out = target_checks(&t, Ok("v1.34.0".into())).await;
        assert_eq!(
            out.iter().find(|c| c.name == "cluster rbac").unwrap().level,
            Level::Ok
        );
    }

    #[tokio::test]
    async fn unreachable_cluster_says_how_to_make_one() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let srv_less = kube::config::Kubeconfig::from_yaml(&format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u}}}}]\nusers: [{{name: u, user: {{}}}}]\n"
        ))
        .unwrap();
        let t = Target::from_kubeconfig(srv_less, None, vec![])
            .await
            .unwrap();
        let out = target_checks(&t, Err("not on PATH".into())).await;
        let c = out.iter().find(|c| c.name == "cluster").unwrap();
        assert!(c.detail.contains("unreachable"), "{}", c.detail);
        assert!(c.fix.contains("kind create cluster"));
        assert!(
            out.iter().all(|c| c.level != Level::Fail),
            "a cluster never fails doctor"
        );
    }
}
