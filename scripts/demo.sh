#!/bin/bash
# The main job: build dpuhost, boot the real-kernel lab (a QEMU VM with an emulated IOMMU, an SR-IOV
# NVMe controller and a NIC) and show dpuhost's view of it. When this machine cannot run the lab,
# say why loudly and show this machine's own inventory instead.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
dh_install_packages $DH_BUILD_PACKAGES
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
if reason=$(lab/run --check 2>&1); then
    exec lab/run demo
fi
echo "###############################################"
echo "SKIP lab demo: $reason"
echo "showing this machine's inventory instead"
echo "###############################################"
echo "\$ dpuhost functions"
build/cli/dpuhost functions
echo
echo "\$ dpuhost cards"
build/cli/dpuhost cards
