//! "did you mean `05-process`?" for a lesson id that is not in the course:
//! one rule for `open`, `progress reset` and `--lock`.

/// Up to this many suggestions.
const MAX: usize = 5;

/// The ids of `ids` close to `wanted`, closest first: one contains the
/// other, or they are a few edits apart (optimal string alignment distance,
/// so a transposition like `05-procses` is one edit), or they share the
/// number prefix (`05-proc` → `05-process`).
pub fn near<'a>(ids: &'a [String], wanted: &str) -> Vec<&'a str> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return Vec::new();
    }
    // A third of the length, at least 1 and at most 3 edits.
    let budget = (wanted.chars().count() / 3).clamp(1, 3);
    let prefix = |s: &str| s.split('-').next().map(str::to_owned);
    let mut scored: Vec<(usize, &str)> = ids
        .iter()
        .filter_map(|id| {
            let d = strsim::osa_distance(id, wanted);
            let close = d <= budget
                || id.contains(wanted)
                || wanted.contains(id.as_str())
                || (prefix(id) == prefix(wanted) && wanted.contains('-'));
            close.then_some((d, id.as_str()))
        })
        .collect();
    scored.sort_by_key(|(d, _)| *d);
    scored.into_iter().take(MAX).map(|(_, id)| id).collect()
}

/// "did you mean `a`, `b`?" or, with nothing close, a pointer to
/// `kubelab list`. Ids are quoted through [`crate::sanitize::line`]: they
/// come from the course.
pub fn hint(ids: &[String], wanted: &str) -> String {
    let near = near(ids, wanted);
    if near.is_empty() {
        "run `kubelab list` to see the lesson ids".into()
    } else {
        let quoted: Vec<String> = near
            .iter()
            .map(|i| format!("`{}`", crate::sanitize::line(i)))
            .collect();
        format!("did you mean {}?", quoted.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        [
            "00-opening",
            "05-process",
            "06-isolation-limits",
            "07-images",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn typos_transpositions_and_fragments_are_suggested() {
        let ids = ids();
        assert_eq!(near(&ids, "05-procses"), vec!["05-process"]);
        assert_eq!(near(&ids, "05-proces"), vec!["05-process"]);
        assert_eq!(near(&ids, "5-process"), vec!["05-process"]);
        assert_eq!(near(&ids, "isolation"), vec!["06-isolation-limits"]);
        assert_eq!(near(&ids, "07-imagse"), vec!["07-images"]);
        assert_eq!(near(&ids, "05-x"), vec!["05-process"]);
        assert!(near(&ids, "zzz").is_empty());
        assert!(near(&ids, "").is_empty());
        assert_eq!(hint(&ids, "05-procses"), "did you mean `05-process`?");
        assert_eq!(
            hint(&ids, "qqqq"),
            "run `kubelab list` to see the lesson ids"
        );
    }
}
