//! The runtime side of the CNI protocol, against small shell-script plugins
//! that record what they were given. The real plugins are exercised in
//! `node/tests/cni_bridge.rs`.

use super::network::{add, check, del, version};
use super::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        let f = Fake {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir(f.calls_dir()).unwrap();
        f
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn calls_dir(&self) -> PathBuf {
        self.dir.path().join("calls")
    }

    /// A plugin that records its environment and stdin, then runs `body`.
    fn plugin(&self, name: &str, body: &str) {
        fs::create_dir_all(self.bin()).unwrap();
        let script = format!(
            "#!/bin/sh\nd='{calls}'\nn=$(printf %03d $(ls \"$d\" | wc -l))\n\
             printf '%s\\n' \"$CNI_COMMAND\" \"$CNI_CONTAINERID\" \"$CNI_NETNS\" \"$CNI_IFNAME\" \"$CNI_ARGS\" \"$CNI_PATH\" {name} > \"$d/$n.env\"\n\
             cat > \"$d/$n.json\"\n{body}\n",
            calls = self.calls_dir().display()
        );
        let path = self.bin().join(name);
        fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A plugin answering ADD with a result that names it.
    fn ok_plugin(&self, name: &str, ip: &str) {
        let result =
            format!(r#"{{"cniVersion":"1.0.0","ips":[{{"address":"{ip}/24"}}],"by":"{name}"}}"#);
        self.plugin(
            name,
            &format!("[ \"$CNI_COMMAND\" = ADD ] && printf '%s' '{result}'\nexit 0"),
        );
    }

    fn runner(&self) -> PluginRunner {
        let mut r = PluginRunner::new(vec![self.dir.path().join("empty"), self.bin()]);
        r.timeout = Duration::from_secs(20);
        r
    }

    /// Each call: (plugin, command, env lines, stdin JSON).
    fn calls(&self) -> Vec<(String, String, Vec<String>, Value)> {
        let mut names: Vec<_> = fs::read_dir(self.calls_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "env"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|env| {
                let lines: Vec<String> = fs::read_to_string(env)
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect();
                let stdin = fs::read(env.with_extension("json")).unwrap();
                let json = serde_json::from_slice(&stdin).unwrap_or(Value::Null);
                (lines[6].clone(), lines[0].clone(), lines, json)
            })
            .collect()
    }
}

fn list(types: &[&str]) -> NetworkConfigList {
    let plugins: Vec<String> = types
        .iter()
        .map(|t| format!(r#"{{"type":"{t}","own":"{t}-field"}}"#))
        .collect();
    let text = format!(
        r#"{{"cniVersion":"1.0.0","name":"testnet","plugins":[{}]}}"#,
        plugins.join(",")
    );
    NetworkConfigList::parse(&text, "test").unwrap()
}

fn pod(netns: &Path) -> Attachment {
    Attachment::for_pod("default", "web", "uid-1", "sandbox1", netns.to_path_buf())
}

#[test]
fn add_chains_results_and_passes_the_spec_parameters() {
    let f = Fake::new();
    f.ok_plugin("one", "10.0.0.5");
    f.ok_plugin("two", "10.0.0.6");
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let result = add(&f.runner(), &list(&["one", "two"]), &pod(&netns)).unwrap();
    assert_eq!(result.raw["by"], "two");
    assert_eq!(result.pod_ip(), Some("10.0.0.6".parse().unwrap()));
    let calls = f.calls();
    assert_eq!(calls.len(), 2);
    let (plugin, cmd, env, stdin) = &calls[0];
    assert_eq!((plugin.as_str(), cmd.as_str()), ("one", "ADD"));
    assert_eq!(env[1], "sandbox1");
    assert_eq!(env[2], netns.to_string_lossy());
    assert_eq!(env[3], "eth0");
    assert_eq!(
        env[4],
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sandbox1;K8S_POD_UID=uid-1"
    );
    assert_eq!(
        env[5],
        format!(
            "{}:{}",
            f.dir.path().join("empty").display(),
            f.bin().display()
        )
    );
    assert_eq!(
        (&stdin["name"], &stdin["cniVersion"], &stdin["own"]),
        (&"testnet".into(), &"1.0.0".into(), &"one-field".into())
    );
    assert!(
        stdin.get("prevResult").is_none(),
        "the first plugin has no prevResult"
    );
    assert!(stdin.get("runtimeConfig").is_none());
    assert_eq!(calls[1].3["prevResult"]["by"], "one");
}

#[test]
fn del_runs_in_reverse_with_the_add_result_and_tolerates_a_gone_netns() {
    let f = Fake::new();
    f.ok_plugin("one", "10.0.0.5");
    f.plugin("two", "[ \"$CNI_COMMAND\" = DEL ] && { printf '%s' '{\"code\":11,\"msg\":\"busy\"}'; exit 1; }\nexit 0");
    let prev = CniResult::parse(br#"{"cniVersion":"1.0.0","ips":[],"by":"cached"}"#).unwrap();
    let gone = f.dir.path().join("no-such-netns");
    let err = del(
        &f.runner(),
        &list(&["one", "two"]),
        &pod(&gone),
        Some(&prev),
    )
    .unwrap_err();
    // two failed, one still ran: as much as possible is released.
    assert!(matches!(err, CniError::Plugin { code: 11, .. }), "{err}");
    assert!(
        err.to_string().contains("busy") && err.to_string().contains("try again later"),
        "{err}"
    );
    let calls = f.calls();
    let order: Vec<(&str, &str)> = calls.iter().map(|c| (c.0.as_str(), c.1.as_str())).collect();
    assert_eq!(order, [("two", "DEL"), ("one", "DEL")]);
    for c in &calls {
        assert_eq!(c.2[2], "", "CNI_NETNS dropped for a namespace that is gone");
        assert_eq!(c.3["prevResult"]["by"], "cached");
    }
}

#[test]
fn a_failed_add_is_undone_and_reported() {
    let f = Fake::new();
    f.ok_plugin("one", "10.0.0.5");
    f.plugin(
        "bad",
        "[ \"$CNI_COMMAND\" = ADD ] && { printf '%s' '{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"no \\u001b[31mbridge\",\"details\":\"field x\"}'; exit 1; }\nexit 0",
    );
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let err = add(&f.runner(), &list(&["one", "bad"]), &pod(&netns)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("CNI plugin bad ADD failed: no \u{fffd}[31mbridge: field x (code 7: invalid network config)"), "{msg}");
    let order: Vec<(String, String)> = f.calls().into_iter().map(|c| (c.0, c.1)).collect();
    let order: Vec<(&str, &str)> = order
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("one", "ADD"),
            ("bad", "ADD"),
            ("bad", "DEL"),
            ("one", "DEL")
        ]
    );
}

#[test]
fn a_crash_without_an_error_object_shows_clean_stderr() {
    let f = Fake::new();
    f.plugin("crash", "printf 'panic: \\033[2J oops' >&2\nexit 2");
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let err = add(&f.runner(), &list(&["crash"]), &pod(&netns)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, CniError::Crashed { .. }), "{msg}");
    assert!(
        msg.contains("panic: \u{fffd}[2J oops") && !msg.contains('\u{1b}'),
        "{msg}"
    );
}

#[test]
fn a_hung_plugin_is_killed_with_what_it_started() {
    let f = Fake::new();
    let pids = f.dir.path().join("pids");
    f.plugin(
        "hang",
        &format!("sleep 300 &\necho $$ $! > '{}'\nwait", pids.display()),
    );
    let mut runner = f.runner();
    runner.timeout = Duration::from_millis(300);
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let started = Instant::now();
    let err = add(&runner, &list(&["hang"]), &pod(&netns)).unwrap_err();
    assert!(matches!(err, CniError::Timeout { .. }), "{err}");
    assert!(
        err.to_string().contains("did not finish within 300ms"),
        "{err}"
    );
    // ADD and the undoing DEL each hit the deadline, no more.
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = fs::read_to_string(&pids).unwrap();
    for pid in text.split_whitespace() {
        let stat = Path::new("/proc").join(pid).join("stat");
        let deadline = Instant::now() + Duration::from_secs(10);
        // Gone, or a zombie waiting for its reaper: not running.
        while fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) {
            assert!(
                Instant::now() < deadline,
                "process {pid} survived the timeout"
            );
            std::thread::yield_now();
        }
    }
}

#[test]
fn capabilities_get_runtime_config_and_prefix_launchers_run() {
    let f = Fake::new();
    f.ok_plugin("ports", "10.0.0.7");
    f.ok_plugin("plain", "10.0.0.8");
    let text = r#"{"cniVersion":"1.0.0","name":"n","plugins":[
        {"type":"plain"},{"type":"ports","capabilities":{"portMappings":true}}]}"#;
    let l = NetworkConfigList::parse(text, "test").unwrap();
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let mut att = pod(&netns);
    att.port_mappings.push(PortMapping {
        host_port: 8080,
        container_port: 80,
        protocol: "tcp".into(),
        host_ip: None,
    });
    let mut runner = f.runner();
    // A prefix launcher (kubelab's is nsenter into the node's netns).
    runner.launcher = Launcher::Prefix(vec!["env".into(), "KUBELAB_VIA_PREFIX=1".into()]);
    f.plugin(
        "plain",
        "[ \"$KUBELAB_VIA_PREFIX\" = 1 ] || exit 9\nprintf '%s' '{\"cniVersion\":\"1.0.0\"}'",
    );
    add(&runner, &l, &att).unwrap();
    let calls = f.calls();
    assert!(
        calls[0].3.get("runtimeConfig").is_none(),
        "plain did not ask for it"
    );
    assert_eq!(
        calls[1].3["runtimeConfig"],
        serde_json::json!({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})
    );
    assert_eq!(
        Launcher::nsenter_net(Path::new("/proc/7/ns/net")),
        Launcher::Prefix(vec![
            "nsenter".into(),
            "--net=/proc/7/ns/net".into(),
            "--".into()
        ])
    );
}

#[test]
fn missing_plugins_bad_parameters_and_disabled_check() {
    let f = Fake::new();
    let netns = f.dir.path().join("netns");
    let err = add(&f.runner(), &list(&["missing"]), &pod(&netns)).unwrap_err();
    assert!(
        err.to_string()
            .contains("apt-get install containernetworking-plugins"),
        "{err}"
    );
    let mut bad = pod(&netns);
    bad.container_id = "-x".into();
    assert!(add(&f.runner(), &list(&["x"]), &bad)
        .unwrap_err()
        .to_string()
        .contains("container ID"));
    for ifname in ["", "..", "a/b", "eth 0", "sixteen-chars-xx"] {
        let mut bad = pod(&netns);
        bad.ifname = ifname.into();
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("interface name"),
            "{ifname:?}"
        );
    }
    let mut bad = pod(&netns);
    bad.args.push(("K8S_POD_NAME".into(), "a;EVIL=1".into()));
    assert!(bad.validate().unwrap_err().to_string().contains("CNI_ARGS"));
    f.ok_plugin("present", "10.0.0.9");
    let mut runner = f.runner();
    runner.launcher = Launcher::Prefix(vec!["kubelab-no-such-launcher".into()]);
    let err = add(&runner, &list(&["present"]), &pod(&netns)).unwrap_err();
    assert!(
        err.to_string()
            .contains("the launcher \"kubelab-no-such-launcher\" is not installed"),
        "{err}"
    );
    let mut l = list(&["missing"]);
    l.disable_check = true;
    let prev = CniResult::parse(br#"{"cniVersion":"1.0.0"}"#).unwrap();
    check(&f.runner(), &l, &pod(&netns), &prev).unwrap();
    assert!(f.calls().is_empty(), "no plugin ran");
}

#[test]
fn version_and_check_reach_the_plugin() {
    let f = Fake::new();
    f.plugin(
        "v",
        "[ \"$CNI_COMMAND\" = VERSION ] && printf '%s' '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}'\nexit 0",
    );
    let v = version(&f.runner(), "v").unwrap();
    assert_eq!(v.supported_versions, ["0.4.0", "1.0.0"]);
    let netns = f.dir.path().join("netns");
    fs::write(&netns, "").unwrap();
    let prev = CniResult::parse(br#"{"cniVersion":"1.0.0","by":"add"}"#).unwrap();
    check(&f.runner(), &list(&["v"]), &pod(&netns), &prev).unwrap();
    let calls = f.calls();
    assert_eq!(calls[1].1, "CHECK");
    assert_eq!(calls[1].3["prevResult"]["by"], "add");
}

#[test]
fn debian_plugins_answer_version() {
    let runner = PluginRunner::new(vec![PathBuf::from(DEBIAN_PLUGIN_DIR)]);
    if runner.find("bridge").is_err() {
        eprintln!("SKIP: no CNI bridge plugin in {DEBIAN_PLUGIN_DIR} (apt-get install containernetworking-plugins)");
        return;
    }
    for plugin in ["bridge", "host-local", "portmap", "loopback"] {
        let v = version(&runner, plugin).unwrap();
        assert!(
            v.supported_versions.iter().any(|s| s == "1.0.0"),
            "{plugin}: {v:?}"
        );
    }
}
