#!/bin/sh
# Benchmarks (not tests): prints timings and ratios against a baseline measured in the same run.
# Usage: tests/bench/run.sh [BUILDDIR]   (default: build)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
ninja -C "$build" tests/bench/bench-check tests/bench/bench-harden >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for host in genoa-snp-ready spr-tdx-ready; do
        /usr/bin/python3 "$src/tests/hostbuilder.py" "$src/tests/hosts/$host.yaml" "$tmp/$host"
        echo "== check on $host"
        "$build/tests/bench/bench-check" "$tmp/$host" 2000
done
# issue 13's check and --version rows, as ratios in one run (tests/bench/startup.py --update-readme writes them)
ninja -C "$build" hostd/cli/cchostctl >/dev/null
/usr/bin/python3 "$src/tests/bench/startup.py" "$build"
# issue 13's harden rows: the per-file cost at 0, 1,000 and 10,000 files (against OpenSCAP when its
# content is installed), and the bullseye tree against oscap when BULLSEYE_ROOT names one
# (debootstrap --variant=minbase bullseye DIR; see the README's "Against OpenSCAP")
echo "== harden check at 0, 1,000 and 10,000 files"
/usr/bin/python3 "$src/tests/bench/harden_scale.py" "$build/hostd/cli/cchostctl" ${BULLSEYE_ROOT:-}
if [ -n "${BULLSEYE_ROOT:-}" ]; then
        echo "== harden check against OpenSCAP on $BULLSEYE_ROOT"
        /usr/bin/python3 "$src/tests/bench/harden_vs_oscap.py" "$build/hostd/cli/cchostctl" "$BULLSEYE_ROOT"
else
        echo "== harden check against OpenSCAP: skipped (set BULLSEYE_ROOT to a debootstrap bullseye tree)"
fi
# issue 13's keyslot rotation row (needs swtpm; fails loudly if either side left the header unchanged)
echo "== disk encryption against systemd-cryptenroll and cryptsetup"
/usr/bin/python3 "$src/tests/bench/fde.py" "$build" 5
