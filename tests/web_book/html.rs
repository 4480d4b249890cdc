//! Small readers of the built HTML, enough for the web book's checks.

/// `html` without its `<details>` elements (nested ones included): what a
/// reader sees before opening anything.
pub fn without_details(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut depth = 0usize;
    let mut rest = html;
    loop {
        let open = rest.find("<details");
        let close = rest.find("</details>");
        match (open, close) {
            (Some(o), c) if c.is_none_or(|c| o < c) => {
                if depth == 0 {
                    out.push_str(&rest[..o]);
                }
                depth += 1;
                rest = &rest[o + "<details".len()..];
            }
            (_, Some(c)) => {
                if depth == 0 {
                    out.push_str(&rest[..c]);
                }
                depth = depth.saturating_sub(1);
                rest = &rest[c + "</details>".len()..];
            }
            _ => {
                if depth == 0 {
                    out.push_str(rest);
                }
                return out;
            }
        }
    }
}

/// The sidebar's chapter links with mdBook's numbers: (`05-process.html`,
/// "5"), from toc.html.
pub fn toc_numbers(toc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = toc;
    while let Some(i) = rest.find("<a href=\"") {
        rest = &rest[i + "<a href=\"".len()..];
        let Some(end) = rest.find('"') else { break };
        let href = rest[..end].to_owned();
        let tag = "<strong aria-hidden=\"true\">";
        let Some(a_end) = rest.find("</a>") else {
            break;
        };
        if let Some(s) = rest[..a_end].find(tag) {
            let num = &rest[s + tag.len()..a_end];
            let num = num[..num.find("</strong>").unwrap_or(0)].trim_end_matches('.');
            out.push((href, num.to_owned()));
        }
    }
    out
}

/// The leading digits of a lesson id, as a number (`05-process` → "5").
pub fn lesson_number(id: &str) -> Option<String> {
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<u64>().ok().map(|n| n.to_string())
}

#[test]
fn details_are_removed_with_their_content() {
    let html = "a<details class=\"x\"><summary>s</summary>hidden<details>in</details>more</details>b<details>c</details>d";
    assert_eq!(without_details(html), "abd");
    assert_eq!(without_details("no details"), "no details");
}

#[test]
fn toc_numbers_are_read() {
    let toc = r#"<li><a href="00-opening.html"><strong aria-hidden="true">0.</strong> Opening</a></li><li><a href="x.html">No number</a></li><li><a href="05-process.html" target="_parent"><strong aria-hidden="true">5.</strong> P</a>"#;
    assert_eq!(
        toc_numbers(toc),
        vec![
            ("00-opening.html".to_owned(), "0".to_owned()),
            ("05-process.html".to_owned(), "5".to_owned())
        ]
    );
    assert_eq!(lesson_number("05-process").as_deref(), Some("5"));
    assert_eq!(lesson_number("intro"), None);
}
