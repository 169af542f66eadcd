# SPDX-License-Identifier: LGPL-2.1-or-later
"""disk status / enroll / rotate / reseal against swtpm on image files: the systemd-tpm2 token format
and interop both ways (systemd-cryptenroll, tpm2-tools), PCR change and reseal, volume-key rotation with
the data checked, and bad input leaving the image and the root byte-identical."""
import base64
import json
import os

import shutil
import subprocess

from fdelib import CCHOSTCTL, FdeCase, file_digest, hostbuilder, main, run, tree_digest

SYSTEMD_V252_KEYS = ["type", "keyslots", "tpm2-blob", "tpm2-pcrs", "tpm2-pcr-bank", "tpm2-primary-alg",
                     "tpm2-policy-hash", "tpm2-pin"]


class Enroll(FdeCase):
    def test_enroll_token_format_escrow_and_tools_unseal(self):
        img, kf = self.make_image(pattern=False)
        before = self.status(img)
        self.assertFalse(before["tpm2_token"])
        self.assertEqual(self.finding(before, "hardening.fde.tpm2")[0]["status"], "fail")

        self.enroll(img, kf)
        dev = self.status(img)
        self.assertTrue(dev["tpm2_token"])
        self.assertTrue(dev["recovery_keyslot"])
        self.assertEqual(dev["reencryption"], "none")
        toks, meta = self.tokens(img)
        self.assertEqual(len(toks), 1)
        tok = next(iter(toks.values()))
        # exactly systemd-cryptenroll v252's shape, key order included
        text = run("cryptsetup", "token", "export", "--token-id", str(next(iter(toks))), img).stdout.decode()
        self.assertEqual(list(json.loads(text).keys()), SYSTEMD_V252_KEYS)
        self.assertEqual(tok["tpm2-pcrs"], [7])
        self.assertEqual(tok["tpm2-pcr-bank"], "sha256")
        self.assertEqual(tok["tpm2-primary-alg"], "ecc")
        self.assertRegex(tok["tpm2-policy-hash"], "^[0-9a-f]{64}$")
        self.assertIs(tok["tpm2-pin"], False)
        slot = tok["keyslots"][0]
        ks = meta["keyslots"][slot]["kdf"]
        self.assertEqual((ks["type"], ks["hash"], ks["iterations"]), ("pbkdf2", "sha512", 1000))
        s = [k for k in dev["keyslots"] if k["slot"] == int(slot)][0]
        self.assertEqual(s["role"], "tpm2")

        # tpm2-tools, systemd's recipe: base64 of the unsealed secret opens the slot; raw bytes do not
        pw = self.tools_unseal(tok)
        self.assertIsNotNone(pw)
        self.assertEqual(len(pw), 44)
        self.assertTrue(self.opens(img, self.write_key("pw", pw), int(slot)))
        self.assertFalse(self.opens(img, self.write_key("raw", run("base64", "-d", self.path("pw")).stdout),
                                    int(slot)))

        # the recovery keyslot: argon2id, escrowed with CMS to the certificate, and it opens
        rec = [k for k in dev["keyslots"] if k["pbkdf"] == "argon2id"]
        self.assertEqual(len(rec), 1)
        recovery = self.escrowed_passphrase(dev["uuid"], rec[0]["slot"])
        self.assertTrue(self.opens(img, self.write_key("rec", recovery), rec[0]["slot"]))
        self.assertFalse(os.path.exists(os.path.join(self.root, "var/lib/cchost/journal", "disk-" + dev["uuid"] + ".json")))
        # the passphrase is never printed without the flag
        rc, out, err = self.ctl("disk", "status", img)
        self.assertNotIn(recovery, out + err)

    def test_print_recovery_key_and_pcrs(self):
        img, kf = self.make_image(pattern=False)
        os.remove(os.path.join(self.root, "etc/cchost/escrow-cert.pem"))
        d0 = tree_digest(self.root)
        rc, out, err = self.ctl("disk", "enroll", img, "--tpm2", "--unlock-key-file", kf)
        self.assertEqual(rc, 2)
        self.assertIn("escrow certificate", err)
        self.assertEqual(tree_digest(self.root), d0)
        out = self.enroll(img, kf, "--print-recovery-key", "--pcrs", "0+7")
        self.assertIn("Recovery passphrase", out)
        pw = out.strip().split()[-1]
        self.assertRegex(pw, "^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$")
        self.assertTrue(self.opens(img, self.write_key("rec", pw)))
        toks, _ = self.tokens(img)
        self.assertEqual(next(iter(toks.values()))["tpm2-pcrs"], [0, 7])
        self.assertTrue(self.tpm_token_opens(img))


class Interop(FdeCase):
    def test_systemd_cryptenroll_slot_recognised_and_rotated(self):
        img, kf = self.make_image(pattern=False)
        p = run("systemd-cryptenroll", "--tpm2-device=" + self.tcti, "--tpm2-pcrs=7", "--unlock-key-file=" + kf,
                img, env=dict(self.env, SYSTEMD_LOG_LEVEL="err"), check=False)
        if p.returncode != 0:
            self.skipTest("systemd-cryptenroll cannot enroll here: %s" % p.stderr.decode()[-300:])
        run("tpm2_flushcontext", "-l", env=self.env, check=False)  # v252 leaks one loaded session
        toks, _ = self.tokens(img)
        old_slot = next(iter(toks.values()))["keyslots"][0]
        dev = self.status(img)
        self.assertTrue(dev["tpm2_token"])
        t = dev["tokens"][0]
        self.assertEqual((t["type"], t["pcrs"], t["parent"], t["policy"]), ("systemd-tpm2", [7], "transient-primary",
                                                                              "match"))

        rc, out, err = self.ctl("disk", "rotate", img)
        self.assertEqual(rc, 0, err)
        toks, meta = self.tokens(img)
        self.assertEqual(len(toks), 1)
        new = next(iter(toks.values()))
        self.assertNotEqual(new["keyslots"], [old_slot])
        self.assertNotIn(old_slot, meta["keyslots"])
        self.assertTrue(self.tpm_token_opens(img))
        self.assertTrue(self.opens(img, kf))  # the passphrase slot is untouched


class SrkToken(FdeCase):
    def test_v255_srk_token_rotated(self):
        """A token sealed the v255+ way (under the persistent SRK, tpm2_srk = Esys_TR_Serialize of it),
        made with tpm2-tools: status names the SRK parent, rotate unseals it through the SRK."""
        img, kf = self.make_image(pattern=False)
        p = self.path
        e = self.env
        run("tpm2_createprimary", "-Q", "-C", "o", "-G", "ecc256:aes128cfb", "-g", "sha256", "-a",
            "restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda", "-c", p("srk.ctx"), env=e)
        run("tpm2_evictcontrol", "-Q", "-C", "o", "-c", p("srk.ctx"), "0x81000001", env=e)
        run("tpm2_flushcontext", "-t", env=e)
        run("tpm2_readpublic", "-Q", "-c", "0x81000001", "-t", p("srk.tr"), env=e)
        run("tpm2_startauthsession", "-S", p("trial.ctx"), env=e)
        run("tpm2_policypcr", "-Q", "-S", p("trial.ctx"), "-l", "sha256:7", "-L", p("pol.bin"), env=e)
        run("tpm2_flushcontext", p("trial.ctx"), env=e)
        secret = os.urandom(32)
        with open(p("secret.bin"), "wb") as f:
            f.write(secret)
        run("tpm2_create", "-Q", "-C", "0x81000001", "-a", "fixedtpm|fixedparent", "-L", p("pol.bin"), "-i",
            p("secret.bin"), "-u", p("obj.pub"), "-r", p("obj.priv"), env=e)
        run("tpm2_flushcontext", "-t", env=e)
        run("tpm2_flushcontext", "-l", env=e)
        pw = self.write_key("srk.pw", base64.b64encode(secret))
        run("cryptsetup", "luksAddKey", "-q", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--hash",
            "sha512", "--key-file", kf, img, pw)
        slot = [s for s in self.tokens(img)[1]["keyslots"] if s != "0"][0]

        def b64(name):
            with open(p(name), "rb") as f:
                return base64.b64encode(f.read()).decode()
        with open(p("pol.bin"), "rb") as f:
            policy = f.read().hex()
        token = {"type": "systemd-tpm2", "keyslots": [slot],
                 "tpm2-blob": base64.b64encode(base64.b64decode(b64("obj.priv")) +
                                               base64.b64decode(b64("obj.pub"))).decode(),
                 "tpm2-pcrs": [7], "tpm2-pcr-bank": "sha256", "tpm2-primary-alg": "ecc",
                 "tpm2-policy-hash": policy, "tpm2-pin": False, "tpm2_pcrlock": False, "tpm2_srk": b64("srk.tr")}
        with open(p("tok.json"), "w") as f:
            json.dump(token, f)
        run("cryptsetup", "token", "import", "--json-file", p("tok.json"), img)

        dev = self.status(img)
        t = dev["tokens"][0]
        self.assertEqual((t["parent"], t["policy"]), ("srk", "match"))
        self.assertTrue(dev["tpm2_token"])
        rc, out, err = self.ctl("disk", "rotate", img)
        self.assertEqual(rc, 0, err)
        toks, meta = self.tokens(img)
        self.assertEqual(len(toks), 1)
        self.assertNotIn(slot, meta["keyslots"])  # the SRK-sealed slot was replaced
        self.assertFalse(self.opens(img, pw))
        self.assertTrue(self.tpm_token_opens(img))


class Reseal(FdeCase):
    def test_pcr_change_refused_then_reseal(self):
        img, kf = self.make_image(pattern=False)
        out = self.enroll(img, kf, "--print-recovery-key")
        recovery = self.write_key("recovery", out.strip().split()[-1] + "\n")
        self.extend_pcr7()
        dev = self.status(img)
        f = self.finding(dev, "hardening.fde.tpm2-policy")
        self.assertEqual(f[0]["status"], "fail")
        self.assertIn("PCR 7 = ", f[0]["detail"])
        self.assertEqual(dev["tokens"][0]["policy"], "mismatch")
        self.assertEqual(len(dev["tokens"][0]["pcr_values"]["7"]), 64)
        self.assertFalse(self.tpm_token_opens(img))

        d0, t0 = file_digest(img), tree_digest(self.root)
        rc, out, err = self.ctl("disk", "rotate", img)
        self.assertEqual(rc, 2)
        self.assertIn("reseal", err)
        bad = self.write_key("bad", "not the recovery passphrase")
        rc, out, err = self.ctl("disk", "reseal", img, "--unlock-key-file", bad)
        self.assertEqual(rc, 2)
        self.assertIn("opens no keyslot", err)
        self.assertEqual((file_digest(img), tree_digest(self.root)), (d0, t0))

        rc, out, err = self.ctl("disk", "reseal", img, "--unlock-key-file", recovery)
        self.assertEqual(rc, 0, err)
        dev = self.status(img)
        self.assertEqual(self.finding(dev, "hardening.fde.tpm2-policy")[0]["status"], "pass")
        self.assertTrue(self.tpm_token_opens(img))
        self.assertEqual(len(self.tokens(img)[0]), 1)


class VolumeKey(FdeCase):
    def test_volume_key_rotation_keeps_data_and_slots(self):
        img, kf = self.make_image(size_mb=24)
        self.enroll(img, kf, "--no-recovery-key")
        vk0 = self.check_pattern(img, kf)
        rc, out, err = self.ctl("disk", "rotate", img, "--volume-key", "--unlock-key-file", kf)
        self.assertEqual(rc, 0, err)
        vk1 = self.check_pattern(img, kf)
        self.assertNotEqual(vk0, vk1)
        dev = self.status(img)
        self.assertEqual(dev["reencryption"], "none")
        self.assertTrue(self.tpm_token_opens(img))
        toks, meta = self.tokens(img)
        for t in toks.values():
            for s in t["keyslots"]:
                self.assertIn(s, meta["keyslots"])

    def test_loop_device_busy_refused_then_rotated(self):
        img, kf = self.make_image(size_mb=40)
        p = run("losetup", "-f", "--show", img, check=False)
        if p.returncode != 0:
            self.skipTest("no loop device here: %s" % p.stderr.decode().strip())
        dev = p.stdout.decode().strip()
        self.addCleanup(run, "losetup", "-d", dev, check=False)
        self.enroll(dev, kf, "--no-recovery-key")
        fd = os.open(dev, os.O_RDONLY | os.O_EXCL)  # as a mapping or a mount would hold it
        try:
            d0 = file_digest(img)
            rc, out, err = self.ctl("disk", "rotate", dev, "--volume-key", "--unlock-key-file", kf)
            self.assertEqual(rc, 2)
            self.assertIn("in use", err)
            self.assertEqual(file_digest(img), d0)
        finally:
            os.close(fd)
        vk0 = self.check_pattern(img, kf)
        rc, out, err = self.ctl("disk", "rotate", dev, "--volume-key", "--unlock-key-file", kf)
        self.assertEqual(rc, 0, err)
        run("blockdev", "--flushbufs", dev, check=False)
        self.assertNotEqual(self.check_pattern(img, kf), vk0)
        self.assertTrue(self.tpm_token_opens(dev))

    def test_unknown_slot_refused(self):
        img, kf = self.make_image(size_mb=20, pattern=False)
        self.enroll(img, kf, "--no-recovery-key")
        d0 = file_digest(img)
        rc, out, err = self.ctl("disk", "rotate", img, "--volume-key")
        self.assertEqual(rc, 2)
        self.assertIn("would be lost", err)
        self.assertEqual(file_digest(img), d0)


class Config(FdeCase):
    def test_tcti_from_the_configuration_and_stdin_passphrase(self):
        img, kf = self.make_image(pattern=False)
        conf = os.path.join(self.root, "etc/cchost/cchost.yaml")
        with open(conf, "w") as f:
            f.write("tpm:\n  tcti: %s\n" % self.tcti)
        # no --tcti: the configured one; the existing passphrase on stdin
        cmd = [CCHOSTCTL, "--root", self.root, "disk", "enroll", img, "--tpm2", "--no-recovery-key"]
        with open(kf, "rb") as f:
            p = subprocess.run(cmd, stdin=f, capture_output=True, env=self.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run(CCHOSTCTL, "--root", self.root, "--json", "disk", "status", img, env=self.env)
        self.assertEqual(json.loads(p.stdout)["devices"][0]["tokens"][0]["policy"], "match")
        # a bad value is refused with file, line and column, and nothing changes
        with open(conf, "w") as f:
            f.write("fde:\n  devices: [relative/path]\n")
        d0 = file_digest(img)
        p = run(CCHOSTCTL, "--root", self.root, "disk", "rotate", img, env=self.env, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cchost.yaml:2:", p.stderr.decode())
        self.assertIn("fde.devices", p.stderr.decode())
        self.assertEqual(file_digest(img), d0)


class CheckProbe(FdeCase):
    def check(self, root):
        p = run(CCHOSTCTL, "--root", root, "--json", "check", check=False)
        doc = json.loads(p.stdout)
        return [f for f in doc["checks"] if f["id"] == "hardening.fde.volumes"][0]

    def test_check_reads_configured_volumes_under_the_root(self):
        root = os.path.join(self.dir, "host")
        hostbuilder.build(hostbuilder.load_spec("genoa-snp-ready"), root)
        self.assertEqual(self.check(root)["status"], "skip")
        os.makedirs(os.path.join(root, "var/lib/images"))
        img, kf = self.make_image(pattern=False)
        shutil.move(img, os.path.join(root, "var/lib/images/disk.img"))
        img = os.path.join(root, "var/lib/images/disk.img")
        os.makedirs(os.path.join(root, "etc/cchost"), exist_ok=True)
        with open(os.path.join(root, "etc/cchost/cchost.yaml"), "a") as f:
            f.write("\nfde:\n  devices: [/var/lib/images/disk.img]\n")
        d0 = tree_digest(root)
        f = self.check(root)
        self.assertEqual(f["status"], "fail")
        self.assertIn("/var/lib/images/disk.img has no systemd-tpm2 token", f["summary"])
        self.assertEqual(f["evidence"]["devices"]["/var/lib/images/disk.img"]["type"], "luks2")
        self.assertEqual(tree_digest(root), d0)
        self.enroll(img, kf)
        f = self.check(root)
        self.assertEqual(f["status"], "pass", f["summary"])
        self.assertTrue(f["evidence"]["devices"]["/var/lib/images/disk.img"]["tpm2_token"])


class BadInput(FdeCase):
    def assertRefused(self, img, args, reason, tcti=None):
        d0, t0 = file_digest(img), tree_digest(self.root)
        rc, out, err = self.ctl(*args, tcti=tcti)
        self.assertEqual(rc, 2, err)
        self.assertIn(reason, err)
        self.assertEqual(file_digest(img), d0, "the image changed")
        self.assertEqual(tree_digest(self.root), t0, "the root changed")

    def test_not_luks(self):
        img = self.path("plain.img")
        run("truncate", "-s", "8M", img)
        kf = self.write_key("k", "x")
        self.assertRefused(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf], "not a LUKS device")
        dev = self.status(img)
        self.assertEqual(dev["type"], "none")
        self.assertEqual(self.finding(dev, "hardening.fde.luks2")[0]["status"], "fail")

    def test_luks1(self):
        img, kf = self.make_image(luks="luks1", pattern=False)
        self.assertRefused(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf], "only LUKS2")
        self.assertEqual(self.status(img)["type"], "luks1")

    def test_corrupt_header(self):
        img, kf = self.make_image(pattern=False)
        with open(img, "r+b") as f:  # both binary headers (primary and the 16 KiB secondary copy)
            for off in (0, 16384):
                f.seek(off)
                f.write(b"\xff" * 512)
        self.assertRefused(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf], "header is damaged")
        self.assertRefused(img, ["disk", "rotate", img], "header is damaged")

    def test_wrong_passphrase_and_unreachable_tpm(self):
        img, kf = self.make_image(pattern=False)
        bad = self.write_key("bad", "wrong")
        self.assertRefused(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", bad], "opens no keyslot")
        self.assertRefused(img, ["disk", "enroll", img, "--tpm2", "--unlock-key-file", kf], "unreachable",
                           tcti="swtpm:host=127.0.0.1,port=1")
        self.enroll(img, kf)
        self.assertRefused(img, ["disk", "rotate", img], "unreachable", tcti="swtpm:host=127.0.0.1,port=1")
        self.assertRefused(img, ["disk", "rotate", img, "--volume-key"], "unreachable",
                           tcti="swtpm:host=127.0.0.1,port=1")

    def test_usage(self):
        img, kf = self.make_image(pattern=False)
        self.assertRefused(img, ["disk", "enroll", img, "--unlock-key-file", kf], "--tpm2")
        self.assertRefused(img, ["--pcrs", "7+99", "disk", "enroll", img, "--tpm2"], "--pcrs")


if __name__ == "__main__":
    main()
