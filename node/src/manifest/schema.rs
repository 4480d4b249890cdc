//! The supported subset of `v1 Pod`, field by field. Anything outside it is
//! an error naming the field, never ignored: a learner who writes `stdin:
//! true` or `nodeSelector:` must learn that kubelab's node does not do it.
//!
//! The table is data: the walker ([`super::walk`]) checks a manifest against
//! it and docs/pods.md is generated from it ([`fields_markdown`]).

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    /// A string from a closed set.
    Enum(&'static [&'static str]),
    Int32,
    Int64,
    Bool,
    /// A resource quantity (`100m`, `128Mi`), written as a string or number.
    Quantity,
    /// A port: a number or a named port.
    IntOrStr,
    /// A map of strings to strings (labels, annotations).
    StrMap,
    StrList,
    /// Only `null` (kubectl's `creationTimestamp: null`).
    Null,
    Object(&'static [Field]),
    /// A list of objects.
    List(&'static [Field]),
}

/// One supported field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// What kubelab's node does with it (the docs' column).
    pub doc: &'static str,
}

const fn f(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field { name, kind, doc }
}

use Kind::*;

pub const POD: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "must be `v1`"),
    f("kind", Enum(&["Pod"]), "must be `Pod`"),
    f("metadata", Object(METADATA), "the Pod's identity"),
    f("spec", Object(SPEC), "what to run"),
    f("status", Object(&[]), "only `{}` (as `kubectl run --dry-run=client -o yaml` writes it); the node writes the status"),
];

pub const LIST: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "must be `v1`"),
    f(
        "kind",
        Enum(&["List"]),
        "`List`: several Pods in one document",
    ),
    f(
        "metadata",
        Object(&[f(
            "resourceVersion",
            Str,
            "accepted (kubectl writes `\"\"`), ignored",
        )]),
        "accepted, ignored",
    ),
    f(
        "items",
        List(POD),
        "Pods, each checked like a `kind: Pod` document",
    ),
];

const METADATA: &[Field] = &[
    f("name", Str, "required; a DNS-1123 subdomain, unique per namespace on the node"),
    f("namespace", Str, "a DNS-1123 label; default `default`"),
    f("uid", Str, "lowercase letters, digits and `-`; the node makes one when absent (it names the pod cgroup `pod<UID>`)"),
    f("labels", StrMap, "validated as the API does; shown by `get --show-labels`, readable through the downward API"),
    f("annotations", StrMap, "validated as the API does; readable through the downward API"),
    f("creationTimestamp", Null, "only `null` (kubectl's dry-run output); the node sets it"),
];

const SPEC: &[Field] = &[
    f("containers", List(CONTAINER), "required, at least one; each gets its own mount (and pid) namespace and rootfs, joining the infra process's net, ipc and uts namespaces"),
    f("initContainers", List(CONTAINER), "run one after another before the containers, each to completion"),
    f("volumes", List(VOLUME), "emptyDir, hostPath, configMap, secret, downwardAPI"),
    f("restartPolicy", Enum(&["Always", "OnFailure", "Never"]), "default `Always`; restarts with the kubelet's CrashLoopBackOff"),
    f("terminationGracePeriodSeconds", Int64, "default 30: SIGTERM, then SIGKILL after this many seconds"),
    f("shareProcessNamespace", Bool, "the infra process's pid namespace is shared by all containers (it is pid 1)"),
    f("hostname", Str, "a DNS-1123 label; default the Pod's name"),
    f("nodeName", Str, "accepted when it names this node; the node sets it"),
    f("dnsPolicy", Enum(&["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]), "accepted (kubectl writes it), no effect: the node has no cluster DNS"),
];

const CONTAINER: &[Field] = &[
    f(
        "name",
        Str,
        "required; a DNS-1123 label, unique among containers and init containers",
    ),
    f(
        "image",
        Str,
        "required; `host`, `busybox` or an image the node has as an OCI layout (see Images)",
    ),
    f(
        "imagePullPolicy",
        Enum(&["Always", "IfNotPresent", "Never"]),
        "accepted, no effect: images are local, never pulled",
    ),
    f("command", StrList, "replaces the image's entrypoint"),
    f(
        "args",
        StrList,
        "replaces the image's cmd; `$(VAR)` expands as in Kubernetes",
    ),
    f("env", List(ENV), "environment variables, in order"),
    f("workingDir", Str, "the working directory"),
    f(
        "ports",
        List(PORT),
        "informational, as in Kubernetes; names can be used by probes",
    ),
    f(
        "resources",
        Object(RESOURCES),
        "requests and limits: the QoS class and the cgroup values",
    ),
    f(
        "securityContext",
        Object(SECURITY_CONTEXT),
        "the user, capabilities and root filesystem",
    ),
    f(
        "volumeMounts",
        List(VOLUME_MOUNT),
        "mounts of the Pod's volumes",
    ),
    f(
        "livenessProbe",
        Object(PROBE),
        "restart the container when it fails `failureThreshold` times",
    ),
    f(
        "readinessProbe",
        Object(PROBE),
        "the container's `ready` flag and the Pod's Ready condition",
    ),
    f(
        "startupProbe",
        Object(PROBE),
        "holds the other probes until it succeeds",
    ),
    f(
        "lifecycle",
        Object(LIFECYCLE),
        "postStart and preStop hooks",
    ),
];

const ENV: &[Field] = &[
    f("name", Str, "required; printable ASCII without `=`"),
    f(
        "value",
        Str,
        "the value; `$(VAR)` expands earlier variables",
    ),
    f(
        "valueFrom",
        Object(ENV_SOURCE),
        "a value from the Pod itself (downward API)",
    ),
];

const ENV_SOURCE: &[Field] = &[
    f("fieldRef", Object(FIELD_REF), "a field of the Pod"),
    f(
        "resourceFieldRef",
        Object(RESOURCE_FIELD_REF),
        "a container's request or limit",
    ),
];

const FIELD_REF: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "default `v1`"),
    f(
        "fieldPath",
        Str,
        "`metadata.name`, `metadata.namespace`, `metadata.uid`, `metadata.labels['KEY']`, `metadata.annotations['KEY']`, `spec.nodeName`, `spec.serviceAccountName`, `status.hostIP`, `status.hostIPs`, `status.podIP`, `status.podIPs` (env); volumes take the `metadata.` ones and whole `metadata.labels`/`metadata.annotations`",
    ),
];

const RESOURCE_FIELD_REF: &[Field] = &[
    f(
        "containerName",
        Str,
        "which container (default: this one; required in volumes)",
    ),
    f(
        "resource",
        Enum(&[
            "limits.cpu",
            "limits.memory",
            "limits.ephemeral-storage",
            "requests.cpu",
            "requests.memory",
            "requests.ephemeral-storage",
        ]),
        "required",
    ),
    f(
        "divisor",
        Quantity,
        "default `1`; cpu: `1` or `1m`, memory: `1`, `1k`…`1E`, `1Ki`…`1Ei`",
    ),
];

const PORT: &[Field] = &[
    f(
        "name",
        Str,
        "an IANA service name (≤ 15 characters), unique in the container",
    ),
    f("containerPort", Int32, "required, 1–65535"),
    f("protocol", Enum(&["TCP", "UDP", "SCTP"]), "default `TCP`"),
];

const RESOURCE_LIST: &[Field] = &[
    f("cpu", Quantity, "CPU (`500m`, `0.5`, `2`): cpu.shares/cpu.weight from requests, CFS quota from limits"),
    f("memory", Quantity, "bytes (`64Mi`, `1G`): memory.limit_in_bytes/memory.max from limits; oom_score_adj from requests"),
    f("ephemeral-storage", Quantity, "accepted and validated, not enforced"),
];

const RESOURCES: &[Field] = &[
    f(
        "requests",
        Object(RESOURCE_LIST),
        "default: the limits, per resource (as the API server does)",
    ),
    f("limits", Object(RESOURCE_LIST), "must be ≥ the requests"),
];

const SECURITY_CONTEXT: &[Field] = &[
    f(
        "runAsUser",
        Int64,
        "the uid the container's process runs as",
    ),
    f("runAsGroup", Int64, "its gid"),
    f(
        "runAsNonRoot",
        Bool,
        "refuse to start (CreateContainerConfigError) when the uid would be 0",
    ),
    f(
        "readOnlyRootFilesystem",
        Bool,
        "the rootfs is mounted read-only",
    ),
    f(
        "privileged",
        Bool,
        "kubelab's privileged sandbox (all capabilities, no seccomp filter)",
    ),
    f("allowPrivilegeEscalation", Bool, "false sets no_new_privs"),
    f(
        "capabilities",
        Object(CAPABILITIES),
        "capabilities added to / dropped from the default set",
    ),
];

const CAPABILITIES: &[Field] = &[
    f(
        "add",
        StrList,
        "names like `NET_ADMIN` (with or without `CAP_`)",
    ),
    f("drop", StrList, "names, or `ALL`"),
];

const VOLUME_MOUNT: &[Field] = &[
    f("name", Str, "required; a volume of the Pod"),
    f(
        "mountPath",
        Str,
        "required; an absolute path without `..`, unique in the container",
    ),
    f(
        "subPath",
        Str,
        "a relative path inside the volume, without `..`",
    ),
    f("readOnly", Bool, "mount read-only"),
    f(
        "mountPropagation",
        Enum(&["None", "HostToContainer", "Bidirectional"]),
        "default `None`; `Bidirectional` needs `privileged`",
    ),
];

const PROBE: &[Field] = &[
    f(
        "exec",
        Object(EXEC),
        "run a command in the container; exit 0 is success",
    ),
    f(
        "httpGet",
        Object(HTTP_GET),
        "an HTTP GET in the Pod's network namespace; 200–399 is success",
    ),
    f(
        "tcpSocket",
        Object(TCP_SOCKET),
        "a TCP connect in the Pod's network namespace",
    ),
    f("initialDelaySeconds", Int32, "default 0"),
    f("timeoutSeconds", Int32, "default 1"),
    f("periodSeconds", Int32, "default 10"),
    f(
        "successThreshold",
        Int32,
        "default 1; must be 1 for liveness and startup probes",
    ),
    f("failureThreshold", Int32, "default 3"),
    f(
        "terminationGracePeriodSeconds",
        Int64,
        "liveness/startup: the grace period when the probe kills the container",
    ),
];

const EXEC: &[Field] = &[f("command", StrList, "the command (not run in a shell)")];

const HTTP_GET: &[Field] = &[
    f("path", Str, "default `/`"),
    f(
        "port",
        IntOrStr,
        "required; a number or a named container port",
    ),
    f("host", Str, "default the Pod's IP"),
    f(
        "scheme",
        Enum(&["HTTP", "HTTPS"]),
        "default `HTTP` (HTTPS skips certificate checks, as the kubelet does)",
    ),
    f("httpHeaders", List(HTTP_HEADER), "extra request headers"),
];

const HTTP_HEADER: &[Field] = &[f("name", Str, "required"), f("value", Str, "required")];

const TCP_SOCKET: &[Field] = &[
    f(
        "port",
        IntOrStr,
        "required; a number or a named container port",
    ),
    f("host", Str, "default the Pod's IP"),
];

const LIFECYCLE: &[Field] = &[
    f(
        "postStart",
        Object(HANDLER),
        "run right after the container starts; a failure kills it",
    ),
    f(
        "preStop",
        Object(HANDLER),
        "run before SIGTERM when the container is stopped, within the grace period",
    ),
];

const HANDLER: &[Field] = &[
    f("exec", Object(EXEC), "a command in the container"),
    f("httpGet", Object(HTTP_GET), "an HTTP GET"),
    f(
        "sleep",
        Object(&[f("seconds", Int64, "required")]),
        "wait this many seconds",
    ),
];

const VOLUME: &[Field] = &[
    f("name", Str, "required; a DNS-1123 label, unique in the Pod"),
    f(
        "emptyDir",
        Object(EMPTY_DIR),
        "a directory living as long as the Pod",
    ),
    f(
        "hostPath",
        Object(HOST_PATH),
        "a host path, only under the directories the node allows",
    ),
    f(
        "configMap",
        Object(CONFIG_MAP),
        "files from the node's local config maps, swapped atomically (`..data`) on update",
    ),
    f(
        "secret",
        Object(SECRET),
        "files from the node's local secrets (tmpfs), swapped atomically",
    ),
    f(
        "downwardAPI",
        Object(DOWNWARD_API),
        "the Pod's own fields as files, swapped atomically",
    ),
];

const EMPTY_DIR: &[Field] = &[
    f("medium", Enum(&["", "Memory"]), "`Memory`: a tmpfs"),
    f(
        "sizeLimit",
        Quantity,
        "the tmpfs size for `Memory`; for disk, exceeding it evicts the Pod",
    ),
];

const HOST_PATH: &[Field] = &[
    f(
        "path",
        Str,
        "required; absolute, without `..`, under a directory the node allows",
    ),
    f(
        "type",
        Enum(&["", "Directory", "DirectoryOrCreate", "File", "FileOrCreate"]),
        "default `\"\"` (no check)",
    ),
];

const KEY_TO_PATH: &[Field] = &[
    f("key", Str, "required; the key"),
    f("path", Str, "required; a relative path without `..`"),
    f("mode", Int32, "file mode, 0–0777 (YAML `0644` is octal)"),
];

const CONFIG_MAP: &[Field] = &[
    f("name", Str, "required; a config map of the node"),
    f(
        "items",
        List(KEY_TO_PATH),
        "only these keys, at these paths",
    ),
    f("defaultMode", Int32, "default 0644"),
    f(
        "optional",
        Bool,
        "a missing config map is an empty volume instead of an error",
    ),
];

const SECRET: &[Field] = &[
    f("secretName", Str, "required; a secret of the node"),
    f(
        "items",
        List(KEY_TO_PATH),
        "only these keys, at these paths",
    ),
    f("defaultMode", Int32, "default 0644"),
    f(
        "optional",
        Bool,
        "a missing secret is an empty volume instead of an error",
    ),
];

const DOWNWARD_API_FILE: &[Field] = &[
    f("path", Str, "required; a relative path without `..`"),
    f("fieldRef", Object(FIELD_REF), "a field of the Pod"),
    f(
        "resourceFieldRef",
        Object(RESOURCE_FIELD_REF),
        "a container's request or limit",
    ),
    f("mode", Int32, "file mode, 0–0777"),
];

const DOWNWARD_API: &[Field] = &[
    f("items", List(DOWNWARD_API_FILE), "the files"),
    f("defaultMode", Int32, "default 0644"),
];

/// Every supported path (`spec.containers[].securityContext.runAsUser`)
/// with its field, depth-first in table order.
pub fn supported_paths() -> Vec<(String, &'static Field)> {
    let mut out = Vec::new();
    collect("", POD, &mut out);
    out
}

fn collect(prefix: &str, fields: &'static [Field], out: &mut Vec<(String, &'static Field)>) {
    for field in fields {
        let path = if prefix.is_empty() {
            field.name.to_string()
        } else {
            format!("{prefix}.{}", field.name)
        };
        out.push((path.clone(), field));
        match field.kind {
            Object(sub) => collect(&path, sub, out),
            List(sub) => collect(&format!("{path}[]"), sub, out),
            _ => {}
        }
    }
}

/// A short name for a kind, for messages and the docs.
pub fn kind_name(kind: &Kind) -> String {
    match kind {
        Str => "string".into(),
        Enum(values) => values
            .iter()
            .map(|v| {
                if v.is_empty() {
                    "`\"\"`".to_string()
                } else {
                    format!("`{v}`")
                }
            })
            .collect::<Vec<_>>()
            .join(" \\| "),
        Int32 | Int64 => "integer".into(),
        Bool => "boolean".into(),
        Quantity => "quantity".into(),
        IntOrStr => "integer or string".into(),
        StrMap => "map of strings".into(),
        StrList => "list of strings".into(),
        Null => "null".into(),
        Object(_) => "object".into(),
        List(_) => "list of objects".into(),
    }
}

/// The Markdown table of docs/pods.md's "Supported fields" section.
pub fn fields_markdown() -> String {
    let mut s = String::from("| Field | Type | On kubelab's node |\n|---|---|---|\n");
    for (path, field) in supported_paths() {
        s.push_str(&format!(
            "| `{path}` | {} | {} |\n",
            kind_name(&field.kind),
            field.doc
        ));
    }
    s
}
