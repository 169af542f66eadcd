#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test) of cchostd on a private bus (tests/dbus/buslib.py's bus configuration):
  (a) GetAll round trip vs org.freedesktop.DBus.Peer.Ping to the same daemon on the same connection
      (medians of paired batches; target <= 1.5x);
  (b) CLIENTS concurrent client processes x CALLS GetAll calls each: errors (target 0) and the daemon's
      RSS growth (target < 1 MiB);
  (c) the daemon's idle RSS after start-up (target <= 8 MiB).
A peer that did no work (Ping or GetAll replied nothing) stops the run.
Must run as root (the daemon owns io.cchost.Host1 under the policy's root rule).
Usage: tests/bench/dbus.py [BUILDDIR] [--clients N] [--calls N] [--host NAME]"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# this file is named like the dbus module: its own directory must not shadow python3-dbus
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.join(SRC, "tests", "dbus"))
import hostbuilder  # noqa: E402
import buslib  # noqa: E402

CLIENT = r"""
import sys, dbus, dbus.bus
bus = dbus.bus.BusConnection(sys.argv[1])
errors = 0
for _ in range(int(sys.argv[2])):
    try:
        if not bus.call_blocking("io.cchost.Host1", "/io/cchost/Host1", "org.freedesktop.DBus.Properties",
                                 "GetAll", "s", ["io.cchost.Host1"]):
            errors += 1
    except dbus.exceptions.DBusException:
        errors += 1
print(errors)
"""


def die(msg):
    print(f"dbus.py: {msg}", file=sys.stderr)
    sys.exit(1)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    die(f"no VmRSS for {pid}")


def rollup_kib(pid):
    """Pss and private (clean + dirty) of the process, from smaps_rollup."""
    v = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            p = line.split()
            if len(p) == 3 and p[2] == "kB":
                v[p[0].rstrip(":")] = int(p[1])
    return v.get("Pss", 0), v.get("Private_Clean", 0) + v.get("Private_Dirty", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(SRC, "build"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--host", default="spr-tdx-certified")
    a = ap.parse_args()
    if os.geteuid() != 0:
        die("run as root")
    daemon_bin = os.path.join(a.build, "hostd", "daemon", "cchostd")
    import dbus
    import dbus.bus

    tmp = tempfile.mkdtemp(prefix="cchost-bench-dbus-")
    procs = []
    try:
        includedir = os.path.join(tmp, "system.d")
        os.mkdir(includedir)
        shutil.copy(buslib.POLICY, includedir)
        sock = os.path.join(tmp, "system_bus_socket")
        conf = buslib.bus_config(tmp, sock, includedir)
        bus_proc = subprocess.Popen(["dbus-daemon", "--nofork", "--nosyslog", f"--config-file={conf}",
                                     "--print-address=1"], stdout=subprocess.PIPE, text=True)
        procs.append(bus_proc)
        address = bus_proc.stdout.readline().strip().split(",")[0]
        root = os.path.join(tmp, "root")
        hostbuilder.build(hostbuilder.load_spec(a.host), root)
        daemon = subprocess.Popen([daemon_bin, "--root", root, "--bus-address", address],
                                  stderr=subprocess.DEVNULL)
        procs.append(daemon)
        bus = dbus.bus.BusConnection(address)
        deadline = time.monotonic() + 60
        while not bus.name_has_owner(buslib.BUS_NAME):
            if daemon.poll() is not None or time.monotonic() > deadline:
                die("cchostd did not start")
            time.sleep(0.05)

        def get_all():
            r = bus.call_blocking(buslib.BUS_NAME, buslib.PATH, "org.freedesktop.DBus.Properties", "GetAll", "s",
                                  [buslib.IFACE])
            if not r or "Readiness" not in r:
                die("GetAll replied nothing")

        def ping():
            bus.call_blocking(buslib.BUS_NAME, buslib.PATH, "org.freedesktop.DBus.Peer", "Ping", "", [])

        # the first replies are cached by the daemon: idle RSS after them
        get_all()
        time.sleep(0.5)
        idle = rss_kib(daemon.pid)
        pss, private = rollup_kib(daemon.pid)

        batch = 200
        ratios, t_get, t_ping = [], [], []
        for _ in range(15):
            t0 = time.perf_counter()
            for _ in range(batch):
                ping()
            tp = (time.perf_counter() - t0) / batch
            t0 = time.perf_counter()
            for _ in range(batch):
                get_all()
            tg = (time.perf_counter() - t0) / batch
            if tp <= 0:
                die("Ping took no time")
            ratios.append(tg / tp)
            t_get.append(tg)
            t_ping.append(tp)

        before = rss_kib(daemon.pid)
        clients = [subprocess.Popen(["/usr/bin/python3", "-c", CLIENT, address, str(a.calls)], stdout=subprocess.PIPE,
                                    text=True) for _ in range(a.clients)]
        errors = 0
        t0 = time.perf_counter()
        for c in clients:
            out, _ = c.communicate()
            if c.returncode != 0 or not out.strip():
                die("a client failed")
            errors += int(out)
        wall = time.perf_counter() - t0
        grown = rss_kib(daemon.pid) - before

        print("| measure | value | target |")
        print("|---|---|---|")
        print(f"| GetAll / Peer.Ping round trip (median of 15 x {batch}) | {statistics.median(ratios):.2f}x "
              f"({statistics.median(t_get) * 1e6:.0f} us / {statistics.median(t_ping) * 1e6:.0f} us) | <= 1.5x |")
        print(f"| {a.clients} clients x {a.calls} GetAll: errors | {errors} ({wall:.1f} s, "
              f"{a.clients * a.calls / wall:.0f} calls/s) | 0 |")
        print(f"| daemon RSS growth over those calls | {grown} KiB | < 1024 KiB |")
        print(f"| daemon idle RSS | {idle / 1024:.1f} MiB (PSS {pss / 1024:.1f} MiB, private {private / 1024:.1f} MiB; "
              f"the rest is shared library pages) | <= 8 MiB |")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    main()
