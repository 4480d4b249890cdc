//! Real clusters (issue 20): labs that drive a learner's own Kubernetes API.
//!
//! The cluster is found the way kubectl finds it (`connect`); every lab owns
//! one namespace that kubelab creates and labels (`namespace`); the Objects
//! pane is a tree built from watches (`tree`, `watch`); checks may ask the
//! API about an object (`check`); `kubelab doctor` reports on all of it
//! (`doctor`). A Pod selected in the Objects pane opens the Pod inspector
//! when its processes run on this machine (`pod_view`). Every API call is bounded by a timeout and runs off the UI
//! task: a cluster that goes away is a message, never a hang.

pub mod age;
pub mod check;
pub mod connect;
pub mod doctor;
pub mod error;
pub mod lab;
pub mod lint;
pub mod live;
pub mod namespace;
pub mod pane;
pub mod pod_view;
pub mod status;
pub mod text;
pub mod tree;
pub mod watch;

#[cfg(test)]
mod recorded;

pub use connect::Target;
pub use error::ClusterError;

/// Label every object kubelab creates carries; reset deletes only these.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubelab");
/// Label naming the lesson an object belongs to.
pub const LESSON_LABEL: &str = "kubelab.dev/lesson";

/// The namespace a lab works in: `kubelab-<lesson>`, cut to a valid DNS
/// label (63 chars, lowercase alphanumerics and `-`).
pub fn lab_namespace(lesson_id: &str) -> String {
    let mut s: String = format!("kubelab-{lesson_id}")
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(63);
    while s.ends_with('-') {
        s.pop();
    }
    s
}

/// The label selector for the objects of one lesson that kubelab made.
pub fn lesson_selector(lesson_id: &str) -> String {
    format!(
        "{}={},{}={}",
        MANAGED_BY.0,
        MANAGED_BY.1,
        LESSON_LABEL,
        label_value(lesson_id)
    )
}

/// A lesson id as a label value (63 chars of `[a-z0-9A-Z._-]`, alphanumeric
/// at both ends).
pub fn label_value(id: &str) -> String {
    let mut s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(63);
    s.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_namespaces_are_dns_labels() {
        assert_eq!(lab_namespace("12-first-app"), "kubelab-12-first-app");
        assert_eq!(lab_namespace("Deploy_Roll"), "kubelab-deploy-roll");
        let long = lab_namespace(&"x".repeat(100));
        assert_eq!(long.len(), 63);
        assert_eq!(lab_namespace(&format!("{}_", "a".repeat(54))).len(), 62);
    }

    #[test]
    fn lesson_selector_names_both_labels() {
        assert_eq!(
            lesson_selector("deployments"),
            "app.kubernetes.io/managed-by=kubelab,kubelab.dev/lesson=deployments"
        );
        assert_eq!(label_value("-a b-"), "a-b");
    }
}
