#!/bin/bash
# The main job: build dpuhost and show the inventory of this machine.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
dh_install_packages $DH_BUILD_PACKAGES
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "\$ dpuhost functions"
build/cli/dpuhost functions
echo
echo "\$ dpuhost cards"
build/cli/dpuhost cards
