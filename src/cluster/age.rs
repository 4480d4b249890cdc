//! AGE as kubectl prints it (apimachinery's `duration.HumanDuration`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::chrono::{DateTime, Utc};

/// `now - then` in kubectl's words; `<unknown>` without a timestamp.
pub fn age(then: Option<&Time>, now: DateTime<Utc>) -> String {
    match then {
        Some(t) => human((now - t.0).num_seconds()),
        None => "<unknown>".into(),
    }
}

/// kubectl's HumanDuration: `45s`, `3m20s`, `15m`, `5h10m`, `20h`, `3d4h`,
/// `40d`, `2y10d`, `9y`.
pub fn human(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    if s < 120 {
        return format!("{s}s");
    }
    let m = s / 60;
    if m < 10 {
        return match s % 60 {
            0 => format!("{m}m"),
            r => format!("{m}m{r}s"),
        };
    }
    if m < 180 {
        return format!("{m}m");
    }
    let h = s / 3600;
    if h < 8 {
        return match m % 60 {
            0 => format!("{h}h"),
            r => format!("{h}h{r}m"),
        };
    }
    if h < 48 {
        return format!("{h}h");
    }
    let d = h / 24;
    if h < 24 * 8 {
        return match h % 24 {
            0 => format!("{d}d"),
            r => format!("{d}d{r}h"),
        };
    }
    if h < 24 * 365 * 2 {
        return format!("{d}d");
    }
    let y = d / 365;
    if h < 24 * 365 * 8 {
        return match d % 365 {
            0 => format!("{y}y"),
            r => format!("{y}y{r}d"),
        };
    }
    format!("{y}y")
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn kubectl_human_durations() {
        let cases = [
            (-5, "<invalid>"),
            (0, "0s"),
            (119, "119s"),
            (200, "3m20s"),
            (240, "4m"),
            (900, "15m"),
            (5 * 3600 + 600, "5h10m"),
            (20 * 3600, "20h"),
            (76 * 3600, "3d4h"),
            (40 * 86400, "40d"),
            (740 * 86400, "2y10d"),
            (9 * 366 * 86400, "9y"),
        ];
        for (s, want) in cases {
            assert_eq!(human(s), want, "{s}s");
        }
    }
}
