use super::*;

fn want(c: &str, n: u32) -> (String, String, u32) {
    (c.to_string(), "kubelab.io/fuse".to_string(), n)
}

#[test]
fn allocate_picks_free_ids_and_frees_them_with_the_pod() {
    let mut m = DeviceManager::new(&[("fuse".into(), 2)]);
    assert_eq!(m.capacity(), [("kubelab.io/fuse", 2, 2)]);
    let a = m.allocate("pod-a", &[want("app", 1)]).unwrap().to_vec();
    assert_eq!(a[0].ids, ["fuse-0"]);
    assert_eq!(a[0].env(), ("KUBELAB_FUSE_DEVICES".into(), "fuse-0".into()));
    // Admitted again (a retry): the same devices, none taken twice.
    assert_eq!(
        m.allocate("pod-a", &[want("app", 1)]).unwrap(),
        a.as_slice()
    );
    assert_eq!(m.capacity(), [("kubelab.io/fuse", 2, 1)]);
    let e = m
        .allocate("pod-b", &[want("x", 1), want("y", 1)])
        .unwrap_err();
    assert!(e.contains("Requested: 2, Available: 1"), "{e}");
    assert!(e.contains("Insufficient kubelab.io/fuse"), "{e}");
    // All or nothing: the refused Pod holds nothing.
    assert!(m.allocated("pod-b").is_empty());
    assert_eq!(
        m.allocate("pod-c", &[want("app", 1)]).unwrap()[0].ids,
        ["fuse-1"]
    );
    m.free_pod("pod-a");
    assert_eq!(m.capacity(), [("kubelab.io/fuse", 2, 1)]);
    assert_eq!(
        m.allocate("pod-d", &[want("app", 1)]).unwrap()[0].ids,
        ["fuse-0"]
    );
}

#[test]
fn a_resource_no_plugin_serves_is_refused_by_name() {
    let mut m = DeviceManager::new(&[]);
    let e = m.allocate("p", &[want("app", 1)]).unwrap_err();
    assert!(e.contains("capacity: 0"), "{e}");
    let other = ("app".to_string(), "example.com/gpu".to_string(), 1);
    assert!(m.allocate("p", &[other]).is_err());
}

#[test]
fn only_the_table_s_kinds_and_sane_counts_are_taken() {
    assert_eq!(parse_flag("fuse=2").unwrap(), ("fuse".to_string(), 2));
    for bad in ["mem=1", "fuse", "fuse=0", "fuse=99", "fuse=-1", "c 1:1=1"] {
        assert!(parse_flag(bad).is_err(), "{bad}");
    }
    // Unknown kinds never reach the manager, whatever the caller passes.
    assert!(DeviceManager::new(&[("mem".into(), 1)])
        .capacity()
        .is_empty());
}
