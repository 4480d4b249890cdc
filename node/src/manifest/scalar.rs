//! Plain (unquoted) YAML scalars typed as Kubernetes' YAML reader
//! (go-yaml v2, YAML 1.1) types them: `yes`/`on` are booleans, `0644` is
//! octal, `8080` is a number, `1_000` is 1000.

/// What a plain scalar is.
pub enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str,
}

pub fn resolve_plain(text: &str) -> Plain {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Plain::Bool(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Plain::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | ".nan" | ".NaN" | ".NAN" => {
            return Plain::Float
        }
        _ => {}
    }
    if let Some(i) = parse_go_int(&text.replace('_', "")) {
        return Plain::Int(i);
    }
    let is_float = {
        let t = text.strip_prefix(['+', '-']).unwrap_or(text);
        let (mant, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let mant_ok = !mant.is_empty()
            && mant != "."
            && mant.chars().filter(|c| *c == '.').count() <= 1
            && mant.chars().all(|c| c.is_ascii_digit() || c == '.');
        let exp_ok = exp.is_none_or(|e| {
            let d = e.strip_prefix(['+', '-']).unwrap_or(e);
            !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
        });
        mant_ok && exp_ok
    };
    if is_float {
        Plain::Float
    } else {
        Plain::Str
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: decimal, `0x`, `0o`, `0b`, and a
/// leading `0` for octal.
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, t) = match s.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(d) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (2, d)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Option<i64> {
        match resolve_plain(s) {
            Plain::Int(n) => Some(n),
            _ => None,
        }
    }

    #[test]
    fn plain_scalars_as_go_yaml_v2() {
        assert_eq!(int("0644"), Some(420));
        assert_eq!(int("0o644"), Some(420));
        assert_eq!(int("0x1F"), Some(31));
        assert_eq!(int("0b101"), Some(5));
        assert_eq!(int("1_000"), Some(1000));
        assert_eq!(int("-12"), Some(-12));
        assert_eq!(int("0"), Some(0));
        assert_eq!(int("099"), None, "not octal: a float in go-yaml");
        assert!(matches!(resolve_plain("099"), Plain::Float));
        assert!(matches!(resolve_plain("1.5e3"), Plain::Float));
        assert!(matches!(resolve_plain(".inf"), Plain::Float));
        assert!(matches!(resolve_plain("on"), Plain::Bool(true)));
        assert!(matches!(resolve_plain("NO"), Plain::Bool(false)));
        assert!(matches!(resolve_plain("~"), Plain::Null));
        for s in [
            "web",
            "1.2.3",
            "500m",
            "128Mi",
            "e3",
            ".",
            "0x",
            "yes please",
        ] {
            assert!(matches!(resolve_plain(s), Plain::Str), "{s}");
        }
    }
}
