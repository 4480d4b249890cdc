#!/usr/bin/env bash
# cgroup v2 suite: boots the current Debian 12 kernel under qemu with an
# initramfs holding busybox, this host's Debian userland (dash, coreutils,
# util-linux, procps, iproute2 ... with their libraries), the kernel modules
# the sandbox needs and the static kubelab-sandbox test binaries; runs the
# tests there as root and as an unprivileged user with a delegated cgroup
# subtree, then kubelab-node's real-kernel tests (Pods, CNI bridge; with
# Debian's CNI plugins) as root in the same boot (see init.sh); then boots a second guest running systemd from a
# Debian rootfs and runs the limit tests as a logged-in user with no manual
# delegation (see systemd.sh), and
# reports `vm suite: N passed, N failed`. Exit 0 only if every test passed,
# nothing leaked and the VM finished before the timeout.
#
# Environment knobs:
#   KUBELAB_VM_CACHE    work/cache dir            (default: <repo>/target/vm)
#   KUBELAB_VM_TIMEOUT  seconds for the VM run     (default: 1200)
#   KUBELAB_VM_ACCEL    kvm | tcg                  (default: kvm if usable)
#   KUBELAB_VM_FILTER   libtest name filter passed to every test binary
#                       (a harness = false node test runs if its name matches)
#   KUBELAB_VM_NODE_TESTS  kubelab-node test targets to run (default:
#                       pod_runtime pod_network cni_bridge services; empty: none)
#   KUBELAB_VM_THREADS  --test-threads inside the VM (default: 2)
#   KUBELAB_VM_MODULES  kernel modules to load     (default: overlay veth bridge vxlan,
#                       fuse (the device node/tests/pod_runtime.rs allocates),
#                       and what the world facts probe uses: dummy tun nf_tables ...)
#   KUBELAB_VM_KERNEL_PKG  Debian kernel package   (default: what linux-image-amd64 depends on)
#   KUBELAB_VM_HOST_PKGS   Debian packages whose executables go into the VM
#   KUBELAB_VM_READY_TIMEOUT  seconds to reach the test runner (default: 180)
#   KUBELAB_VM_SYSTEMD  0: skip the systemd guest (more knobs in systemd.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${KUBELAB_VM_CACHE:-$ROOT/target/vm}
TIMEOUT=${KUBELAB_VM_TIMEOUT:-1200}
THREADS=${KUBELAB_VM_THREADS:-2}
# The lab worlds' kernel facts (sandbox/tests/world.rs, docs/worlds.md) try
# these: loaded up front, as the VM has no modprobe for the kernel to
# load them on first use as a Debian host does. crc32c_generic: libcrc32c
# (nf_conntrack, nf_nat, nf_tables need it) asks the crypto API for crc32c
# when it loads, a dependency `depends=` does not list. xt_comment, xt_mark,
# xt_MASQUERADE, nft_masq: the kube-proxy chains a node writes for its
# Services (node/tests/services.rs).
WORLD_MODULES="dummy ipip macvlan tun crc32c_generic nf_tables nft_chain_nat nft_nat nft_masq nft_compat xt_statistic xt_nat xt_tcpudp xt_comment xt_mark xt_MASQUERADE ip_tables iptable_nat nf_conntrack_netlink ip_vs ip_vs_rr"
MODULES=${KUBELAB_VM_MODULES:-overlay veth bridge vxlan fuse $WORLD_MODULES}
TARGET=x86_64-unknown-linux-gnu

# A dynamically linked ELF names its program interpreter (ldd can't tell
# static-pie apart).
is_dynamic() { readelf -l "$1" 2>/dev/null | grep -q 'program interpreter'; }
log() { printf '[vm] %s\n' "$*" >&2; }
die() { printf '[vm] ERROR: %s\n' "$*" >&2; exit 1; }

# --- host tools -------------------------------------------------------------
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
{ [ -x /bin/busybox ] && ! is_dynamic /bin/busybox; } || need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${need_pkgs[*]}: install them (apt-get install -y ${need_pkgs[*]})"
    log "installing ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
if is_dynamic /bin/busybox; then die "/bin/busybox is dynamically linked: install busybox-static"; fi

# --- kernel -------------------------------------------------------------------
kpkg=${KUBELAB_VM_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}
[ -n "$kpkg" ] || die "apt-cache knows no linux-image-amd64 dependency: run apt-get update first"
kdir=$CACHE/kernel/$kpkg
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
    log "downloading $kpkg (extracted without running its maintainer scripts)"
    rm -rf "$kdir" && mkdir -p "$kdir/deb"
    # (As root, apt warns that _apt cannot write here: harmless, filtered.)
    (cd "$kdir/deb" && apt-get download -q "$kpkg" 2>&1) | { grep -v '^W: Download is performed unsandboxed' >&2 || true; }
    ls "$kdir"/deb/*.deb >/dev/null 2>&1 || die "apt-get download $kpkg failed"
    dpkg-deb -x "$kdir"/deb/*.deb "$kdir"
    rm -rf "$kdir/deb"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$kdir/lib/modules/$kver
log "kernel $kver"

# --- static test binaries -------------------------------------------------------
log "building kubelab-sandbox tests (static, $TARGET)"
json=$CACHE/build.json
mkdir -p "$CACHE"
(cd "$ROOT" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo test -p kubelab-sandbox --no-run --locked --target "$TARGET" \
    --target-dir "$CACHE/target" --message-format=json-render-diagnostics >"$json") ||
    die "building the static test binaries failed"
# Test harnesses have "test":true in their profile; other executables
# (helper bins of the crate) go along at the same path so CARGO_BIN_EXE_*
# baked into the tests still resolves inside the VM.
tests=$(grep '"reason":"compiler-artifact"' "$json" | grep '"profile":{[^}]*"test":true' |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u)
bins=$(grep '"reason":"compiler-artifact"' "$json" | grep -v '"profile":{[^}]*"test":true' |
    grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u || true)
[ -n "$tests" ] || die "cargo built no test executables for kubelab-sandbox"
for exe in $tests $bins; do
    if is_dynamic "$exe"; then die "$exe is not static"; fi
done

# The node crate's real-kernel tests (Pods on the sandbox engine, the CNI
# bridge), run as root after the sandbox tests in the same boot. Their own
# rootless cases drop to uid 65534 inside. pod_runtime and pod_network are
# `harness = false` (each is its own sandbox helper through /proc/self/exe):
# they print `ok: <case>` / `SKIP: <why>` and panic on a failure; init.sh
# and the report below tell them apart from libtest binaries by the `plain`
# kind written next to each.
NODE_TESTS=${KUBELAB_VM_NODE_TESTS-pod_runtime pod_network cni_bridge services}
node_json=$CACHE/build-node.json
node_tests=
if [ -n "$NODE_TESTS" ]; then
    log "building kubelab-node tests $NODE_TESTS (static, $TARGET)"
    node_args=()
    for t in $NODE_TESTS; do node_args+=(--test "$t"); done
    (cd "$ROOT" && RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo test -p kubelab-node --no-run --locked --target "$TARGET" "${node_args[@]}" \
        --target-dir "$CACHE/target" --message-format=json-render-diagnostics >"$node_json") ||
        die "building the static kubelab-node test binaries failed"
    node_tests=$(grep '"reason":"compiler-artifact"' "$node_json" | grep '"profile":{[^}]*"test":true' |
        grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u)
    [ -n "$node_tests" ] || die "cargo built no test executables for kubelab-node"
    for exe in $node_tests; do
        if is_dynamic "$exe"; then die "$exe is not static"; fi
    done
fi
# The [[test]] targets of node/Cargo.toml with `harness = false`.
plain_tests=$(awk '/^\[/ { if (name != "" && plain) print name; name = ""; plain = 0; test = ($0 == "[[test]]"); next }
    test && /^name *=/ { name = $0; sub(/^name *= *"/, "", name); sub(/".*/, "", name) }
    test && /^harness *= *false/ { plain = 1 }
    END { if (name != "" && plain) print name }' "$ROOT/node/Cargo.toml")

# --- initramfs ------------------------------------------------------------------
stage=$CACHE/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/kubelab-vm,proc,sys,dev,tmp,run,root,home/tester}
# Same top-level layout as this host (Debian 12: /bin -> usr/bin, ...).
for d in bin sbin lib lib64; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$stage/$d"; else mkdir -p "$stage/$d"; fi
done
mkdir -p "$stage/lib/modules"
cp "$HERE/init.sh" "$stage/init"
chmod 0755 "$stage/init"
cp /bin/busybox "$stage/bin/busybox"

# The host userland the sandbox's `host` rootfs exposes and tests run:
# Debian's own executables of these packages with their shared libraries,
# so the VM behaves like a Debian host (dash as /bin/sh, GNU coreutils),
# not like busybox. busybox fills in the rest at boot.
copy_with_path() { # FILE: copies FILE (following links) to the same path in the stage
    local f=$1 real
    real=$(readlink -f "$f")
    [ -e "$stage$real" ] || { mkdir -p "$stage$(dirname "$real")" && cp -p "$real" "$stage$real"; }
    if [ ! -e "$stage$f" ] && [ ! -L "$stage$f" ]; then
        mkdir -p "$stage$(dirname "$f")" && ln -s "$real" "$stage$f"
    fi
}
host_pkgs=${KUBELAB_VM_HOST_PKGS:-coreutils dash bash grep sed mawk util-linux mount procps iproute2 hostname findutils nftables iptables conntrack ipvsadm dnsmasq-base}
host_exes=()
for pkg in $host_pkgs; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        log "warning: $pkg is not installed here, the VM will use busybox for its tools"
        continue
    fi
    while IFS= read -r f; do
        [ -f "$f" ] && [ -x "$f" ] && host_exes+=("$f")
    done < <(dpkg -L "$pkg" | grep -E '^(/usr)?/s?bin/[^/]+$')
done
# dpkg alternatives the packages register (awk -> mawk, sh -> dash,
# iptables -> iptables-nft, and its restore/save, which a node's Services use).
for alt in /usr/bin/awk /bin/sh /usr/bin/sh /usr/sbin/iptables /usr/sbin/iptables-restore /usr/sbin/iptables-save; do [ -e "$alt" ] && host_exes+=("$alt"); done
# iptables loads its matches and targets (statistic, DNAT, ...) at run time.
xt_exts=()
xtables=/usr/lib/x86_64-linux-gnu/xtables
if [ -d "$xtables" ] && [[ " $host_pkgs " == *" iptables "* ]]; then
    for f in "$xtables"/*.so; do xt_exts+=("$f"); done
fi
libs=$(for f in "${host_exes[@]}" "${xt_exts[@]}"; do ldd "$f" 2>/dev/null; done |
    grep -o '/[^ ]*\.so[^ ]*' | sort -u)
for f in "${xt_exts[@]}"; do copy_with_path "$f"; done
for f in "${host_exes[@]}" $libs; do copy_with_path "$f"; done
cat >"$stage/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:kubelab test user:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$stage/etc/group" <<'GROUP'
root:x:0:
tester:x:1000:
nogroup:x:65534:
GROUP
printf '127.0.0.1 localhost kubelab-vm\n::1 localhost\n' >"$stage/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$stage/etc/nsswitch.conf"
# Sub-id ranges as useradd would write them, for tests that use newuidmap.
echo "tester:100000:65536" >"$stage/etc/subuid"
echo "tester:100000:65536" >"$stage/etc/subgid"

# Modules in dependency order (read from each .ko's modinfo "depends=").
declare -A modpath=() loaded=()
while IFS= read -r ko; do
    n=${ko##*/}
    n=${n%.ko}
    modpath[${n//-/_}]=$ko
done < <(find "$moddir/kernel" -name '*.ko')
add_module() {
    local m=${1//-/_} dep deps
    [ -n "${loaded[$m]:-}" ] && return 0
    [ -n "${modpath[$m]:-}" ] || die "kernel module $m not found under $moddir"
    loaded[$m]=1
    deps=$(tr '\0' '\n' <"${modpath[$m]}" | sed -n 's/^depends=//p' | head -n1)
    for dep in ${deps//,/ }; do add_module "$dep"; done
    cp "${modpath[$m]}" "$stage/lib/modules/$m.ko"
    echo "/lib/modules/$m.ko" >>"$stage/etc/kubelab-vm/modules"
}
: >"$stage/etc/kubelab-vm/modules"
for m in $MODULES; do add_module "$m"; done

for exe in $tests $bins; do
    mkdir -p "$stage$(dirname "$exe")"
    # Debug info is not needed in the VM and would only bloat the initramfs.
    strip --strip-debug -o "$stage$exe" "$exe" 2>/dev/null || cp "$exe" "$stage$exe"
done
printf '%s\n' $tests >"$stage/etc/kubelab-vm/tests"
: >"$stage/etc/kubelab-vm/node-tests"
for exe in $node_tests; do
    mkdir -p "$stage$(dirname "$exe")"
    # All symbols go too: k8s-openapi makes these the largest binaries.
    strip --strip-all -o "$stage$exe" "$exe" 2>/dev/null || cp "$exe" "$stage$exe"
    kind=libtest
    for t in $plain_tests; do
        case "${exe##*/}" in "$t"-*) kind=plain ;; esac
    done
    echo "$kind $exe" >>"$stage/etc/kubelab-vm/node-tests"
done
# What the node tests run besides the host tools: Debian's CNI plugins the
# node uses (cgo executables: their libraries come along); `image: busybox`
# is the static /bin/busybox already packed.
if [ -n "$node_tests" ]; then
    cni_plugins="bridge host-local loopback portmap"
    for p in $cni_plugins; do
        [ -x "/usr/lib/cni/$p" ] || { log "warning: no /usr/lib/cni/$p (apt-get install containernetworking-plugins): the network tests will skip"; continue; }
        copy_with_path "/usr/lib/cni/$p"
        for lib in $(ldd "/usr/lib/cni/$p" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do copy_with_path "$lib"; done
    done
fi
echo "$THREADS" >"$stage/etc/kubelab-vm/test-threads"
printf '%s\n' "${KUBELAB_VM_FILTER:-}" >"$stage/etc/kubelab-vm/filter"

initrd=$CACHE/initramfs.cpio
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd"
log "initramfs $(du -h "$initrd" | cut -f1): $(echo $tests $node_tests | wc -w) test binaries, ${#host_exes[@]} host tools, modules: $(tr '\n' ' ' <"$stage/etc/kubelab-vm/modules")"

# --- boot -----------------------------------------------------------------------
accel=${KUBELAB_VM_ACCEL:-}
if [ -z "$accel" ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
fi
serial=$CACHE/serial.log
READY_TIMEOUT=${KUBELAB_VM_READY_TIMEOUT:-180}
# What boot() runs: the busybox-init guest first; the systemd guest
# (systemd.sh) sets these again for its own boot.
MEM=1024
APPEND="console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init"
# boot ACCEL: runs the VM, streaming its console into $serial; sets qemu_rc
# (124 = timed out, 125 = never reached the test runner).
boot() {
    local cpu=() raw=$CACHE/serial.raw t0=$SECONDS qpid tpid
    [ "$1" = kvm ] && cpu=(-cpu host)
    log "booting ($1, timeout ${TIMEOUT}s)"
    : >"$raw"
    qemu-system-x86_64 -accel "$1" "${cpu[@]}" -m "$MEM" -smp 2 -display none -no-reboot \
        -monitor none -nic none -serial "file:$raw" -kernel "$vmlinuz" -initrd "$initrd" \
        -append "$APPEND" \
        </dev/null >"$CACHE/qemu.log" 2>&1 &
    qpid=$!
    tail -n +1 -f --pid="$qpid" "$raw" | tr -d '\r' | sed -u 's/^/  | /' >&2 &
    tpid=$!
    qemu_rc=
    while kill -0 "$qpid" 2>/dev/null; do
        if ((SECONDS - t0 > TIMEOUT)); then
            qemu_rc=124
        elif ((SECONDS - t0 > READY_TIMEOUT)) && ! grep -q KUBELAB-VM-READY "$raw"; then
            qemu_rc=125
        fi
        if [ -n "$qemu_rc" ]; then
            kill "$qpid" 2>/dev/null || true
            break
        fi
        sleep 1
    done
    local rc=0
    wait "$qpid" || rc=$?
    wait "$tpid" 2>/dev/null || true
    qemu_rc=${qemu_rc:-$rc}
    sed 's/^/  qemu: /' "$CACHE/qemu.log" >&2
    tr -d '\r' <"$raw" >"$serial"
}
start=$SECONDS
boot "$accel"
if [ "$accel" = kvm ] && ! grep -q '^KUBELAB-VM-READY' "$serial"; then
    log "kvm did not get the VM to its test runner here, falling back to tcg"
    accel=tcg
    start=$SECONDS
    boot tcg
fi
elapsed=$((SECONDS - start))
log "busybox-init guest: ${elapsed}s (boot and tests, $accel)"
busybox_serial=$serial
busybox_rc=$qemu_rc

# --- the systemd guest ----------------------------------------------------------
# Rootless limits through the user's systemd manager (a transient delegated
# scope), on a Debian rootfs booting systemd with a real user@1000.service.
systemd_serial=
if [ "${KUBELAB_VM_SYSTEMD:-1}" = 1 ]; then
    # shellcheck source=sandbox/tests/vm/systemd.sh
    . "$HERE/systemd.sh"
fi

# --- results --------------------------------------------------------------------
# Per test: pass / FAIL / ignored / skip (passed but printed SKIP:), per role.
# A binary that exits non-zero without a failing test line counts as a failure.
report=$CACHE/report.txt
cat "$busybox_serial" ${systemd_serial:+"$systemd_serial"} | awk '
/^KUBELAB-VM-BEGIN / { role=$2; bin=$3; sub(/-[0-9a-f]+$/, "", bin); plain=($4 == "plain"); inbin=1; fails=0; panic=""; keep=0; next }
/^KUBELAB-VM-END / {
    rc=$4; sub(/^rc=/, "", rc)
    if (rc != 0 && plain) {
        # A harness = false binary stops at its first failing case.
        key=role SUBSEP bin SUBSEP "(exit " rc ")"
        status[key]="FAIL"; order[++n]=key; why[key]=panic
    } else if (rc != 0 && fails == 0) print "FAIL", role, bin, "(exit " rc ", no test result)"
    inbin=0; plain=0; out=""; next
}
# harness = false: `ok: <case>` and `SKIP: <why>` lines, a panic on failure.
inbin && plain && /^ok: / {
    key=role SUBSEP bin SUBSEP substr($0, 5)
    if (!(key in status)) { status[key]="pass"; order[++n]=key }
    next
}
inbin && plain && /^SKIP: / {
    key=role SUBSEP bin SUBSEP substr($0, 7)
    if (!(key in status)) { status[key]="skip"; order[++n]=key }
    next
}
inbin && plain && /panicked at/ { keep=3 }
inbin && plain && keep > 0 { panic=panic "\n      " $0; keep--; next }
inbin && plain { next }
inbin && /^test .* \.\.\. / {
    name=$2; res=$0; sub(/^test [^ ]+ \.\.\. /, "", res)
    if (res == "ok") status[role SUBSEP bin SUBSEP name]="pass"
    else if (res ~ /^ignored/) status[role SUBSEP bin SUBSEP name]="ignored"
    else { status[role SUBSEP bin SUBSEP name]="FAIL"; fails++ }
    order[++n]=role SUBSEP bin SUBSEP name
    next
}
inbin && /^---- .* stdout ----$/ { out=$2; keep=0; next }
inbin && /^(failures|successes):$/ { out=""; next }
inbin && out != "" && /SKIP:/ { if (status[role SUBSEP bin SUBSEP out] == "pass") status[role SUBSEP bin SUBSEP out]="skip" }
# The panic line and the two after it: the why of a failure, for the summary.
inbin && out != "" && /panicked at/ { keep=3 }
inbin && out != "" && keep > 0 { why[role SUBSEP bin SUBSEP out]=why[role SUBSEP bin SUBSEP out] "\n      " $0; keep-- }
END {
    for (i=1; i<=n; i++) {
        split(order[i], k, SUBSEP); print status[order[i]], k[1], k[2], k[3]
        if (status[order[i]] == "FAIL" && why[order[i]] != "") print substr(why[order[i]], 2)
    }
}' >"$report"

passed=$(grep -c '^pass ' "$report" || true)
skipped=$(grep -c '^skip ' "$report" || true)
ignored=$(grep -c '^ignored ' "$report" || true)
failed=$(grep -c '^FAIL ' "$report" || true)

echo
echo "== cgroup v2 VM suite (kernel $kver, $accel, busybox-init guest ${elapsed}s${systemd_serial:+, systemd guest ${systemd_elapsed}s}) =="
for role in root user node ${systemd_serial:+systemd}; do
    printf '%-8s %3d passed, %d failed, %d skipped, %d ignored\n' "$role:" \
        "$(grep -c "^pass $role " "$report" || true)" "$(grep -c "^FAIL $role " "$report" || true)" \
        "$(grep -c "^skip $role " "$report" || true)" "$(grep -c "^ignored $role " "$report" || true)"
done
sed -n -e 's/^\(FAIL\|skip\) /  \1 /p' -e '/^      /p' "$report"
# What a lab world's node may do on this kernel (sandbox/tests/world.rs
# prints what `kubelab doctor` prints), as root and as the test user.
if grep -q '^WORLD-FACT ' "$busybox_serial"; then
    echo "== lab world kernel facts (kernel $kver, as root and as the test user) =="
    grep '^WORLD-FACT ' "$busybox_serial" | awk -F' [|] ' '
    { split($1, h, " "); role=h[2]; name=$2
      if (!(name in seen)) { seen[name]=1; names[++n]=name }
      got[name, role]=$3
      if ($3 != "works") why[name, role]=$4 }
    END {
        printf "  %-24s %-8s %s\n", "feature", "root", "user"
        for (i=1; i<=n; i++) printf "  %-24s %-8s %s\n", names[i], got[names[i], "root"], got[names[i], "user"]
        for (i=1; i<=n; i++) for (r=1; r<=2; r++) {
            role=(r == 1 ? "root" : "user")
            if ((names[i], role) in why) printf "    %s, %s: %s\n", names[i], role, why[names[i], role]
        }
    }'
fi
bad=0
# verdict NAME SERIAL QEMU_RC: the guest's own result and leak lines.
verdict() {
    local name=$1 log=$2 rc=$3 result leaks
    result=$(grep -m1 '^KUBELAB-VM-RESULT ' "$log" || true)
    leaks=$(grep -m1 '^KUBELAB-VM-LEAKS ' "$log" || true)
    if [ -z "$result" ]; then
        if [ "$rc" = 124 ]; then
            echo "  FAIL $name: the VM did not finish within ${TIMEOUT}s (serial log: $log)"
        elif [ "$rc" = 125 ]; then
            echo "  FAIL $name: the VM did not reach its test runner within ${READY_TIMEOUT}s (serial log: $log)"
        else
            echo "  FAIL $name: the VM stopped before reporting a result (qemu exit $rc; serial log: $log)"
        fi
        bad=1
    elif ! grep -q ' ok=1' <<<"$result"; then
        grep -q ' error=' <<<"$result" && echo "  FAIL $name VM setup: $result"
        bad=1
    fi
    if [ -n "$leaks" ] && [ "$leaks" != "KUBELAB-VM-LEAKS procs=none cgroups=none mounts=none links=none" ]; then
        echo "  FAIL $name: leftovers after the tests: ${leaks#KUBELAB-VM-LEAKS }"
        failed=$((failed + 1))
    fi
}
verdict busybox-init "$busybox_serial" "$busybox_rc"
if [ -n "$systemd_serial" ]; then
    verdict systemd "$systemd_serial" "$systemd_rc"
    # The systemd guest exists to prove real limits: a skip there (no
    # cgroup for the sandbox) is a failure.
    if grep -q '^skip systemd ' "$report"; then
        echo "  FAIL systemd: a limit test skipped instead of running with limits"
        failed=$((failed + 1))
    fi
    grep -q '^pass systemd ' "$report" || { echo "  FAIL systemd: no test passed in the systemd guest"; bad=1; }
fi
[ "$passed" -gt 0 ] || { echo "  FAIL no test passed in the VM"; bad=1; }
echo "vm suite: $passed passed, $failed failed ($skipped skipped, $ignored ignored)"
[ "$failed" = 0 ] && [ "$bad" = 0 ]
