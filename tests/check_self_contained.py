# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nothing in the build, the tests or the docs reaches outside the checkout.

A fresh clone must build and pass its tests on its own: no tracked file may name the sibling
directory ../shared (as "../shared", or as a "shared" component of a joined path) or the
development machine's /work tree. The public test vectors live in tests/vectors/.

Usage: check_self_contained.py SOURCE_ROOT
"""
import os
import re
import subprocess
import sys

PATTERNS = [
    (re.compile(rb"\.\.[/\\]shared\b"), "names ../shared, outside the checkout"),
    (re.compile(rb"""["']shared["']"""), "joins a path component \"shared\" (../shared is outside the checkout)"),
    (re.compile(rb"(?<![\w.-])/work\b"), "names /work, a path of the development machine"),
]
SELF = os.path.join("tests", "check_self_contained.py")


def tracked_files(src):
    """The files git tracks, or (no git, e.g. an unpacked tarball) every file outside build dirs."""
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-z"], check=True, capture_output=True).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = sorted(d for d in dirnames if d != ".git" and not d.startswith("build"))
            files += [os.path.relpath(os.path.join(dirpath, f), src) for f in sorted(filenames)]
        return files


def offences(src, files):
    bad = []
    for rel in files:
        if os.path.normpath(rel) == SELF:
            continue
        path = os.path.join(src, rel)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        for rx, why in PATTERNS:
            for m in rx.finditer(data):
                line = data.count(b"\n", 0, m.start()) + 1
                bad.append(f"{rel}:{line}: {why}")
    return bad


def main():
    if len(sys.argv) != 2:
        print("usage: check_self_contained.py SOURCE_ROOT", file=sys.stderr)
        return 2
    src = sys.argv[1]
    files = tracked_files(src)
    bad = offences(src, files)
    for b in bad:
        print(b)
    if bad:
        print(f"{len(bad)} references outside the checkout")
        return 1
    print(f"{len(files)} tracked files, none refers outside the checkout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
