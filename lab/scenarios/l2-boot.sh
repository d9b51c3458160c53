#!/bin/sh
# Nested guest: QEMU (TCG) inside the lab VM boots the cached L2 kernel and initramfs from the share.
# set: extended
# timeout: 420
# order: 90
#
# Checks the assets that nested-VM scenarios use: $LAB_SHARE/l2/vmlinux (PVH) and
# $LAB_SHARE/l2/initramfs.cpio.gz, whose /init runs /guest/l2/idle.sh with lab.l2.
L2=$LAB_SHARE/l2
check "L2 kernel in the share" test -s "$L2/vmlinux"
check "L2 initramfs in the share" test -s "$L2/initramfs.cpio.gz"
check "qemu-system-x86_64 runs in the chroot" host qemu-system-x86_64 --version
LOG=/tmp/l2-serial.log
: >"$LOG"
t0=$(lab_uptime)
chroot /host qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m 256 -smp 1 -nodefaults -display none \
  -no-reboot -serial "file:$LOG" -kernel "$L2/vmlinux" -initrd "$L2/initramfs.cpio.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 lab.l2" \
  -device pcie-root-port,id=rp1,chassis=1,slot=1 </dev/null >/tmp/l2-qemu.out 2>&1 &
QPID=$!
if wait_until 360 grep -q "L2 READY" "$LOG"; then
  lab_pass "L2 Linux booted to its /init in $(lab_since "$t0") s"
  lab_say "L2 booted in $(lab_since "$t0") s"
  wait_until 20 grep -q "L2 PCI:" "$LOG"
  check "L2 lists its PCI devices" grep -q "L2 PCI: 0000:00:00.0=0x8086:0x29c0" "$LOG"
else
  lab_fail "L2 Linux boots" "no 'L2 READY' after $(lab_since "$t0") s"
fi
kill "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
tail -5 "$LOG" | sed 's/^/  L2 | /'
cp "$LOG" "$LAB_OUT/l2-serial.log"
cat /tmp/l2-qemu.out
