#!/bin/sh
# Default payload of a nested (L2) guest: announce readiness, then idle and report PCI
# changes so that pciehp/acpiphp can complete hot-plug and the L1 scenario can watch them.
# Other payloads end by running it with --no-ready, having announced themselves.
[ "$1" = --no-ready ] || echo "L2 READY uptime=$(cut -d' ' -f1 /proc/uptime)"
prev=
i=0
while [ $i -lt 3600 ]; do
  cur=$(for d in /sys/bus/pci/devices/*; do echo "${d##*/}=$(cat "$d/vendor"):$(cat "$d/device")"; done | tr '\n' ' ')
  [ "$cur" != "$prev" ] && echo "L2 PCI: $cur" && prev=$cur
  sleep 1
  i=$((i + 1))
done
