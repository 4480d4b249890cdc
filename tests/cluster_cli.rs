//! Cluster labs from the command line with no cluster on this host (CI has
//! none): `kubelab test` skips them with the reason, lint accepts them,
//! `kubelab doctor` says how to make a cluster. Each run gets a HOME and a
//! KUBECONFIG of its own, so the machine's kubeconfig (if any) is not read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn course() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster_lab")
}

fn kubelab(home: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubelab"));
    c.args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("LANG", "en_US.UTF-8")
        .env_remove("KUBECONFIG");
    if let Some(k) = kubeconfig {
        c.env("KUBECONFIG", k);
    }
    c.output().expect("run kubelab")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn closed_port_kubeconfig(dir: &Path) -> PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = dir.join("kubeconfig");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: gone\n\
             clusters: [{{name: gone, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n\
             contexts: [{{name: gone, context: {{cluster: gone, user: u}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn test_skips_a_cluster_lab_without_a_cluster() {
    let home = tempfile::tempdir().unwrap();
    let c = course();
    let o = kubelab(
        home.path(),
        None,
        &["--course", c.to_str().unwrap(), "--trust", "test", "--json"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect(&out);
    assert_eq!(
        (
            v["passed"].as_u64(),
            v["failed"].as_u64(),
            v["skipped"].as_u64()
        ),
        (Some(0), Some(0), Some(1)),
        "{out}"
    );
    let why = v["lessons"][0]["problems"][0].as_str().unwrap();
    assert!(
        why.starts_with("needs a cluster") && why.contains("kubelab doctor"),
        "{why}"
    );

    // A kubeconfig whose cluster is gone: skipped too, saying so; no hang.
    let kc = closed_port_kubeconfig(home.path());
    let o = kubelab(
        home.path(),
        Some(&kc),
        &["--course", c.to_str().unwrap(), "--trust", "test"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("SKIP") && out.contains("unreachable"), "{out}");
    assert!(out.contains("0 passed, 0 failed, 1 skipped"), "{out}");
}

#[test]
fn lint_accepts_the_cluster_lab() {
    let home = tempfile::tempdir().unwrap();
    let c = course();
    let o = kubelab(
        home.path(),
        None,
        &["--course", c.to_str().unwrap(), "lint"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn doctor_says_how_to_make_a_cluster_and_what_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    let o = kubelab(home.path(), None, &["doctor", "--no-probe"]);
    let out = text(&o);
    assert!(
        out.contains("no kubeconfig: cluster labs will be skipped"),
        "{out}"
    );
    assert!(
        out.contains("kind create cluster") && out.contains("minikube start"),
        "{out}"
    );
    assert!(!out.contains("[FAIL] cluster"), "{out}");

    let kc = closed_port_kubeconfig(home.path());
    let o = kubelab(home.path(), Some(&kc), &["doctor", "--no-probe"]);
    let out = text(&o);
    assert!(out.contains("context gone"), "{out}");
    assert!(out.contains("unreachable"), "{out}");

    let o = kubelab(
        home.path(),
        Some(&kc),
        &["--context", "nope", "doctor", "--no-probe"],
    );
    let out = text(&o);
    assert!(
        out.contains("context `nope` is not in the kubeconfig (it has: gone)"),
        "{out}"
    );
}
