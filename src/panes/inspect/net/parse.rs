//! Parsing what `ip -j`, `bridge -j`, `nft -j`, `conntrack` and
//! `iptables-save` print. Their output comes from inside a namespace the
//! learner controls (interface names, comments): every string is cut and
//! has its controls escaped, every list is bounded, nothing panics.

use super::{LinkRow, NetView, RuleRow, Section};
use serde_json::Value;

/// Most rows kept per section.
pub const MAX_ROWS: usize = 256;
/// Most conntrack entries kept (a busy node has thousands).
pub const MAX_CONNTRACK: usize = 40;
/// Longest string kept from the tools.
const MAX_STR: usize = 160;
/// Deepest nftables expression rendered.
const MAX_DEPTH: usize = 6;

/// `s` as one safe display line, cut.
pub fn clean(s: &str) -> String {
    let mut out: String = crate::sanitize::line(s).chars().take(MAX_STR).collect();
    if out.chars().count() == MAX_STR {
        out.push('…');
    }
    out
}

fn str_of<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn u64_of(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for k in path {
        match cur.get(k) {
            Some(n) => cur = n,
            None => return 0,
        }
    }
    cur.as_u64().unwrap_or(0)
}

/// The JSON arrays of `ip -j -batch -` (one per command), in order.
pub fn json_stream(s: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(s)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .take(8)
        .collect()
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `ip -j -s -d link show`.
pub fn links(v: &Value) -> Section<LinkRow> {
    let mut s = Section::default();
    for l in array(Some(v)) {
        let Some(name) = str_of(l, "ifname") else {
            continue;
        };
        let info = l.get("linkinfo");
        let kind = info.and_then(|i| str_of(i, "info_kind")).unwrap_or("");
        let data = info.and_then(|i| i.get("info_data"));
        // A veth's peer (here, or by index in another namespace); a
        // VXLAN's underlay device is in its info_data.
        let underlay = data.and_then(|d| str_of(d, "link"));
        let peer = match (
            str_of(l, "link").or(underlay),
            l.get("link_index").and_then(Value::as_u64),
        ) {
            (Some(p), _) => Some(clean(p)),
            (None, Some(i)) => Some(format!("if{i}")),
            _ => None,
        };
        let vxlan = (kind == "vxlan").then(|| {
            let d = data.unwrap_or(&Value::Null);
            let mut t = format!("vni {}", u64_of(d, &["id"]));
            for (k, label) in [("remote", "remote"), ("group", "group"), ("local", "local")] {
                if let Some(a) = str_of(d, k) {
                    t.push_str(&format!(" {label} {}", clean(a)));
                }
            }
            t.push_str(&format!(" dstport {}", u64_of(d, &["port"])));
            t
        });
        let row = LinkRow {
            index: u64_of(l, &["ifindex"]) as u32,
            name: clean(name),
            kind: clean(kind),
            master: str_of(l, "master").map(clean),
            peer,
            vxlan,
            state: clean(str_of(l, "operstate").unwrap_or("?")),
            mtu: u64_of(l, &["mtu"]) as u32,
            rx_packets: u64_of(l, &["stats64", "rx", "packets"]),
            rx_bytes: u64_of(l, &["stats64", "rx", "bytes"]),
            tx_packets: u64_of(l, &["stats64", "tx", "packets"]),
            tx_bytes: u64_of(l, &["stats64", "tx", "bytes"]),
        };
        s.push_bounded(row, MAX_ROWS);
    }
    s
}

/// `ip -j address show`: `10.0.0.1/24 dev eth0` (with the scope when it
/// is not global).
pub fn addrs(v: &Value) -> Section<String> {
    let mut s = Section::default();
    for l in array(Some(v)) {
        let dev = clean(str_of(l, "ifname").unwrap_or("?"));
        for a in array(l.get("addr_info")) {
            let Some(local) = str_of(a, "local") else {
                continue;
            };
            let mut t = format!("{}/{} dev {dev}", clean(local), u64_of(a, &["prefixlen"]));
            if let Some(sc) = str_of(a, "scope").filter(|sc| *sc != "global") {
                t.push_str(&format!(" scope {}", clean(sc)));
            }
            s.push_bounded(t, MAX_ROWS);
        }
    }
    s
}

/// `ip -j route show table all`: main first, then the other tables the
/// learner made; the kernel's `local` table and IPv6 multicast left out.
pub fn routes(v: &Value) -> Section<String> {
    let mut rows: Vec<(u8, String)> = Vec::new();
    for r in array(Some(v)).iter().take(4 * MAX_ROWS) {
        let table = str_of(r, "table").unwrap_or("main");
        let dst = str_of(r, "dst").unwrap_or("?");
        if table == "local" || dst.starts_with("ff00::") {
            continue;
        }
        let mut t = String::new();
        if let Some(ty) = str_of(r, "type").filter(|t| *t != "unicast") {
            t.push_str(&format!("{} ", clean(ty)));
        }
        t.push_str(&clean(dst));
        for (k, label) in [
            ("gateway", "via"),
            ("dev", "dev"),
            ("protocol", "proto"),
            ("scope", "scope"),
            ("prefsrc", "src"),
        ] {
            match str_of(r, k) {
                // `ip route` leaves out the defaults too.
                Some(x) if !(k == "scope" && x == "global" || k == "protocol" && x == "boot") => {
                    t.push_str(&format!(" {label} {}", clean(x)))
                }
                _ => {}
            }
        }
        if table != "main" {
            t.push_str(&format!(" table {}", clean(table)));
        }
        // Main before the others, IPv4 before IPv6.
        let rank = u8::from(table != "main") * 2 + u8::from(dst.contains(':'));
        rows.push((rank, t));
    }
    rows.sort_by_key(|(rank, _)| *rank);
    let mut s = Section::default();
    for (_, t) in rows {
        s.push_bounded(t, MAX_ROWS);
    }
    s
}

/// `ip -j neigh show`: `10.0.0.2 dev eth0 lladdr 02:… REACHABLE`.
pub fn neigh(v: &Value) -> Section<String> {
    let mut s = Section::default();
    for n in array(Some(v)) {
        let Some(dst) = str_of(n, "dst") else {
            continue;
        };
        let mut t = format!(
            "{} dev {}",
            clean(dst),
            clean(str_of(n, "dev").unwrap_or("?"))
        );
        if let Some(ll) = str_of(n, "lladdr") {
            t.push_str(&format!(" lladdr {}", clean(ll)));
        }
        for st in array(n.get("state"))
            .iter()
            .filter_map(Value::as_str)
            .take(4)
        {
            t.push_str(&format!(" {}", clean(st)));
        }
        s.push_bounded(t, MAX_ROWS);
    }
    s
}

/// `bridge -j fdb show`: the entries a learner reads (learned MACs, VXLAN
/// remotes), not the multicast groups every device subscribes to.
pub fn fdb(v: &Value) -> Section<String> {
    let mut s = Section::default();
    for e in array(Some(v)) {
        let Some(mac) = str_of(e, "mac") else {
            continue;
        };
        let multicast =
            u8::from_str_radix(mac.get(..2).unwrap_or("00"), 16).is_ok_and(|b| b & 1 == 1);
        if multicast && e.get("dst").is_none() {
            continue;
        }
        let mut t = format!(
            "{} dev {}",
            clean(mac),
            clean(str_of(e, "ifname").unwrap_or("?"))
        );
        if let Some(vlan) = e.get("vlan").and_then(Value::as_u64) {
            t.push_str(&format!(" vlan {vlan}"));
        }
        for (k, label) in [("dst", "dst"), ("master", "master")] {
            if let Some(x) = str_of(e, k) {
                t.push_str(&format!(" {label} {}", clean(x)));
            }
        }
        if let Some(vni) = e.get("vni").and_then(Value::as_u64) {
            t.push_str(&format!(" vni {vni}"));
        }
        for f in array(e.get("flags"))
            .iter()
            .filter_map(Value::as_str)
            .take(4)
        {
            t.push_str(&format!(" {}", clean(f)));
        }
        if let Some(st) = str_of(e, "state").filter(|s| !s.is_empty()) {
            t.push_str(&format!(" {}", clean(st)));
        }
        s.push_bounded(t, MAX_ROWS);
    }
    s
}

/// The tables `iptables-nft` makes (family ip/ip6, these names).
const IPTABLES_TABLES: [&str; 5] = ["filter", "nat", "mangle", "raw", "security"];

/// `nft -j list ruleset`: every rule with its counter, and whether
/// `iptables` (the nft backend) made some of the tables.
pub fn nft(s: &str) -> (Section<RuleRow>, bool) {
    let mut out = Section::default();
    let Ok(v) = serde_json::from_str::<Value>(s) else {
        return (Section::unavailable("nft printed no JSON"), false);
    };
    let items = array(v.get("nftables"));
    let mut hooks: Vec<(String, String)> = Vec::new();
    let mut from_iptables = false;
    for it in items.iter().take(64 * MAX_ROWS) {
        if let Some(t) = it.get("table") {
            let fam = str_of(t, "family").unwrap_or("");
            let name = str_of(t, "name").unwrap_or("");
            if matches!(fam, "ip" | "ip6") && IPTABLES_TABLES.contains(&name) {
                from_iptables = true;
            }
        }
        if let Some(c) = it.get("chain") {
            if let Some(h) = str_of(c, "hook") {
                if hooks.len() < MAX_ROWS {
                    hooks.push((chain_name(c), clean(h)));
                }
            }
        }
        if let Some(r) = it.get("rule") {
            let chain = chain_name(r);
            let mut counter = None;
            let mut words = Vec::new();
            for e in array(r.get("expr")).iter().take(32) {
                if let Some(c) = e.get("counter") {
                    counter = Some((u64_of(c, &["packets"]), u64_of(c, &["bytes"])));
                    continue;
                }
                words.push(expr(e, 0));
            }
            if let Some(c) = str_of(r, "comment") {
                words.push(format!("comment \"{}\"", clean(c)));
            }
            let hook = hooks
                .iter()
                .find(|(c, _)| *c == chain)
                .map(|(_, h)| h.clone());
            let row = RuleRow {
                chain,
                hook,
                handle: u64_of(r, &["handle"]),
                text: clean(&words.join(" ")),
                counter,
            };
            out.push_bounded(row, MAX_ROWS);
        }
    }
    (out, from_iptables)
}

fn chain_name(v: &Value) -> String {
    let f = |k| clean(str_of(v, k).unwrap_or("?"));
    let name = if v.get("chain").is_some_and(Value::is_string) {
        f("chain")
    } else {
        f("name")
    };
    format!("{} {} {}", f("family"), f("table"), name)
}

/// One nftables JSON expression as nft writes it (close enough to read).
fn expr(v: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".into();
    }
    let d = depth + 1;
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => clean(s),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().take(16).map(|x| expr(x, d)).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Object(o) => {
            let Some((k, body)) = o.iter().next() else {
                return String::new();
            };
            let k = clean(k);
            match k.as_str() {
                "match" => {
                    let op = str_of(body, "op").unwrap_or("==");
                    let (l, r) = (
                        expr(body.get("left").unwrap_or(&Value::Null), d),
                        expr(body.get("right").unwrap_or(&Value::Null), d),
                    );
                    if op == "==" || op == "in" {
                        format!("{l} {r}")
                    } else {
                        format!("{l} {} {r}", clean(op))
                    }
                }
                "payload" => match (str_of(body, "protocol"), str_of(body, "field")) {
                    (Some(p), Some(f)) => format!("{} {}", clean(p), clean(f)),
                    _ => format!(
                        "@{},{},{}",
                        clean(str_of(body, "base").unwrap_or("?")),
                        u64_of(body, &["offset"]),
                        u64_of(body, &["len"])
                    ),
                },
                "meta" | "ct" | "rt" | "socket" | "fib" => {
                    format!("{k} {}", clean(str_of(body, "key").unwrap_or("?")))
                }
                "prefix" => format!(
                    "{}/{}",
                    expr(body.get("addr").unwrap_or(&Value::Null), d),
                    u64_of(body, &["len"])
                ),
                "range" => {
                    let a = array(Some(body));
                    let e = |i: usize| a.get(i).map_or(String::new(), |x| expr(x, d));
                    format!("{}-{}", e(0), e(1))
                }
                "set" => expr(body, d),
                "jump" | "goto" => format!("{k} {}", clean(str_of(body, "target").unwrap_or("?"))),
                "xt" => format!("xt {}", clean(str_of(body, "name").unwrap_or("?"))),
                "snat" | "dnat" => {
                    let mut t = format!(
                        "{k} to {}",
                        expr(body.get("addr").unwrap_or(&Value::Null), d)
                    );
                    if let Some(p) = body.get("port") {
                        t.push_str(&format!(":{}", expr(p, d)));
                    }
                    t
                }
                _ if body.is_null() => k,
                _ if body.is_object() => {
                    // Arguments of log, limit, reject, …: `key value` pairs.
                    let args: Vec<String> = body
                        .as_object()
                        .into_iter()
                        .flatten()
                        .take(6)
                        .map(|(a, x)| format!("{} {}", clean(a), expr(x, d)))
                        .collect();
                    format!("{k} {}", args.join(" "))
                }
                _ => format!("{k} {}", expr(body, d)),
            }
        }
    }
}

/// `iptables-save -c`: the rule lines (`[1:84] -A OUTPUT … -j ACCEPT`)
/// under their `*table` heads.
pub fn iptables_save(s: &str) -> Section<String> {
    let mut out = Section::default();
    for l in s.lines().take(16 * MAX_ROWS) {
        let l = l.trim();
        if l.starts_with('*') || l.starts_with('[') {
            out.push_bounded(clean(l), MAX_ROWS);
        }
    }
    out
}

/// `conntrack -L -o extended`: one entry a line, the first ones kept.
pub fn conntrack(s: &str) -> Section<String> {
    let mut out = Section::default();
    for l in s.lines().take(1 << 20) {
        let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
        if l.is_empty() {
            continue;
        }
        out.push_bounded(clean(&l), MAX_CONNTRACK);
    }
    out
}

/// The whole pane from what the tools printed (`Err` per tool: the why
/// that section shows, e.g. the package to install).
pub fn view(
    ip: Result<&str, &str>,
    fdb_out: Result<&str, &str>,
    nft_out: Result<&str, &str>,
    iptables: Option<Result<&str, &str>>,
    conntrack_out: Result<&str, &str>,
) -> NetView {
    let mut v = NetView::default();
    match ip {
        Ok(s) => {
            let parts = json_stream(s);
            let null = Value::Null;
            let part = |i: usize| parts.get(i).unwrap_or(&null);
            v.links = links(part(0));
            v.addrs = addrs(part(1));
            v.routes = routes(part(2));
            v.neigh = neigh(part(3));
        }
        Err(why) => {
            v.links = Section::unavailable(why);
            v.addrs = Section::unavailable(why);
            v.routes = Section::unavailable(why);
            v.neigh = Section::unavailable(why);
        }
    }
    v.fdb = match fdb_out {
        Ok(s) => fdb(&serde_json::from_str(s).unwrap_or(Value::Null)),
        Err(why) => Section::unavailable(why),
    };
    v.rules = match nft_out {
        Ok(s) => nft(s).0,
        Err(why) => Section::unavailable(why),
    };
    v.iptables = iptables.map(|r| match r {
        Ok(s) => iptables_save(s),
        Err(why) => Section::unavailable(why),
    });
    v.conntrack = match conntrack_out {
        Ok(s) => conntrack(s),
        Err(why) => Section::unavailable(why),
    };
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded in a throwaway netns (veth va/vb, bridge br0, vxlan vx0
    /// VNI 42, an nft table with counters, an iptables rule, two pings).
    const IP: &str = include_str!("../../../../tests/fixtures/net/ip-batch.json");
    const FDB: &str = include_str!("../../../../tests/fixtures/net/fdb.json");
    const NFT: &str = include_str!("../../../../tests/fixtures/net/nft.json");
    const IPT: &str = include_str!("../../../../tests/fixtures/net/iptables-save.txt");
    const CT: &str = include_str!("../../../../tests/fixtures/net/conntrack.txt");

    fn fixture_view() -> NetView {
        view(Ok(IP), Ok(FDB), Ok(NFT), Some(Ok(IPT)), Ok(CT))
    }

    #[test]
    fn links_show_kind_peer_master_and_vxlan() {
        let v = fixture_view();
        let names: Vec<&str> = v.links.rows.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["lo", "br0", "vb", "va", "vx0"]);
        let l = |n: &str| v.links.rows.iter().find(|l| l.name == n).unwrap();
        assert_eq!(l("br0").kind, "bridge");
        assert_eq!(l("vb").kind, "veth");
        assert_eq!(l("vb").peer.as_deref(), Some("va"));
        assert_eq!(l("va").master.as_deref(), Some("br0"));
        let vx = l("vx0");
        assert_eq!(vx.kind, "vxlan");
        assert_eq!(
            vx.vxlan.as_deref(),
            Some("vni 42 remote 10.9.9.2 dstport 4789")
        );
        assert_eq!(
            vx.peer.as_deref(),
            Some("va"),
            "the VXLAN's underlay device"
        );
        assert_eq!(vx.master.as_deref(), Some("br0"));
        assert_eq!(l("vb").state, "UP");
        assert_eq!(l("lo").mtu, 65536);
        assert!(
            l("lo").rx_packets > 0,
            "the ping to 127.0.0.1 went through lo"
        );
    }

    #[test]
    fn addresses_routes_and_neighbours_read_like_ip() {
        let v = fixture_view();
        assert!(
            v.addrs.rows.contains(&"10.9.9.1/24 dev vb".to_string()),
            "{:?}",
            v.addrs.rows
        );
        assert!(v
            .addrs
            .rows
            .contains(&"127.0.0.1/8 dev lo scope host".to_string()));
        let r = &v.routes.rows;
        assert!(
            r.contains(&"10.20.0.0/16 via 10.9.9.2 dev vb proto static".to_string()),
            "{r:?}"
        );
        assert!(
            r.contains(&"default via 10.9.8.254 dev br0 table 100".to_string()),
            "{r:?}"
        );
        assert!(r.iter().all(|x| !x.contains("table local")), "{r:?}");
        let main_last = r.iter().rposition(|x| !x.contains(" table ")).unwrap();
        let other_first = r.iter().position(|x| x.contains(" table ")).unwrap();
        assert!(main_last < other_first, "main first: {r:?}");
        assert!(
            v.neigh
                .rows
                .contains(&"10.9.8.7 dev br0 lladdr 02:00:00:00:00:07 PERMANENT".to_string()),
            "{:?}",
            v.neigh.rows
        );
    }

    #[test]
    fn fdb_keeps_learned_and_vxlan_entries_not_multicast_groups() {
        let v = fixture_view();
        let f = &v.fdb.rows;
        assert!(
            f.contains(&"00:00:00:00:00:00 dev vx0 dst 10.9.9.3 self permanent".to_string()),
            "{f:?}"
        );
        assert!(
            f.iter()
                .all(|e| !e.starts_with("33:33") && !e.starts_with("01:00:5e")),
            "{f:?}"
        );
        assert!(f.iter().any(|e| e.contains("dev va master br0")), "{f:?}");
    }

    #[test]
    fn nft_rules_have_text_counters_and_hooks_and_iptables_is_noticed() {
        let (rules, from_iptables) = nft(NFT);
        assert!(from_iptables, "iptables-nft made table ip filter");
        let r = &rules.rows;
        let echo = r
            .iter()
            .find(|x| x.text == "icmp type echo-request")
            .unwrap();
        assert_eq!(echo.chain, "inet t c");
        assert_eq!(echo.hook.as_deref(), Some("output"));
        assert_eq!(echo.counter, Some((2, 168)));
        let web = r.iter().find(|x| x.text.contains("drop")).unwrap();
        assert_eq!(
            web.text,
            "tcp dport { 80, 443 } ip daddr 10.0.0.0/8 drop comment \"no web\""
        );
        assert!(r.iter().any(|x| x.text.contains("ct state")), "{r:?}");
        assert!(r
            .iter()
            .any(|x| x.chain == "ip filter OUTPUT" && x.text.contains("xt comment")));
        let v = fixture_view();
        let ipt = v.iptables.unwrap().rows;
        assert!(ipt.contains(&"*filter".to_string()), "{ipt:?}");
        assert!(
            ipt.iter()
                .any(|l| l.starts_with('[')
                    && l.contains("] -A OUTPUT -p icmp -m comment --comment hi")),
            "{ipt:?}"
        );
    }

    #[test]
    fn conntrack_is_bounded_and_compacted() {
        let v = fixture_view();
        assert_eq!(v.conntrack.rows.len(), 13);
        assert!(v.conntrack.rows[3].starts_with("ipv4 2 icmp 1 28 src=127.0.0.1"));
        let many = "ipv4 2 tcp 6 1 src=1.2.3.4\n".repeat(1000);
        let c = conntrack(&many);
        assert_eq!((c.rows.len(), c.cut), (MAX_CONNTRACK, 1000 - MAX_CONNTRACK));
    }

    #[test]
    fn hostile_output_is_escaped_bounded_and_never_panics() {
        let evil = r#"[{"ifindex":1,"ifname":"e\u001b[2J\u009bx","operstate":"UP","mtu":-5,
            "linkinfo":{"info_kind":"vxlan","info_data":{"id":"nope","remote":7}},
            "stats64":{"rx":{"packets":"many"}}}]"#;
        let v = view(
            Ok(evil),
            Ok("not json"),
            Ok("{\"nftables\": 3}"),
            None,
            Ok(""),
        );
        let l = &v.links.rows[0];
        assert!(
            !l.name.contains('\u{1b}') && !l.name.contains('\u{9b}'),
            "{:?}",
            l.name
        );
        assert_eq!((l.mtu, l.rx_packets), (0, 0));
        assert_eq!(l.vxlan.as_deref(), Some("vni 0 dstport 0"));
        assert!(v.fdb.rows.is_empty() && v.rules.rows.is_empty());
        // Deep nesting in a rule: cut, not a stack overflow.
        let mut deep = String::from("\"x\"");
        for _ in 0..100 {
            deep = format!("[{deep}]");
        }
        let rule = format!(
            r#"{{"nftables":[{{"rule":{{"family":"ip","table":"t","chain":"c","handle":1,"expr":[{{"match":{{"left":{deep},"right":1}}}}]}}}}]}}"#
        );
        let (r, _) = nft(&rule);
        assert!(r.rows[0].text.contains('…'), "{:?}", r.rows[0].text);
        // A huge list is bounded.
        let big = format!(
            "[{}]",
            vec![r#"{"dst":"1.1.1.1","dev":"x"}"#; 5000].join(",")
        );
        let n = neigh(&serde_json::from_str(&big).unwrap());
        assert_eq!((n.rows.len(), n.cut), (MAX_ROWS, 5000 - MAX_ROWS));
        // A long string is cut.
        assert!(clean(&"a".repeat(10_000)).chars().count() <= MAX_STR + 1);
        // Garbage anywhere: sections stay empty, no panic.
        for junk in ["", "[", "]]]", "{\"a\":", "\u{0}", "[1,2,3]", "[[[]]]"] {
            let _ = view(Ok(junk), Ok(junk), Ok(junk), Some(Ok(junk)), Ok(junk));
        }
    }

    #[test]
    fn a_missing_tool_names_its_package_in_its_section() {
        let v = view(
            Ok("[] [] [] []"),
            Ok("[]"),
            Err("`nft` is not installed (apt install nftables)"),
            None,
            Ok(""),
        );
        assert_eq!(
            v.rules.why.as_deref(),
            Some("`nft` is not installed (apt install nftables)")
        );
        assert!(v.links.why.is_none());
    }
}
