# SPDX-License-Identifier: LGPL-2.1-or-later
"""Key rotation by policy (issue 14 item 4) on swtpm: with fde.rotation.keyslot_days 1 and the engine's
clock set two days forward (the test front end's pinned clock, never the machine's), disk rotate --due
rotates the TPM keyslot once, the original key file still opens, /var/lib/cchost/rotation.json records
it, and a second run at the same clock rotates nothing. The volume key the same way with --volume-key."""
import json
import os

from fdelib import FdeCase, file_digest, main, tree_digest

DAY = 86400
T0 = 1796083200  # 2026-12-01T00:00:00Z
STATE = "var/lib/cchost/rotation.json"


class RotationByPolicy(FdeCase):
    def at(self, t):
        return dict(self.env, CCHOST_NOW=f"@{t}")

    def configure(self, img, keyslot_days=1, volume_key_days=0):
        with open(os.path.join(self.root, "etc/cchost/cchost.yaml"), "w") as f:
            f.write(f"fde:\n  devices: [{img}]\n  rotation:\n    keyslot_days: {keyslot_days}\n"
                    f"    volume_key_days: {volume_key_days}\n")

    def state(self):
        with open(os.path.join(self.root, STATE)) as f:
            doc = json.load(f)
        self.assertEqual(doc["schema"], "cchost.rotation/v1")
        self.assertEqual(os.stat(os.path.join(self.root, STATE)).st_mode & 0o7777, 0o600)
        return doc["devices"]

    def tpm_slots(self, img):
        toks, _ = self.tokens(img)
        return sorted(s for t in toks.values() if t["type"] == "systemd-tpm2" for s in t["keyslots"])

    def test_keyslot_rotated_once_when_due(self):
        img, kf = self.make_image(pattern=False)
        self.configure(img)
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key",
                                env=self.at(T0))
        self.assertEqual(rc, 0, err)
        # the enrolment starts the keyslot's age
        self.assertEqual(self.state(), {img: {"keyslot": T0, "volume_key": 0}})
        slots0 = self.tpm_slots(img)

        # not due yet: the dry run says so, nothing changes
        image0, tree0 = file_digest(img), tree_digest(self.root)
        rc, out, err = self.ctl("disk", "rotate", "--due", "--dry-run", env=self.at(T0 + DAY // 2))
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{img}: TPM keyslot not due", out)
        rc, out, err = self.ctl("disk", "rotate", "--due", env=self.at(T0 + DAY // 2))
        self.assertEqual(rc, 0, err)
        self.assertIn("No rotation is due", err)
        self.assertEqual((file_digest(img), tree_digest(self.root)), (image0, tree0))

        # two days on: due; the dry run lists it and changes nothing
        later = T0 + 2 * DAY
        rc, out, err = self.ctl("disk", "rotate", "--due", "--dry-run", env=self.at(later))
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{img}: TPM keyslot rotation due (last rotated 2026-12-01T00:00:00Z, every 1 days)", out)
        self.assertEqual((file_digest(img), tree_digest(self.root)), (image0, tree0))

        rc, out, err = self.ctl("disk", "rotate", "--due", env=self.at(later))
        self.assertEqual(rc, 0, err)
        self.assertIn(f"{img}: rotate done", err)
        slots1 = self.tpm_slots(img)
        self.assertNotEqual(slots1, slots0, "the TPM keyslot was not replaced")
        self.assertEqual(len(slots1), 1)
        self.assertTrue(self.opens(img, kf), "the original key file no longer opens")
        self.assertTrue(self.tpm_token_opens(img))
        self.assertEqual(self.state(), {img: {"keyslot": later, "volume_key": 0}})

        # again at the same clock: nothing is due, nothing rotated
        image1, tree1 = file_digest(img), tree_digest(self.root)
        rc, out, err = self.ctl("disk", "rotate", "--due", env=self.at(later))
        self.assertEqual(rc, 0, err)
        self.assertIn("No rotation is due", err)
        self.assertEqual(self.tpm_slots(img), slots1)
        self.assertEqual((file_digest(img), tree_digest(self.root)), (image1, tree1))

        # status shows the last and the next rotation
        rc, out, err = self.ctl("--json", "disk", "status", env=self.at(later))
        self.assertIn(rc, (0, 1), err)
        rot = json.loads(out)["devices"][0]["rotation"]
        self.assertEqual(rot, {"last_keyslot": later, "next_keyslot": later + DAY, "keyslot_due": False,
                               "last_volume_key": 0, "next_volume_key": 0, "volume_key_due": False})
        rc, out, err = self.ctl("disk", "status", env=self.at(later))
        self.assertIn("TPM keyslot: last rotated 2026-12-03T00:00:00Z, next rotation 2026-12-04T00:00:00Z", out)
        # and disk rotate DEVICE records too
        rc, out, err = self.ctl("disk", "rotate", img, env=self.at(later + 60))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.state()[img]["keyslot"], later + 60)

    def test_volume_key_when_due_with_volume_key(self):
        img, kf = self.make_image(size_mb=24)
        self.configure(img, keyslot_days=0, volume_key_days=1)
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key",
                                env=self.at(T0))
        self.assertEqual(rc, 0, err)
        vk0 = self.check_pattern(img, kf)
        # without --volume-key the volume key is not acted on, and no keyslot policy is set
        image0 = file_digest(img)
        rc, out, err = self.ctl("disk", "rotate", "--due", env=self.at(T0 + 2 * DAY))
        self.assertEqual(rc, 0, err)
        self.assertIn("No rotation policy", err)
        self.assertEqual(file_digest(img), image0)
        rc, out, err = self.ctl("disk", "rotate", "--due", "--volume-key", "--unlock-key-file", kf,
                                env=self.at(T0 + 2 * DAY))
        self.assertEqual(rc, 0, err)
        vk1 = self.check_pattern(img, kf)
        self.assertNotEqual(vk0, vk1)
        self.assertTrue(self.opens(img, kf))
        self.assertEqual(self.state()[img]["volume_key"], T0 + 2 * DAY)
        image1 = file_digest(img)
        rc, out, err = self.ctl("disk", "rotate", "--due", "--volume-key", "--unlock-key-file", kf,
                                env=self.at(T0 + 2 * DAY))
        self.assertEqual(rc, 0, err)
        self.assertIn("No rotation is due", err)
        self.assertEqual(file_digest(img), image1)

    def test_failed_rotation_records_nothing(self):
        img, kf = self.make_image(pattern=False)
        self.configure(img)
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key",
                                env=self.at(T0))
        self.assertEqual(rc, 0, err)
        self.extend_pcr7()  # the token no longer unseals: rotate must fail (reseal first)
        before = self.state()
        rc, out, err = self.ctl("disk", "rotate", "--due", env=self.at(T0 + 2 * DAY))
        self.assertEqual(rc, 2, out + err)
        self.assertEqual(self.state(), before)


if __name__ == "__main__":
    main()
