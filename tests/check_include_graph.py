#!/usr/bin/env python3
"""The include graph of the engine (issue 11): hostd/core includes no area folder (firmware/, tdx-host/,
snp-host/, hardening/) except in the probe and action tables, and the area folders do not include each
other. Checks the #include lines of every .c and .h (a header resolves to the folder that holds it)
and the include_directories of each folder's meson.build; prints every violation and fails on one."""

import os
import re
import sys

AREAS = ["firmware", "tdx-host", "snp-host", "hardening", "kube-bootstrap"]
CORE = "hostd/core"
# the tables that name every probe and every action: the only places the engine knows the areas
TABLES = {"hostd/core/probe-table.c", "hostd/core/action-table.c"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
INC_VAR = re.compile(r"^(\w+)\s*=\s*include_directories\(\s*'\.'\s*\)", re.M)
INC_USE = re.compile(r"include_directories\s*:\s*(\[[^\]]*\]|\w+)")


def folders(src):
    return [CORE] + AREAS


def headers(src):
    """header name -> the checked folders that hold a header of that name"""
    where = {}
    for folder in folders(src) + ["hostd/basic", "hostd/cli"]:
        for name in os.listdir(os.path.join(src, folder)):
            if name.endswith(".h"):
                where.setdefault(name, []).append(folder)
    return where


def violation(folder, target, path):
    if target == folder:
        return False
    if folder == CORE:
        return target in AREAS and path not in TABLES
    return folder in AREAS and target in AREAS


def check_includes(src, where):
    errors = []
    for folder in folders(src):
        for name in sorted(os.listdir(os.path.join(src, folder))):
            if not name.endswith((".c", ".h")):
                continue
            path = f"{folder}/{name}"
            with open(os.path.join(src, path), encoding="utf-8") as f:
                text = f.read()
            for header in INCLUDE.findall(text):
                base = os.path.basename(header)
                if os.path.exists(os.path.join(src, folder, header)):
                    continue  # its own folder
                for target in where.get(base, []):
                    if violation(folder, target, path):
                        errors.append(f"{path}: #include \"{header}\" is in {target}/")
    return errors


def check_meson(src):
    errors = []
    owner = {}
    for folder in folders(src) + ["hostd/basic"]:
        with open(os.path.join(src, folder, "meson.build"), encoding="utf-8") as f:
            for var in INC_VAR.findall(f.read()):
                owner[var] = folder
    for folder in folders(src):
        with open(os.path.join(src, folder, "meson.build"), encoding="utf-8") as f:
            text = f.read()
        for use in INC_USE.findall(text):
            for var in re.findall(r"\w+", use):
                target = owner.get(var)
                if target and violation(folder, target, None):
                    errors.append(f"{folder}/meson.build: include_directories {var} is {target}/")
    return errors


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    errors = check_includes(src, headers(src)) + check_meson(src)
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) against the engine's include graph")
        return 1
    print("include graph: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
