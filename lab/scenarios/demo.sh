#!/bin/sh
# Demo: dpuhost's inventory of the emulated host (functions, cards), 2 NVMe VFs, then dpuhostd runs a VM with a VF, hot-plugs the second (both claims shown), detaches it (pending until a reset in a firmware-only guest) and stops the VM.
# set: manual
# timeout: 300
# shellcheck source=lab/guest/vm.sh
. "/host$LAB_SRC/lab/guest/vm.sh"
lab_need_dpuhost
lab_load_drivers
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
lab_say "The lab VM: q35 with an emulated Intel IOMMU, an SR-IOV NVMe controller ($PF) and an e1000e."
lab_say "dpuhost runs from the host's build through 9p: chroot /host $DPUHOST"
dh_show functions
check "dpuhost functions" test $? = 0
dh_show cards
check "dpuhost cards" test $? = 0
lab_say ""
lab_say "# echo 0 > /sys/bus/pci/devices/$PF/sriov_drivers_autoprobe; echo 2 > .../sriov_numvfs"
sriov_make_vfs "$PF" 2 || lab_abort "create 2 VFs" "sriov_numvfs write failed"
dh_show functions --kind vf
check "dpuhost functions --kind vf" test $? = 0
VF0=$(pci_vfs "$PF" | awk 'NR == 1 { print $2 }')
dh_show show "$VF0"
check "dpuhost show $VF0" test $? = 0
lab_say ""

# --- VMs through dpuhostd -----------------------------------------------------------------------
C=$(nvme_ctrl "$PF")
lab_say "# A host's NVMe VFs: online with a namespace each (nvme virt-mgmt, attach-ns) and on nvme."
# shellcheck disable=SC2046 # one word per VF
vfs_online_on_nvme "$C" $(pci_vfs "$PF" | awk '{ print $2 }') >/dev/null 2>&1 || lab_abort "VFs on nvme" "the fixture failed"
dh_show functions --kind vf
lab_say ""
lab_say "# dpuhostd --config $VM_CFG: a pool \"nvme-vfs\" of $PF's VFs; VMs run the host's QEMU"
vm_config "$PF" 2000
vm_daemon_start
check "dpuhostd answers" vm_api_up || lab_abort dpuhostd "did not start (see dpuhostd-1.log)"
export DPUHOST_SOCKET="$VM_SOCK"  # the CLI talks to this dpuhostd
dh_show vm create demo --memory 128 --device pool=nvme-vfs
check "dpuhost vm create" test $? = 0
dh_show vm attach demo --pool nvme-vfs
check "dpuhost vm attach" test $? = 0
lab_say "# Each device is a durable claim of the VM (owner vm:NAME) in dpuhostd's SQLite store."
dh_show claims
check "dpuhost claims lists the VM's two" test "$(grep -c 'vm:demo' /tmp/dh_show.out)" = 2
dh_show functions --kind vf
lab_say ""
lab_say "# The guest is firmware only: no OS acknowledges the unplug, so the VF stays the VM's (pending)."
dh_show vm detach demo hp0
check "dpuhost vm detach (pending)" grep -q unplug_pending /tmp/dh_show.out
lab_say ""
lab_say "# A reset completes the pending unplug: the VF goes back to nvme."
dh_show vm reset demo
check "dpuhost vm reset" test $? = 0
dh_show vm list
dh_show vm stop demo
check "dpuhost vm stop" test $? = 0
dh_show functions --kind vf
for vf in $(pci_vfs "$PF" | awk '{ print $2 }'); do check_eq "$vf back on nvme" nvme "$(pci_driver "$vf")"; done
dh_show vm delete demo
lab_say ""
vm_daemon_stop
vm_cleanup
