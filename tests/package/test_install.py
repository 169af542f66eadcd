#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The install layout: "meson install --destdir" puts exactly the committed list of files in place,
the first-boot unit names the installed binary and passes "systemd-analyze verify", the man pages
render without warnings, the bash completion completes, and an uninstalled binary finds the source
tree's profile by itself.

usage: test_install.py BUILD_DIR SOURCE_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.abspath(sys.argv.pop(1))
HERE = os.path.dirname(os.path.abspath(__file__))
CCHOSTCTL = os.path.join(BUILD, "hostd", "cli", "cchostctl")


def build_option(name):
    out = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], check=True,
                         capture_output=True, text=True).stdout
    for opt in json.loads(out):
        if opt["name"] == name:
            return opt["value"]
    raise KeyError(name)


class Installed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cchost-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", cls.dest, "--no-rebuild", "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("meson install failed:\n" + r.stdout + r.stderr)
        cls.prefix = build_option("prefix")
        cls.sysconfdir = build_option("sysconfdir")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def test_tree_equals_committed_list(self):
        with open(os.path.join(HERE, "install-layout.txt")) as f:
            expected = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        expected = [l.replace("PREFIX", self.prefix) for l in expected]
        if self.sysconfdir == "/etc":
            expected = ["/etc/cchost/cchost.yaml" if l.endswith("/examples/cchost.yaml") else l for l in expected]
        found = []
        for top, dirs, files in os.walk(self.dest):
            for name in files:
                found.append("/" + os.path.relpath(os.path.join(top, name), self.dest))
        self.assertEqual(sorted(found), sorted(expected))

    def unit(self):
        with open(os.path.join(HERE, "install-layout.txt")) as f:
            units = [l for l in f if l.strip().endswith("/cchost-firstboot.service")]
        return self.path(units[0].strip().replace("PREFIX", self.prefix))

    def test_unit_runs_the_installed_binary(self):
        with open(self.unit()) as f:
            text = f.read()
        execs = [l.split("=", 1)[1].split()[0] for l in text.splitlines() if l.startswith("ExecStart=")]
        self.assertEqual(execs, [os.path.join(self.prefix, "bin", "cchostctl")])
        self.assertTrue(os.access(self.path(execs[0]), os.X_OK), execs[0])
        for page in ("cchostctl(1)", "cchost.yaml(5)"):
            self.assertIn("man:" + page, text)

    def test_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            raise unittest.SkipTest("systemd-analyze is not installed")
        # systemd-analyze checks the ExecStart binary and the Documentation= pages on this machine:
        # point both into the destdir (the path itself is asserted above)
        work = os.path.join(self.tmp, "verify")
        os.makedirs(work, exist_ok=True)
        with open(self.unit()) as f:
            text = f.read().replace("ExecStart=/", "ExecStart=" + self.dest + "/")
        copy = os.path.join(work, os.path.basename(self.unit()))
        with open(copy, "w") as f:
            f.write(text)
        env = dict(os.environ, MANPATH=self.path(os.path.join(self.prefix, "share", "man")))
        r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout + r.stderr, "")

    def test_man_pages_have_no_warnings(self):
        if not shutil.which("man"):
            raise unittest.SkipTest("man (man-db) is not installed")
        for page in ("man1/cchostctl.1", "man5/cchost.yaml.5", "man8/cchostd.8"):
            p = self.path(os.path.join(self.prefix, "share", "man", page))
            r = subprocess.run(["man", "--warnings", "-l", p], capture_output=True, text=True,
                               env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", page)
            self.assertIn("SEE ALSO", r.stdout)

    def complete(self, line):
        script = self.path(os.path.join(self.prefix, "share", "bash-completion", "completions", "cchostctl"))
        helper = "/usr/share/bash-completion/bash_completion"
        if not os.path.exists(helper):
            raise unittest.SkipTest("bash-completion is not installed")
        prog = r'''
source "$1"; source "$2"
COMP_LINE="$3"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_cchostctl
printf '%s\n' "${COMPREPLY[@]}"
'''
        # the completion asks the cchostctl it completes for its verbs and options: the installed one
        env = dict(os.environ, PATH=self.path(os.path.join(self.prefix, "bin")) + os.pathsep + os.environ["PATH"])
        r = subprocess.run(["bash", "-c", prog, "bash", helper, script, line], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return sorted(w for w in r.stdout.split("\n") if w)

    def test_bash_completion(self):
        self.assertEqual(self.complete("cchostctl di"), ["disk"])
        self.assertEqual(self.complete("cchostctl p"), ["plan", "provision"])
        self.assertEqual(self.complete("cchostctl --root /tmp disk r"), ["recover", "reseal", "rotate"])
        self.assertEqual(self.complete("cchostctl harden "), ["check", "drift", "enforce"])
        self.assertEqual(self.complete("cchostctl --tee "), ["auto", "snp", "tdx"])
        self.assertEqual(self.complete("cchostctl report compliance --format x"), ["xccdf"])
        self.assertIn("--dry-run", self.complete("cchostctl provision --"))
        self.assertNotIn("--dry-run", self.complete("cchostctl check --"))

    def test_version_lists_features(self):
        out = subprocess.run([self.path(os.path.join(self.prefix, "bin", "cchostctl")), "--version"],
                             check=True, capture_output=True, text=True).stdout.splitlines()
        self.assertTrue(out[0].startswith("cchostctl "), out)
        for feature in ("+OPENSSL(", "+CRYPTSETUP(", "+TPM2(", "+LIBVIRT(dlopen", "+KMOD("):
            self.assertIn(feature, out[1])


class Packaging(unittest.TestCase):
    """debian/control's Build-Depends and tests/install-deps.sh name the same build packages."""

    def test_build_depends_are_installed_by_install_deps(self):
        with open(os.path.join(SOURCE, "debian", "control")) as f:
            text = f.read()
        field = text.split("Build-Depends:", 1)[1].split("\n\n", 1)[0]
        field = field.split("\nStandards-Version:", 1)[0]
        names = []
        for item in field.split(","):
            name = item.strip().split(" ", 1)[0]
            if name and name != "debhelper-compat":
                names.append(name)
        with open(os.path.join(SOURCE, "tests", "install-deps.sh")) as f:
            deps = f.read().split('packages="', 1)[1].split('"', 1)[0].split()
        self.assertTrue(names)
        self.assertEqual([n for n in names if n not in deps], [])
        # and what the build links is in Build-Depends
        for dev in [d for d in deps if d.endswith("-dev") and d not in ("libc6-dev", "dpkg-dev")]:
            self.assertIn(dev, names)


class Uninstalled(unittest.TestCase):
    """The build tree's cchostctl reads the source tree's profile without --profile or any
    environment variable; the same binary copied elsewhere does not."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cchost-uninstalled-")
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "hostbuilder.py"),
                        os.path.join(SOURCE, "tests", "hosts", "genoa-snp-ready.yaml"), cls.root],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def env(self):
        return {k: v for k, v in os.environ.items() if not k.startswith("CCHOST_")}

    def test_harden_check_from_build_tree(self):
        r = subprocess.run([CCHOSTCTL, "--root", self.root, "--json", "harden", "check"], capture_output=True,
                           text=True, env=self.env(), cwd=self.tmp)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        doc = json.loads(r.stdout)
        self.assertTrue(doc["findings"] if "findings" in doc else doc, doc)
        self.assertNotIn("give one with --profile", r.stderr)

    def test_report_compliance_from_build_tree(self):
        r = subprocess.run([CCHOSTCTL, "--root", self.root, "report", "compliance", "--format", "json"],
                           capture_output=True, text=True, env=self.env(), cwd=self.tmp)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertEqual(json.loads(r.stdout)["schema"], "cchost.compliance/v1")

    def test_copy_outside_the_build_tree_uses_the_installed_profile(self):
        copy = os.path.join(self.tmp, "cchostctl")
        shutil.copy2(CCHOSTCTL, copy)
        r = subprocess.run([copy, "--root", self.root, "harden", "check"], capture_output=True, text=True,
                           env=self.env(), cwd=self.tmp)
        if os.path.exists(os.path.join(build_option("prefix"), build_option("datadir"), "cchost", "profiles",
                                       "cc-host.yaml")):
            self.assertIn(r.returncode, (0, 1), r.stderr)
        else:
            self.assertEqual(r.returncode, 2)
            self.assertIn(os.path.join(build_option("prefix"), build_option("datadir"), "cchost", "profiles"),
                          r.stderr)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(SOURCE, "tests", "fixture"))
    from checklib import main  # noqa: E402  (exit 77 when a case skipped)
    main()
