#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test): disk encryption against the anchors on the same swtpm and image.
  keyslot rotation: cchostctl disk rotate --pcrs P  vs  systemd-cryptenroll --tpm2-pcrs=P --wipe-slot=tpm2,
                    both with the same unlock key file, P alternating 7 and 7+14 so that every call
                    really enrolls a new slot and wipes the old one (the benchmark checks that each
                    call changed the LUKS2 header and left one systemd-tpm2 token bound to P, and
                    fails loudly otherwise), plus the TPM commands each sent (counted by a proxy)
  volume-key:       cchostctl disk rotate --volume-key  vs  cryptsetup reencrypt --force-offline-reencrypt
Usage: tests/bench/fde.py [BUILDDIR] [ROUNDS]"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(src, "build")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
ctl = os.path.join(build, "hostd", "cli", "cchostctl")


def run(*cmd, env=None):
    subprocess.run(list(cmd), check=True, capture_output=True, env=env)


sys.path.insert(0, os.path.join(src, "tests", "tpm"))
from tpmproxy import CountingProxy, free_port_pair  # noqa: E402


def fail(msg):
    print("fde.py: FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def header_state(img):
    """The LUKS2 header area's hash and the systemd-tpm2 tokens (their PCR lists) it holds."""
    with open(img, "rb") as f:
        h = hashlib.sha256(f.read(16 << 20)).hexdigest()
    out = subprocess.run(["cryptsetup", "luksDump", "--dump-json-metadata", img], check=True, capture_output=True,
                         text=True).stdout
    toks = [t.get("tpm2-pcrs") for t in json.loads(out)["tokens"].values() if t.get("type") == "systemd-tpm2"]
    return h, toks


def timed_rotations(name, img, fn, proxy, n):
    """Best time of n calls of fn(pcrs), alternating the PCR set; each must change the header and leave
    exactly one systemd-tpm2 token, bound to the new set. Returns (best seconds, TPM commands per call)."""
    best, counts = None, []
    sets = [("7+14", [7, 14]), ("7", [7])]
    for i in range(n):
        pcrs, want = sets[i % 2]
        before, _ = header_state(img)
        proxy.take()
        t = time.monotonic()
        fn(pcrs)
        d = time.monotonic() - t
        counts.append(proxy.take())
        after, toks = header_state(img)
        if after == before:
            fail("%s (PCRs %s, call %d) left the LUKS2 header of %s unchanged: it rotated nothing" % (name, pcrs, i + 1, img))
        if toks != [want]:
            fail("%s (PCRs %s, call %d): expected one systemd-tpm2 token on PCRs %s, found %s" % (name, pcrs, i + 1, want, toks))
        if counts[-1] == 0:
            fail("%s (call %d) sent no TPM command" % (name, i + 1))
        best = d if best is None or d < best else best
    return best, max(counts)


def timed(fn, n):
    best = None
    for _ in range(n):
        t = time.monotonic()
        fn()
        d = time.monotonic() - t
        best = d if best is None or d < best else best
    return best


d = tempfile.mkdtemp(prefix="cchost-bench-fde-")
port = free_port_pair()
os.mkdir(d + "/st")
run("swtpm", "socket", "--tpm2", "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % port, "--ctrl",
    "type=tcp,port=%d,bindaddr=127.0.0.1" % (port + 1), "--tpmstate", "dir=" + d + "/st", "--flags",
    "startup-clear", "--daemon", "--pid", "file=" + d + "/pid")
time.sleep(0.2)
direct = "swtpm:host=127.0.0.1,port=%d" % port
proxy = CountingProxy(port)
tcti = "swtpm:host=127.0.0.1,port=%d" % proxy.port
env = dict(os.environ, TPM2TOOLS_TCTI=direct, TSS2_LOG="all+none", SYSTEMD_LOG_LEVEL="err")
try:
    os.makedirs(d + "/root")
    key = d + "/key"
    with open(key, "w") as f:
        f.write("bench passphrase")

    def image(name, mb):
        img = d + "/" + name
        run("truncate", "-s", "%dM" % mb, img)
        run("cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
            "1000", "--key-file", key, img)
        return img

    a, b = image("a.img", 32), image("b.img", 32)
    run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "enroll", a, "--tpm2", "--pcrs", "7", "--unlock-key-file",
        key, "--no-recovery-key", env=env)
    run("systemd-cryptenroll", "--tpm2-device=" + tcti, "--tpm2-pcrs=7", "--unlock-key-file=" + key, b, env=env)
    run("tpm2_flushcontext", "-l", env=env)

    def ours_rotate(pcrs):
        run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "rotate", a, "--pcrs", pcrs, "--unlock-key-file", key,
            env=env)

    def theirs_rotate(pcrs):
        run("systemd-cryptenroll", "--tpm2-device=" + tcti, "--tpm2-pcrs=" + pcrs, "--wipe-slot=tpm2",
            "--unlock-key-file=" + key, b, env=env)

    def theirs_and_flush(pcrs):
        theirs_rotate(pcrs)
        run("tpm2_flushcontext", "-l", env=env)  # v252 leaks a session per run: flushed outside the proxy

    # interleaved, so that both see the same machine load
    ours, theirs, ours_cmds, theirs_cmds = None, None, 0, 0
    for _ in range(rounds):
        t, c = timed_rotations("cchostctl disk rotate", a, ours_rotate, proxy, 2)
        ours, ours_cmds = (t if ours is None else min(ours, t)), max(ours_cmds, c)
        t, c = timed_rotations("systemd-cryptenroll", b, theirs_and_flush, proxy, 2)
        theirs, theirs_cmds = (t if theirs is None else min(theirs, t)), max(theirs_cmds, c)
    print("keyslot rotation, PCRs alternating 7 and 7+14 (best of %d): cchostctl disk rotate %.3f s (%d TPM "
          "commands), systemd-cryptenroll %.3f s (%d TPM commands, its session flush not counted), ratio %.2f"
          % (2 * rounds, ours, ours_cmds, theirs, theirs_cmds, ours / theirs))

    mb = 256
    c, e = image("c.img", mb), image("e.img", mb)
    run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "enroll", c, "--tpm2", "--unlock-key-file", key,
        "--no-recovery-key", env=env)
    n = max(1, rounds // 5)
    ours = timed(lambda: run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "rotate", c, "--volume-key",
                             "--unlock-key-file", key, env=env), n)
    theirs = timed(lambda: run("cryptsetup", "reencrypt", "-q", "--force-offline-reencrypt", "--resilience", "checksum",
                               "--key-file", key, e), n)
    data = mb - 16
    print("volume-key reencryption of %d MiB (best of %d): cchostctl %.2f s (%.0f MiB/s), cryptsetup reencrypt "
          "%.2f s (%.0f MiB/s), ratio %.2f" % (data, n, ours, data / ours, theirs, data / theirs, ours / theirs))
finally:
    proxy.close()
    with open(d + "/pid") as f:
        os.kill(int(f.read()), 15)
    shutil.rmtree(d, True)
