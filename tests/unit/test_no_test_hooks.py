# SPDX-License-Identifier: LGPL-2.1-or-later
"""The installed cchostctl has no test hooks (hostd/basic/test-hooks.h): none of the hook variables is
named anywhere in the binary, and a pinned clock does not make expired collateral valid. Only the test
front end (cchostctl-test, $CCHOSTCTL in the tests) reads them.

argv[1]: the cchostctl that gets installed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixture"))
from checklib import CCHOSTCTL, HostCase, main, tree_digest  # noqa: E402

RELEASE = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(CCHOSTCTL), "cchostctl")
HOOK_VARIABLES = ("CCHOST_TEST_CRASH_AFTER_JOURNAL_WRITE", "CCHOST_FDE_CRASH_AT", "CCHOST_FDE_TEST_FAST_ARGON2",
                  "CCHOST_NOW", "CCHOST_TEST_LOCK_HOLD_MS")
# the SPR collateral of tests/fixture/test_pccs.py: valid on 2023-07-01, expired long before today
from test_pccs import SPR_SET, VECTORS  # noqa: E402


class NoTestHooks(HostCase):
    def test_no_hook_variable_in_the_binary(self):
        with open(RELEASE, "rb") as f:
            data = f.read()
        self.assertGreater(len(data), 100000, RELEASE)
        for name in HOOK_VARIABLES:
            self.assertFalse(name.encode() in data, f"{RELEASE} names {name}")

    def import_at(self, binary, now):
        spec = self.spec("spr-tdx-ready")
        spec.setdefault("files", {})["/etc/cchost/cchost.yaml"] = (
            "pccs:\n  url: https://pccs.cluster.example:8081/sgx/certification/v4/\n  use_secure_cert: true\n")
        root = self.build(spec)
        bundle = tempfile.mkdtemp(prefix="cchost-bundle-")
        self.addCleanup(shutil.rmtree, bundle, True)
        for name, path in SPR_SET.items():
            shutil.copy(os.path.join(VECTORS, path), os.path.join(bundle, name))
        before = tree_digest(root)
        p = subprocess.run([binary, "--no-color", "--root", root, "certs", "import", "--tdx", bundle],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, CCHOST_NOW=now))
        return p, tree_digest(root) == before

    def test_pinned_clock_is_refused(self):
        p, unchanged = self.import_at(RELEASE, "2023-07-01T00:00:00Z")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("expired", p.stderr)
        self.assertTrue(unchanged, "a refused import changed the root")

    def test_the_test_front_end_pins_it(self):
        # the same import is accepted by the test binary: the refusal above is the clock, not the bundle
        if os.path.realpath(CCHOSTCTL) == os.path.realpath(RELEASE):
            self.skipTest("no test front end in this build (-Dtest-hooks=false)")
        p, _ = self.import_at(CCHOSTCTL, "2023-07-01T00:00:00Z")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    main()
