# shellcheck shell=dash
# Helpers of the VM scenarios (vm, vm-linux, bench-vm, demo), sourced after lib.sh (busybox sh):
# dpuhostd with a pool of NVMe VFs and a "vms" section, the HTTP API through curl, QEMU's own view
# (qmp.py, /proc/<pid>/fd), NVMe VF fixtures. What is tested runs as dpuhostd and dpuhost; the shell
# only sets fixtures up, calls the API and reads the kernel's and QEMU's views as the oracle.
#
# Everything lives under /tmp (the same path inside `chroot /host`). The paths are short on purpose:
# a VM's QMP socket is <state>/vms/<vm id>/qmp.sock and must fit in 107 bytes.

VM_STATE=/tmp/dh
VM_SOCK=/tmp/dh/dpuhost.sock
VM_CFG=/tmp/dh-vm.json
VM_DPID=
VM_LIVES=0
VM_EPID=
QMP_PY=$LAB_SRC/lab/guest/qmp.py

claims_of() {  # OWNER: the addresses claimed by OWNER (GET /v1/claims?owner=), sorted, one line
  local i
  host curl -s --unix-socket "$VM_SOCK" "http://localhost/v1/claims?owner=$1" >/tmp/claims.json
  jflat /tmp/claims.json /tmp/claims.flat
  for i in $(jkeys /tmp/claims.flat claims); do
    jkeys /tmp/claims.flat "claims/$i/functions"
  done | sort | tr '\n' ' ' | sed 's/ $//'
}

dhv() { dh --socket "$VM_SOCK" "$@"; }  # the CLI, talking to this scenario's dpuhostd

vm_config() {  # PF UNPLUG_TIMEOUT_MS: dpuhostd's configuration: a pool of PF's VFs 0-3, VMs with
               # the host's QEMU; stop_timeout_ms short (the lab's guests ignore the ACPI button)
  mkdir -p "$VM_STATE"
  cat >"$VM_CFG" <<EOF
{
  "socket": "$VM_SOCK",
  "state_dir": "$VM_STATE",
  "bind_timeout_ms": 20000,
  "restore_wait_ms": 5000,
  "pools": [
    {"name": "nvme-vfs", "description": "the lab's NVMe VFs",
     "selectors": {"rootDevices": ["$1#0-3"]}}
  ],
  "vms": {"qemu": "qemu-system-x86_64", "start_timeout_ms": 60000, "stop_timeout_ms": 3000,
          "unplug_timeout_ms": $2}
}
EOF
  cp "$VM_CFG" "$LAB_OUT/dpuhost.json"
}

vm_api_up() { host curl -s -o /dev/null --max-time 2 --unix-socket "$VM_SOCK" http://localhost/v1/host; }

vm_daemon_start() {  # start dpuhostd (config $VM_CFG) in the background; 0 once it answers.
                     # Call it directly, not in $(...): it sets VM_DPID, the daemon's pid.
  VM_LIVES=$((VM_LIVES + 1))
  # chroot execs dpuhostd: $! is the daemon itself
  chroot /host "$DPUHOSTD" --config "$VM_CFG" >"$LAB_OUT/dpuhostd-$VM_LIVES.log" 2>&1 </dev/null &
  VM_DPID=$!
  wait_until 60 vm_api_up
}

vm_daemon_stop() {  # SIGTERM dpuhostd and wait for it; VM_DRC is its exit status. Call directly.
  # shellcheck disable=SC2034 # read by the scenarios
  VM_DRC=none
  [ -n "$VM_DPID" ] || return 0
  kill -TERM "$VM_DPID" 2>/dev/null
  wait "$VM_DPID"
  # shellcheck disable=SC2034
  VM_DRC=$?
  VM_DPID=
}

api() {  # METHOD PATH [BODY]: prints the HTTP status; the body is in /tmp/api.out
  if [ $# -ge 3 ]; then
    host curl -s -o /tmp/api.out -w '%{http_code}' --max-time 300 --unix-socket "$VM_SOCK" \
      -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "http://localhost$2"
  else
    host curl -s -o /tmp/api.out -w '%{http_code}' --max-time 300 --unix-socket "$VM_SOCK" \
      -X "$1" "http://localhost$2"
  fi
}

api_json() {  # NAME METHOD PATH [BODY]: api, keeping $LAB_OUT/NAME.json and /tmp/NAME.flat;
              # prints the HTTP status (000 when curl failed)
  local name=$1 st
  shift
  st=$(api "$@")
  cp /tmp/api.out "$LAB_OUT/$name.json" 2>/dev/null || : >"$LAB_OUT/$name.json"
  jflat "$LAB_OUT/$name.json" "/tmp/$name.flat" 2>/dev/null || : >"/tmp/$name.flat"
  echo "$st"
}

vm_events_start() {  # follow GET /v1/events into /tmp/events.ndjson (in the background)
  : >/tmp/events.ndjson
  chroot /host curl -s -N --unix-socket "$VM_SOCK" http://localhost/v1/events >/tmp/events.ndjson 2>/dev/null &
  VM_EPID=$!
}

vm_events_stop() {  # [NAME]: stop following; keeps a copy in $LAB_OUT/events[-NAME].ndjson
  [ -n "$VM_EPID" ] && kill "$VM_EPID" 2>/dev/null && wait "$VM_EPID" 2>/dev/null
  VM_EPID=
  cp /tmp/events.ndjson "$LAB_OUT/events${1:+-$1}.ndjson"
}

# events_has TYPE FIELD=VALUE...: /tmp/events.ndjson has an event of TYPE whose data has these
# string fields (reason=stopped, device=hp0)
events_has() {
  local type=$1 l ok kv
  shift
  while IFS= read -r l; do
    case $l in *"\"type\":\"$type\""*) ;; *) continue ;; esac
    ok=1
    for kv in "$@"; do
      case $l in *"\"${kv%%=*}\":\"${kv#*=}\""*) ;; *) ok= ;; esac
    done
    [ -n "$ok" ] && return 0
  done </tmp/events.ndjson
  return 1
}

qmp() { chroot /host python3 "$QMP_PY" "$@"; }  # lab/guest/qmp.py ARGS

# --- QEMU's and the kernel's views ----------------------------------------------------------

qemu_holds_group() {  # PID GROUP: QEMU has /dev/vfio/GROUP open. QEMU runs in `chroot /host`,
                      # so from here its fd reads /host/dev/vfio/GROUP
  local f
  for f in "/proc/$1/fd"/*; do
    case $(readlink "$f" 2>/dev/null) in /dev/vfio/"$2" | /host/dev/vfio/"$2") return 0 ;; esac
  done
  return 1
}

qemu_vfio_devices() {  # PID: how many VFIO device fds QEMU holds (one per realized vfio-pci device)
  local f n=0
  for f in "/proc/$1/fd"/*; do
    [ "$(readlink "$f" 2>/dev/null)" = "anon_inode:[vfio-device]" ] && n=$((n + 1))
  done
  echo "$n"
}

pid_alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
pid_gone() { ! pid_alive "$1"; }

qemu_pids() {  # the pids of every qemu-system process (nested QEMUs), one line
  local p
  for p in /proc/[0-9]*; do
    case $(cat "$p/comm" 2>/dev/null) in qemu-system*) echo "${p#/proc/}" ;; esac
  done | tr '\n' ' ' | sed 's/ $//'
}

# --- NVMe VF fixtures ----------------------------------------------------------------------

vf_bind() {  # VF DRIVER: bind VF to DRIVER the way a host's VF would be (override, probe, clear
             # the override); for nvme, waits for its controller
  echo "$2" >"$SYS_PCI/$1/driver_override"
  echo "$1" >/sys/bus/pci/drivers_probe
  echo >"$SYS_PCI/$1/driver_override"
  [ "$(pci_driver "$1")" = "$2" ] || return 1
  [ "$2" = nvme ] || return 0
  wait_until 30 test -d "$SYS_PCI/$1/nvme"
}

vf_has_ns() {  # VF: its nvme controller shows a namespace
  local c
  c=$(nvme_ctrl "$1")
  [ -n "$c" ] && [ -n "$(nvme_namespaces "$c")" ]
}

vf_bind_ns() {  # VF: bind VF to nvme and wait for its namespace disk
  vf_bind "$1" nvme && wait_until 30 vf_has_ns "$1"
}

vf_on_nvme() {  # VF: bound to nvme with a live controller
  [ "$(pci_driver "$1")" = nvme ] && [ -n "$(nvme_ctrl "$1")" ]
}

vfs_online_on_nvme() {  # CTRL VF...: the PF's VFs in order (VF i) online with nsid i+2 and bound
                        # to nvme, as a host's VFs would be; fails on the first that cannot be
  local i=0 c=$1 vf
  shift
  for vf in "$@"; do
    nvme_vf_online "$c" "$i" $((i + 2)) && vf_bind_ns "$vf" || return 1
    i=$((i + 1))
  done
}

vf_unbind() {  # VF: unbind from its driver (fixture)
  [ -e "$SYS_PCI/$1/driver" ] && echo "$1" >"$SYS_PCI/$1/driver/unbind"
  [ ! -e "$SYS_PCI/$1/driver" ]
}

vf_disk() {  # VF: the namespace disk users see for the VF's controller (e.g. nvme0n2)
  nvme_namespaces "$(nvme_ctrl "$1")"
}

vm_cleanup() {  # at the end of a scenario: nothing left running (daemon, event follower, QEMUs)
  local p
  [ -n "$VM_EPID" ] && vm_events_stop last
  [ -n "$VM_DPID" ] && vm_daemon_stop
  for p in $(qemu_pids); do kill -9 "$p" 2>/dev/null; done
  wait_until 10 no_qemu
}

no_qemu() { [ -z "$(qemu_pids)" ]; }
not() { ! "$@"; }  # CMD...: for check: `check "NAME" not CMD...`
