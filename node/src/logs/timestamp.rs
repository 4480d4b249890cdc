//! RFC 3339 timestamps for CRI log lines, without a time crate.
//!
//! Writing: UTC with Go's `time.RFC3339Nano` layout, which is what
//! containerd's CRI logger writes (trailing zeros of the fraction trimmed, no
//! fraction at all when it is zero). Reading back for `--timestamps`: the
//! kubelet's `RFC3339NanoFixed` (always 9 digits). Parsing accepts any
//! fraction length and a `Z` or `±hh:mm` offset, as the kubelet's lenient
//! parser does, since another runtime may have written the file.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: d.as_secs() as i64,
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                // Before 1970: borrow one second so nanos stays positive.
                let d: Duration = e.duration();
                let (mut secs, mut nanos) = (-(d.as_secs() as i64), d.subsec_nanos());
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp { secs, nanos }
            }
        }
    }

    /// Go's RFC3339Nano in UTC: `2026-12-06T15:38:50.1234Z`.
    pub fn rfc3339_nano(&self) -> String {
        let mut s = self.date_time();
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push('Z');
        s
    }

    /// The kubelet's RFC3339NanoFixed in UTC: always nine fraction digits.
    pub fn rfc3339_nano_fixed(&self) -> String {
        format!("{}.{:09}Z", self.date_time(), self.nanos)
    }

    /// `YYYYmmdd-HHMMSS`, the kubelet's suffix for a rotated log file.
    pub fn rotation_suffix(&self) -> String {
        let (y, mo, d) = civil_from_days(self.secs.div_euclid(86_400));
        let sod = self.secs.rem_euclid(86_400);
        format!(
            "{y:04}{mo:02}{d:02}-{:02}{:02}{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )
    }

    fn date_time(&self) -> String {
        let (y, mo, d) = civil_from_days(self.secs.div_euclid(86_400));
        let sod = self.secs.rem_euclid(86_400);
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. `None` for anything
    /// else (the caller treats the line as garbage).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| digits(s.get(r)?);
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
            return None;
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut rest = s.get(19..)?;
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            let padded = format!("{:0<9}", &frac[..digits]);
            nanos = padded.parse().ok()?;
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let ob = rest.as_bytes();
                if ob.len() != 6 || ob[3] != b':' || !matches!(ob[0], b'+' | b'-') {
                    return None;
                }
                let oh = digits(rest.get(1..3)?)?;
                let om = digits(rest.get(4..6)?)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if ob[0] == b'-' {
                    -o
                } else {
                    o
                }
            }
        };
        let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
        Some(Timestamp { secs, nanos })
    }
}

/// A run of ASCII digits as a number (`str::parse` alone would take `+1`).
fn digits(part: &str) -> Option<i64> {
    if !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (y, m, d).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The inverse: (y, m, d) → days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp { secs, nanos }
    }

    #[test]
    fn formats_known_instants_like_go() {
        assert_eq!(ts(0, 0).rfc3339_nano(), "1970-01-01T00:00:00Z");
        // 2016-10-06T00:17:09.669794202Z, the CRI docs' example line.
        assert_eq!(
            ts(1_475_713_029, 669_794_202).rfc3339_nano(),
            "2016-10-06T00:17:09.669794202Z"
        );
        // Go trims trailing zeros of the fraction.
        assert_eq!(
            ts(951_782_400, 500_000_000).rfc3339_nano(),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(
            ts(951_782_400, 500_000_000).rfc3339_nano_fixed(),
            "2000-02-29T00:00:00.500000000Z"
        );
        assert_eq!(ts(1_796_571_530, 0).rotation_suffix(), "20261206-153850");
        assert_eq!(ts(-1, 0).rfc3339_nano(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn civil_conversion_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn parse_inverts_format_and_accepts_offsets() {
        for t in [
            ts(0, 0),
            ts(1_475_713_029, 669_794_202),
            ts(4_102_444_799, 1),
        ] {
            assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339_nano()), Some(t));
            assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339_nano_fixed()), Some(t));
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2016-10-06T02:17:09.5+02:00"),
            Some(ts(1_475_713_029, 500_000_000))
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2016-10-05T19:17:09-05:00"),
            Some(ts(1_475_713_029, 0))
        );
    }

    #[test]
    fn parse_rejects_garbage_without_panicking() {
        for bad in [
            "",
            "hello",
            "2016-13-06T00:17:09Z",
            "2016-02-30T00:17:09Z",
            "2016-10-06T24:17:09Z",
            "2016-10-06T00:17:09",
            "2016-10-06T00:17:09.Z",
            "2016-10-06T00:17:09.1234567890Z",
            "2016-10-06T00:17:09+2:00",
            "2016-10-06T00:17:09++1:00",
            "2016-10-06T00:17:09Zjunk",
            "+016-10-06T00:17:09Z",
            "2016-10-06T00:17:09.\u{e9}Z",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad:?}");
        }
    }
}
