# shellcheck shell=bash
# The L1 lab VM: its QEMU command line, and one boot that runs one scenario while the
# serial console is logged and parsed. Sourced by lab/run (bash).
#
# Topology (QEMU 7.2, TCG; the sandbox's KVM cannot run a stock kernel):
#   q35 + intel-iommu (intremap, caching-mode), 2 vCPUs, PVH boot of the uncompressed vmlinux
#   rp1 (00:01.0)  NVMe PF 1b36:0010, SR-IOV (4 VFs), in nvme-subsys "dpuhost-lab":
#                  nsid 1 attached to the PF; nsid 2 and 3 in the subsystem, detached
#   rp2 (00:02.0)  e1000e 8086:10d3 (no backend: never -netdev user)
#   rp3, rp4       empty root ports (spare)
#   virtio-9p x3   hostroot (host /, read-only), share ($LAB_DIR/share), out (the log dir)

lab_qemu_cmd() {  # OUTDIR APPEND_EXTRA SERIAL: sets the array LAB_QEMU
  local out=$1 extra=$2 serial=$3 d=$LAB_DIR/disks
  local vfs=${LAB_NVME_VFS:-4}
  # the benchmarks' round count crosses into the guest on the kernel command line
  case ${BENCH_ROUNDS:-} in '' | *[!0-9]*) ;; *) extra="$extra lab.bench_rounds=$BENCH_ROUNDS" ;; esac
  # shellcheck disable=SC2054 # the commas are inside QEMU option strings
  LAB_QEMU=("${LAB_QEMU_BIN:-qemu-system-x86_64}"
    -machine q35,kernel-irqchip=split -accel tcg -cpu max -smp "${LAB_SMP:-2}" -m "${LAB_MEM:-3072}"
    -nodefaults -display none -no-reboot -serial "$serial"
    -device intel-iommu,intremap=on,caching-mode=on
    -kernel "$LAB_VMLINUX" -initrd "$LAB_INITRAMFS"
    -append "console=ttyS0 intel_iommu=on iommu=pt panic=-1 lab.src=$LAB_SRC lab.build=$LAB_BUILD$extra"
    -device pcie-root-port,id=rp1,chassis=1,slot=1
    -device pcie-root-port,id=rp2,chassis=2,slot=2
    -device pcie-root-port,id=rp3,chassis=3,slot=3
    -device pcie-root-port,id=rp4,chassis=4,slot=4
    -device nvme-subsys,id=nvmesubsys0,nqn=dpuhost-lab
    # vq/vi_flexible: 2 queue pairs and 1 interrupt per VF; max_ioqpairs >= vq_flexible + 2,
    # msix_qsize >= vi_flexible + 1 (QEMU's checks)
    -device "nvme,id=nvme0,serial=LAB0001,subsys=nvmesubsys0,bus=rp1,max_ioqpairs=$((vfs * 2 + 8)),msix_qsize=$((vfs + 8)),sriov_max_vfs=$vfs,sriov_vq_flexible=$((vfs * 2)),sriov_vi_flexible=$vfs"
    -drive "file=$d/ns1.raw,if=none,id=ns1,format=raw,cache=unsafe"
    -device nvme-ns,drive=ns1,bus=nvme0,nsid=1,shared=off
    -drive "file=$d/ns2.raw,if=none,id=ns2,format=raw,cache=unsafe"
    -device nvme-ns,drive=ns2,bus=nvme0,nsid=2,detached=on
    -drive "file=$d/ns3.raw,if=none,id=ns3,format=raw,cache=unsafe"
    -device nvme-ns,drive=ns3,bus=nvme0,nsid=3,detached=on
    -device e1000e,id=nic0,bus=rp2,mac=52:54:00:12:34:56
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
    -virtfs "local,path=$LAB_DIR/share,mount_tag=share,security_model=none,multidevs=remap"
    -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap")
}

# Interactive boot: the console is the terminal (Ctrl-a x quits QEMU, Ctrl-a c the monitor).
lab_vm_interactive() {  # OUTDIR APPEND_EXTRA
  lab_reset_disks
  lab_qemu_cmd "$1" "$2" mon:stdio
  printf '+ %s\n' "${LAB_QEMU[*]}" >"$1/qemu.cmd"
  "${LAB_QEMU[@]}" 2>&1 | tee "$1/console.log"
}

# Boot the VM once for scenario NAME. The console goes to OUTDIR/console.log, each line
# stamped with host seconds since QEMU started; marker lines are shown as they come.
# Sets R_PASS R_FAIL R_SKIP (reason) R_RC (guest rc, or empty) R_QRC R_BOOT R_RUN R_TOTAL R_WHY.
# shellcheck disable=SC2034 # the R_* results are read by lab/run
lab_vm_scenario() {  # NAME TIMEOUT OUTDIR
  local name=$1 tmo=$2 out=$3 line t0 now el log=$3/console.log
  R_PASS=0 R_FAIL=0 R_SKIP='' R_RC='' R_QRC='' R_BOOT='' R_RUN='' R_TOTAL='' R_WHY=''
  lab_reset_disks
  lab_qemu_cmd "$out" " lab.scenario=$name" stdio
  printf '+ %s\n' "${LAB_QEMU[*]}" >"$out/qemu.cmd"
  : >"$log"
  t0=${EPOCHREALTIME/./}
  while IFS= read -r line; do
    line=${line%$'\r'}
    now=${EPOCHREALTIME/./}
    el=$(((now - t0) / 10000))  # centiseconds
    el=$(printf '%d.%02d' $((el / 100)) $((el % 100)))
    printf '[%7s] %s\n' "$el" "$line" >>"$log"
    case $line in
      LAB-BEGIN*) R_BOOT=$el ;;
      LAB-PASS\ *) R_PASS=$((R_PASS + 1)); [ -n "$LAB_VERBOSE" ] && printf '   pass %s\n' "${line#LAB-PASS }" ;;
      LAB-FAIL\ *) R_FAIL=$((R_FAIL + 1)); printf '   FAIL %s\n' "${line#LAB-FAIL }" ;;
      LAB-SKIP\ *) R_SKIP=${line#LAB-SKIP }; printf '   SKIP %s\n' "$R_SKIP" ;;
      LAB-STEP\ *) printf '   .. %s\n' "${line#LAB-STEP }" ;;
      LAB-OUT\ *) printf '   %s\n' "${line#LAB-OUT }" ;;
      LAB-OUT) echo ;;
      LAB-DONE\ rc=*) R_RC=${line#LAB-DONE rc=}; R_RC=${R_RC%% *}; R_RUN=$el ;;
      HOST-QEMU-EXIT\ *) R_QRC=${line#HOST-QEMU-EXIT } ;;
    esac
  done < <(timeout -k 5 "$tmo" "${LAB_QEMU[@]}" </dev/null 2>&1; echo "HOST-QEMU-EXIT $?")
  R_TOTAL=$(((${EPOCHREALTIME/./} - t0) / 10000))
  R_TOTAL=$(printf '%d.%02d' $((R_TOTAL / 100)) $((R_TOTAL % 100)))
  if [ -n "$R_BOOT" ] && [ -n "$R_RUN" ]; then
    R_RUN=$(awk -v a="$R_BOOT" -v b="$R_RUN" 'BEGIN { printf "%.2f", b - a }')
  else
    R_RUN=
  fi
  if [ -z "$R_RC" ]; then
    if [ "$R_QRC" = 124 ] || [ "$R_QRC" = 137 ]; then
      R_WHY="did not finish: timeout after $tmo s"
    else
      R_WHY="did not finish: the VM stopped before LAB-DONE (qemu exit status $R_QRC)"
    fi
  elif [ "$R_RC" != 0 ] && [ "$R_FAIL" = 0 ]; then
    R_WHY="the scenario exited $R_RC without a LAB-FAIL line"
  elif [ "$R_RC" = 0 ] && [ "$R_PASS" = 0 ] && [ "$R_FAIL" = 0 ] && [ -z "$R_SKIP" ]; then
    R_WHY="the scenario made no assertion"
  fi
}
