#!/bin/sh
# Inventory: `dpuhost functions --json` agrees with sysfs for every PCI function, before and after creating NVMe VFs.
# set: default
# timeout: 300
#
# The oracle is the kernel's view in sysfs (lab/guest/lib.sh: check_function). Fixtures
# (sriov_numvfs, driver_override) are written here in sysfs; what is tested is dpuhost.
lab_need_dpuhost
lab_load_drivers
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
NIC=$(e1000e_nic)
[ -n "$NIC" ] || lab_abort "e1000e present" "no 8086:10d3 NIC in the VM"

lab_step "inventory of the booted VM ($(pci_devices | wc -l) PCI functions; NVMe PF $PF, NIC $NIC)"
dh_json inv-boot functions --json || lab_abort inv-boot "no usable output"
check_inventory /tmp/inv-boot.flat
check_json "$PF kind is pf" /tmp/inv-boot.flat "functions/$PF/kind" '"pf"'
check_json "$PF drivers_autoprobe on at boot" /tmp/inv-boot.flat "functions/$PF/sriov/drivers_autoprobe" true
check_json "$PF no VFs at boot" /tmp/inv-boot.flat "functions/$PF/sriov/num_vfs" 0
check_json "$NIC driver is e1000e" /tmp/inv-boot.flat "functions/$NIC/driver" '"e1000e"'

lab_step "2 NVMe VFs with drivers_autoprobe off"
t0=$(lab_uptime)
sriov_make_vfs "$PF" 2 || lab_abort "create 2 VFs on $PF" "sriov_numvfs write failed"
lab_say "created 2 VFs in $(lab_since "$t0") s"
VFS=$(pci_vfs "$PF" | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//')
check_eq "$PF has 2 VFs in sysfs" 2 "$(pci_vfs "$PF" | wc -l)"
dh_json inv-vfs functions --json || lab_abort inv-vfs "no usable output"
check_inventory /tmp/inv-vfs.flat
check_json "$PF sriov.num_vfs after the write" /tmp/inv-vfs.flat "functions/$PF/sriov/num_vfs" 2
check_json "$PF sriov.drivers_autoprobe after the write" /tmp/inv-vfs.flat "functions/$PF/sriov/drivers_autoprobe" false
i=0
for vf in $VFS; do
  check_json "$vf kind" /tmp/inv-vfs.flat "functions/$vf/kind" '"vf"'
  check_json "$vf pf" /tmp/inv-vfs.flat "functions/$vf/pf" "\"$PF\""
  check_json "$vf vf_index" /tmp/inv-vfs.flat "functions/$vf/vf_index" "$i"
  check_json "$vf unbound (autoprobe off)" /tmp/inv-vfs.flat "functions/$vf/driver" null
  check_json "$vf iommu_group" /tmp/inv-vfs.flat "functions/$vf/iommu_group" "$(pci_group "$vf")"
  check "$vf has its own IOMMU group" test "$(pci_group "$vf")" != "$(pci_group "$PF")"
  i=$((i + 1))
done

lab_step "--kind vf, show, cards, the text table"
dh_json inv-kind-vf functions --kind vf --json
check_eq "--kind vf lists exactly the VFs" "[$(printf '%s\n' $VFS | sort | tr '\n' ' ' | sed 's/ $//')]" "[$(jkeys /tmp/inv-kind-vf.flat functions | sort | tr '\n' ' ' | sed 's/ $//')]"
VF0=$(pci_vfs "$PF" | awk 'NR == 1 { print $2 }')
check "dpuhost show $VF0" sh -c "chroot /host $DPUHOST show $VF0 | grep -q $VF0"
if dh show 0000:7f:1f.7 >/dev/null 2>&1; then
  lab_fail "dpuhost show of a missing function fails" "it exited 0"
else
  lab_pass "dpuhost show of a missing function fails"
fi
dh_json cards cards --json
dh functions >"$LAB_OUT/functions.txt" 2>&1
check_eq "dpuhost functions (table) exits 0" 0 $?
for a in $(pci_devices); do
  grep -q "$a" "$LAB_OUT/functions.txt" || lab_fail "table lists $a" "missing from functions.txt"
done

lab_step "driver_override on a VF, then VFs removed"
echo vfio-pci >"$SYS_PCI/$VF0/driver_override"
dh_json inv-override functions --json
check_function /tmp/inv-override.flat "$VF0"
echo 0 >"$SYS_PCI/$PF/sriov_numvfs"
echo 1 >"$SYS_PCI/$PF/sriov_drivers_autoprobe"
dh_json inv-novfs functions --json
check_inventory /tmp/inv-novfs.flat
check_eq "VFs gone from the output" 0 "$(grep -c '/kind	"vf"$' /tmp/inv-novfs.flat)"
