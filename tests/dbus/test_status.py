# SPDX-License-Identifier: LGPL-2.1-or-later
"""cchostctl status and monitor, the front end of cchostd (issue 14 item 8), against cchostd on a private
bus (buslib): the table and --json equal GetReport("node") and GetReport("check") on the same root; no
daemon is one line and exit 2; monitor prints the daemon's signals and stops on SIGINT/SIGTERM."""
import json
import os
import pty
import signal
import subprocess
import threading
import time

from buslib import CCHOSTCTL, BusCase, tree_digest


def failed(check):
    return [c for c in check["checks"] if c["status"] in ("fail", "unknown")]


class Status(BusCase):
    def status(self, *args, env=None, address=True):
        cmd = [CCHOSTCTL, *args, "status"]
        if address:
            cmd += ["--bus-address", self.bus_address]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=dict(os.environ, **(env or {})))
        return p.returncode, p.stdout, p.stderr

    def daemon_on(self, spec):
        root = self.build(self.spec(spec))
        self.start_daemon(root)
        return root

    def test_tdx_ready_table(self):
        root = self.daemon_on("spr-tdx-certified")
        before = tree_digest(root)
        node = json.loads(self.call("GetReport", "s", "node")[0])
        code, out, err = self.status("--no-color")
        self.assertEqual(code, 0, err)
        self.assertIn(node["readiness"], ("ready", "degraded"))  # exit 0 for both, like check
        self.assertRegex(out, r"(?m)^Readiness: +%s$" % node["readiness"])
        self.assertRegex(out, r"(?m)^TEE: +tdx$")
        self.assertRegex(out, r"(?m)^Failed checks: +none$")
        self.assertRegex(out, r"(?m)^Disk encryption: +none$")
        self.assertRegex(out, r"(?m)^Key rotation: +last never, next not scheduled$")
        if node["compliance"]["score"] is not None:
            self.assertRegex(out, r"(?m)^Compliance: +%.1f/100" % node["compliance"]["score"])
        rules = node["compliance"]["failed"]
        for rule in rules[:5]:
            self.assertIn(rule, out)
        if len(rules) > 5:  # one glance: the first five, then how many more
            self.assertNotIn(rules[5], out)
            self.assertIn(f"and {len(rules) - 5} more (cchostctl report compliance)", out)
        if node["cvm_slots"]:
            self.assertRegex(out, r"(?m)^CVM slots: +%d \(bound by %s\)$" % (node["cvm_slots"]["value"],
                                                                            node["cvm_slots"]["binding"]))
        last = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(node["last_check_usec"] // 1000000))
        self.assertRegex(out, r"(?m)^Last check: +%s$" % last)
        self.assertNotIn("\033[", out, "--no-color")
        self.assertEqual(tree_digest(root), before, "status changed the host tree")

    def test_snp_not_ready_table_and_remedies(self):
        root = self.daemon_on("milan-snp-bios-off")
        check = json.loads(self.call("GetReport", "s", "check")[0])
        node = json.loads(self.call("GetReport", "s", "node")[0])
        code, out, err = self.status("--no-color")
        self.assertEqual(code, 1, err)
        self.assertRegex(out, r"(?m)^Readiness: +not-ready$")
        self.assertRegex(out, r"(?m)^TEE: +snp$")
        self.assertRegex(out, r"(?m)^Failed checks: +%d$" % len(node["failed_checks"]))
        self.assertTrue(failed(check))
        for c in failed(check):
            self.assertRegex(out, r"(?m)^  (FAIL| \?\? ) %s: " % c["id"].replace(".", r"\."))
            if c.get("remedy"):
                self.assertIn("remedy: " + c["remedy"].split("\n")[0], out)
        self.assertIn(root, out)
        rules = node["compliance"]["failed"]
        self.assertGreater(len(rules), 5)
        self.assertRegex(out, r"(?m)^Compliance: +[0-9.]+/100, %d rules fail: %s, .* and %d more "
                         r"\(cchostctl report compliance\)$" % (len(rules), rules[0], len(rules) - 5))
        self.assertNotIn(rules[5] + ",", out)

    def test_json_is_the_node_document(self):
        self.daemon_on("milan-snp-bios-off")
        code, out, err = self.status("--json")
        self.assertEqual(code, 1, err)
        node = json.loads(self.call("GetReport", "s", "node")[0])
        self.assertEqual(json.loads(out), node)
        self.assertEqual(json.loads(out)["schema"], "cchost.node/v1")

    def on_terminal(self, *args):
        """status with its stdout on a pseudo-terminal; returns (exit code, what it wrote)."""
        master, slave = pty.openpty()
        p = subprocess.run([CCHOSTCTL, *args, "status", "--bus-address", self.bus_address], stdout=slave,
                           stderr=subprocess.PIPE, timeout=60, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        return p.returncode, out.decode()

    def test_color_only_on_a_terminal(self):
        self.daemon_on("spr-tdx-certified")
        # not a terminal: no colour by default; never with --no-color
        code, out, err = self.status()
        self.assertEqual(code, 0, err)
        self.assertIn("Readiness:", out)
        self.assertNotIn("\033[", out)
        code, out = self.on_terminal()
        self.assertEqual(code, 0, out)
        self.assertRegex(out, "Readiness: +\033\\[1m\033\\[(32|33)m(ready|degraded)\033\\[0m")
        code, out = self.on_terminal("--no-color")
        self.assertIn("Readiness:", out)
        self.assertNotIn("\033[", out)

    def test_system_bus_from_environment(self):
        """Without --bus-address, sd_bus_open_system() honours $DBUS_SYSTEM_BUS_ADDRESS."""
        self.daemon_on("spr-tdx-certified")
        code, out, err = self.status("--json", address=False, env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address})
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["tee"], "tdx")

    def test_no_daemon(self):
        self.start_bus()
        for args in ((), ("--json",)):
            code, out, err = self.status(*args)
            self.assertEqual(code, 2, out + err)
            self.assertEqual(out, "")
            self.assertEqual(len(err.strip().splitlines()), 1, err)
            self.assertTrue(err.startswith(f"cchostd is not running on the bus {self.bus_address} ("), err)
        # no bus at all, the system bus from the environment
        code, out, err = self.status(address=False, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
        self.assertEqual(code, 2, out + err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertTrue(err.startswith("cchostd is not running on the system bus ("), err)

    def test_bad_usage(self):
        self.start_bus()
        for args in (["status", "extra"], ["--root", "/tmp", "status"],
                     ["--bus-address", "unix:path=/a", "--bus-address", "unix:path=/b", "status"],
                     ["--bus-address", "unix:path=/a", "check"], ["--dry-run", "--json", "monitor", "x"]):
            p = subprocess.run([CCHOSTCTL, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, f"{args}: {p.stdout}{p.stderr}")
            self.assertTrue(p.stderr.strip(), args)


class Monitor(BusCase):
    def start_monitor(self, *args):
        p = subprocess.Popen([CCHOSTCTL, "monitor", "--bus-address", self.bus_address, *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        first = p.stdout.readline()
        self.assertTrue(first.startswith("Following io.cchost.Host1"), first)
        lines = []
        p.lines = lines

        def read():
            for line in p.stdout:
                lines.append(line)
        p.reader = threading.Thread(target=read, daemon=True)
        p.reader.start()
        return p

    def wait_line(self, p, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(p.lines):
                if pred(line):
                    return line
            time.sleep(0.05)
        self.fail(f"no such line in {timeout} s; got {p.lines}")

    def test_health_changed_after_check(self):
        root = self.build(self.spec("spr-tdx-certified"))
        self.start_daemon(root)
        p = self.start_monitor()
        self.write(root, "run/reboot-required", "")
        self.call("Check")
        stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
        line = self.wait_line(p, lambda s: " HealthChanged " in s)
        self.assertRegex(line, "^" + stamp + r"HealthChanged /io/cchost/Host1 readiness=reboot-pending failed=\[.*\]$")
        line = self.wait_line(p, lambda s: " PropertiesChanged " in s and "Readiness=" in s)
        self.assertRegex(line, "^" + stamp + r"PropertiesChanged /io/cchost/Host1 io\.cchost\.Host1 .*"
                         r"Readiness=\"reboot-pending\"")
        self.assertIn("RebootRequired=true", line)
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10), 0)

    def test_job_finished_and_sigterm(self):
        root = self.build(self.spec("milan-snp-bios-off"))
        self.start_daemon(root)
        p = self.start_monitor()
        job = self.call("Enforce", "b", True)[0]
        line = self.wait_line(p, lambda s: " JobFinished " in s)
        self.assertIn(f"job={job} result=", line)
        self.wait_line(p, lambda s: " PropertiesChanged " + job + " io.cchost.Job1" in s)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)

    def test_no_bus(self):
        p = subprocess.run([CCHOSTCTL, "monitor", "--bus-address", "unix:path=/nonexistent/bus"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("cchostd is not running on the bus unix:path=/nonexistent/bus", p.stderr)


if __name__ == "__main__":
    import buslib
    buslib.main()
