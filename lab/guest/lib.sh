# shellcheck shell=dash
# Helper library of the dpuhost lab scenarios (busybox sh, inside the lab VM).
# /init sources it before the scenario; `lab/run --shell` sources it in the shell too.
#
# Rules for scenarios: what is tested runs as the project's own binaries (dh, dhd); the
# shell only sets up fixtures and reads sysfs as the oracle, the kernel's own view.
#
# Environment (set by /init): LAB_SRC (checkout on the host), LAB_BUILD (build dir on
# the host), LAB_OUT (this scenario's log directory, shared with the host: artifacts go
# there), LAB_SHARE (the lab's read-write share: L2 assets in $LAB_SHARE/l2), LAB_SCENARIO.
# /tmp is the same directory inside and outside `chroot /host`.

LAB_PASSES=0
LAB_FAILS=0
SYS_PCI=/sys/bus/pci/devices

# --- results: the host counts LAB-PASS and LAB-FAIL lines --------------------------------

lab_pass() {  # NAME
  LAB_PASSES=$((LAB_PASSES + 1))
  echo "LAB-PASS $*"
}

lab_fail() {  # NAME REASON...
  local name=$1
  shift
  LAB_FAILS=$((LAB_FAILS + 1))
  echo "LAB-FAIL $name: $*"
}

lab_abort() {  # NAME REASON...: fail and end the scenario (nothing after it makes sense)
  lab_fail "$@"
  exit 1
}

lab_skip() {  # REASON...: the scenario cannot run here; reported loudly, neither pass nor fail
  echo "LAB-SKIP $*"
  exit 0
}

lab_step() { echo "LAB-STEP $*"; }   # progress, shown on the host terminal
lab_say() { echo "LAB-OUT $*"; }     # output meant for the host terminal (demo)

lab_end() {  # called by /init after the scenario
  echo "LAB: $LAB_SCENARIO: $LAB_PASSES passed, $LAB_FAILS failed"
  [ "$LAB_FAILS" = 0 ]
}

check_eq() {  # NAME EXPECTED GOT
  if [ "$2" = "$3" ]; then
    lab_pass "$1"
  else
    lab_fail "$1" "expected $2, got $3"
  fi
}

check() {  # NAME CMD...: passes when CMD exits 0; CMD's output is kept in the console log
  local name=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/  | /'
  if [ $rc = 0 ]; then
    lab_pass "$name"
  else
    lab_fail "$name" "\`$*\` exited $rc: $(printf '%s\n' "$out" | tail -1)"
  fi
  return $rc
}

# --- the project's binaries ---------------------------------------------------------------

DPUHOST=$LAB_BUILD/cli/dpuhost
DPUHOSTD=$LAB_BUILD/daemon/dpuhostd

dh() { chroot /host "$DPUHOST" "$@"; }      # dpuhost ARGS..., run with the host userland
dhd() { chroot /host "$DPUHOSTD" "$@"; }    # dpuhostd ARGS...
host() { chroot /host "$@"; }               # any host tool: host nvme list, host devlink dev

lab_need_dpuhost() {  # end the scenario with a failure when the CLI is not built
  [ -x "/host$DPUHOST" ] || lab_abort dpuhost-built "no $DPUHOST on the host: build the project (meson/ninja) first"
}

dh_json() {  # NAME ARGS...: run `dpuhost ARGS` expecting JSON; keeps $LAB_OUT/NAME.json,
             # flattens it to /tmp/NAME.flat (see jget) and asserts exit 0 + valid JSON.
  local name=$1 rc
  shift
  dh "$@" >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.stderr"
  rc=$?
  if [ $rc != 0 ]; then
    lab_fail "$name: dpuhost $* exits 0" "exit status $rc: $(tail -1 "$LAB_OUT/$name.stderr")"
    return 1
  fi
  lab_pass "$name: dpuhost $* exits 0"
  if ! jflat "$LAB_OUT/$name.json" "/tmp/$name.flat" 2>"/tmp/$name.jerr"; then
    lab_fail "$name: output is JSON" "$(cat "/tmp/$name.jerr") (see $name.json in the log directory)"
    return 1
  fi
  lab_pass "$name: output is JSON"
}

dh_show() {  # ARGS...: run `dpuhost ARGS` and show its output on the host terminal
  local rc
  lab_say ""
  lab_say "\$ dpuhost $*"
  dh "$@" >/tmp/dh_show.out 2>&1
  rc=$?
  sed 's/^/LAB-OUT /' /tmp/dh_show.out
  [ $rc = 0 ] || lab_say "(exit status $rc)"
  return $rc
}

# --- JSON (python3 of the host, only to reshape) -------------------------------------------

jflat() {  # IN OUT: flatten JSON file IN into "PATH<TAB>VALUE" lines (lab/guest/jflat.py)
  chroot /host python3 "$LAB_SRC/lab/guest/jflat.py" <"$1" >"$2"
}

jget() {  # FLAT PATH: the value at PATH as a JSON literal ("nvme", 3, null, [2]); <absent> if none
  awk -F '\t' -v p="$2" '$1 == p { print $2; found = 1; exit } END { if (!found) print "<absent>" }' "$1"
}

jlist() {  # FLAT PATH: the scalar items of the list at PATH, strings unquoted, sorted, one line
  awk -F '\t' -v p="$2/" 'index($1, p) == 1 && index(substr($1, length(p) + 1), "/") == 0 {
    v = $2; if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2); print v }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

jkeys() {  # FLAT PATH: the names of the direct members of the object or list at PATH
  awk -F '\t' -v p="$2/" 'index($1, p) == 1 && index(substr($1, length(p) + 1), "/") == 0 {
    print substr($1, length(p) + 1) }' "$1"
}

js() { if [ -n "$1" ]; then echo "\"$1\""; else echo null; fi; }  # string literal, or null if empty
jn() { if [ -n "$1" ]; then echo "$1"; else echo null; fi; }      # number literal, or null if empty

# --- the oracle: the kernel's view in sysfs ------------------------------------------------

pci_devices() { ls "$SYS_PCI" | sort; }
pci_attr() { cat "$SYS_PCI/$1/$2" 2>/dev/null; }  # BDF ATTR
pci_driver() { [ -e "$SYS_PCI/$1/driver" ] && basename "$(readlink "$SYS_PCI/$1/driver")"; }
pci_group() { [ -e "$SYS_PCI/$1/iommu_group" ] && basename "$(readlink "$SYS_PCI/$1/iommu_group")"; }
pci_group_members() { ls "/sys/kernel/iommu_groups/$1/devices" 2>/dev/null | sort; }  # GROUP
pci_is_pf() { [ -e "$SYS_PCI/$1/sriov_totalvfs" ]; }
pci_is_vf() { [ -e "$SYS_PCI/$1/physfn" ]; }
pci_physfn() { basename "$(readlink "$SYS_PCI/$1/physfn")"; }

pci_find() {  # VENDOR DEVICE (0x1b36 0x0010): the BDFs of that ID, one per line
  local d
  for d in "$SYS_PCI"/*; do
    [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] && echo "${d##*/}"
  done
}

nvme_pf() {  # the first NVMe controller (class 0x010802) that can do SR-IOV
  local d
  for d in "$SYS_PCI"/*; do
    [ "$(cat "$d/class")" = 0x010802 ] && [ -e "$d/sriov_totalvfs" ] && { echo "${d##*/}"; return 0; }
  done
  return 1
}

e1000e_nic() { pci_find 0x8086 0x10d3 | head -1; }  # the lab's e1000e (82574L)

pci_vfs() {  # PF: "INDEX BDF" per VF, from the PF's virtfnN links (sorted by index)
  local l
  for l in "$SYS_PCI/$1"/virtfn*; do
    [ -e "$l" ] || continue
    echo "${l##*/virtfn} $(basename "$(readlink "$l")")"
  done | sort -n
}

nvme_ctrl() { ls "$SYS_PCI/$1/nvme" 2>/dev/null | head -1; }  # BDF: nvmeX, when nvme is bound

nvme_namespaces() {  # CTRL (nvme0): the namespace block devices users see, sorted, one line.
  # With native multipath the controller holds hidden paths (nvme0c1n2, hidden=1); the disk
  # users see is the head in the controller's subsystem with the same nsid (nvme0n2).
  local p n h s
  for p in /sys/class/nvme/"$1"/nvme*; do
    [ -f "$p/nsid" ] || continue
    n=${p##*/}
    if [ "$(cat "/sys/block/$n/hidden" 2>/dev/null)" = 1 ]; then
      for s in /sys/class/nvme-subsystem/*/"$1"; do
        for h in "${s%/*}"/nvme*n*; do
          [ "$(cat "$h/nsid" 2>/dev/null)" = "$(cat "$p/nsid")" ] && echo "${h##*/}"
        done
      done
    else
      echo "$n"
    fi
  done | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# --- dpuhost's JSON against the oracle -----------------------------------------------------

check_json() {  # NAME FLAT PATH EXPECTED (a JSON literal: "nvme", 3, null, true)
  check_eq "$1" "$4" "$(jget "$2" "$3")"
}

check_function() {  # FLAT BDF: one function of `dpuhost functions --json` against sysfs
  local f=$1 a=$2 p="functions/$2" d=$SYS_PCI/$2 v kind g peers n c
  if pci_is_vf "$a"; then kind=vf; elif pci_is_pf "$a"; then kind=pf; else kind=pci; fi
  check_json "$a kind" "$f" "$p/kind" "\"$kind\""
  for v in vendor:vendor_id device:device_id subsystem_vendor:subsystem_vendor_id \
           subsystem_device:subsystem_device_id class:class; do
    check_json "$a ${v#*:}" "$f" "$p/${v#*:}" "$(js "$(pci_attr "$a" "${v%%:*}")")"
  done
  check_json "$a driver" "$f" "$p/driver" "$(js "$(pci_driver "$a")")"
  v=$(pci_attr "$a" driver_override)
  [ "$v" = "(null)" ] && v=
  check_json "$a driver_override" "$f" "$p/driver_override" "$(js "$v")"
  g=$(pci_group "$a")
  check_json "$a iommu_group" "$f" "$p/iommu_group" "$(jn "$g")"
  peers=
  [ -n "$g" ] && peers=$(pci_group_members "$g" | grep -vx "$a" | tr '\n' ' ' | sed 's/ $//')
  check_eq "$a iommu_group_peers" "[$peers]" "[$(jlist "$f" "$p/iommu_group_peers")]"
  v=$(pci_attr "$a" numa_node)
  [ "$v" = -1 ] && v=
  check_json "$a numa_node" "$f" "$p/numa_node" "$(jn "$v")"
  if [ "$kind" = vf ]; then
    v=$(pci_physfn "$a")
    check_json "$a pf" "$f" "$p/pf" "\"$v\""
    check_json "$a vf_index" "$f" "$p/vf_index" "$(pci_vfs "$v" | awk -v a="$a" '$2 == a { print $1 }')"
  else
    check_json "$a pf" "$f" "$p/pf" null
    check_json "$a vf_index" "$f" "$p/vf_index" null
  fi
  if [ "$kind" = pf ]; then
    check_json "$a sriov.total_vfs" "$f" "$p/sriov/total_vfs" "$(pci_attr "$a" sriov_totalvfs)"
    check_json "$a sriov.num_vfs" "$f" "$p/sriov/num_vfs" "$(pci_attr "$a" sriov_numvfs)"
    check_json "$a sriov.vf_device_id" "$f" "$p/sriov/vf_device_id" "$(printf '"0x%04x"' "0x$(pci_attr "$a" sriov_vf_device)")"
    check_json "$a sriov.offset" "$f" "$p/sriov/offset" "$(pci_attr "$a" sriov_offset)"
    check_json "$a sriov.stride" "$f" "$p/sriov/stride" "$(pci_attr "$a" sriov_stride)"
    v=false
    [ "$(pci_attr "$a" sriov_drivers_autoprobe)" = 1 ] && v=true
    check_json "$a sriov.drivers_autoprobe" "$f" "$p/sriov/drivers_autoprobe" "$v"
  else
    check_json "$a sriov" "$f" "$p/sriov" null
  fi
  v=$(ls "$d/net" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//')
  check_eq "$a netdevs" "[$v]" "[$(jkeys "$f" "$p/netdevs" | sort | tr '\n' ' ' | sed 's/ $//')]"
  for n in $v; do
    check_json "$a netdev $n mac" "$f" "$p/netdevs/$n/mac" "$(js "$(cat "$d/net/$n/address")")"
    check_json "$a netdev $n operstate" "$f" "$p/netdevs/$n/operstate" "$(js "$(cat "$d/net/$n/operstate")")"
    check_json "$a netdev $n phys_port_name" "$f" "$p/netdevs/$n/phys_port_name" \
      "$(js "$(cat "$d/net/$n/phys_port_name" 2>/dev/null)")"
    check_json "$a netdev $n phys_switch_id" "$f" "$p/netdevs/$n/phys_switch_id" \
      "$(js "$(cat "$d/net/$n/phys_switch_id" 2>/dev/null)")"
  done
  c=$(nvme_ctrl "$a")
  if [ -n "$c" ]; then
    check_json "$a nvme.controller" "$f" "$p/nvme/controller" "\"$c\""
    check_eq "$a nvme.namespaces" "[$(nvme_namespaces "$c")]" "[$(jlist "$f" "$p/nvme/namespaces")]"
  else
    check_json "$a nvme" "$f" "$p/nvme" null
  fi
}

check_inventory() {  # FLAT: the output lists exactly the kernel's PCI functions, each as sysfs says
  local f=$1 a
  check_eq "functions listed = sysfs PCI devices" "[$(pci_devices | tr '\n' ' ' | sed 's/ $//')]" \
    "[$(jkeys "$f" functions | sort | tr '\n' ' ' | sed 's/ $//')]"
  for a in $(pci_devices); do
    check_function "$f" "$a"
  done
}

# --- fixtures ------------------------------------------------------------------------------

lab_modprobe() {  # MODULE...: load drivers (there is no udev; busybox modprobe skips softdeps)
  local m
  for m in "$@"; do modprobe "$m" || echo "LAB: modprobe $m failed"; done
}

lab_load_drivers() {  # the drivers a host would have loaded for the lab's devices
  lab_modprobe nvme e1000e vfio_iommu_type1 vfio-pci
  wait_until 20 nvme_ctrl_ready
}

nvme_ctrl_ready() {  # true when every NVMe function bound to nvme has its controller
  local d
  for d in "$SYS_PCI"/*; do
    [ "$(cat "$d/class")" = 0x010802 ] && [ "$(pci_driver "${d##*/}")" = nvme ] && [ ! -d "$d/nvme" ] && return 1
  done
  return 0
}

wait_until() {  # SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout
  local n=$(($1 * 10))
  shift
  while ! "$@"; do
    n=$((n - 1))
    [ $n -le 0 ] && return 1
    sleep 0.1
  done
}

sriov_make_vfs() {  # PF N: create N VFs the way a careful host does it: autoprobe off,
                    # then 0, then N (QEMU's NVMe VFs stay offline until `nvme virt-mgmt`)
  echo 0 >"$SYS_PCI/$1/sriov_drivers_autoprobe" &&
    echo 0 >"$SYS_PCI/$1/sriov_numvfs" &&
    echo "$2" >"$SYS_PCI/$1/sriov_numvfs"
}

nvme_scid() {  # CTRL VF_INDEX: the secondary controller ID of VF VF_INDEX (virtfnN), from the
              # PF's Secondary Controller List (VFN = VF_INDEX + 1)
  host nvme list-secondary "/dev/$1" -o json >/tmp/scl.json && jflat /tmp/scl.json /tmp/scl.flat || return 1
  awk -F '\t' -v vfn=$(($2 + 1)) '
    { p = $1 }
    sub(/\/secondary-controller-identifier$/, "", p) { id[p] = $2 }
    sub(/\/virtual-function-number$/, "", p) && $2 == vfn { want = p }
    END { if (want != "" && (want in id)) print id[want]; else exit 1 }' /tmp/scl.flat
}

nvme_vf_online() {  # CTRL VF_INDEX [NSID...]: make a QEMU NVMe VF usable, as a DPU's firmware
  # would: attach the namespaces to its secondary controller, give it 2 queue pairs and
  # 1 interrupt (virt-mgmt), set it online. Until then nvme fails on the VF (CSTS=0x2).
  local c=$1 scid ns
  scid=$(nvme_scid "$1" "$2") || { echo "LAB: no secondary controller for VF $2 of $1"; return 1; }
  shift 2
  for ns in "$@"; do
    host nvme attach-ns "/dev/$c" -n "$ns" -c "$scid" || return 1
  done
  host nvme virt-mgmt "/dev/$c" -c "$scid" -r 0 -a 8 -n 2 &&
    host nvme virt-mgmt "/dev/$c" -c "$scid" -r 1 -a 8 -n 1 &&
    host nvme virt-mgmt "/dev/$c" -c "$scid" -a 9
}

lab_uptime() { cut -d' ' -f1 /proc/uptime; }
lab_since() { awk -v a="$1" -v b="$(lab_uptime)" 'BEGIN { printf "%.2f", b - a }'; }  # T0: seconds since
