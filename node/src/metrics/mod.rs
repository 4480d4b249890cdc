//! Per-container metrics in the Prometheus text exposition format 0.0.4,
//! under cAdvisor's names, so that a real Prometheus (and the queries of a
//! lesson) see what they would see scraping a kubelet's `/metrics/cadvisor`.
//!
//! Where each metric comes from in cAdvisor (`lib/metrics/prometheus.go`):
//!
//! | metric | type | cAdvisor source |
//! | --- | --- | --- |
//! | `container_cpu_usage_seconds_total{cpu="total"}` | counter | `CpuUsageMetrics`, `Cpu.Usage.Total` (no per-CPU split, as the kubelet runs it) |
//! | `container_memory_rss` | gauge | `MemoryUsageMetrics`, `Memory.RSS` (`total_rss` v1, `anon` v2) |
//! | `container_memory_usage_bytes` | gauge | `Memory.Usage` (`memory.usage_in_bytes` v1, `memory.current` v2) |
//! | `container_memory_working_set_bytes` | gauge | `Memory.WorkingSet`: usage − inactive file, floored at 0 |
//! | `container_oom_events_total` | counter | `OOMMetrics`, `OOMEvents` (here: the cgroup's `oom_kill` count) |
//! | `container_processes` | gauge | `ProcessMetrics`, `Processes.ProcessCount` (`cgroup.procs`) |
//! | `container_threads` | gauge | `Processes.ThreadsCurrent` (`pids.current`) |
//! | `container_threads_max` | gauge | `Processes.ThreadsMax` (`pids.max`, 0 = unlimited) |
//! | `container_spec_memory_limit_bytes` | gauge | container spec, `specMemoryValue` (0 = unlimited) |
//! | `container_start_time_seconds` | gauge | container spec, start time |
//!
//! Labels are the kubelet's for cAdvisor metrics: `container`, `pod`,
//! `namespace` (from the Pod), `id` (the cgroup path), `name` (the runtime's
//! container name), `image`. As client_golang writes them: families sorted
//! by name, labels by name, values in Go's shortest `%g` form.

pub mod cgroup;

use std::fmt::Write as _;

pub use cgroup::{read_cgroup_v1, read_cgroup_v2, CgroupStats, CgroupV1Dirs};

/// `Content-Type` of the output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The labels of one container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerLabels {
    pub container: String,
    pub pod: String,
    pub namespace: String,
    /// The container's cgroup path, e.g. `/kubepods/besteffort/pod<uid>/<id>`.
    pub id: String,
    pub name: String,
    pub image: String,
}

/// One container's numbers at one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSample {
    pub labels: ContainerLabels,
    pub stats: CgroupStats,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    /// `cpu="total"` for the CPU counter.
    cpu_total: bool,
    value: fn(&ContainerSample) -> Option<f64>,
}

/// Sorted by name, as client_golang's registry gathers them.
const FAMILIES: &[Family] = &[
    Family {
        name: "container_cpu_usage_seconds_total",
        help: "Cumulative cpu time consumed in seconds.",
        kind: Kind::Counter,
        cpu_total: true,
        // cAdvisor writes no sample while the total is still 0.
        value: |s| {
            s.stats
                .cpu_usage_ns
                .filter(|&ns| ns > 0)
                .map(|ns| ns as f64 / 1e9)
        },
    },
    Family {
        name: "container_memory_rss",
        help: "Size of RSS in bytes.",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.memory_rss_bytes.map(|v| v as f64),
    },
    Family {
        name: "container_memory_usage_bytes",
        help:
            "Current memory usage in bytes, including all memory regardless of when it was accessed",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.memory_usage_bytes.map(|v| v as f64),
    },
    Family {
        name: "container_memory_working_set_bytes",
        help: "Current working set in bytes.",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.working_set_bytes().map(|v| v as f64),
    },
    Family {
        name: "container_oom_events_total",
        help: "Count of out of memory events observed for the container",
        kind: Kind::Counter,
        cpu_total: false,
        value: |s| s.stats.oom_kills.map(|v| v as f64),
    },
    Family {
        name: "container_processes",
        help: "Number of processes running inside the container.",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.processes.map(|v| v as f64),
    },
    Family {
        name: "container_spec_memory_limit_bytes",
        help: "Memory limit for the container.",
        kind: Kind::Gauge,
        cpu_total: false,
        // cAdvisor's specMemoryValue: anything above 2^62 is "no limit", 0.
        value: |s| {
            s.stats
                .memory_limit_bytes
                .map(|v| if v > 1 << 62 { 0.0 } else { v as f64 })
        },
    },
    Family {
        name: "container_start_time_seconds",
        help: "Start time of the container since unix epoch in seconds.",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.start_time_seconds,
    },
    Family {
        name: "container_threads",
        help: "Number of threads running inside the container",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.threads.map(|v| v as f64),
    },
    Family {
        name: "container_threads_max",
        help: "Maximum number of threads allowed inside the container, infinity if value is zero",
        kind: Kind::Gauge,
        cpu_total: false,
        value: |s| s.stats.threads_max.map(|v| v.unwrap_or(0) as f64),
    },
];

/// The exposition of `samples`; `timestamp_ms` (milliseconds since the
/// epoch) is appended to every sample when given, as cAdvisor does.
pub fn render(samples: &[ContainerSample], timestamp_ms: Option<i64>) -> String {
    let mut sorted: Vec<&ContainerSample> = samples.iter().collect();
    sorted.sort_by(|a, b| label_pairs(&a.labels, false).cmp(&label_pairs(&b.labels, false)));
    let mut out = String::new();
    for family in FAMILIES {
        let values: Vec<(&ContainerSample, f64)> = sorted
            .iter()
            .filter_map(|s| (family.value)(s).map(|v| (*s, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        for (sample, value) in values {
            out.push_str(family.name);
            out.push('{');
            let pairs = label_pairs(&sample.labels, family.cpu_total);
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
            }
            out.push_str("} ");
            out.push_str(&go_float(value));
            if let Some(ts) = timestamp_ms {
                let _ = write!(out, " {ts}");
            }
            out.push('\n');
        }
    }
    out
}

/// The labels sorted by name, as client_golang writes them.
fn label_pairs(l: &ContainerLabels, cpu_total: bool) -> Vec<(&'static str, &str)> {
    let mut pairs = vec![("container", l.container.as_str())];
    if cpu_total {
        pairs.push(("cpu", "total"));
    }
    pairs.extend([
        ("id", l.id.as_str()),
        ("image", l.image.as_str()),
        ("name", l.name.as_str()),
        ("namespace", l.namespace.as_str()),
        ("pod", l.pod.as_str()),
    ]);
    pairs
}

/// Label values escape `\`, `"` and newline (text format 0.0.4).
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escapes `\` and newline only.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which client_golang uses:
/// shortest digits, exponent form when the exponent is < -4 or >= 6
/// (`1.048576e+08`), and `NaN`, `+Inf`, `-Inf`.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        // client_golang writes any zero, -0 too, as "0".
        return "0".into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests;
