#!/usr/bin/env python3
"""Counts test cases in a meson testlog.json: TAP tests count their "ok"/"not ok" lines (a TAP
test that failed without a "not ok" line, e.g. a crash, counts one failure); other tests count
one each. Skips are counted apart. Prints "PASSED FAILED SKIPPED"."""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = t.get("stdout") or t.get("stdo") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M | re.I))
        nots = len(re.findall(r"^not ok \d+", out, re.M))
        res = t.get("result")
        if res == "SKIP":
            skipped += 1
            continue
        if oks or nots:
            passed += oks - skips
            skipped += skips
            failed += nots
            if res not in ("OK", "EXPECTEDFAIL") and nots == 0:
                failed += 1
        elif res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
print(passed, failed, skipped)
