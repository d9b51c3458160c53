#!/usr/bin/env python3
"""dpuhost functions --json agrees with `lspci -D -k -n` on this machine's real /sys: same set of
functions, and for each the vendor, device, class (base+sub) and driver. TAP output; exit 77 (skip)
when lspci is missing or the machine has no PCI devices."""
import json
import re
import shutil
import subprocess
import sys


def lspci_view():
    out = subprocess.run(["lspci", "-D", "-k", "-n"], capture_output=True, text=True, check=True).stdout
    devs, cur = {}, None
    head = re.compile(r"^([0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ([0-9a-f]{4}): ([0-9a-f]{4}):([0-9a-f]{4})")
    for line in out.splitlines():
        m = head.match(line)
        if m:
            cur = m.group(1)
            devs[cur] = {"class": m.group(2), "vendor": m.group(3), "device": m.group(4), "driver": None}
        elif cur and line.strip().startswith("Kernel driver in use:"):
            devs[cur]["driver"] = line.split(":", 1)[1].strip()
    return devs


def main():
    dpuhost = sys.argv[1]
    if not shutil.which("lspci"):
        print("1..0 # SKIP lspci not installed (apt-get install pciutils)")
        return 77
    want = lspci_view()
    if not want:
        print("1..0 # SKIP this machine has no PCI devices")
        return 77
    got = {}
    for kind in ("pci", "pf", "vf"):
        doc = json.loads(subprocess.run([dpuhost, "--root", "/", "functions", "--json", "--kind", kind],
                                        capture_output=True, text=True, check=True).stdout)
        got.update({f["address"]: f for f in doc["functions"]})
    tests = sorted(set(want) | set(got))
    print("1..%d" % (len(tests) + 1))
    fails = 0
    n = 1
    same = set(want) == set(got)
    print("%s %d - same set of functions (%d)" % ("ok" if same else "not ok", n, len(want)))
    fails += not same
    for addr in tests:
        n += 1
        w, g = want.get(addr), got.get(addr)
        problems = []
        if not w or not g:
            problems.append("only in " + ("dpuhost" if g else "lspci"))
        else:
            if g["vendor_id"] != "0x" + w["vendor"]:
                problems.append("vendor %s != %s" % (g["vendor_id"], w["vendor"]))
            if g["device_id"] != "0x" + w["device"]:
                problems.append("device %s != %s" % (g["device_id"], w["device"]))
            if not g["class"] or g["class"][2:6] != w["class"]:
                problems.append("class %s != %s" % (g["class"], w["class"]))
            if g["driver"] != w["driver"]:
                problems.append("driver %s != %s" % (g["driver"], w["driver"]))
        if problems:
            fails += 1
            print("not ok %d - %s: %s" % (n, addr, "; ".join(problems)))
        else:
            print("ok %d - %s %s:%s class %s driver %s" % (n, addr, w["vendor"], w["device"], w["class"],
                                                           w["driver"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
