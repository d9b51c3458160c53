#!/bin/sh
# DPU side on netdevsim: `dpuhost representors` and `dpuhost representor` against `devlink -j port show`, via devlink and sysfs.
# set: default
# timeout: 240
# requires: netdevsim
#
# The oracle is the kernel: `devlink -j port show` (iproute2 in /host) for the ports, sysfs for
# netdev addresses, ifindexes and switch ids. Linux 6.1's netdevsim registers physical ports and
# pcivf ports only: no pcipf port and no port function operations, so `devlink port add ... flavour
# pcipf` and `devlink port function set ... hw_addr` are refused (the scenario records what the
# kernel answers and checks the hw_addr if a kernel ever accepts it). Its VFs belong to the
# eswitch's own PF, whose netdev is the uplink representor: the PF MAC is the uplink's address
# (mac_source "uplink"). Lookups by a pcipf port's function hw_addr are covered by the unit tests
# (fake devlink peer, and this scenario's recorded dump: tests/devlink/*.hex).
lab_need_dpuhost
mount -t debugfs none /sys/kernel/debug 2>/dev/null
check "modprobe netdevsim" modprobe netdevsim || lab_abort netdevsim "cannot load the module"

ID=11
NVFS=3
DEV=netdevsim/netdevsim$ID
D=/sys/bus/netdevsim/devices/netdevsim$ID
check "netdevsim device $ID with 1 port" sh -c "echo '$ID 1' >/sys/bus/netdevsim/new_device"
wait_until 10 test -d "$D/net" || lab_abort "netdevsim$ID port" "no netdev under $D/net"
UPLINK=$(ls "$D/net" | head -1)
UPLINK_MAC=$(cat "/sys/class/net/$UPLINK/address")
check "$NVFS VFs on netdevsim$ID" sh -c "echo $NVFS >$D/sriov_numvfs"
check "eswitch to switchdev" host devlink dev eswitch set "$DEV" mode switchdev
wait_until 10 sh -c "[ \"\$(ls $D/net | wc -l)\" -ge $((NVFS + 1)) ]" ||
  lab_abort "representors" "netdevsim$ID has no $NVFS VF representors"

# --- what 6.1's netdevsim offers for a PF MAC ---------------------------------------------------
lab_step "port function hw_addr and pcipf ports on this kernel"
VF0_PORT=$(host devlink port show | awk -v d="$DEV/" 'index($1, d) == 1 && / flavour pcivf / && / vfnum 0 / { sub(/:$/, "", $1); print $1; exit }')
HW=02:11:22:33:44:55
if out=$(host devlink port function set "$VF0_PORT" hw_addr $HW 2>&1); then
  SET_HW=$HW
  lab_step "devlink port function set $VF0_PORT hw_addr $HW: accepted"
else
  SET_HW=
  lab_step "devlink port function set $VF0_PORT hw_addr: refused: $out"
fi
out=$(host devlink port add "$DEV" flavour pcipf pfnum 0 2>&1) &&
  lab_step "devlink port add $DEV flavour pcipf: accepted: $out" ||
  lab_step "devlink port add $DEV flavour pcipf: refused: $out"

# --- the oracle ---------------------------------------------------------------------------------
host devlink -j port show >"$LAB_OUT/devlink-ports.json" 2>&1
host devlink port show | tee "$LAB_OUT/devlink-ports.txt" | sed 's/^/  | /'
jflat "$LAB_OUT/devlink-ports.json" /tmp/dl.flat || lab_abort "devlink -j port show" "not JSON"
# devlink names ports "<bus>/<dev>/<index>": the flat paths are port/<bus>/<dev>/<index>/<field>
HANDLES=$(awk -F '\t' '{ n = split($1, a, "/"); if (n == 4 && a[1] == "port") print a[2] "/" a[3] "/" a[4] }' /tmp/dl.flat)
orc() {  # HANDLE FIELD: the oracle's value, null when devlink does not print the field
  local v
  v=$(jget /tmp/dl.flat "port/$1/$2")
  [ "$v" = "<absent>" ] && v=null
  echo "$v"
}
sysattr() { cat "/sys/class/net/$1/$2" 2>/dev/null; }  # NETDEV ATTR
vf_handle() {  # VFNUM: the oracle's pcivf port of that VF on our device
  local h
  for h in $HANDLES; do
    case $h in "$DEV"/*) ;; *) continue ;; esac
    [ "$(orc "$h" flavour)" = '"pcivf"' ] && [ "$(orc "$h" vfnum)" = "$1" ] && { echo "$h"; return 0; }
  done
  return 1
}
check_eq "devlink lists the uplink and $NVFS VF ports of $DEV" $((NVFS + 1)) \
  "$(for h in $HANDLES; do echo "$h"; done | grep -c "^$DEV/")"

# --- dpuhost representors (devlink) -------------------------------------------------------------
# The flat paths of dpuhost's lists are by position: find a port's position by a field's value.
pos() {  # FLAT LIST KEY LITERAL: the position in LIST of the item whose KEY is LITERAL
  awk -F '\t' -v l="$2" -v k="$3" -v v="$4" '
    { n = split($1, a, "/") } n == 3 && a[1] == l && a[3] == k && $2 == v { print a[2]; exit }' "$1"
}
check_ports() {  # FLAT SOURCE: every oracle port against dpuhost's, field by field
  local f=$1 src=$2 h i nd v
  for h in $HANDLES; do
    nd=$(orc "$h" netdev)
    if [ "$src" = devlink ]; then
      i=$(pos "$f" ports port "\"$h\"")
    else
      i=$(pos "$f" ports netdev "$nd")
    fi
    [ -n "$i" ] || { lab_fail "$src: port $h ($nd) listed" "not in dpuhost's list"; continue; }
    lab_pass "$src: port $h ($nd) listed"
    check_json "$src: $h flavour" "$f" "ports/$i/flavour" "$(orc "$h" flavour)"
    check_json "$src: $h netdev" "$f" "ports/$i/netdev" "$nd"
    for v in pfnum vfnum sfnum controller external; do
      check_json "$src: $h $v" "$f" "ports/$i/$v" "$(orc "$h" $v)"
    done
    check_json "$src: $h port_number" "$f" "ports/$i/port_number" "$(orc "$h" port)"
    check_json "$src: $h type" "$f" "ports/$i/type" "$(orc "$h" type)"
    nd=${nd#\"}
    nd=${nd%\"}
    check_json "$src: $h ifindex (sysfs)" "$f" "ports/$i/ifindex" "$(sysattr "$nd" ifindex)"
    check_json "$src: $h switch_id (sysfs)" "$f" "ports/$i/switch_id" "$(js "$(sysattr "$nd" phys_switch_id)")"
    if [ "$src" = devlink ]; then
      check_json "$src: $h index" "$f" "ports/$i/index" "${h##*/}"
      if [ "$(orc "$h" function)" = null ]; then
        check_json "$src: $h function (none)" "$f" "ports/$i/function" null
      else
        check_json "$src: $h function.hw_addr" "$f" "ports/$i/function/hw_addr" "$(orc "$h" function/hw_addr)"
      fi
    else
      check_json "$src: $h index (sysfs has none)" "$f" "ports/$i/index" null
      check_json "$src: $h function (sysfs has none)" "$f" "ports/$i/function" null
    fi
  done
  check_eq "$src: as many ports as devlink" "$(echo $HANDLES | wc -w)" "$(jkeys "$f" ports | wc -l)"
}
check_pf() {  # FLAT SOURCE: the one PF of the netdevsim eswitch, found through the uplink
  local f=$1 src=$2 vfs
  check_json "$src: one PF" "$f" pfs "[1]"
  check_json "$src: PF device" "$f" pfs/0/device "\"$DEV\""
  check_json "$src: PF controller" "$f" pfs/0/controller 0
  check_json "$src: PF pfnum" "$f" pfs/0/pfnum 0
  check_json "$src: PF mac = uplink $UPLINK address (sysfs)" "$f" pfs/0/mac "\"$UPLINK_MAC\""
  check_json "$src: PF mac_source" "$f" pfs/0/mac_source '"uplink"'
  check_json "$src: PF netdev" "$f" pfs/0/netdev "\"$UPLINK\""
  vfs=$(i=0; while [ $i -lt $NVFS ]; do printf '%s ' $i; i=$((i + 1)); done)
  check_eq "$src: PF vfs" "[${vfs% }]" "[$(jlist "$f" pfs/0/vfs | tr '\n' ' ')]"
}

lab_step "dpuhost representors (devlink) against devlink -j port show"
dh_json reps representors --json
check_json "devlink: source" /tmp/reps.flat source '"devlink"'
check_json "devlink: no fallback" /tmp/reps.flat fallback_reason null
check_ports /tmp/reps.flat devlink
check_pf /tmp/reps.flat devlink
if [ -n "$SET_HW" ]; then
  i=$(pos /tmp/reps.flat ports port "\"$VF0_PORT\"")
  check_json "hw_addr set through devlink is reported" /tmp/reps.flat "ports/$i/function/hw_addr" "\"$SET_HW\""
fi
dh representors >"$LAB_OUT/reps.txt" 2>&1
check "text table lists the VF 0 representor" grep -q "$(orc "$(vf_handle 0)" netdev | tr -d '"')" "$LAB_OUT/reps.txt"

# --- lookups ------------------------------------------------------------------------------------
lab_step "dpuhost representor --pf-mac <uplink MAC> --vf-num N"
look() {  # SOURCE VF [MAC]: look VF up and check it against the oracle
  local src=$1 vf=$2 mac=${3:-$UPLINK_MAC} h n
  h=$(vf_handle "$vf") || { lab_fail "$src: VF $vf" "devlink has no pcivf port for it"; return; }
  n=look-$src-$vf
  dh_json "$n" representor --source "$src" --pf-mac "$mac" --vf-num "$vf" --json || return
  check_json "$src: VF $vf netdev" "/tmp/$n.flat" netdev "$(orc "$h" netdev)"
  check_json "$src: VF $vf vfnum" "/tmp/$n.flat" vfnum "$vf"
  check_json "$src: VF $vf flavour" "/tmp/$n.flat" flavour '"pcivf"'
  check_json "$src: VF $vf pf.mac" "/tmp/$n.flat" pf/mac "\"$UPLINK_MAC\""
  check_json "$src: VF $vf pf.mac_source" "/tmp/$n.flat" pf/mac_source '"uplink"'
  [ "$src" = devlink ] && check_json "$src: VF $vf port" "/tmp/$n.flat" port "\"$h\""
}
vf=0
while [ $vf -lt $NVFS ]; do
  look devlink $vf
  vf=$((vf + 1))
done
look devlink 1 "$(echo "$UPLINK_MAC" | tr a-f A-F)"
dh representor --pf-mac "$UPLINK_MAC" --vf-num 2 >"$LAB_OUT/look.txt" 2>&1
check "text output names the netdev" grep -q "^netdev: *$(orc "$(vf_handle 2)" netdev | tr -d '"')\$" "$LAB_OUT/look.txt"

lab_step "lookup errors"
expect_fail() {  # NAME STATUS TEXT ARGS...: dpuhost ARGS exits STATUS and says TEXT on stderr
  local name=$1 want=$2 text=$3 rc
  shift 3
  dh "$@" >/tmp/ef.out 2>/tmp/ef.err
  rc=$?
  check_eq "$name: exit status" "$want" "$rc"
  if grep -qF -- "$text" /tmp/ef.err; then
    lab_pass "$name: says '$text'"
  else
    lab_fail "$name: says '$text'" "stderr: $(cat /tmp/ef.err)"
  fi
}
expect_fail "unknown PF MAC" 1 "no PF with MAC 02:00:00:00:00:99" representor --pf-mac 02:00:00:00:00:99 --vf-num 0
expect_fail "unknown PF MAC lists the PFs" 1 "$UPLINK_MAC on $DEV controller 0 pf 0" \
  representor --pf-mac 02:00:00:00:00:99 --vf-num 0
expect_fail "VF out of range" 1 "VF $NVFS is out of range" representor --pf-mac "$UPLINK_MAC" --vf-num $NVFS
expect_fail "VF out of range lists the VFs" 1 "representors for VF 0-$((NVFS - 1)) ($NVFS)" \
  representor --pf-mac "$UPLINK_MAC" --vf-num $NVFS
expect_fail "no SF representors" 1 "it has no SF representors" representor --pf-mac "$UPLINK_MAC" --sf-num 0
expect_fail "another controller" 1 "a PF of another controller has it" \
  representor --pf-mac "$UPLINK_MAC" --vf-num 0 --controller 1
expect_fail "malformed MAC" 2 "is not a MAC address" representor --pf-mac 02:00:00:00:00 --vf-num 0
expect_fail "VF number missing" 2 "expected --pf-mac MAC and --vf-num N" representor --pf-mac "$UPLINK_MAC"

lab_step "udev: a representor udev has not processed yet is refused, then found"
H1=$(vf_handle 1)
ND1=$(orc "$H1" netdev | tr -d '"')
mkdir -p /host/run/udev/data && : >/host/run/udev/control
expect_fail "VF 1 before udev processed $ND1" 1 "has not been processed by udev yet" \
  representor --pf-mac "$UPLINK_MAC" --vf-num 1
: >"/host/run/udev/data/n$(sysattr "$ND1" ifindex)"
dh_json udev-done representor --pf-mac "$UPLINK_MAC" --vf-num 1 --json &&
  check_json "VF 1 after udev processed it" /tmp/udev-done.flat netdev "\"$ND1\""
rm -rf /host/run/udev

lab_step "a representor renamed as udev would (pf0vf1)"
check "rename $ND1 to pf0vf1" host ip link set dev "$ND1" name pf0vf1
host devlink -j port show >/tmp/dl2.json && jflat /tmp/dl2.json /tmp/dl2.flat
check_json "devlink reports the new name" /tmp/dl2.flat "port/$H1/netdev" '"pf0vf1"'
dh_json renamed representor --pf-mac "$UPLINK_MAC" --vf-num 1 --json &&
  check_json "lookup returns the new name" /tmp/renamed.flat netdev '"pf0vf1"'
check "rename back to $ND1" host ip link set dev pf0vf1 name "$ND1"

# --- the sysfs fallback -------------------------------------------------------------------------
lab_step "dpuhost representors --source sysfs against devlink -j port show"
dh_json sysreps representors --source sysfs --json
check_json "sysfs: source" /tmp/sysreps.flat source '"sysfs"'
check_ports /tmp/sysreps.flat sysfs
check_pf /tmp/sysreps.flat sysfs
vf=0
while [ $vf -lt $NVFS ]; do
  look sysfs $vf
  vf=$((vf + 1))
done

# --- plug ---------------------------------------------------------------------------------------
lab_step "representor plug: ovs-vsctl missing, then a stand-in that records its arguments"
mkdir -p /tmp/noovs /tmp/fakeovs
H0=$(vf_handle 0)
ND0=$(orc "$H0" netdev | tr -d '"')
chroot /host /usr/bin/env PATH=/tmp/noovs "$DPUHOST" representor plug --pf-mac "$UPLINK_MAC" --vf-num 0 \
  --bridge br-int >/tmp/plug.out 2>/tmp/plug.err
check_eq "plug without ovs-vsctl: exit status" 1 $?
check "plug without ovs-vsctl: says it is not installed" grep -q "ovs-vsctl is not installed" /tmp/plug.err
printf '#!/bin/sh\necho "$@" >/tmp/fakeovs/args\n' >/tmp/fakeovs/ovs-vsctl
chmod +x /tmp/fakeovs/ovs-vsctl
chroot /host /usr/bin/env PATH=/tmp/fakeovs:/usr/bin:/bin "$DPUHOST" representor plug --pf-mac "$UPLINK_MAC" \
  --vf-num 0 --bridge br-int --json >"$LAB_OUT/plug.json" 2>/tmp/plug.err
check_eq "plug with ovs-vsctl: exit status" 0 $?
check_eq "plug ran ovs-vsctl add-port" "--timeout=10 --may-exist add-port br-int $ND0" "$(cat /tmp/fakeovs/args 2>/dev/null)"

# --- a recording for the unit tests -------------------------------------------------------------
lab_step "recording the kernel's devlink answers (tests/devlink/*.hex)"
check "devlink-capture" host "$LAB_BUILD/tests/devlink/devlink-capture" "$LAB_OUT"
host devlink -j port show >/tmp/dl-capture.json 2>&1
for f in getfamily port-dump; do
  { echo "# Kernel: $(uname -r). netdevsim (built out of tree): echo '$ID 1' >/sys/bus/netdevsim/new_device;"
    echo "# echo $NVFS >$D/sriov_numvfs; devlink dev eswitch set $DEV mode switchdev."
    echo "# devlink -j port show right after the recording:"
    sed 's/^/#   /' /tmp/dl-capture.json
    echo "# uplink $UPLINK address $UPLINK_MAC, phys_switch_id $(sysattr "$UPLINK" phys_switch_id)"
    cat "$LAB_OUT/$f.hex"; } >"$LAB_OUT/$f.rec" 2>/dev/null
done
check "port dump recorded" test -s "$LAB_OUT/port-dump.rec"

check "eswitch back to legacy" host devlink dev eswitch set "$DEV" mode legacy
echo 0 >"$D/sriov_numvfs"
check "netdevsim device deleted" sh -c "echo $ID >/sys/bus/netdevsim/del_device"
