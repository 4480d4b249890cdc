//! The volume part of the table: `spec.volumes[]`.

use super::container::{FIELD_REF, RESOURCE_FIELD_REF};
use super::Kind::*;
use super::{f, Field};

pub(super) const VOLUME: &[Field] = &[
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
    f(
        "flexVolume",
        Object(FLEX_VOLUME),
        "mounted by a FlexVolume driver of the node's `--volume-plugin-dir`, run in the Pod's volume plugin sandbox",
    ),
];

pub(super) const FLEX_VOLUME: &[Field] = &[
    f(
        "driver",
        Str,
        "required; `vendor/driver`: the executable `<vendor>~<driver>/<driver>` of the node's plugin directory",
    ),
    f("fsType", Str, "passed to the driver as `kubernetes.io/fsType`"),
    f(
        "readOnly",
        Bool,
        "passed as `kubernetes.io/readwrite: ro` (and the containers' binds are read-only)",
    ),
    f(
        "options",
        StrMap,
        "passed to the driver's `mount` in its JSON options, beside the kubelet's `kubernetes.io/…` keys",
    ),
];

pub(super) const EMPTY_DIR: &[Field] = &[
    f(
        "medium",
        Enum(&["", "Memory"]),
        "`Memory`: a tmpfs mounted by the node (root), shared by the Pod's containers; its pages count against the writer's memory limit",
    ),
    f(
        "sizeLimit",
        Quantity,
        "the tmpfs size for `Memory` (lowered to the Pod's memory limit, else the node's memory); for disk accepted, not enforced (the kubelet would evict the Pod)",
    ),
];

pub(super) const HOST_PATH: &[Field] = &[
    f(
        "path",
        Str,
        "required; absolute, without `..`, under a directory the node allows",
    ),
    f(
        "type",
        Enum(&["", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "CharDevice"]),
        "default `\"\"` (no check); `CharDevice`: the node checks the path is a character device (opening it still needs the container's device rules: a device plugin's device, not a `hostPath`, gets them)",
    ),
];

pub(super) const KEY_TO_PATH: &[Field] = &[
    f("key", Str, "required; the key"),
    f("path", Str, "required; a relative path without `..`"),
    f("mode", Int32, "file mode, 0–0777 (YAML `0644` is octal)"),
];

pub(super) const CONFIG_MAP: &[Field] = &[
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

pub(super) const SECRET: &[Field] = &[
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

pub(super) const DOWNWARD_API_FILE: &[Field] = &[
    f("path", Str, "required; a relative path without `..`"),
    f("fieldRef", Object(FIELD_REF), "a field of the Pod"),
    f(
        "resourceFieldRef",
        Object(RESOURCE_FIELD_REF),
        "a container's request or limit",
    ),
    f("mode", Int32, "file mode, 0–0777"),
];

pub(super) const DOWNWARD_API: &[Field] = &[
    f("items", List(DOWNWARD_API_FILE), "the files"),
    f("defaultMode", Int32, "default 0644"),
];
