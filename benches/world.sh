#!/usr/bin/env bash
# Lab world benchmark (issue 19, "Proof"): a world of 3 bare nodes on one
# underlay, from nothing to every node wired, and its teardown — kubelab's
# `world up`/`world down` beside the same topology built by a shell script
# of `ip netns`/`ip link` commands as root (the floor), median of $RUNS
# runs each, and the ratio. Goal: within 1.5x of the floor. (Nodes with
# Pods — the issue's 3 nodes x 2 Pods — are not built by worlds yet.)
# Needs root (the floor's `ip netns add`). Usage:
#   benches/world.sh [RUNS]      (env: KUBELAB=path to a built kubelab)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${1:-${RUNS:-30}}
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
    for n in underlay node1 node2 node3; do ip netns del "$PREFIX-$n" 2>/dev/null || true; done
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
