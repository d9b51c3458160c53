#!/bin/sh
# Nested Linux guests through dpuhostd: one boots from a passed-through NVMe VF and writes and reads a second VF as its data disk, then lets it go; another acknowledges a hot-unplug; acknowledged unplugs give the VFs back at once.
# set: extended
# timeout: 900
# order: 95
#
# The FeOS acceptance tests, on a real kernel. VF0 gets nsid 2 and VF1 nsid 3 (virt-mgmt, attach-ns),
# both bound to nvme as a host's VFs would be; the boot image (lab/host/assets.sh: FAT16 with
# SYSLINUX, the kernel and the lab initramfs) is written onto VF0's namespace from here, a random
# MiB onto VF1's. VM boot1 (no kernel: SeaBIOS boots the VF marked "boot") runs
# lab/guest/l2/disks.sh, which reports on its serial console (the VM's console log) what it booted
# from and the data disk it wrote and read back. VM lin1 (kernel boot, PVH) gets VF2 hot-plugged and
# unplugged; Linux acknowledges through ACPI hot-plug (q35's default since QEMU 6.1). Both VMs run
# at once. What L2 wrote is read back here through the VF once it is on nvme again.
# shellcheck source=lab/guest/vm.sh
. "/host$LAB_SRC/lab/guest/vm.sh"
lab_need_dpuhost
[ -x "/host$DPUHOSTD" ] || lab_abort dpuhostd-built "no $DPUHOSTD on the host: build the project first"
IMG=$LAB_SHARE/l2/boot.img
[ -s "$IMG" ] || lab_skip "no NVMe boot image in the share: $(cat "$IMG.why" 2>/dev/null || echo 'lab/host/assets.sh did not build it')"
L2=$LAB_SHARE/l2
lab_load_drivers
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
C=$(nvme_ctrl "$PF")
UNPLUG_MS=60000

sha_of() {  # DEV SKIP_MIB COUNT_MIB: sha256 of that range of a block device, read with O_DIRECT
  dd if="/dev/$1" bs=64k skip=$(($2 * 16)) count=$(($3 * 16)) iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1
}
l2_line() {  # LOG TAG: the first "L2 TAG ..." line of a guest's console, without "L2 TAG "
  tr -d '\r' <"$1" | sed -n "s/^L2 $2 //p" | head -1
}
l2_field() {  # LINE KEY: the value of KEY=... in an "L2 ..." line
  echo " $1 " | sed -n "s/.* $2=\([^ ]*\) .*/\1/p"
}
l2_pci_has_vf() {  # LOG: the guest's latest PCI list has a QEMU NVMe function (1b36:0010)
  tr -d '\r' <"$1" | grep '^L2 PCI:' | tail -1 | grep -q '=0x1b36:0x0010'
}
progress() {  # LOG: how far a guest got, from its console
  local p
  p=$(grep -a -o 'SeaBIOS\|SYSLINUX\|Loading /[a-z.]*\|L2 [A-Z]*' "$1" 2>/dev/null | tail -1)
  echo "${p:-nothing yet}"
}

lab_step "fixture: 3 NVMe VFs online and on nvme; the boot image onto VF0's nsid 2, a random MiB onto VF1's nsid 3"
sriov_make_vfs "$PF" 3 || lab_abort "create 3 VFs on $PF" "sriov_numvfs write failed"
VF0=$(pci_vfs "$PF" | awk '$1 == 0 { print $2 }')
VF1=$(pci_vfs "$PF" | awk '$1 == 1 { print $2 }')
VF2=$(pci_vfs "$PF" | awk '$1 == 2 { print $2 }')
if ! { nvme_vf_online "$C" 0 2 && nvme_vf_online "$C" 1 3 && nvme_vf_online "$C" 2; }; then
  lab_abort "VFs online" "virt-mgmt or attach-ns failed (see the console log)"
fi
if ! { vf_bind_ns "$VF0" && vf_bind_ns "$VF1" && vf_bind "$VF2" nvme; }; then
  lab_abort "VFs on nvme" "the fixture could not bind them"
fi
D0=$(vf_disk "$VF0")
D1=$(vf_disk "$VF1")
check "the boot image onto $D0 (VF0 $VF0, nsid 2)" dd if="$IMG" of="/dev/$D0" bs=1M conv=fsync
IMGSHA=$(dd if="$IMG" bs=64k count=32 2>/dev/null | sha256sum | cut -d' ' -f1)
check_eq "$D0 holds the image (first 2 MiB)" "$IMGSHA" "$(sha_of "$D0" 0 2)"
dd if=/dev/urandom of=/tmp/pre bs=64k count=16 2>/dev/null
PRESHA=$(sha256sum /tmp/pre | cut -d' ' -f1)
check "a random MiB onto $D1 (VF1 $VF1, nsid 3)" dd if=/tmp/pre of="/dev/$D1" bs=64k conv=fsync
for vf in $VF0 $VF1 $VF2; do check "$vf on nvme" vf_on_nvme "$vf"; done

lab_step "dpuhostd; VM boot1 boots from VF0 with VF1 as data disk, VM lin1 boots a kernel"
vm_config "$PF" "$UNPLUG_MS"
vm_daemon_start
check "dpuhostd answers on $VM_SOCK" vm_api_up || lab_abort dpuhostd "did not start (see dpuhostd-1.log)"
vm_events_start
st=$(api_json boot1 POST /v1/vms "{\"name\": \"boot1\", \"memory_mib\": 256,
  \"pci_devices\": [{\"address\": \"$VF0\", \"boot\": true}, {\"address\": \"$VF1\"}]}")
check_eq "POST /v1/vms boot1: 201" 201 "$st" || lab_abort "create boot1" "$(cat "$LAB_OUT/boot1.json")"
T0=$(lab_uptime)
check_json "boot1 running" /tmp/boot1.flat state '"running"'
check_json "boot1 dev0 is VF0, the boot device" /tmp/boot1.flat "devices/$VF0/boot" true
check_json "boot1 dev1 is VF1" /tmp/boot1.flat "devices/$VF1/id" '"dev1"'
APID=$(jget /tmp/boot1.flat pid)
ALOG=$(jget /tmp/boot1.flat console_log | tr -d '"')
tr '\0' '\n' <"/proc/$APID/cmdline" >"$LAB_OUT/boot1.argv"
check "boot1's QEMU: VF0 with bootindex=1" grep -qx "vfio-pci,host=$VF0,bus=rp1,id=dev0,bootindex=1" "$LAB_OUT/boot1.argv"
check "boot1's QEMU: no -kernel (the firmware boots the VF)" not grep -qx -- -kernel "$LAB_OUT/boot1.argv"
check_eq "boot1's QEMU holds 2 VFIO devices" 2 "$(qemu_vfio_devices "$APID")"
st=$(api_json lin1 POST /v1/vms "{\"name\": \"lin1\", \"memory_mib\": 256,
  \"boot\": {\"kernel\": \"$L2/vmlinux\", \"initrd\": \"$L2/initramfs.cpio.gz\",
           \"cmdline\": \"console=ttyS0 loglevel=4 panic=-1 lab.l2=disks\"},
  \"env\": {\"LAB_VM\": \"lin1\"}}")
check_eq "POST /v1/vms lin1: 201" 201 "$st" || lab_abort "create lin1" "$(cat "$LAB_OUT/lin1.json")"
check_json "lin1 running" /tmp/lin1.flat state '"running"'
BPID=$(jget /tmp/lin1.flat pid)
BLOG=$(jget /tmp/lin1.flat console_log | tr -d '"')

lab_step "waiting for both nested guests (nested TCG: minutes)"
n=0
while [ $n -lt 60 ]; do
  grep -q "L2 DISKS DONE" "$ALOG" 2>/dev/null && grep -q "L2 PCI:" "$BLOG" 2>/dev/null && break
  sleep 10
  n=$((n + 1))
  [ $((n % 3)) = 0 ] && lab_say "  $(lab_since "$T0") s: boot1 $(progress "$ALOG"), lin1 $(progress "$BLOG")"
done
cp "$ALOG" "$LAB_OUT/boot1-console.log"
cp "$BLOG" "$LAB_OUT/lin1-console.log"
check "boot1: L2 Linux ran its payload ($(lab_since "$T0") s)" grep -q "L2 DISKS DONE" "$ALOG"
check "lin1: L2 Linux is up" grep -q "L2 PCI:" "$BLOG"

lab_step "boot1 booted from VF0 and used VF1 as its data disk"
check "boot1: SYSLINUX from the image ran" grep -q "SYSLINUX" "$ALOG"
cmd=$(l2_line "$ALOG" CMDLINE)
check "boot1: the kernel command line is the image's ($cmd)" sh -c "echo ' $cmd ' | grep -q ' lab.bootimg=$(cat "$IMG.key") '"
boot=$(l2_line "$ALOG" BOOTDISK)
bline=$(tr -d '\r' <"$ALOG" | sed -n "s/^L2 DISK $boot //p" | head -1)
check_eq "boot1: the boot disk ($boot) is nsid 2" 2 "$(l2_field "$bline" nsid)"
check_eq "boot1: the boot disk holds the image" "$IMGSHA" "$(l2_field "$bline" head)"
data=$(l2_line "$ALOG" DATADISK)
dname=${data%% *}
dline=$(tr -d '\r' <"$ALOG" | sed -n "s/^L2 DISK $dname //p" | head -1)
check_eq "boot1: the data disk ($dname) is nsid 3" 3 "$(l2_field "$dline" nsid)"
check_eq "boot1: the data disk held the MiB written from here" "$PRESHA" "$(l2_field "$data" before)"
check_eq "boot1: what L2 wrote to the data disk read back equal" ok "$(l2_field "$data" readback)"
WROTE=$(l2_field "$data" wrote)

lab_step "hot-plug VF2 into lin1; Linux acknowledges its unplug"
cmd=$(l2_line "$BLOG" CMDLINE)
check "lin1: env on the kernel command line ($cmd)" sh -c "echo ' $cmd ' | grep -q ' dpuhost.LAB_VM=lin1 '"
check "lin1: no NVMe function before the hot-plug" not l2_pci_has_vf "$BLOG"
t0=$(lab_uptime)
st=$(api_json plug POST /v1/vms/lin1/devices '{"pool": "nvme-vfs"}')
lab_say "hot-plug into lin1: $(lab_since "$t0") s"
check_eq "POST lin1 devices: 201" 201 "$st"
check_json "  VF2, the pool's only free VF" /tmp/plug.flat address "\"$VF2\""
check_json "  hp0" /tmp/plug.flat id '"hp0"'
check_eq "$VF2 on vfio-pci" vfio-pci "$(pci_driver "$VF2")"
check_eq "lin1's QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$BPID")"
t0=$(lab_uptime)
check "lin1's Linux sees the new NVMe function" wait_until 120 l2_pci_has_vf "$BLOG"
lab_say "lin1's Linux saw it after $(lab_since "$t0") s"
t0=$(lab_uptime)
st=$(api_json unplug DELETE /v1/vms/lin1/devices/hp0)
el=$(lab_since "$t0")
lab_say "unplug from lin1: $el s"
check_eq "DELETE lin1 hp0: 200 (acknowledged)" 200 "$st" || cat "$LAB_OUT/unplug.json"
check_json "  detached" /tmp/unplug.flat state '"detached"'
check "  before unplug_timeout_ms ($el s)" awk -v e="$el" -v t="$UNPLUG_MS" 'BEGIN { exit !(e * 1000 < t) }'
check "$VF2 back on nvme" wait_until 10 vf_on_nvme "$VF2"
check_eq "lin1's QEMU holds no VFIO device" 0 "$(qemu_vfio_devices "$BPID")"
check_eq "no claims of vm:lin1" "" "$(claims_of vm:lin1)"
check "lin1's Linux no longer lists it" wait_until 60 not l2_pci_has_vf "$BLOG"

lab_step "detach the data disk from boot1 (Linux acknowledges); what L2 wrote is on VF1's namespace"
t0=$(lab_uptime)
st=$(api_json detach DELETE /v1/vms/boot1/devices/dev1)
lab_say "unplug of boot1's data disk: $(lab_since "$t0") s"
check_eq "DELETE boot1 dev1: 200 (acknowledged)" 200 "$st" || cat "$LAB_OUT/detach.json"
check_json "  detached" /tmp/detach.flat state '"detached"'
check "$VF1 back on nvme" wait_until 10 vf_on_nvme "$VF1"
check "  with its namespace" wait_until 20 vf_has_ns "$VF1"
D1=$(vf_disk "$VF1")
check_eq "the MiB L2 wrote, read here through $VF1 ($D1)" "$WROTE" "$(sha_of "$D1" 1 1)"
check_eq "the MiB written from here is unchanged" "$PRESHA" "$(sha_of "$D1" 0 1)"
check_eq "claims of vm:boot1: VF0 only" "$VF0" "$(claims_of vm:boot1)"
check_eq "boot1's QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$APID")"

lab_step "stop both: every VF back on nvme, no claims"
st=$(api_json stop1 POST /v1/vms/boot1/stop)
check_eq "stop boot1: 200" 200 "$st"
st=$(api_json stop2 POST /v1/vms/lin1/stop)
check_eq "stop lin1: 200" 200 "$st"
check "boot1's QEMU is gone" wait_until 10 pid_gone "$APID"
check "lin1's QEMU is gone" wait_until 10 pid_gone "$BPID"
for vf in $VF0 $VF1 $VF2; do check "$vf on nvme" wait_until 20 vf_on_nvme "$vf"; done
check "$VF0's namespace is back" wait_until 20 vf_has_ns "$VF0"
check_eq "the boot image is intact on $VF0's namespace" "$IMGSHA" "$(sha_of "$(vf_disk "$VF0")" 0 2)"
check_eq "no claims of vm:boot1" "" "$(claims_of vm:boot1)"
vm_events_stop
check "event: lin1 hp0 detached" events_has vm_device name=lin1 device=hp0 state=detached address="$VF2"
check "no event: lin1 hp0 unplug_pending (acknowledged in time)" not events_has vm_device name=lin1 device=hp0 state=unplug_pending
check "event: boot1 dev1 detached" events_has vm_device name=boot1 device=dev1 state=detached address="$VF1"
check "event: boot1 stopped" events_has vm_state name=boot1 state=stopped reason=stopped
for vm in boot1 lin1; do
  st=$(api "DELETE" "/v1/vms/$vm")
  check_eq "DELETE $vm: 200" 200 "$st"
done
vm_daemon_stop
check_eq "dpuhostd stops on SIGTERM (exit 0)" 0 "$VM_DRC"
vm_cleanup
check_eq "no QEMU left running" "" "$(qemu_pids)"
