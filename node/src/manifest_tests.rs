use crate::manifest::image::{Image, ImageCatalog};
use crate::manifest::{parse_str, ManifestError, ManifestPod, ParseOptions, MAX_FILE_BYTES};
use std::path::{Path, PathBuf};

pub(crate) fn catalog() -> ImageCatalog {
    let mut c = ImageCatalog {
        busybox: true,
        ..Default::default()
    };
    c.oci
        .insert("alpine:3.20".into(), PathBuf::from("/images/alpine"));
    c.oci
        .insert("localhost/web:1".into(), PathBuf::from("/images/web"));
    c
}

fn parse_with(
    text: &str,
    cat: &ImageCatalog,
    node: Option<&str>,
) -> Result<Vec<ManifestPod>, ManifestError> {
    parse_str(
        text,
        Path::new("pod.yaml"),
        ParseOptions {
            images: cat,
            node_name: node,
            host_path_roots: &[crate::manifest::HostPathRoot::same("/srv")],
        },
    )
}

pub(crate) fn parse(text: &str) -> Result<Vec<ManifestPod>, ManifestError> {
    parse_with(text, &catalog(), Some("lab"))
}

/// The error's text, asserting it names the file and the given line.
fn error_at(text: &str, line: usize) -> String {
    let e = parse(text).expect_err("should be refused");
    let s = e.to_string();
    assert!(
        s.starts_with(&format!("pod.yaml:{line}:")),
        "expected line {line}: {s}"
    );
    s
}

pub(crate) const DRY_RUN: &str = "\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - image: busybox
    name: web
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
";

#[test]
fn kubectl_dry_run_output_is_accepted_and_defaulted() {
    let pods = parse(DRY_RUN).unwrap();
    assert_eq!(pods.len(), 1);
    let p = &pods[0];
    assert_eq!(p.line, 1);
    assert_eq!(p.pod.metadata.name.as_deref(), Some("web"));
    assert_eq!(p.pod.metadata.namespace.as_deref(), Some("default"));
    let spec = p.pod.spec.as_ref().unwrap();
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("Always"),
        "busybox = busybox:latest"
    );
    assert_eq!(p.images, [("web".to_string(), Image::Busybox)]);
}

const FULL: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: full
  namespace: lab
  uid: 0b6c3f0e-1111-2222-3333-444455556666
  labels: {app: web, "app.kubernetes.io/part-of": demo}
  annotations:
    note: "hello"
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 5
  shareProcessNamespace: true
  hostname: full-host
  nodeName: lab
  initContainers:
  - name: setup
    image: busybox:1.36
    command: [sh, -c, "echo hi > /work/hello"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: docker.io/library/alpine:3.20
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh"]
    args: ["-c", "sleep 1000"]
    workingDir: /work
    env:
    - {name: GREETING, value: "hello $(POD_NAME)"}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: APP_LABEL
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: MEM_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    ports:
    - {name: http, containerPort: 8080}
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 0.5, memory: 128Mi, ephemeral-storage: 1Gi}
    securityContext:
      runAsUser: 1000
      runAsGroup: 1000
      runAsNonRoot: true
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
    volumeMounts:
    - {name: work, mountPath: /work, subPath: app, readOnly: true, mountPropagation: HostToContainer}
    - {name: cache, mountPath: /cache}
    - {name: conf, mountPath: /etc/conf}
    - {name: creds, mountPath: /etc/creds}
    - {name: info, mountPath: /etc/info}
    - {name: host, mountPath: /host}
    livenessProbe:
      httpGet: {path: /healthz, port: http}
      initialDelaySeconds: 3
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 2
      successThreshold: 2
    startupProbe:
      exec: {command: [cat, /tmp/ready]}
      failureThreshold: 30
    lifecycle:
      postStart: {exec: {command: [touch, /tmp/started]}}
      preStop: {sleep: {seconds: 2}}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: cache, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
  - name: conf
    configMap:
      name: web-config
      defaultMode: 0644
      items: [{key: app.conf, path: app.conf, mode: 0400}]
  - {name: creds, secret: {secretName: web-creds, optional: true}}
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: cpu, resourceFieldRef: {containerName: web, resource: requests.cpu, divisor: 1m}}
  - {name: host, hostPath: {path: /srv/lab, type: DirectoryOrCreate}}
"#;

#[test]
fn every_supported_area_reads_into_the_typed_pod() {
    let pods = parse(FULL).unwrap();
    let p = &pods[0];
    assert_eq!(p.line, 2);
    let spec = p.pod.spec.as_ref().unwrap();
    let web = &spec.containers[0];
    assert_eq!(p.images[0], ("setup".into(), Image::Busybox));
    assert_eq!(
        p.images[1],
        (
            "web".into(),
            Image::OciLayout {
                reference: "alpine:3.20".into(),
                path: "/images/alpine".into()
            }
        )
    );
    let res = web.resources.as_ref().unwrap();
    assert_eq!(
        res.limits.as_ref().unwrap()["cpu"].0,
        "0.5",
        "a YAML number kept as written"
    );
    assert_eq!(
        res.requests.as_ref().unwrap()["ephemeral-storage"].0,
        "1Gi",
        "requests defaulted from limits"
    );
    let vols = spec.volumes.as_ref().unwrap();
    let cm = vols[2].config_map.as_ref().unwrap();
    assert_eq!(
        cm.default_mode,
        Some(0o644),
        "YAML 0644 is octal, as in Kubernetes"
    );
    assert_eq!(cm.items.as_ref().unwrap()[0].mode, Some(0o400));
    assert_eq!(
        vols[3].secret.as_ref().unwrap().default_mode,
        Some(420),
        "defaulted"
    );
    assert_eq!(
        web.liveness_probe.as_ref().unwrap().period_seconds,
        Some(10),
        "defaulted"
    );
    assert_eq!(
        web.liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap()
            .scheme
            .as_deref(),
        Some("HTTP")
    );
    assert_eq!(
        web.readiness_probe.as_ref().unwrap().success_threshold,
        Some(2)
    );
    assert_eq!(
        web.ports.as_ref().unwrap()[0].protocol.as_deref(),
        Some("TCP")
    );
    assert_eq!(
        web.env.as_ref().unwrap()[1]
            .value_from
            .as_ref()
            .unwrap()
            .field_ref
            .as_ref()
            .unwrap()
            .api_version
            .as_deref(),
        Some("v1")
    );
    assert_eq!(spec.share_process_namespace, Some(true));
    assert_eq!(
        p.pod.metadata.labels.as_ref().unwrap()["app.kubernetes.io/part-of"],
        "demo"
    );
    let qos = crate::qos::PodResources::from_pod(&p.pod)
        .unwrap()
        .qos_class();
    assert_eq!(qos, crate::qos::QosClass::Burstable);
}

#[test]
fn unsupported_fields_are_errors_with_path_and_line() {
    let text = DRY_RUN.replace(
        "    resources: {}\n",
        "    resources: {}\n    stdin: true\n",
    );
    let e = error_at(&text, 13);
    assert!(
        e.contains("\"spec.containers[0].stdin\" is not supported by kubelab's node"),
        "{e}"
    );
    assert!(e.contains("docs/pods.md"), "{e}");
    let e = error_at(
        &DRY_RUN.replace("  dnsPolicy", "  nodeSelector: {disk: ssd}\n  dnsPolicy"),
        13,
    );
    assert!(e.contains("spec.nodeSelector"), "{e}");
    let e = error_at(
        &DRY_RUN.replace("status: {}", "status:\n  phase: Running"),
        16,
    );
    assert!(e.contains("the node writes a Pod's status"), "{e}");
}

#[test]
fn wrong_types_say_what_to_write() {
    let env = DRY_RUN.replace(
        "    resources: {}\n",
        "    env:\n    - name: PORT\n      value: 8080\n",
    );
    let e = error_at(&env, 14);
    assert!(
        e.contains("spec.containers[0].env[0].value must be a string") && e.contains("quote it"),
        "{e}"
    );
    let yes = env.replace("8080", "yes");
    assert!(error_at(&yes, 14).contains("as a boolean"));
    let port = DRY_RUN.replace(
        "    resources: {}\n",
        "    ports:\n    - containerPort: \"80\"\n",
    );
    assert!(error_at(&port, 13).contains("remove the quotes"));
    let q = DRY_RUN.replace("resources: {}", "resources: {limits: {memory: 1.2.3Gi}}");
    let e = error_at(&q, 12);
    assert!(e.contains("not a Kubernetes quantity"), "{e}");
    let e = error_at(
        &DRY_RUN.replace("restartPolicy: Always", "restartPolicy: Sometimes"),
        14,
    );
    assert!(
        e.contains("must be one of `Always`, `OnFailure`, `Never`"),
        "{e}"
    );
    let map = DRY_RUN.replace(
        "  containers:\n  - image: busybox\n    name: web\n    resources: {}\n",
        "  containers:\n    name: x\n",
    );
    let e = error_at(&map, 10);
    assert!(e.contains("must be a list"), "{e}");
}

#[test]
fn lists_and_documents() {
    let two = format!(
        "{DRY_RUN}---\n---\n{}",
        DRY_RUN.replace("name: web", "name: api")
    );
    let pods = parse(&two).unwrap();
    let names: Vec<_> = pods
        .iter()
        .map(|p| p.pod.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["web", "api"]);
    assert_eq!(pods[1].line, 18);
    let list = "\
apiVersion: v1
kind: List
metadata:
  resourceVersion: \"\"
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
  spec: {containers: [{name: a, image: host}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: b}
  spec:
    containers:
    - name: b
      image: nginx:1.27
";
    let e = parse(list).unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.problems[0].field, "items[1].spec.containers[0].image");
    assert_eq!(e.problems[0].line, 16);
    let s = e.to_string();
    assert!(
        s.contains("\"nginx:1.27\" is not on this node")
            && s.contains("available: host, busybox, alpine:3.20, localhost/web:1"),
        "{s}"
    );
    let ok = parse(&list.replace("nginx:1.27", "localhost/web:1")).unwrap();
    assert_eq!((ok.len(), ok[0].line, ok[1].line), (2, 6, 10));
    assert_eq!(ok[0].images, [("a".to_string(), Image::Host)]);
    let e = error_at("apiVersion: apps/v1\nkind: Deployment\n", 2);
    assert!(
        e.contains("\"Deployment\" is not something kubelab's node runs"),
        "{e}"
    );
    assert!(parse("# nothing\n")
        .unwrap_err()
        .to_string()
        .contains("holds no Pod"));
    let e = error_at(&DRY_RUN.replace("apiVersion: v1", "apiVersion: v2"), 1);
    assert!(e.contains("must be one of `v1`"), "{e}");
}

#[test]
fn hostile_yaml_is_bounded() {
    // A "billion laughs": refused at the first alias, nothing expanded.
    let mut y =
        String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    a: &a x\n    b: *a\n");
    for i in 0..9 {
        y.push_str(&format!("    c{i}: &c{i} [*a, *a, *a]\n"));
    }
    assert!(error_at(&y, 6).contains("aliases"));
    let deep = format!(
        "apiVersion: v1\nkind: Pod\nspec: {}{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    assert!(error_at(&deep, 3).contains("nests deeper"));
    let dup = DRY_RUN.replace("  name: web\n", "  name: web\n  name: other\n");
    assert!(error_at(&dup, 8).contains("appears twice"));
    let e = parse(&"#".repeat(MAX_FILE_BYTES as usize + 10))
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than"), "{e}");
    let e = error_at("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n", 4);
    assert!(e.contains("not valid YAML"), "{e}");
    let tag = DRY_RUN.replace("name: web\nspec", "name: !!binary d2Vi\nspec");
    assert!(error_at(&tag, 7).contains("tag"));
    // Control characters from the manifest never reach the message raw.
    let esc = DRY_RUN.replace(
        "    resources: {}\n",
        "    resources: {}\n    \"\\e[2Jx\": 1\n",
    );
    let e = error_at(&esc, 13);
    assert!(!e.contains('\u{1b}'), "{e:?}");
    let esc = DRY_RUN.replace("    run: web\n", "    \"\\e[2J\": x\n");
    let e = error_at(&esc, 6);
    assert!(
        e.contains("metadata.labels.\\u{1b}[2J") && !e.contains('\u{1b}'),
        "{e:?}"
    );
}

fn with_resources(resources: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dev\nspec:\n  containers:\n  - name: c\n    \
         image: busybox\n    resources:\n{resources}"
    )
}

#[test]
fn extended_resources_take_a_domain_a_whole_number_and_equal_requests() {
    let ok = parse(&with_resources(
        "      limits:\n        kubelab.io/fuse: 1\n",
    ))
    .unwrap();
    let r = ok[0].pod.spec.as_ref().unwrap().containers[0]
        .resources
        .clone()
        .unwrap();
    assert_eq!(r.limits.unwrap()["kubelab.io/fuse"].0, "1");
    parse(&with_resources(
        "      limits: {kubelab.io/fuse: 2}\n      requests: {kubelab.io/fuse: 2}\n",
    ))
    .unwrap();
    // A name without a domain is still an unknown field, on its line.
    let e = error_at(&with_resources("      limits:\n        fuse: 1\n"), 11);
    assert!(
        e.contains("\"spec.containers[0].resources.limits.fuse\" is not supported"),
        "{e}"
    );
    assert!(e.contains("DOMAIN/NAME"), "{e}");
    let e = error_at(
        &with_resources("      limits:\n        kubelab.io/fuse: 500m\n"),
        11,
    );
    assert!(e.contains("must be an integer"), "{e}");
    let e = error_at(
        &with_resources(
            "      limits: {kubelab.io/fuse: 1}\n      requests: {kubelab.io/fuse: 2}\n",
        ),
        11,
    );
    assert!(
        e.contains("must be equal to kubelab.io/fuse limit of 1"),
        "{e}"
    );
    let e = error_at(
        &with_resources("      requests:\n        kubelab.io/fuse: 1\n"),
        11,
    );
    assert!(
        e.contains("Limit must be set for non overcommitable resources"),
        "{e}"
    );
    let e = error_at(
        &with_resources("      limits:\n        kubernetes.io/fuse: 1\n"),
        11,
    );
    assert!(e.contains("outside kubernetes.io"), "{e}");
    let e = error_at(
        &with_resources("      limits:\n        bad_domain/x: 1\n"),
        11,
    );
    assert!(e.contains("bad_domain/x"), "{e}");
}

#[test]
fn host_path_takes_the_char_device_type_and_nothing_invented() {
    let pod = |t: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dev\nspec:\n  containers:\n  - name: c\n    \
             image: busybox\n  volumes:\n  - name: d\n    hostPath: {{path: /srv/fuse, type: {t}}}\n"
        )
    };
    parse(&pod("CharDevice")).unwrap();
    let e = error_at(&pod("BlockDevice"), 11);
    assert!(e.contains("CharDevice"), "{e}");
}

#[test]
fn a_host_path_root_may_be_one_file() {
    let r = crate::manifest::HostPathRoot::parse("/dev/fuse=/state/dev/fuse").unwrap();
    assert_eq!(r.path, Path::new("/dev/fuse"));
    assert!(crate::manifest::HostPathRoot::parse("dev/fuse=/x").is_err());
}
