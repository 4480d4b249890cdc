#!/bin/sh
# Validates the classroom manifests in deploy/ (CI calls this).
#
# 1. Schema, offline and strict (unknown fields are errors), against the
#    Kubernetes versions we document, with the PyPI package
#    kubernetes-validate (it ships the JSON schemas; installed into a cached
#    venv on first use, needs python3 + python3-venv).
# 2. `kubectl apply --dry-run=client -f deploy/` when a cluster is reachable.
#    Without one it cannot run at all: even client-side dry-run asks the API
#    server for discovery (REST mapping) and its OpenAPI schema. Debian 12's
#    kubernetes-client is kubectl 1.20, older than the fields used here
#    (hostUsers, appArmorProfile), so it is no offline substitute either.
#    That step then prints SKIP with the reason.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
versions=${KUBELAB_K8S_VERSIONS:-"1.33.0 1.37.0"}
validator_version=1.37.0
venv=${KUBELAB_VALIDATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kubelab/validate-venv}

files=$(find "$here" -maxdepth 1 -name '*.yaml' | sort)
[ -n "$files" ] || { echo "validate.sh: no *.yaml in $here" >&2; exit 1; }

kv=$(command -v kubernetes-validate || true)
if [ -z "$kv" ]; then
    kv="$venv/bin/kubernetes-validate"
    if [ ! -x "$kv" ]; then
        echo "validate.sh: installing kubernetes-validate $validator_version into $venv" >&2
        python3 -m venv "$venv" || {
            echo "validate.sh: python3 -m venv failed; install python3-venv (apt-get install -y python3-venv)" >&2
            exit 1
        }
        "$venv/bin/pip" install --quiet "kubernetes-validate==$validator_version"
    fi
fi

for v in $versions; do
    # shellcheck disable=SC2086 # one argument per file
    "$kv" --strict --quiet -k "$v" $files
    echo "ok: $(echo "$files" | wc -l) manifest file(s) valid against Kubernetes $v (strict)"
done

if command -v kubectl >/dev/null 2>&1 && kubectl version --request-timeout=5s >/dev/null 2>&1; then
    kubectl apply --dry-run=client -f "$here"
    echo "ok: kubectl apply --dry-run=client"
else
    echo "SKIP: kubectl apply --dry-run=client: no kubectl or no reachable cluster (client dry-run still needs API discovery)" >&2
fi
