#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Report (not a test): the systemd-analyze exposure of the built cchostd.service next to the
anchors installed on this machine, fwupd.service and systemd-hostnamed.service, measured in the same
run with the same command, as the README's "systemd unit" table. tests/package/test_unit.py gates
only cchostd's own score. An anchor that is not installed is reported as such, never guessed.

usage: unit_security.py [BUILD_DIR]   (default: build)"""
import os
import re
import shutil
import subprocess
import sys

UNIT_DIRS = ("/lib/systemd/system", "/usr/lib/systemd/system")


def exposure(path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", path], capture_output=True,
                       text=True, env=dict(os.environ, SYSTEMD_COLORS="0", LC_ALL="C.UTF-8"))
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\S+)", r.stdout + r.stderr)
    if not m:
        sys.exit("systemd-analyze security gave no exposure level for %s:\n%s" % (path, r.stdout + r.stderr))
    return m.group(1), m.group(2)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    if not shutil.which("systemd-analyze"):
        sys.exit("systemd-analyze is not installed")
    ours = os.path.join(build, "hostd", "data", "cchostd.service")
    if not os.path.exists(ours):
        sys.exit("%s is not built (meson setup %s)" % (ours, build))
    version = subprocess.run(["systemctl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print("systemd-analyze security --offline=true UNIT   (%s)" % version)
    print()
    print("| unit | exposure (lower is better) |")
    print("|---|---|")
    rows = [("cchostd.service", ours)]
    for name in ("fwupd.service", "systemd-hostnamed.service"):
        found = [os.path.join(d, name) for d in UNIT_DIRS if os.path.exists(os.path.join(d, name))]
        rows.append((name, found[0] if found else None))
    for name, path in rows:
        if path is None:
            print("| %s | not installed on this machine |" % name)
            continue
        score, verdict = exposure(path)
        print("| %s | %s %s |" % (name, score, verdict))


if __name__ == "__main__":
    main()
