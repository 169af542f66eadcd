# SPDX-License-Identifier: LGPL-2.1-or-later
"""Key rotation by policy in cchostd (issue 14 item 4) on swtpm: keyslot_days 1, the engine's clock
(CCHOST_NOW, the test daemon's pinned clock, never the machine's) two days after the enrolment: the
daemon rotates the TPM keyslot once at start, the original key file still opens, LastKeyRotation
changes, and a restart at the same clock rotates nothing. The daemon runs on a private bus (the dbus
suite's harness, tests/dbus/buslib.py)."""
import os
import sys
import time

from fdelib import FdeCase, file_digest, main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dbus"))
import buslib  # noqa: E402

DAY = 86400
T0 = 1796083200  # 2026-12-01T00:00:00Z
DONE = "Key rotation by policy: Rotated the TPM keyslots of "


class DaemonRotation(buslib.BusCase, FdeCase):
    ctl = FdeCase.ctl  # the disk verbs with --tcti, not the fixture suite's

    def setUp(self):
        buslib.BusCase.setUp(self)
        FdeCase.setUp(self)

    def at(self, t):
        return dict(self.env, CCHOST_NOW=f"@{t}")

    def tpm_slots(self, img):
        toks, _ = self.tokens(img)
        return sorted(s for t in toks.values() if t["type"] == "systemd-tpm2" for s in t["keyslots"])

    def wait_log(self, text, timeout=120):
        deadline = time.monotonic() + timeout
        while text not in self.daemon_stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(text, self.daemon_stderr())

    def test_rotates_once_when_due(self):
        img, kf = self.make_image(pattern=False)
        with open(os.path.join(self.root, "etc/cchost/cchost.yaml"), "w") as f:
            f.write(f"tpm:\n  tcti: {self.tcti}\nfde:\n  devices: [{img}]\n  rotation:\n    keyslot_days: 1\n"
                    "daemon:\n  check_interval: 0\n  drift_interval: 0\n")
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key",
                                env=self.at(T0))
        self.assertEqual(rc, 0, err)
        slots0 = self.tpm_slots(img)

        later = T0 + 2 * DAY
        env = {k: v for k, v in self.at(later).items() if k.startswith(("CCHOST_", "TSS2_"))}
        self.start_daemon(self.root, env=env)
        self.wait_log("(rotate-keys) started", timeout=30)
        self.assertEqual(self.wait_job("/io/cchost/Host1/job/1", timeout=300), "done")
        self.wait_log(DONE + img)
        slots1 = self.tpm_slots(img)
        self.assertNotEqual(slots1, slots0, "the TPM keyslot was not replaced")
        self.assertTrue(self.opens(img, kf), "the original key file no longer opens")
        self.assertTrue(self.tpm_token_opens(img))
        self.assertEqual(self.get("LastKeyRotation"), later * 10**6)
        self.assertEqual(self.get("NextKeyRotation"), (later + DAY) * 10**6)
        self.assertEqual(self.daemon_stderr().count("(rotate-keys) started"), 1)

        # a restart at the same clock: nothing is due, nothing rotated
        self._stop_daemon(self.daemon)
        image1 = file_digest(img)
        self.start_daemon(self.root, env=env)
        self.assertEqual(self.get("LastKeyRotation"), later * 10**6)
        time.sleep(2)
        self.assertNotIn("(rotate-keys) started", self.daemon_stderr())
        self.assertEqual(self.tpm_slots(img), slots1)
        self.assertEqual(file_digest(img), image1)


if __name__ == "__main__":
    main()
