use crate::downward::*;
use k8s_openapi::api::core::v1::{DownwardAPIVolumeFile, Pod};
use serde_json::json;

fn vars(name: &str) -> Option<String> {
    match name {
        "VAR_A" => Some("A".into()),
        "VAR_B" => Some("B".into()),
        _ => None,
    }
}

#[test]
fn expansion_as_kubernetes_expand_test_go() {
    // third_party/forked/golang/expansion/expand_test.go cases.
    for (input, want) in [
        ("$(VAR_A)", "A"),
        ("___$(VAR_B)___", "___B___"),
        ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("$$(VAR_A)", "$(VAR_A)"),
        ("$$$(VAR_A)", "$A"),
        ("$$$$(VAR_A)", "$$(VAR_A)"),
        ("$(VAR_UNKNOWN)", "$(VAR_UNKNOWN)"),
        ("$(VAR_A", "$(VAR_A"),
        ("$VAR_A", "$VAR_A"),
        ("VAR_A$", "VAR_A$"),
        ("$", "$"),
        ("$$", "$"),
        ("$()", "$()"),
        ("héllo $(VAR_B) wörld", "héllo B wörld"),
    ] {
        assert_eq!(expand(input, &vars), want, "{input}");
    }
}

fn pod() -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "dapi", "namespace": "lab", "uid": "u-1",
                     "labels": {"zone": "us-est-coast", "cluster": "test-cluster1", "rack": "rack-22"},
                     "annotations": {"build": "two", "builder": "john-doe\n\"x\""}},
        "spec": {"containers": [
            {"name": "client", "image": "busybox",
             "command": ["sh", "-c", "echo $(MY_POD_NAME) $$(MY_POD_NAME) $(MY_CPU_REQUEST)"],
             "args": ["$(GREETING)"],
             "resources": {"requests": {"cpu": "125m", "memory": "32Mi"}, "limits": {"cpu": "250m", "memory": "64Mi"}},
             "env": [
                {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "MY_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "RACK", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['rack']"}}},
                {"name": "MY_CPU_REQUEST", "valueFrom": {"resourceFieldRef": {"containerName": "client", "resource": "requests.cpu", "divisor": "1m"}}},
                {"name": "MY_CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                {"name": "MY_MEM_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "GREETING", "value": "hello $(MY_POD_NAME) on $(MY_NODE_NAME), $(LATER)"},
                {"name": "LATER", "value": "late"}
             ]},
            {"name": "nolimits", "image": "busybox"}
        ]}
    }))
    .unwrap()
}

fn facts() -> NodeFacts {
    NodeFacts {
        node_name: "lab".into(),
        pod_ip: Some("10.88.0.7".into()),
        host_ip: Some("10.88.0.1".into()),
        allocatable_milli_cpu: 2000,
        allocatable_memory_bytes: 4 << 30,
        allocatable_ephemeral_bytes: 10 << 30,
    }
}

#[test]
fn env_as_the_docs_dapi_examples() {
    // https://kubernetes.io/docs/tasks/inject-data-application/environment-variable-expose-pod-information/
    let p = pod();
    let c = &p.spec.as_ref().unwrap().containers[0];
    let env = container_env(&p, c, &facts()).unwrap();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("MY_NODE_NAME"), Some("lab"));
    assert_eq!(get("MY_POD_NAME"), Some("dapi"));
    assert_eq!(get("MY_POD_IP"), Some("10.88.0.7"));
    assert_eq!(get("RACK"), Some("rack-22"));
    // "requests.cpu" with divisor 1m: 125m → 125; limits.cpu 250m with the
    // default divisor 1 rounds up to 1; 64Mi / 1Mi = 64.
    assert_eq!(get("MY_CPU_REQUEST"), Some("125"));
    assert_eq!(get("MY_CPU_LIMIT"), Some("1"));
    assert_eq!(get("MY_MEM_LIMIT"), Some("64"));
    // Only earlier variables expand.
    assert_eq!(get("GREETING"), Some("hello dapi on lab, $(LATER)"));
    let (cmd, args) = command_and_args(c, &env);
    assert_eq!(cmd[2], "echo dapi $(MY_POD_NAME) 125");
    assert_eq!(args, ["hello dapi on lab, $(LATER)"]);
}

#[test]
fn unset_limits_are_the_node_allocatable() {
    let p = pod();
    let c = &p.spec.as_ref().unwrap().containers[1];
    let sel = |r: &str, d: Option<&str>| {
        serde_json::from_value(json!({"resource": r, "divisor": d})).unwrap()
    };
    assert_eq!(
        resource_value(c, &sel("limits.cpu", None), &facts()).unwrap(),
        "2"
    );
    assert_eq!(
        resource_value(c, &sel("limits.memory", Some("1Mi")), &facts()).unwrap(),
        "4096"
    );
    assert_eq!(
        resource_value(c, &sel("requests.memory", None), &facts()).unwrap(),
        "0"
    );
}

#[test]
fn downward_files() {
    // "fieldpath.FormatMap": sorted key="value" lines, values Go-quoted.
    let p = pod();
    let file =
        |v: serde_json::Value| -> DownwardAPIVolumeFile { serde_json::from_value(v).unwrap() };
    let labels = downward_file(
        &p,
        &file(json!({"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}})),
        &facts(),
    )
    .unwrap();
    assert_eq!(
        labels,
        "cluster=\"test-cluster1\"\nrack=\"rack-22\"\nzone=\"us-est-coast\""
    );
    let ann = downward_file(
        &p,
        &file(json!({"path": "a", "fieldRef": {"fieldPath": "metadata.annotations"}})),
        &facts(),
    )
    .unwrap();
    assert_eq!(ann, "build=\"two\"\nbuilder=\"john-doe\\n\\\"x\\\"\"");
    let cpu = file(
        json!({"path": "cpu", "resourceFieldRef": {"containerName": "client", "resource": "limits.cpu", "divisor": "1m"}}),
    );
    assert_eq!(downward_file(&p, &cpu, &facts()).unwrap(), "250");
    assert_eq!(go_quote("a\u{1b}b\u{7f}é"), "\"a\\x1bb\\x7fé\"");
}
