//! The Pod pane's strings in the UI language (the scheme of
//! `crate::i18n`: one static table per language). kubectl's column heads
//! and Kubernetes' words (Running, QoS class names, event reasons) stay as
//! kubectl prints them, in both languages.

use crate::course::model::Lang;

#[derive(Debug)]
pub struct PodText {
    pub title: &'static str,
    pub connecting: &'static str,
    pub no_pods: &'static str,
    /// `{n}`: how many were shown.
    pub truncated: &'static str,
    pub list_keys: &'static str,
    pub detail_keys: &'static str,
    pub containers: &'static str,
    pub container_head: [&'static str; 4],
    pub namespaces: &'static str,
    pub ns_type: &'static str,
    pub shared: &'static str,
    pub own: &'static str,
    pub cgroup: &'static str,
    /// `{used}`, `{limit}`.
    pub cpu: &'static str,
    pub memory: &'static str,
    pub pids: &'static str,
    pub no_limit: &'static str,
    pub events: &'static str,
    pub no_events: &'static str,
    pub other_node: &'static str,
    pub not_running: &'static str,
    pub gone: &'static str,
    pub qos: &'static str,
    pub init: &'static str,
    /// Why the node cannot be reached; `{e}`: the error.
    pub node_down: &'static str,
    /// The `?` help's row: (keys, what they do).
    pub help: (&'static str, &'static str),
}

const EN: PodText = PodText {
    title: "Pods",
    connecting: "asking the node…",
    no_pods: "No Pods yet: `kubectl apply -f FILE` starts one.",
    truncated: "(the first {n} Pods)",
    list_keys: "j/k select · Enter inspect",
    detail_keys: "j/k scroll · h/← back",
    containers: "Containers",
    container_head: ["NAME", "STATE", "RESTARTS", "PID"],
    namespaces: "Namespaces (inode of /proc/PID/ns/*)",
    ns_type: "TYPE",
    shared: "shared",
    own: "own",
    cgroup: "cgroup",
    cpu: "cpu {used} / {limit} cores",
    memory: "memory {used} / {limit}",
    pids: "pids {used} / {limit}",
    no_limit: "no limit",
    events: "Events",
    no_events: "no events",
    other_node: "Pod runs on another node: no process of its UID on this machine.",
    not_running: "The Pod has no running infra process (pending or finished).",
    gone: "The Pod is gone (deleted).",
    qos: "QoS",
    init: "init",
    node_down: "No node to ask: {e}",
    help: (
        "F7 · j/k · Enter · h",
        "Pods pane: bring it to the front, select a Pod, inspect it; h back to the list",
    ),
};

const ZH: PodText = PodText {
    title: "Pod",
    connecting: "正在询问节点…",
    no_pods: "还没有 Pod：`kubectl apply -f 文件` 即可启动一个。",
    truncated: "（只列出前 {n} 个 Pod）",
    list_keys: "j/k 选择 · Enter 查看",
    detail_keys: "j/k 滚动 · h/← 返回",
    containers: "容器",
    container_head: ["NAME", "STATE", "RESTARTS", "PID"],
    namespaces: "命名空间（/proc/PID/ns/* 的 inode）",
    ns_type: "类型",
    shared: "共享",
    own: "独有",
    cgroup: "cgroup",
    cpu: "CPU {used} / {limit} 核",
    memory: "内存 {used} / {limit}",
    pids: "进程数 {used} / {limit}",
    no_limit: "不限",
    events: "事件",
    no_events: "没有事件",
    other_node: "Pod 运行在另一个节点上：本机没有属于它 UID 的进程。",
    not_running: "这个 Pod 没有运行中的 infra 进程（等待中或已结束）。",
    gone: "这个 Pod 已不存在（已删除）。",
    qos: "QoS",
    init: "init",
    node_down: "无法连接节点：{e}",
    help: (
        "F7 · j/k · Enter · h",
        "Pod 窗格：单独显示后选择一个 Pod 并查看详情；h 回到列表",
    ),
};

pub fn text(lang: Lang) -> &'static PodText {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}
