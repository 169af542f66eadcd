#!/bin/sh
# Benchmarks (not tests): prints timings and ratios against a baseline measured in the same run.
# Usage: tests/bench/run.sh [BUILDDIR]   (default: build)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
ninja -C "$build" tests/bench/bench-check >/dev/null
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
