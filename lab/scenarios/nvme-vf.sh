#!/bin/sh
# NVMe VF with a namespace: a VF brought online (virt-mgmt, attach-ns) and bound to nvme is inventoried with its controller and namespace.
# set: default
# timeout: 240
#
# QEMU 7.2: nsid 2 and 3 exist in the subsystem but are attached to no controller; a VF's
# secondary controller stays offline (nvme fails with CSTS=0x2) until it gets flexible
# resources and is set online through the PF (lib.sh: nvme_vf_online).
lab_need_dpuhost
lab_load_drivers
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
C=$(nvme_ctrl "$PF")
sriov_make_vfs "$PF" 2 || lab_abort "create 2 VFs on $PF" "sriov_numvfs write failed"
VF0=$(pci_vfs "$PF" | awk '$1 == 0 { print $2 }')
VF1=$(pci_vfs "$PF" | awk '$1 == 1 { print $2 }')

lab_step "VF0 $VF0 online with nsid 2, bound to nvme"
check "virt-mgmt + attach-ns for VF 0" nvme_vf_online "$C" 0 2 || lab_abort "VF 0 online" "see the console log"
echo nvme >"$SYS_PCI/$VF0/driver_override"
echo "$VF0" >/sys/bus/pci/drivers_probe
wait_until 20 test -d "$SYS_PCI/$VF0/nvme" && wait_until 20 sh -c "[ -n \"\$(ls -d /sys/class/nvme/\$(ls $SYS_PCI/$VF0/nvme)/nvme*n* 2>/dev/null)\" ]"
check_eq "$VF0 driver" nvme "$(pci_driver "$VF0")"
VC=$(nvme_ctrl "$VF0")
check_eq "$VF0 namespaces (kernel)" nvme0n2 "$(nvme_namespaces "$VC")"
check_eq "$PF namespaces (kernel) unchanged" nvme0n1 "$(nvme_namespaces "$C")"
dd if=/dev/urandom of=/tmp/data bs=4k count=4 2>/dev/null
check "write through the VF's namespace" dd if=/tmp/data of=/dev/nvme0n2 bs=4k count=4 conv=fsync
check "read back the same data" cmp -n 16384 /tmp/data /dev/nvme0n2

dh_json inv functions --json || lab_abort inv "no usable output"
for a in "$PF" "$VF0" "$VF1"; do check_function /tmp/inv.flat "$a"; done
check_json "$VF0 nvme.controller" /tmp/inv.flat "functions/$VF0/nvme/controller" "\"$VC\""
check_eq "$VF0 nvme.namespaces" "[nvme0n2]" "[$(jlist /tmp/inv.flat "functions/$VF0/nvme/namespaces")]"
check_json "$VF1 (offline, unbound) has no nvme" /tmp/inv.flat "functions/$VF1/nvme" null
