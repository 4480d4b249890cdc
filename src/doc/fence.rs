//! The info string of an opening code fence: ```` ```sh check id=ns on=host ````.
//!
//! Grammar: `LANG [KIND] [KEY=VALUE | KEY="quoted value"]...`, words separated
//! by whitespace. `LANG` may carry mdBook-style comma flags (`rust,ignore`),
//! which are ignored. Offsets in problems are in characters from the start of
//! the info string, for `file:line:col` messages.

/// The interactive block kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Check,
    Solution,
    Quiz,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Run, Kind::Check, Kind::Solution, Kind::Quiz];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Check => "check",
            Kind::Solution => "solution",
            Kind::Quiz => "quiz",
        }
    }

    fn from_word(w: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == w)
    }

    /// Attributes this kind accepts.
    pub fn attributes(self) -> &'static [&'static str] {
        match self {
            Kind::Run | Kind::Solution => &["sandbox", "node", "needs"],
            Kind::Check => &["id", "on", "sandbox", "node", "kind", "needs"],
            Kind::Quiz => &[],
        }
    }

    /// Fence languages this kind accepts (the first is the one to write).
    pub fn langs(self) -> &'static [&'static str] {
        match self {
            Kind::Run | Kind::Check | Kind::Solution => &["sh", "bash"],
            Kind::Quiz => &["toml"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub key: String,
    pub value: String,
    /// Character offset of the key in the info string.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoProblem {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FenceInfo {
    pub lang: String,
    pub kind: Option<Kind>,
    pub attrs: Vec<Attr>,
    /// Harmless oddities (reported by lint as warnings).
    pub warnings: Vec<InfoProblem>,
}

struct Token {
    text: String,
    /// Whether the token had a quoted part (so `=` inside it is literal).
    eq_at: Option<usize>,
    offset: usize,
}

fn tokenize(info: &str) -> Result<Vec<Token>, InfoProblem> {
    let chars: Vec<char> = info.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let offset = i;
        let mut text = String::new();
        let mut eq_at = None;
        while i < chars.len() && !chars[i].is_whitespace() {
            let c = chars[i];
            if c == '"' {
                let quote_at = i;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(InfoProblem {
                                offset: quote_at,
                                message: "unterminated quoted value: add the closing `\"`".into(),
                            })
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                            text.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&c) => {
                            text.push(c);
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if c == '=' && eq_at.is_none() {
                eq_at = Some(text.len());
            }
            text.push(c);
            i += 1;
        }
        out.push(Token {
            text,
            eq_at,
            offset,
        });
    }
    Ok(out)
}

/// `needs=limits`: the block only makes sense, or is only safe, inside the
/// sandbox's cgroup limits (a memory hog, a fork bomb, a check that reads
/// `pids.events`). Without limits the reader refuses to run it and shows
/// such a check as not available on this machine.
pub const NEEDS_LIMITS: &str = "limits";

/// Attributes of the interactive kinds: `key=` with one of these marks an
/// info string as kubelab's.
const MARKER_ATTRS: [&str; 5] = ["id", "on", "sandbox", "node", "needs"];

/// A misspelt kind (`runn`, `chek`, `soluton`): one edit away.
fn near_kind(word: &str) -> bool {
    Kind::ALL
        .iter()
        .any(|k| word != k.name() && edit_distance(word, k.name()) <= 1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether an info string is kubelab's business: a kind word (or a near
/// miss) or a kubelab attribute after the language. Anything else — titles
/// (```` ```mermaid "分层架构" ````), Hugo/Pandoc options
/// (```` ```go {linenos=true} ````) — belongs to other tools and is left alone.
fn looks_like_marker(info: &str) -> bool {
    info.split_whitespace().skip(1).any(|w| {
        let key = w.split('=').next().unwrap_or("");
        Kind::from_word(w).is_some()
            || near_kind(w)
            || (w.contains('=') && MARKER_ATTRS.contains(&key))
    })
}

/// Splits an info string into language, kind and attributes.
pub fn parse_info(info: &str) -> Result<FenceInfo, InfoProblem> {
    if !looks_like_marker(info) {
        let first = info.split_whitespace().next().unwrap_or("");
        let lang = if first.contains(['=', '"', '{']) {
            ""
        } else {
            first.split(',').next().unwrap_or("")
        };
        return Ok(FenceInfo {
            lang: lang.to_string(),
            ..FenceInfo::default()
        });
    }
    let mut tokens = tokenize(info)?.into_iter().peekable();
    let mut out = FenceInfo::default();
    if let Some(t) = tokens.peek() {
        if t.eq_at.is_none() {
            let t = tokens.next().expect("peeked");
            out.lang = t.text.split(',').next().unwrap_or("").to_string();
        }
    }
    for t in tokens {
        if let Some(eq) = t.eq_at {
            let (k, v) = t.text.split_at(eq);
            if k.is_empty() {
                return Err(InfoProblem {
                    offset: t.offset,
                    message: format!("`{}`: attribute without a name; write key=value", t.text),
                });
            }
            out.attrs.push(Attr {
                key: k.to_string(),
                value: v[1..].to_string(),
                offset: t.offset,
            });
            continue;
        }
        match (Kind::from_word(&t.text), out.kind) {
            (Some(k), None) if out.attrs.is_empty() => out.kind = Some(k),
            (Some(k), Some(prev)) => {
                return Err(InfoProblem {
                    offset: t.offset,
                    message: format!(
                        "a block has one kind, this one says both `{}` and `{}`",
                        prev.name(),
                        k.name()
                    ),
                })
            }
            (Some(k), None) => {
                return Err(InfoProblem {
                    offset: t.offset,
                    message: format!(
                        "write the kind `{}` right after the language, before attributes",
                        k.name()
                    ),
                })
            }
            (None, Some(k)) => {
                return Err(InfoProblem {
                    offset: t.offset,
                    message: format!(
                        "unknown word `{}` on a `{}` block; attributes are key=value ({})",
                        t.text,
                        k.name(),
                        known_attrs(k)
                    ),
                })
            }
            (None, None) if near_kind(&t.text) => out.warnings.push(InfoProblem {
                offset: t.offset,
                message: format!(
                    "unknown code block kind `{}` (shown as plain code); interactive kinds are run, check, solution, quiz",
                    t.text
                ),
            }),
            (None, None) => {}
        }
    }
    if out.kind.is_none() {
        if let Some(a) = out
            .attrs
            .iter()
            .find(|a| MARKER_ATTRS.contains(&a.key.as_str()))
        {
            out.warnings.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "attribute `{}` on a plain code block is ignored; did you mean e.g. ```sh check {}=...?",
                    a.key, a.key
                ),
            });
        }
    }
    Ok(out)
}

fn known_attrs(k: Kind) -> String {
    match k.attributes() {
        [] => format!("a {} block takes no attributes", k.name()),
        a => format!("known: {}", a.join(", ")),
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Validates an interactive block's language and attributes.
pub fn check_attrs(kind: Kind, lang: &str, attrs: &[Attr]) -> Result<(), Vec<InfoProblem>> {
    let mut errs = Vec::new();
    // ```toml check id=x kind=cluster```: a check that asks the cluster
    // (src/cluster/check.rs); its body is TOML, not a script.
    let cluster = kind == Kind::Check && attrs.iter().any(|a| a.key == "kind");
    if cluster {
        if lang != "toml" {
            errs.push(InfoProblem {
                offset: 0,
                message: format!(
                    "a cluster check must be written ```toml check id=NAME kind=cluster``` (got language `{lang}`)"
                ),
            });
        }
    } else if !kind.langs().contains(&lang) {
        errs.push(InfoProblem {
            offset: 0,
            message: format!(
                "a {} block must be written ```{} {}``` (got language `{}`)",
                kind.name(),
                kind.langs()[0],
                kind.name(),
                lang
            ),
        });
    }
    for (i, a) in attrs.iter().enumerate() {
        if !kind.attributes().contains(&a.key.as_str()) {
            let extra = if kind == Kind::Quiz && a.key == "id" {
                "; put `id = \"...\"` inside the quiz's TOML".to_string()
            } else {
                String::new()
            };
            errs.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "unknown attribute `{}` on a {} block ({}){extra}",
                    a.key,
                    kind.name(),
                    known_attrs(kind)
                ),
            });
            continue;
        }
        if attrs[..i].iter().any(|b| b.key == a.key) {
            errs.push(InfoProblem {
                offset: a.offset,
                message: format!("attribute `{}` given twice", a.key),
            });
        }
        match a.key.as_str() {
            "kind" if a.value != "cluster" => errs.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "kind={} is not a check kind; the only one is kind=cluster",
                    a.value
                ),
            }),
            "on" | "sandbox" | "node" if cluster => errs.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "`{}` has no meaning on a cluster check: it asks the lab's namespace",
                    a.key
                ),
            }),
            "needs" if cluster => errs.push(InfoProblem {
                offset: a.offset,
                message: "`needs` has no meaning on a cluster check: it runs no sandbox".into(),
            }),
            "needs" if a.value != NEEDS_LIMITS => errs.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "needs={} is not something a block can need; the only one is \
                     needs={NEEDS_LIMITS} (the sandbox's cgroup limits)",
                    a.value
                ),
            }),
            "on" if !matches!(a.value.as_str(), "host" | "sandbox") => errs.push(InfoProblem {
                offset: a.offset,
                message: format!("on={} is not a place; use on=host or on=sandbox", a.value),
            }),
            "node" if attrs.iter().any(|b| b.key == "sandbox") => errs.push(InfoProblem {
                offset: a.offset,
                message: "`node=` and `sandbox=` together: a world lesson's blocks name a node, \
                          other lessons' a sandbox"
                    .into(),
            }),
            "id" | "sandbox" | "node" if !valid_name(&a.value) => errs.push(InfoProblem {
                offset: a.offset,
                message: format!(
                    "{}=\"{}\": use letters, digits, `-`, `_` or `.`",
                    a.key, a.value
                ),
            }),
            _ => {}
        }
    }
    if kind == Kind::Check && !attrs.iter().any(|a| a.key == "id") {
        errs.push(InfoProblem {
            offset: 0,
            message: "a check needs an id so progress can remember it: ```sh check id=NAME```"
                .into(),
        });
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kind_and_attributes() {
        let f = parse_info(r#"sh check id=pid1 on=host sandbox="web 1""#).unwrap();
        assert_eq!(f.lang, "sh");
        assert_eq!(f.kind, Some(Kind::Check));
        let kv: Vec<_> = f
            .attrs
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str(), a.offset))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("id", "pid1", 9),
                ("on", "host", 17),
                ("sandbox", "web 1", 25)
            ]
        );
    }

    #[test]
    fn quoted_values_keep_escapes_and_equals() {
        let f = parse_info(r#"sh run sandbox="a\"b=c""#).unwrap();
        assert_eq!(f.attrs[0].value, "a\"b=c");
    }

    #[test]
    fn unterminated_quote_is_an_error_at_the_quote() {
        let e = parse_info(r#"sh run sandbox="web"#).unwrap_err();
        assert_eq!(e.offset, 15);
        assert!(e.message.contains("unterminated"));
    }

    #[test]
    fn plain_code_with_mdbook_flags() {
        let f = parse_info("rust,ignore").unwrap();
        assert_eq!((f.lang.as_str(), f.kind), ("rust", None));
        assert!(f.warnings.is_empty());
    }

    #[test]
    fn unknown_words_warn_on_plain_and_fail_on_interactive() {
        let f = parse_info("sh runn").unwrap();
        assert_eq!(f.kind, None);
        assert!(f.warnings[0].message.contains("runn"));
        assert!(parse_info("sh run now").is_err());
        assert!(parse_info("sh run check").is_err());
    }

    #[test]
    fn other_tools_info_strings_are_left_alone() {
        for info in [
            r#"mermaid "Kubernetes 分层架构""#,
            "go {linenos=true}",
            r#"go {linenos=table,hl_lines=[8,"15-17"]}"#,
            "yaml title=deployment.yaml",
            r#"text "unterminated"#,
            "python3 showLineNumbers",
            "{r}",
        ] {
            let f = parse_info(info).unwrap_or_else(|e| panic!("{info}: {e:?}"));
            assert_eq!(f.kind, None, "{info}");
            assert!(f.warnings.is_empty(), "{info}: {:?}", f.warnings);
        }
        assert_eq!(parse_info("go {linenos=true}").unwrap().lang, "go");
        assert_eq!(parse_info("{r}").unwrap().lang, "");
        // A kubelab attribute on a plain block is still pointed out.
        let f = parse_info("sh id=x").unwrap();
        assert!(f.warnings[0].message.contains("did you mean"), "{f:?}");
    }

    #[test]
    fn attribute_rules() {
        let f = parse_info("sh check id=a colour=red").unwrap();
        let e = check_attrs(Kind::Check, &f.lang, &f.attrs).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("unknown attribute `colour`"));
        assert_eq!(e[0].offset, 14);

        let f = parse_info("sh check").unwrap();
        let e = check_attrs(Kind::Check, &f.lang, &f.attrs).unwrap_err();
        assert!(e[0].message.contains("needs an id"));

        let f = parse_info("sh check id=x on=moon").unwrap();
        assert!(check_attrs(Kind::Check, &f.lang, &f.attrs).is_err());

        let f = parse_info("python run").unwrap();
        assert!(check_attrs(Kind::Run, &f.lang, &f.attrs).is_err());

        let f = parse_info("bash solution sandbox=web").unwrap();
        assert!(check_attrs(Kind::Solution, &f.lang, &f.attrs).is_ok());

        let f = parse_info("sh run id=a id=b").unwrap();
        assert!(check_attrs(Kind::Run, &f.lang, &f.attrs).is_err());
    }
}
