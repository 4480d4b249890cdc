//! Which language to speak: `--lang` wins, else the POSIX locale variables
//! in their precedence order (`LC_ALL`, then `LC_MESSAGES`, then `LANG`).
//! A locale starting with `zh` (e.g. `zh_CN.UTF-8`) means Chinese; anything
//! else, including `C` and unset, means English.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Book languages. Chinese is the course's own language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    /// `zh`/`en`, also accepting locale-style `zh_CN`, `zh-TW`, `en_US`.
    fn from_str(s: &str) -> Result<Lang, String> {
        let l = s.trim().to_ascii_lowercase();
        if l == "zh" || l.starts_with("zh_") || l.starts_with("zh-") {
            Ok(Lang::Zh)
        } else if l == "en" || l.starts_with("en_") || l.starts_with("en-") {
            Ok(Lang::En)
        } else {
            Err(format!("unknown language `{s}`; use zh or en"))
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The language the environment asks for.
pub fn detect() -> Lang {
    detect_with(|k| std::env::var(k).ok())
}

/// [`detect`] with the environment supplied by `var` (for tests).
pub fn detect_with(var: impl Fn(&str) -> Option<String>) -> Lang {
    // POSIX: the first of these that is set and non-empty decides.
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .filter_map(&var)
        .find(|v| !v.is_empty());
    match locale {
        Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

/// `--lang` if given, else the environment's language.
pub fn resolve(flag: Option<Lang>) -> Lang {
    flag.unwrap_or_else(detect)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn precedence_and_values() {
        assert_eq!(detect_with(env(&[])), Lang::En);
        assert_eq!(detect_with(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(detect_with(env(&[("LANG", "zh_TW")])), Lang::Zh);
        assert_eq!(detect_with(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(detect_with(env(&[("LANG", "C")])), Lang::En);
        assert_eq!(
            detect_with(env(&[("LC_ALL", "en_GB.UTF-8"), ("LANG", "zh_CN.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            detect_with(env(&[("LC_MESSAGES", "zh_CN.UTF-8"), ("LANG", "en_US")])),
            Lang::Zh
        );
        // An empty LC_ALL does not count.
        assert_eq!(
            detect_with(env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")])),
            Lang::Zh
        );
    }

    #[test]
    fn flag_wins() {
        assert_eq!(resolve(Some(Lang::Zh)), Lang::Zh);
        assert_eq!(resolve(Some(Lang::En)), Lang::En);
    }
}
