//! The `# title:` / `# hint:` header of a check script.

/// `# title:` and `# hint:` comment lines at the top of a check script.
/// Several `# hint:` lines make a multi-line hint.
pub fn check_comments(code: &str) -> (Option<String>, Option<String>) {
    let mut title = None;
    let mut hint: Option<String> = None;
    for (i, l) in code.lines().enumerate() {
        let l = l.trim();
        if i == 0 && l.starts_with("#!") {
            continue;
        }
        if l.is_empty() {
            continue;
        }
        let Some(c) = l.strip_prefix('#') else { break };
        let c = c.trim_start();
        if let Some(t) = c.strip_prefix("title:") {
            title = Some(t.trim().to_string());
        } else if let Some(h) = c.strip_prefix("hint:") {
            let h = h.trim();
            match &mut hint {
                Some(prev) => {
                    prev.push('\n');
                    prev.push_str(h);
                }
                None => hint = Some(h.to_string()),
            }
        }
    }
    (
        title.filter(|t| !t.is_empty()),
        hint.filter(|h| !h.is_empty()),
    )
}
