#!/usr/bin/env bash
# Lab world benchmark (issue 19, "Proof"): a world of 3 bare nodes on one
# underlay, from nothing to every node wired, and its teardown — kubelab's
# `world up`/`world down` beside the same topology built by a shell script
# of `ip netns`/`ip link` commands as root (the floor), median of $RUNS
# runs each, and the ratio. Goal: within 1.5x of the floor.
# Then the issue's 3 nodes x 2 Pods: a world with `pods = true`, from
# nothing to all 6 Pods Running (busybox `sleep`; one `kubectl apply` per
# node, all at once, then polling the three agents), and its teardown, beside
# the floor's same topology plus, per node, a bridge `cni0` and per "Pod" a
# network namespace on a veth to it with one `unshare`d process in it.
# Needs root (the floor's `ip netns add`). Usage:
#   benches/world.sh [RUNS] [POD_RUNS]  (env: KUBELAB=path to a built kubelab)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-${RUNS:-30}}
POD_RUNS=${2:-${POD_RUNS:-10}}
[ "$(id -u)" = 0 ] || { echo "benches/world.sh: run as root (the floor uses ip netns)" >&2; exit 2; }
# `ip netns add` bind-mounts /run/netns onto itself and leaves it so: run
# in a mount namespace of our own, and remove the directory if we made it.
if [ -z "${KUBELAB_WORLD_BENCH_NS:-}" ]; then
    export KUBELAB_WORLD_BENCH_NS=1
    exec unshare --mount --propagation private "$0" "$@"
fi
[ -e /run/netns ] && HAD_NETNS_DIR=1 || HAD_NETNS_DIR=
WORK=$(mktemp -d /tmp/kubelab-world-bench.XXXXXX)
PREFIX=klb$$
cleanup() {
    [ -n "${KUBELAB:-}" ] && KUBELAB_WORLD_DIR=$WORK/rt "$KUBELAB" world down >/dev/null 2>&1 || true
    [ -n "${FLOOR_PIDS:-}" ] && kill -9 $FLOOR_PIDS 2>/dev/null || true
    for n in underlay node1 node2 node3; do
        for m in 1 2; do
            ip netns pids "$PREFIX-$n-p$m" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
            ip netns del "$PREFIX-$n-p$m" 2>/dev/null || true
        done
        ip netns del "$PREFIX-$n" 2>/dev/null || true
    done
    rm -rf "$WORK"
    [ -n "$HAD_NETNS_DIR" ] || { umount /run/netns 2>/dev/null; rmdir /run/netns 2>/dev/null; } || true
}
trap cleanup EXIT

KUBELAB=${KUBELAB:-}
if [ -z "$KUBELAB" ]; then
    cargo build --release --locked --quiet --bins
    KUBELAB=target/release/kubelab
fi
export KUBELAB_WORLD_DIR=$WORK/rt
cat >"$WORK/three.toml" <<'TOML'
underlay = "192.168.50.0/24"
[[nodes]]
name = "node1"
[[nodes]]
name = "node2"
[[nodes]]
name = "node3"
TOML

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

floor_up() {
    ip netns add "$PREFIX-underlay"
    ip -n "$PREFIX-underlay" link set lo up
    ip -n "$PREFIX-underlay" link add br0 type bridge
    ip -n "$PREFIX-underlay" addr add 192.168.50.1/24 dev br0
    ip -n "$PREFIX-underlay" link set br0 up
    local i=1
    for n in node1 node2 node3; do
        ip netns add "$PREFIX-$n"
        ip -n "$PREFIX-$n" link set lo up
        ip -n "$PREFIX-underlay" link add "veth-$n" type veth peer name eth0 netns "$PREFIX-$n"
        ip -n "$PREFIX-underlay" link set "veth-$n" master br0 up
        ip -n "$PREFIX-$n" addr add "192.168.50.$((10 + i))/24" dev eth0
        ip -n "$PREFIX-$n" link set eth0 up
        ip -n "$PREFIX-$n" route add default via 192.168.50.1
        i=$((i + 1))
    done
}
floor_down() {
    for n in node1 node2 node3 underlay; do ip netns del "$PREFIX-$n"; done
}

: >"$WORK/k-up"; : >"$WORK/k-down"; : >"$WORK/f-up"; : >"$WORK/f-down"
for _ in $(seq "$RUNS"); do
    t0=$(now); "$KUBELAB" world up "$WORK/three.toml" >/dev/null; t1=$(now)
    "$KUBELAB" world exec node3 -- ip -4 -o addr show dev eth0 | grep -q 192.168.50.13/24
    t2=$(now); "$KUBELAB" world down >/dev/null; t3=$(now)
    echo $(((t1 - t0) / 1000)) >>"$WORK/k-up"; echo $(((t3 - t2) / 1000)) >>"$WORK/k-down"
    t0=$(now); floor_up; t1=$(now)
    ip -n "$PREFIX-node3" -4 -o addr show dev eth0 | grep -q 192.168.50.13/24
    t2=$(now); floor_down; t3=$(now)
    echo $(((t1 - t0) / 1000)) >>"$WORK/f-up"; echo $(((t3 - t2) / 1000)) >>"$WORK/f-down"
done
ku=$(median <"$WORK/k-up"); kd=$(median <"$WORK/k-down")
fu=$(median <"$WORK/f-up"); fd=$(median <"$WORK/f-down")
echo "lab world, 3 bare nodes, median of $RUNS runs ($KUBELAB)"
awk -v ku="$ku" -v kd="$kd" -v fu="$fu" -v fd="$fd" 'BEGIN {
    printf "%-36s %10s %10s\n", "", "up (ms)", "down (ms)"
    printf "%-36s %10.1f %10.1f\n", "kubelab world up / down", ku / 1000, kd / 1000
    printf "%-36s %10.1f %10.1f\n", "shell script of ip commands (root)", fu / 1000, fd / 1000
    printf "%-36s %10.2f %10.2f\n", "ratio (goal <= 1.5)", ku / fu, kd / fd
}'

# --- 3 nodes x 2 Pods -------------------------------------------------------
{ echo "pods = true"; cat "$WORK/three.toml"; } >"$WORK/pods.toml"
for n in 1 2 3; do
    mkdir -p "$WORK/m$n"
    for m in 1 2; do
        cat >"$WORK/m$n/p$m.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: p$m
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
YAML
    done
done
# Every node's 2 Pods Running (asks the three agents at once).
node_running() {
    [ "$("$KUBELAB" world exec "node$1" -- kubectl get pods 2>/dev/null | grep -c ' Running ')" = 2 ]
}
all_running() {
    node_running 1 & local a=$!
    node_running 2 & local b=$!
    node_running 3 & local c=$!
    wait $a && wait $b && wait $c
}
floor_pods_up() {
    floor_up
    FLOOR_PIDS=
    for n in 1 2 3; do
        local node="$PREFIX-node$n"
        ip -n "$node" link add cni0 type bridge
        ip -n "$node" addr add "10.244.$n.1/24" dev cni0
        ip -n "$node" link set cni0 up
        for m in 1 2; do
            local pod="$node-p$m"
            ip netns add "$pod"
            ip -n "$pod" link set lo up
            ip -n "$node" link add "veth$m" type veth peer name eth0 netns "$pod"
            ip -n "$node" link set "veth$m" master cni0 up
            ip -n "$pod" addr add "10.244.$n.$((m + 1))/24" dev eth0
            ip -n "$pod" link set eth0 up
            ip -n "$pod" route add default via "10.244.$n.1"
            ip netns exec "$pod" unshare --pid --fork --kill-child --mount-proc sleep 3600 &
            FLOOR_PIDS="$FLOOR_PIDS $!"
        done
    done
}
floor_pods_down() {
    # Every process in a "Pod"'s namespace, and the unshare of each (it
    # ignores SIGTERM while it waits; --kill-child covers a fork the netns
    # listing missed).
    for n in 1 2 3; do
        for m in 1 2; do ip netns pids "$PREFIX-node$n-p$m" | xargs -r kill -9; done
    done
    kill -9 $FLOOR_PIDS 2>/dev/null || true
    wait $FLOOR_PIDS 2>/dev/null || true
    FLOOR_PIDS=
    for n in 1 2 3; do
        for m in 1 2; do ip netns del "$PREFIX-node$n-p$m"; done
    done
    floor_down
}
: >"$WORK/kp-up"; : >"$WORK/kp-down"; : >"$WORK/fp-up"; : >"$WORK/fp-down"
for _ in $(seq "$POD_RUNS"); do
    t0=$(now)
    "$KUBELAB" world up "$WORK/pods.toml" >/dev/null
    # Three nodes, three agents: the Pods are applied to all at once.
    for n in 1 2 3; do "$KUBELAB" world exec "node$n" -- kubectl apply -f "$WORK/m$n" >/dev/null & done
    wait
    until all_running; do :; done
    t1=$(now)
    "$KUBELAB" world exec node2 -- kubectl exec p1 -- ip -4 -o addr show dev eth0 | grep -q '10\.244\.2\.'
    t2=$(now); "$KUBELAB" world down >/dev/null; t3=$(now)
    echo $(((t1 - t0) / 1000)) >>"$WORK/kp-up"; echo $(((t3 - t2) / 1000)) >>"$WORK/kp-down"
    t0=$(now); floor_pods_up; t1=$(now)
    ip -n "$PREFIX-node2-p1" -4 -o addr show dev eth0 | grep -q '10\.244\.2\.2/24'
    t2=$(now); floor_pods_down; t3=$(now)
    echo $(((t1 - t0) / 1000)) >>"$WORK/fp-up"; echo $(((t3 - t2) / 1000)) >>"$WORK/fp-down"
done
ku=$(median <"$WORK/kp-up"); kd=$(median <"$WORK/kp-down")
fu=$(median <"$WORK/fp-up"); fd=$(median <"$WORK/fp-down")
echo
echo "lab world, 3 nodes x 2 Pods (nothing to all Running), median of $POD_RUNS runs"
awk -v ku="$ku" -v kd="$kd" -v fu="$fu" -v fd="$fd" 'BEGIN {
    printf "%-36s %10s %10s\n", "", "up (ms)", "down (ms)"
    printf "%-36s %10.1f %10.1f\n", "kubelab world up + kubectl apply", ku / 1000, kd / 1000
    printf "%-36s %10.1f %10.1f\n", "shell script: netns, veth, unshare", fu / 1000, fd / 1000
    printf "%-36s %10.2f %10.2f\n", "ratio (goal <= 1.5)", ku / fu, kd / fd
}'
