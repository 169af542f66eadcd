# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash injection: SIGKILL at every journal step of enrolment and keyslot rotation (CCHOST_FDE_CRASH_AT,
a test-only hook) and at random moments of a volume-key reencryption of a 256 MiB image. After every
kill the image opens with the TPM key and with the passphrase, and a rerun completes the operation with
the data pattern intact. The random choices come from a seed printed in the log (CCHOST_TEST_SEED
replays a run)."""
import json
import os
import random
import subprocess
import sys
import time

from fdelib import CCHOSTCTL, FdeCase, main, run

SEED = int(os.environ.get("CCHOST_TEST_SEED", str(random.SystemRandom().randrange(1 << 30))))
print("CCHOST_TEST_SEED=%d" % SEED, file=sys.stderr)
KILLS = []
TEARDOWN_WINDOW = []

ROTATE_POINTS = ["journal-written", "slot-added", "token-written", "token-removed", "slot-destroyed"]
ENROLL_POINTS = ["journal-written", "slot-added", "token-written", "recovery-added", "recovery-escrowed"]


class Crash(FdeCase):
    def crash(self, point, *args):
        env = dict(self.env, CCHOST_FDE_CRASH_AT=point)
        rc, out, err = self.ctl(*args, env=env)
        self.assertEqual(rc, -9, "expected a SIGKILL at %s: %s" % (point, err))
        KILLS.append(point)
        self.assertNoTpmLeak(point)

    def assertNoTpmLeak(self, point):
        """Every step that can be interrupted runs with nothing loaded in the TPM (swtpm has no resource
        manager: what a killed process left loaded would stay)."""
        for what in ("handles-transient", "handles-loaded-session"):
            out = run("tpm2_getcap", what, env=self.env).stdout.decode().strip()
            self.assertEqual(out, "", "%s after a kill at %s" % (what, point))

    def assertOpens(self, img, kf):
        self.assertTrue(self.opens(img, kf), "the passphrase no longer opens the image: " + self.last_open_error)
        self.assertTrue(self.tpm_token_opens(img), "no TPM token opens the image")

    def in_teardown_window(self, img):
        """libcryptsetup 2.6.1 finishes a reencryption in several header commits; killed between them, the
        data is all under the new key, some or all keyslots of the old key are gone and the requirement flag
        is still set: a passphrase whose old keyslot is gone opens nothing until cchostctl finishes the
        teardown and writes the missing commit (hardening/fde-reencrypt.c, hardening/fde-finalize.c)."""
        _, meta = self.tokens(img)
        segs = meta["segments"]
        main = [k for k, v in segs.items() if not any(f.startswith("backup-") for f in v.get("flags", []))]
        prev = [k for k, v in segs.items() if "backup-previous" in v.get("flags", [])]
        if main != ["0"] or len(prev) != 1 or "in-reencryption" in segs["0"].get("flags", []):
            return False
        old = [d for d in meta["digests"].values() if prev[0] in d["segments"]]
        new = [d for d in meta["digests"].values() if "0" in d["segments"]]
        return len(old) == 1 and len(new) == 1 and new[0] is not old[0] and \
            "online-reencrypt-v2" in meta["config"].get("requirements", {}).get("mandatory", [])

    def assertOpensAfterKill(self, img, kf, args):
        """Opens right away, or (only in libcryptsetup's teardown window) after the rerun of the command."""
        if self.opens(img, kf):
            self.assertTrue(self.tpm_token_opens(img), "no TPM token opens the image")
            return False
        self.assertTrue(self.in_teardown_window(img), "the passphrase no longer opens the image: " +
                        self.last_open_error + run("cryptsetup", "luksDump", img).stdout.decode())
        TEARDOWN_WINDOW.append(img)
        rc, out, err = self.ctl(*args)
        self.assertEqual(rc, 0, err)
        self.assertIn("killed before its last header commit", err)
        self.assertOpens(img, kf)
        return True

    def test_enroll_kills(self):
        rnd = random.Random(SEED)
        for point in ENROLL_POINTS:
            img, kf = self.make_image(name="e-%s.img" % point, size_mb=20, pattern=False)
            self.crash(point, "disk", "enroll", img, "--tpm2", "--unlock-key-file", kf)
            self.assertTrue(self.opens(img, kf))
            if rnd.random() < 0.5:  # sometimes crash the rerun too (it may finish before reaching the point)
                env = dict(self.env, CCHOST_FDE_CRASH_AT=point)
                rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, env=env)
                self.assertIn(rc, (-9, 0), err)
                if rc == -9:
                    KILLS.append(point)
                    self.assertNoTpmLeak(point)
            rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf)
            self.assertEqual(rc, 0, err)
            dev = self.status(img)
            tpm = [s for s in dev["keyslots"] if s["role"] == "tpm2"]
            self.assertEqual(len(tpm), 1, "the rerun finished the enrolment instead of adding another: %s" % point)
            self.assertEqual(len(self.recovery_slot(dev)), 2, "passphrase + one escrowed recovery slot")
            self.assertOpens(img, kf)
            rec = [s["slot"] for s in dev["keyslots"] if s["pbkdf"] == "argon2id"]
            self.assertEqual(len(rec), 1)
            self.assertTrue(self.opens(img, self.write_key("rec", self.escrowed_passphrase(dev["uuid"], rec[0])),
                                       rec[0]))
            self.assertEqual(self.disk_journals(), [])

    def disk_journals(self):
        d = os.path.join(self.root, "var/lib/cchost/journal")
        return sorted(n for n in os.listdir(d) if n.startswith("disk-")) if os.path.isdir(d) else []

    def journal(self, img):
        uuid = run("cryptsetup", "luksUUID", img).stdout.decode().strip()
        with open(os.path.join(self.root, "var/lib/cchost/journal", "disk-%s.json" % uuid)) as f:
            return uuid, json.load(f)

    def test_journal_names_operation_device_and_step(self):
        """The disk operations journal in the engine's one format: the operation, the volume, the step."""
        img, kf = self.make_image(name="j.img", size_mb=20, pattern=False)
        self.crash("journal-written", "disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key")
        uuid, j = self.journal(img)
        self.assertEqual((j["schema"], j["operation"], j["subject"], j["instance"], j["state"]),
                         ("cchost.journal/v2", "disk", "enroll", uuid, "applying"))
        (a,) = j["plan"]["actions"]
        self.assertEqual((a["kind"], a["target"], a["state"]), ("fde-bind", img, "started"))
        self.assertTrue(a["sealed"])
        self.assertEqual(os.stat(os.path.join(self.root, "var/lib/cchost/journal", "disk-%s.json" % uuid)).st_mode
                         & 0o777, 0o600)
        # an older version's journal (var/lib/cchost/fde/<uuid>.json) is finished the same way
        os.remove(os.path.join(self.root, "var/lib/cchost/journal", "disk-%s.json" % uuid))
        os.makedirs(os.path.join(self.root, "var/lib/cchost/fde"), exist_ok=True)
        old = os.path.join(self.root, "var/lib/cchost/fde", uuid + ".json")
        with open(old, "w") as f:
            json.dump({"operation": "enroll", "device": img, "step": "sealed", "sealed": a["sealed"],
                       "old_token": -1, "old_slot": -1}, f)
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf, "--no-recovery-key")
        self.assertEqual(rc, 0, err)
        self.assertIn("finishing an interrupted enroll (step fde-bind)", err)
        self.assertFalse(os.path.exists(old))
        self.assertEqual(self.disk_journals(), [])
        self.assertEqual(len([s for s in self.status(img)["keyslots"] if s["role"] == "tpm2"]), 1)
        self.assertOpens(img, kf)
        # a crafted journal is refused, naming it, and nothing changes
        self.crash("journal-written", "disk", "rotate", img)
        uuid, j = self.journal(img)
        j["plan"]["actions"][0]["old_slot"] = 99
        with open(os.path.join(self.root, "var/lib/cchost/journal", "disk-%s.json" % uuid), "w") as f:
            json.dump(j, f)
        before = run("cryptsetup", "luksDump", img).stdout
        rc, out, err = self.ctl("disk", "rotate", img)
        self.assertEqual(rc, 2, err)
        self.assertIn("/var/lib/cchost/journal/disk-%s.json: actions[0].old_slot: 99 is not in -1..31" % uuid, err)
        self.assertEqual(run("cryptsetup", "luksDump", img).stdout, before)

    def test_keyslot_rotation_kills(self):
        rnd = random.Random(SEED + 1)
        img, kf = self.make_image(size_mb=20)
        self.enroll(img, kf, "--no-recovery-key")
        points = ROTATE_POINTS * 8
        rnd.shuffle(points)
        for point in points:
            self.crash(point, "disk", "rotate", img)
            self.assertOpens(img, kf)
            if rnd.random() < 0.7:
                rc, out, err = self.ctl("disk", "rotate", img)
                self.assertEqual(rc, 0, err)
                toks, meta = self.tokens(img)
                self.assertEqual(len(toks), 1, "one TPM token after the rerun")
                self.assertEqual(len(meta["keyslots"]), 2, "passphrase + TPM slot after the rerun")
                self.assertOpens(img, kf)
        rc, out, err = self.ctl("disk", "rotate", img)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.tokens(img)[1]["keyslots"]), 2)
        self.check_pattern(img, kf)

    def test_volume_key_kills(self):
        rnd = random.Random(SEED + 2)
        img, kf = self.make_image(size_mb=256)
        self.enroll(img, kf, "--no-recovery-key")
        vk = self.check_pattern(img, kf, step=257)
        args = ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf]
        for point in ["vk-slot-added", "reencrypt-initialized", "reencrypt-progress"]:
            self.crash(point, *args)
            self.assertOpens(img, kf)
            rc, out, err = self.ctl(*args)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.status(img)["reencryption"], "none")
            vk2 = self.check_pattern(img, kf, step=257)
            self.assertNotEqual(vk, vk2)
            vk = vk2
        timed = 0
        for _ in range(24):
            p = subprocess.Popen([CCHOSTCTL, "--root", self.root, "--tcti", self.tcti] + args, env=self.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.05, 1.2))
            p.kill()
            rc = p.wait()
            if rc == -9:
                # a kill during the TPM part leaks transient handles: swtpm has no resource manager
                # (/dev/tpmrm0 flushes them when the file closes)
                run("tpm2_flushcontext", "-t", env=self.env, check=False)
                run("tpm2_flushcontext", "-l", env=self.env, check=False)
                KILLS.append("reencrypt@random")
                timed += 1
                if self.assertOpensAfterKill(img, kf, args):
                    continue
                if rnd.random() < 0.6:  # resume now; otherwise the next run finishes it first
                    rc, out, err = self.ctl("-v", *args)
                    self.assertEqual(rc, 0, "\n".join(err.splitlines()[-40:]))
            else:
                self.assertEqual(rc, 0)
        rc, out, err = self.ctl("-v", *args)
        self.assertEqual(rc, 0, "\n".join(err.splitlines()[-60:]))
        self.assertEqual(self.status(img)["reencryption"], "none")
        self.assertGreater(timed, 0)
        self.check_pattern(img, kf)
        self.assertOpens(img, kf)

    def test_volume_key_teardown_kills(self):
        """Killed after the last hotzone's commit, before libcryptsetup's teardown destroyed the old keyslots (the
        last progress callback: deterministic), the rerun must not let the library resume: 2.6.1 restarts at
        offset 0 and re-encrypts the new ciphertext as if it were old, losing every sector. The rerun does the
        teardown itself; killed too between the old keyslots it destroys, the next run finishes."""
        img, kf = self.make_image(name="t.img", size_mb=24)
        self.enroll(img, kf, "--no-recovery-key")
        vk = self.check_pattern(img, kf, step=7)
        args = ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf]
        self.crash("reencrypt-last-hotzone", *args)
        self.assertOpens(img, kf)
        self.assertNotEqual(self.status(img)["reencryption"], "none")
        rc, out, err = self.ctl(*args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.status(img)["reencryption"], "none")
        vk2 = self.check_pattern(img, kf, step=7)
        self.assertNotEqual(vk, vk2)
        self.assertOpens(img, kf)
        self.assertEqual(len(self.tokens(img)[1]["keyslots"]), 2, "passphrase + TPM slot, the old ones gone")
        # the same crash point, and the rerun killed between the old keyslots it destroys
        self.crash("reencrypt-last-hotzone", *args)
        self.crash("reencrypt-old-slot-destroyed", *args)
        rc, out, err = self.ctl(*args)
        self.assertEqual(rc, 0, err)
        self.assertIn("killed before its last header commit", err)
        self.assertEqual(self.status(img)["reencryption"], "none")
        self.assertNotEqual(vk2, self.check_pattern(img, kf, step=7))
        self.assertOpens(img, kf)
        self.assertEqual(len(self.tokens(img)[1]["keyslots"]), 2)

    @classmethod
    def tearDownClass(cls):
        print("SIGKILLs injected: %d (%s); %d landed in libcryptsetup's teardown window and were finished by "
              "the rerun" % (len(KILLS), ", ".join(sorted(set(KILLS))), len(TEARDOWN_WINDOW)), file=sys.stderr)


if __name__ == "__main__":
    main()
