#!/usr/bin/env bash
# Pod benchmark (issue 18). Prints, in one run, kubelab's node beside
# Debian's podman on this machine:
#   - a Pod of two busybox containers from "apply" to Running: kubelab from
#     `kubelab pod apply` until `kubelab pod get` says 2/2 Running; podman
#     from `podman pod create` until the second `podman run -d --pod` has
#     returned (it returns once the container runs); median and p95 of $RUNS,
#     and the ratio of medians;
#   - idle memory per Pod: PSS (and RSS) of every process a Pod costs besides
#     its two `sleep` payloads (kubelab: the infra's supervisor and
#     kubelab-pause, each container's supervisor, and the node's own growth;
#     podman: one conmon per container and the infra container), mean of
#     $IDLE Pods, and the ratio.
# Neither side has a network: kubelab's node calls no CNI yet, podman's Pods
# get `--network none` (a netns with loopback only), so both do the same
# namespace work. Podman's image is the host's static busybox imported from a
# tiny rootfs tar (no pull). Debian 12's crun refuses hybrid cgroups, so
# podman runs with runc here; its default rlimits (nofile 1048576) need
# CAP_SYS_RESOURCE, so a private containers.conf sets lower ones.
# Needs root. Usage: benches/pod.sh [RUNS]   (env: KUBELAB=path, IDLE=5)
# Without podman its rows say why and kubelab is measured alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-${RUNS:-20}}
IDLE=${IDLE:-5}
WORK=$(mktemp -d /tmp/kubelab-pod-bench.XXXXXX)
chmod 700 "$WORK"
IMAGE=localhost/kubelab-pod-bench-busybox:1
PREFIX=kubelab-pod-bench-$$
node_pid=
podman_ok=0
podman_used=0
cleanup() {
    set +e
    if [ "$podman_used" = 1 ]; then
        for p in $(podman pod ls -q --filter "name=^$PREFIX-" 2>/dev/null); do podman pod rm -f -t 0 "$p" >/dev/null 2>&1; done
        podman rmi -f "$IMAGE" >/dev/null 2>&1
    fi
    # The node deletes its Pods (grace periods of 0 s below) on SIGTERM.
    if [ -n "$node_pid" ]; then
        kill -TERM "$node_pid" 2>/dev/null
        wait "$node_pid" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "benches/pod.sh: run as root (cgroups, podman)" >&2; exit 2; }
if [ ! -x /bin/busybox ] || readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'; then
    echo "installing busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi

# --- kubelab's node -----------------------------------------------------------------
KUBELAB=${KUBELAB:-}
if [ -z "$KUBELAB" ]; then
    # --bins: the node's sandboxes run in kubelab-helper beside it.
    cargo build --release --locked --quiet --bins
    KUBELAB=$PWD/target/release/kubelab
fi
STATE=$WORK/node
mkdir -m 700 "$STATE"
"$KUBELAB" node --state-dir "$STATE" --name pod-bench 2>"$WORK/node.log" &
node_pid=$!
kpod() { timeout 30 "$KUBELAB" pod --state-dir "$STATE" "$@"; }
deadline=$((SECONDS + 30))
until kpod get >/dev/null 2>&1; do
    kill -0 "$node_pid" 2>/dev/null || { echo "kubelab node exited:" >&2; cat "$WORK/node.log" >&2; exit 3; }
    [ $SECONDS -lt $deadline ] || { echo "kubelab node did not serve within 30 s" >&2; exit 3; }
    sleep 0.05
done

# manifest NAME: a Pod of two idle busybox containers.
manifest() {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  containers:
  - name: a
    image: busybox
    command: ["sleep", "2147483647"]
  - name: b
    image: busybox
    command: ["sleep", "2147483647"]
EOF
}
# running NAME: true once `get` shows 2/2 Running.
running() { kpod get "$1" 2>/dev/null | awk 'NR > 1 && $2 == "2/2" && $3 == "Running" { ok = 1 } END { exit !ok }'; }
# wait_for FN ARG: polls FN ARG every 2 ms for at most 30 s.
wait_for() {
    local deadline=$((SECONDS + 30))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.002
    done
}
gone() { ! kpod get "$1" >/dev/null 2>&1; }
kubelab_up() {
    manifest "$1" >"$WORK/$1.yaml"
    kpod apply -f "$WORK/$1.yaml" >/dev/null && wait_for running "$1"
}
kubelab_down() { kpod delete "$1" --grace-period 0 >/dev/null && wait_for gone "$1"; }

# --- podman ---------------------------------------------------------------------------
podman_why=
if ! command -v podman >/dev/null; then
    podman_why="podman is not installed (apt-get install podman)"
else
    if ! command -v runc >/dev/null; then
        echo "installing runc (for podman)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null 2>&1 || true
    fi
    export CONTAINERS_CONF=$WORK/containers.conf
    cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
    mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/proc" "$WORK/rootfs/dev" "$WORK/rootfs/sys" "$WORK/rootfs/etc"
    cp /bin/busybox "$WORK/rootfs/bin/busybox"
    for applet in sh sleep true; do ln -s busybox "$WORK/rootfs/bin/$applet"; done
    tar -C "$WORK/rootfs" -cf "$WORK/busybox.tar" .
    if ! command -v runc >/dev/null; then
        podman_why="runc is missing and could not be installed (Debian 12's crun refuses hybrid cgroups)"
    elif ! { podman_used=1; podman import "$WORK/busybox.tar" "$IMAGE" >/dev/null 2>"$WORK/podman.err"; }; then
        podman_why="podman import failed: $(head -c 200 "$WORK/podman.err" | tr '\n' ' ')"
    else
        podman_ok=1
    fi
fi
podman_up() {
    timeout 30 podman pod create --name "$PREFIX-$1" --network none --infra-image "$IMAGE" \
        --infra-command '/bin/sleep 2147483647' >/dev/null &&
        timeout 30 podman run -d --pod "$PREFIX-$1" --name "$PREFIX-$1-a" "$IMAGE" /bin/sleep 2147483647 >/dev/null &&
        timeout 30 podman run -d --pod "$PREFIX-$1" --name "$PREFIX-$1-b" "$IMAGE" /bin/sleep 2147483647 >/dev/null
}
podman_down() { timeout 60 podman pod rm -f -t 0 "$PREFIX-$1" >/dev/null; }
if [ "$podman_ok" = 1 ] && ! { podman_up probe 2>"$WORK/podman.err" && podman_down probe; }; then
    podman_ok=0
    podman_why="a podman Pod did not start: $(head -c 300 "$WORK/podman.err" | tr '\n' ' ')"
    podman_down probe 2>/dev/null || true
fi
if [ "$podman_ok" = 0 ]; then
    printf '\n!!! podman NOT measured: %s\n\n' "$podman_why" >&2
fi

# --- apply to Running ---------------------------------------------------------------------
# measure UP DOWN: RUNS timed UPs (after 2 warm-up rounds), each followed by
# an untimed DOWN; prints "median p95" in ms, or "fail <reason>".
measure() {
    local up=$1 down=$2 i t0 t1 times=$WORK/times.$1
    : >"$times"
    for ((i = 0; i < RUNS + 2; i++)); do
        t0=$EPOCHREALTIME
        "$up" "w$i" >/dev/null 2>"$WORK/err" || { echo "fail run $i: $(head -c 160 "$WORK/err" | tr '\n' ' ')"; return; }
        t1=$EPOCHREALTIME
        [ "$i" -lt 2 ] || echo "$(( (${t1/./} - ${t0/./}) ))" >>"$times"
        "$down" "w$i" >/dev/null 2>"$WORK/err" || { echo "fail removing run $i: $(head -c 160 "$WORK/err" | tr '\n' ' ')"; return; }
    done
    sort -n "$times" | awk '{v[NR]=$1} END {
        m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
        p = v[int(NR*0.95 + 0.999999)]
        printf "%.1f %.1f\n", m/1000, p/1000 }'
}
row() { printf '%-58s %10s %10s\n' "$@"; }
echo "a Pod of two busybox containers, apply to Running, $RUNS runs each (ms, wall clock incl. the CLIs)"
row "runtime" "median" "p95"
row "-------" "------" "---"
read -r km kp <<<"$(measure kubelab_up kubelab_down)"
if [ "$km" = fail ]; then row "kubelab pod apply → get 2/2 Running" "FAILED" ""; echo "    $kp" >&2; km=; else
    row "kubelab pod apply → get 2/2 Running" "$km" "$kp"; fi
pm=
if [ "$podman_ok" = 1 ]; then
    read -r pm pp <<<"$(measure podman_up podman_down)"
    if [ "$pm" = fail ]; then row "podman pod create + 2× run -d --pod (runc)" "FAILED" ""; echo "    $pp" >&2; pm=; else
        row "podman pod create + 2× run -d --pod (runc)" "$pm" "$pp"; fi
else
    row "podman pod create + 2× run -d --pod" "n/a" "(skipped)"
fi
if [ -n "$km" ] && [ -n "$pm" ]; then
    awk -v k="$km" -v p="$pm" 'BEGIN { printf "ratio, kubelab median / podman median: %.2fx (%s)\n", k / p, (k < p ? "kubelab faster" : "kubelab NOT faster") }'
fi

# --- idle memory per Pod -------------------------------------------------------------------
# mem PID: "PSS RSS" in kB of one process (0 0 when it is gone).
mem() { awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 } END { print p + 0, r + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "0 0"; }
children() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }
declare -A pss=() rss=()
# add LABEL PID: adds PID's memory under LABEL.
add() {
    local p r
    read -r p r <<<"$(mem "$2")"
    pss[$1]=$((${pss[$1]:-0} + p))
    rss[$1]=$((${rss[$1]:-0} + r))
}
# report TITLE LABEL...: one line per label, per Pod (÷ IDLE), and the total
# without the payload; sets $total_pss.
report() {
    local title=$1 l
    shift
    total_pss=0
    local total_rss=0
    echo "$title"
    for l in "$@"; do
        printf '    %-40s %8d %8d\n' "$l" $((${pss[$l]:-0} / IDLE)) $((${rss[$l]:-0} / IDLE))
        [ "$l" = "payload: 2 sleep (not counted)" ] && continue
        total_pss=$((total_pss + ${pss[$l]:-0} / IDLE))
        total_rss=$((total_rss + ${rss[$l]:-0} / IDLE))
    done
    printf '    %-40s %8d %8d\n' "per Pod, payload excluded" "$total_pss" "$total_rss"
}
echo
echo "idle memory per Pod of two containers, mean of $IDLE Pods (kB: PSS, RSS)"
read -r node_before _ <<<"$(mem "$node_pid")"
for ((i = 0; i < IDLE; i++)); do kubelab_up "idle$i" || { echo "kubelab Pod idle$i did not run" >&2; exit 3; }; done
sleep 2 # let the Pods settle (the first ps-visible state is not the idle one)
read -r node_after _ <<<"$(mem "$node_pid")"
for sup in $(children "$node_pid"); do
    kids=$(children "$sup")
    comms=$(for k in $kids; do cat /proc/"$k"/comm 2>/dev/null; done)
    if [ "$comms" = kubelab-pause ]; then
        add "infra: supervisor" "$sup"
        for k in $kids; do add "infra: kubelab-pause" "$k"; done
    else
        add "containers: 2 supervisors" "$sup"
        for k in $kids; do add "payload: 2 sleep (not counted)" "$k"; done
    fi
done
pss["node agent: its growth"]=$((node_after > node_before ? node_after - node_before : 0))
rss["node agent: its growth"]=0
report "kubelab node" "infra: supervisor" "infra: kubelab-pause" "containers: 2 supervisors" \
    "node agent: its growth" "payload: 2 sleep (not counted)"
kubelab_pss=$total_pss
for ((i = 0; i < IDLE; i++)); do kubelab_down "idle$i"; done
if [ "$podman_ok" = 1 ]; then
    pss=() rss=()
    for ((i = 0; i < IDLE; i++)); do podman_up "idle$i" || { echo "podman Pod idle$i did not run" >&2; exit 3; }; done
    sleep 2
    for ((i = 0; i < IDLE; i++)); do
        for c in $(podman ps -q --filter "pod=$PREFIX-idle$i"); do
            read -r conmon pid1 infra <<<"$(podman inspect --format '{{.State.ConmonPid}} {{.State.Pid}} {{.IsInfra}}' "$c")"
            if [ "$infra" = true ]; then
                add "infra: conmon" "$conmon"
                add "infra: sleep (its pause)" "$pid1"
            else
                add "containers: 2 conmon" "$conmon"
                add "payload: 2 sleep (not counted)" "$pid1"
            fi
        done
    done
    report "podman (no daemon)" "infra: conmon" "infra: sleep (its pause)" "containers: 2 conmon" \
        "payload: 2 sleep (not counted)"
    awk -v k="$kubelab_pss" -v p="$total_pss" 'BEGIN { printf "ratio, kubelab PSS / podman PSS per idle Pod: %.2fx\n", k / p }'
    for ((i = 0; i < IDLE; i++)); do podman_down "idle$i"; done
fi
awk -v k="$kubelab_pss" 'BEGIN { printf "kubelab per idle container (Pod / 3: infra + 2): %d kB, target < 1024: %s\n", k / 3, (k / 3 < 1024 ? "met" : "NOT met") }'
[ "$podman_ok" = 1 ] || echo "podman NOT measured: $podman_why"
