#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (not a test): disk encryption against the anchors on the same swtpm and image.
  keyslot rotation: cchostctl disk rotate   vs  systemd-cryptenroll --wipe-slot=tpm2 --tpm2-device=swtpm:...
  volume-key:       cchostctl disk rotate --volume-key  vs  cryptsetup reencrypt --force-offline-reencrypt
Usage: tests/bench/fde.py [BUILDDIR] [ROUNDS]"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(src, "build")
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
ctl = os.path.join(build, "hostd", "cli", "cchostctl")


def run(*cmd, env=None):
    subprocess.run(list(cmd), check=True, capture_output=True, env=env)


def timed(fn, n):
    best = None
    for _ in range(n):
        t = time.monotonic()
        fn()
        d = time.monotonic() - t
        best = d if best is None or d < best else best
    return best


d = tempfile.mkdtemp(prefix="cchost-bench-fde-")
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
os.mkdir(d + "/st")
run("swtpm", "socket", "--tpm2", "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % port, "--ctrl",
    "type=tcp,port=%d,bindaddr=127.0.0.1" % (port + 1), "--tpmstate", "dir=" + d + "/st", "--flags",
    "startup-clear", "--daemon", "--pid", "file=" + d + "/pid")
time.sleep(0.2)
tcti = "swtpm:host=127.0.0.1,port=%d" % port
env = dict(os.environ, TPM2TOOLS_TCTI=tcti, TSS2_LOG="all+none", SYSTEMD_LOG_LEVEL="err")
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
    run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "enroll", a, "--tpm2", "--unlock-key-file", key,
        "--no-recovery-key", env=env)
    ours = timed(lambda: run(ctl, "--root", d + "/root", "--tcti", tcti, "disk", "rotate", a, env=env), rounds)

    def enroll():
        run("systemd-cryptenroll", "--tpm2-device=" + tcti, "--tpm2-pcrs=7", "--wipe-slot=tpm2",
            "--unlock-key-file=" + key, b, env=env)
        run("tpm2_flushcontext", "-l", env=env)  # v252 leaks a session per run; not timed by us
    theirs = timed(enroll, rounds)
    print("keyslot rotation (best of %d): cchostctl disk rotate %.3f s, systemd-cryptenroll %.3f s, ratio %.2f"
          % (rounds, ours, theirs, ours / theirs))

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
    with open(d + "/pid") as f:
        os.kill(int(f.read()), 15)
    shutil.rmtree(d, True)
