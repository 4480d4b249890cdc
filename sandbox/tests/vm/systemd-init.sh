#!/kubelab-stage1/busybox sh
# Stage 1 of the systemd guest (/init of its initramfs, see systemd.sh):
# moves the Debian rootfs from the initramfs (rootfs, which pivot_root(2)
# cannot leave, and the sandboxes under test pivot_root) onto a tmpfs and
# switch_roots into systemd.
BB=/kubelab-stage1/busybox
$BB mkdir -p /proc /newroot
$BB mount -t proc proc /proc
$BB mount -t tmpfs -o mode=0755 root /newroot
for entry in /* /.[!.]*; do
    case "$entry" in /proc | /newroot | /init | /kubelab-stage1) continue ;; esac
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    $BB mv "$entry" /newroot/ || echo "KUBELAB-VM-ERROR stage1 mv $entry"
done
$BB mkdir -p /newroot/proc
$BB umount /proc
exec $BB switch_root /newroot /lib/systemd/systemd
echo "KUBELAB-VM-RESULT ok=0 error=switch_root-failed"
$BB poweroff -f
