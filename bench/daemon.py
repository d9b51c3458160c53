#!/usr/bin/env python3
"""dpuhostd benchmarks, in one run:

1. Claim+release throughput: 16 clients (api-bench), each claiming one function from a pool with
   "bind": false and releasing it, in a loop, over HTTP on the Unix socket. Every claim and every
   release is durable before it is answered (the store commits with WAL + synchronous=FULL). Next to
   it, the reference: SQLite's durable single-commit rate (sqlite-commit: one INSERT + COMMIT per
   transaction, same settings) on the same filesystem, measured just before and just after.
   Target: claims per second >= the raw single-commit rate.
   For scale, the transport's own ceiling: 16 clients GETting /v1/pools (no store, no bind).
2. GET /v1/functions with about 1,500 functions (gen-tree: 4 PFs x 252 VFs + 512 SFs): p50 and p99
   of one client's sequential requests.

Usage: bench/daemon.py BUILD_DIR [--seconds N] [--clients N] [--dir DIR]
The state directory goes under DIR (default: $TMPDIR or /tmp), so the raw commit rate is measured
on the filesystem the daemon writes to."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def kv(text):
    return {l.split()[0]: l.split()[1] for l in text.splitlines() if len(l.split()) == 2}


class Daemon:
    def __init__(self, build, work, root, pools, name):
        self.socket = os.path.join(work, name + ".sock")
        self.state = os.path.join(work, name + "-state")
        cfg = os.path.join(work, name + ".json")
        with open(cfg, "w") as f:
            f.write('{"socket": "%s", "state_dir": "%s", "pools": [%s]}' % (self.socket, self.state, pools))
        notify = os.path.join(work, name + ".notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify)
        ns.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen([os.path.join(build, "daemon", "dpuhostd"), "--config", cfg, "--root", root],
                                     env=env, stderr=self.log)
        while b"READY=1" not in ns.recv(4096):
            pass
        ns.close()

    def metrics(self):
        out = subprocess.run(["curl", "-s", "--unix-socket", self.socket, "http://localhost/metrics"],
                             capture_output=True, text=True, check=True).stdout
        return {l.split()[0]: float(l.split()[1]) for l in out.splitlines()
                if l and not l.startswith("#") and len(l.split()) == 2}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(30) != 0:
            sys.exit("dpuhostd did not stop cleanly (see its log)")
        self.log.close()


def main():
    build = os.path.abspath(sys.argv[1])
    seconds = float(arg("--seconds", "10"))
    clients = int(arg("--clients", "16"))
    work = tempfile.mkdtemp(prefix="dpuhost-bench.", dir=arg("--dir", None))
    bench = lambda *a: subprocess.run([os.path.join(build, "bench", a[0])] + [str(x) for x in a[1:]],
                                      capture_output=True, text=True, check=True).stdout
    try:
        fs = subprocess.run(["df", "--output=fstype,source", work], capture_output=True, text=True).stdout.split()
        print("filesystem: %s on %s (%s)" % (work, fs[-1] if fs else "?", fs[-2] if len(fs) > 1 else "?"))

        # 1. claims
        root = bench("gen-tree", work, 1, 64, 0).strip()
        d = Daemon(build, work, root, '{"name": "bench", "selectors": {"rootDevices": ["0000:10:00.0"]}, '
                                      '"bind": false}', "claims")
        raw_before = kv(bench("sqlite-commit", d.state, 5))
        m0 = d.metrics()
        res = kv(bench("api-bench", d.socket, "claims", "bench", clients, seconds))
        m1 = d.metrics()
        raw_after = kv(bench("sqlite-commit", d.state, 5))
        http = kv(bench("api-bench", d.socket, "load", "/v1/pools", clients, seconds / 2))
        d.stop()
        raw = (float(raw_before["commits_per_second"]) + float(raw_after["commits_per_second"])) / 2
        commits = m1["dpuhost_store_commits_total"] - m0["dpuhost_store_commits_total"]
        writes = m1["dpuhost_store_writes_total"] - m0["dpuhost_store_writes_total"]
        cps = float(res["claims_per_second"])
        print("\n## claim+release, %d clients, %.0f s, bind false, every commit durable" % (clients, seconds))
        print("claims/s                     %8.0f   (%s claims, each released; %s errors)" % (
            cps, res["claims"], res["errors"]))
        print("claim  p50 / p99 ms          %8s / %s" % (res["claim_p50_ms"], res["claim_p99_ms"]))
        print("release p50 / p99 ms         %8s / %s" % (res["release_p50_ms"], res["release_p99_ms"]))
        print("claim+release p99 ms         %8s" % res["cycle_p99_ms"])
        print("store: %.0f commits for %.0f writes (%.1f writes per commit: group commit)" % (
            commits, writes, writes / commits if commits else 0))
        print("raw SQLite single commits/s  %8.0f   (before %s, after %s; commit p99 %s / %s ms)" % (
            raw, raw_before["commits_per_second"], raw_after["commits_per_second"], raw_before["p99_ms"],
            raw_after["p99_ms"]))
        print("transport alone: GET /v1/pools, %d clients  %.0f requests/s (p99 %s ms)" % (
            clients, float(http["requests_per_second"]), http["p99_ms"]))
        print("result: claims/s is %.2fx the raw single-commit rate: %s" % (
            cps / raw, "target met" if cps >= raw else "TARGET MISSED"))

        # 2. GET /v1/functions at ~1,500 functions
        shutil.rmtree(root)
        root = bench("gen-tree", work, 4, 252, 512).strip()
        d = Daemon(build, work, root, '{"name": "vfs", "selectors": {"vendors": ["15b3"], "devices": ["101e"]}}, '
                                      '{"name": "sfs", "selectors": {"auxTypes": ["sf"]}, "bind": false}', "get")
        n = int(d.metrics()["dpuhost_functions"])
        g = kv(bench("api-bench", d.socket, "get", "/v1/functions", 300))
        p = kv(bench("api-bench", d.socket, "get", "/v1/pools", 300))
        d.stop()
        print("\n## GET /v1/functions, %d functions (%s bytes), 300 sequential requests" % (n, g["bytes"]))
        print("p50 / p99 / max ms           %8s / %s / %s" % (g["p50_ms"], g["p99_ms"], g["max_ms"]))
        print("GET /v1/pools p50 / p99 ms   %8s / %s" % (p["p50_ms"], p["p99_ms"]))
        return 0 if cps >= raw else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
