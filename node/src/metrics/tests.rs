use super::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn sample(container: &str, pod: &str) -> ContainerSample {
    ContainerSample {
        labels: ContainerLabels {
            container: container.into(),
            pod: pod.into(),
            namespace: "default".into(),
            id: format!("/kubepods/besteffort/pod1/{container}"),
            name: format!("k8s_{container}_{pod}"),
            image: "busybox".into(),
        },
        stats: CgroupStats {
            cpu_usage_ns: Some(1_500_000_000),
            memory_usage_bytes: Some(104_857_600),
            memory_inactive_file_bytes: Some(4_857_600),
            memory_rss_bytes: Some(123_456),
            memory_limit_bytes: Some(u64::MAX),
            processes: Some(2),
            threads: Some(3),
            threads_max: Some(None),
            oom_kills: Some(0),
        },
        start_time_seconds: Some(1_796_571_530.0),
    }
}

#[test]
fn floats_are_written_as_go_writes_them() {
    let cases = [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (123_456.0, "123456"),
        (1e6, "1e+06"),
        (104_857_600.0, "1.048576e+08"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1_796_571_530.0, "1.79657153e+09"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (-2.5, "-2.5"),
    ];
    for (v, want) in cases {
        assert_eq!(go_float(v), want, "{v}");
    }
}

#[test]
fn renders_cadvisor_families_for_one_container() {
    let text = render(&[sample("app", "web")], Some(1_796_571_530_123));
    let labels = r#"container="app",id="/kubepods/besteffort/pod1/app",image="busybox",name="k8s_app_web",namespace="default",pod="web""#;
    let expected = [
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.".to_string(),
        "# TYPE container_cpu_usage_seconds_total counter".into(),
        format!(
            "container_cpu_usage_seconds_total{{container=\"app\",cpu=\"total\",{}}} 1.5 1796571530123",
            &labels["container=\"app\",".len()..]
        ),
        "# HELP container_memory_rss Size of RSS in bytes.".into(),
        "# TYPE container_memory_rss gauge".into(),
        format!("container_memory_rss{{{labels}}} 123456 1796571530123"),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..6],
        expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert!(text.contains(&format!(
        "container_memory_usage_bytes{{{labels}}} 1.048576e+08 "
    )));
    assert!(text.contains(&format!(
        "container_memory_working_set_bytes{{{labels}}} 1e+08 "
    )));
    assert!(text.contains(&format!("container_spec_memory_limit_bytes{{{labels}}} 0 ")));
    assert!(text.contains(&format!("container_threads_max{{{labels}}} 0 ")));
    assert!(text.contains(&format!("container_oom_events_total{{{labels}}} 0 ")));
    assert!(text.contains("# TYPE container_oom_events_total counter\n"));
}

#[test]
fn unknown_values_and_zero_cpu_write_no_sample() {
    let mut s = sample("app", "web");
    s.stats = CgroupStats {
        cpu_usage_ns: Some(0),
        memory_usage_bytes: Some(10),
        ..Default::default()
    };
    s.start_time_seconds = None;
    let text = render(&[s], None);
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .collect();
    assert_eq!(
        families,
        [
            "container_memory_usage_bytes gauge",
            "container_memory_working_set_bytes gauge"
        ]
    );
    assert!(
        text.lines().all(|l| !l.ends_with(' ')),
        "no timestamp: {text}"
    );
    assert_eq!(render(&[], None), "");
}

/// A small parser of the text format, strict enough to catch what a real
/// scraper would reject: every sample's family was declared by HELP and TYPE
/// just before, names are valid, label values are correctly escaped.
fn parse_exposition(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let valid_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut declared: Option<(String, bool)> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(valid_name(name), "{line}");
            declared = Some((name.to_string(), false));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            let d = declared.as_mut().expect("TYPE after HELP");
            assert_eq!(d.0, name);
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            d.1 = true;
            continue;
        }
        let brace = line.find('{').expect(line);
        let name = &line[..brace];
        assert_eq!(
            declared.as_ref().map(|d| (d.0.as_str(), d.1)),
            Some((name, true))
        );
        let mut labels = BTreeMap::new();
        let mut chars = line[brace + 1..].chars();
        loop {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            assert!(valid_name(&key), "label name {key:?} in {line}");
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next().expect("unterminated value") {
                    '"' => break,
                    '\\' => value.push(match chars.next().unwrap() {
                        'n' => '\n',
                        c @ ('\\' | '"') => c,
                        c => panic!("bad escape \\{c} in {line}"),
                    }),
                    '\n' => panic!("raw newline"),
                    c => value.push(c),
                }
            }
            assert!(labels.insert(key, value).is_none(), "duplicate label");
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                other => panic!("{other:?} after a label in {line}"),
            }
        }
        let rest: String = chars.collect();
        let mut fields = rest.trim_start_matches(' ').split(' ');
        let value = fields.next().unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value {v:?}")),
        };
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().expect("timestamp");
        }
        assert!(fields.next().is_none(), "{line}");
        out.push((name.to_string(), labels, value));
    }
    out
}

#[test]
fn hostile_labels_round_trip_through_a_parser() {
    let mut evil = sample("app", "web");
    evil.labels.image = "evil\"} 1\nfake_metric{x=\"y\\".into();
    evil.labels.pod = "p\\n\u{e9}".into();
    let other = sample("db", "api");
    let text = render(&[evil.clone(), other], Some(7));
    let parsed = parse_exposition(&text);
    // 10 families, two containers each.
    assert_eq!(parsed.len(), 20);
    assert!(parsed.iter().all(|(n, _, _)| n.starts_with("container_")));
    let (_, labels, value) = parsed
        .iter()
        .find(|(n, l, _)| n == "container_memory_usage_bytes" && l["container"] == "app")
        .unwrap();
    assert_eq!(labels["image"], evil.labels.image);
    assert_eq!(labels["pod"], evil.labels.pod);
    assert_eq!(*value, 104_857_600.0);
    let cpu = parsed
        .iter()
        .find(|(n, _, _)| n == "container_cpu_usage_seconds_total")
        .unwrap();
    assert_eq!(cpu.1["cpu"], "total");
    assert_eq!(cpu.2, 1.5);
}

/// This process's own cgroup, read from the real kernel files.
fn own_cgroup() -> Option<(bool, PathBuf, PathBuf, PathBuf)> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path_of = |ctrl: &str| {
        text.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            ctrls
                .split(',')
                .any(|c| c == ctrl)
                .then(|| path.trim_start_matches('/').to_string())
        })
    };
    let v1 = |ctrl: &str, mount: &str| {
        let p = Path::new("/sys/fs/cgroup").join(mount).join(path_of(ctrl)?);
        p.is_dir().then_some(p)
    };
    if let (Some(c), Some(m), Some(p)) = (
        v1("cpuacct", "cpuacct"),
        v1("memory", "memory"),
        v1("pids", "pids"),
    ) {
        return Some((true, c, m, p));
    }
    let unified = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let p = Path::new("/sys/fs/cgroup").join(unified.trim_start_matches('/'));
    p.join("memory.current")
        .exists()
        .then(|| (false, p.clone(), p.clone(), p))
}

#[test]
fn reads_this_process_cgroup_from_the_kernel() {
    let Some((v1, cpu, mem, pids)) = own_cgroup() else {
        eprintln!(
            "SKIP: no cpuacct+memory+pids v1 cgroups nor a v2 memory cgroup for this process"
        );
        return;
    };
    // The root cgroup has no pids.current: then the value must be unset.
    let has_pids = pids.join("pids.current").exists();
    let stats = if v1 {
        read_cgroup_v1(&CgroupV1Dirs {
            cpuacct: cpu,
            memory: mem,
            pids,
        })
        .unwrap()
    } else {
        read_cgroup_v2(&mem).unwrap()
    };
    // This test process runs and uses memory: the kernel must say so.
    assert!(stats.cpu_usage_ns.unwrap_or(0) > 0, "{stats:?}");
    assert!(stats.memory_usage_bytes.unwrap_or(0) > 0, "{stats:?}");
    assert!(stats.processes.unwrap_or(0) >= 1, "{stats:?}");
    assert_eq!(stats.threads.is_some(), has_pids, "{stats:?}");
    assert!(!has_pids || stats.threads.unwrap() >= 1, "{stats:?}");
}
