//! What went wrong talking to a cluster, in words a learner can act on.

use crate::course::model::Lang;
use std::fmt;
use std::time::Duration;

/// Every failure a cluster lab can meet; `Display` is the message shown in
/// the pane and the status bar (one line, ends with what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// No kubeconfig at all: the lab needs a cluster.
    NoCluster,
    /// The kubeconfig exists but cannot be used (bad YAML, unknown context,
    /// missing file it names).
    Kubeconfig(String),
    /// The API server did not answer (connection refused, DNS, TLS).
    Unreachable { server: String, why: String },
    /// No answer within the bound every call has.
    Timeout { what: String, after: Duration },
    /// 401: the credentials were refused (an expired token, usually).
    Unauthorized(String),
    /// 403: the user may not do this.
    Forbidden(String),
    /// 404 on an object a check or the pane asked for.
    NotFound(String),
    /// Any other answer from the API server (its own message).
    Api { code: u16, message: String },
    /// A namespace or object exists that kubelab did not create.
    NotOurs(String),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::NoCluster => write!(
                f,
                "needs a cluster: no kubeconfig found ($KUBECONFIG, ~/.kube/config); \
                 run `kubelab doctor` for the one-line commands to make one"
            ),
            ClusterError::Kubeconfig(m) => {
                write!(f, "kubeconfig unusable: {m}; fix it or pass --context")
            }
            ClusterError::Unreachable { server, why } => write!(
                f,
                "cluster {server} unreachable: {why}; is it running? (`kubelab doctor`)"
            ),
            ClusterError::Timeout { what, after } => write!(
                f,
                "cluster did not answer {what} within {}s; is it running? (`kubelab doctor`)",
                after.as_secs()
            ),
            ClusterError::Unauthorized(m) => write!(
                f,
                "cluster refused the credentials ({m}); the token may have expired: \
                 log in again or refresh the kubeconfig"
            ),
            ClusterError::Forbidden(m) => write!(
                f,
                "not allowed: {m}; ask for this permission or use another context \
                 (`kubelab doctor` lists what labs need)"
            ),
            ClusterError::NotFound(m) => write!(f, "not found: {m}"),
            ClusterError::Api { code, message } => write!(f, "cluster answered {code}: {message}"),
            ClusterError::NotOurs(m) => write!(
                f,
                "{m} exists and was not created by kubelab; kubelab leaves it alone \
                 (delete or rename it yourself)"
            ),
        }
    }
}

impl std::error::Error for ClusterError {}

impl ClusterError {
    /// The message in `lang` (English is `Display`, which the CLI prints).
    /// What the server or a file said is quoted as it came, cut to a line.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ClusterError::NoCluster => "需要一个集群：没有找到 kubeconfig（$KUBECONFIG、~/.kube/config）；\
                 运行 `kubelab doctor` 查看创建集群的一行命令"
                .into(),
            ClusterError::Kubeconfig(m) => {
                format!("kubeconfig 无法使用：{m}；请修正它或传 --context")
            }
            ClusterError::Unreachable { server, why } => {
                format!("集群 {server} 无法连接：{why}；它在运行吗？（`kubelab doctor`）")
            }
            ClusterError::Timeout { what, after } => format!(
                "集群在 {} 秒内没有回应 {what}；它在运行吗？（`kubelab doctor`）",
                after.as_secs()
            ),
            ClusterError::Unauthorized(m) => format!(
                "集群拒绝了凭据（{m}）；令牌可能已过期：请重新登录或刷新 kubeconfig"
            ),
            ClusterError::Forbidden(m) => format!(
                "没有权限：{m}；请申请这项权限或换一个 context（`kubelab doctor` 列出实验需要的权限）"
            ),
            ClusterError::NotFound(m) => format!("不存在：{m}"),
            ClusterError::Api { code, message } => format!("集群返回 {code}：{message}"),
            ClusterError::NotOurs(m) => {
                format!("{m} 已存在且不是 kubelab 创建的；kubelab 不会动它（请自行删除或改名）")
            }
        }
    }

    /// A few words for the status bar (the pane has the whole message).
    pub fn short(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            ClusterError::NoCluster if zh => "本机没有集群（`kubelab doctor` 说明如何创建）".into(),
            ClusterError::NoCluster => {
                "no cluster here (`kubelab doctor` says how to make one)".into()
            }
            ClusterError::Kubeconfig(_) if zh => "kubeconfig 无法使用（见对象窗格）".into(),
            ClusterError::Kubeconfig(_) => "kubeconfig unusable (see the Objects pane)".into(),
            ClusterError::Unreachable { server, .. } if zh => {
                format!("集群 {server} 无法连接 · 正在重试")
            }
            ClusterError::Unreachable { server, .. } => {
                format!("cluster {server} unreachable · retrying")
            }
            ClusterError::Timeout { .. } if zh => "集群没有回应 · 正在重试".into(),
            ClusterError::Timeout { .. } => "cluster not answering · retrying".into(),
            ClusterError::Unauthorized(_) if zh => "集群拒绝了凭据（令牌过期？）".into(),
            ClusterError::Unauthorized(_) => {
                "cluster refused the credentials (token expired?)".into()
            }
            ClusterError::Forbidden(_) if zh => "集群：没有权限（见对象窗格）".into(),
            ClusterError::Forbidden(_) => "cluster: not allowed (see the Objects pane)".into(),
            _ if zh => "集群出错（见对象窗格）".into(),
            _ => "cluster error (see the Objects pane)".into(),
        }
    }
}

pub use crate::sanitize::one_line;

impl ClusterError {
    /// Classifies a kube client error; `what` names the request
    /// (e.g. "get namespaces/kubelab-x").
    pub fn from_kube(e: kube::Error, server: &str, what: &str) -> ClusterError {
        match e {
            kube::Error::Api(r) => match r.code {
                401 => ClusterError::Unauthorized(one_line(&r.message)),
                403 => ClusterError::Forbidden(format!("{what}: {}", one_line(&r.message))),
                404 => ClusterError::NotFound(what.to_string()),
                code => ClusterError::Api {
                    code,
                    message: format!("{what}: {}", one_line(&r.message)),
                },
            },
            kube::Error::Auth(a) => ClusterError::Unauthorized(one_line(&a.to_string())),
            other => ClusterError::Unreachable {
                server: server.to_string(),
                why: one_line(&error_chain(&other)),
            },
        }
    }
}

/// An error and its sources, `: `-joined (hyper hides the cause otherwise).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// Runs one API call bounded by `after`; a timeout becomes
/// [`ClusterError::Timeout`].
pub async fn bounded<T>(
    what: &str,
    server: &str,
    after: Duration,
    fut: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(after, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ClusterError::from_kube(e, server, what)),
        Err(_) => Err(ClusterError::Timeout {
            what: what.to_string(),
            after,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            ClusterError::NoCluster,
            ClusterError::Kubeconfig("/k: bad".into()),
            ClusterError::Unreachable {
                server: "https://k/".into(),
                why: "connection refused".into(),
            },
            ClusterError::Timeout {
                what: "GET /version".into(),
                after: Duration::from_secs(10),
            },
            ClusterError::Unauthorized("Unauthorized".into()),
            ClusterError::Forbidden("list pods: no".into()),
            ClusterError::NotFound("get x".into()),
            ClusterError::Api {
                code: 500,
                message: "boom".into(),
            },
            ClusterError::NotOurs("namespace/x".into()),
        ];
        for e in &all {
            let (en, zh) = (e.message(Lang::En), e.message(Lang::Zh));
            assert_eq!(en, e.to_string());
            assert_ne!(en, zh);
            assert!(!zh.is_ascii(), "{zh}");
            assert!(!e.short(Lang::Zh).is_ascii());
            assert!(e.short(Lang::En).len() < 60, "{}", e.short(Lang::En));
        }
        // What the server said stays in both.
        assert!(all[5].message(Lang::Zh).contains("list pods: no"));
        assert!(all[2].short(Lang::Zh).contains("https://k/"));
    }

    #[test]
    fn api_codes_become_actionable_messages() {
        let api = |code| {
            kube::Error::Api(kube::core::ErrorResponse {
                status: "Failure".into(),
                message: "msg\x1b[2J".into(),
                reason: String::new(),
                code,
            })
        };
        let e = ClusterError::from_kube(api(401), "https://k", "list pods");
        assert!(matches!(e, ClusterError::Unauthorized(_)));
        assert!(e.to_string().contains("expired"));
        assert!(!e.to_string().contains('\x1b'), "control bytes are cut");
        let e = ClusterError::from_kube(api(403), "https://k", "create namespaces");
        assert!(e.to_string().contains("create namespaces"));
        assert_eq!(
            ClusterError::from_kube(api(404), "s", "get deployments/web"),
            ClusterError::NotFound("get deployments/web".into())
        );
    }
}
