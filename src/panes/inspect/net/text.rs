//! The network pane's words, in English and Chinese.

/// Section heads and labels of the network pane.
#[derive(Debug)]
pub struct NetText {
    /// The top row, kept when scrolled: `{links}`, `{routes}`, `{neigh}`,
    /// `{rules}`, `{conntrack}`.
    pub summary: &'static str,
    pub packet: &'static str,
    /// Shown under the packet head before any traffic moved a counter.
    pub packet_hint: &'static str,
    pub came_in: &'static str,
    pub matched: &'static str,
    pub went_out: &'static str,
    pub links: &'static str,
    pub addrs: &'static str,
    pub routes: &'static str,
    pub neigh: &'static str,
    pub fdb: &'static str,
    pub rules: &'static str,
    pub iptables: &'static str,
    pub conntrack: &'static str,
    /// `{n}`: rows not shown.
    pub more: &'static str,
    pub none: &'static str,
}

pub const EN: NetText = NetText {
    summary:
        "{links} links · {routes} routes · {neigh} neighbours · {rules} rules · {conntrack} conns",
    packet: "packet path (last burst of traffic)",
    packet_hint: "  (ping or curl, and the counters it moves show here)",
    came_in: "in ",
    matched: "rule",
    went_out: "out",
    links: "links",
    addrs: "addresses",
    routes: "routes",
    neigh: "neighbours (ARP/NDP)",
    fdb: "bridge/VXLAN FDB",
    rules: "nftables rules [packets bytes]",
    iptables: "iptables-nft view (iptables-save -c)",
    conntrack: "conntrack",
    more: "  … {n} more",
    none: "  (none)",
};

pub const ZH: NetText = NetText {
    summary: "网卡 {links} · 路由 {routes} · 邻居 {neigh} · 规则 {rules} · 连接 {conntrack}",
    packet: "数据包路径（最近一阵流量）",
    packet_hint: "  （ping 或 curl 一下，它推动的计数器会显示在这里）",
    came_in: "进",
    matched: "规则",
    went_out: "出",
    links: "网卡",
    addrs: "地址",
    routes: "路由",
    neigh: "邻居（ARP/NDP）",
    fdb: "网桥/VXLAN 转发表（FDB）",
    rules: "nftables 规则 [包数 字节]",
    iptables: "iptables-nft 视图（iptables-save -c）",
    conntrack: "连接跟踪（conntrack）",
    more: "  … 还有 {n} 条",
    none: "  （无）",
};
