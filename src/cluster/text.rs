//! The Objects pane's and cluster labs' words in zh and en (kept beside the
//! cluster code; the chrome's strings are in `crate::i18n`).

use crate::course::model::Lang;

#[derive(Debug)]
pub struct ClusterText {
    /// The pane's title.
    pub objects: &'static str,
    /// Column headers: NAME READY STATUS RESTARTS AGE (kubectl's, untranslated
    /// in both: they are what `kubectl get` prints).
    pub columns: [&'static str; 5],
    pub events: &'static str,
    /// Before the first full list.
    pub loading: &'static str,
    /// Nothing in the namespace yet; `{ns}`.
    pub empty: &'static str,
    /// "cluster: {target}" line shown before a lab touches it.
    pub using: &'static str,
    /// A cluster lab without a cluster; `{why}`.
    pub needs_cluster: &'static str,
    pub namespace: &'static str,
    /// The Objects pane in a lesson without `[cluster]`.
    pub needs_cluster_table: &'static str,
    /// The `?` help's row for the Objects pane: (keys, what they do).
    pub help_scroll: (&'static str, &'static str),
    /// Its row for picking and inspecting a Pod.
    pub help_pods: (&'static str, &'static str),
}

static ZH: ClusterText = ClusterText {
    objects: "对象",
    columns: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
    events: "最近事件",
    loading: "正在列出对象…",
    empty: "命名空间 {ns} 里还没有对象",
    using: "集群：{target}",
    needs_cluster: "此实验需要一个集群：{why}",
    namespace: "命名空间",
    needs_cluster_table: "对象窗格只用于带 [cluster] 的课程",
    help_scroll: (
        "F7 · j/k · g/G",
        "对象窗格：单独显示（窄终端）后滚动，Esc 回到课文",
    ),
    help_pods: (
        "[ / ] · Enter · h",
        "对象窗格：选中一个 Pod，查看它在本机的进程、命名空间与 cgroup；h 返回",
    ),
};

static EN: ClusterText = ClusterText {
    objects: "Objects",
    columns: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
    events: "Recent events",
    loading: "listing objects…",
    empty: "no objects in namespace {ns} yet",
    using: "cluster: {target}",
    needs_cluster: "this lab needs a cluster: {why}",
    namespace: "namespace",
    needs_cluster_table: "the objects pane is for lessons with [cluster]",
    help_scroll: (
        "F7 · j/k · g/G",
        "Objects pane: bring it to the front (narrow terminal), scroll; Esc back",
    ),
    help_pods: (
        "[ / ] · Enter · h",
        "Objects pane: pick a Pod, inspect its processes, namespaces and cgroup here; h back",
    ),
};

pub fn text(lang: Lang) -> &'static ClusterText {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_placeholder() {
        for l in Lang::ALL {
            let t = text(l);
            assert!(t.empty.contains("{ns}") && t.using.contains("{target}"));
            assert!(t.needs_cluster.contains("{why}"));
            assert!(!t.objects.is_empty() && !t.events.is_empty());
        }
        assert_ne!(text(Lang::Zh).objects, text(Lang::En).objects);
    }
}
