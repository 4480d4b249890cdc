#!/bin/busybox sh
# PID 1 of the cgroup v2 test VM (packed as /init by run.sh, with busybox,
# Debian's dash/coreutils/util-linux/procps/iproute2 from the build host,
# kernel modules, the static kubelab-sandbox and kubelab-node test binaries
# and Debian's CNI plugins).
#
# Stage 1 moves everything from the initramfs (rootfs) onto a tmpfs and
# switch_roots into it: pivot_root(2) refuses to leave rootfs, and the
# sandbox under test pivot_roots. Stage 2 sets up a systemd-like cgroup v2
# host and runs every sandbox test binary as root, then as an unprivileged
# user with a delegated cgroup subtree, then the node's tests as root, and
# prints lines run.sh parses:
#   KUBELAB-VM-BEGIN <role> <name> [plain]  before a test binary's output
#                                           (role: root, user or node)
#   KUBELAB-VM-END <role> <name> rc=<n>     after it
#   KUBELAB-VM-RESULT ok=<0|1> ...          once, at the end
# then powers off.

BB=/bin/busybox
TEST_UID=1000

if [ "$1" != stage2 ]; then
    $BB mkdir -p /proc /newroot
    $BB mount -t proc proc /proc
    $BB mount -t tmpfs -o mode=0755 root /newroot
    # busybox (in /usr) moves first, then runs from its new place.
    $BB mv /usr /newroot/ || echo "KUBELAB-VM-ERROR stage1 mv /usr"
    BB=/newroot/usr/bin/busybox
    for entry in /*; do
        # switch_root insists on finding /init in the old root.
        case "$entry" in /proc | /newroot | /init) continue ;; esac
        $BB mv "$entry" /newroot/ || echo "KUBELAB-VM-ERROR stage1 mv $entry"
    done
    $BB cp /init /newroot/init
    $BB umount /proc
    exec $BB switch_root /newroot /init stage2
    echo "KUBELAB-VM-RESULT ok=0 error=switch_root-failed"
    $BB poweroff -f
fi

# init itself uses busybox applets only (/.bb first in PATH); /bin gets
# busybox links only where Debian's real tool was not packed.
$BB mkdir -p /.bb
$BB --install -s /.bb
$BB --install -s /bin 2>/dev/null
export PATH=/.bb:/usr/sbin:/usr/bin:/sbin:/bin
TEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run /root /home/tester /etc
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# / is already a tmpfs: /tmp and /run stay plain directories so nothing
# shadows the test binaries, which sit at their build path (maybe /tmp/...).
chmod 1777 /tmp
mount --make-rshared /
# Keep kernel chatter (OOM kills are expected in the tests) off the console
# run.sh parses.
echo 1 > /proc/sys/kernel/printk
[ -e /proc/sys/kernel/unprivileged_userns_clone ] && echo 1 > /proc/sys/kernel/unprivileged_userns_clone
hostname kubelab-vm
ip link set lo up

fail_setup() {
    echo "KUBELAB-VM-RESULT ok=0 error=$1"
    poweroff -f
}

# No fallback tunnel devices (tunl0, sit0, gre0) in any namespace once
# ipip (the world facts' probe) is loaded: tests expect a new network
# namespace to hold lo alone. (A Debian host keeps the default, 0: there
# every new namespace gets tunl0 once the module is loaded.)
echo 2 > /proc/sys/net/core/fb_tunnels_only_for_init_net
# Modules in dependency order, listed by run.sh.
while read -r mod; do
    [ -n "$mod" ] || continue
    case $mod in
    # No dummy0 in the VM's own namespace: the tests' leak check counts links.
    */dummy.ko) insmod "$mod" numdummies=0 || echo "KUBELAB-VM-WARN insmod $mod failed" ;;
    *) insmod "$mod" || echo "KUBELAB-VM-WARN insmod $mod failed" ;;
    esac
done < /etc/kubelab-vm/modules
# As Debian's udev rule does (50-udev-default.rules: tun MODE="0666"); the
# kernel makes the node 0600.
[ -e /dev/net/tun ] && chmod 0666 /dev/net/tun

mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail_setup mount-cgroup2
CONTROLLERS="+cpu +memory +pids"
echo "$CONTROLLERS" > /sys/fs/cgroup/cgroup.subtree_control || fail_setup enable-controllers

# A delegated subtree like systemd's user@1000.service (Delegate=yes): the
# service cgroup's delegation files belong to the user, everything below it
# is the user's; the test runs in a leaf scope, so its parent is writable.
USER_SVC=/sys/fs/cgroup/user.slice/user-$TEST_UID.slice/user@$TEST_UID.service
mkdir -p "$USER_SVC/app.slice/kubelab-tests.scope" || fail_setup mkdir-delegated
for cg in /sys/fs/cgroup/user.slice /sys/fs/cgroup/user.slice/user-$TEST_UID.slice "$USER_SVC" "$USER_SVC/app.slice"; do
    echo "$CONTROLLERS" > "$cg/cgroup.subtree_control" || fail_setup "enable-controllers-$cg"
done
chown $TEST_UID:$TEST_UID "$USER_SVC" "$USER_SVC/cgroup.procs" "$USER_SVC/cgroup.subtree_control" "$USER_SVC/cgroup.threads"
chown -R $TEST_UID:$TEST_UID "$USER_SVC/app.slice"
mkdir -p /run/user/$TEST_UID
chown $TEST_UID:$TEST_UID /run/user/$TEST_UID /home/tester
chmod 0700 /run/user/$TEST_UID

JOBS=$(cat /etc/kubelab-vm/test-threads 2>/dev/null || echo 2)
FILTER=$(cat /etc/kubelab-vm/filter 2>/dev/null)
ok=1
runs=0

# The two ways a test binary runs; the env is all a test should rely on.
as_root() {
    env PATH=$TEST_PATH HOME=/root USER=root LOGNAME=root XDG_RUNTIME_DIR=/run/user/0 KUBELAB_VM=root "$@"
}
# Enters the user's delegated leaf cgroup, then drops to the test user (busybox
# su execs without forking, so the cgroup is kept). Arguments have no spaces.
as_user() {
    echo $$ >"$USER_SVC/app.slice/kubelab-tests.scope/cgroup.procs" || return 99
    su -s /bin/sh -c "exec env PATH=$TEST_PATH HOME=/home/tester USER=tester LOGNAME=tester XDG_RUNTIME_DIR=/run/user/$TEST_UID KUBELAB_VM=user $*" tester
}

# run_bins ROLE RUNNER: runs every test binary through RUNNER.
run_bins() {
    role=$1
    for bin in $(cat /etc/kubelab-vm/tests); do
        name=${bin##*/}
        echo "KUBELAB-VM-BEGIN $role $name"
        # shellcheck disable=SC2086
        (cd /tmp && "$2" "$bin" --test-threads="$JOBS" --show-output $FILTER) </dev/null 2>&1
        rc=$?
        echo "KUBELAB-VM-END $role $name rc=$rc"
        [ $rc -eq 0 ] || ok=0
        runs=$((runs + 1))
    done
}

# run_node_tests: the node crate's tests, as root (their rootless cases drop
# to uid 65534 themselves). A `plain` binary (harness = false) takes no
# libtest arguments; with a filter set it runs only if its name matches.
run_node_tests() {
    while read -r kind bin; do
        [ -n "$bin" ] || continue
        name=${bin##*/}
        echo "KUBELAB-VM-BEGIN node $name $kind"
        if [ "$kind" = plain ]; then
            if [ -n "$FILTER" ] && [ "${name#*"$FILTER"}" = "$name" ]; then
                echo "SKIP: ${name%-*}: KUBELAB_VM_FILTER=$FILTER does not name it"
                rc=0
            else
                (cd /tmp && as_root "$bin") </dev/null 2>&1
                rc=$?
            fi
        else
            # shellcheck disable=SC2086
            (cd /tmp && as_root "$bin" --test-threads="$JOBS" --show-output $FILTER) </dev/null 2>&1
            rc=$?
        fi
        echo "KUBELAB-VM-END node $name rc=$rc"
        [ $rc -eq 0 ] || ok=0
        runs=$((runs + 1))
    done </etc/kubelab-vm/node-tests
}

mkdir -p /run/user/0
chmod 0700 /run/user/0
MOUNTS_BEFORE=$(wc -l < /proc/self/mountinfo)
echo "KUBELAB-VM-READY kernel=$(uname -r) controllers=$(cat /sys/fs/cgroup/cgroup.controllers | tr ' ' ',')"
run_bins root as_root
run_bins user as_user
# After the user's run: as_user moved this shell into the user's scope.
echo $$ >/sys/fs/cgroup/cgroup.procs
run_node_tests

# Anything a test leaked: processes (kernel threads have no exe), cgroups
# beyond the ones made above, mounts in this namespace, network links.
leaked_procs=
for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = 1 ] || [ "$pid" = $$ ] || [ ! -e "$p/exe" ] || leaked_procs="$leaked_procs$pid,"
done
leaked_cgroups=$(find /sys/fs/cgroup -mindepth 1 -type d | grep -v -x -e /sys/fs/cgroup/user.slice -e /sys/fs/cgroup/user.slice/user-$TEST_UID.slice -e "$USER_SVC" -e "$USER_SVC/app.slice" -e "$USER_SVC/app.slice/kubelab-tests.scope" | tr '\n' ',')
mounts_after=$(wc -l < /proc/self/mountinfo)
[ "$mounts_after" = "$MOUNTS_BEFORE" ] || leaked_mounts="$MOUNTS_BEFORE->$mounts_after"
leaked_links=$(ip -o link | awk -F': ' '$2 != "lo" {print $2}' | tr '\n' ',')
echo "KUBELAB-VM-LEAKS procs=${leaked_procs:-none} cgroups=${leaked_cgroups:-none} mounts=${leaked_mounts:-none} links=${leaked_links:-none}"
echo "KUBELAB-VM-RESULT ok=$ok runs=$runs"
sync
poweroff -f
