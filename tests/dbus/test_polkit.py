#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The asynchronous polkit check cchostd's mutating methods call (hostd/daemon/bus-polkit.c, issue 14
item 3), and the polkit actions file hostd/data/io.cchost.policy.

Every case starts its own private dbus-daemon (a system-bus configuration with deny-by-default rules
like Debian's system.conf: everyone may call the test name and ask polkit, only root may own them or
drive the mock), python-dbusmock's polkitd template (or none, for "polkit absent") and
tests/dbus/polkit-test-server (POLKIT_TEST_SERVER), whose methods are guarded by
bus_polkit_verify_async() and count how often their action really ran. Unprivileged callers are gdbus
under `setpriv --reuid=65534 --regid=65534 --clear-groups` (a uid-0 caller never reaches polkit).
Every process is stopped at the end of its case, even when the case fails.

Run as root with Debian's /usr/bin/python3 (python3-dbusmock, python3-dbus); CCHOST_SOURCE_ROOT names
the checkout.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixture"))
import checklib  # noqa: E402

try:
    import dbus
    import dbusmock
except ImportError as e:  # reported per case, as a skip with the reason
    dbus = dbusmock = None
    IMPORT_ERROR = str(e)

SOURCE_ROOT = os.environ.get("CCHOST_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVER = os.environ.get("POLKIT_TEST_SERVER", "")
SERVER_ASAN = os.environ.get("POLKIT_TEST_SERVER_ASAN", "")
POLICY = os.path.join(SOURCE_ROOT, "hostd", "data", "io.cchost.policy")
POLKIT_DTD = "/usr/share/polkit-1/policyconfig-1.dtd"

NAME = "io.cchost.PolkitTest"
PATH = "/io/cchost/PolkitTest"
IFACE = "io.cchost.PolkitTest1"
PK_NAME = "org.freedesktop.PolicyKit1"
PK_PATH = "/org/freedesktop/PolicyKit1/Authority"
MANAGE = "io.cchost.manage"
ROTATE = "io.cchost.rotate-keys"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INTERACTIVE_REQUIRED = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <!-- as polkit's own system.d file: everyone may ask it; the mock's controls are root's -->
    <allow send_destination="{pk}"/>
    <deny send_destination="{pk}" send_interface="org.freedesktop.DBus.Mock"/>
    <!-- as io.cchost.Host1.conf: everyone may call, the methods decide -->
    <allow send_destination="{name}"/>
  </policy>
  <policy user="root">
    <allow own="{pk}"/>
    <allow own="{name}"/>
    <allow send_destination="{pk}" send_interface="org.freedesktop.DBus.Mock"/>
  </policy>
</busconfig>
"""

# polkitd as python-dbusmock's template, plus a list of actions whose answer is "challenge" (the
# caller could be authorized after authenticating), which the stock template never says
CHALLENGE_TEMPLATE = """
import dbus
from dbusmock.templates.polkitd import *  # noqa: F401,F403
from dbusmock.templates import polkitd as _stock


def load(mock, parameters):
    _stock.load(mock, parameters)
    mock.challenged = []


@dbus.service.method(MAIN_IFACE, in_signature='(sa{sv})sa{ss}us', out_signature='(bba{ss})')
def CheckAuthorization(self, _subject, action_id, _details, _flags, _cancellation_id):
    return (action_id in self.allowed, action_id in self.challenged, {})


@dbus.service.method(MOCK_IFACE, in_signature='as', out_signature='')
def SetChallenged(self, actions):
    self.challenged = actions
"""


def wait_until(predicate, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class PolkitCase(unittest.TestCase):
    """A private bus per case, with the polkit mock and the test server on it."""
    maxDiff = None
    server_program = SERVER

    def setUp(self):
        if dbus is None:
            self.skipTest(f"python3-dbusmock/python3-dbus missing: {IMPORT_ERROR}")
        if os.geteuid() != 0:
            self.skipTest("needs root: the server owns its name as root, the unprivileged caller is made with setpriv")
        for tool in ("dbus-daemon", "gdbus", "setpriv"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} is not installed")
        if not self.server_program or not os.access(self.server_program, os.X_OK):
            self.fail(f"the test server {self.server_program!r} is not built (POLKIT_TEST_SERVER)")

        self.dir = tempfile.mkdtemp(prefix="cchost-polkit-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)  # the unprivileged caller connects to the socket inside
        self.address = self.start_bus()
        self.bus = dbus.bus.BusConnection(self.address)
        self.addCleanup(self.bus.close)
        self.polkit = None

    # --- processes ---
    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def start_bus(self):
        socket = os.path.join(self.dir, "system_bus_socket")
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF.format(socket=socket, pk=PK_NAME, name=NAME))
        log = open(os.path.join(self.dir, "dbus-daemon.log"), "w")
        self.addCleanup(log.close)
        p = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--print-address=1"],
                             stdout=subprocess.PIPE, stderr=log, text=True)
        self.addCleanup(self.stop, p)
        self.addCleanup(p.stdout.close)
        ready, _, _ = select.select([p.stdout], [], [], 10)
        self.assertTrue(ready, "dbus-daemon did not print its address")
        address = p.stdout.readline().strip()
        self.assertTrue(address.startswith("unix:path=" + socket), address)
        return address

    def start_polkit(self, template="polkitd"):
        """python-dbusmock's polkitd (every action denied until SetAllowed) on the private bus."""
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        log = open(os.path.join(self.dir, "polkitd.log"), "w")
        self.addCleanup(log.close)
        p, obj = dbusmock.DBusTestCase.spawn_server_template(template, {}, stdout=log, system_bus=True)
        self.addCleanup(self.stop, p)
        self.polkit = dbus.Interface(self.bus.get_object(PK_NAME, PK_PATH), dbusmock.MOCK_IFACE)
        return self.polkit

    def start_server(self, program=None, env=None):
        self.server_stderr = open(os.path.join(self.dir, "server.stderr"), "w+")
        self.addCleanup(self.server_stderr.close)
        p = subprocess.Popen([program or self.server_program, "--address", self.address, "--name", NAME],
                             stdout=subprocess.PIPE, stderr=self.server_stderr, text=True,
                             env=dict(os.environ, **(env or {})))
        self.addCleanup(self.stop, p)
        self.addCleanup(p.stdout.close)
        ready, _, _ = select.select([p.stdout], [], [], 30)
        self.assertTrue(ready, "the test server did not start")
        self.assertEqual(p.stdout.readline().strip(), "READY", self.server_log())
        self.server = p
        return p

    def server_log(self):
        self.server_stderr.seek(0)
        return self.server_stderr.read()

    # --- calls ---
    def gdbus(self, method, *args, user="root", interactive=False, timeout=20, dest=NAME, path=PATH, iface=IFACE):
        cmd = (NOBODY if user == "nobody" else []) + ["gdbus", "call", "--address", self.address, "--dest", dest,
                                                      "--object-path", path, "--method", f"{iface}.{method}",
                                                      "--timeout", str(timeout)]
        if interactive:
            cmd.append("--interactive")
        return cmd + [str(a) for a in args]

    def call(self, method, *args, **kw):
        """(ok, text): the reply ("(uint32 1,)") or the D-Bus error name and message."""
        p = subprocess.run(self.gdbus(method, *args, **kw), capture_output=True, text=True, timeout=60)
        if p.returncode == 0:
            return True, p.stdout.strip()
        m = re.search(r"GDBus\.Error:([\w.]+): (.*)", p.stderr, re.S)
        self.assertIsNotNone(m, f"gdbus failed without a D-Bus error: {p.stderr}")
        return False, (m.group(1), m.group(2).strip())

    def assert_runs(self, result, runs):
        self.assertEqual(result, (True, f"(uint32 {runs},)"))

    def assert_refused(self, result, name=ACCESS_DENIED, mentions=MANAGE):
        ok, err = result
        self.assertFalse(ok, f"expected {name}, got the reply {err}")
        self.assertEqual(err[0], name, err[1])
        self.assertIn(mentions, err[1])

    def counts(self):
        """(Do runs, RotateKeys runs, Stale runs, queries in the registry), as root."""
        ok, text = self.call("Counts")
        self.assertTrue(ok, text)
        return tuple(int(n) for n in re.findall(r"uint32 (\d+)", text))

    def ping(self):
        ok, text = self.call("Ping", iface="org.freedesktop.DBus.Peer", timeout=5)
        self.assertTrue(ok, f"the server does not answer Ping: {text}")

    def polkit_calls(self):
        """The CheckAuthorization calls polkit saw: [(subject kind, subject, action, flags)]."""
        calls = self.polkit.GetMethodCalls("CheckAuthorization")
        return [(str(a[0][0]), dict(a[0][1]), str(a[1]), int(a[3])) for _, a in calls]

    def hanging(self):
        return bool(self.polkit.HaveHangingCalls())


class Matrix(PolkitCase):
    """The authorization matrix of issue 14 item 3 on the test server."""

    def test_a_root_runs_without_asking_polkit(self):
        polkit = self.start_polkit()
        polkit.SimulateHang(True)  # if it were asked, the call would hang and time out
        self.start_server()
        self.assert_runs(self.call("Do", "false", timeout=5), 1)
        self.assert_runs(self.call("RotateKeys", timeout=5), 1)
        self.assertEqual(self.polkit_calls(), [])
        self.assertFalse(self.hanging())
        self.assertEqual(self.counts(), (1, 1, 0, 0))

    def test_b_unprivileged_denied(self):
        self.start_polkit()  # the template's default: every action denied
        self.start_server()
        self.assert_refused(self.call("Do", "false", user="nobody"))
        self.assert_refused(self.call("RotateKeys", user="nobody"), mentions=ROTATE)
        self.assertEqual(self.counts(), (0, 0, 0, 0), "a refused action ran, or its query stayed in the registry")
        calls = self.polkit_calls()
        self.assertEqual([(k, a, f) for k, _, a, f in calls],
                         [("system-bus-name", MANAGE, 0), ("system-bus-name", ROTATE, 0)])
        for _, subject, _, _ in calls:
            self.assertRegex(str(subject["name"]), r"^:\d+\.\d+$", "the subject is the caller's unique name")

    def test_c_unprivileged_allowed(self):
        polkit = self.start_polkit()
        polkit.SetAllowed([MANAGE])
        self.start_server()
        self.assert_runs(self.call("Do", "false", user="nobody"), 1)
        self.assert_runs(self.call("Do", "false", user="nobody"), 2)
        # the two actions are separate: io.cchost.manage does not grant io.cchost.rotate-keys
        self.assert_refused(self.call("RotateKeys", user="nobody"), mentions=ROTATE)
        polkit.SetAllowed([MANAGE, ROTATE])
        self.assert_runs(self.call("RotateKeys", user="nobody"), 1)
        self.assertEqual(self.counts(), (2, 1, 0, 0))
        # polkit is asked every time: no answer is cached for the next call
        self.assertEqual([a for _, _, a, _ in self.polkit_calls()], [MANAGE, MANAGE, ROTATE, ROTATE])

    def test_d_polkit_absent_fails_closed(self):
        self.start_server()  # no org.freedesktop.PolicyKit1 on this bus
        result = self.call("Do", "false", user="nobody")
        self.assert_refused(result)
        self.assertIn("polkit", result[1][1])
        self.assert_runs(self.call("Do", "false"), 1)  # root still may
        self.assertEqual(self.counts(), (1, 0, 0, 0))

    def test_e_other_callers_served_while_one_query_hangs(self):
        polkit = self.start_polkit()
        polkit.SetAllowed([MANAGE, ROTATE])
        polkit.SimulateHangActions([MANAGE])
        self.start_server()
        first = subprocess.Popen(self.gdbus("Do", "false", user="nobody", timeout=60), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, first, signal.SIGKILL)
        wait_until(self.hanging, what="polkit to hold the first query")
        # a second unprivileged caller, a root caller and a Ping are answered meanwhile
        self.assert_runs(self.call("RotateKeys", user="nobody", timeout=5), 1)
        self.assert_runs(self.call("Do", "false", timeout=5), 1)
        self.ping()
        self.assertIsNone(first.poll(), "the hanging caller got an answer before polkit gave one")
        self.assertEqual(self.counts(), (1, 1, 0, 1))
        polkit.ReleaseHangingCalls()
        out, err = first.communicate(timeout=20)
        self.assertEqual((first.returncode, out.strip()), (0, "(uint32 2,)"), err)
        self.assertEqual(self.counts(), (2, 1, 0, 0))

    def test_f_caller_disconnects_while_pending(self):
        polkit = self.start_polkit()
        polkit.SimulateHang(True)  # and, once released, denied
        self.start_server()
        for _ in range(3):
            client = subprocess.Popen(self.gdbus("Do", "false", user="nobody", timeout=60),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.addCleanup(self.stop, client, signal.SIGKILL)
            wait_until(lambda: len(self.polkit_calls()) > 0 and self.hanging(), what="a pending query")
            client.kill()
            client.wait()
            polkit.ReleaseHangingCalls()
            polkit.ClearCalls()
        wait_until(lambda: self.counts()[3] == 0, what="the answered queries of gone callers to be dropped")
        self.ping()
        self.assertEqual(self.counts(), (0, 0, 0, 0))
        self.assertIsNone(self.server.poll(), self.server_log())

    def test_interactive_flag_reaches_polkit(self):
        self.start_polkit()
        self.start_server()
        self.call("Do", "false", user="nobody")
        self.call("Do", "true", user="nobody")                       # the handler's argument
        self.call("Do", "false", user="nobody", interactive=True)    # the message's flag
        # CheckAuthorization flags: 1 = AllowUserInteraction
        self.assertEqual([f for _, _, _, f in self.polkit_calls()], [0, 1, 1])

    def test_challenge_needs_interaction(self):
        template = os.path.join(self.dir, "polkitd_challenge.py")
        with open(template, "w") as f:
            f.write(CHALLENGE_TEMPLATE)
        polkit = self.start_polkit(template)
        polkit.SetChallenged([MANAGE])
        self.start_server()
        self.assert_refused(self.call("Do", "false", user="nobody"), INTERACTIVE_REQUIRED)
        # interaction was allowed and polkit still did not authorize: plain refusal
        self.assert_refused(self.call("Do", "false", user="nobody", interactive=True))
        self.assertEqual(self.counts(), (0, 0, 0, 0))

    def test_second_pass_with_another_action_is_stale(self):
        polkit = self.start_polkit()
        polkit.AllowUnknown(True)
        self.start_server()
        ok, err = self.call("Stale", user="nobody")
        self.assertFalse(ok, err)
        self.assertEqual(err[0], "System.Error.ESTALE", err)
        self.assertIn(MANAGE, err[1])
        self.assertIn(ROTATE, err[1])
        self.assertEqual(self.counts(), (0, 0, 0, 0))


class Leaks(PolkitCase):
    """(g) the server built with AddressSanitizer: every path, then SIGTERM with queries still pending."""
    server_program = SERVER_ASAN

    def setUp(self):
        if not SERVER_ASAN:
            self.skipTest("no AddressSanitizer build of the test server (the compiler cannot link "
                          "-fsanitize=address, or the build uses another sanitizer)")
        super().setUp()

    def test_g_no_leak_under_asan(self):
        polkit = self.start_polkit()
        polkit.SetAllowed([MANAGE])
        self.start_server(env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=66"})
        self.assert_runs(self.call("Do", "false"), 1)                                     # root
        self.assert_runs(self.call("Do", "false", user="nobody"), 2)                      # allowed
        self.assert_refused(self.call("RotateKeys", user="nobody"), mentions=ROTATE)      # denied
        ok, _ = self.call("Stale", user="nobody")                                         # stale
        self.assertFalse(ok)
        polkit.SimulateHang(True)
        gone = subprocess.Popen(self.gdbus("Do", "false", user="nobody", timeout=60), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop, gone, signal.SIGKILL)
        waiting = subprocess.Popen(self.gdbus("RotateKeys", user="nobody", timeout=60), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop, waiting, signal.SIGKILL)
        wait_until(lambda: self.counts()[3] == 2, what="two pending queries")
        gone.kill()
        gone.wait()
        # the registry is freed with two queries pending (one of a caller that is gone)
        self.server.send_signal(signal.SIGTERM)
        out, _ = self.server.communicate(timeout=60)
        log = self.server_log()
        self.assertFalse("LeakSanitizer" in log or "ERROR: AddressSanitizer" in log, log[-4000:])
        self.assertEqual(self.server.returncode, 0, log[-4000:])
        self.assertEqual(out.strip(), "do=2 rotate=0 stale=0 pending=2")


class PolicyFile(unittest.TestCase):
    """hostd/data/io.cchost.policy: valid against polkit's DTD, the two actions with their defaults."""

    def test_valid_against_polkit_dtd(self):
        if not os.path.exists(POLKIT_DTD) or not shutil.which("xmllint"):
            self.skipTest(f"{POLKIT_DTD} (polkitd) or xmllint (libxml2-utils) missing")
        p = subprocess.run(["xmllint", "--noout", "--dtdvalid", POLKIT_DTD, POLICY], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_actions_and_defaults(self):
        root = ET.parse(POLICY).getroot()  # well-formed, or this raises
        self.assertEqual(root.tag, "policyconfig")
        expected = {MANAGE: "auth_admin_keep", ROTATE: "auth_admin"}
        actions = {a.get("id"): a for a in root.findall("action")}
        self.assertEqual(sorted(actions), sorted(expected))
        for action_id, default in expected.items():
            a = actions[action_id]
            defaults = {d.tag: d.text.strip() for d in a.find("defaults")}
            self.assertEqual(defaults, {"allow_any": default, "allow_inactive": default, "allow_active": default},
                             action_id)
            for tag in ("description", "message"):
                elems = a.findall(tag)
                self.assertEqual(len(elems), 1, f"{action_id}: one untranslated {tag}")
                text = elems[0].text.strip()
                self.assertGreater(len(text.split()), 4, f"{action_id}: {tag} {text!r} is not a sentence")
                self.assertEqual(dict(elems[0].attrib), {}, f"{action_id}: {tag} has no gettext-domain")
            # no implication: rotate-keys must not come with manage's kept authorization
            self.assertEqual(a.findall("annotate"), [], action_id)


if __name__ == "__main__":
    checklib.main()
