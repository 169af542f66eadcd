#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The bash completion of cchostctl, sourced in bash and driven through COMP_WORDS like readline
does: it offers exactly the verbs and sub-verbs "cchostctl --help" lists and, after each verb, exactly
the options that verb's own --help lists (an option the verb refuses is never offered, one it takes
is never missing), skips option values when it finds the verb, completes option values, and offers
the check ids after "list-checks".

usage: test_completion.py BUILD_DIR SOURCE_DIR [SCRIPT]"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

BUILD = os.path.abspath(sys.argv.pop(1))
SOURCE = os.path.abspath(sys.argv.pop(1))
SCRIPT = os.path.join(SOURCE, "hostd", "data", "bash-completion", "cchostctl")
if len(sys.argv) > 1 and not sys.argv[1].startswith("-") and os.path.isfile(sys.argv[1]):
    SCRIPT = os.path.abspath(sys.argv.pop(1))
CCHOSTCTL = os.path.join(BUILD, "hostd", "cli", "cchostctl")
HELPER = "/usr/share/bash-completion/bash_completion"

DRIVER = r'''
source "$1"; source "$2"
COMP_LINE="$3"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
complete -p cchostctl >/dev/null || exit 3
_cchostctl
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(line, path=None):
    env = dict(os.environ, PATH=os.path.dirname(CCHOSTCTL) + os.pathsep + os.environ.get("PATH", ""))
    if path is not None:
        env["PATH"] = path
    r = subprocess.run(["bash", "-c", DRIVER, "bash", HELPER, SCRIPT, line], capture_output=True, text=True,
                       env=env, timeout=60)
    if r.returncode != 0:
        raise AssertionError("completing %r: exit %d\n%s" % (line, r.returncode, r.stderr))
    return sorted(w for w in r.stdout.split("\n") if w)


def help_text(*verb):
    return subprocess.run([CCHOSTCTL, *verb, "--help"], check=True, capture_output=True, text=True).stdout


def help_verbs():
    section = help_text().split("\nVerbs", 1)[1].split("\nOptions:", 1)[0]
    return re.findall(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?)$", section, re.M)


def help_options(*verb):
    section = help_text(*verb).split("\nOptions:", 1)[1].split("\n\n", 1)[0]
    return sorted(set(re.findall(r"^  (?:-[a-zA-Z] |   )(--[a-z0-9-]+)", section, re.M)))


class Completion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(HELPER):
            raise unittest.SkipTest("bash-completion is not installed")
        cls.verbs = help_verbs()

    def test_verbs(self):
        want = sorted(set(v.split()[0] for v in self.verbs))
        self.assertIn("disk", want)
        self.assertEqual(complete("cchostctl "), want)

    def test_sub_verbs(self):
        for verb in sorted(set(v.split()[0] for v in self.verbs)):
            want = sorted(v.split()[1] for v in self.verbs if v.startswith(verb + " "))
            if want:
                self.assertEqual(complete("cchostctl %s " % verb), want, verb)
        self.assertIn("recover", complete("cchostctl disk "))

    def test_options_of_each_verb(self):
        for verb in self.verbs:
            want = help_options(*verb.split())
            self.assertTrue(want, verb)
            self.assertEqual(complete("cchostctl %s --" % verb), want, verb)

    def test_options_before_the_verb(self):
        self.assertEqual(complete("cchostctl --"), help_options())
        self.assertIn("--version", complete("cchostctl --"))

    def test_option_values_are_skipped(self):
        # --root's value is not the verb, --tee's value is not the sub-verb
        self.assertEqual(complete("cchostctl --root /tmp disk r"), ["recover", "reseal", "rotate"])
        self.assertEqual(complete("cchostctl -r /tmp --tee snp harden e"), ["enforce"])
        self.assertEqual(complete("cchostctl --config /etc/x.yaml disk rotate --es"), ["--escrow-key"])

    def test_option_values(self):
        self.assertEqual(complete("cchostctl --tee "), ["auto", "snp", "tdx"])
        self.assertEqual(complete("cchostctl report compliance --format x"), ["xccdf"])

    def test_refused_options_are_not_offered(self):
        self.assertNotIn("--dry-run", complete("cchostctl check --"))
        self.assertNotIn("--tee", complete("cchostctl harden check --"))
        self.assertNotIn("--json", complete("cchostctl provision --"))

    def test_binary_named_by_path(self):
        # completing build/hostd/cli/cchostctl asks that binary, not the one on PATH
        self.assertEqual(complete(CCHOSTCTL + " di", path="/usr/bin:/bin"), ["disk"])

    def test_check_ids(self):
        ids = [c["id"] for c in json.loads(subprocess.run([CCHOSTCTL, "--json", "list-checks"], check=True,
                                                          capture_output=True, text=True).stdout)["checks"]]
        self.assertGreater(len(ids), 10)
        self.assertEqual(complete("cchostctl list-checks "), sorted(ids))
        self.assertEqual(complete("cchostctl --json list-checks snp.cpu.v"), ["snp.cpu.vendor"])
        # after one id, the others are still offered
        self.assertEqual(complete("cchostctl list-checks snp.cpu.vendor tdx.cpu.v"),
                         sorted(i for i in ids if i.startswith("tdx.cpu.v")))

    def test_unknown_verb(self):
        self.assertEqual(complete("cchostctl no-such-verb "), [])
        self.assertEqual(complete("cchostctl 'x[' "), [])


if __name__ == "__main__":
    if not shutil.which("bash"):
        print("SKIP: bash is not installed")
        sys.exit(77)
    sys.path.insert(0, os.path.join(SOURCE, "tests", "fixture"))
    from checklib import main  # noqa: E402  (exit 77 when a case skipped)
    main()
