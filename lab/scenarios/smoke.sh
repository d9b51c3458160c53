#!/bin/sh
# Smoke: the VM boots with the IOMMU on, sees the host root and the build, and has the NVMe and NIC topology.
# set: default
# timeout: 120
# order: 10
#
# Checks the lab itself (harness and VM topology), not dpuhost; runs before dpuhost is built.
lab_load_drivers
check "host root mounted" test -x /host/bin/sh
check "build dir visible at $LAB_BUILD" test -d "/host$LAB_BUILD"
if [ -x "/host$DPUHOST" ]; then check "dpuhost --version runs" dh --version; fi
check "python3 runs in the chroot" host python3 -c 'import json'
check "intel_iommu=on on the command line" grep -qw intel_iommu=on /proc/cmdline
check "DMAR interrupt remapping enabled" sh -c 'dmesg | grep -q "Enabled IRQ remapping"'
n=$(ls /sys/kernel/iommu_groups | wc -l)
check "IOMMU groups exist ($n)" test "$n" -gt 0

PF=$(nvme_pf) || lab_abort "NVMe PF" "no NVMe controller with SR-IOV"
lab_pass "NVMe PF found at $PF"
check_eq "$PF sriov_totalvfs" 4 "$(pci_attr "$PF" sriov_totalvfs)"
check_eq "$PF driver" nvme "$(pci_driver "$PF")"
C=$(nvme_ctrl "$PF")
check_eq "$PF NVMe controller" nvme0 "$C"
# nsid 1 is attached to the PF (private), nsids 2 and 3 exist in the subsystem, detached
nsids() { host nvme list-ns "/dev/$C" "$@" -o json >/tmp/ns.json && jflat /tmp/ns.json /tmp/ns.flat &&
  awk -F '\t' '$1 ~ /\/nsid$/ { print $2 }' /tmp/ns.flat | sort -n | tr '\n' ' ' | sed 's/ $//'; }
check_eq "namespaces attached to the PF" 1 "$(nsids)"
check_eq "namespaces allocated in the subsystem" "1 2 3" "$(nsids --all)"
check_eq "block devices of $C" nvme0n1 "$(nvme_namespaces "$C")"

NIC=$(e1000e_nic)
check "e1000e present" test -n "$NIC"
check_eq "$NIC driver" e1000e "$(pci_driver "$NIC")"
check "$NIC has a netdev" sh -c "ls $SYS_PCI/$NIC/net | grep -q ."
