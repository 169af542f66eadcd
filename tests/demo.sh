#!/bin/sh
# The demo: build cchost, build the bundled demo host (an AMD Genoa node ready for SEV-SNP with a
# signed certified baseline, from tests/hosts/genoa-snp-certified.yaml) and run `cchostctl check`
# on it. No TEE hardware needed.
# Usage: tests/demo.sh [HOST]   (HOST: a spec name in tests/hosts/, default genoa-snp-certified)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
host=${1:-genoa-snp-certified}
cd "$src"
# the one package list; a no-op when everything is installed (as root it installs what is missing)
tests/install-deps.sh >/dev/null
[ -d build ] || meson setup build >/dev/null
ninja -C build hostd/cli/cchostctl >/dev/null
rm -rf "build/demo/$host"
mkdir -p build/demo
/usr/bin/python3 tests/hostbuilder.py "tests/hosts/$host.yaml" "build/demo/$host"
echo "\$ cchostctl --root build/demo/$host check"
exec build/hostd/cli/cchostctl --root "build/demo/$host" check
