#!/bin/sh
# Demo: dpuhost's inventory of the emulated host (functions, cards), then 2 NVMe VFs and `functions --kind vf`.
# set: manual
# timeout: 240
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
