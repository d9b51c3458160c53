#!/bin/sh
# Benchmark: bind 4 NVMe VFs from nvme to vfio-pci and restore them, serially (--parallel 1) and in parallel (--parallel 4), interleaved rounds.
# set: manual
# timeout: 900
#
# The VFs are brought online (virt-mgmt) and bound to nvme first, so that a bind unbinds a live
# NVMe controller and a restore probes one again: the work a host does when it hands NVMe VFs
# to VMs. Rounds alternate serial and parallel so that drift in the VM's speed hits both alike.
# Each round also times `dpuhost --version`: the fixed cost of starting the CLI in the chroot under
# TCG, which the bind and restore times include.
# Results: LAB-OUT lines and $LAB_OUT/bench-bind.tsv (mode, round, start s, bind s, restore s).
lab_need_dpuhost
lab_load_drivers
ROUNDS=${BENCH_ROUNDS:-5}
STATE=/tmp/dpuhost-state
dhs() { dh --state-dir "$STATE" "$@"; }
PF=$(nvme_pf) || lab_abort "NVMe PF present" "no NVMe controller with SR-IOV in the VM"
C=$(nvme_ctrl "$PF")
sriov_make_vfs "$PF" 4 || lab_abort "create 4 VFs on $PF" "sriov_numvfs write failed"
VFS=$(pci_vfs "$PF" | awk '{ print $2 }' | tr '\n' ' ')

lab_step "4 VFs online and bound to nvme"
for i in 0 1 2 3; do
  nvme_vf_online "$C" "$i" || lab_abort "VF $i online" "virt-mgmt failed (see the console log)"
done
for vf in $VFS; do
  echo nvme >"$SYS_PCI/$vf/driver_override"
  echo "$vf" >/sys/bus/pci/drivers_probe
  echo >"$SYS_PCI/$vf/driver_override"   # a host's VF: bound to nvme, no override
done
wait_until 30 nvme_ctrl_ready
for vf in $VFS; do check_eq "$vf on nvme before the benchmark" nvme "$(pci_driver "$vf")"; done

on_driver() {  # DRIVER: every VF is bound to DRIVER
  local vf
  for vf in $VFS; do [ "$(pci_driver "$vf")" = "$1" ] || return 1; done
}

TSV=$LAB_OUT/bench-bind.tsv
printf 'mode\tround\tstart_s\tbind_s\trestore_s\n' >"$TSV"
r=1
while [ $r -le "$ROUNDS" ]; do
  for p in 1 4; do
    t0=$(lab_uptime)
    dhs --version >/dev/null
    ts=$(lab_since "$t0")
    t0=$(lab_uptime)
    # shellcheck disable=SC2086
    dhs bind $VFS --parallel $p >/tmp/bind.out 2>&1
    rc=$?
    tb=$(lab_since "$t0")
    check_eq "round $r --parallel $p: bind exits 0" 0 "$rc" || cat /tmp/bind.out
    check "round $r --parallel $p: all 4 on vfio-pci" on_driver vfio-pci
    t0=$(lab_uptime)
    # shellcheck disable=SC2086
    dhs restore $VFS --parallel $p >/tmp/restore.out 2>&1
    rc=$?
    tr_=$(lab_since "$t0")
    check_eq "round $r --parallel $p: restore exits 0" 0 "$rc" || cat /tmp/restore.out
    check "round $r --parallel $p: all 4 back on nvme" on_driver nvme
    wait_until 30 nvme_ctrl_ready
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$r" "$ts" "$tb" "$tr_" >>"$TSV"
    lab_say "round $r --parallel $p: bind ${tb} s, restore ${tr_} s (dpuhost --version ${ts} s)"
  done
  r=$((r + 1))
done

median() {  # MODE COLUMN: the median of that column over the rounds of that mode
  awk -F '\t' -v m="$1" -v c="$2" 'NR > 1 && $1 == m { print $c }' "$TSV" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
st=$(median 1 3)
sb=$(median 1 4)
sr=$(median 1 5)
pb=$(median 4 4)
pr=$(median 4 5)
lab_say "median of $ROUNDS rounds, 4 VFs nvme -> vfio-pci -> nvme (dpuhost --version alone: $st s):"
lab_say "  serial   (--parallel 1): bind $sb s, restore $sr s"
lab_say "  parallel (--parallel 4): bind $pb s, restore $pr s"
lab_say "  parallel/serial: bind $(awk -v a="$pb" -v b="$sb" 'BEGIN { printf "%.2f", a / b }'), restore $(awk -v a="$pr" -v b="$sr" 'BEGIN { printf "%.2f", a / b }')"
