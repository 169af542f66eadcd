# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the 'tpm' suite: one swtpm per test on 127.0.0.1 (it serves one client at a time),
LUKS2 image files with PBKDF2 keyslots, a data pattern written and checked in userspace (no
device-mapper here: AES-XTS-plain64 with 512-byte sectors, via python3-cryptography), tpm2-tools
unsealing following systemd's recipe, and a root tree with an escrow certificate."""
import atexit
import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

if not shutil.which("swtpm") or not shutil.which("cryptsetup"):
    print("swtpm or cryptsetup missing: skipping")
    sys.exit(77)

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "fixture"))
from checklib import hostbuilder, main, tree_digest  # noqa: E402,F401

# libcryptsetup (and the cryptsetup tools the tests run) create the device-mapper control node
# /dev/mapper/control as a side effect of any call, even on image files. A machine without it gets
# it removed again when the tests end, so the suite leaves the host as it found it.
_DM_DIR, _DM_CONTROL = "/dev/mapper", "/dev/mapper/control"
_DM_HAD_DIR, _DM_HAD_CONTROL = os.path.lexists(_DM_DIR), os.path.lexists(_DM_CONTROL)


def _restore_dev_mapper():
    try:
        if not _DM_HAD_CONTROL and os.path.lexists(_DM_CONTROL):
            os.remove(_DM_CONTROL)
        if not _DM_HAD_DIR and os.path.isdir(_DM_DIR) and not os.listdir(_DM_DIR):
            os.rmdir(_DM_DIR)
    except OSError as e:
        print(f"fdelib: could not remove {_DM_CONTROL} again: {e}", file=sys.stderr)


atexit.register(_restore_dev_mapper)

CCHOSTCTL = os.environ.get("CCHOSTCTL", os.path.join(TESTS, "..", "build", "hostd", "cli", "cchostctl"))
SECTOR = 512


def free_port_pair():
    """Two consecutive free ports on 127.0.0.1 (server, control)."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port >= 65535:
            continue
        s2 = socket.socket()
        try:
            s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        finally:
            s2.close()
        return port, port + 1
    raise RuntimeError("no free ports")


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(*cmd, env=None, check=True, input=None):
    p = subprocess.run(list(cmd), capture_output=True, env=env, input=input, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


class FdeCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cchost-fde-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port, self.ctrl = free_port_pair()
        state = os.path.join(self.dir, "tpmstate")
        os.mkdir(state)
        pidfile = os.path.join(self.dir, "swtpm.pid")
        run("swtpm", "socket", "--tpm2",
            "--server", "type=tcp,port=%d,bindaddr=127.0.0.1" % self.port,
            "--ctrl", "type=tcp,port=%d,bindaddr=127.0.0.1" % self.ctrl,
            "--tpmstate", "dir=" + state, "--flags", "startup-clear", "--daemon", "--pid", "file=" + pidfile)
        for _ in range(200):
            if os.path.exists(pidfile) and os.path.getsize(pidfile) > 0:
                break
            time.sleep(0.01)
        with open(pidfile) as f:
            self.swtpm_pid = int(f.read().strip())
        self.addCleanup(self.stop_swtpm)
        self.tcti = "swtpm:host=127.0.0.1,port=%d" % self.port
        self.env = dict(os.environ, CCHOST_FDE_TEST_FAST_ARGON2="1", TPM2TOOLS_TCTI=self.tcti, TSS2_LOG="all+none")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(self.root, "etc", "cchost"))
        self.escrow_key = os.path.join(self.dir, "escrow-key.pem")
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=cchost escrow test",
            "-days", "3650", "-keyout", self.escrow_key,
            "-out", os.path.join(self.root, "etc", "cchost", "escrow-cert.pem"))

    def stop_swtpm(self):
        try:
            os.kill(self.swtpm_pid, 15)
        except ProcessLookupError:
            pass

    # ---- images ----
    def path(self, name):
        return os.path.join(self.dir, name)

    def write_key(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def make_image(self, name="disk.img", size_mb=32, key=b"first passphrase", luks="luks2", pattern=True):
        img = self.path(name)
        run("truncate", "-s", "%dM" % size_mb, img)
        kf = self.write_key(name + ".key", key)
        run("cryptsetup", "luksFormat", "-q", "--type", luks, "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
            "1000", "--sector-size", str(SECTOR), "--cipher", "aes-xts-plain64", "--key-size", "512",
            "--key-file", kf, img) if luks == "luks2" else \
            run("cryptsetup", "luksFormat", "-q", "--type", luks, "--iter-time", "1", "--cipher", "aes-xts-plain64",
                "--key-size", "512", "--key-file", kf, img)
        if pattern:
            self.write_pattern(img, kf)
        return img, kf

    def volume_key(self, img, keyfile):
        vk = self.path("vk.bin")
        run("cryptsetup", "luksDump", "-q", "--dump-volume-key", "--volume-key-file", vk, "--key-file", keyfile, img)
        with open(vk, "rb") as f:
            data = f.read()
        os.remove(vk)
        return data

    def data_offset(self, img):
        meta = json.loads(run("cryptsetup", "luksDump", "--dump-json-metadata", img).stdout)
        seg = meta["segments"]["0"]
        return int(seg["offset"]), seg["size"]

    @staticmethod
    def sector_plain(i):
        return hashlib.sha256(b"cchost pattern %d" % i).digest() * (SECTOR // 32)

    def xts(self, vk, i):
        return Cipher(algorithms.AES(vk), modes.XTS(struct.pack("<QQ", i, 0)))

    def write_pattern(self, img, keyfile):
        vk = self.volume_key(img, keyfile)
        off, _ = self.data_offset(img)
        n = (os.path.getsize(img) - off) // SECTOR
        with open(img, "r+b") as f:
            f.seek(off)
            for i in range(n):
                e = self.xts(vk, i).encryptor()
                f.write(e.update(self.sector_plain(i)) + e.finalize())

    def check_pattern(self, img, keyfile, step=1):
        """Decrypts every step-th sector with the current volume key and compares with the pattern."""
        vk = self.volume_key(img, keyfile)
        off, _ = self.data_offset(img)
        n = (os.path.getsize(img) - off) // SECTOR
        bad = 0
        with open(img, "rb") as f:
            for i in list(range(0, n, step)) + [n - 1]:
                f.seek(off + i * SECTOR)
                d = self.xts(vk, i).decryptor()
                if d.update(f.read(SECTOR)) + d.finalize() != self.sector_plain(i):
                    bad += 1
        self.assertEqual(bad, 0, "sectors that do not decrypt to the pattern")
        return vk

    def opens(self, img, keyfile, slot=None):
        cmd = ["cryptsetup", "open", "--test-passphrase", "--key-file", keyfile, img]
        if slot is not None:
            cmd[3:3] = ["--key-slot", str(slot)]
        p = run(*cmd, check=False)
        self.last_open_error = p.stderr.decode(errors="replace")
        return p.returncode == 0

    # ---- cchostctl ----
    def ctl(self, *args, tcti=None, env=None):
        # disk recover asks no TPM and takes no --tcti (an option a verb does not take is refused)
        recover = list(args[:2]) == ["disk", "recover"]
        cmd = [CCHOSTCTL, "--no-color", "--root", self.root] + ([] if recover else ["--tcti", tcti or self.tcti]) + \
            list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env or self.env)
        return p.returncode, p.stdout, p.stderr

    def status(self, img):
        rc, out, err = self.ctl("--json", "disk", "status", img)
        self.assertIn(rc, (0, 1), err)
        doc = json.loads(out)
        self.assertEqual(doc["schema"], "cchost.disk/v1")
        return doc["devices"][0]

    def finding(self, dev, fid):
        return [f for f in dev["findings"] if f["id"] == fid]

    def tokens(self, img):
        meta = json.loads(run("cryptsetup", "luksDump", "--dump-json-metadata", img).stdout)
        return {int(k): v for k, v in meta["tokens"].items()}, meta

    def enroll(self, img, keyfile, *extra):
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", keyfile, *extra)
        self.assertEqual(rc, 0, err)
        return out

    # ---- tpm2-tools, following systemd's recipe ----
    def tools_unseal(self, token, name="tpm"):
        """Recreates the v252 primary, loads the blob, PolicyPCR session, unseals; returns base64(secret)."""
        blob = base64.b64decode(token["tpm2-blob"])
        n = struct.unpack(">H", blob[:2])[0]
        priv, pub = self.path(name + ".priv"), self.path(name + ".pub")
        with open(priv, "wb") as f:
            f.write(blob[:2 + n])
        with open(pub, "wb") as f:
            f.write(blob[2 + n:])
        ctx = lambda s: self.path(name + s)  # noqa: E731
        pcrs = ",".join(str(p) for p in token["tpm2-pcrs"])
        try:
            run("tpm2_createprimary", "-Q", "-C", "o", "-G", "ecc256:aes128cfb", "-g", "sha256", "-a",
                "restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth", "-c", ctx(".prim"),
                env=self.env)
            run("tpm2_load", "-Q", "-C", ctx(".prim"), "-u", pub, "-r", priv, "-c", ctx(".obj"), env=self.env)
            run("tpm2_flushcontext", "-t", env=self.env)
            run("tpm2_startauthsession", "--policy-session", "-S", ctx(".sess"), env=self.env)
            try:
                run("tpm2_policypcr", "-Q", "-S", ctx(".sess"), "-l", "%s:%s" % (token["tpm2-pcr-bank"], pcrs),
                    env=self.env)
                p = run("tpm2_unseal", "-c", ctx(".obj"), "-p", "session:" + ctx(".sess"), env=self.env, check=False)
            finally:
                run("tpm2_flushcontext", ctx(".sess"), env=self.env, check=False)
        finally:
            run("tpm2_flushcontext", "-t", env=self.env, check=False)
        if p.returncode != 0:
            return None
        return base64.b64encode(p.stdout)

    def extend_pcr7(self):
        run("tpm2_pcrextend", "7:sha256=" + "11" * 32, env=self.env)

    def escrowed_passphrase(self, uuid, slot):
        p = os.path.join(self.root, "var/lib/cchost/escrow/%s-keyslot-%d.p7m" % (uuid, slot))
        out = run("openssl", "cms", "-decrypt", "-inform", "PEM", "-in", p, "-inkey", self.escrow_key).stdout
        doc = json.loads(out)
        self.assertEqual(doc["keyslot"], slot)
        return doc["recovery_passphrase"]

    def recovery_slot(self, dev):
        return [s["slot"] for s in dev["keyslots"] if s["role"] == "passphrase"]

    def tpm_token_opens(self, img):
        """Some systemd-tpm2 token unseals (tpm2-tools) to a passphrase that opens its keyslot."""
        toks, _ = self.tokens(img)
        for tid, t in toks.items():
            if t["type"] != "systemd-tpm2":
                continue
            pw = self.tools_unseal(t)
            if not pw:
                continue
            kf = self.write_key("tpm.pw", pw)
            # while a reencryption is in progress cryptsetup refuses --key-slot: then try them all
            if any(self.opens(img, kf, int(s)) for s in t["keyslots"]) or self.opens(img, kf):
                return True
        return False
