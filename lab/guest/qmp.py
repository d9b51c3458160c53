#!/usr/bin/env python3
"""A small QMP client for the lab's VM scenarios: the scenario's own view of a nested QEMU.

Runs inside the lab VM as `chroot /host python3 .../qmp.py ...` (lab/guest/vm.sh: qmp). It is the
oracle for what QEMU itself says, independent of dpuhost's QMP client, and the hand-run reference
of the VM benchmark. QEMU's QMP socket serves one client at a time: while dpuhostd is connected,
another client gets no greeting (this client then fails after its timeout, saying so).

  qmp.py SOCK exec COMMAND [ARGS_JSON]    one command; prints its "return" as JSON.
  qmp.py SOCK realized ID                 prints qom-get /machine/peripheral/ID realized (true/false)
  qmp.py SOCK wait-event NAME [DEVICE]    waits for event NAME (with data.device = DEVICE); prints
                                          its data and the seconds waited
  qmp.py launch ARGV_FILE ID...           starts QEMU from ARGV_FILE (one argument per line; it must
                                          have -S and -qmp unix:PATH,server=on,...), polls QMP until
                                          every device ID is realized, then cont; QEMU keeps running.
                                          Prints "PID SECONDS qmp=S realized=S cont=S": spawn to
                                          cont answered, and its phases (spawn to QMP greeting and
                                          capabilities, to every device realized, to cont answered).
  qmp.py SOCK hotplug ID HOST BUS         device_add vfio-pci (host=HOST, bus=BUS, id=ID), then
                                          qom-get realized; prints the seconds both took.

Options (before SOCK or launch): --timeout S (default 30), waiting for the greeting, a reply or an event.
Exit status: 0 ok, 1 QMP error or timeout (reason on stderr), 2 usage.
"""
import json
import os
import socket
import subprocess
import sys
import time


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, path, timeout):
        self.timeout = timeout
        self.buf = b""
        self.events = []
        self.next_id = 0
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError("cannot connect to %s: %s" % (path, e))
                time.sleep(0.005)
        try:
            greeting = self._read(deadline)
        except QmpError:
            raise QmpError("no QMP greeting on %s within %s s (is another client, e.g. dpuhostd, "
                           "connected? QEMU serves one at a time)" % (path, timeout))
        if "QMP" not in greeting:
            raise QmpError("not a QMP greeting: %r" % greeting)
        self.execute("qmp_capabilities")

    def _read(self, deadline):
        """The next message (a dict)."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QmpError("timeout")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise QmpError("timeout")
            if not chunk:
                raise QmpError("QEMU closed the QMP socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, arguments=None):
        self.next_id += 1
        msg = {"execute": command, "id": self.next_id}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read(deadline)
            if "event" in m:
                self.events.append(m)
            elif m.get("id") == self.next_id:
                if "error" in m:
                    raise QmpError("%s: %s: %s" % (command, m["error"].get("class"), m["error"].get("desc")))
                return m.get("return")

    def wait_event(self, name, device=None):
        deadline = time.monotonic() + self.timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name and (device is None or ev.get("data", {}).get("device") == device):
                    return self.events.pop(i)
            m = self._read(deadline)
            if "event" in m:
                self.events.append(m)

    def realized(self, dev_id):
        return self.execute("qom-get", {"path": "/machine/peripheral/" + dev_id, "property": "realized"})


def qmp_path_of(argv):
    for i, a in enumerate(argv[:-1]):
        if a == "-qmp" and argv[i + 1].startswith("unix:"):
            return argv[i + 1][len("unix:"):].split(",")[0]
    raise QmpError("no -qmp unix:PATH in the command line")


def launch(argv_file, dev_ids, timeout):
    with open(argv_file) as f:
        argv = [line.rstrip("\n") for line in f if line.strip()]
    if "-S" not in argv:
        raise QmpError("the command line has no -S")
    path = qmp_path_of(argv)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(argv_file + ".log", "w"), start_new_session=True)
    deadline = t0 + timeout
    q = None
    while q is None:
        if proc.poll() is not None:
            raise QmpError("QEMU exited with status %d while starting (see %s.log)" % (proc.returncode, argv_file))
        if time.monotonic() > deadline:
            raise QmpError("QEMU's QMP did not answer within %s s" % timeout)
        if os.path.exists(path):
            try:
                q = Qmp(path, max(0.2, deadline - time.monotonic()))
            except QmpError:
                q = None
        if q is None:
            time.sleep(0.02)
    t_qmp = time.monotonic()
    for d in dev_ids:
        while q.realized(d) is not True:
            if time.monotonic() > deadline:
                raise QmpError("%s is not realized after %s s" % (d, timeout))
            time.sleep(0.005)
    t_realized = time.monotonic()
    q.execute("cont")
    t_cont = time.monotonic()
    return proc.pid, t_cont - t0, (t_qmp - t0, t_realized - t_qmp, t_cont - t_realized)


def main(args):
    timeout = 30.0
    if len(args) >= 2 and args[0] == "--timeout":
        timeout = float(args[1])
        args = args[2:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if args[0] == "launch":
            pid, secs, phases = launch(args[1], args[2:], timeout)
            print("%d %.3f qmp=%.3f realized=%.3f cont=%.3f" % ((pid, secs) + phases))
            return 0
        q = Qmp(args[0], timeout)
        cmd, rest = args[1], args[2:]
        if cmd == "exec" and len(rest) in (1, 2):
            ret = q.execute(rest[0], json.loads(rest[1]) if len(rest) == 2 else None)
            print(json.dumps(ret))
        elif cmd == "realized" and len(rest) == 1:
            print(json.dumps(q.realized(rest[0])))
        elif cmd == "wait-event" and len(rest) in (1, 2):
            t0 = time.monotonic()
            ev = q.wait_event(rest[0], rest[1] if len(rest) == 2 else None)
            print("%s %.3f" % (json.dumps(ev.get("data")), time.monotonic() - t0))
        elif cmd == "hotplug" and len(rest) == 3:
            t0 = time.monotonic()
            q.execute("device_add", {"driver": "vfio-pci", "host": rest[1], "bus": rest[2], "id": rest[0]})
            if q.realized(rest[0]) is not True:
                raise QmpError("%s is not realized after device_add" % rest[0])
            print("%.3f" % (time.monotonic() - t0))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (QmpError, OSError, ValueError) as e:
        print("qmp: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
