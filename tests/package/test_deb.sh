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

echo "== the .deb holds the committed install layout (tests/package/install-layout.txt) for /usr"
# the same list as "meson install": units and tmpfiles.d where systemd.pc puts them for /usr, the
# default configuration in /etc, man pages compressed by dh_compress
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
tmpfilesdir=$(pkg-config --variable=tmpfilesdir systemd)
dpkg-deb --contents "$deb" | awk '{ print $6 }' | sed 's|^\.||' >"$work/contents.txt"
missing=""
for want in $(grep -v '^#' "$src/tests/package/install-layout.txt" | sed \
                -e "s|^PREFIX/lib/systemd/system/|$unitdir/|" -e "s|^PREFIX/lib/tmpfiles.d/|$tmpfilesdir/|" \
                -e 's|^PREFIX/share/cchost/examples/cchost.yaml$|/etc/cchost/cchost.yaml|' \
                -e 's|^PREFIX/share/man/\(.*\)$|/usr/share/man/\1.gz|' -e 's|^PREFIX/|/usr/|'); do
        grep -qx -- "$want" "$work/contents.txt" || missing="$missing $want"
done
[ -z "$missing" ] || { echo "FAIL: not in the package:$missing"; exit 1; }
# the daemon: enabled, not started on install, try-restarted on upgrade, stopped on remove
dpkg-deb --ctrl-tarfile "$deb" | tar -xf - -C "$work" ./postinst ./prerm
grep -q "deb-systemd-helper enable 'cchostd.service'" "$work/postinst" ||
        { cat "$work/postinst"; echo "FAIL: postinst does not enable cchostd.service"; exit 1; }
grep -q "deb-systemd-invoke try-restart 'cchostd.service'" "$work/postinst" ||
        { cat "$work/postinst"; echo "FAIL: postinst does not try-restart cchostd.service on upgrade"; exit 1; }
if grep -E "deb-systemd-invoke (start|restart) .*cchost" "$work/postinst"; then
        echo "FAIL: postinst starts a cchost unit on install"
        exit 1
fi
grep -q "deb-systemd-invoke stop cchostd.service" "$work/prerm" ||
        { cat "$work/prerm"; echo "FAIL: prerm does not stop cchostd.service on remove"; exit 1; }

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
# enabled with its bus activation alias (no systemd runs in the root: deb-systemd-helper made the
# links); first boot is not enabled
[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/cchostd.service")" = "$unitdir/cchostd.service" ] ||
        { ls -lR "$root/etc/systemd/system"; echo "FAIL: cchostd.service is not enabled"; exit 1; }
[ "$(readlink "$root/etc/systemd/system/dbus-io.cchost.Host1.service")" = "$unitdir/cchostd.service" ] ||
        { ls -lR "$root/etc/systemd/system"; echo "FAIL: the alias dbus-io.cchost.Host1.service is missing"; exit 1; }
if ls "$root"/etc/systemd/system/*/cchost-firstboot.service 2>/dev/null; then
        echo "FAIL: cchost-firstboot.service is enabled on install"
        exit 1
fi
in_root man -w cchostd >/dev/null 2>&1 || [ ! -x "$root/usr/bin/man" ] ||
        { echo "FAIL: man cchostd finds no page"; exit 1; }
status=0
in_root cchostctl --root /tmp/demo-host check >"$work/check.log" || status=$?
tail -n 3 "$work/check.log"
[ "$status" -eq 0 ] || { cat "$work/check.log"; echo "FAIL: the demo host is not ready with the installed package"; exit 1; }
in_root cchostctl --root /tmp/demo-host harden check >/dev/null || [ $? -eq 1 ] ||
        { echo "FAIL: harden check with the installed profile"; exit 1; }
in_root apt-get purge -y -qq cchost >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; echo "FAIL: purge"; exit 1; }
left=$(cd "$root" && ls -d etc/cchost usr/bin/cchostctl usr/share/cchost lib/systemd/system/cchost-firstboot.service \
        usr/lib/tmpfiles.d/cchost.conf lib/systemd/system/cchostd.service usr/share/dbus-1/system-services/io.cchost.Host1.service \
        etc/systemd/system/multi-user.target.wants/cchostd.service etc/systemd/system/dbus-io.cchost.Host1.service \
        2>/dev/null || true)
[ -z "$left" ] || { echo "FAIL: left after purge: $left"; exit 1; }
if in_root dpkg-query -W cchost 2>/dev/null | grep -q .; then
        in_root dpkg -s cchost | grep -q 'Status: deinstall ok config-files' && { echo "FAIL: config files kept after purge"; exit 1; }
fi
echo "package: built, lintian clean of errors, the install layout, cchostd enabled and not started, installed, ran the demo check, purged"
