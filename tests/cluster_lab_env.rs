//! A cluster lab's sandbox, on the real engine, with the environment
//! `crate::cluster::lab::lab_spec` gives it (the reader's and `kubelab
//! test`'s): the variables reach its checks, and the kubeconfig files
//! `KUBECONFIG` lists — private (0600) files in the data directory and the
//! learner's home — are readable inside, read-only. No cluster is needed:
//! this is what kubectl inside would read.

mod common;

use common::engine_or_skip;
use kubelab::lab::backend::LabSandbox;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

#[test]
fn the_sandbox_gets_the_variables_and_reads_the_kubeconfig_files() {
    let Some(f) = engine_or_skip() else { return };
    let course = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster_lab");
    let loaded = kubelab::course::load(&course).expect("fixture loads");
    let lesson = &loaded.lessons[0];
    let spec = &lesson.front.sandboxes["main"];
    // Where the real files live: below the home folder, which the `host`
    // rootfs does not show.
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    let dir = tempfile::Builder::new()
        .prefix(".kubelab-test-cluster-env")
        .tempdir_in(&home)
        .unwrap();
    let overlay = dir.path().join("overlay-kubeconfig");
    let learner = dir.path().join("learner-config");
    for (p, body) in [(&overlay, "overlay: 1\n"), (&learner, "learner: 2\n")] {
        std::fs::write(p, body).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let list = std::env::join_paths([&overlay, &learner]).unwrap();
    let env = vec![
        (
            "KUBECONFIG".to_string(),
            list.to_string_lossy().into_owned(),
        ),
        (
            "KUBELAB_NAMESPACE".to_string(),
            "kubelab-rollout".to_string(),
        ),
        (
            "KUBELAB_CONTEXT".to_string(),
            "kubelab/kubelab-rollout".to_string(),
        ),
        (
            "KUBELAB_CLUSTER".to_string(),
            "context recorded".to_string(),
        ),
    ];
    let spec = kubelab::cluster::lab::lab_spec(spec, &env);
    let sb = f.spawn("main", &spec, None).expect("sandbox starts");
    let run = |script: &str| sb.exec_script(script, Duration::from_secs(20)).unwrap();
    let out = run("echo \"$KUBELAB_NAMESPACE $KUBELAB_CONTEXT\"; \
                   IFS=:; for f in $KUBECONFIG; do cat \"$f\"; done");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "kubelab-rollout kubelab/kubelab-rollout\noverlay: 1\nlearner: 2\n"
    );
    let write = run(&format!("echo x >> {}", overlay.display()));
    assert_ne!(write.code, 0, "read-only inside: {write:?}");
    drop(sb);
    assert_eq!(std::fs::read_to_string(&overlay).unwrap(), "overlay: 1\n");
}
