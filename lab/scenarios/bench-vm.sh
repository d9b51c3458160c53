#!/bin/sh
# Benchmark: dpuhostd's own overhead starting a VM with an NVMe VF (API create to running and realized, minus the same QEMU command line run by hand) and hot-plug latency (API vs bare device_add), interleaved rounds.
# set: manual
# timeout: 1200
#
# (a) create: POST /v1/vms (start) of a firmware-only VM with one VF from the pool returns once QEMU
#     runs with the device realized; curl's time_total is the API's time. The reference is the same
#     QEMU command line (the VM's argv from /proc/<pid>/cmdline, with its own QMP socket and console
#     paths) started by hand (lab/guest/qmp.py launch: spawn, poll QMP until qom-get realized is
#     true, cont), the VF already on vfio-pci. Overhead = API - hand. The API's time is split with
#     the event timestamps: claiming + binding (nvme -> vfio-pci), then QEMU up to running.
# (b) hot-plug: POST /v1/vms/{id}/devices into a running firmware-only VM (claim, bind, device_add,
#     qom-get realized) against a bare device_add + qom-get realized into a QEMU run by hand (VF
#     already on vfio-pci). Between rounds the device is unplugged (pending in firmware, completed by
#     a reset) and the VF goes back to nvme.
# The VFs start every round online and bound to nvme, as a host's. Rounds alternate daemon and hand
# so that drift in the VM's speed hits both alike, each measured step starting on a settled system.
# Results: LAB-OUT lines and $LAB_OUT/bench-vm.tsv.
# shellcheck source=lab/guest/vm.sh
. "/host$LAB_SRC/lab/guest/vm.sh"
lab_need_dpuhost
[ -x "/host$DPUHOSTD" ] || lab_abort dpuhostd-built "no $DPUHOSTD on the host: build the project first"
lab_load_drivers
ROUNDS=${BENCH_ROUNDS:-7}
# Every measured step starts SETTLE s after the fixture's last change: binding and unbinding send
# uevents, and dpuhostd re-reads its inventory on each, which competed with a QEMU started at once
# (the hand runs came out 0.3 s slower than the daemon's own starts without it).
SETTLE=2
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
C=$(nvme_ctrl "$PF")
sriov_make_vfs "$PF" 2 || lab_abort "create 2 VFs on $PF" "sriov_numvfs write failed"
VFS=$(pci_vfs "$PF" | awk '{ print $2 }' | tr '\n' ' ')
# shellcheck disable=SC2086 # VFS is a list
vfs_online_on_nvme "$C" $VFS || lab_abort "VFs online and on nvme" "virt-mgmt or the bind failed (see the console log)"
to_vfio() { vf_unbind "$1" && vf_bind "$1" vfio-pci; }     # fixture for the hand rounds
to_nvme() { vf_unbind "$1"; vf_bind_ns "$1"; }

vm_config "$PF" 500
vm_daemon_start
check "dpuhostd answers on $VM_SOCK" vm_api_up || lab_abort dpuhostd "did not start"
vm_events_start
TSV=$LAB_OUT/bench-vm.tsv
printf 'what\tmode\tround\ttotal_s\tclaim_bind_s\tqemu_s\tdetail\n' >"$TSV"

ev_time() {  # FROM_LINE PATTERN: seconds of the day of the first event after line FROM matching PATTERN
  tail -n +"$(($1 + 1))" /tmp/events.ndjson | grep -m1 -- "$2" |
    sed -n 's/.*"time":"[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z".*/\1 \2 \3/p' |
    awk '{ printf "%.3f\n", $1 * 3600 + $2 * 60 + $3 }'
}
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.3f", b - a }'; }

lab_step "(a) create to running with the device realized: API vs the same command line by hand, $ROUNDS rounds each"
ARGV=
r=1
while [ $r -le "$ROUNDS" ]; do
  # daemon
  sleep "$SETTLE"
  n0=$(wc -l </tmp/events.ndjson)
  t=$(host curl -s -o /tmp/api.out -w '%{time_total}' --unix-socket "$VM_SOCK" -X POST \
      --data-binary "{\"name\": \"b$r\", \"memory_mib\": 128, \"pci_devices\": [{\"pool\": \"nvme-vfs\"}]}" \
      http://localhost/v1/vms)
  t=$(awk -v t="$t" 'BEGIN { printf "%.3f", t }')
  cp /tmp/api.out "$LAB_OUT/create-$r.json"
  jflat /tmp/api.out /tmp/c.flat
  check_json "round $r: b$r running" /tmp/c.flat state '"running"'
  pid=$(jget /tmp/c.flat pid)
  vf=$(jkeys /tmp/c.flat devices | head -1)
  check_eq "round $r: QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$pid")"
  if [ -z "$ARGV" ] && [ -r "/proc/$pid/cmdline" ]; then
    # the VM's own argv, with the hand run's QMP socket and console instead of the VM's
    tr '\0' '\n' <"/proc/$pid/cmdline" | sed -e "s|^unix:.*/qmp.sock,|unix:/tmp/hand/qmp.sock,|" \
      -e "s|^file:.*/console.log$|file:/tmp/hand/console.log|" >/tmp/hand.argv
    cp /tmp/hand.argv "$LAB_OUT/hand.argv"
    ARGV=/tmp/hand.argv
    HVF=$vf
  fi
  sleep 1  # the events of this round reach the follower
  t_claiming=$(ev_time "$n0" "\"name\":\"b$r\",\"state\":\"creating\",\"reason\":\"claiming")
  t_claimed=$(ev_time "$n0" "\"type\":\"claimed\".*\"owner\":\"vm:b$r\"")
  t_qemu=$(ev_time "$n0" "\"name\":\"b$r\",\"state\":\"creating\",\"reason\":\"starting QEMU")
  t_spawned=$(ev_time "$n0" "\"name\":\"b$r\",\"state\":\"creating\",\"reason\":\"QEMU started")
  t_run=$(ev_time "$n0" "\"name\":\"b$r\",\"state\":\"running\"")
  printf 'create\tdaemon\t%s\t%s\t%s\t%s\tspawn=%s qmp+realized+cont=%s\n' "$r" "$t" "$(diff_s "$t_claiming" "$t_claimed")" \
    "$(diff_s "$t_qemu" "$t_run")" "$(diff_s "$t_qemu" "$t_spawned")" "$(diff_s "$t_spawned" "$t_run")" >>"$TSV"
  st=$(api POST "/v1/vms/b$r/stop" '{"force": true}')
  check_eq "round $r: stop b$r" 200 "$st"
  st=$(api DELETE "/v1/vms/b$r")
  check_eq "round $r: delete b$r" 200 "$st"
  check "round $r: $vf back on nvme" wait_until 20 vf_on_nvme "$vf"
  # hand
  mkdir -p /tmp/hand
  to_vfio "$HVF"
  sleep "$SETTLE"
  out=$(qmp --timeout 60 launch "$ARGV" dev0)
  check "round $r: QEMU by hand up, dev0 realized (pid ${out%% *})" test -n "$out"
  hpid=${out%% *}
  out=${out#* }
  printf 'create\thand\t%s\t%s\t-\t%s\t%s\n' "$r" "${out%% *}" "${out%% *}" "${out#* }" >>"$TSV"
  check_eq "round $r: hand QEMU holds 1 VFIO device" 1 "$(qemu_vfio_devices "$hpid")"
  kill "$hpid" 2>/dev/null
  wait_until 20 pid_gone "$hpid"
  to_nvme "$HVF"
  lab_say "round $r: API $t s, by hand ${out%% *} s (${out#* })"
  r=$((r + 1))
done

lab_step "(b) hot-plug: API (claim, bind, device_add, realized) vs bare device_add + qom-get by hand"
st=$(api_json hpvm POST /v1/vms '{"name": "hp", "memory_mib": 128, "hotplug_slots": 1}')
check_eq "firmware-only VM hp with a spare port: 201" 201 "$st"
head -n "$(grep -n '^-S$' "$ARGV" | cut -d: -f1)" "$ARGV" >/tmp/hand-hp.argv  # up to -S: no device
printf '%s\n' -device pcie-root-port,id=rp1,chassis=1,slot=1 >>/tmp/hand-hp.argv
cp /tmp/hand-hp.argv "$LAB_OUT/hand-hp.argv"
out=$(qmp --timeout 60 launch /tmp/hand-hp.argv)
HPID=${out%% *}
check "QEMU by hand with a spare port (pid $HPID)" pid_alive "$HPID"
r=1
while [ $r -le "$ROUNDS" ]; do
  sleep "$SETTLE"
  n0=$(wc -l </tmp/events.ndjson)
  t=$(host curl -s -o /tmp/api.out -w '%{time_total}' --unix-socket "$VM_SOCK" -X POST \
      --data-binary '{"pool": "nvme-vfs"}' http://localhost/v1/vms/hp/devices)
  t=$(awk -v t="$t" 'BEGIN { printf "%.3f", t }')
  cp /tmp/api.out "$LAB_OUT/plug-$r.json"
  jflat /tmp/api.out /tmp/p.flat
  check_json "round $r: hp0 attached" /tmp/p.flat state '"attached"'
  vf=$(jget /tmp/p.flat address | tr -d '"')
  sleep 1
  t_claimed=$(ev_time "$n0" "\"type\":\"claimed\".*\"owner\":\"vm:hp\"")
  t_att=$(ev_time "$n0" "\"name\":\"hp\",\"device\":\"hp0\".*\"state\":\"attached\"")
  st=$(api DELETE /v1/vms/hp/devices/hp0)
  check_eq "round $r: unplug from firmware: 202 pending" 202 "$st"
  st=$(api POST /v1/vms/hp/reset)
  check_eq "round $r: reset" 200 "$st"
  check "round $r: $vf back on nvme" wait_until 20 vf_on_nvme "$vf"
  printf 'hotplug\tdaemon\t%s\t%s\t-\t%s\tclaimed to attached\n' "$r" "$t" "$(diff_s "$t_claimed" "$t_att")" >>"$TSV"
  # hand
  to_vfio "$vf"
  sleep "$SETTLE"
  h=$(qmp /tmp/hand/qmp.sock hotplug hp0 "$vf" rp1)
  check "round $r: device_add by hand realized ($h s)" test -n "$h"
  printf 'hotplug\thand\t%s\t%s\t-\t%s\tdevice_add + qom-get\n' "$r" "$h" "$h" >>"$TSV"
  qmp /tmp/hand/qmp.sock exec device_del '{"id": "hp0"}' >/dev/null
  qmp /tmp/hand/qmp.sock exec system_reset >/dev/null
  wait_until 20 sh -c "[ \"\$(chroot /host python3 $QMP_PY /tmp/hand/qmp.sock exec qom-list '{\"path\": \"/machine/peripheral\"}' | grep -c hp0)\" = 0 ]"
  wait_until 10 not qemu_holds_group "$HPID" "$(pci_group "$vf")"
  to_nvme "$vf"
  lab_say "round $r: hot-plug API $t s, by hand $h s"
  r=$((r + 1))
done
kill "$HPID"
wait_until 20 pid_gone "$HPID"
st=$(api DELETE /v1/vms/hp)
check_eq "delete hp" 200 "$st"
vm_events_stop

median() {  # WHAT MODE COLUMN
  awk -F '\t' -v w="$1" -v m="$2" -v c="$3" 'NR > 1 && $1 == w && $2 == m && $c != "-" { print $c }' "$TSV" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cd_=$(median create daemon 4)
ch=$(median create hand 4)
cb=$(median create daemon 5)
cq=$(median create daemon 6)
hd=$(median hotplug daemon 4)
hh=$(median hotplug hand 4)
hq=$(median hotplug daemon 6)
lab_say "medians of $ROUNDS rounds (firmware-only VM, 128 MiB, one NVMe VF; TCG):"
lab_say "  create to running, device realized: API $cd_ s, same command line by hand $ch s, dpuhostd overhead $(diff_s "$ch" "$cd_") s"
lab_say "    API split: claim + bind (nvme -> vfio-pci) $cb s, QEMU spawned to running $cq s (by hand: $ch s)"
lab_say "  hot-plug to realized: API $hd s (of which device_add + realized $hq s), bare device_add + qom-get by hand $hh s"
vm_daemon_stop
check_eq "dpuhostd stops on SIGTERM (exit 0)" 0 "$VM_DRC"
vm_cleanup
check_eq "no QEMU left running" "" "$(qemu_pids)"
