use crate::cgroup_plan::*;
use crate::qos::*;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

fn pod(containers: serde_json::Value, init: serde_json::Value) -> PodResources {
    let p: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": containers, "initContainers": init}
    }))
    .unwrap();
    PodResources::from_pod(&p).unwrap()
}

fn one(resources: serde_json::Value) -> PodResources {
    pod(json!([{"name": "c", "resources": resources}]), json!([]))
}

#[test]
fn qos_classes_from_the_kubernetes_docs() {
    // https://kubernetes.io/docs/tasks/configure-pod-container/quality-service-pod/
    let guaranteed = one(json!({"limits": {"memory": "200Mi", "cpu": "700m"},
                                "requests": {"memory": "200Mi", "cpu": "700m"}}));
    assert_eq!(guaranteed.qos_class(), QosClass::Guaranteed);
    // "If a Container specifies its own memory limit, but does not specify a
    // memory request, Kubernetes automatically assigns a memory request that
    // matches the limit" (same for CPU).
    assert_eq!(
        one(json!({"limits": {"memory": "200Mi", "cpu": "700m"}})).qos_class(),
        QosClass::Guaranteed
    );
    // qos-demo-2: memory limit 200Mi, request 100Mi.
    let burstable = one(json!({"limits": {"memory": "200Mi"}, "requests": {"memory": "100Mi"}}));
    assert_eq!(burstable.qos_class(), QosClass::Burstable);
    // qos-demo-3: no resources at all.
    assert_eq!(one(json!({})).qos_class(), QosClass::BestEffort);
    // qos-demo-4: one container with a memory request, one without anything.
    let two = pod(
        json!([{"name": "a", "resources": {"requests": {"memory": "200Mi"}}}, {"name": "b"}]),
        json!([]),
    );
    assert_eq!(two.qos_class(), QosClass::Burstable);
    // Guaranteed needs *both* cpu and memory limits in every container.
    assert_eq!(
        one(json!({"limits": {"memory": "200Mi"}})).qos_class(),
        QosClass::Burstable
    );
    // Zero counts as unset (ComputePodQOS only adds quantities > 0).
    assert_eq!(
        one(json!({"requests": {"cpu": "0"}})).qos_class(),
        QosClass::BestEffort
    );
    // ephemeral-storage is not a QoS resource.
    assert_eq!(
        one(json!({"requests": {"ephemeral-storage": "1Gi"}})).qos_class(),
        QosClass::BestEffort
    );
    // An init container without limits makes the Pod Burstable.
    let init = pod(
        json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]),
        json!([{"name": "i", "resources": {"requests": {"cpu": "1"}}}]),
    );
    assert_eq!(init.qos_class(), QosClass::Burstable);
}

#[test]
fn shares_and_quota_as_helpers_linux_test_go() {
    // pkg/kubelet/cm/helpers_linux_test.go TestMilliCPUToShares / TestMilliCPUToQuota.
    for (milli, shares) in [
        (0, 2),
        (1, 2),
        (2, 2),
        (10, 10),
        (100, 102),
        (1000, 1024),
        (1500, 1536),
        (256_000, 262_144),
        (300_000, 262_144),
    ] {
        assert_eq!(milli_cpu_to_shares(milli), shares, "{milli}m");
    }
    for (milli, quota) in [
        (0, None),
        (5, Some(1000)),
        (9, Some(1000)),
        (10, Some(1000)),
        (200, Some(20_000)),
        (500, Some(50_000)),
        (1000, Some(100_000)),
        (1500, Some(150_000)),
    ] {
        assert_eq!(milli_cpu_to_quota(milli), quota, "{milli}m");
    }
}

#[test]
fn cpu_weight_conversions() {
    // Linear: runc libcontainer/cgroups/utils.go ConvertCPUSharesToCgroupV2Value.
    for (shares, weight) in [(2, 1), (102, 4), (1024, 39), (262_144, 10_000)] {
        assert_eq!(
            shares_to_weight(shares, WeightFormula::Linear),
            weight,
            "{shares}"
        );
    }
    // Quadratic: opencontainers/runc#4785 ("2→1, 1024→100, 262144→10000").
    for (shares, weight) in [(2, 1), (1024, 100), (262_144, 10_000)] {
        assert_eq!(
            shares_to_weight(shares, WeightFormula::Quadratic),
            weight,
            "{shares}"
        );
    }
    assert_eq!(shares_to_weight(0, WeightFormula::Linear), 0);
}

#[test]
fn oom_score_adj_as_policy_go() {
    // pkg/kubelet/qos/policy.go and policy_test.go (standardMemoryAmount = 8000000000).
    let cap = 8_000_000_000;
    assert_eq!(oom_score_adj(QosClass::Guaranteed, 1 << 30, cap), -997);
    assert_eq!(oom_score_adj(QosClass::BestEffort, 0, cap), 1000);
    // "A container requesting for 10% of a system's memory will have an OOM
    // score adjust of 900."
    assert_eq!(oom_score_adj(QosClass::Burstable, cap / 10, cap), 900);
    assert_eq!(oom_score_adj(QosClass::Burstable, cap / 2, cap), 500);
    // Burstable without a memory request: 1000 → 999 (below BestEffort).
    assert_eq!(oom_score_adj(QosClass::Burstable, 0, cap), 999);
    // Requesting (almost) all memory: clamped to 1000 + (-997) = 3. (The
    // docs' table says max(2, ...); the source clamps at 3.)
    assert_eq!(oom_score_adj(QosClass::Burstable, cap - 1, cap), 3);
    assert_eq!(oom_score_adj(QosClass::Burstable, cap * 2, cap), 3);
    assert_eq!(oom_score_adj(QosClass::Burstable, cap / 1000 * 996, cap), 4);
}

fn node() -> NodeCapacity {
    NodeCapacity {
        memory_bytes: 8_000_000_000,
        pod_pids_limit: None,
    }
}

#[test]
fn pod_cgroup_values_as_resource_config_for_pod() {
    // helpers_linux_test.go TestResourceConfigForPod: guaranteed 100m/100Mi.
    let g = one(json!({"limits": {"cpu": "100m", "memory": "100Mi"}}));
    let p = plan("uid-1", &g, &node()).unwrap();
    assert_eq!(p.qos, QosClass::Guaranteed);
    assert_eq!(p.pod.path, ["kubepods", "poduid-1"]);
    assert_eq!(
        p.pod.limits,
        CgroupLimits {
            cpu_shares: Some(102),
            cpu_quota_us: Some(10_000),
            memory_limit_bytes: Some(104_857_600),
            pids_max: None
        }
    );
    assert_eq!(
        p.pod.limits.v1_files(),
        [
            ("cpu.shares", "102".into()),
            ("cpu.cfs_period_us", "100000".into()),
            ("cpu.cfs_quota_us", "10000".into()),
            ("memory.limit_in_bytes", "104857600".into())
        ]
    );
    assert_eq!(
        p.pod.limits.v2_files(WeightFormula::Linear),
        [
            ("cpu.weight", "4".into()),
            ("cpu.max", "10000 100000".into()),
            ("memory.max", "104857600".into())
        ]
    );
    assert_eq!(p.containers[0].1.path, ["kubepods", "poduid-1", "c"]);
    assert_eq!(p.containers[0].1.oom_score_adj, Some(-997));
    assert_eq!(p.infra.path, ["kubepods", "poduid-1", "_infra"]);
    assert_eq!(p.infra.oom_score_adj, Some(-998));

    // Burstable, request 100m limit 200m: shares 102, quota 20000.
    let b = one(
        json!({"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "200m", "memory": "200Mi"}}),
    );
    let p = plan("u", &b, &node()).unwrap();
    assert_eq!(p.pod.path, ["kubepods", "burstable", "podu"]);
    assert_eq!(p.pod.limits.cpu_shares, Some(102));
    assert_eq!(p.pod.limits.cpu_quota_us, Some(20_000));
    assert_eq!(p.pod.limits.memory_limit_bytes, Some(209_715_200));
    assert_eq!(p.containers[0].1.oom_score_adj, Some(987)); // 1000 - 1000*100Mi/8e9 = 1000 - 13

    // Burstable without limits: shares only.
    let b = one(json!({"requests": {"cpu": "100m", "memory": "100Mi"}}));
    assert_eq!(
        plan("u", &b, &node()).unwrap().pod.limits,
        CgroupLimits {
            cpu_shares: Some(102),
            ..Default::default()
        }
    );

    // Burstable where one container has no limits: no pod-level limits
    // (cpuLimitsDeclared/memoryLimitsDeclared false), containers keep theirs.
    let partial = pod(
        json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}, {"name": "b"}]),
        json!([]),
    );
    let p = plan("u", &partial, &node()).unwrap();
    assert_eq!(
        p.pod.limits,
        CgroupLimits {
            cpu_shares: Some(1024),
            ..Default::default()
        }
    );
    assert_eq!(p.containers[0].1.limits.cpu_quota_us, Some(100_000));
    assert_eq!(
        p.containers[1].1.limits,
        CgroupLimits {
            cpu_shares: Some(2),
            ..Default::default()
        }
    );

    // BestEffort: shares 2, nothing else; path under besteffort.
    let p = plan("u", &one(json!({})), &node()).unwrap();
    assert_eq!(p.pod.path, ["kubepods", "besteffort", "podu"]);
    assert_eq!(
        p.pod.limits,
        CgroupLimits {
            cpu_shares: Some(2),
            ..Default::default()
        }
    );
    assert_eq!(
        p.pod.limits.v2_files(WeightFormula::Linear),
        [("cpu.weight", "1".into())]
    );
    assert_eq!(p.containers[0].1.oom_score_adj, Some(1000));
}

#[test]
fn init_containers_raise_the_pod_request() {
    // PodRequests: max(sum(containers), max(init containers)).
    let p = pod(
        json!([{"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "10Mi"}}},
               {"name": "b", "resources": {"requests": {"cpu": "200m"}}}]),
        json!([{"name": "i1", "resources": {"requests": {"cpu": "500m", "memory": "1Mi"}}},
               {"name": "i2", "resources": {"requests": {"cpu": "250m"}}}]),
    );
    assert_eq!(p.pod_requests(), (500, 10 * 1024 * 1024));
    let plan = plan("u", &p, &node()).unwrap();
    assert_eq!(plan.pod.limits.cpu_shares, Some(512));
    let names: Vec<_> = plan.containers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["i1", "i2", "a", "b"]);
}

#[test]
fn tier_values() {
    let b1 = one(json!({"requests": {"cpu": "250m"}}));
    let b2 = one(json!({"requests": {"cpu": "750m"}}));
    let g = one(json!({"limits": {"cpu": "2", "memory": "1Gi"}}));
    let [(bq, bl), (eq, el)] = tier_limits(&[&b1, &b2, &g]);
    assert_eq!((bq, bl.cpu_shares), (QosClass::Burstable, Some(1024)));
    assert_eq!((eq, el.cpu_shares), (QosClass::BestEffort, Some(2)));
    let node = NodeCapacity {
        memory_bytes: 1 << 30,
        pod_pids_limit: Some(100),
    };
    assert_eq!(plan("u", &g, &node).unwrap().pod.limits.pids_max, Some(100));
}

#[test]
fn path_segments_are_checked() {
    let b = one(json!({}));
    assert!(plan("../../etc", &b, &node())
        .unwrap_err()
        .contains("pod UID"));
    let bad = pod(json!([{"name": "../x"}]), json!([]));
    assert!(plan("u", &bad, &node())
        .unwrap_err()
        .contains("container name"));
}
