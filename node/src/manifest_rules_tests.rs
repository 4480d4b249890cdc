//! Manifest checks beyond the structure: the API server's rules, images,
//! file bounds and the generated docs.

use crate::manifest::image::{Image, ImageCatalog};
use crate::manifest::{parse_file, ParseOptions, MAX_FILE_BYTES};
use crate::manifest_tests::{catalog, parse, DRY_RUN};
use std::path::Path;

#[test]
fn api_server_rules_are_checked_with_lines() {
    let bad = r#"apiVersion: v1
kind: Pod
metadata:
  name: Web_1
  uid: "../../escape"
  labels: {"bad key!": v}
spec:
  nodeName: other
  initContainers:
  - name: init
    image: busybox
    livenessProbe: {exec: {command: [sh]}}
  containers:
  - name: init
    image: busybox
    ports: [{containerPort: 70000, name: HTTP}]
    env: [{name: "A=B", value: x}]
    resources:
      requests: {cpu: "2"}
      limits: {cpu: "1"}
    volumeMounts:
    - {name: missing, mountPath: relative/path}
    - {name: data, mountPath: /data, subPath: ../up, mountPropagation: Bidirectional}
    livenessProbe: {periodSeconds: 5, successThreshold: 2}
    readinessProbe: {httpGet: {port: web}}
  - name: ""
  volumes:
  - {name: data, emptyDir: {}, hostPath: {path: /tmp}}
  - {name: host, hostPath: {path: tmp}}
"#;
    let e = parse(bad).unwrap_err();
    let lines: Vec<(usize, &str)> = e
        .problems
        .iter()
        .map(|p| (p.line, p.field.as_str()))
        .collect();
    for (line, field) in [
        (4, "metadata.name"),
        (5, "metadata.uid"),
        (6, "metadata.labels.bad key!"),
        (8, "spec.nodeName"),
        (12, "spec.initContainers[0].livenessProbe"),
        (14, "spec.containers[0].name"),
        (16, "spec.containers[0].ports[0].containerPort"),
        (16, "spec.containers[0].ports[0].name"),
        (17, "spec.containers[0].env[0].name"),
        (19, "spec.containers[0].resources.requests.cpu"),
        (22, "spec.containers[0].volumeMounts[0].name"),
        (22, "spec.containers[0].volumeMounts[0].mountPath"),
        (23, "spec.containers[0].volumeMounts[1].subPath"),
        (23, "spec.containers[0].volumeMounts[1].mountPropagation"),
        (24, "spec.containers[0].livenessProbe"),
        (24, "spec.containers[0].livenessProbe.successThreshold"),
        (25, "spec.containers[0].readinessProbe.httpGet.port"),
        (26, "spec.containers[1].name"),
        (28, "spec.volumes[0]"),
        (29, "spec.volumes[1].hostPath.path"),
        (28, "spec.volumes[0].hostPath.path"),
    ] {
        assert!(
            lines.contains(&(line, field)),
            "missing {line} {field} in {lines:?}\n{e}"
        );
    }
    let s = e.to_string();
    assert!(
        s.contains("spec.containers[0].name: Invalid value: \"init\": Duplicate value"),
        "{s}"
    );
    assert!(
        s.contains("must be less than or equal to cpu limit of 1"),
        "{s}"
    );
    assert!(s.contains("Not found: \"missing\""), "{s}");
}

#[test]
fn images_resolve_or_say_what_exists() {
    let c = catalog();
    assert_eq!(c.resolve("host"), Ok(Image::Host));
    for b in [
        "busybox",
        "busybox:1.36",
        "docker.io/library/busybox:latest",
        "busybox@sha256:abcd",
    ] {
        assert_eq!(c.resolve(b), Ok(Image::Busybox), "{b}");
    }
    assert!(matches!(
        c.resolve("alpine:3.20"),
        Ok(Image::OciLayout { .. })
    ));
    assert!(
        c.resolve("alpine").is_err(),
        "alpine:latest is not alpine:3.20"
    );
    assert!(
        c.resolve("localhost:5000/busybox").is_err(),
        "another registry's busybox"
    );
    let none = ImageCatalog::default();
    let e = none.resolve("busybox").unwrap_err();
    assert!(e.contains("busybox-static"), "{e}");
    let e = none.resolve("nginx").unwrap_err();
    assert!(e.contains("available: host."), "{e}");
    // The API's default for imagePullPolicy follows the tag.
    let pods = parse(&DRY_RUN.replace("image: busybox", "image: alpine:3.20")).unwrap();
    assert_eq!(
        pods[0].pod.spec.as_ref().unwrap().containers[0]
            .image_pull_policy
            .as_deref(),
        Some("IfNotPresent")
    );
}

#[test]
fn files_are_read_with_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("web.yaml");
    std::fs::write(&ok, DRY_RUN).unwrap();
    let opts = ParseOptions {
        images: &catalog(),
        node_name: None,
        host_path_roots: &[],
    };
    assert_eq!(parse_file(&ok, opts).unwrap()[0].file, ok);
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 100]).unwrap();
    let e = parse_file(&big, opts).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}:1:1: the manifest is larger", big.display())),
        "{e}"
    );
    let e = parse_file(&dir.path().join("absent.yaml"), opts).unwrap_err();
    assert!(e.to_string().contains("cannot read the manifest"), "{e}");
}

#[test]
fn docs_list_every_supported_field() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pods.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap();
    let table = crate::manifest::schema::fields_markdown();
    let (begin, end) = (
        "<!-- fields:begin (generated from node/src/manifest/schema/) -->\n",
        "<!-- fields:end -->",
    );
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/pods.md lacks the generated fields block markers");
    };
    let current = &doc[b + begin.len()..e];
    if current != table {
        if std::env::var_os("KUBELAB_BLESS").is_some() {
            let new = format!("{}{begin}{table}{}", &doc[..b], &doc[e..]);
            std::fs::write(&doc_path, new).unwrap();
            return;
        }
        panic!(
            "docs/pods.md's field table is out of date; run with KUBELAB_BLESS=1 to regenerate it"
        );
    }
    for (path, _) in crate::manifest::schema::supported_paths() {
        assert!(
            doc.contains(&format!("`{path}`")),
            "docs/pods.md does not list {path}"
        );
    }
}

#[test]
fn host_paths_stay_under_the_allowed_roots() {
    let with = |path: &str| {
        DRY_RUN.replace(
            "  dnsPolicy",
            &format!("  volumes: [{{name: h, hostPath: {{path: {path}}}}}]\n  dnsPolicy"),
        )
    };
    assert!(parse(&with("/srv")).is_ok());
    assert!(parse(&with("/srv/lab/data")).is_ok());
    for bad in ["/srvx", "/etc", "/", "/srv/../etc"] {
        let e = parse(&with(bad)).unwrap_err();
        assert_eq!(e.problems[0].line, 13, "{e}");
        assert!(
            e.to_string().contains("spec.volumes[0].hostPath.path"),
            "{e}"
        );
    }
    let none = ImageCatalog {
        busybox: true,
        ..Default::default()
    };
    let opts = ParseOptions {
        images: &none,
        node_name: None,
        host_path_roots: &[],
    };
    let e = crate::manifest::parse_str(&with("/srv"), Path::new("p.yaml"), opts).unwrap_err();
    assert!(e.to_string().contains("allows no hostPath volumes"), "{e}");
}
