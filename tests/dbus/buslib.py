# SPDX-License-Identifier: LGPL-2.1-or-later
"""The bus harness of the dbus suite: a private dbus-daemon with Debian's system policy and the
project's own policy file, cchostd on a fixture root, clients as root or as an unprivileged uid.

The bus config is /usr/share/dbus-1/system.conf minus <user>, <pidfile>, <syslog/>, <servicehelper>,
<standard_system_servicedirs/> and every include of the machine's own policy, with a private
<listen> socket and an <includedir> holding a copy of hostd/data/io.cchost.Host1.conf. Every
process a test starts is stopped in its cleanup, even when the test fails.

Run under Debian's /usr/bin/python3 (python3-dbus, python3-gi). meson passes CCHOSTD, CCHOSTCTL and
CCHOST_SOURCE_ROOT.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixture"))
sys.path.insert(0, HERE)
import checklib  # noqa: E402
import client  # noqa: E402
from checklib import HostCase, read_text  # noqa: E402,F401

# what cchostd itself writes after every check, in the textfile collector's directory that every
# fixture root of this suite has (BusCase.build): the output of a check, not a change to the host.
# tests/dbus/test_daemon.py Metrics looks at it.
METRICS_DIR = "var/lib/prometheus/node-exporter"
METRICS_FILE = METRICS_DIR + "/cchost.prom"


def tree_digest(root, runs=False):
    """checklib.tree_digest without the daemon's metrics textfile."""
    return checklib.tree_digest(root, runs=runs, skip=(METRICS_FILE,))

SOURCE_ROOT = os.environ.get("CCHOST_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
CCHOSTD = os.environ.get("CCHOSTD", os.path.join(SOURCE_ROOT, "build", "hostd", "daemon", "cchostd-test"))
CCHOSTCTL = checklib.CCHOSTCTL
POLICY = os.path.join(SOURCE_ROOT, "hostd", "data", "io.cchost.Host1.conf")
SYSTEM_CONF = "/usr/share/dbus-1/system.conf"
BUS_NAME = "io.cchost.Host1"
PATH = "/io/cchost/Host1"
IFACE = "io.cchost.Host1"
JOB_IFACE = "io.cchost.Job1"
POLKIT_NAME = "org.freedesktop.PolicyKit1"
POLKIT_PATH = "/org/freedesktop/PolicyKit1/Authority"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

main = checklib.main


def bus_config(tmp, socket_path, includedir):
    """Debian's system.conf, made private (see the module docstring)."""
    text = read_text(SYSTEM_CONF)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    for pattern in (r"<user>.*?</user>", r"<pidfile>.*?</pidfile>", r"<syslog/>", r"<fork/>",
                    r"<servicehelper>.*?</servicehelper>", r"<standard_system_servicedirs/>",
                    r"<include[^>]*>.*?</include>", r"<includedir>.*?</includedir>"):
        text = re.sub(pattern, "", text, flags=re.S)
    text = re.sub(r"<listen>.*?</listen>", f"<listen>unix:path={socket_path}</listen>", text, flags=re.S)
    text = text.replace("</busconfig>", f"  <includedir>{includedir}</includedir>\n</busconfig>")
    path = os.path.join(tmp, "system.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def _stop(p, sig=signal.SIGTERM, timeout=10):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


class BusCase(HostCase):
    """A test case with helpers to start a private bus and cchostd on a fixture root."""

    def setUp(self):
        # the daemon owns io.cchost.Host1 under the policy's <policy user="root">; the unprivileged
        # client is made with setpriv, which only root can do
        if os.geteuid() != 0:
            self.skipTest("the dbus suite runs as root (cchostd owns its name as root, clients drop to uid 65534)")
        for tool in ("dbus-daemon", "setpriv", "busctl"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} is not installed (tests/install-deps.sh)")

    def build(self, spec):
        """A fixture root with node_exporter's textfile directory, as its package makes it on a node."""
        root = super().build(spec)
        os.makedirs(os.path.join(root, METRICS_DIR), mode=0o755, exist_ok=True)
        return root

    def start_bus(self):
        tmp = tempfile.mkdtemp(prefix="cchost-bus-")
        self.addCleanup(shutil.rmtree, tmp, True)
        includedir = os.path.join(tmp, "system.d")
        os.mkdir(includedir)
        shutil.copy(POLICY, includedir)
        # the polkit mock (start_polkit) may own polkit's name, as root: the test's own rule, not the project's
        with open(os.path.join(includedir, "test-polkit-mock.conf"), "w") as f:
            f.write('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"\n'
                    ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n<busconfig>\n'
                    f'  <policy user="root"><allow own="{POLKIT_NAME}"/></policy>\n'
                    f'  <policy context="default"><allow send_destination="{POLKIT_NAME}"/></policy>\n'
                    '</busconfig>\n')
        # the unprivileged client must reach the socket
        os.chmod(tmp, 0o755)
        sock = os.path.join(tmp, "system_bus_socket")
        conf = bus_config(tmp, sock, includedir)
        p = subprocess.Popen(["dbus-daemon", "--nofork", "--nosyslog", f"--config-file={conf}",
                              "--print-address=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(_stop, p)
        line = p.stdout.readline().strip()
        if not line:
            self.fail(f"dbus-daemon did not start: {p.stderr.read()}")
        self.bus_address = line.split(",")[0] if line.startswith("unix:path=") else f"unix:path={sock}"
        self.bus_proc = p
        return self.bus_address

    def start_polkit(self, allowed=()):
        """python-dbusmock's polkitd template on the private bus, allowing exactly the actions named."""
        try:
            import dbusmock  # noqa: F401
        except ImportError as e:
            self.skipTest(f"python3-dbusmock is not installed ({e})")
        if not getattr(self, "bus_address", None):
            self.start_bus()
        log = tempfile.NamedTemporaryFile(prefix="cchost-polkitd-", delete=False)
        self.addCleanup(os.unlink, log.name)
        p = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "polkitd"],
                             stdout=log, stderr=subprocess.STDOUT,
                             env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus_address))
        log.close()
        self.addCleanup(_stop, p)
        deadline = time.monotonic() + 30
        while self.busctl("status", POLKIT_NAME, check=False).returncode != 0:
            if p.poll() is not None or time.monotonic() > deadline:
                self.fail(f"the polkit mock did not start: {read_text(log.name)}")
            time.sleep(0.05)
        self.busctl("call", POLKIT_NAME, POLKIT_PATH, "org.freedesktop.DBus.Mock", "SetAllowed", "as",
                    str(len(allowed)), *allowed)
        p.log_path = log.name
        return p

    def polkit_queries(self, p):
        """How many CheckAuthorization calls the mock answered (its log has one line per call)."""
        return read_text(p.log_path).count("CheckAuthorization")

    def start_daemon(self, root, *args, env=None, wait=True, config=None):
        """cchostd --root ROOT --bus-address ADDR; waits until it owns the name (wait=True)."""
        if not getattr(self, "bus_address", None):
            self.start_bus()
        full_env = dict(os.environ)
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.pop("WATCHDOG_USEC", None)
        full_env.update(env or {})
        cmd = [CCHOSTD, "--root", root, "--bus-address", self.bus_address]
        if config:
            cmd += ["--config", config]
        cmd += list(args)
        err = tempfile.NamedTemporaryFile(prefix="cchostd-stderr-", delete=False)
        self.addCleanup(os.unlink, err.name)
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=full_env)
        err.close()
        p.stderr_path = err.name
        self.addCleanup(self._stop_daemon, p)
        self.daemon = p
        if wait:
            self.wait_for_name(p)
        return p

    def _stop_daemon(self, p):
        """SIGTERM; a clean daemon exits 0 with no sanitizer report (ASan/UBSan builds)."""
        _stop(p)
        text = self.daemon_stderr(p)
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            self.assertNotIn(marker, text, text[-4000:])
        if not getattr(p, "expected_exit", None):
            self.assertEqual(p.returncode, 0, f"cchostd exited {p.returncode}: {text[-4000:]}")

    def daemon_stderr(self, p=None):
        return read_text((p or self.daemon).stderr_path)

    def wait_for_name(self, p, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                self.fail(f"cchostd exited {p.returncode}: {self.daemon_stderr(p)}")
            if self.bus().name_has_owner(BUS_NAME):
                # the name is ours; the properties are served once the first check is cached
                return
            time.sleep(0.05)
        self.fail("cchostd did not take its bus name in time")

    def busctl(self, *args, user=None, check=True, timeout=60):
        """busctl --address ADDR ARGS (user="nobody": as uid 65534)."""
        cmd = (NOBODY if user == "nobody" else []) + ["busctl", f"--address={self.bus_address}", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            self.fail(f"busctl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def bus(self):
        if not getattr(self, "_bus", None):
            self._bus = client.connect(self.bus_address)
            self.addCleanup(self._bus.close)
        return self._bus

    def try_call(self, method, signature="", *args, user=None, path=PATH, iface=IFACE):
        """("reply", [values]) or ("error", name, message); user="nobody" calls as uid 65534."""
        if user != "nobody":
            return client.call(self.bus(), path, iface, method, signature, list(args))
        r = subprocess.run(NOBODY + ["/usr/bin/python3", os.path.join(HERE, "client.py"), self.bus_address, path,
                                     iface, method, signature, json.dumps(list(args))],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        o = json.loads(r.stdout)
        return ("reply", o["reply"]) if "reply" in o else ("error", o["error"], o["message"])

    def call(self, method, signature="", *args, **kw):
        res = self.try_call(method, signature, *args, **kw)
        self.assertEqual(res[0], "reply", f"{method} failed: {res[1:]}")
        return res[1]

    def call_error(self, method, signature="", *args, **kw):
        """The error (name, message) of a call that must fail."""
        res = self.try_call(method, signature, *args, **kw)
        self.assertEqual(res[0], "error", f"{method} should have failed, replied {res[1:]}")
        return res[1], res[2]

    def get(self, prop, path=PATH, iface=IFACE, user=None):
        return self.call("Get", "ss", iface, prop, path=path, iface="org.freedesktop.DBus.Properties", user=user)[0]

    def get_all(self, path=PATH, iface=IFACE, user=None):
        return self.call("GetAll", "s", iface, path=path, iface="org.freedesktop.DBus.Properties", user=user)[0]

    def wait_job(self, job, timeout=120):
        """Waits until the job's State is no longer running; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.get("State", path=job, iface=JOB_IFACE)
            if state != "running":
                return state
            time.sleep(0.05)
        self.fail(f"job {job} still running after {timeout} s")

    def ctl_json(self, root, *args):
        code, out, err = self.ctl("--json", *args, root=root)
        self.assertIn(code, (0, 1), f"cchostctl {' '.join(args)} exited {code}: {err}")
        return json.loads(out)

    def listen(self):
        """A Signals collector on this bus, stopped at cleanup."""
        sig = Signals(self.bus_address)
        self.addCleanup(sig.close)
        return sig

    def wait_signal(self, signals, pred, timeout=30):
        """The first signal [member, path, args] for which pred is true."""
        s = signals.wait(pred, timeout)
        if s is None:
            self.fail(f"no such signal in {timeout} s; got {signals.got}")
        return s

    def assertDaemonUp(self):
        self.assertIsNone(self.daemon.poll(), f"cchostd died: {self.daemon_stderr()}")
        self.assertEqual(json.loads(self.call("GetReport", "s", "check")[0])["schema"], "cchost.check/v1")


class Signals:
    """listen.py in a child process; got is every signal so far, as [member, path, args]."""

    def __init__(self, address):
        self.got = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "listen.py"), address],
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "READY":
            raise RuntimeError("the signal listener did not start")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.got.append(json.loads(line))
                self.cond.notify_all()

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for s in self.got:
                    if pred(s):
                        return s
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self):
        _stop(self.proc)
        self.thread.join(10)


class NotifySocket:
    """A datagram socket that plays systemd's $NOTIFY_SOCKET; messages() returns what arrived."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.received = []

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(m) for m in self.received):
                return True
            try:
                self.received.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return False

    def close(self):
        self.sock.close()
