#!/bin/sh
# dpuhostd on the real kernel: VFs made through the daemon, uevents keep its inventory current, claims bind NVMe VFs to vfio-pci, a SIGKILL in the middle of a claim is recovered on restart, releases give the VFs back.
# set: default
# timeout: 420
#
# The daemon runs as it would on a host (chroot /host, the build's daemon/dpuhostd, the default
# socket /run/dpuhost/dpuhost.sock); the CLI and curl talk to it. The shell only sets fixtures up
# and reads sysfs as the oracle. The state lives in /tmp (the host root is read-only here).
lab_need_dpuhost
[ -x "/host$DPUHOSTD" ] || lab_abort dpuhostd-built "no $DPUHOSTD on the host: build the project first"
lab_modprobe nvme
wait_until 20 nvme_ctrl_ready
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
SOCK=/run/dpuhost/dpuhost.sock
STATE=/tmp/dpuhostd-state
CFG=/tmp/dpuhost.json
cat >"$CFG" <<EOF
{
  "state_dir": "$STATE",
  "bind_timeout_ms": 20000,
  "restore_wait_ms": 3000,
  "pools": [
    {"name": "nvme-vfs", "description": "the lab's NVMe VFs",
     "selectors": {"rootDevices": ["$PF#0-3"]}}
  ]
}
EOF
cp "$CFG" "$LAB_OUT/dpuhost.json"
LIVES=0
DPID=

start_daemon() {  # starts dpuhostd in the background, waits until it answers; DPID is its pid
  LIVES=$((LIVES + 1))
  # chroot execs dpuhostd: $! is the daemon itself (call this directly, not through check: it
  # sets DPID and LIVES for the rest of the scenario)
  chroot /host "$DPUHOSTD" --config "$CFG" >"$LAB_OUT/dpuhostd-$LIVES.log" 2>&1 </dev/null &
  DPID=$!
  wait_until 60 sh -c "chroot /host $DPUHOST status >/dev/null 2>&1"
}

ready() { grep -q "ready:" "$LAB_OUT/dpuhostd-$LIVES.log"; }
pool_total() { dh --json pools 2>/dev/null | chroot /host python3 -c 'import json,sys; print(json.load(sys.stdin)["pools"][0]["total"])'; }

lab_step "dpuhostd starts on the real root (uevents on, the default socket)"
start_daemon
check_eq "dpuhostd (pid $DPID) answers" 0 "$?"
check "its log says ready" ready
check "uevents are on" grep -q "uevents: on, the inventory follows the kernel" "$LAB_OUT/dpuhostd-$LIVES.log"
check "the socket $SOCK exists" test -S "/host$SOCK"
check_eq "socket mode 0660" 660 "$(stat -c %a "/host$SOCK")"
dh_json status0 status --json
check_json "GET /v1/host: ready" /tmp/status0.flat ready true
check_json "GET /v1/host: iommu check passes" /tmp/status0.flat "preflight/checks/iommu/status" '"pass"'
# the event stream, followed for the daemon's whole first life
chroot /host "$DPUHOST" --json events >/tmp/events.json 2>/tmp/events.err &
EPID=$!

lab_step "VFs created behind the daemon's back: the kernel's uevents refresh its inventory"
check_eq "pool nvme-vfs is empty (no VFs yet)" 0 "$(pool_total)"
# the kernel's messages themselves, recorded for the parser's unit test
# (tests/daemon/uevents-lab.bin: a little-endian u32 length before each datagram)
chroot /host python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 1))
while True:
    d = s.recv(65536)
    sys.stdout.buffer.write(struct.pack("<I", len(d)) + d)
    sys.stdout.buffer.flush()
' >"$LAB_OUT/uevents.bin" 2>/dev/null &
UPID=$!
sleep 1
sriov_make_vfs "$PF" 2
check "2 VFs appear in pool nvme-vfs without a restart" wait_until 20 sh -c "[ \"\$(chroot /host $DPUHOST --json pools | chroot /host python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pools\"][0][\"total\"])')\" = 2 ]"
echo 0 >"$SYS_PCI/$PF/sriov_numvfs"
check "and vanish from it again" wait_until 20 sh -c "[ \"\$(chroot /host $DPUHOST --json pools | chroot /host python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pools\"][0][\"total\"])')\" = 0 ]"
kill "$UPID" 2>/dev/null

lab_step "dpuhost sriov goes through the daemon: 4 VFs, autoprobe off"
check "dpuhost sriov $PF --num-vfs 4 --autoprobe off" dh sriov "$PF" --num-vfs 4 --autoprobe off
check_eq "$PF sriov_numvfs" 4 "$(pci_attr "$PF" sriov_numvfs)"
check_eq "$PF sriov_drivers_autoprobe" 0 "$(pci_attr "$PF" sriov_drivers_autoprobe)"
check_eq "pool nvme-vfs has the 4 VFs" 4 "$(pool_total)"
VFS=$(pci_vfs "$PF" | awk '{ print $2 }')
for vf in $VFS; do check_eq "$vf has no driver (autoprobe off)" "" "$(pci_driver "$vf")"; done
host curl -s --unix-socket "$SOCK" http://localhost/v1/pools >"$LAB_OUT/pools-curl.json"
jflat "$LAB_OUT/pools-curl.json" /tmp/pools-curl.flat
check_json "curl GET /v1/pools: nvme-vfs free" /tmp/pools-curl.flat "pools/nvme-vfs/free" 4

lab_step "claims bind VFs to vfio-pci for real"
dh_json claim-a --json claim --owner vm-a --pool nvme-vfs --count 2 --label tenant=lab
IDA=$(jget /tmp/claim-a.flat id | tr -d '"')
CLAIMED_A=$(jkeys /tmp/claim-a.flat functions | tr '\n' ' ')
check "claim vm-a has 2 functions ($CLAIMED_A)" test "$(echo $CLAIMED_A | wc -w)" = 2
for vf in $CLAIMED_A; do
  g=$(pci_group "$vf")
  check_eq "$vf driver (sysfs)" vfio-pci "$(pci_driver "$vf")"
  check_eq "$vf driver_override" vfio-pci "$(pci_attr "$vf" driver_override)"
  check "/dev/vfio/$g is a character device" test -c "/dev/vfio/$g"
  check_json "$vf vfio_device in the claim" /tmp/claim-a.flat "functions/$vf/vfio_device" "\"/dev/vfio/$g\""
done
dh_json claim-a-again --json claim --owner vm-a --pool nvme-vfs --count 2
check_json "the same request again: the same claim" /tmp/claim-a-again.flat id "\"$IDA\""
FREE=
for vf in $VFS; do case " $CLAIMED_A " in *" $vf "*) ;; *) FREE="$FREE $vf" ;; esac; done

lab_step "SIGKILL in the middle of a claim"
# vm-b claims the two free VFs; the moment the kernel shows one of them being taken (its override
# is vfio-pci: the claim is recorded and its bind has begun), the daemon is killed
chroot /host "$DPUHOST" --json claim --owner vm-b --pool nvme-vfs --count 2 >/tmp/claim-b.json 2>/tmp/claim-b.err &
CPID=$!
n=0
while :; do
  hit=
  for vf in $FREE; do
    read -r o <"$SYS_PCI/$vf/driver_override"  # a builtin: no fork between two looks
    [ "$o" = vfio-pci ] && hit=$vf
  done
  [ -n "$hit" ] && break
  n=$((n + 1))
  [ $n -gt 200000 ] && break
done
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
check "the kill landed while $hit was being bound" test -n "$hit"
for vf in $FREE; do
  lab_say "  at the kill: $vf driver=$(pci_driver "$vf") override=$(pci_attr "$vf" driver_override)"
done
wait "$CPID"
rc=$?
check "the interrupted claim's client failed (exit $rc)" test "$rc" != 0
check "  and said why: $(tail -1 /tmp/claim-b.err)" grep -q "dpuhostd" /tmp/claim-b.err
# the stream ended with the daemon: the CLI is gone too (a bounded wait, then make sure)
wait_until 10 sh -c "! kill -0 $EPID 2>/dev/null"
kill "$EPID" 2>/dev/null
cp /tmp/events.json "$LAB_OUT/events-1.json"
check "events: function_added seen (uevents)" grep -q '"type":"function_added"' /tmp/events.json
check "events: function_removed seen" grep -q '"type":"function_removed"' /tmp/events.json
check "events: vm-a's claimed seen" grep -q "\"type\":\"claimed\",\"data\":{\"id\":\"$IDA\"" /tmp/events.json

lab_step "restart: recovery before serving"
start_daemon
check_eq "dpuhostd (pid $DPID) answers again" 0 "$?"
check "recovery rolled the interrupted claim back" grep -q "interrupted while claiming: rolled back" "$LAB_OUT/dpuhostd-$LIVES.log"
grep "recovery:" "$LAB_OUT/dpuhostd-$LIVES.log" | sed 's/^/LAB-OUT   /'
dh_json claims-after --json claims
check_json "one claim is left" /tmp/claims-after.flat claims "[1]"
check_json "  vm-a's" /tmp/claims-after.flat "claims/0/id" "\"$IDA\""
check_json "vm-a's claim is claimed" /tmp/claims-after.flat "claims/0/state" '"claimed"'
check_eq "vm-a's functions" "$(echo $CLAIMED_A | tr ' ' '\n' | sort | tr '\n' ' ')" \
  "$(jkeys /tmp/claims-after.flat claims/0/functions | sort | tr '\n' ' ')"
for vf in $VFS; do
  case " $CLAIMED_A " in
    *" $vf "*)
      check_eq "$vf (vm-a) still on vfio-pci" vfio-pci "$(pci_driver "$vf")"
      check "/dev/vfio/$(pci_group "$vf") still there" test -c "/dev/vfio/$(pci_group "$vf")" ;;
    *)
      check_eq "$vf (interrupted claim) back to no driver" "" "$(pci_driver "$vf")"
      check_eq "$vf driver_override cleared" "(null)" "$(pci_attr "$vf" driver_override)"
      check "/dev/vfio/$(pci_group "$vf") is gone" test ! -e "/dev/vfio/$(pci_group "$vf")" ;;
  esac
done
n=0
for vf in $VFS; do [ "$(pci_driver "$vf")" = vfio-pci ] && n=$((n + 1)); done
check_eq "VFs on vfio-pci = VFs in live claims" 2 "$n"
dh_json pools-after --json pools
check_json "pool nvme-vfs: 2 claimed" /tmp/pools-after.flat "pools/nvme-vfs/claimed" 2
check_json "pool nvme-vfs: 2 free" /tmp/pools-after.flat "pools/nvme-vfs/free" 2

lab_step "vm-b claims again, everything is released, the daemon stops cleanly"
dh_json claim-b --json claim --owner vm-b --pool nvme-vfs --count 2
for vf in $FREE; do check_eq "$vf (vm-b) on vfio-pci" vfio-pci "$(pci_driver "$vf")"; done
check "dpuhost release $IDA" dh release "$IDA"
check "dpuhost release --owner vm-b" dh release --owner vm-b
for vf in $VFS; do
  check_eq "$vf released: no driver" "" "$(pci_driver "$vf")"
  check_eq "$vf released: override cleared" "(null)" "$(pci_attr "$vf" driver_override)"
done
check "no /dev/vfio/N left but the container" sh -c "[ \"\$(ls /dev/vfio | grep -v '^vfio$' | wc -l)\" = 0 ]"
kill -TERM "$DPID"
wait "$DPID"
check_eq "SIGTERM: dpuhostd exits 0" 0 "$?"
check "  and removes its socket" test ! -e "/host$SOCK"
out=$(dh claims 2>&1)
check_eq "dpuhost claims without the daemon exits 1" 1 "$?"
check "  saying 'cannot reach dpuhostd at $SOCK: is it running?'" sh -c "echo '$out' | grep -q 'cannot reach dpuhostd at $SOCK: is it running?'"
check "sriov without the daemon works locally: 0 VFs" dh --state-dir "$STATE" sriov "$PF" --num-vfs 0
check_eq "$PF has no VFs" 0 "$(pci_attr "$PF" sriov_numvfs)"
