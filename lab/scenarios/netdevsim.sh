#!/bin/sh
# netdevsim fixture: switchdev representors (pf0vfN) exist for the representor scenarios; dpuhost lists PCI functions only.
# set: default
# timeout: 180
# requires: netdevsim
#
# Debian's kernel has no CONFIG_NETDEVSIM: lab/run builds netdevsim.ko out of tree and puts
# it in the initramfs; without it this scenario is skipped (see `lab/run --list`).
lab_need_dpuhost
mount -t debugfs none /sys/kernel/debug 2>/dev/null
check "modprobe netdevsim" modprobe netdevsim || lab_abort netdevsim "cannot load the module"
D=/sys/bus/netdevsim/devices/netdevsim10
check "netdevsim device 10 with 1 port" sh -c 'echo "10 1" >/sys/bus/netdevsim/new_device'
wait_until 10 test -d "$D/net" || lab_abort "netdevsim10 port" "no netdev under $D/net"
UPLINK=$(ls "$D/net" | head -1)
# netdevsim numbers its physical ports from 1 (devlink: "flavour physical port 1")
check_eq "uplink $UPLINK phys_port_name" p1 "$(cat "/sys/class/net/$UPLINK/phys_port_name" 2>/dev/null)"
SWID=$(cat "/sys/class/net/$UPLINK/phys_switch_id" 2>/dev/null)
check "uplink has a phys_switch_id ($SWID)" test -n "$SWID"

check "2 VFs on netdevsim10" sh -c "echo 2 >$D/sriov_numvfs"
check "eswitch to switchdev" host devlink dev eswitch set netdevsim/netdevsim10 mode switchdev
reps() { for n in /sys/class/net/*; do
  [ "$(cat "$n/phys_switch_id" 2>/dev/null)" = "$SWID" ] && cat "$n/phys_port_name" 2>/dev/null
done | sort | tr '\n' ' ' | sed 's/ $//'; }
wait_until 10 sh -c "[ \"\$(ls $D/net | wc -l)\" -ge 3 ]"
check_eq "ports on the eswitch (phys_port_name)" "p1 pf0vf0 pf0vf1" "$(reps)"
host devlink port show | sed 's/^/  | /'

lab_step "dpuhost with netdevsim present"
dh_json inv functions --json && check_eq "functions listed = sysfs PCI devices" \
  "[$(pci_devices | tr '\n' ' ' | sed 's/ $//')]" "[$(jkeys /tmp/inv.flat functions | sort | tr '\n' ' ' | sed 's/ $//')]"

check "eswitch back to legacy" host devlink dev eswitch set netdevsim/netdevsim10 mode legacy
echo 0 >"$D/sriov_numvfs"
check "netdevsim device deleted" sh -c 'echo 10 >/sys/bus/netdevsim/del_device'
