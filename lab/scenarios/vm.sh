#!/bin/sh
# VMs through dpuhostd: a firmware-only VM with an NVMe VF starts realized, a second VF is hot-plugged, its unplug stays pending until a reset, stop gives every VF back to its recorded driver; events, the CLI, a refusal.
# set: default
# timeout: 300
#
# dpuhostd runs as on a host (chroot /host, the build's daemon/dpuhostd) with its state and socket
# in /tmp and a pool of the NVMe PF's VFs; the scenario talks to it with curl and the CLI. The VFs
# are brought online (virt-mgmt) and bound to nvme first, as a host's VFs would be, so "given back
# to the recorded driver" means a live nvme controller again, not merely "no driver". What the API
# says is checked against the kernel (sysfs, /proc/<qemu>/fd) and against QEMU itself (qmp.py). QEMU
# serves one QMP client at a time and dpuhostd holds that connection while it runs, so QEMU is asked
# while dpuhostd is stopped; QEMU outlives it, and the restarted dpuhostd must re-attach.
# shellcheck source=lab/guest/vm.sh
. "/host$LAB_SRC/lab/guest/vm.sh"
lab_need_dpuhost
[ -x "/host$DPUHOSTD" ] || lab_abort dpuhostd-built "no $DPUHOSTD on the host: build the project first"
lab_load_drivers
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
C=$(nvme_ctrl "$PF")
UNPLUG_MS=2000

lab_step "fixture: 2 NVMe VFs online (nsid 2, 3) and bound to nvme, like a host's"
sriov_make_vfs "$PF" 2 || lab_abort "create 2 VFs on $PF" "sriov_numvfs write failed"
VFS=$(pci_vfs "$PF" | awk '{ print $2 }' | tr '\n' ' ')
# shellcheck disable=SC2086 # VFS is a list
vfs_online_on_nvme "$C" $VFS || lab_abort "VFs online and on nvme" "virt-mgmt or the bind failed (see the console log)"
for vf in $VFS; do check_eq "$vf on nvme before the VMs" nvme "$(pci_driver "$vf")"; done

on_nvme() {  # VF: bound to nvme with a live controller and its namespace disk
  vf_on_nvme "$1" && vf_has_ns "$1"
}
lab_step "dpuhostd with a pool of the VFs and VMs on (unplug_timeout_ms $UNPLUG_MS)"
vm_config "$PF" "$UNPLUG_MS"
vm_daemon_start
check "dpuhostd answers on $VM_SOCK" vm_api_up || lab_abort dpuhostd "did not start (see dpuhostd-1.log)"
vm_events_start

lab_step "a refusal: a device from an unknown pool"
st=$(api_json refuse POST /v1/vms '{"name": "bad", "memory_mib": 128, "pci_devices": [{"pool": "no-such-pool"}]}')
check_eq "POST /v1/vms with pool no-such-pool: 404" 404 "$st"
check "  the message names the pool" grep -q "no-such-pool" "$LAB_OUT/refuse.json"
st=$(api_json list0 GET /v1/vms)
check_eq "  GET /v1/vms: 200" 200 "$st"
check_json "  no VM was kept" /tmp/list0.flat vms "[0]"
check_eq "  nothing claimed" "" "$(claims_of vm:bad)"
for vf in $VFS; do check "  $vf still on nvme" on_nvme "$vf"; done

lab_step "a firmware-only VM with one VF from the pool, through the API"
t0=$(lab_uptime)
st=$(api_json create POST /v1/vms '{"name": "fw1", "memory_mib": 128, "pci_devices": [{"pool": "nvme-vfs"}]}')
lab_say "create + start: $(lab_since "$t0") s"
check_eq "POST /v1/vms: 201" 201 "$st" || lab_abort "create fw1" "$(cat "$LAB_OUT/create.json")"
check_json "fw1 state" /tmp/create.flat state '"running"'
check_json "fw1 accel (no usable KVM in the lab)" /tmp/create.flat accel '"tcg"'
check "fw1 created this year ($(jget /tmp/create.flat created))" grep -q "^created	\"$(date -u +%Y)-" /tmp/create.flat
check_json "fw1 has one device" /tmp/create.flat devices "[1]"
D0=$(jkeys /tmp/create.flat devices | head -1)
check_json "fw1 dev0 id" /tmp/create.flat "devices/$D0/id" '"dev0"'
check_json "fw1 dev0 attached" /tmp/create.flat "devices/$D0/state" '"attached"'
check "fw1 dev0 is one of the pool's VFs ($D0)" sh -c "echo ' $VFS ' | grep -q ' $D0 '"
QPID=$(jget /tmp/create.flat pid)
ID=$(jget /tmp/create.flat id | tr -d '"')
QMPS=$(jget /tmp/create.flat qmp_socket | tr -d '"')
check "fw1 has an id ($ID)" sh -c "echo '$ID' | grep -q '^vm-[0-9a-f]\{16\}\$'"
check "fw1 has a QEMU pid ($QPID)" pid_alive "$QPID"
D1=
for vf in $VFS; do [ "$vf" != "$D0" ] && D1=$vf; done
G0=$(pci_group "$D0")
G1=$(pci_group "$D1")
check_eq "$D0 on vfio-pci (sysfs)" vfio-pci "$(pci_driver "$D0")"
check "QEMU $QPID holds /dev/vfio/$G0" qemu_holds_group "$QPID" "$G0"
check_eq "QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$QPID")"
check_eq "$D0 enabled by its user (sysfs enable)" 1 "$(pci_attr "$D0" enable)"
check_eq "claims of vm:fw1" "$D0" "$(claims_of vm:fw1)"
check "$D1 (not asked for) still on nvme" on_nvme "$D1"
st=$(api_json show GET /v1/vms/fw1)
check_eq "GET /v1/vms/fw1: 200" 200 "$st"
check_json "  running" /tmp/show.flat state '"running"'
check_json "  the same pid" /tmp/show.flat pid "$QPID"

lab_step "hot-plug a second VF (POST /v1/vms/fw1/devices)"
t0=$(lab_uptime)
st=$(api_json plug POST "/v1/vms/$ID/devices" '{"pool": "nvme-vfs"}')
lab_say "hot-plug: $(lab_since "$t0") s"
check_eq "POST devices: 201" 201 "$st" || lab_abort "hot-plug" "$(cat "$LAB_OUT/plug.json")"
check_json "  id hp0" /tmp/plug.flat id '"hp0"'
check_json "  the other VF" /tmp/plug.flat address "\"$D1\""
check_json "  attached" /tmp/plug.flat state '"attached"'
check_eq "$D1 on vfio-pci (sysfs)" vfio-pci "$(pci_driver "$D1")"
check "QEMU $QPID holds /dev/vfio/$G1" qemu_holds_group "$QPID" "$G1"
check_eq "QEMU holds 2 VFIO devices" 2 "$(qemu_vfio_devices "$QPID")"
check_eq "claims of vm:fw1" "$(echo "$D0 $D1" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$(claims_of vm:fw1)"

lab_step "QEMU's own view (dpuhostd stopped meanwhile: QMP serves one client)"
vm_daemon_stop
check_eq "dpuhostd stops on SIGTERM (exit 0)" 0 "$VM_DRC"
check "QEMU $QPID outlives dpuhostd" pid_alive "$QPID"
check_eq "qom-get dev0 realized" true "$(qmp "$QMPS" realized dev0)"
check_eq "qom-get hp0 realized" true "$(qmp "$QMPS" realized hp0)"
check_eq "qom-get dev0 host" "\"$D0\"" "$(qmp "$QMPS" exec qom-get '{"path": "/machine/peripheral/dev0", "property": "host"}')"
check_eq "qom-get hp0 host" "\"$D1\"" "$(qmp "$QMPS" exec qom-get '{"path": "/machine/peripheral/hp0", "property": "host"}')"
check_eq "query-status: running" '"running"' "$(qmp "$QMPS" exec query-status | sed 's/.*"status": \("[a-z-]*"\).*/\1/')"
vm_daemon_start
check "dpuhostd answers again" vm_api_up || lab_abort dpuhostd "did not restart (see dpuhostd-$VM_LIVES.log)"
vm_events_stop 1
vm_events_start
st=$(api_json reattached GET /v1/vms/fw1)
check_json "fw1 re-attached: running" /tmp/reattached.flat state '"running"'
check_json "  the same pid" /tmp/reattached.flat pid "$QPID"
check_json "  dev0 attached" /tmp/reattached.flat "devices/$D0/state" '"attached"'
check_json "  hp0 attached" /tmp/reattached.flat "devices/$D1/state" '"attached"'

lab_step "unplug hp0 from the firmware-only guest: pending until a reset"
t0=$(lab_uptime)
st=$(api_json unplug DELETE "/v1/vms/$ID/devices/hp0")
el=$(lab_since "$t0")
check_eq "DELETE hp0: 202" 202 "$st"
check_json "  unplug_pending" /tmp/unplug.flat state '"unplug_pending"'
check "  after waiting unplug_timeout_ms ($el s)" awk -v e="$el" -v t="$UNPLUG_MS" 'BEGIN { exit !(e * 1000 >= t * 0.95) }'
check_eq "$D1 stays on vfio-pci" vfio-pci "$(pci_driver "$D1")"
check "QEMU still holds /dev/vfio/$G1" qemu_holds_group "$QPID" "$G1"
check_eq "claims of vm:fw1 unchanged" "$(echo "$D0 $D1" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" "$(claims_of vm:fw1)"
st=$(api_json pending GET /v1/vms/fw1)
check_json "GET: hp0 unplug_pending" /tmp/pending.flat "devices/$D1/state" '"unplug_pending"'
st=$(api_json unplug2 DELETE "/v1/vms/$ID/devices/hp0")
check_eq "DELETE hp0 again: 202" 202 "$st"
check_json "  still unplug_pending" /tmp/unplug2.flat state '"unplug_pending"'
check_eq "$D1 still on vfio-pci" vfio-pci "$(pci_driver "$D1")"

lab_step "reset completes the unplug: $D1 back on nvme, its claim released"
t0=$(lab_uptime)
st=$(api_json reset POST "/v1/vms/$ID/reset")
check_eq "POST reset: 200" 200 "$st"
check "$D1 back on nvme with its namespace" wait_until 20 on_nvme "$D1"
lab_say "reset to $D1 back on nvme: $(lab_since "$t0") s"
check_eq "QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$QPID")"
check "QEMU no longer holds /dev/vfio/$G1" not qemu_holds_group "$QPID" "$G1"
check_eq "claims of vm:fw1: $D0 only" "$D0" "$(claims_of vm:fw1)"
st=$(api_json after-reset GET /v1/vms/fw1)
check_json "fw1 still running" /tmp/after-reset.flat state '"running"'
check_json "fw1 has one device" /tmp/after-reset.flat devices "[1]"
check_json "  dev0" /tmp/after-reset.flat "devices/$D0/id" '"dev0"'
check_eq "$D0 still on vfio-pci" vfio-pci "$(pci_driver "$D0")"

lab_step "stop: every VF back on nvme, every claim released"
st=$(api_json stop POST "/v1/vms/$ID/stop")
check_eq "POST stop: 200" 200 "$st"
check_json "  stopped" /tmp/stop.flat state '"stopped"'
check "QEMU $QPID is gone" wait_until 10 pid_gone "$QPID"
for vf in $VFS; do check "$vf back on nvme with its namespace" wait_until 20 on_nvme "$vf"; done
check_eq "no claims of vm:fw1" "" "$(claims_of vm:fw1)"
check "/dev/vfio/$G0 is gone" test ! -e "/dev/vfio/$G0"
st=$(api_json stopped GET /v1/vms/fw1)
check_json "GET: stopped" /tmp/stopped.flat state '"stopped"'
check_json "GET: no devices" /tmp/stopped.flat devices "[0]"
check_json "GET: pid null" /tmp/stopped.flat pid null
st=$(api_json delete DELETE /v1/vms/fw1)
check_eq "DELETE fw1: 200" 200 "$st"
st=$(api_json gone GET /v1/vms/fw1)
check_eq "GET fw1 after delete: 404" 404 "$st"

lab_step "the events stream showed every change"
sleep 1
vm_events_stop 2
cat "$LAB_OUT/events-1.ndjson" "$LAB_OUT/events-2.ndjson" >/tmp/events.ndjson
for s in creating running; do
  check "event vm_state fw1 $s" events_has vm_state name=fw1 state=$s
done
check "event vm_device hp0 attached" events_has vm_device name=fw1 device=hp0 state=attached address="$D1"
check "event vm_device hp0 unplug_pending" events_has vm_device name=fw1 device=hp0 state=unplug_pending
check "event vm_device hp0 detached" events_has vm_device name=fw1 device=hp0 state=detached address="$D1"
check "event vm_device dev0 detached" events_has vm_device name=fw1 device=dev0 state=detached address="$D0"
check "event vm_state fw1 stopping" events_has vm_state name=fw1 state=stopping reason="ACPI power-down requested"
check "event vm_state fw1 stopped (reason: stopped)" events_has vm_state name=fw1 state=stopped reason=stopped
check "event vm_state fw1 deleted" events_has vm_state name=fw1 state=deleted
vm_events_start

lab_step "the CLI: dpuhost vm create, list, show, attach, detach, reset, stop, delete"
dh_json cli-create --socket "$VM_SOCK" --json vm create cli1 --memory 128 --device pool=nvme-vfs
check_json "vm create: running" /tmp/cli-create.flat state '"running"'
C0=$(jkeys /tmp/cli-create.flat devices | head -1)
check_eq "vm create: $C0 on vfio-pci" vfio-pci "$(pci_driver "$C0")"
CPID=$(jget /tmp/cli-create.flat pid)
check_eq "  QEMU $CPID holds 1 VFIO device" 1 "$(qemu_vfio_devices "$CPID")"
dh_json cli-list --socket "$VM_SOCK" --json vm list
check_json "vm list: cli1 running" /tmp/cli-list.flat vms/cli1/state '"running"'
dhv vm list >"$LAB_OUT/cli-list.txt" 2>&1
check "vm list (text) shows cli1 running" grep -q "cli1 .*running" "$LAB_OUT/cli-list.txt"
dh_json cli-show --socket "$VM_SOCK" --json vm show cli1
check_json "vm show: pid" /tmp/cli-show.flat pid "$CPID"
dh_json cli-attach --socket "$VM_SOCK" --json vm attach cli1 --pool nvme-vfs
C1=$(jget /tmp/cli-attach.flat address | tr -d '"')
check "vm attach: a second VF ($C1)" test -n "$C1" -a "$C1" != "$C0" -a "$C1" != "<absent>"
check_eq "  $C1 on vfio-pci" vfio-pci "$(pci_driver "$C1")"
check_eq "  QEMU holds 2 VFIO devices" 2 "$(qemu_vfio_devices "$CPID")"
dhv vm detach cli1 hp0 >"$LAB_OUT/cli-detach.txt" 2>&1
rc=$?
check_eq "vm detach (pending) exits 0" 0 "$rc"
check "  and says unplug_pending" grep -q unplug_pending "$LAB_OUT/cli-detach.txt"
check_eq "  $C1 stays on vfio-pci" vfio-pci "$(pci_driver "$C1")"
check "vm reset" dhv vm reset cli1
check "  $C1 back on nvme" wait_until 20 on_nvme "$C1"
check "vm stop" dhv vm stop cli1
check "  QEMU $CPID is gone" wait_until 10 pid_gone "$CPID"
check "  $C0 back on nvme" wait_until 20 on_nvme "$C0"
check "vm delete" dhv vm delete cli1
out=$(dhv vm show cli1 2>&1)
check_eq "vm show after delete fails (exit 1)" 1 "$?"
check "  saying it does not exist" sh -c "echo '$out' | grep -q 'does not exist'"
out=$(dhv vm create cli2 --memory 128 --device pool=no-such-pool 2>&1)
check_eq "vm create from an unknown pool fails (exit 1)" 1 "$?"
check "  naming the pool: $out" sh -c "echo '$out' | grep -q no-such-pool"
for vf in $VFS; do check "$vf on nvme at the end" on_nvme "$vf"; done
check_eq "no VMs left" "[0]" "$(api_json end GET /v1/vms >/dev/null; jget /tmp/end.flat vms)"

vm_events_stop 3
check "event vm_state cli1 running" events_has vm_state name=cli1 state=running
check "event vm_device cli1 hp0 detached" events_has vm_device name=cli1 device=hp0 state=detached address="$C1"
check "event vm_state cli1 stopped (reason: stopped)" events_has vm_state name=cli1 state=stopped reason=stopped
check "event vm_state cli1 deleted" events_has vm_state name=cli1 state=deleted
vm_daemon_stop
check_eq "dpuhostd stops on SIGTERM (exit 0)" 0 "$VM_DRC"
vm_cleanup
check_eq "no QEMU left running" "" "$(qemu_pids)"
