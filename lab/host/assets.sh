# shellcheck shell=bash
# Lab assets: Debian packages, the guest kernel (uncompressed vmlinux for PVH boot),
# the busybox initramfs, the out-of-tree netdevsim.ko, the NVMe backing files and the
# L2 assets that nested-QEMU scenarios boot. Sourced by lab/run (bash).
#
# Everything expensive is cached in $LAB_DIR and rebuilt only when its inputs change:
# each asset has a "<asset>.key" file holding a digest of its inputs.

# Packages the lab needs on the host (the guest runs the host userland through 9p).
LAB_PKGS="qemu-system-x86 linux-image-amd64 busybox-static kmod cpio xz-utils python3 iproute2 nvme-cli"

# Guest modules; dependencies are resolved with modprobe --show-depends.
LAB_MODS="virtio_pci 9pnet_virtio 9p nvme vfio-pci vfio_iommu_type1 e1000e igb igbvf psample"

lab_digest() {  # digest of the arguments (strings) and of the files named by "file:PATH" arguments
  local a
  for a in "$@"; do
    case $a in
      file:*) if [ -e "${a#file:}" ]; then sha256sum "${a#file:}"; else echo "missing ${a#file:}"; fi ;;
      *) printf '%s\n' "$a" ;;
    esac
  done | sha256sum | cut -c1-16
}

lab_key_ok() {  # ASSET KEY: true when ASSET exists and was built from KEY
  [ -z "${LAB_REBUILD:-}" ] && [ -e "$1" ] && [ "$(cat "$1.key" 2>/dev/null)" = "$2" ]
}

lab_pkg_missing() {  # print the packages of "$@" that are not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

lab_can_apt() {  # why apt-get cannot be used (empty when it can)
  if [ -n "${LAB_NO_APT:-}" ]; then echo "LAB_NO_APT is set"
  elif ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then echo "no apt-get"
  elif [ "$(id -u)" != 0 ]; then echo "not root"
  fi
}

LAB_APT_UPDATED=
lab_apt_install() {  # install the missing packages among "$@"; return 1 on failure
  local missing why
  missing=$(lab_pkg_missing "$@" | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  why=$(lab_can_apt)
  if [ -n "$why" ]; then
    lab_err "missing packages: $missing(cannot install: $why)"
    return 1
  fi
  lab_note "apt-get install $missing"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$LAB_APT_UPDATED" ]; then
    apt-get update -qq >"$LAB_DIR/apt.log" 2>&1 || { lab_err "apt-get update failed, see $LAB_DIR/apt.log"; return 1; }
    LAB_APT_UPDATED=1
  fi
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >>"$LAB_DIR/apt.log" 2>&1 \
    || { lab_err "apt-get install $missing failed, see $LAB_DIR/apt.log"; return 1; }
}

lab_pick_kernel() {  # newest kernel that has both /boot/vmlinuz-K and /lib/modules/K
  if [ -n "${LAB_KERNEL:-}" ]; then echo "$LAB_KERNEL"; return; fi
  local k
  for k in /lib/modules/*; do
    k=${k##*/}
    [ -f "/boot/vmlinuz-$k" ] && [ -f "/lib/modules/$k/modules.dep" ] && echo "$k"
  done | sort -V | tail -1
}

# The uncompressed vmlinux boots through PVH (an ELF -kernel): it skips the decompressor,
# which saves 3-5 s of every boot under TCG. Debian amd64 kernels are xz-compressed.
lab_asset_vmlinux() {
  local out=$LAB_DIR/vmlinux-$K key
  key=$(lab_digest "vmlinux-v1" "$K" "file:/boot/vmlinuz-$K")
  if ! lab_key_ok "$out" "$key"; then
    lab_note "extracting vmlinux from /boot/vmlinuz-$K"
    python3 - "/boot/vmlinuz-$K" "$out.tmp" <<'EOF' || { rm -f "$out.tmp"; return 1; }
import lzma, sys
data = open(sys.argv[1], "rb").read()
off = data.find(b"\xfd7zXZ\x00")
if off < 0:
    sys.exit("no xz stream in " + sys.argv[1])
vmlinux = lzma.LZMADecompressor().decompress(data[off:])
if vmlinux[:4] != b"\x7fELF":
    sys.exit("the xz stream of %s is not an ELF image" % sys.argv[1])
open(sys.argv[2], "wb").write(vmlinux)
EOF
    mv "$out.tmp" "$out" && echo "$key" >"$out.key"
  fi
  LAB_VMLINUX=$out
}

# netdevsim is not built in Debian's kernel (CONFIG_NETDEVSIM unset): build it out of tree
# from linux-source against linux-headers-$K. A failure is remembered (with its inputs) so
# that every run does not retry it; the representor scenarios then SKIP, pointing here.
lab_asset_netdevsim() {
  local d=$LAB_DIR/netdevsim-$K src_pkg=linux-source-${K%%.0-*} hdr_pkg=linux-headers-$K key tarball v_img v_src
  LAB_NETDEVSIM_KO='' LAB_NETDEVSIM_WHY=''
  mkdir -p "$d"
  if [ -z "${LAB_REBUILD:-}" ] && [ -f "$d/status" ] && [ "$(sed -n 1p "$d/status")" = "$(lab_digest nds-v1 "$K" "$(lab_pkg_versions "$src_pkg" "$hdr_pkg")")" ]; then
    if [ -f "$d/netdevsim.ko" ] && [ "$(sed -n 2p "$d/status")" = ok ]; then
      LAB_NETDEVSIM_KO=$d/netdevsim.ko
    else
      LAB_NETDEVSIM_WHY="$(sed -n 2p "$d/status") (cached result; see $d/build.log, retry with --rebuild)"
    fi
    return 0
  fi
  : >"$d/build.log"
  if ! lab_apt_install "$hdr_pkg" "$src_pkg" gcc make; then
    lab_nds_failed "$d" "cannot install $hdr_pkg $src_pkg gcc make"
    return 0
  fi
  key=$(lab_digest nds-v1 "$K" "$(lab_pkg_versions "$src_pkg" "$hdr_pkg")")
  v_img=$(dpkg-query -W -f='${Version}' "linux-image-$K" 2>/dev/null)
  v_src=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null)
  [ "$v_img" = "$v_src" ] || echo "warning: $src_pkg $v_src does not match linux-image-$K $v_img" >>"$d/build.log"
  tarball=/usr/src/$src_pkg.tar.xz
  if [ ! -f "$tarball" ]; then
    lab_nds_failed "$d" "no /usr/src/$src_pkg.tar.xz" "$key"
    return 0
  fi
  lab_note "building netdevsim.ko out of tree (once per kernel)"
  rm -rf "$d/src" && mkdir -p "$d/src"
  if ! tar -xJf "$tarball" -C "$d/src" --strip-components=4 --wildcards '*/drivers/net/netdevsim/*' >>"$d/build.log" 2>&1; then
    lab_nds_failed "$d" "cannot extract drivers/net/netdevsim from $tarball" "$key"
    return 0
  fi
  if ! make -C "/lib/modules/$K/build" M="$d/src" CONFIG_NETDEVSIM=m -j"$(nproc)" modules >>"$d/build.log" 2>&1 \
    || [ ! -f "$d/src/netdevsim.ko" ]; then
    lab_nds_failed "$d" "make failed" "$key"
    return 0
  fi
  cp "$d/src/netdevsim.ko" "$d/netdevsim.ko"
  printf '%s\nok\n' "$key" >"$d/status"
  LAB_NETDEVSIM_KO=$d/netdevsim.ko
}

lab_nds_failed() {  # DIR REASON [KEY]
  LAB_NETDEVSIM_WHY="netdevsim.ko build failed: $2 (see $1/build.log)"
  rm -f "$1/netdevsim.ko"
  printf '%s\n%s\n' "${3:-none}" "netdevsim.ko build failed: $2" >"$1/status"
  lab_warn "$LAB_NETDEVSIM_WHY; representor scenarios will be SKIPPED"
}

lab_pkg_versions() {
  local p
  for p in "$@"; do printf '%s=%s ' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"; done
}

# One initramfs serves L1 and L2: busybox, the modules above (plus netdevsim.ko when built)
# and lab/initramfs/init. Scenarios and lab/guest/lib.sh are NOT inside: the guest reads
# them from the host root over 9p, so editing a scenario needs no rebuild.
lab_asset_initramfs() {
  local out=$LAB_DIR/initramfs-$K.cpio.gz key w f m rel
  # shellcheck disable=SC2046 # one "file:PATH" word per payload
  key=$(lab_digest "initramfs-v1" "$K" "$LAB_MODS" "file:$LAB_SRC/lab/initramfs/init" \
        "file:/bin/busybox" "file:/lib/modules/$K/modules.dep" "${LAB_NETDEVSIM_KO:+file:$LAB_NETDEVSIM_KO}" \
        $(for f in "$LAB_SRC"/lab/guest/l2/*.sh; do echo "file:$f"; done))
  if ! lab_key_ok "$out" "$key"; then
    lab_note "building initramfs for $K"
    w=$(mktemp -d "$LAB_DIR/irfs.XXXXXX") || return 1
    mkdir -p "$w/bin" "$w/sbin" "$w/usr/bin" "$w/usr/sbin" "$w/proc" "$w/sys" "$w/dev" "$w/tmp" \
             "$w/run" "$w/host" "$w/guest" "$w/lib/modules/$K"
    cp /bin/busybox "$w/bin/busybox"
    for f in $(/bin/busybox --list); do [ "$f" = busybox ] || ln -s busybox "$w/bin/$f"; done
    for m in $LAB_MODS; do
      modprobe -S "$K" --show-depends "$m" 2>/dev/null || lab_warn "module $m not available for $K"
    done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r f; do
      rel=${f#/lib/modules/$K/}
      mkdir -p "$w/lib/modules/$K/$(dirname "${rel%.xz}")"
      case $f in
        *.xz) xz -dc "$f" >"$w/lib/modules/$K/${rel%.xz}" ;;
        *) cp "$f" "$w/lib/modules/$K/$rel" ;;
      esac
    done
    if [ -n "${LAB_NETDEVSIM_KO:-}" ]; then
      mkdir -p "$w/lib/modules/$K/extra" && cp "$LAB_NETDEVSIM_KO" "$w/lib/modules/$K/extra/"
    fi
    for f in modules.order modules.builtin modules.builtin.modinfo; do
      [ -f "/lib/modules/$K/$f" ] && cp "/lib/modules/$K/$f" "$w/lib/modules/$K/"
    done
    depmod -b "$w" "$K" || { rm -rf "$w"; return 1; }
    install -m 755 "$LAB_SRC/lab/initramfs/init" "$w/init"
    mkdir -p "$w/guest/l2" && cp "$LAB_SRC"/lab/guest/l2/*.sh "$w/guest/l2/"
    (cd "$w" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" || { rm -rf "$w"; return 1; }
    rm -rf "$w"
    mv "$out.tmp" "$out" && echo "$key" >"$out.key"
  fi
  LAB_INITRAMFS=$out
}

# L2 assets for nested-QEMU scenarios, in the read-write share (guest: /tmp/lab/share/l2/).
# Copies, not links: the guest may write to the share and must not corrupt the cache.
lab_asset_l2() {
  mkdir -p "$LAB_DIR/share/l2"
  lab_place "$LAB_VMLINUX" "$LAB_DIR/share/l2/vmlinux"
  lab_place "$LAB_INITRAMFS" "$LAB_DIR/share/l2/initramfs.cpio.gz"
}

lab_place() {  # SRC DST: copy SRC (which has SRC.key) to DST unless DST is that version already
  [ -e "$2" ] && [ ! "$1" -ef "$2" ] && [ "$(cat "$2.key" 2>/dev/null)" = "$(cat "$1.key")" ] && return 0
  rm -f "$2" "$2.key"
  cp "$1" "$2" && cp "$1.key" "$2.key"
}

# A bootable disk image for the nested guest that boots from an NVMe VF (lab/scenarios/vm-linux.sh):
# a FAT16 filesystem over the whole disk ("superfloppy": no partition table) holding SYSLINUX, the
# L1 kernel (a bzImage: SYSLINUX cannot load the PVH vmlinux) and the lab's initramfs; syslinux.cfg
# boots it with lab.l2=disks (lab/guest/l2/disks.sh) and lab.bootimg=<this image's key>, so that the
# guest can show which image it booted. Built without root or loop devices: mkfs.fat on a file,
# mtools to copy, the mtools-based `syslinux --install` for the boot sector and ldlinux.sys.
# Why no MBR: under TCG, memory that a passed-through (vfio) device writes by DMA is not seen by
# QEMU's translation cache. An MBR runs at 0x7c00, then reads the partition's boot sector to 0x7c00
# and jumps there: QEMU runs its stale translation of the MBR again and the guest hangs silently
# after "Booting from Hard Disk..." (the same image boots from an emulated NVMe disk). With the
# boot sector in sector 0, nothing is executed twice at one address, and SeaBIOS boots it.
# The scenario writes the image onto a namespace from inside the lab VM. A failure is remembered in
# share/l2/boot.img.why and the scenario is skipped, pointing there.
LAB_BOOTIMG_PKGS="syslinux syslinux-common mtools dosfstools"
LAB_BOOTIMG_MIB=32
lab_asset_bootimg() {
  local out=$LAB_DIR/l2boot-$K.img share=$LAB_DIR/share/l2 key w
  rm -f "$share/boot.img.why"
  # shellcheck disable=SC2086
  if ! lab_apt_install $LAB_BOOTIMG_PKGS; then
    echo "cannot install $LAB_BOOTIMG_PKGS (see above or $LAB_DIR/apt.log)" >"$share/boot.img.why"
    lab_warn "no NVMe boot image: $(cat "$share/boot.img.why"); the boot-from-NVMe scenario will be SKIPPED"
    return 0
  fi
  key=$(lab_digest "bootimg-v2" "$K" "$LAB_BOOTIMG_MIB" "file:/boot/vmlinuz-$K" "file:$LAB_INITRAMFS" \
        "$(lab_pkg_versions syslinux syslinux-common)")
  if ! lab_key_ok "$out" "$key"; then
    lab_note "building the NVMe boot image for the nested guest"
    w=$(mktemp -d "$LAB_DIR/bootimg.XXXXXX") || return 1
    cat >"$w/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT l2
PROMPT 0
TIMEOUT 0
LABEL l2
  LINUX /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0 loglevel=4 panic=-1 lab.l2=disks lab.bootimg=$key
EOF
    if mkfs.fat -F 16 -n L2BOOT -C "$w/disk.img" $((LAB_BOOTIMG_MIB * 1024)) >"$w/log" 2>&1 &&
      MTOOLS_SKIP_CHECK=1 mcopy -i "$w/disk.img" "/boot/vmlinuz-$K" ::/vmlinuz >>"$w/log" 2>&1 &&
      MTOOLS_SKIP_CHECK=1 mcopy -i "$w/disk.img" "$LAB_INITRAMFS" ::/initrd.gz >>"$w/log" 2>&1 &&
      MTOOLS_SKIP_CHECK=1 mcopy -i "$w/disk.img" "$w/syslinux.cfg" ::/syslinux.cfg >>"$w/log" 2>&1 &&
      syslinux --install "$w/disk.img" >>"$w/log" 2>&1; then
      mv "$w/disk.img" "$out" && echo "$key" >"$out.key"
    else
      echo "building the image failed: $(tail -1 "$w/log")" >"$share/boot.img.why"
      lab_warn "no NVMe boot image: $(cat "$share/boot.img.why"); the boot-from-NVMe scenario will be SKIPPED"
      rm -rf "$w"
      return 0
    fi
    rm -rf "$w"
  fi
  lab_place "$out" "$share/boot.img"
}

# NVMe namespace backing files: sparse raw files, recreated empty before every boot so that
# scenarios start from the same state. nsid 1 is attached to the PF; 2 and 3 are detached.
lab_reset_disks() {
  local n
  mkdir -p "$LAB_DIR/disks"
  for n in 1 2 3; do
    rm -f "$LAB_DIR/disks/ns$n.raw"
    truncate -s "${LAB_NS_SIZE:-64M}" "$LAB_DIR/disks/ns$n.raw"
  done
}

lab_assets() {  # build or reuse every asset; sets K, LAB_VMLINUX, LAB_INITRAMFS, LAB_NETDEVSIM_*
  # shellcheck disable=SC2086
  lab_apt_install $LAB_PKGS || return 1
  K=$(lab_pick_kernel)
  [ -n "$K" ] || { lab_err "no kernel with both /boot/vmlinuz-K and /lib/modules/K"; return 1; }
  lab_asset_vmlinux || { lab_err "cannot extract vmlinux from /boot/vmlinuz-$K"; return 1; }
  if [ -n "${LAB_NO_NETDEVSIM:-}" ]; then
    LAB_NETDEVSIM_KO='' LAB_NETDEVSIM_WHY="netdevsim disabled (LAB_NO_NETDEVSIM)"
  else
    lab_asset_netdevsim
  fi
  lab_asset_initramfs || { lab_err "cannot build the initramfs"; return 1; }
  lab_asset_l2
  lab_asset_bootimg || { lab_err "cannot build the NVMe boot image"; return 1; }
}
