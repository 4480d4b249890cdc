#!/bin/sh
# The systemd guest's test runner (kubelab-vm-tests.service, see systemd.sh),
# as root. Starts a real user manager for the test user (logind, through
# lingering), then runs the test binaries as that user from this service's
# cgroup (root's, not delegated), and prints the lines run.sh parses:
#   KUBELAB-VM-SYSTEMD-BOOTED / -READY, KUBELAB-VM-BEGIN/END systemd <name>,
#   KUBELAB-VM-LEAKS, KUBELAB-VM-RESULT; then powers off.
TEST_UID=1000
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "KUBELAB-VM-SYSTEMD-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)s $(systemctl --version | head -n1)"
# Keep kernel chatter (OOM kills are expected) off the console run.sh parses.
echo 1 >/proc/sys/kernel/printk

finish() {
    echo "KUBELAB-VM-RESULT $1 uptime=$(cut -d' ' -f1 /proc/uptime)s"
    sync
    systemctl poweroff --force --force
    exit 0
}

# As the busybox guest (init.sh): no fallback tunnels (tunl0) once ipip is
# loaded, and no dummy0: the leftover check counts links.
echo 2 > /proc/sys/net/core/fb_tunnels_only_for_init_net
while read -r mod; do
    [ -n "$mod" ] || continue
    case $mod in
    */dummy.ko) insmod "$mod" numdummies=0 || echo "KUBELAB-VM-WARN insmod $mod failed" ;;
    *) insmod "$mod" || echo "KUBELAB-VM-WARN insmod $mod failed" ;;
    esac
done </etc/kubelab-vm/modules

# A real user@1000.service with its user bus, as a login would start it.
loginctl enable-linger tester || finish "ok=0 error=enable-linger"
i=0
until [ -S /run/user/$TEST_UID/bus ] && systemctl -q is-active user@$TEST_UID.service; do
    i=$((i + 1))
    [ $i -le 600 ] || finish "ok=0 error=user-manager-did-not-start"
    sleep 0.1
done
USER_SVC=/sys/fs/cgroup/user.slice/user-$TEST_UID.slice/user@$TEST_UID.service
MOUNTS_BEFORE=$(wc -l </proc/self/mountinfo)
echo "KUBELAB-VM-READY uptime=$(cut -d' ' -f1 /proc/uptime)s user-manager-controllers=$(tr ' ' ',' <"$USER_SVC/cgroup.controllers") tests-cgroup=$(cut -d: -f3 /proc/self/cgroup)"

JOBS=$(cat /etc/kubelab-vm/test-threads 2>/dev/null || echo 2)
FILTER=$(cat /etc/kubelab-vm/filter 2>/dev/null)
ok=1
runs=0
for bin in $(cat /etc/kubelab-vm/tests); do
    name=${bin##*/}
    echo "KUBELAB-VM-BEGIN systemd $name"
    # shellcheck disable=SC2086
    (cd /tmp && setpriv --reuid=$TEST_UID --regid=$TEST_UID --init-groups \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/tester USER=tester LOGNAME=tester \
        XDG_RUNTIME_DIR=/run/user/$TEST_UID DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$TEST_UID/bus \
        KUBELAB_VM=systemd "$bin" --test-threads="$JOBS" --show-output $FILTER) </dev/null 2>&1
    rc=$?
    echo "KUBELAB-VM-END systemd $name rc=$rc"
    [ $rc -eq 0 ] || ok=0
    runs=$((runs + 1))
done

# Leftovers: systemd stops each test process's scope once it is empty;
# no kubelab-<pid>-<n>.scope or kubelab/ cgroup may remain, no process in one.
kubelab_cgroups() {
    find /sys/fs/cgroup -type d \( -name kubelab -o -name 'kubelab-[0-9]*.scope' \) 2>/dev/null
}
i=0
while [ -n "$(kubelab_cgroups)" ] && [ $i -lt 100 ]; do
    i=$((i + 1))
    sleep 0.1
done
leaked_cgroups=$(kubelab_cgroups | tr '\n' ',')
leaked_procs=$(for p in /proc/[0-9]*; do
    grep -qE '/kubelab(/|-[0-9]+-[0-9]+\.scope)' "$p/cgroup" 2>/dev/null && printf '%s,' "${p#/proc/}"
done)
mounts_after=$(wc -l </proc/self/mountinfo)
[ "$mounts_after" = "$MOUNTS_BEFORE" ] || leaked_mounts="$MOUNTS_BEFORE->$mounts_after"
leaked_links=$(ip -o link | awk -F': ' '$2 != "lo" {print $2}' | tr '\n' ',')
echo "KUBELAB-VM-LEAKS procs=${leaked_procs:-none} cgroups=${leaked_cgroups:-none} mounts=${leaked_mounts:-none} links=${leaked_links:-none}"
finish "ok=$ok runs=$runs"
