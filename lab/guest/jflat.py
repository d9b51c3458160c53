#!/usr/bin/env python3
"""Flatten a JSON document into "PATH<TAB>VALUE" lines, for lab scenarios written in sh.

Runs inside the lab VM as `chroot /host python3 .../jflat.py < FILE`. It only reshapes
dpuhost's output so that the shell can look values up; it decides nothing.

  PATH   components joined by "/". A list item that is an object with an "address" (else a
         "name") string is named by it: functions/0000:01:00.0/driver,
         functions/0000:02:00.0/netdevs/eth0/mac; other items by their index.
  VALUE  scalars as JSON literals ("nvme", 3, null, true), so the type is visible;
         containers as {N} or [N] (N = number of members).

Exit status 2, with the parser's message on stderr, when stdin is not valid JSON.
"""
import json
import sys


def walk(path, v, out):
    if isinstance(v, dict):
        out.append((path, "{%d}" % len(v)))
        for k, sub in v.items():
            walk(path + [str(k)], sub, out)
    elif isinstance(v, list):
        out.append((path, "[%d]" % len(v)))
        for i, sub in enumerate(v):
            name = str(i)
            if isinstance(sub, dict):
                for key in ("address", "name"):
                    if isinstance(sub.get(key), str) and "/" not in sub[key]:
                        name = sub[key]
                        break
            walk(path + [name], sub, out)
    else:
        out.append((path, json.dumps(v)))


def main():
    try:
        doc = json.load(sys.stdin)
    except ValueError as e:
        print("not valid JSON: %s" % e, file=sys.stderr)
        return 2
    out = []
    walk([], doc, out)
    for path, value in out:
        print("%s\t%s" % ("/".join(path) or "/", value.replace("\t", "\\t").replace("\n", "\\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
