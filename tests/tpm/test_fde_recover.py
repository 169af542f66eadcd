# SPDX-License-Identifier: LGPL-2.1-or-later
"""Issue 10, items 4, 8 and 9: volume-key rotation of a volume enrolled as the README describes
(passphrase + TPM + recovery) with several --unlock-key-file options or the escrow key; the break-glass
path (enroll with an escrow certificate, the PCRs change, disk recover, disk reseal, the TPM unlocks
again); progress on a terminal; and TPM connection errors that name the real cause."""
import glob
import json
import os
import pty
import select
import socket
import stat
import subprocess

from fdelib import CCHOSTCTL, FdeCase, file_digest, main, run, tree_digest


class Helpers(FdeCase):
    def readme_volume(self, size_mb=20, pattern=True):
        """A volume as the README enrols it: the operator's passphrase, the TPM and an escrowed recovery
        keyslot. Returns the image, the passphrase file, the escrow file and the recovery keyslot."""
        img, kf = self.make_image(size_mb=size_mb, pattern=pattern)
        self.enroll(img, kf)
        files = glob.glob(os.path.join(self.root, "var/lib/cchost/escrow/*.p7m"))
        self.assertEqual(len(files), 1, files)
        slot = int(files[0].rsplit("-", 1)[1].split(".")[0])
        return img, kf, files[0], slot

    def keyslots(self, img):
        _, meta = self.tokens(img)
        return sorted(int(k) for k in meta["keyslots"])

    def decrypt_escrow(self, p7m):
        return run("openssl", "cms", "-decrypt", "-inform", "PEM", "-in", p7m, "-inkey", self.escrow_key).stdout

    def assertUnchanged(self, img, args, reason, rc=2, tcti=None):
        d0, t0 = file_digest(img), tree_digest(self.root)
        got, out, err = self.ctl(*args, tcti=tcti)
        self.assertEqual(got, rc, err)
        self.assertIn(reason, err)
        self.assertEqual(file_digest(img), d0, "the image changed")
        self.assertEqual(tree_digest(self.root), t0, "the root changed")
        return err


class VolumeKeyReadmeEnrolment(Helpers):
    def test_several_unlock_key_files_rewrap_every_slot(self):
        img, kf, p7m, rslot = self.readme_volume()
        rec = self.write_key("recovery", json.loads(self.decrypt_escrow(p7m))["recovery_passphrase"])
        vk0 = self.check_pattern(img, kf)
        self.assertEqual(len(self.keyslots(img)), 3)
        rc, out, err = self.ctl("disk", "rotate", img, "--volume-key", "--unlock-key-file", kf,
                                "--unlock-key-file", rec)
        self.assertEqual(rc, 0, err)
        vk1 = self.check_pattern(img, kf)
        self.assertNotEqual(vk0, vk1)
        # all three keyslots survive under the new volume key, each with its own secret
        self.assertEqual(len(self.keyslots(img)), 3)
        self.assertTrue(self.opens(img, kf))
        self.assertTrue(self.opens(img, rec))
        self.assertTrue(self.tpm_token_opens(img))
        self.assertEqual(self.status(img)["reencryption"], "none")
        # the escrow follows the recovery passphrase to its new keyslot
        files = glob.glob(os.path.join(self.root, "var/lib/cchost/escrow/*.p7m"))
        self.assertEqual(len(files), 1, files)
        doc = json.loads(self.decrypt_escrow(files[0]))
        self.assertIn(doc["keyslot"], self.keyslots(img))
        self.assertTrue(files[0].endswith("-keyslot-%d.p7m" % doc["keyslot"]))
        self.assertTrue(self.opens(img, self.write_key("rec2", doc["recovery_passphrase"]), doc["keyslot"]))

    def test_escrow_key_opens_the_recovery_slot(self):
        img, kf, p7m, rslot = self.readme_volume(pattern=False)
        rec = json.loads(self.decrypt_escrow(p7m))["recovery_passphrase"]
        rc, out, err = self.ctl("disk", "rotate", img, "--volume-key", "--unlock-key-file", kf,
                                "--escrow-key", self.escrow_key)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.keyslots(img)), 3)
        self.assertTrue(self.opens(img, kf))
        self.assertTrue(self.opens(img, self.write_key("rec", rec)))
        self.assertTrue(self.tpm_token_opens(img))

    def test_a_slot_nobody_opens_is_refused_and_nothing_changes(self):
        img, kf, p7m, rslot = self.readme_volume(pattern=False)
        # only the operator's passphrase: the recovery keyslot would be lost
        err = self.assertUnchanged(img, ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf],
                                   "keyslot %d" % rslot)
        self.assertIn("would be lost", err)
        # a key file that opens no keyslot is named
        bad = self.write_key("bad", "no such passphrase")
        self.assertUnchanged(img, ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf,
                                   "--unlock-key-file", bad], bad)
        # a wrong escrow key is named too
        other = self.path("other-key.pem")
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
        self.assertUnchanged(img, ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf,
                                   "--escrow-key", other], other)

    def assertEscrowMatchesSlots(self, img):
        """One escrow file, named for an active keyslot, holding the passphrase that opens it."""
        files = glob.glob(os.path.join(self.root, "var/lib/cchost/escrow/*.p7m"))
        self.assertEqual(len(files), 1, files)
        doc = json.loads(self.decrypt_escrow(files[0]))
        self.assertTrue(files[0].endswith("-keyslot-%d.p7m" % doc["keyslot"]), files[0])
        self.assertTrue(self.opens(img, self.write_key("escrowed", doc["recovery_passphrase"]), doc["keyslot"]),
                        self.last_open_error)

    def test_killed_rotation_keeps_the_escrow_consistent(self):
        for point in ("vk-slot-added", "vk-escrowed", "reencrypt-initialized"):
            with self.subTest(point=point):
                for f in glob.glob(os.path.join(self.root, "var/lib/cchost/escrow/*.p7m")):
                    os.remove(f)
                img, kf, p7m, rslot = self.readme_volume(pattern=False)
                args = ["disk", "rotate", img, "--volume-key", "--unlock-key-file", kf, "--escrow-key",
                        self.escrow_key]
                rc, out, err = self.ctl(*args, env=dict(self.env, CCHOST_FDE_CRASH_AT=point))
                self.assertEqual(rc, -9, err)
                self.assertTrue(self.opens(img, kf))
                rc, out, err = self.ctl(*args)
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(self.keyslots(img)), 3)
                self.assertTrue(self.opens(img, kf))
                self.assertTrue(self.tpm_token_opens(img))
                self.assertEscrowMatchesSlots(img)

    def test_single_valued_verbs_refuse_several_key_files(self):
        img, kf = self.make_image(pattern=False)
        for args in (["disk", "enroll", img, "--tpm2"], ["disk", "reseal", img], ["disk", "rotate", img]):
            self.assertUnchanged(img, args + ["--unlock-key-file", kf, "--unlock-key-file", kf],
                                 "--unlock-key-file")


class BreakGlass(Helpers):
    def test_enroll_pcr_change_recover_reseal_tpm_unlocks(self):
        img, kf, p7m, rslot = self.readme_volume(pattern=False)
        uuid = self.status(img)["uuid"]
        self.assertTrue(self.tpm_token_opens(img))
        self.extend_pcr7()  # a firmware or Secure Boot change
        self.assertFalse(self.tpm_token_opens(img))

        # disk recover: prints the passphrase and what it belongs to; the root is not touched
        t0 = tree_digest(self.root)
        rc, out, err = self.ctl("disk", "recover", "--escrow-key", self.escrow_key, p7m)
        self.assertEqual(rc, 0, err)
        self.assertEqual(tree_digest(self.root), t0)
        pw = json.loads(self.decrypt_escrow(p7m))["recovery_passphrase"]
        self.assertIn(pw, out.splitlines())
        self.assertIn(uuid, err)
        self.assertIn("keyslot %d" % rslot, err)

        # --output FILE: mode 0600, the passphrase alone, nothing on stdout
        outfile = self.path("recovered.key")
        rc, out, err = self.ctl("disk", "recover", "--escrow-key", self.escrow_key, p7m, "--output", outfile)
        self.assertEqual(rc, 0, err)
        self.assertNotIn(pw, out + err)
        self.assertEqual(stat.S_IMODE(os.stat(outfile).st_mode), 0o600)
        with open(outfile) as f:
            self.assertEqual(f.read().strip(), pw)
        # an existing file is not overwritten
        rc, out, err = self.ctl("disk", "recover", "--escrow-key", self.escrow_key, p7m, "--output", outfile)
        self.assertEqual(rc, 2)
        self.assertIn(outfile, err)

        rc, out, err = self.ctl("disk", "reseal", img, "--unlock-key-file", outfile)
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.tpm_token_opens(img))
        self.assertEqual(self.finding(self.status(img), "hardening.fde.tpm2-policy")[0]["status"], "pass")

    def test_reseal_accepts_the_decrypted_json(self):
        img, kf, p7m, rslot = self.readme_volume(pattern=False)
        self.extend_pcr7()
        js = self.write_key("recovery.json", self.decrypt_escrow(p7m))
        rc, out, err = self.ctl("disk", "reseal", img, "--unlock-key-file", js)
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.tpm_token_opens(img))

    def test_recover_bad_input(self):
        img, kf, p7m, rslot = self.readme_volume(pattern=False)
        other = self.path("other-key.pem")
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
        for args, reason in ((["--escrow-key", other, p7m], p7m),
                             (["--escrow-key", self.escrow_key, kf], kf),
                             (["--escrow-key", self.escrow_key, self.path("missing.p7m")], "missing.p7m"),
                             (["--escrow-key", self.path("missing.pem"), p7m], "missing.pem"),
                             ([p7m], "--escrow-key")):
            t0 = tree_digest(self.root)
            rc, out, err = self.ctl("disk", "recover", *args)
            self.assertEqual(rc, 2, err)
            self.assertIn(reason, err)
            self.assertEqual(out, "")
            self.assertEqual(tree_digest(self.root), t0)


class Progress(Helpers):
    def run_on_tty(self, *args):
        """Runs cchostctl with stderr on a pseudo-terminal (stdout a pipe); returns rc, stdout, the tty text."""
        master, slave = pty.openpty()
        cmd = [CCHOSTCTL, "--no-color", "--root", self.root, "--tcti", self.tcti] + list(args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=self.env)
        os.close(slave)
        tty = b""
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            tty += chunk
        os.close(master)
        out = p.stdout.read().decode()
        p.stdout.close()
        p.wait(60)
        return p.returncode, out, tty.decode(errors="replace")

    def test_enroll_names_its_phases_on_a_terminal_only(self):
        img, kf = self.make_image(pattern=False)
        rc, out, tty = self.run_on_tty("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf)
        self.assertEqual(rc, 0, tty)
        self.assertIn("sealing a new key in the TPM", tty)
        self.assertIn("adding the recovery keyslot (argon2id", tty)
        self.assertIn("escrowing the recovery key", tty)
        # not a terminal: no progress
        img2, kf2 = self.make_image("disk2.img", pattern=False)
        rc, out, err = self.ctl("disk", "enroll", img2, "--tpm2", "--unlock-key-file", kf2)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("sealing", err)
        self.assertNotIn("argon2id", err)

    def test_reencryption_shows_a_bar(self):
        img, kf = self.make_image(size_mb=24, pattern=False)
        self.enroll(img, kf, "--no-recovery-key")
        rc, out, tty = self.run_on_tty("disk", "rotate", img, "--volume-key", "--unlock-key-file", kf)
        self.assertEqual(rc, 0, tty)
        self.assertIn("re-encrypting the data", tty)
        self.assertRegex(tty, r"\[#+[ #]*\] +\d+%")
        self.assertIn("100%", tty)
        rc, out, err = self.ctl("disk", "rotate", img, "--volume-key", "--unlock-key-file", kf)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("%", err)


class TpmUnreachable(Helpers):
    def test_refused_port_and_missing_device_say_so(self):
        img, kf = self.make_image(pattern=False)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        err = self.assertUnchanged(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf],
                                   "connection refused at 127.0.0.1:%d" % port,
                                   tcti="swtpm:host=127.0.0.1,port=%d" % port)
        self.assertNotIn("No route to host", err)
        node = os.path.join(self.dir, "dev", "tpmrm0")
        err = self.assertUnchanged(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf],
                                   "TPM device %s not found" % node, tcti="device:" + node)
        self.assertNotIn("No route to host", err)
        # tpm2-tss's own error lines stay out of stderr without TSS2_LOG in the environment too
        env = {k: v for k, v in self.env.items() if k != "TSS2_LOG"}
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf,
                                tcti="swtpm:host=127.0.0.1,port=%d" % port, env=env)
        self.assertEqual(rc, 2, err)
        self.assertEqual(err.strip().splitlines(), [line for line in err.strip().splitlines()
                                                    if "connection refused" in line], err)
        # rotate --volume-key with a passphrase but no TPM: the TPM keyslot would be lost, said with the cause
        img3, kf3 = self.make_image("disk3.img", pattern=False)
        self.enroll(img3, kf3, "--no-recovery-key")
        err = self.assertUnchanged(img3, ["disk", "rotate", img3, "--volume-key", "--unlock-key-file", kf3],
                                   "would be lost", tcti="swtpm:host=127.0.0.1,port=%d" % port)
        self.assertIn("connection refused at 127.0.0.1:%d" % port, err)
        # disk status says the same in its finding
        self.enroll(img, kf, "--no-recovery-key")
        rc, out, err = self.ctl("--json", "disk", "status", img, tcti="device:" + node)
        f = self.finding(json.loads(out)["devices"][0], "hardening.fde.tpm2-policy")[0]
        self.assertIn("TPM device %s not found" % node, f["detail"])


if __name__ == "__main__":
    main()
