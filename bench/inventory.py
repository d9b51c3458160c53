#!/usr/bin/env python3
"""Inventory benchmark: `dpuhost functions --json` against `lspci -D -vmm -k -A linux-sysfs` on the
same synthetic tree, measured in the same run, at three sizes to show linear growth. The two
commands run interleaved (A, B, A, B, ...) so that background load hits both alike; for each the
median wall time and the median CPU time (user + system, from wait4) are reported.

Usage: bench/inventory.py BUILD_DIR [--runs N]
The full size is 4 PFs x 252 VFs + 512 SFs (about 1,530 functions with netdevs, IOMMU groups and
VPD); the smaller trees scale VFs and SFs by 1/4 and 1/2. Each command runs N times (default 30)
after one warm-up; the median wall time is reported."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = [(4, 63, 128), (4, 126, 256), (4, 252, 512)]


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit("%s failed with status %d" % (cmd[0], status))
    return wall, ru.ru_utime + ru.ru_stime


def measure_pair(a, b, runs):
    """Median (wall, cpu) of a and of b, run interleaved after one warm-up each."""
    run_once(a)
    run_once(b)
    ra, rb = [], []
    for _ in range(runs):
        ra.append(run_once(a))
        rb.append(run_once(b))
    med = lambda rs: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
    return med(ra), med(rb)


def main():
    build = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 30
    dpuhost = os.path.join(build, "cli", "dpuhost")
    gen = os.path.join(build, "bench", "gen-tree")
    if not shutil.which("lspci"):
        sys.exit("lspci not found: apt-get install pciutils")
    work = tempfile.mkdtemp(prefix="dpuhost-bench.")
    rows = []
    try:
        for pfs, vfs, sfs in SIZES:
            root = subprocess.run([gen, work, str(pfs), str(vfs), str(sfs)], capture_output=True, text=True,
                                  check=True).stdout.strip()
            n = int(subprocess.run([dpuhost, "--root", root, "functions"], capture_output=True, text=True,
                                   check=True).stdout.count("\n")) - 1
            npci = len([e for e in os.listdir(os.path.join(root, "sys/bus/pci/devices"))])
            dh, ls = measure_pair([dpuhost, "--root", root, "functions", "--json"],
                                  ["lspci", "-D", "-vmm", "-k", "-A", "linux-sysfs", "-O",
                                   "sysfs.path=%s/sys/bus/pci" % root], runs)
            rows.append((n, npci, dh, ls))
            shutil.rmtree(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%-9s %-5s | %-11s %-11s %-6s | %-11s %-11s %-6s | %s" % (
        "functions", "pci", "dpuhost ms", "lspci ms", "ratio", "dpuhost cpu", "lspci cpu", "ratio",
        "dpuhost cpu us/function"))
    for n, npci, dh, ls in rows:
        print("%-9d %-5d | %-11.1f %-11.1f %-6.2f | %-11.1f %-11.1f %-6.2f | %.1f" % (
            n, npci, dh[0] * 1e3, ls[0] * 1e3, dh[0] / ls[0], dh[1] * 1e3, ls[1] * 1e3, dh[1] / ls[1],
            dh[1] * 1e6 / n))
    per = [dh[1] / n for n, _, dh, _ in rows]
    print("linearity: CPU time per function at the largest size is %.2fx the smallest" % (per[-1] / per[0]))
    dh, ls = rows[-1][2], rows[-1][3]
    ok = dh[0] <= ls[0] * 1.05 and dh[1] <= ls[1]
    print("result: on the full tree dpuhost/lspci is %.2f (wall) and %.2f (cpu): %s" % (
        dh[0] / ls[0], dh[1] / ls[1], "no slower" if ok else "SLOWER"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
