#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cchostd.service as built: its systemd-analyze exposure stays at or under the score the README
states (offline, no running systemd needed), "systemd-analyze verify" passes, every ReadWritePaths=
and DeviceAllow= entry is one the daemon needs (the list below, with the reason and, where the
source tree shows it, the line of code that needs it), the bus activation file and the unit name
each other consistently, and the unit runs after first-boot provisioning.

usage: test_unit.py BUILD_DIR SOURCE_DIR"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.abspath(sys.argv.pop(1))
UNIT = os.path.join(BUILD, "hostd", "data", "cchostd.service")
FIRSTBOOT = os.path.join(BUILD, "hostd", "data", "cchost-firstboot.service")
ACTIVATION = os.path.join(SOURCE, "hostd", "data", "io.cchost.Host1.service")

# What cchostd writes, and why. Each entry: (reason, [(source file, text that shows the need)]).
# The evidence list is empty where the writer is a program the daemon runs, or lives in the daemon.
NEEDED_WRITES = {
    "/etc": ("boot configuration, modprobe.d, modules-load.d, QCNL/QGS, hardening remediations",
             [("hostd/core/bootloader.h", '"etc/default/grub"'), ("hostd/core/action.h", '"etc/modprobe.d/cchost.conf"'),
              ("hostd/core/action.h", '"etc/modules-load.d/cchost.conf"'), ("tdx-host/pccs.h", '"etc/qgs.conf"')]),
    "/boot": ("update-grub, update-initramfs, dracut and kernel-install write the boot entries and the initramfs", []),
    "-/efi": ("kernel-install writes the BLS entries to the ESP when it is mounted on /efi", []),
    "/run": ("/run/reboot-required is written through a temporary file in /run itself; libcryptsetup "
             "creates its lock directory /run/cryptsetup",
             [("hostd/core/provision.h", '"run/reboot-required"')]),
    "/usr/lib/firmware": ("microcode install puts the certified microcode under /lib/firmware",
                          [("hostd/core/action.h", '#define FIRMWARE_DIR "lib/firmware"')]),
    "-/var/lib/initramfs-tools": ("update-initramfs keeps the checksums of the initramfs it built", []),
    "-/var/lib/prometheus/node-exporter": ("the node_exporter textfile cchost.prom", []),
}
# /var/lib/cchost, /var/cache/cchost and /run/cchost are StateDirectory=, CacheDirectory= and
# RuntimeDirectory= (asserted below), not ReadWritePaths= entries
NEEDED_DIRECTORIES = {
    "StateDirectory": ("cchost", [("hostd/core/journal.h", '"var/lib/cchost/journal"')]),
    "CacheDirectory": ("cchost", [("snp-host/snp-certs.h", '"var/cache/cchost/snp"'),
                                  ("tdx-host/pccs.h", '"var/cache/cchost/pccs"')]),
    "RuntimeDirectory": ("cchost", []),
}
NEEDED_DEVICES = {
    "char-cpu/cpuid r": ("CPUID reads", [("hostd/core/backend-live.c", '"dev/cpu/%u/cpuid"')]),
    "char-cpu/msr r": ("MSR reads (pread on a read-only fd)", [("hostd/core/backend-live.c", '"dev/cpu/%u/msr"')]),
    "/dev/sev r": ("SEV-SNP platform status", [("hostd/core/backend-live.c", 'open_device(h, "dev/sev", O_RDONLY)')]),
    "/dev/kvm rw": ("KVM capabilities", [("hostd/core/backend-live.c", 'open_device(h, "dev/kvm", O_RDWR)')]),
    "/dev/tpmrm0 rw": ("TPM2 sealing for the FDE keyslots (default TCTI)",
                       [("hostd/data/cchost.yaml", "tcti: device:/dev/tpmrm0")]),
    "/dev/mapper/control rw": ("libcryptsetup: device-mapper control", []),
    "block-device-mapper rw": ("the dm-crypt mappings (online re-encryption, status)", []),
    "block-sd rw": ("LUKS2 on SCSI/SATA/SAS disks", []),
    "block-blkext rw": ("LUKS2 on NVMe namespaces (the kernel's blkext major)", []),
    "block-md rw": ("LUKS2 on md RAID", []),
}


def unit_values(path, key):
    values = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith(key + "="):
                values.append(line.split("=", 1)[1])
    return values


def unit_words(path, key):
    return [w for v in unit_values(path, key) for w in v.split()]


def analyze(*args, **env):
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                          env=dict(os.environ, SYSTEMD_COLORS="0", SYSTEMD_PAGER="", LC_ALL="C.UTF-8", **env))


def exposure(path):
    r = analyze("security", "--offline=true", "--no-pager", path)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout + r.stderr)
    if not m:
        raise AssertionError("no exposure level in:\n" + r.stdout + r.stderr)
    return float(m.group(1))


def readme_score():
    with open(os.path.join(SOURCE, "README.md")) as f:
        for line in f:
            m = re.match(r"\|\s*`?cchostd\.service`?\s*\|\s*(\d+\.\d)", line)
            if m:
                return float(m.group(1))
    raise AssertionError("README.md has no table row for cchostd.service")


def need_analyze():
    if not shutil.which("systemd-analyze"):
        raise unittest.SkipTest("systemd-analyze is not installed")


class Security(unittest.TestCase):
    def setUp(self):
        need_analyze()
        self.tmp = tempfile.mkdtemp(prefix="cchost-unit-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_exposure_within_threshold(self):
        score = readme_score()
        threshold = str(round(score * 10))
        r = analyze("security", "--offline=true", "--no-pager", "--threshold=" + threshold, UNIT)
        self.assertEqual(r.returncode, 0, "cchostd.service is more exposed than the README's %.1f:\n%s" %
                         (score, r.stdout + r.stderr))
        # the README states the score as measured, not a bound far above it
        self.assertEqual(exposure(UNIT), score)

    def test_threshold_catches_a_looser_unit(self):
        # the gate is not vacuous: the same unit without its capability bound fails it
        with open(UNIT) as f:
            text = f.read()
        loose = os.path.join(self.tmp, "cchostd.service")
        with open(loose, "w") as f:
            f.write(re.sub(r"^CapabilityBoundingSet=.*$", "", text, flags=re.M))
        r = analyze("security", "--offline=true", "--no-pager", "--threshold=" + str(round(readme_score() * 10)), loose)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertGreater(exposure(loose), readme_score())

    def test_verify(self):
        # offline: no PID 1 systemd needed. ExecStart= must name an executable on this machine and
        # Documentation= pages must be found, so the copy points at the build tree's daemon and pages
        with open(UNIT) as f:
            text = f.read()
        daemon = os.path.join(BUILD, "hostd", "daemon", "cchostd")
        if not os.access(daemon, os.X_OK):
            # the daemon is not built in this tree: any executable checks the rest of the unit
            daemon = shutil.which("true")
        text = re.sub(r"^ExecStart=\S+", "ExecStart=" + daemon, text, flags=re.M)
        copy = os.path.join(self.tmp, "cchostd.service")
        with open(copy, "w") as f:
            f.write(text)
        man_args, env = ["--man=no"], {}
        pages = {"man1": "cchostctl.1", "man5": "cchost.yaml.5", "man8": "cchostd.8"}
        # (verify runs man(1) for them: without man-db or scdoc, the rest of the unit is verified)
        if shutil.which("man") and all(os.path.exists(os.path.join(BUILD, "hostd", "data", p)) for p in pages.values()):
            mandir = os.path.join(self.tmp, "man")
            for section, page in pages.items():
                os.makedirs(os.path.join(mandir, section))
                os.symlink(os.path.join(BUILD, "hostd", "data", page), os.path.join(mandir, section, page))
            man_args, env = ["--man=yes"], {"MANPATH": mandir}
        r = analyze("verify", *man_args, copy, **env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, "")


class Needs(unittest.TestCase):
    def evidence(self, entry, proofs):
        for path, text in proofs:
            with open(os.path.join(SOURCE, path)) as f:
                self.assertIn(text, f.read(), "%s: the reason for %s is gone from %s" % (entry, UNIT, path))

    def test_read_write_paths_are_needed(self):
        entries = unit_words(UNIT, "ReadWritePaths")
        self.assertEqual(len(entries), len(set(entries)), entries)
        self.assertEqual(sorted(entries), sorted(NEEDED_WRITES), "ReadWritePaths= differs from what cchostd needs")
        for entry, (reason, proofs) in NEEDED_WRITES.items():
            self.assertTrue(reason)
            self.evidence(entry, proofs)
        self.assertEqual(unit_values(UNIT, "ProtectSystem"), ["strict"])

    def test_directories(self):
        for key, (value, proofs) in NEEDED_DIRECTORIES.items():
            self.assertEqual(unit_values(UNIT, key), [value], key)
            self.evidence(key, proofs)
        # the same modes as the tmpfiles.d entry, which cchostctl alone relies on
        with open(os.path.join(SOURCE, "hostd", "data", "tmpfiles-cchost.conf")) as f:
            modes = {l.split()[1]: l.split()[2] for l in f if l.startswith("d ")}
        self.assertEqual(unit_values(UNIT, "StateDirectoryMode"), [modes["/var/lib/cchost"]])
        self.assertEqual(unit_values(UNIT, "CacheDirectoryMode"), [modes["/var/cache/cchost"]])
        self.assertEqual(unit_values(UNIT, "RuntimeDirectoryMode"), [modes["/run/cchost"]])
        # the writer lock lives in /run/cchost: stopping the daemon must not remove it
        self.assertEqual(unit_values(UNIT, "RuntimeDirectoryPreserve"), ["yes"])

    def test_device_allow_is_needed(self):
        entries = unit_values(UNIT, "DeviceAllow")
        self.assertEqual(len(entries), len(set(entries)), entries)
        self.assertEqual(sorted(entries), sorted(NEEDED_DEVICES), "DeviceAllow= differs from what cchostd needs")
        for entry, (reason, proofs) in NEEDED_DEVICES.items():
            self.assertTrue(reason)
            self.evidence(entry, proofs)
        self.assertEqual(unit_values(UNIT, "DevicePolicy"), ["closed"])
        # PrivateDevices= would drop CAP_SYS_RAWIO, which the msr driver requires
        self.assertNotIn("yes", unit_values(UNIT, "PrivateDevices"))
        self.assertIn("CAP_SYS_RAWIO", unit_words(UNIT, "CapabilityBoundingSet"))


class Integration(unittest.TestCase):
    def test_runs_the_installed_daemon(self):
        r = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], check=True, capture_output=True, text=True)
        opts = {o["name"]: o["value"] for o in json.loads(r.stdout)}
        self.assertEqual(unit_values(UNIT, "ExecStart"), [os.path.join(opts["prefix"], opts["sbindir"], "cchostd")])
        self.assertEqual(unit_values(UNIT, "Type"), ["notify"])
        self.assertTrue(unit_values(UNIT, "WatchdogSec"))
        self.assertEqual(unit_values(UNIT, "Restart"), ["on-failure"])

    def test_activation_file_names_the_unit(self):
        with open(ACTIVATION) as f:
            lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        self.assertEqual(lines[0], "[D-BUS Service]")
        fields = dict(l.split("=", 1) for l in lines[1:])
        self.assertEqual(sorted(fields), ["Exec", "Name", "SystemdService", "User"])
        self.assertEqual(fields["Name"], "io.cchost.Host1")
        self.assertEqual(unit_values(UNIT, "BusName"), [fields["Name"]])
        # dbus-daemon never starts the daemon itself; systemd does, through the alias
        self.assertEqual(fields["Exec"], "/bin/false")
        self.assertEqual(fields["User"], "root")
        self.assertEqual(fields["SystemdService"], "dbus-%s.service" % fields["Name"])
        self.assertEqual(unit_values(UNIT, "Alias"), [fields["SystemdService"]])

    def test_after_first_boot(self):
        # first boot provisions, then the daemon runs: ordered after it, without pulling it in
        self.assertIn("cchost-firstboot.service", unit_words(UNIT, "After"))
        for key in ("Wants", "Requires", "BindsTo", "Conflicts"):
            self.assertNotIn("cchost-firstboot.service", unit_words(UNIT, key))
        # first boot is a oneshot: "started" (and so the daemon's turn) only when its run ended
        self.assertEqual(unit_values(FIRSTBOOT, "Type"), ["oneshot"])
        # and it stops running once the node is provisioned, the marker provision writes
        with open(os.path.join(SOURCE, "hostd", "core", "provision.h")) as f:
            marker = re.search(r'#define PROVISIONED_PATH "([^"]+)"', f.read()).group(1)
        self.assertEqual(unit_values(FIRSTBOOT, "ConditionPathExists"), ["!/" + marker])


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(SOURCE, "tests", "fixture"))
    from checklib import main  # noqa: E402  (exit 77 when a case skipped)
    main()
