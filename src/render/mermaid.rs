//! Mermaid flowcharts (`graph TD`, `flowchart LR`, ...) drawn as text for
//! the shapes that read well in a terminal: a chain of boxes joined by
//! arrows, or a tree (every node reached by at most one edge) drawn as an
//! indented outline. Anything else — subgraphs, cycles, merges, other
//! diagram types — returns `None` and the reader shows the source.

use crate::wrap;

/// Nodes beyond this are not drawn (the source is shown).
const MAX_NODES: usize = 60;

struct Graph {
    /// Node ids in order of first appearance, with their labels.
    nodes: Vec<(String, String)>,
    /// (from, to, label) as indices into `nodes`.
    edges: Vec<(usize, usize, Option<String>)>,
    horizontal: bool,
}

/// The diagram's lines for `width` columns, or `None` to show the source.
pub fn render(src: &str, width: usize) -> Option<Vec<String>> {
    let g = parse(src)?;
    let n = g.nodes.len();
    if n == 0 || n > MAX_NODES {
        return None;
    }
    let mut indegree = vec![0; n];
    let mut out: Vec<Vec<(usize, Option<String>)>> = vec![Vec::new(); n];
    for (a, b, l) in &g.edges {
        indegree[*b] += 1;
        out[*a].push((*b, l.clone()));
    }
    if indegree.iter().any(|&d| d > 1) {
        return None; // a merge: not a tree
    }
    let roots: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    if roots.is_empty() {
        return None; // a cycle
    }
    let label = |i: usize| g.nodes[i].1.clone();
    let chain = roots.len() == 1 && out.iter().all(|o| o.len() <= 1);
    let lines = if chain {
        let mut order = vec![(roots[0], None)];
        while let Some((next, l)) = out[order.last()?.0].first().cloned() {
            order.push((next, l));
        }
        if order.len() != n {
            return None;
        }
        chain_lines(&order, &label, g.horizontal, width)
    } else {
        let mut lines = Vec::new();
        for &r in &roots {
            lines.push(label(r));
            tree_lines(r, &out, &label, String::new(), &mut lines, 0)?;
        }
        lines
    };
    lines
        .iter()
        .all(|l| wrap::width(l) <= width)
        .then_some(lines)
}

fn boxed(text: &str) -> [String; 3] {
    let w = wrap::width(text);
    [
        format!("┌{}┐", "─".repeat(w + 2)),
        format!("│ {text} │"),
        format!("└{}┘", "─".repeat(w + 2)),
    ]
}

fn chain_lines(
    order: &[(usize, Option<String>)],
    label: &dyn Fn(usize) -> String,
    horizontal: bool,
    width: usize,
) -> Vec<String> {
    if horizontal {
        let mut rows = [String::new(), String::new(), String::new()];
        for (k, (node, edge)) in order.iter().enumerate() {
            if k > 0 {
                let arrow = match edge {
                    Some(l) => format!("─ {l} ─▶"),
                    None => "──▶".to_string(),
                };
                let aw = wrap::width(&arrow);
                rows[0].push_str(&" ".repeat(aw));
                rows[1].push_str(&arrow);
                rows[2].push_str(&" ".repeat(aw));
            }
            for (r, part) in rows.iter_mut().zip(boxed(&label(*node))) {
                r.push_str(&part);
            }
        }
        if rows.iter().all(|r| wrap::width(r) <= width) {
            return rows.to_vec();
        }
    }
    let widest = order
        .iter()
        .map(|(n, _)| wrap::width(&label(*n)) + 4)
        .max()
        .unwrap_or(4);
    let mid = widest / 2;
    let mut lines = Vec::new();
    for (k, (node, edge)) in order.iter().enumerate() {
        if k > 0 {
            lines.push(format!(
                "{}│{}",
                " ".repeat(mid),
                edge.as_ref().map(|l| format!(" {l}")).unwrap_or_default()
            ));
            lines.push(format!("{}▼", " ".repeat(mid)));
        }
        let text = label(*node);
        let pad = (widest - (wrap::width(&text) + 4)) / 2;
        for part in boxed(&text) {
            lines.push(format!("{}{part}", " ".repeat(pad)));
        }
    }
    lines
}

fn tree_lines(
    node: usize,
    out: &[Vec<(usize, Option<String>)>],
    label: &dyn Fn(usize) -> String,
    prefix: String,
    lines: &mut Vec<String>,
    depth: usize,
) -> Option<()> {
    if depth > MAX_NODES {
        return None;
    }
    let kids = &out[node];
    for (k, (child, edge)) in kids.iter().enumerate() {
        let last = k + 1 == kids.len();
        let arrow = match edge {
            Some(l) => format!("─ {l} ─▶ "),
            None => "─▶ ".to_string(),
        };
        lines.push(format!(
            "{prefix}{}{arrow}{}",
            if last { "└" } else { "├" },
            label(*child)
        ));
        let next = format!("{prefix}{}", if last { "    " } else { "│   " });
        tree_lines(*child, out, label, next, lines, depth + 1)?;
    }
    Some(())
}

fn parse(src: &str) -> Option<Graph> {
    let mut lines = src
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("%%"));
    let header = lines.next()?;
    let mut words = header.split_whitespace();
    if !matches!(words.next()?, "graph" | "flowchart") {
        return None;
    }
    let horizontal = matches!(words.next().unwrap_or("TD"), "LR" | "RL");
    let mut g = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
        horizontal,
    };
    for stmt in lines
        .flat_map(|l| l.split(';'))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let first = stmt.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "classDef" | "class" | "style" | "linkStyle" | "click"
        ) {
            continue; // looks only
        }
        if matches!(first, "subgraph" | "end" | "direction") {
            return None;
        }
        statement(stmt, &mut g)?;
    }
    Some(g)
}

/// `A[label] -->|x| B(label) --> C`: nodes joined by edges.
fn statement(stmt: &str, g: &mut Graph) -> Option<()> {
    let mut rest = stmt;
    let mut prev: Option<usize> = None;
    let mut pending: Option<Option<String>> = None;
    loop {
        let (node, after) = node(rest.trim_start(), g)?;
        if let (Some(p), Some(label)) = (prev, pending.take()) {
            g.edges.push((p, node, label));
        }
        prev = Some(node);
        rest = after.trim_start();
        if rest.is_empty() {
            return Some(());
        }
        let (label, after) = edge(rest)?;
        pending = Some(label);
        rest = after;
    }
}

/// An edge operator with an optional label; the text after it.
fn edge(s: &str) -> Option<(Option<String>, &str)> {
    let ops = ["-.->", "==>", "-->", "---", "-.-", "===", "--o", "--x"];
    for op in ops {
        if let Some(after) = s.strip_prefix(op) {
            if let Some(l) = after.strip_prefix('|') {
                let end = l.find('|')?;
                return Some((Some(l[..end].trim().to_string()), &l[end + 1..]));
            }
            return Some((None, after));
        }
    }
    // `-- text -->`
    let after = s.strip_prefix("-- ")?;
    let end = after.find("-->")?;
    Some((Some(after[..end].trim().to_string()), &after[end + 3..]))
}

/// A node reference (`id`, `id[label]`, `id(label)`, `id{label}`, ...):
/// its index and the text after it.
fn node<'a>(s: &'a str, g: &mut Graph) -> Option<(usize, &'a str)> {
    // An id is letters, digits, `_` and `-` — but not the `-` of an arrow.
    let bytes = s.as_bytes();
    let mut id_end = 0;
    for (i, c) in s.char_indices() {
        let arrow = c == '-' && matches!(bytes.get(i + 1), Some(b'-' | b'.' | b'>'));
        if !(c.is_alphanumeric() || c == '_' || c == '-') || arrow {
            break;
        }
        id_end = i + c.len_utf8();
    }
    let id = &s[..id_end];
    if id.is_empty() {
        return None;
    }
    let rest = &s[id_end..];
    let (label, rest) = match rest.chars().next() {
        Some(open @ ('[' | '(' | '{' | '>')) => {
            let close = match open {
                '[' | '>' => ']',
                '(' => ')',
                _ => '}',
            };
            let body = &rest[1..];
            // The first closer after which only the shape's other closers
            // and an edge (or nothing) follow (`((x))`, `([x])`, `[a[b]]`).
            let end = body
                .char_indices()
                .filter(|(_, c)| *c == close)
                .map(|(i, _)| i)
                .find(|&i| {
                    let tail = body[i..].trim_start_matches([']', ')', '}']);
                    tail.trim_start().is_empty() || edge(tail.trim_start()).is_some()
                })?;
            let raw = body[..end].trim_matches(['(', '[', '{', ')', ']', '}', '"', ' ']);
            let after = body[end..].trim_start_matches([']', ')', '}']);
            (Some(clean(raw)), after)
        }
        _ => (None, rest),
    };
    let idx = match g.nodes.iter().position(|(n, _)| n == id) {
        Some(i) => {
            if let Some(l) = label {
                g.nodes[i].1 = l;
            }
            i
        }
        None => {
            g.nodes
                .push((id.to_string(), label.unwrap_or_else(|| id.to_string())));
            g.nodes.len() - 1
        }
    };
    Some((idx, rest))
}

/// A label as text: `<br>` becomes a space, quotes and control characters go.
fn clean(label: &str) -> String {
    label
        .replace("<br>", " ")
        .replace("<br/>", " ")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_is_boxes_and_arrows() {
        let src = "graph TD\n  A[kubectl] --> B[kube-apiserver]\n  B -->|写入| C[(etcd)]\n";
        let l = render(src, 40).unwrap();
        assert_eq!(l[0].trim(), "┌─────────┐");
        assert_eq!(l[1].trim(), "│ kubectl │");
        assert!(l.iter().any(|x| x.trim() == "│ 写入"), "{l:#?}");
        assert!(l.iter().any(|x| x.trim() == "│ etcd │"), "{l:#?}");
        assert_eq!(l.iter().filter(|x| x.trim() == "▼").count(), 2);
        let l = render("flowchart LR\n  a[Pod] --> b[Service] --> c[Ingress]", 80).unwrap();
        assert_eq!(l[1], "│ Pod │──▶│ Service │──▶│ Ingress │");
        // Too wide side by side: stacked instead.
        let l = render("flowchart LR\n  a[Pod] --> b[Service] --> c[Ingress]", 20).unwrap();
        assert!(
            l.len() > 3 && l.iter().all(|x| wrap::width(x) <= 20),
            "{l:#?}"
        );
    }

    #[test]
    fn a_tree_is_an_outline() {
        let src = "graph TD\n  api[apiserver] --> etcd\n  api --> sched[scheduler]\n  api --> cm[controller-manager]\n  cm --> rs[ReplicaSet 控制器]";
        let l = render(src, 60).unwrap();
        assert_eq!(
            l,
            vec![
                "apiserver",
                "├─▶ etcd",
                "├─▶ scheduler",
                "└─▶ controller-manager",
                "    └─▶ ReplicaSet 控制器",
            ]
        );
    }

    #[test]
    fn other_shapes_show_the_source() {
        assert!(render("sequenceDiagram\n  A->>B: hi", 80).is_none());
        assert!(
            render("graph TD\n  A --> B\n  B --> A", 80).is_none(),
            "cycle"
        );
        assert!(
            render("graph TD\n  A --> C\n  B --> C", 80).is_none(),
            "merge"
        );
        assert!(render("graph TD\n subgraph x\n A --> B\n end", 80).is_none());
        assert!(
            render("graph TD\n  A[x] --> B[y]", 3).is_none(),
            "too narrow"
        );
        assert_eq!(
            render("graph LR\n  a-->b-->c", 80).unwrap()[1],
            "│ a │──▶│ b │──▶│ c │"
        );
    }
}
