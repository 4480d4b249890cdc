//! Raw HTML in lessons, read as data and never interpreted beyond a few
//! shapes a terminal can show: `<br>` breaks a line, `<summary>` of a
//! `<details>` becomes a heading-like line, a simple `<table>` a table,
//! `<img>` its alt text; every other tag is dropped with its text kept,
//! and `<script>`/`<style>` are dropped with their content.

/// What a block of raw HTML shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtmlItem {
    /// A line of text (whitespace collapsed).
    Line(String),
    /// The summary line of a `<details>` block.
    Summary(String),
    /// A `<table>`: the first row is the header.
    Table(Vec<Vec<String>>),
}

/// One tag: lowercase name, whether it closes, and its raw attribute text.
struct Tag<'a> {
    name: String,
    closing: bool,
    attrs: &'a str,
}

fn parse_tag(inner: &str) -> Option<Tag<'_>> {
    let (closing, rest) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(rest.len());
    let name = rest[..end].to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(Tag {
        name,
        closing,
        attrs: &rest[end..],
    })
}

/// The value of attribute `key` (quoted or bare).
pub fn attr(attrs: &str, key: &str) -> Option<String> {
    let lower = attrs.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(key) {
        let at = from + i;
        from = at + key.len();
        let before_ok = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
        let rest = attrs[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let v = rest[1..].trim_start();
        let value = match v.chars().next() {
            Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or(""),
            _ => v
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(value));
    }
    None
}

/// Decodes the common character references; a reference to a control
/// character decodes to nothing.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // A reference is short; look for its `;` in the next 12 bytes, cut
        // at a character boundary (the text after `&` is any UTF-8).
        let mut end = rest.len().min(12);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let Some(semi) = rest[..end].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) if !c.is_control() => out.push(c),
            Some(_) => {}
            None => {
                out.push('&');
                rest = &rest[1..];
                continue;
            }
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// Tags after which text starts on a new line.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "details",
    "section",
    "article",
    "center",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "header",
    "footer",
    "nav",
    "main",
    "aside",
];

/// Reads a block of raw HTML into what the reader shows.
pub fn items(html: &str) -> Vec<HtmlItem> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut summary: Option<String> = None;
    // Open table: rows of cells; `in_cell` while inside <td>/<th>.
    let mut table: Option<Vec<Vec<String>>> = None;
    let mut skip_until: Option<String> = None;
    let mut rest = html;
    let text = |s: &str,
                line: &mut String,
                summary: &mut Option<String>,
                table: &mut Option<Vec<Vec<String>>>| {
        let target = if let Some(t) = table.as_mut() {
            match t.last_mut().and_then(|r| r.last_mut()) {
                Some(cell) => cell,
                None => return,
            }
        } else if let Some(s) = summary.as_mut() {
            s
        } else {
            line
        };
        for c in decode_entities(s).chars() {
            let c = if c.is_whitespace() { ' ' } else { c };
            if c.is_control() || (c == ' ' && (target.is_empty() || target.ends_with(' '))) {
                continue;
            }
            target.push(c);
        }
    };
    let flush = |line: &mut String, out: &mut Vec<HtmlItem>| {
        let t = line.trim();
        if !t.is_empty() {
            out.push(HtmlItem::Line(t.to_string()));
        }
        line.clear();
    };
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skip_until.is_none() {
                text(rest, &mut line, &mut summary, &mut table);
            }
            break;
        };
        if skip_until.is_none() {
            text(&rest[..lt], &mut line, &mut summary, &mut table);
        }
        rest = &rest[lt..];
        if let Some(body) = rest.strip_prefix("<!--") {
            rest = body.find("-->").map_or("", |e| &body[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A lone "<": text.
            if skip_until.is_none() {
                text(rest, &mut line, &mut summary, &mut table);
            }
            break;
        };
        let inner = &rest[1..gt];
        rest = &rest[gt + 1..];
        let Some(tag) = parse_tag(inner) else {
            if skip_until.is_none() {
                text(&format!("<{inner}>"), &mut line, &mut summary, &mut table);
            }
            continue;
        };
        if let Some(until) = &skip_until {
            if tag.closing && &tag.name == until {
                skip_until = None;
            }
            continue;
        }
        match (tag.name.as_str(), tag.closing) {
            ("script" | "style" | "template" | "iframe" | "object", false) => {
                skip_until = Some(tag.name.clone())
            }
            ("table", false) => {
                flush(&mut line, &mut out);
                table = Some(Vec::new());
            }
            ("table", true) => {
                if let Some(t) = table.take() {
                    let rows: Vec<Vec<String>> = t
                        .into_iter()
                        .map(|r| r.into_iter().map(|c| c.trim().to_string()).collect())
                        .filter(|r: &Vec<String>| !r.is_empty())
                        .collect();
                    if !rows.is_empty() {
                        out.push(HtmlItem::Table(rows));
                    }
                }
            }
            ("tr", false) => {
                if let Some(t) = table.as_mut() {
                    t.push(Vec::new());
                }
            }
            ("td" | "th", false) => {
                if let Some(t) = table.as_mut() {
                    if t.is_empty() {
                        t.push(Vec::new());
                    }
                    if let Some(r) = t.last_mut() {
                        r.push(String::new());
                    }
                }
            }
            ("summary", false) if table.is_none() => {
                flush(&mut line, &mut out);
                summary = Some(String::new());
            }
            ("summary", true) => {
                if let Some(s) = summary.take() {
                    out.push(HtmlItem::Summary(s.trim().to_string()));
                }
            }
            ("br", _) if table.is_none() && summary.is_none() => flush(&mut line, &mut out),
            ("br", _) => text(" ", &mut line, &mut summary, &mut table),
            ("img", false) => {
                let alt = attr(tag.attrs, "alt").unwrap_or_default();
                let shown = if alt.trim().is_empty() {
                    attr(tag.attrs, "src").unwrap_or_default()
                } else {
                    alt
                };
                text(
                    &format!(" [▣ {shown}] "),
                    &mut line,
                    &mut summary,
                    &mut table,
                );
            }
            (name, _) if table.is_none() && summary.is_none() && BLOCK_TAGS.contains(&name) => {
                flush(&mut line, &mut out)
            }
            _ => {}
        }
    }
    if let Some(s) = summary.take() {
        out.push(HtmlItem::Summary(s.trim().to_string()));
    }
    flush(&mut line, &mut out);
    out
}

#[cfg(test)]
mod tests {

    /// Found by the course fuzzer: `&` followed by multi-byte text within
    /// the 12 bytes a reference may take.
    #[test]
    fn a_reference_cut_inside_a_multibyte_char_does_not_panic() {
        assert_eq!(decode_entities("&#0;``[^1]\u{200b}x"), "``[^1]\u{200b}x");
        assert_eq!(decode_entities("&容器容器容器;"), "&容器容器容器;");
        assert_eq!(decode_entities("a&amp;b"), "a&b");
    }

    use super::*;

    #[test]
    fn simple_table_details_and_breaks() {
        let h = "<table>\n  <tr><th>组件</th><th>作用</th></tr>\n  <tr><td>kubelet</td><td>管理 <b>Pod</b></td></tr>\n</table>\n";
        assert_eq!(
            items(h),
            vec![HtmlItem::Table(vec![
                vec!["组件".into(), "作用".into()],
                vec!["kubelet".into(), "管理 Pod".into()],
            ])]
        );
        let h = "<details>\n<summary>展开 &amp; 查看</summary>\n";
        assert_eq!(items(h), vec![HtmlItem::Summary("展开 & 查看".into())]);
        assert_eq!(items("</details>\n"), vec![]);
        assert_eq!(
            items("a<br>b<br/>c"),
            vec![
                HtmlItem::Line("a".into()),
                HtmlItem::Line("b".into()),
                HtmlItem::Line("c".into())
            ]
        );
    }

    #[test]
    fn other_tags_are_stripped_and_scripts_dropped() {
        let h = "<div align=\"center\"><img src=\"arch.png\" alt=\"架构图\"><span style='x'>说明</span></div><script>alert(1)</script><style>p{}</style>尾";
        assert_eq!(
            items(h),
            vec![
                HtmlItem::Line("[▣ 架构图] 说明".into()),
                HtmlItem::Line("尾".into())
            ]
        );
        // Character references to control characters decode to nothing.
        assert_eq!(
            items("x&#27;[2Jy&#x9b;z &lt;b&gt;"),
            vec![HtmlItem::Line("x[2Jyz <b>".into())]
        );
        assert_eq!(items("<!-- note -->"), vec![]);
        assert_eq!(items("a < b"), vec![HtmlItem::Line("a < b".into())]);
    }
}
