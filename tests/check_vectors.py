# SPDX-License-Identifier: LGPL-2.1-or-later
"""tests/vectors/*/MANIFEST.md lists exactly the files beside it, each with its SHA-256.

Every public vector in the checkout has its source, hash and licence on record, and every row of a
manifest names a file that is there with those bytes.

Usage: check_vectors.py VECTORS_DIR
"""
import hashlib
import os
import re
import sys

ROW = re.compile(r"^\| ([^ |]+) \| `([0-9a-f]{64})` \|", re.M)


def check_area(area):
    with open(os.path.join(area, "MANIFEST.md"), encoding="utf-8") as f:
        listed = dict(ROW.findall(f.read()))
    present = set()
    for dirpath, dirnames, filenames in os.walk(area):
        dirnames.sort()
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), area)
            if rel != "MANIFEST.md":
                present.add(rel)
    bad = []
    for rel in sorted(present - set(listed)):
        bad.append(f"{area}/{rel}: not in MANIFEST.md")
    for rel in sorted(set(listed) - present):
        bad.append(f"{area}/MANIFEST.md: lists {rel}, which is not there")
    for rel in sorted(present & set(listed)):
        with open(os.path.join(area, rel), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != listed[rel]:
            bad.append(f"{area}/{rel}: SHA-256 {digest}, MANIFEST.md says {listed[rel]}")
    return len(present), bad


def main():
    if len(sys.argv) != 2:
        print("usage: check_vectors.py VECTORS_DIR", file=sys.stderr)
        return 2
    top = sys.argv[1]
    areas = sorted(d for d in os.listdir(top) if os.path.isdir(os.path.join(top, d)))
    total, bad = 0, []
    for d in areas:
        n, b = check_area(os.path.join(top, d))
        total += n
        bad += b
    for b in bad:
        print(b)
    if bad or not total:
        print(f"{len(bad)} manifest errors" if bad else f"{top}: no vectors")
        return 1
    print(f"{total} vectors in {', '.join(areas)}, each listed with its SHA-256")
    return 0


if __name__ == "__main__":
    sys.exit(main())
