# shellcheck shell=bash
# The systemd guest of the cgroup v2 VM suite, sourced by run.sh after the
# busybox-init guest (it uses run.sh's kernel, modules, test binaries, boot()
# and log/die). It boots systemd from a Debian rootfs built with mmdebstrap
# from Debian packages (cached under $CACHE/systemd-rootfs, keyed on the
# suite and package list), lets systemd-logind start a real
# user@1000.service (loginctl enable-linger), and runs the limit tests as
# that user from a system service: a cgroup that is not delegated, like a
# desktop terminal's session-N.scope. The tests must get their limits
# through a transient delegated scope from the user's systemd manager
# (sandbox/src/cgroup/systemd_scope.rs), with no manual delegation.
#
# Knobs: KUBELAB_VM_SYSTEMD=0 skips this guest;
#   KUBELAB_VM_SYSTEMD_TESTS  test binaries (name prefixes) run as the user (default: limits)
#   KUBELAB_VM_SUITE          Debian suite of the rootfs (default: this host's)

# Debian packages of the guest: systemd as init, the user bus
# (dbus-user-session: /run/user/UID/bus for each user manager), logind's
# PAM module (user@.service), insmod (kmod), and the tools the tests and
# their sandboxes use.
SD_PKGS="systemd systemd-sysv dbus dbus-user-session libpam-systemd kmod util-linux procps iproute2"
SD_TESTS=${KUBELAB_VM_SYSTEMD_TESTS:-limits}
SD_SUITE=${KUBELAB_VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}

# --- rootfs (cached) --------------------------------------------------------------
t_phase=$SECONDS
sd_key=$(printf '%s\n' "$SD_SUITE" $SD_PKGS "minbase nodoc v1" | sha256sum | cut -c1-16)
sd_tar=$CACHE/systemd-rootfs/$SD_SUITE-$sd_key.tar
if [ ! -f "$sd_tar" ]; then
    if ! command -v mmdebstrap >/dev/null; then
        [ "$(id -u)" = 0 ] || die "missing mmdebstrap: install it (apt-get install -y mmdebstrap)"
        log "installing mmdebstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
    fi
    log "building the systemd guest's Debian $SD_SUITE rootfs (mmdebstrap: $SD_PKGS)"
    rm -rf "$CACHE/systemd-rootfs" && mkdir -p "$CACHE/systemd-rootfs"
    mmdebstrap --quiet --format=tar --variant=minbase --include="${SD_PKGS// /,}" \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        "$SD_SUITE" "$sd_tar.part" || die "mmdebstrap failed (is the Debian mirror reachable?)"
    mv "$sd_tar.part" "$sd_tar"
    log "rootfs built in $((SECONDS - t_phase))s: $(du -h "$sd_tar" | cut -f1)"
else
    log "rootfs cached: $sd_tar"
fi

# --- initramfs: the rootfs, the tests, a busybox stage 1 ------------------------------
t_phase=$SECONDS
sd=$CACHE/systemd-stage
rm -rf "$sd" && mkdir -p "$sd"
tar -xf "$sd_tar" -C "$sd" --numeric-owner
cp "$HERE/systemd-init.sh" "$sd/init" && chmod 0755 "$sd/init"
mkdir -p "$sd/kubelab-stage1" && cp /bin/busybox "$sd/kubelab-stage1/busybox"
mkdir -p "$sd/etc/kubelab-vm" "$sd/home/tester" "$sd/usr/lib/modules"
echo 'tester:x:1000:1000:kubelab test user:/home/tester:/bin/sh' >>"$sd/etc/passwd"
echo 'tester:x:1000:' >>"$sd/etc/group"
echo 'tester:*:19000:0:99999:7:::' >>"$sd/etc/shadow"
chown 1000:1000 "$sd/home/tester"
echo kubelab-vm >"$sd/etc/hostname"
# The test binaries sit at their host paths, which may be under /tmp (CI
# clones anywhere): keep systemd-tmpfiles from emptying /tmp at boot (Debian's
# tmp.conf has `D /tmp`).
mkdir -p "$sd/etc/tmpfiles.d" && ln -sf /dev/null "$sd/etc/tmpfiles.d/tmp.conf"
# A machine id, so this is no "first boot" (systemd-firstboot would prompt).
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$sd/etc/machine-id" && echo >>"$sd/etc/machine-id"
# Nothing that waits on a console or a network, nothing periodic.
for u in serial-getty@ttyS0.service getty@tty1.service systemd-firstboot.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "$sd/etc/systemd/system/$u"
done
cp "$HERE/systemd-guest.sh" "$sd/etc/kubelab-vm/guest.sh" && chmod 0755 "$sd/etc/kubelab-vm/guest.sh"
cat >"$sd/etc/systemd/system/kubelab-vm-tests.service" <<'UNIT'
[Unit]
Description=kubelab VM tests (limit tests as a logged-in user)
After=systemd-logind.service systemd-user-sessions.service dbus.service
Wants=systemd-logind.service

[Service]
Type=simple
ExecStart=/etc/kubelab-vm/guest.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$sd/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/kubelab-vm-tests.service "$sd/etc/systemd/system/multi-user.target.wants/"
# Kernel modules (the same as the busybox guest's, in dependency order).
cp "$stage"/lib/modules/*.ko "$sd/usr/lib/modules/"
cp "$stage/etc/kubelab-vm/modules" "$sd/etc/kubelab-vm/modules"
# The test binaries it runs, and the crate's helper binaries, at their paths.
: >"$sd/etc/kubelab-vm/tests"
for exe in $tests; do
    for want in $SD_TESTS; do
        case "${exe##*/}" in "$want"-*) echo "$exe" >>"$sd/etc/kubelab-vm/tests" ;; esac
    done
done
[ -s "$sd/etc/kubelab-vm/tests" ] || die "no test binary matches KUBELAB_VM_SYSTEMD_TESTS=$SD_TESTS"
for exe in $(cat "$sd/etc/kubelab-vm/tests") $bins; do
    mkdir -p "$sd$(dirname "$exe")" && cp "$stage$exe" "$sd$exe"
done
echo "$THREADS" >"$sd/etc/kubelab-vm/test-threads"
printf '%s\n' "${KUBELAB_VM_FILTER:-}" >"$sd/etc/kubelab-vm/filter"
initrd=$CACHE/systemd-initramfs.cpio
(cd "$sd" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$initrd"
rm -rf "$sd"
log "systemd initramfs $(du -h "$initrd" | cut -f1) in $((SECONDS - t_phase))s"

# --- boot ---------------------------------------------------------------------------
serial=$CACHE/serial-systemd.log
MEM=2048
APPEND="console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init systemd.show_status=0 systemd.unified_cgroup_hierarchy=1"
t_phase=$SECONDS
boot "$accel"
systemd_elapsed=$((SECONDS - t_phase))
systemd_serial=$serial
systemd_rc=$qemu_rc
# Phases, by the guest's clock: systemd up, user manager up, tests done.
up() { grep -m1 "^$1 " "$serial" | grep -o 'uptime=[0-9.]*s' | cut -d= -f2; }
log "systemd guest: ${systemd_elapsed}s in all ($accel); guest clock: systemd up at $(up KUBELAB-VM-SYSTEMD-BOOTED), user manager at $(up KUBELAB-VM-READY), tests and leak check done at $(up KUBELAB-VM-RESULT)"
