# SPDX-License-Identifier: LGPL-2.1-or-later
"""cchostd on a private bus (buslib): every property and method against fixture roots, compared with
cchostctl --json on the same root; jobs (Busy, CancelJob, JobFinished); bad input; an unprivileged
caller; the introspection file; sd_notify and the watchdog; SIGTERM; no secret on the bus or in logs."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import buslib
from buslib import BUS_NAME, CCHOSTD, IFACE, JOB_IFACE, PATH, SOURCE_ROOT, BusCase, NotifySocket, tree_digest

import redfish_mock  # noqa: E402
import simreboot  # noqa: E402

MUTATING = [("Provision", "bb", [False, False]), ("Enforce", "b", [False]),
            ("RotateKeys", "sb", ["/dev/nvme0n1p3", False]), ("CancelJob", "o", ["/io/cchost/Host1/job/1"])]


DAEMON_JOB_1 = "/io/cchost/Host1/job/1"

# what the engine stamps with the clock of the run (e.g. "checked_at" in evidence): two runs a second apart differ
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def norm(doc):
    """doc (JSON text or parsed) as canonical text with the run's timestamps masked."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    return TIMESTAMP.sub("TIME", json.dumps(doc, sort_keys=True, indent=1))


def failed_ids(report):
    return [c["id"] for c in report["checks"] if c["status"] in ("fail", "unknown")]


def readiness(report):
    if not report["ready"]:
        return "not-ready"
    return "degraded" if report["summary"]["warn"] else "ready"


class Api(BusCase):
    """Properties and read methods equal what cchostctl --json says about the same root."""

    def compare(self, spec):
        root = self.build(self.spec(spec))
        before = tree_digest(root)
        self.start_daemon(root)
        check = self.ctl_json(root, "check")
        props = self.get_all()

        self.assertEqual(norm(self.call("GetReport", "s", "check")[0]), norm(check))
        self.assertEqual(norm(self.call("Check")[0]), norm(check))
        self.assertEqual(props["Tee"], check["tee"])
        self.assertEqual(props["Ready"], check["ready"])
        self.assertEqual(props["Readiness"], readiness(check))
        self.assertEqual(props["FailedChecks"], failed_ids(check))
        self.assertEqual(props["RebootRequired"], False)
        self.assertEqual(props["ProvisionStage"], "")
        self.assertEqual(props["ClusterJoined"], False)
        self.assertEqual(props["LastKeyRotation"], 0)
        self.assertEqual(props["NextKeyRotation"], 0)
        self.assertAlmostEqual(props["LastCheck"] / 1e6, time.time(), delta=120)
        self.assertEqual(props["Version"], subprocess.run([CCHOSTD, "--version"], capture_output=True,
                                                          text=True).stdout.split()[1])
        # the capacity: the check's object, numbers as x, the memory, and the capacity model's slots,
        # which GetReport("capacity") serves whole, as cchostctl report capacity prints it
        capacity = json.loads(self.call("GetReport", "s", "capacity")[0])
        self.assertEqual(capacity, self.ctl_json(root, "report", "capacity"))
        self.assertEqual(capacity["schema"], "cchost.capacity/v1")
        slots = {"tee_slots": capacity["cvm_slots"]["terms"]["tee"], "cvm_slots": capacity["cvm_slots"]["value"],
                 "cvm_slots_binding": capacity["cvm_slots"]["binding"]}
        cap = {k: v for k, v in props["Capacity"].items() if not k.startswith("memory_") and k not in slots}
        self.assertEqual(cap, {k: v for k, v in check["capacity"].items() if not isinstance(v, (dict, list))})
        self.assertEqual({k: props["Capacity"][k] for k in slots}, slots)

        plan = self.ctl_json(root, "plan")
        self.assertEqual(norm(self.call("GetReport", "s", "plan")[0]), norm(plan))

        code, out, err = self.ctl("report", "compliance", "--format", "json", root=root)
        self.assertIn(code, (0, 1), err)
        compliance = json.loads(out)
        got = json.loads(self.call("GetReport", "s", "compliance")[0])
        for doc in (got, compliance):  # the scan's own clock
            doc.pop("time")
        self.assertTrue(compliance["rules"])
        self.assertEqual(norm(got), norm(compliance))
        self.assertAlmostEqual(props["ComplianceScore"], compliance["score"])
        failed_rules = sorted(r["id"] for r in compliance["rules"] if r.get("status") == "fail")
        self.assertEqual(sorted(props["ComplianceFailed"]), failed_rules)
        self.assertGreaterEqual(props["ComplianceScore"], 0)
        self.assertLessEqual(props["ComplianceScore"], 100)

        node = json.loads(self.call("GetReport", "s", "node")[0])
        self.assertEqual(node["schema"], "cchost.node/v1")
        self.assertEqual(node["readiness"], props["Readiness"])
        self.assertEqual(node["ready"], check["ready"])
        self.assertEqual(node["tee"], check["tee"])
        self.assertEqual(node["failed_checks"], failed_ids(check))
        self.assertEqual(node["compliance"]["failed"], props["ComplianceFailed"])
        self.assertAlmostEqual(node["compliance"]["score"], props["ComplianceScore"])
        self.assertEqual(node["disk_encryption"], props["DiskEncryption"])
        self.assertEqual(node["capacity"], check["capacity"])
        self.assertEqual(node["cvm_slots"], capacity["cvm_slots"])
        self.assertEqual(node["key_rotation"], {"last_usec": 0, "next_usec": 0})

        # everyone may read
        self.assertEqual(self.get_all(user="nobody"), self.get_all())
        self.assertEqual(json.loads(self.call("GetReport", "s", "node", user="nobody")[0])["readiness"],
                         props["Readiness"])
        self.assertEqual(tree_digest(root), before, "reading changed the host tree")
        return props

    def test_tdx_ready(self):
        props = self.compare("spr-tdx-certified")
        self.assertTrue(props["Ready"])
        self.assertEqual(props["Tee"], "tdx")
        self.assertEqual(props["DiskEncryption"], "none")

    def test_snp_not_ready(self):
        props = self.compare("milan-snp-bios-off")
        self.assertFalse(props["Ready"])
        self.assertEqual(props["Readiness"], "not-ready")
        self.assertEqual(props["Tee"], "snp")
        self.assertTrue(props["FailedChecks"])

    def test_reboot_pending_and_memory(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.write(root, "run/reboot-required", "")
        self.write(root, "proc/meminfo", "MemTotal:       263842344 kB\nMemAvailable:   200000000 kB\n")
        self.start_daemon(root)
        self.assertEqual(self.get("Readiness"), "reboot-pending")
        self.assertTrue(self.get("RebootRequired"))
        cap = self.get("Capacity")
        self.assertEqual(cap["memory_total_bytes"], 263842344 * 1024)
        self.assertEqual(cap["memory_available_bytes"], 200000000 * 1024)

    def test_check_notices_a_change(self):
        """Get serves the cache; Check() runs the probes and emits HealthChanged + PropertiesChanged."""
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        first = self.get("Readiness")
        self.assertIn(first, ("ready", "degraded"))
        signals = self.listen()
        self.write(root, "run/reboot-required", "")
        self.assertEqual(self.get("Readiness"), first, "a Get never runs a probe")
        self.call("Check")
        self.assertEqual(self.get("Readiness"), "reboot-pending")
        self.wait_signal(signals, lambda s: s[0] == "HealthChanged" and s[2][0] == "reboot-pending")
        self.wait_signal(signals, lambda s: s[0] == "PropertiesChanged" and s[1] == PATH and "Readiness" in s[2][1])


class Jobs(BusCase):
    """Provision, Enforce and RotateKeys run as jobs: one at a time, cancellable, with JobFinished."""

    def held_daemon(self, spec="milan-snp-bios-off"):
        root = self.build(self.spec(spec))
        self.write(root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/nvme0n1p3]\n")
        hold = os.path.join(tempfile.mkdtemp(prefix="cchost-hold-"), "hold")
        self.addCleanup(lambda: os.path.exists(hold) and os.unlink(hold))
        self.start_daemon(root, env={"CCHOSTD_TEST_JOB_HOLD": hold})
        return root, hold

    def test_enforce_dry_run_changes_nothing(self):
        root = self.build(self.spec("spr-tdx-certified"))
        before = tree_digest(root)
        self.start_daemon(root)
        signals = self.listen()
        job = self.call("Enforce", "b", True)[0]
        self.assertTrue(job.startswith("/io/cchost/Host1/job/"))
        self.assertEqual(self.wait_job(job), "done")
        self.assertEqual(self.get("Kind", path=job, iface=JOB_IFACE), "enforce")
        self.assertEqual(self.get("Progress", path=job, iface=JOB_IFACE), 100)
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished" and s[2][0] == job)
        self.assertEqual(s[2][1], "done")
        result = json.loads(s[2][2])
        self.assertEqual(result["schema"], "cchost.job/v1")
        self.assertTrue(result["dry_run"])
        self.assertEqual(result["output"]["schema"], "cchost.plan/v1")
        self.assertEqual(tree_digest(root), before, "a dry run changed the tree")

    def test_enforce_changes_and_rechecks(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        failed_before = self.get("ComplianceFailed")
        self.assertTrue(failed_before)
        signals = self.listen()
        job = self.call("Enforce", "b", False)[0]
        state = self.wait_job(job)
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished" and s[2][0] == job)
        self.assertEqual(s[2][1], state)
        self.assertIn(state, ("done", "failed"))
        # the check after the job: fewer rules fail, and the properties say so
        self.wait_signal(signals, lambda s: s[0] == "PropertiesChanged" and s[1] == PATH and "ComplianceFailed" in s[2][1])
        self.assertLess(len(self.get("ComplianceFailed")), len(failed_before))
        self.assertTrue(self.get("Message", path=job, iface=JOB_IFACE))

    def test_provision_dry_run_and_stage(self):
        root = self.build(self.spec("milan-snp-bios-off"))
        before = tree_digest(root)
        self.start_daemon(root)
        signals = self.listen()
        job = self.call("Provision", "bb", True, False)[0]
        self.assertIn(self.wait_job(job), ("done", "not-ready"))
        self.assertTrue(self.get("ProvisionStage"))
        # readiness went provisioning -> not-ready: a HealthChanged each, in that order
        self.wait_signal(signals, lambda s: s[0] == "HealthChanged" and s[2][0] == "not-ready")
        health = [s[2][0] for s in signals.got if s[0] == "HealthChanged"]
        self.assertEqual(health[-2:], ["provisioning", "not-ready"], health)
        self.assertEqual(signals.got[[s[0] for s in signals.got].index("HealthChanged")][2][1],
                         self.get("FailedChecks"))
        self.assertEqual(self.get("Readiness"), "not-ready")
        self.assertEqual(tree_digest(root), before, "a dry run changed the tree")

    def test_provision_with_one_reboot(self):
        """Provision(reboot) over the bus on a host whose fix is in the BIOS (mock BMC), the simulated
        reboot, Provision again: the daemon reports ready, as cchostctl does."""
        d = tempfile.mkdtemp(prefix="cchost-bmc-")
        bmc = redfish_mock.MockBmc(d, vendor="dell", tee="snp").__enter__()
        self.addCleanup(bmc.__exit__, None, None, None)
        root = self.build(self.spec("milan-snp-bios-off"))
        self.write(root, "etc/cchost/bmc-ca.pem", buslib.read_text(bmc.ca_file))
        self.write(root, "etc/cchost/bmc-credentials", f"{redfish_mock.USER}:{redfish_mock.PASSWORD}\n")
        os.chmod(os.path.join(root, "etc/cchost/bmc-credentials"), 0o600)
        self.write(root, "etc/cchost/cchost.yaml", f"redfish:\n  url: {bmc.url}\n  ca_file: /etc/cchost/bmc-ca.pem\n"
                                                   f"  credentials_file: /etc/cchost/bmc-credentials\n")
        # -v: the debug lines too must not carry the password
        self.start_daemon(root, "-v")
        job = self.call("Provision", "bb", False, True)[0]
        self.assertEqual(self.wait_job(job), "not-ready")
        self.assertTrue(bmc.pending())
        self.assertEqual(simreboot.reboot(root, bmc), 1, "exactly one reboot")
        job = self.call("Provision", "bb", False, True)[0]
        self.assertEqual(self.wait_job(job), "done")
        self.assertTrue(self.get("Ready"))
        self.assertEqual(self.ctl_json(root, "check")["ready"], True)
        everything = json.dumps(self.get_all()) + self.daemon_stderr()
        for k in ("check", "plan", "node", "capacity", "compliance"):
            everything += self.call("GetReport", "s", k)[0]
        everything += self.get("Message", path=job, iface=JOB_IFACE)
        self.assertNotIn(redfish_mock.PASSWORD, everything)

    def test_rotate_keys_job_reaches_the_fde_engine(self):
        """A configured device that is no LUKS2 volume: the job runs fde_rotate_keyslots() and fails
        with its sentence naming the device; nothing under the root changes."""
        root = self.build(self.spec("spr-tdx-certified"))
        image = os.path.join(tempfile.mkdtemp(prefix="cchost-disk-"), "disk.img")
        with open(image, "wb") as f:
            f.write(b"\0" * (1024 * 1024))
        self.write(root, "etc/cchost/cchost.yaml", f"fde:\n  devices: [{image}]\n")
        before = tree_digest(root)
        self.start_daemon(root)
        signals = self.listen()
        job = self.call("RotateKeys", "sb", image, False)[0]
        self.assertEqual(self.wait_job(job), "failed")
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished" and s[2][0] == job)
        result = json.loads(s[2][2])
        self.assertEqual(result["kind"], "rotate-keys")
        self.assertEqual(result["device"], image)
        self.assertIn(image, result["error"])
        self.assertEqual(tree_digest(root), before)
        with open(image, "rb") as f:
            self.assertEqual(f.read(), b"\0" * (1024 * 1024), "the device is unchanged")

    def test_second_job_is_busy(self):
        root, hold = self.held_daemon()
        before = tree_digest(root)
        open(hold, "w").close()
        job = self.call("Provision", "bb", False, False)[0]
        self.assertEqual(self.get("State", path=job, iface=JOB_IFACE), "running")
        self.assertEqual(self.get("Readiness"), "provisioning")
        for method, sig, args in MUTATING[:3]:
            name, message = self.call_error(method, sig, *args)
            self.assertEqual(name, "io.cchost.Error.Busy", message)
            self.assertIn(job, message)
        os.unlink(hold)
        self.assertEqual(self.wait_job(job), "not-ready")
        self.assertNotEqual(tree_digest(root), before, "the released job ran")

    def test_cancel_job(self):
        root, hold = self.held_daemon()
        before = tree_digest(root)
        open(hold, "w").close()
        signals = self.listen()
        job = self.call("Provision", "bb", False, False)[0]
        self.assertEqual(self.call("CancelJob", "o", job), [])
        self.assertEqual(self.wait_job(job), "cancelled")
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished" and s[2][0] == job)
        self.assertEqual(s[2][1], "cancelled")
        self.assertEqual(tree_digest(root), before, "a cancelled job changed the tree")
        # an ended job cannot be cancelled; an unknown one does not exist
        self.assertEqual(self.call_error("CancelJob", "o", job)[0], "io.cchost.Error.NotRunning")
        self.assertEqual(self.call_error("CancelJob", "o", "/io/cchost/Host1/job/99")[0],
                         "org.freedesktop.DBus.Error.UnknownObject")
        # and the next job may start
        os.unlink(hold)
        job2 = self.call("Enforce", "b", True)[0]
        self.assertNotEqual(job2, job)
        self.assertEqual(self.wait_job(job2), "done")

    def test_cancel_reaches_the_engine_run(self):
        """CancelJob while provision() runs: the engine run's cancelled flag stops it at its next probe."""
        root = self.build(self.spec("milan-snp-bios-off"))
        hold = os.path.join(tempfile.mkdtemp(prefix="cchost-hold-"), "step")
        open(hold, "w").close()
        self.addCleanup(lambda: os.path.exists(hold) and os.unlink(hold))
        self.start_daemon(root, env={"CCHOSTD_TEST_STEP_HOLD": hold})
        before = tree_digest(root)
        signals = self.listen()
        job = self.call("Provision", "bb", False, False)[0]
        deadline = time.monotonic() + 30
        while "step boundary" not in self.get("Message", path=job, iface=JOB_IFACE):
            self.assertLess(time.monotonic(), deadline, "the job never reached the engine")
            time.sleep(0.05)
        self.call("CancelJob", "o", job)
        self.assertEqual(self.wait_job(job), "cancelled")
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished" and s[2][0] == job)
        self.assertIn("cancel", json.loads(s[2][2])["error"].lower())
        self.assertEqual(tree_digest(root), before, "a run cancelled before its first step changed the tree")

    def test_sigterm_during_a_job(self):
        root, hold = self.held_daemon()
        before = tree_digest(root)
        open(hold, "w").close()
        job = self.call("Provision", "bb", False, False)[0]
        self.assertEqual(self.get("State", path=job, iface=JOB_IFACE), "running")
        self.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait(30), 0, self.daemon_stderr())
        self.assertEqual(tree_digest(root), before)
        self.assertIn("finished: cancelled", self.daemon_stderr())


class BadInput(BusCase):
    """Wrong types, unknown kinds, devices outside fde.devices, 1 MiB strings: clear errors, the
    daemon still up, the root byte-identical."""

    def test_bad_input(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.write(root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/nvme0n1p3]\n")
        before = tree_digest(root)
        self.start_daemon(root)
        big = "x" * (1024 * 1024)
        cases = [
            (("GetReport", "u", 7), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("GetReport", "", ), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("GetReport", "s", "bogus"), "org.freedesktop.DBus.Error.InvalidArgs", "Unknown report kind \"bogus\""),
            (("GetReport", "s", big), "org.freedesktop.DBus.Error.InvalidArgs", "Unknown report kind"),
            (("GetReport", "s", "check\n"), "org.freedesktop.DBus.Error.InvalidArgs", "Unknown report kind"),
            (("Provision", "s", "yes"), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("Enforce", "u", 1), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("RotateKeys", "sb", "/dev/sda", False), "org.freedesktop.DBus.Error.InvalidArgs",
             "not listed in fde.devices"),
            (("RotateKeys", "sb", "/dev/nvme0n1p3/../../etc/shadow", False), "org.freedesktop.DBus.Error.InvalidArgs",
             "not listed in fde.devices"),
            (("RotateKeys", "sb", "relative", True), "org.freedesktop.DBus.Error.InvalidArgs", "Not a device path"),
            (("RotateKeys", "sb", "/" + big, False), "org.freedesktop.DBus.Error.InvalidArgs", "Not a device path"),
            (("RotateKeys", "bs", True, "/dev/nvme0n1p3"), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("CancelJob", "s", "/io/cchost/Host1/job/1"), "org.freedesktop.DBus.Error.InvalidArgs", None),
            (("CancelJob", "o", "/io/cchost/Host1/job/1"), "org.freedesktop.DBus.Error.UnknownObject", "No job"),
            (("NoSuchMethod", ""), "org.freedesktop.DBus.Error.UnknownMethod", None),
        ]
        for (method, sig, *args), name, text in cases:
            with self.subTest(method=method, sig=sig):
                got_name, message = self.call_error(method, sig, *args)
                self.assertEqual(got_name, name, message)
                if text:
                    self.assertIn(text, message)
                self.assertLess(len(message), 1024, "an error quotes no megabyte")
        self.assertDaemonUp()
        self.assertEqual(tree_digest(root), before, "bad input changed the tree")


class Unprivileged(BusCase):
    """A caller that is not root gets AccessDenied from every mutating method, before anything
    happens, and may still read."""

    def test_access_denied(self):
        root = self.build(self.spec("milan-snp-bios-off"))
        self.write(root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/nvme0n1p3]\n")
        before = tree_digest(root)
        self.start_daemon(root)
        for method, sig, args in MUTATING + [("RotateKeys", "sb", ["/not/configured", True])]:
            with self.subTest(method=method):
                name, message = self.call_error(method, sig, *args, user="nobody")
                self.assertEqual(name, "org.freedesktop.DBus.Error.AccessDenied", message)
                action = "io.cchost.rotate-keys" if method == "RotateKeys" else "io.cchost.manage"
                self.assertIn(action, message)
        self.assertEqual(self.get("ProvisionStage"), "")
        self.assertEqual(self.get("Readiness"), "not-ready")
        self.assertDaemonUp()
        self.assertEqual(tree_digest(root), before, "an unprivileged caller changed the tree")
        # read access stays open
        self.assertEqual(self.get("Tee", user="nobody"), "snp")


class Polkit(BusCase):
    """The authorization matrix through the real daemon, with python-dbusmock's polkitd on the bus:
    root runs without polkit, an unprivileged caller runs only what polkit grants, and a refusal
    changes nothing."""

    def setUp(self):
        super().setUp()
        self.root = self.build(self.spec("milan-snp-bios-off"))
        self.write(self.root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/nvme0n1p3]\n")

    def test_denied_by_polkit(self):
        before = tree_digest(self.root)
        pk = self.start_polkit(allowed=[])
        self.start_daemon(self.root)
        for method, sig, args in MUTATING:
            with self.subTest(method=method):
                name, message = self.call_error(method, sig, *args, user="nobody")
                self.assertEqual(name, "org.freedesktop.DBus.Error.AccessDenied", message)
        # polkit was asked once per call, and the daemon serves on
        self.assertEqual(self.polkit_queries(pk), len(MUTATING))
        self.assertDaemonUp()
        self.assertEqual(self.get("ProvisionStage"), "")
        self.assertEqual(tree_digest(self.root), before, "a call polkit refused changed the tree")

    def test_allowed_by_polkit(self):
        pk = self.start_polkit(allowed=["io.cchost.manage"])
        self.start_daemon(self.root)
        # io.cchost.manage granted: the dry runs run as jobs for uid 65534
        for method, sig, args in (("Enforce", "b", [True]), ("Provision", "bb", [True, False])):
            with self.subTest(method=method):
                job = self.call(method, sig, *args, user="nobody")[0]
                self.assertTrue(job.startswith("/io/cchost/Host1/job/"), job)
                self.assertNotEqual(self.wait_job(job), "running")
        # io.cchost.rotate-keys is another action: still refused
        name, message = self.call_error("RotateKeys", "sb", "/dev/nvme0n1p3", False, user="nobody")
        self.assertEqual(name, "org.freedesktop.DBus.Error.AccessDenied", message)
        self.assertEqual(self.polkit_queries(pk), 3)

    def test_root_does_not_ask_polkit(self):
        pk = self.start_polkit(allowed=[])
        self.start_daemon(self.root)
        job = self.call("Enforce", "b", True)[0]
        self.assertNotEqual(self.wait_job(job), "running")
        self.assertEqual(self.polkit_queries(pk), 0)


class Introspection(BusCase):
    """hostd/data/io.cchost.Host1.xml is what the running daemon serves."""

    @staticmethod
    def canon(e):
        return (e.tag, tuple(sorted(e.attrib.items())), tuple(Introspection.canon(c) for c in e))

    def interfaces(self, xml, names):
        node = ET.fromstring(xml)
        return {i.get("name"): self.canon(i) for i in node.findall("interface") if i.get("name") in names}

    def test_xml_matches_daemon(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        job = self.call("Enforce", "b", True)[0]
        self.wait_job(job)
        intro = "org.freedesktop.DBus.Introspectable"
        live = self.interfaces(self.call("Introspect", path=PATH, iface=intro)[0], {IFACE})
        live.update(self.interfaces(self.call("Introspect", path=job, iface=intro)[0], {JOB_IFACE}))
        with open(os.path.join(SOURCE_ROOT, "hostd", "data", "io.cchost.Host1.xml")) as f:
            committed = self.interfaces(f.read(), {IFACE, JOB_IFACE})
        self.assertEqual(set(committed), {IFACE, JOB_IFACE})
        self.assertEqual(committed, live)
        # the children: the job objects under the daemon's path
        node = ET.fromstring(self.call("Introspect", path=PATH, iface=intro)[0])
        self.assertIn("job", [n.get("name") for n in node.findall("node")])


class Systemd(BusCase):
    """READY=1, STATUS= and WATCHDOG=1 on $NOTIFY_SOCKET; SIGTERM exits 0."""

    def test_notify_and_watchdog(self):
        root = self.build(self.spec("milan-snp-bios-off"))
        tmp = tempfile.mkdtemp(prefix="cchost-notify-")
        ns = NotifySocket(tmp)
        self.addCleanup(ns.close)
        p = self.start_daemon(root, env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"}, wait=False)
        self.assertTrue(ns.wait_for(lambda m: "READY=1" in m.split("\n")), ns.received)
        # READY=1 comes once the first check is cached: a Get sees it at once
        self.assertEqual(self.get("Readiness"), "not-ready")
        n = len(self.get("FailedChecks"))
        self.assertTrue(ns.wait_for(lambda m: f"STATUS=not-ready: {n} failed checks" in m), ns.received)
        # the loop pings at least twice per WATCHDOG_USEC
        self.assertTrue(ns.wait_for(lambda m: sum(x == "WATCHDOG=1" for x in ns.received) >= 3, timeout=10),
                        ns.received)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(30), 0, self.daemon_stderr(p))
        ns.wait_for(lambda m: "STOPPING=1" in m, timeout=2)
        self.assertIn("STOPPING=1", "\n".join(ns.received))

    def test_sigint_exits_zero(self):
        root = self.build(self.spec("spr-tdx-certified"))
        p = self.start_daemon(root)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(30), 0, self.daemon_stderr(p))


class Options(BusCase):
    """cchostd's command line: a repeated option, a missing --config, unknown arguments."""

    def run_daemon(self, *args):
        return subprocess.run([CCHOSTD, *args], capture_output=True, text=True, timeout=60)

    def test_options(self):
        root = self.build(self.spec("spr-tdx-certified"))
        p = self.run_daemon("--help")
        self.assertEqual(p.returncode, 0)
        for opt in ("--root", "--config", "--bus-address", "--user-bus", "--verbose", "--version"):
            self.assertIn(opt, p.stdout)
        p = self.run_daemon("--version")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("cchostd "))
        for args, text in [(["--root", root, "--root", root], "--root given twice"),
                           (["--root", root, "--config", "/nonexistent/cchost.yaml"], "/nonexistent/cchost.yaml"),
                           (["--root", root, "--bus-address", "unix:path=/x", "--bus-address", "unix:path=/y"],
                            "--bus-address given twice"),
                           (["--root", root, "--bus-address", "unix:path=/x", "--user-bus"], "exclude each other"),
                           (["--root", root, "extra"], "takes no arguments"),
                           (["--root", os.path.join(root, "nonexistent")], "not a directory"),
                           (["--bogus"], "")]:
            with self.subTest(args=args):
                p = self.run_daemon(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(text, p.stderr)

    def test_config_file_used(self):
        root = self.build(self.spec("spr-tdx-certified"))
        cfg = os.path.join(tempfile.mkdtemp(prefix="cchost-cfg-"), "cchost.yaml")
        with open(cfg, "w") as f:
            f.write("fde:\n  devices: [/dev/vdz9]\n")
        self.start_daemon(root, config=cfg)
        name, message = self.call_error("RotateKeys", "sb", "/dev/sda", False)
        self.assertIn(cfg, message)


class Schedule(BusCase):
    """daemon: in cchost.yaml: re-check every check_interval, drift detection every drift_interval,
    re-enforced only with auto_enforce."""

    def test_periodic_check(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.write(root, "etc/cchost/cchost.yaml", "daemon:\n  check_interval: 1\n  drift_interval: 0\n")
        self.start_daemon(root)
        signals = self.listen()
        first = self.get("LastCheck")
        self.write(root, "run/reboot-required", "")
        self.wait_signal(signals, lambda s: s[0] == "HealthChanged" and s[2][0] == "reboot-pending", timeout=20)
        self.assertEqual(self.get("Readiness"), "reboot-pending")
        self.assertGreater(self.get("LastCheck"), first)

    def test_default_interval_does_not_recheck_at_once(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        first = self.get("LastCheck")
        self.write(root, "run/reboot-required", "")
        time.sleep(2.5)
        self.assertEqual(self.get("LastCheck"), first, "default check_interval is 10 minutes")
        self.assertNotEqual(self.get("Readiness"), "reboot-pending")

    def enforced_root(self, config):
        """A root enforced by cchostctl, then one enforced file removed: drift."""
        root = self.build(self.spec("spr-tdx-certified"))
        code, out, err = self.ctl("--json", "harden", "enforce", root=root)
        self.assertIn(code, (0, 1), err)
        targets = [a["target"] for a in json.loads(out)["actions"]
                   if a.get("target", "").startswith("/etc/") and a.get("status") in ("done", "applied", "ok")]
        self.assertTrue(targets, out)
        self.write(root, "etc/cchost/cchost.yaml", config)
        return root, targets[0]

    def test_drift_reported(self):
        root, target = self.enforced_root("daemon:\n  check_interval: 0\n  drift_interval: 1\n")
        self.start_daemon(root)
        signals = self.listen()
        time.sleep(1.5)
        self.assertNotIn("Hardening drift", self.daemon_stderr(), "no drift right after enforce")
        self.write(root, target, None)
        before = tree_digest(root)
        self.wait_signal(signals, lambda s: s[0] == "HealthChanged", timeout=20)
        deadline = time.monotonic() + 10
        while "Hardening drift" not in self.daemon_stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("Hardening drift: rule", self.daemon_stderr())
        reported = self.daemon_stderr().count("Hardening drift: rule")
        time.sleep(2.5)
        self.assertEqual(self.daemon_stderr().count("Hardening drift: rule"), reported,
                         "the same drift is reported once, not at every tick")
        self.assertFalse([s for s in signals.got if s[0] == "JobFinished"], "no auto_enforce: nothing enforced")
        self.assertEqual(tree_digest(root), before, "drift detection changes nothing")

    def test_drift_auto_enforced(self):
        root, target = self.enforced_root("daemon:\n  check_interval: 0\n  drift_interval: 1\n  auto_enforce: true\n")
        self.start_daemon(root)
        signals = self.listen()
        self.write(root, target, None)
        s = self.wait_signal(signals, lambda s: s[0] == "JobFinished", timeout=30)
        self.assertEqual(json.loads(s[2][2])["kind"], "enforce")
        self.assertTrue(os.path.exists(os.path.join(root, target.lstrip("/"))), "the removed file is back")

    def test_bad_daemon_config(self):
        root = self.build(self.spec("spr-tdx-certified"))
        cfg = os.path.join(tempfile.mkdtemp(prefix="cchost-cfg-"), "cchost.yaml")
        with open(cfg, "w") as f:
            f.write("daemon:\n  check_interval: soon\n")
        p = subprocess.run([CCHOSTD, "--root", root, "--config", cfg, "--bus-address", "unix:path=/nonexistent"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{cfg}:2:", p.stderr)
        self.assertIn("daemon.check_interval", p.stderr)


class Metrics(BusCase):
    """The node_exporter textfile after every check, and the key rotation times, from the rotation state."""

    PROM = "var/lib/prometheus/node-exporter/cchost.prom"
    STAMP = re.compile(r"^(cchost_last_check_timestamp_seconds(\{[^}]*\})?) \S+$", re.M)

    def masked(self, text):
        return self.STAMP.sub(r"\1 TIME", text)

    def read_prom(self, root, path=None):
        with open(os.path.join(root, path or self.PROM)) as f:
            return f.read()

    def test_textfile_after_every_check(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.write(root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/nvme0n1p3]\n")
        self.write(root, "var/lib/cchost/rotation.json",
                   '{"schema": "cchost.rotation/v1", "devices": {"/dev/nvme0n1p3": {"keyslot": 1700000000, "volume_key": 0}}}')
        self.start_daemon(root)
        self.assertGreater(self.get("LastCheck"), 0, "the first check is done (the name is taken before it)")
        text = self.read_prom(root)
        code, out, err = self.ctl("report", "metrics", "--dry-run", root=root)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.masked(text), self.masked(out))
        self.assertIn('cchost_last_key_rotation_timestamp_seconds{device="/dev/nvme0n1p3"} 1700000000', text)
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # Check() writes it again, from the new state
        os.remove(os.path.join(root, self.PROM))
        self.write(root, "run/reboot-required", "")
        self.call("Check")
        text = self.read_prom(root)
        self.assertIn("cchost_reboot_required 1", text)
        code, out, err = self.ctl("report", "metrics", "--dry-run", root=root)
        self.assertEqual(self.masked(text), self.masked(out))

    def test_configured_path_and_write_failure(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.write(root, "etc/cchost/cchost.yaml", "daemon:\n  metrics_path: /srv/prom/node.prom\n")
        # a file where the directory should be: the write fails, the daemon serves on
        self.write(root, "srv/prom", "not a directory")
        self.start_daemon(root)
        self.get("LastCheck")
        self.assertIn("Cannot write the metrics textfile", self.daemon_stderr())
        self.assertIn("srv/prom", self.daemon_stderr())
        self.assertDaemonUp()
        self.write(root, "srv/prom", None)
        self.call("Check")
        self.assertIn("cchost_ready", self.read_prom(root, "srv/prom/node.prom"))
        self.assertFalse(os.path.exists(os.path.join(root, self.PROM)))

    def test_key_rotation_times(self):
        root = self.build(self.spec("spr-tdx-certified"))
        day = 86400
        self.write(root, "etc/cchost/cchost.yaml",
                   "fde:\n  devices: [/dev/a, /dev/b]\n  rotation:\n    keyslot_days: 30\n    volume_key_days: 0\n")
        self.write(root, "var/lib/cchost/rotation.json", json.dumps({
            "schema": "cchost.rotation/v1",
            "devices": {"/dev/a": {"keyslot": 4000000000, "volume_key": 0},
                        "/dev/b": {"keyslot": 4000000000 - 5 * day, "volume_key": 0},
                        "/dev/unconfigured": {"keyslot": 4100000000, "volume_key": 0}}}))
        self.start_daemon(root)
        self.assertEqual(self.get("LastKeyRotation"), 4000000000 * 10**6)
        self.assertEqual(self.get("NextKeyRotation"), (4000000000 - 5 * day + 30 * day) * 10**6)
        node = json.loads(self.call("GetReport", "s", "node")[0])
        self.assertEqual(node["key_rotation"], {"last_usec": 4000000000 * 10**6,
                                                "next_usec": (4000000000 - 5 * day + 30 * day) * 10**6})
        # refreshed with every check
        self.write(root, "var/lib/cchost/rotation.json", json.dumps({
            "schema": "cchost.rotation/v1",
            "devices": {"/dev/a": {"keyslot": 4000000000 + day, "volume_key": 0},
                        "/dev/b": {"keyslot": 4000000000 + day, "volume_key": 0}}}))
        self.call("Check")
        self.assertEqual(self.get("LastKeyRotation"), (4000000000 + day) * 10**6)
        self.assertEqual(self.get("NextKeyRotation"), (4000000000 + 31 * day) * 10**6)
        # no policy: nothing is next; a broken state: 0 and a reason in the log, the daemon serves on
        self.write(root, "etc/cchost/cchost.yaml", "fde:\n  devices: [/dev/a, /dev/b]\n")
        self.call("Check")
        self.assertEqual(self.get("NextKeyRotation"), 0)
        self.write(root, "var/lib/cchost/rotation.json", '{"schema": "cchost.rotation/v1", "devices": {"/dev/a": 7}}')
        self.call("Check")
        self.assertEqual(self.get("LastKeyRotation"), 0)
        self.assertIn("rotation.json", self.daemon_stderr())
        self.assertDaemonUp()

    def test_never_rotated(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        self.assertEqual(self.get("LastKeyRotation"), 0)
        self.assertEqual(self.get("NextKeyRotation"), 0)


class RotationPolicy(BusCase):
    """fde.rotation.keyslot_days: a due device gets a RotateKeys job at start and then every check_interval,
    through the bus method's job path (one job at a time; skipped while one runs)."""

    def disk(self):
        image = os.path.join(tempfile.mkdtemp(prefix="cchost-disk-"), "disk.img")
        self.addCleanup(shutil.rmtree, os.path.dirname(image), True)
        with open(image, "wb") as f:
            f.write(b"\0" * (1024 * 1024))
        return image

    def wait_log(self, text, count=1, timeout=30):
        deadline = time.monotonic() + timeout
        while self.daemon_stderr().count(text) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(self.daemon_stderr().count(text), count, self.daemon_stderr())

    def test_due_device_gets_a_job(self):
        """Never rotated, keyslot_days 1: due at start. The device is no LUKS2 volume, so the job fails
        with the engine's reason naming it; nothing changes, and the result is journaled."""
        root = self.build(self.spec("spr-tdx-certified"))
        image = self.disk()
        self.write(root, "etc/cchost/cchost.yaml",
                   f"fde:\n  devices: [{image}]\n  rotation:\n    keyslot_days: 1\n"
                   "daemon:\n  check_interval: 0\n  drift_interval: 0\n")
        before = tree_digest(root)
        self.start_daemon(root)
        job = DAEMON_JOB_1
        self.wait_log("(rotate-keys) started")
        self.assertEqual(self.wait_job(job), "failed")
        self.assertEqual(self.get("Kind", path=job, iface=JOB_IFACE), "rotate-keys")
        result = f"Key rotation by policy of the TPM keyslots of {image} failed: "
        self.wait_log(result)
        err = self.daemon_stderr()
        self.assertIn(f"Job {job} (rotate-keys) started", err)
        line = [l for l in err.splitlines() if result in l][0]
        self.assertIn(image, line[len(result):], "the engine's reason names the device")
        self.assertEqual(tree_digest(root), before)
        with open(image, "rb") as f:
            self.assertEqual(f.read(), b"\0" * (1024 * 1024), "the device is unchanged")
        # one try per tick: check_interval 0 means at start only
        time.sleep(1)
        self.assertEqual(self.daemon_stderr().count("(rotate-keys) started"), 1)
        self.assertEqual(self.get("LastKeyRotation"), 0)

    def test_not_due_or_no_policy(self):
        root = self.build(self.spec("spr-tdx-certified"))
        image = self.disk()
        # rotated at the pinned clock's now: not due for a day
        self.write(root, "var/lib/cchost/rotation.json", json.dumps({
            "schema": "cchost.rotation/v1", "devices": {image: {"keyslot": 1900000000, "volume_key": 0}}}))
        self.write(root, "etc/cchost/cchost.yaml",
                   f"fde:\n  devices: [{image}]\n  rotation:\n    keyslot_days: 1\n"
                   "daemon:\n  check_interval: 1\n  drift_interval: 0\n")
        self.start_daemon(root, env={"CCHOST_NOW": "@1900003600"})
        self.assertEqual(self.get("NextKeyRotation"), (1900000000 + 86400) * 10**6)
        time.sleep(2.5)
        self.assertNotIn("(rotate-keys) started", self.daemon_stderr())
        self._stop_daemon(self.daemon)
        # no period configured: never due
        self.write(root, "var/lib/cchost/rotation.json", None)
        self.write(root, "etc/cchost/cchost.yaml",
                   f"fde:\n  devices: [{image}]\ndaemon:\n  check_interval: 1\n  drift_interval: 0\n")
        self.start_daemon(root)
        time.sleep(2.5)
        self.assertNotIn("(rotate-keys) started", self.daemon_stderr())

    def test_skipped_while_a_job_runs_and_tried_again(self):
        root = self.build(self.spec("spr-tdx-certified"))
        image = self.disk()
        self.write(root, "etc/cchost/cchost.yaml",
                   f"fde:\n  devices: [{image}]\n  rotation:\n    keyslot_days: 1\n"
                   "daemon:\n  check_interval: 1\n  drift_interval: 0\n")
        hold = os.path.join(tempfile.mkdtemp(prefix="cchost-hold-"), "hold")
        open(hold, "w").close()
        self.addCleanup(lambda: os.path.exists(hold) and os.unlink(hold))
        self.start_daemon(root, env={"CCHOSTD_TEST_JOB_HOLD": hold})
        self.wait_log("(rotate-keys) started")
        self.assertEqual(self.get("State", path=DAEMON_JOB_1, iface=JOB_IFACE), "running")
        self.assertEqual(self.call_error("Enforce", "b", True)[0], "io.cchost.Error.Busy")
        time.sleep(2.5)
        self.assertEqual(self.daemon_stderr().count("(rotate-keys) started"), 1, "no second job while one runs")
        os.unlink(hold)
        self.assertEqual(self.wait_job(DAEMON_JOB_1), "failed")
        # still due: the next tick tries again
        self.wait_log("(rotate-keys) started", count=2)


class Memory(BusCase):
    """Many Check() and GetAll calls: the daemon's memory stays flat (under ASan: no leak at exit)."""

    def rss_kib(self, pid):
        for line in buslib.read_text(f"/proc/{pid}/status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def test_many_calls(self):
        root = self.build(self.spec("spr-tdx-certified"))
        p = self.start_daemon(root)
        n = int(os.environ.get("CCHOSTD_TEST_CALLS", "10000"))
        bus = self.bus()
        obj = bus.get_object(BUS_NAME, PATH, introspect=False)
        props = obj.get_dbus_method("GetAll", "org.freedesktop.DBus.Properties")
        check = obj.get_dbus_method("Check", IFACE)
        for _ in range(50):
            check()
            props(IFACE)
        warm = self.rss_kib(p.pid)
        for _ in range(n):
            check()
            props(IFACE)
        grown = self.rss_kib(p.pid) - warm
        # ASan keeps freed memory in quarantine (RSS grows by design): there the leak check at exit decides
        asan = "libasan" in buslib.read_text(f"/proc/{p.pid}/maps")
        if not asan:
            self.assertLess(grown, 2048, f"RSS grew by {grown} KiB over {n} Check()+GetAll calls")
        p.send_signal(signal.SIGTERM)
        # under ASan, LeakSanitizer makes the exit status non-zero on a leak
        self.assertEqual(p.wait(60), 0, self.daemon_stderr(p)[-4000:])


if __name__ == "__main__":
    buslib.main()
