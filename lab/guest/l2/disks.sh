#!/bin/sh
# Payload of a nested (L2) guest booted from an NVMe disk (lab.l2=disks, set by the boot image's
# syslinux.cfg, lab/host/assets.sh): reports what it booted from and the NVMe disks it sees, writes
# and reads back the data disk, then idles and reports PCI changes (like idle.sh) so that hot-plug
# can be watched. Everything goes to the serial console as "L2 ..." lines, which L1 checks:
#   L2 READY uptime=S
#   L2 CMDLINE <the kernel command line>
#   L2 DISK <name> pci=<BDF> nsid=<n> fs=FAT16|<other>|none head=<sha256 of its first 2 MiB>
#   L2 BOOTDISK <name> | L2 BOOTDISK none
#   L2 DATADISK <name> before=<sha256 of its first MiB> wrote=<sha256 of the MiB written at 1 MiB> readback=ok|MISMATCH
#   L2 DISKS DONE
#   L2 PCI: <BDF>=<vendor>:<device> ...   (at start and after every change)
echo "L2 READY uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "L2 CMDLINE $(cat /proc/cmdline)"
modprobe nvme
disks() {  # the NVMe disks users see (multipath heads, not the hidden per-controller paths)
  for b in /sys/block/nvme*; do
    case ${b##*/} in nvme*c*) ;; nvme*n*) echo "${b##*/}" ;; esac
  done
}
# wait (60 s at most) until every NVMe function has a namespace disk: one namespace each here
npci=0
for f in /sys/bus/pci/devices/*; do [ "$(cat "$f/class")" = 0x010802 ] && npci=$((npci + 1)); done
i=0
while [ $i -lt 600 ] && [ "$(disks | wc -l)" -lt "$npci" ]; do sleep 0.1; i=$((i + 1)); done
echo "L2 NVME functions=$npci disks=$(disks | tr '\n' ' ')"
boot='' data=''
for c in /sys/class/nvme/nvme*; do
  [ -e "$c" ] || continue
  pci=$(basename "$(readlink -f "$c/device")")
  for p in "$c"/nvme*n*; do
    [ -f "$p/nsid" ] || continue
    nsid=$(cat "$p/nsid")
    n=${p##*/}
    # native multipath (Debian's kernel): the controller holds a hidden path (nvme0c0n1); the
    # disk is the head with the same nsid in the controller's subsystem (nvme0n1)
    if [ "$(cat "/sys/block/$n/hidden" 2>/dev/null)" = 1 ]; then
      for s in /sys/class/nvme-subsystem/*/"${c##*/}"; do
        for h in "${s%/*}"/nvme*n*; do
          [ "$(cat "$h/nsid" 2>/dev/null)" = "$nsid" ] && n=${h##*/}
        done
      done
    fi
    # the boot image is a FAT16 filesystem over the whole disk: its boot sector says "FAT16" at 54
    fs=$(dd if="/dev/$n" bs=512 count=1 iflag=direct 2>/dev/null | dd bs=1 skip=54 count=5 2>/dev/null | tr -cd 'A-Za-z0-9')
    head=$(dd if="/dev/$n" bs=64k count=32 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
    echo "L2 DISK $n pci=$pci nsid=$nsid fs=${fs:-none} head=$head"
    if [ "$fs" = FAT16 ]; then boot=$n; else data=$n; fi
  done
done
echo "L2 BOOTDISK ${boot:-none}"
if [ -n "$data" ]; then
  before=$(dd if="/dev/$data" bs=64k count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
  dd if=/dev/urandom of=/tmp/w bs=64k count=16 2>/dev/null
  wrote=$(sha256sum /tmp/w | cut -d' ' -f1)
  dd if=/tmp/w of="/dev/$data" bs=64k seek=16 oflag=direct conv=fsync 2>/dev/null
  dd if="/dev/$data" of=/tmp/r bs=64k skip=16 count=16 iflag=direct 2>/dev/null
  if cmp -s /tmp/w /tmp/r; then rb=ok; else rb=MISMATCH; fi
  echo "L2 DATADISK $data before=$before wrote=$wrote readback=$rb"
else
  echo "L2 DATADISK none"
fi
echo "L2 DISKS DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
exec sh "$(dirname "$0")/idle.sh" --no-ready
