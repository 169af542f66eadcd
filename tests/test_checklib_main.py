# SPDX-License-Identifier: LGPL-2.1-or-later
"""checklib.main(), which every python test file ends with, tells meson what happened: 0 when every
selected case ran and passed, 1 when one failed (or a case named on the command line does not
exist), 77 (SKIP) with the reason when one was skipped; NAME... and --except NAME... select cases."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture")

MODULE = '''
import os
import unittest
from checklib import main


class A(unittest.TestCase):
    def test_ok(self):
        pass

    def test_skips(self):
        if os.environ.get("MODE") != "noskip":
            self.skipTest("no widget here")

    def test_fails(self):
        if os.environ.get("MODE") == "fail":
            self.fail("broken")


class B(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("MODE") == "noskip", "needs the thing")
    def test_decorated(self):
        pass


if __name__ == "__main__":
    main()
'''


class Main(unittest.TestCase):
    def setUp(self):
        d = tempfile.mkdtemp(prefix="cchost-checklib-")
        self.addCleanup(shutil.rmtree, d, True)
        self.path = os.path.join(d, "test_sample.py")
        with open(self.path, "w") as f:
            f.write(MODULE)

    def run_sample(self, *args, mode=""):
        env = dict(os.environ, PYTHONPATH=FIXTURE, MODE=mode, PYTHONDONTWRITEBYTECODE="1")
        p = subprocess.run([sys.executable, self.path] + list(args), capture_output=True, text=True, env=env,
                           timeout=60)
        return p.returncode, p.stdout + p.stderr

    def test_all_pass_is_0(self):
        code, out = self.run_sample(mode="noskip")
        self.assertEqual(code, 0, out)

    def test_a_skip_is_77_with_the_reason(self):
        code, out = self.run_sample()
        self.assertEqual(code, 77, out)
        self.assertIn("no widget here", out)
        self.assertIn("needs the thing", out)

    def test_a_failure_is_1(self):
        code, out = self.run_sample(mode="fail")
        self.assertEqual(code, 1, out)
        code, out = self.run_sample("A.test_fails", mode="fail")
        self.assertEqual(code, 1, out)

    def test_selection(self):
        code, out = self.run_sample("--except", "A.test_skips", "B.test_decorated")
        self.assertEqual(code, 0, out)
        self.assertIn("test_ok", out)
        self.assertNotIn("no widget here", out)
        code, out = self.run_sample("A.test_skips")
        self.assertEqual(code, 77, out)
        self.assertNotIn("test_ok", out)
        code, out = self.run_sample("A.test_ok", "A.test_skips", mode="noskip")
        self.assertEqual(code, 0, out)

    def test_unknown_name_fails(self):
        # a renamed case must not turn its meson test into a pass of nothing
        code, out = self.run_sample("A.test_renamed")
        self.assertEqual(code, 1, out)
        self.assertIn("A.test_renamed", out)
        code, out = self.run_sample("--except", "A.test_renamed", mode="noskip")
        self.assertEqual(code, 1, out)


if __name__ == "__main__":
    # not checklib.main(): this checks it (and has nothing to skip)
    unittest.main(verbosity=2)
