//! Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1G`, `1e3`), parsed
//! exactly: `k8s_openapi`'s `Quantity` is only the string, and the kubelet's
//! numbers (cpu.shares, CFS quota, memory.max, oom_score_adj) all start from
//! `Quantity.MilliValue()` / `Quantity.Value()`, which round *up*.
//!
//! Grammar (apimachinery `pkg/api/resource/quantity.go`):
//! `<signedNumber><suffix>`, suffix one of `Ki Mi Gi Ti Pi Ei` (binary),
//! `m "" k M G T P E` (decimal) or `e<int>` / `E<int>` (decimal exponent).
//! Values beyond 2^63-1 are capped at it, as Kubernetes caps them.

use std::fmt;

/// Longest quantity string accepted (Kubernetes has no limit; manifests are
/// hostile input and no real quantity comes close).
const MAX_LEN: usize = 64;
/// Significant digits kept exactly (after trailing zeros are folded into the
/// exponent); enough for any int64 and any sane fraction.
const MAX_DIGITS: usize = 18;

/// A parsed quantity: `±mantissa × 10^exp10 × 2^exp2`, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    mantissa: u64,
    exp10: i32,
    exp2: u32,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a Kubernetes quantity: {why} (examples: 100m, 0.5, 2, 128Mi, 1G, 1e3)")]
pub struct QuantityError {
    pub text: String,
    pub why: &'static str,
}

impl Quantity {
    /// Parses a quantity as `resource.ParseQuantity` does.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let err = |why| QuantityError {
            text: text.chars().take(MAX_LEN).collect(),
            why,
        };
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text.len() > MAX_LEN {
            return Err(err("it is too long"));
        }
        let (negative, rest) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => {
                if f.contains('.') {
                    return Err(err("it has two decimal points"));
                }
                (i, f)
            }
            None => (number, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("it has no digits before its suffix"));
        }
        let (exp10_suffix, exp2) = match suffix {
            "" => (0, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            s if s.starts_with(['e', 'E']) => (
                parse_exponent(&s[1..]).ok_or_else(|| err("its exponent is not an integer"))?,
                0,
            ),
            _ => {
                return Err(err(
                    "unknown suffix (use Ki Mi Gi Ti Pi Ei, m k M G T P E, or e<N>)",
                ))
            }
        };
        // Digits without the point; the point moves the exponent.
        let digits: String = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        let trailing_zeros = digits.len() - digits.trim_end_matches('0').len();
        let significant = &digits[..digits.len() - trailing_zeros];
        if significant.len() > MAX_DIGITS {
            return Err(err(
                "it has more significant digits than kubelab keeps (18)",
            ));
        }
        let mantissa: u64 = if significant.is_empty() {
            0
        } else {
            significant
                .parse()
                .map_err(|_| err("its digits do not parse"))?
        };
        let exp10 = exp10_suffix + trailing_zeros as i32 - frac_part.len() as i32;
        Ok(Quantity {
            negative: negative && mantissa != 0,
            mantissa,
            exp10,
            exp2,
        })
    }

    /// `Quantity.Value()`: the value rounded up to an integer (bytes for
    /// memory), capped at `i64::MAX`.
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }

    /// `Quantity.MilliValue()`: the value × 1000 rounded up (milli-CPU).
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// ceil(value × 10^scale), saturating at the int64 bounds.
    fn scaled(&self, scale: i32) -> i64 {
        if self.mantissa == 0 {
            return 0;
        }
        let exp = self.exp10.saturating_add(scale);
        // mantissa < 10^18 and 2^exp2 <= 2^60: the product fits in u128.
        let base = u128::from(self.mantissa) << self.exp2;
        let magnitude: u128 = if exp >= 0 {
            let mut v = base;
            for _ in 0..exp {
                v = match v.checked_mul(10) {
                    Some(v) if v <= i64::MAX as u128 => v,
                    _ => return self.cap(),
                };
            }
            v
        } else if exp < -38 {
            // Far below one unit: rounds up to 1 (down to 0 for negatives).
            if self.negative {
                return 0;
            }
            1
        } else {
            let den = 10u128.pow(exp.unsigned_abs());
            if self.negative {
                base / den // ceil of a negative number truncates toward 0
            } else {
                base.div_ceil(den)
            }
        };
        let capped = magnitude.min(i64::MAX as u128) as i64;
        if self.negative {
            -capped
        } else {
            capped
        }
    }

    fn cap(&self) -> i64 {
        if self.negative {
            i64::MIN
        } else {
            i64::MAX
        }
    }
}

fn parse_exponent(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Quantity {
    /// Exact decimal form (`mantissa e exp10 × 2^exp2`), for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(f, "{sign}{}", self.mantissa)?;
        if self.exp10 != 0 {
            write!(f, "e{}", self.exp10)?;
        }
        if self.exp2 != 0 {
            write!(f, "×2^{}", self.exp2)?;
        }
        Ok(())
    }
}

/// Parses a `k8s_openapi` quantity.
pub fn parse(
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
) -> Result<Quantity, QuantityError> {
    Quantity::parse(&q.0)
}
