#!/bin/sh
# The demo: build cchost, build the bundled demo host (an AMD Genoa node ready for SEV-SNP, from
# tests/hosts/genoa-snp-ready.yaml) and run `cchostctl check` on it. No TEE hardware needed.
# Usage: tests/demo.sh [HOST]   (HOST: a spec name in tests/hosts/, default genoa-snp-ready)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
host=${1:-genoa-snp-ready}
cd "$src"
if ! command -v meson >/dev/null || ! /usr/bin/python3 -c 'import yaml' 2>/dev/null ||
   ! pkg-config --exists json-c libxml-2.0 libvirt; then
        tests/install-deps.sh
fi
[ -d build ] || meson setup build >/dev/null
ninja -C build hostd/cli/cchostctl >/dev/null
rm -rf "build/demo/$host"
mkdir -p build/demo
/usr/bin/python3 tests/hostbuilder.py "tests/hosts/$host.yaml" "build/demo/$host"
echo "\$ cchostctl --root build/demo/$host check"
exec build/hostd/cli/cchostctl --root "build/demo/$host" check
