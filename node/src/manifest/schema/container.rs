//! The container part of the table: `spec.containers[]` and
//! `spec.initContainers[]`.

use super::Kind::*;
use super::{f, Field};

pub(super) const CONTAINER: &[Field] = &[
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

pub(super) const ENV: &[Field] = &[
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

pub(super) const ENV_SOURCE: &[Field] = &[
    f("fieldRef", Object(FIELD_REF), "a field of the Pod"),
    f(
        "resourceFieldRef",
        Object(RESOURCE_FIELD_REF),
        "a container's request or limit",
    ),
];

pub(super) const FIELD_REF: &[Field] = &[
    f("apiVersion", Enum(&["v1"]), "default `v1`"),
    f(
        "fieldPath",
        Str,
        "`metadata.name`, `metadata.namespace`, `metadata.uid`, `metadata.labels['KEY']`, `metadata.annotations['KEY']`, `spec.nodeName`, `spec.serviceAccountName`, `status.hostIP`, `status.hostIPs`, `status.podIP`, `status.podIPs` (env); volumes take the `metadata.` ones and whole `metadata.labels`/`metadata.annotations`",
    ),
];

pub(super) const RESOURCE_FIELD_REF: &[Field] = &[
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

pub(super) const PORT: &[Field] = &[
    f(
        "name",
        Str,
        "an IANA service name (≤ 15 characters), unique in the container",
    ),
    f("containerPort", Int32, "required, 1–65535"),
    f("protocol", Enum(&["TCP", "UDP", "SCTP"]), "default `TCP`"),
];

pub(super) const RESOURCE_LIST: &[Field] = &[
    f("cpu", Quantity, "CPU (`500m`, `0.5`, `2`): cpu.shares/cpu.weight from requests, CFS quota from limits"),
    f("memory", Quantity, "bytes (`64Mi`, `1G`): memory.limit_in_bytes/memory.max from limits; oom_score_adj from requests"),
    f("ephemeral-storage", Quantity, "accepted and validated, not enforced"),
    f(
        EXTENDED_RESOURCE,
        Quantity,
        "an extended resource such as `kubelab.io/fuse`: a whole number, limits required, requests equal to them; a device the node's device plugin allocates (`--device-plugin`, a lab's `[node] devices`), else the Pod is not admitted",
    ),
];

/// The row standing for every extended resource name (`example.com/foo`):
/// the walker takes a key with a `/` here, validation checks its spelling.
pub const EXTENDED_RESOURCE: &str = "DOMAIN/NAME";

pub(super) const RESOURCES: &[Field] = &[
    f(
        "requests",
        Object(RESOURCE_LIST),
        "default: the limits, per resource (as the API server does)",
    ),
    f("limits", Object(RESOURCE_LIST), "must be ≥ the requests"),
];

pub(super) const SECURITY_CONTEXT: &[Field] = &[
    f(
        "runAsUser",
        Int64,
        "the uid of the container's processes (and execs) inside the Pod's user namespace: 0–65535 on a root node, 0 only on a rootless one",
    ),
    f("runAsGroup", Int64, "their gid, mapped the same way; no supplementary groups"),
    f(
        "runAsNonRoot",
        Bool,
        "refuse to start (CreateContainerConfigError) when the uid would be 0 (images run as 0 unless `runAsUser`)",
    ),
    f(
        "readOnlyRootFilesystem",
        Bool,
        "the rootfs is mounted read-only; volumes, /dev and /proc keep their own flags",
    ),
    f(
        "privileged",
        Bool,
        "kubelab's privileged sandbox (all capabilities of the Pod's user namespace, no seccomp filter)",
    ),
    f(
        "allowPrivilegeEscalation",
        Bool,
        "accepted; kubelab sets no_new_privs on every container, as `false` asks",
    ),
    f(
        "capabilities",
        Object(CAPABILITIES),
        "changes to the default set (containerd's: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP), on the bounding and effective sets; ignored when privileged",
    ),
];

pub(super) const CAPABILITIES: &[Field] = &[
    f(
        "add",
        StrList,
        "names like `NET_ADMIN` (with or without `CAP_`), or `ALL`",
    ),
    f(
        "drop",
        StrList,
        "names, or `ALL` (applied before the named adds, as containerd does)",
    ),
];

pub(super) const VOLUME_MOUNT: &[Field] = &[
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
        "default `None` (rprivate); `HostToContainer` (rslave) sees mounts the node makes under the volume later (its node mount must be shared); `Bidirectional` is refused at start",
    ),
];

pub(super) const PROBE: &[Field] = &[
    f(
        "exec",
        Object(EXEC),
        "run a command in the container; exit 0 is success",
    ),
    f(
        "httpGet",
        Object(HTTP_GET),
        "an HTTP GET from the node to the Pod's IP (or `host`); 200–399 is success",
    ),
    f(
        "tcpSocket",
        Object(TCP_SOCKET),
        "a TCP connect from the node to the Pod's IP (or `host`)",
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

pub(super) const EXEC: &[Field] = &[f("command", StrList, "the command (not run in a shell)")];

pub(super) const HTTP_GET: &[Field] = &[
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
        "default `HTTP`; `HTTPS` is refused (the node has no TLS client)",
    ),
    f("httpHeaders", List(HTTP_HEADER), "extra request headers"),
];

pub(super) const HTTP_HEADER: &[Field] = &[f("name", Str, "required"), f("value", Str, "required")];

pub(super) const TCP_SOCKET: &[Field] = &[
    f(
        "port",
        IntOrStr,
        "required; a number or a named container port",
    ),
    f("host", Str, "default the Pod's IP"),
];

pub(super) const LIFECYCLE: &[Field] = &[
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

pub(super) const HANDLER: &[Field] = &[
    f("exec", Object(EXEC), "a command in the container"),
    f(
        "httpGet",
        Object(HTTP_GET),
        "an HTTP GET from the node to the Pod's IP (or `host`); any answer is success, as in the kubelet",
    ),
    f(
        "sleep",
        Object(&[f("seconds", Int64, "required")]),
        "wait this many seconds",
    ),
];
