#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian package: dpkg-buildpackage builds cchost_<version>_amd64.deb from a clean copy of the
# source tree, lintian reports no error, and the package installs, runs and purges cleanly inside a
# throwaway debootstrap minbase root (nothing on this machine is touched: the root is a temporary
# directory, entered with chroot; no mounts). Exit 77 (skip) with the reason when a tool is missing
# or debootstrap cannot reach the Debian mirror.
#
# usage: test_deb.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
for tool in dpkg-buildpackage dh lintian debootstrap fakeroot; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (tests/install-deps.sh installs it)"
done
[ "$(id -u)" -eq 0 ] || skip "the install test needs root (chroot into the throwaway root)"

work=$(mktemp -d /var/tmp/cchost-deb.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

version=$(sed -n '1s/^cchost (\([^)]*\)).*/\1/p' "$src/debian/changelog")
copy="$work/cchost-$version"
mkdir -p "$copy"
# a clean checkout: the files git knows (tracked, or new and not ignored), no build directories
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z -co --exclude-standard | tar --null -cf - -T -) | tar -xf - -C "$copy"
else
        tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$copy"
fi

echo "== dpkg-buildpackage -us -uc -b (nocheck: this test suite is the check)"
if ! (cd "$copy" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log"
        echo "FAIL: dpkg-buildpackage"
        exit 1
fi
deb="$work/cchost_${version}_amd64.deb"
[ -f "$deb" ] || { echo "FAIL: $deb was not built"; ls "$work"; exit 1; }
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb"

echo "== lintian"
lintian --no-tag-display-limit "$deb" >"$work/lintian.log" 2>&1 || true
cat "$work/lintian.log"
if grep -q '^E: ' "$work/lintian.log"; then
        echo "FAIL: lintian reports errors"
        exit 1
fi

echo "== install, run and purge in a throwaway root"
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
root="$work/root"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log"
        if grep -q -E 'Failure trying to run|Couldn.t download|Temporary failure|unable to fetch|Release signed by unknown' "$work/debootstrap.log"; then
                skip "debootstrap could not reach the mirror $mirror"
        fi
        echo "FAIL: debootstrap"
        exit 1
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/tmp/"
python3 "$src/tests/hostbuilder.py" "$src/tests/hosts/genoa-snp-certified.yaml" "$root/tmp/demo-host" >/dev/null
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log"; echo "FAIL: the package does not install"; exit 1; }
in_root cchostctl --version
in_root test -f /etc/cchost/cchost.yaml
in_root test -f /usr/share/cchost/profiles/cc-host.yaml
grep -q '^/etc/cchost/cchost.yaml$' "$root/var/lib/dpkg/info/cchost.conffiles" ||
        { echo "FAIL: /etc/cchost/cchost.yaml is not a conffile"; exit 1; }
status=0
in_root cchostctl --root /tmp/demo-host check >"$work/check.log" || status=$?
tail -n 3 "$work/check.log"
[ "$status" -eq 0 ] || { cat "$work/check.log"; echo "FAIL: the demo host is not ready with the installed package"; exit 1; }
in_root cchostctl --root /tmp/demo-host harden check >/dev/null || [ $? -eq 1 ] ||
        { echo "FAIL: harden check with the installed profile"; exit 1; }
in_root apt-get purge -y -qq cchost >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; echo "FAIL: purge"; exit 1; }
left=$(cd "$root" && ls -d etc/cchost usr/bin/cchostctl usr/share/cchost lib/systemd/system/cchost-firstboot.service \
        usr/lib/tmpfiles.d/cchost.conf 2>/dev/null || true)
[ -z "$left" ] || { echo "FAIL: left after purge: $left"; exit 1; }
if in_root dpkg-query -W cchost 2>/dev/null | grep -q .; then
        in_root dpkg -s cchost | grep -q 'Status: deinstall ok config-files' && { echo "FAIL: config files kept after purge"; exit 1; }
fi
echo "package: built, lintian clean of errors, installed, ran the demo check, purged"
