#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The TPM2 layer (hardening/tpm2-util.c) on its own against swtpm: the process environment stays
as it was, PCR values match tpm2-tools', and a keyslot rotation sends no more TPM commands than it
needs (one session, one primary, no re-reads; counted by a proxy in front of swtpm)."""
import os
import re
import subprocess
import unittest

from fdelib import CCHOSTCTL, FdeCase, hostbuilder, main, run
from tpmproxy import CountingProxy

BUILD = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(CCHOSTCTL))))
TPM2_UTIL = os.path.join(BUILD, "tests", "test-tpm2-util")

# systemd-cryptenroll v252 sends 25 for the same rotation (tests/bench/fde.py counts both)
ROTATE_WITH_KEY_FILE = 12    # Startup, CreatePrimary, StartAuthSession; PCR_Read, Create; Load,
                             # StartAuthSession, PolicyPCR, Unseal, FlushContext; the two flushes at the end
ROTATE_UNSEALING_OLD = 17    # and the old token's Load, StartAuthSession, PolicyPCR, Unseal, FlushContext


class Tpm2UtilTest(FdeCase):
    def test_environment_unchanged_and_pcrs_read_in_batches(self):
        # values in PCRs past the first eight answers of one PCR_Read
        for pcr, byte in ((7, "11"), (14, "22"), (9, "33"), (16, "44"), (23, "55")):
            run("tpm2_pcrextend", "%d:sha256=%s" % (pcr, byte * 32), env=self.env)
        env = {k: v for k, v in self.env.items() if not k.startswith("TPM2TOOLS")}
        env["CCHOST_TEST_MARKER"] = "unchanged"
        p = subprocess.run([TPM2_UTIL, self.tcti], capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        ours = dict(line.split() for line in p.stdout.splitlines())
        tools = run("tpm2_pcrread", "sha256:all", env=self.env).stdout.decode()
        theirs = {m.group(1): m.group(2).lower() for m in re.finditer(r"(\d+)\s*:\s*0x([0-9A-Fa-f]+)", tools)}
        self.assertEqual(len(theirs), 24, tools)
        self.assertEqual(ours, theirs)
        self.assertNotEqual(ours["23"], "00" * 32)

    def test_rotation_round_trips(self):
        proxy = CountingProxy(self.port)
        self.addCleanup(proxy.close)
        tcti = "swtpm:host=127.0.0.1,port=%d" % proxy.port
        img, kf = self.make_image(pattern=False)
        rc, _, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key", tcti=tcti)
        self.assertEqual(rc, 0, err)
        for pcrs, key, most in (("7+14", True, ROTATE_WITH_KEY_FILE), ("7", False, ROTATE_UNSEALING_OLD),
                                ("0+7", False, ROTATE_UNSEALING_OLD)):
            proxy.take()
            rc, _, err = self.ctl("disk", "rotate", img, "--pcrs", pcrs, *(["--unlock-key-file", kf] if key else []),
                                  tcti=tcti)
            self.assertEqual(rc, 0, err)
            n = proxy.take()
            self.assertGreater(n, 0)
            self.assertLessEqual(n, most, "disk rotate --pcrs %s%s sent %d TPM commands" %
                                 (pcrs, " --unlock-key-file" if key else "", n))
            tokens, _ = self.tokens(img)
            self.assertEqual([t["tpm2-pcrs"] for t in tokens.values()],
                             [[int(x) for x in pcrs.split("+")]])
        # the rotated token still unseals (with systemd's recipe), and a changed PCR still says so
        self.assertTrue(self.tpm_token_opens(img))
        self.extend_pcr7()
        rc, _, err = self.ctl("disk", "rotate", img, tcti=tcti)
        self.assertEqual(rc, 2, err)
        self.assertIn("no longer unseals", err)

    def loaded_tss2(self, *args):
        """Runs cchostctl ARGS under LD_DEBUG=libs: (exit code, the libtss2 libraries the loader opened)."""
        p = subprocess.run([CCHOSTCTL, "--no-color"] + list(args), capture_output=True, text=True, timeout=300,
                           env=dict(self.env, LD_DEBUG="libs"))
        return p.returncode, set(re.findall(r"calling init: \S*/(libtss2-[a-z]+)\.so", p.stderr))

    def test_tss2_loaded_only_when_a_tpm_is_asked(self):
        root = self.path("host")
        hostbuilder.build(hostbuilder.load_spec("genoa-snp-ready"), root)
        rc, libs = self.loaded_tss2("--root", root, "check")
        self.assertIn(rc, (0, 1))
        self.assertEqual(libs, set(), "cchostctl check loaded %s" % sorted(libs))
        img, kf = self.make_image(pattern=False)
        self.enroll(img, kf, "--no-recovery-key")
        rc, libs = self.loaded_tss2("--root", self.root, "--tcti", self.tcti, "disk", "status", img)
        self.assertIn(rc, (0, 1))
        # and what they pull in (libtss2-sys, the TCTI module)
        self.assertLessEqual({"libtss2-esys", "libtss2-tctildr", "libtss2-mu", "libtss2-rc"}, libs)


if __name__ == "__main__":
    main()
