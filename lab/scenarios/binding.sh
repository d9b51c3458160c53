#!/bin/sh
# Binding: dpuhost check, sriov, a VF to vfio-pci and back, the NIC with an address refused then forced and restored, a PF with VFs refused, a restore that waits for a nested QEMU holding the group.
# set: default
# timeout: 420
#
# Fixtures are set up in shell (an address on the NIC, a nested QEMU); everything under test is
# dpuhost. vfio modules are NOT loaded here: dpuhost must load vfio-pci and vfio_iommu_type1 itself.
lab_need_dpuhost
lab_modprobe nvme e1000e
wait_until 20 nvme_ctrl_ready
STATE=/tmp/dpuhost-state
dhs() { dh --state-dir "$STATE" "$@"; }
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
NIC=$(e1000e_nic)
IF=$(ls "$SYS_PCI/$NIC/net" 2>/dev/null | head -1)
[ -n "$IF" ] || lab_abort "e1000e netdev" "no netdev under $NIC"

lab_step "dpuhost check"
dhs check --json >"$LAB_OUT/check.json" 2>"$LAB_OUT/check.stderr"
rc=$?
jflat "$LAB_OUT/check.json" /tmp/check.flat
check_eq "dpuhost check exits 0 (passthrough ready)" 0 "$rc"
check_json "check: passthrough_ok" /tmp/check.flat "passthrough_ok" true
for c in iommu interrupt-remapping vfio-modules vfio-device kvm qemu memlock; do
  status=$(jget /tmp/check.flat "checks/$c/status")
  check "check $c is not a failure ($status)" test "$status" != '"fail"' -a "$status" != '<absent>'
done
check_eq "check: iommu passes" '"pass"' "$(jget /tmp/check.flat checks/iommu/status)"
check_eq "check: interrupt remapping passes" '"pass"' "$(jget /tmp/check.flat checks/interrupt-remapping/status)"
check_eq "check: qemu passes" '"pass"' "$(jget /tmp/check.flat checks/qemu/status)"

lab_step "dpuhost sriov: 2 VFs with autoprobe off, idempotent, refusals"
check "sriov $PF --num-vfs 2 --autoprobe off" dhs sriov "$PF" --num-vfs 2 --autoprobe off
check_eq "$PF sriov_numvfs" 2 "$(pci_attr "$PF" sriov_numvfs)"
check_eq "$PF sriov_drivers_autoprobe" 0 "$(pci_attr "$PF" sriov_drivers_autoprobe)"
check "sriov again is a no-op" dhs sriov "$PF" --num-vfs 2 --autoprobe off
check_eq "$PF still 2 VFs" 2 "$(pci_attr "$PF" sriov_numvfs)"
out=$(dhs sriov "$PF" --num-vfs 999 2>&1)
check_eq "sriov --num-vfs 999 is bad input (exit 2)" 2 $?
check "  and says why" sh -c "echo '$out' | grep -q 'more than'"
VF0=$(pci_vfs "$PF" | awk '$1 == 0 { print $2 }')
VF1=$(pci_vfs "$PF" | awk '$1 == 1 { print $2 }')
check_eq "$VF0 has no driver (autoprobe off)" "" "$(pci_driver "$VF0")"

lab_step "bind $VF0 to vfio-pci and restore it"
G0=$(pci_group "$VF0")
dh_json bind-vf0 --state-dir "$STATE" bind "$VF0" --json
check_json "bind $VF0 ok" /tmp/bind-vf0.flat "results/$VF0/ok" true
check_eq "$VF0 driver (sysfs)" vfio-pci "$(pci_driver "$VF0")"
check "/dev/vfio/$G0 is a character device" test -c "/dev/vfio/$G0"
check "dpuhost loaded vfio_iommu_type1" test -d /sys/module/vfio_iommu_type1
check_eq "$VF0 driver_override" vfio-pci "$(pci_attr "$VF0" driver_override)"
dh_json restore-vf0 --state-dir "$STATE" restore "$VF0" --json
check_json "restore $VF0 ok" /tmp/restore-vf0.flat "results/$VF0/ok" true
check_eq "$VF0 back to no driver" "" "$(pci_driver "$VF0")"
check_eq "$VF0 driver_override cleared" "(null)" "$(pci_attr "$VF0" driver_override)"
check "/dev/vfio/$G0 is gone" test ! -e "/dev/vfio/$G0"

lab_step "the NIC $NIC ($IF) with an address is refused, forced, restored"
host ip link set "$IF" up
host ip addr add 192.0.2.2/24 dev "$IF"
out=$(dhs bind "$NIC" 2>&1)
rc=$?
echo "$out"
check_eq "bind of a NIC with an address fails (exit 1)" 1 "$rc"
check "  the refusal names the address" sh -c "echo '$out' | grep -q '192.0.2.2/24'"
check_eq "$NIC still on e1000e" e1000e "$(pci_driver "$NIC")"
check "bind --force $NIC" dhs bind --force "$NIC"
check_eq "$NIC on vfio-pci" vfio-pci "$(pci_driver "$NIC")"
check "restore $NIC" dhs restore "$NIC"
check_eq "$NIC back on e1000e" e1000e "$(pci_driver "$NIC")"
check "$NIC has a netdev again" wait_until 10 sh -c "ls $SYS_PCI/$NIC/net | grep -q ."

lab_step "a PF with VFs enabled is refused"
out=$(dhs bind --force "$PF" 2>&1)
rc=$?
echo "$out"
check_eq "bind of $PF with VFs fails (exit 1)" 1 "$rc"
check "  the refusal says VFs are enabled" sh -c "echo '$out' | grep -q 'VFs enabled'"
check_eq "$PF still on nvme" nvme "$(pci_driver "$PF")"

lab_step "restore while a nested QEMU holds $VF1's group"
G1=$(pci_group "$VF1")
check "bind $VF1" dhs bind "$VF1"
# chroot directly (not the host() function) so that $! is QEMU's own pid: chroot execs it
chroot /host qemu-system-x86_64 -machine q35 -accel tcg -m 64 -nodefaults -display none -S \
  -device pcie-root-port,id=rp1,chassis=1,slot=1 -device "vfio-pci,host=$VF1,bus=rp1,id=vf1" \
  >"$LAB_OUT/nested-qemu.log" 2>&1 </dev/null &
QPID=$!
check "the nested QEMU opens /dev/vfio/$G1" wait_until 60 sh -c "ls -l /proc/$QPID/fd 2>/dev/null | grep -q /dev/vfio/$G1"
t0=$(lab_uptime)
out=$(dhs restore --wait 2 "$VF1" 2>&1)
rc=$?
echo "$out"
check_eq "restore while held fails (exit 1)" 1 "$rc"
check "  after waiting about 2 s ($(lab_since "$t0") s)" awk -v a="$t0" -v b="$(lab_uptime)" 'BEGIN { exit !(b - a >= 1.9) }'
check "  and names the holder pid $QPID" sh -c "echo '$out' | grep -q 'pid $QPID (qemu-system-x86)'"
check_eq "$VF1 still on vfio-pci" vfio-pci "$(pci_driver "$VF1")"
kill "$QPID"
wait "$QPID" 2>/dev/null
check "restore $VF1 once QEMU is gone" dhs restore "$VF1"
check_eq "$VF1 back to no driver" "" "$(pci_driver "$VF1")"

lab_step "VFs removed"
check "sriov $PF --num-vfs 0" dhs sriov "$PF" --num-vfs 0
check_eq "$PF has no VFs" 0 "$(pci_attr "$PF" sriov_numvfs)"
