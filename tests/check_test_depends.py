# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every meson test depends on every executable of this build it runs.

`meson test` builds only the prerequisites of the tests it runs, so a test that gets a built
program as a string (an environment variable such as CCHOSTCTL, or an argument made with
full_path()) and has no `depends:` on it fails on a fresh build directory. This reads the build
directory's introspection data and names every test that refers to a build output it does not
depend on.

Usage: check_test_depends.py BUILD_ROOT
"""
import json
import os
import sys


def load(build, name):
    path = os.path.join(build, "meson-info", name)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def missing_depends(tests, targets):
    """[(test name, target name, where)] for every reference to a build output not in depends."""
    outputs = {}
    for t in targets:
        for f in t.get("filename", []):
            outputs[os.path.normpath(f)] = t
    bad = []
    for test in tests:
        deps = set(test.get("depends", []))
        refs = [("command", c) for c in test.get("cmd", [])]
        refs += [("env " + k, v) for k, v in sorted(test.get("env", {}).items())]
        for where, value in refs:
            for word in str(value).split(os.pathsep):
                t = outputs.get(os.path.normpath(word)) if word else None
                if t is not None and t["id"] not in deps:
                    bad.append((test["name"], t["name"], where))
    return bad


def main():
    if len(sys.argv) != 2:
        print("usage: check_test_depends.py BUILD_ROOT", file=sys.stderr)
        return 2
    build = sys.argv[1]
    tests = load(build, "intro-tests.json") + load(build, "intro-benchmarks.json")
    targets = load(build, "intro-targets.json")
    bad = missing_depends(tests, targets)
    for name, target, where in bad:
        print(f"test {name}: runs {target} ({where}) but has no depends: on it")
    if bad:
        print(f"{len(bad)} missing test dependencies: `meson test` on a fresh build directory would not build them")
        return 1
    print(f"all {len(tests)} tests depend on the build outputs they run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
